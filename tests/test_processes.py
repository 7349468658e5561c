"""`freshmock record --processes N`: several sidecar processes on one port, one store.

Real processes: the CLI starts two sidecars bound to the same port with
SO_REUSEPORT, traffic arrives on many connections (the kernel spreads them),
and both workers append to one SQLite WAL store. Every request answered must
be in the store exactly once, and each process must have recorded some.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from capture_kit import Upstream
from conftest import freshmock_command

CONNECTIONS = 60
REQUESTS_PER_CONNECTION = 5


def free_port() -> int:
    """A port nothing listens on now. --processes needs a fixed port that all the
    processes bind; another program taking it in between makes the start fail loudly."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_connection(port: int, n: int) -> list[int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    statuses = []
    try:
        for k in range(REQUESTS_PER_CONNECTION):
            connection.request("GET", f"/items/{n * 100 + k}")
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        connection.close()
    return statuses


@pytest.mark.slow  # issue 14: >20 s on 2 shared cores; `make test-slow` runs it
def test_two_processes_share_a_port_and_record_into_one_store_with_no_loss(tmp_path):
    db = tmp_path / "store.db"
    log = tmp_path / "record.log"
    port = free_port()
    with Upstream() as upstream, open(log, "wb") as err:
        process = subprocess.Popen(
            freshmock_command("record", "--upstream", upstream.url, "--listen-port", str(port),
                              "--db", str(db), "--service", "x", "--processes", "2"),
            stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 90
            while "with 2 processes" not in log.read_text():
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            with ThreadPoolExecutor(8) as pool:
                statuses = [s for batch in pool.map(lambda n: one_connection(port, n),
                                                    range(CONNECTIONS)) for s in batch]
            assert statuses == [200] * (CONNECTIONS * REQUESTS_PER_CONNECTION)
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
            process.wait(90)
    output = log.read_text()
    assert process.returncode == 0, output
    sent = CONNECTIONS * REQUESTS_PER_CONNECTION
    assert re.search(rf"stopped; {sent} observations recorded, 0 dropped, 0 lost", output), output
    with sqlite3.connect(db) as conn:
        paths = [path for (path,) in conn.execute("select path from observations")]
        runs = conn.execute("select pid, recorded, dropped, lost from counters").fetchall()
    assert sorted(paths) == sorted(f"/items/{n * 100 + k}" for n in range(CONNECTIONS)
                                   for k in range(REQUESTS_PER_CONNECTION))
    # two runs (one per process), both recorded traffic, together all of it
    assert len(runs) == 2 and len({pid for pid, *_ in runs}) == 2
    assert all(recorded > 0 and dropped == 0 and lost == 0 for _, recorded, dropped, lost in runs)
    assert sum(recorded for _, recorded, *_ in runs) == sent


def test_processes_need_a_fixed_port(tmp_path):
    with Upstream() as upstream:
        done = subprocess.run(
            freshmock_command("record", "--upstream", upstream.url, "--listen-port", "0",
                              "--db", str(tmp_path / "s.db"), "--processes", "2"),
            capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 2
    assert "--processes needs a fixed --listen-port" in done.stderr
    assert "Traceback" not in done.stderr
