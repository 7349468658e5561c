"""The recorder also runs as a plain mitmdump script (`mitmdump -s proxy/recorder.py`)."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import time
from pathlib import Path

from freshmock.proxy.store import open_store

from conftest import MITMDUMP_LISTENING, REPO, ProcessOutput


def test_mitmdump_with_the_recorder_script_records_into_sqlite(demo_service, tmp_path):
    mitmdump = Path(sys.executable).parent / "mitmdump"
    db = tmp_path / "store.db"
    process = subprocess.Popen(
        [str(mitmdump), "--set", "flow_detail=0", "-s", str(REPO / "proxy" / "recorder.py"),
         "--mode", f"reverse:{demo_service.url}@127.0.0.1:0",
         "--set", f"freshmock_db={db}", "--set", "freshmock_service=demo-shop"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    output = ProcessOutput(process)
    try:
        port = output.wait_for_port(MITMDUMP_LISTENING, "mitmdump", 30)
        deadline = time.monotonic() + 30
        status = None
        while status is None:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", "/users/5")
                status = connection.getresponse().status
                connection.close()
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "mitmdump died"
                time.sleep(0.2)
        assert status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        written = output.finish()
    assert b"Traceback" not in written, written.decode(errors="replace")
    rows = list(open_store(db)["observations"].rows)
    assert [(r["service"], r["method"], r["path"], r["status"]) for r in rows] == [
        ("demo-shop", "GET", "/users/5", 200)
    ]
