"""The real `freshmock record` process: SIGTERM drains, kill -9 leaves a sound store,
and `freshmock stats` reports the run's counters."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from capture_kit import Upstream
from conftest import freshmock_command


class Recorder:
    """``freshmock record`` in a subprocess (its own process group), ready when entered.

    It listens on a port it picks (``--listen-port 0``) and says which on stderr, so
    no other process on the machine can take the port between choosing and binding.
    """

    def __init__(self, upstream_url: str, db: Path) -> None:
        self.db = db
        self.log = db.with_name(db.name + ".log")
        self.port = 0
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                freshmock_command("record", "--upstream", upstream_url, "--listen-port", "0",
                                  "--db", str(db), "--service", "x"),
                stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def __enter__(self) -> Recorder:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"on http://127\.0\.0\.1:(\d+) into", self.output())):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise AssertionError(f"freshmock record did not start: {self.output()}")
            time.sleep(0.05)
        self.port = int(found.group(1))
        send(self.port, ["/ready"])
        while stored(self.db) < 1:  # the worker is up and writing
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing recorded: {self.output()}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc_info) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def worker_pids(self) -> list[int]:
        return children(self.process.pid)


class socket_connection:
    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def __enter__(self) -> http.client.HTTPConnection:
        return self.connection

    def __exit__(self, *exc_info) -> None:
        self.connection.close()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def send(port: int, paths: list[str]) -> list[int]:
    statuses = []
    with socket_connection(port) as connection:
        for path in paths:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
    return statuses


def stored(db: Path) -> int:
    """Observations committed so far (0 before the worker made the table)."""
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:  # not created yet
        return 0
    try:
        return connection.execute("select count(*) from observations").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        connection.close()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(freshmock_command(*args), capture_output=True, text=True, timeout=60)


pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@pytest.mark.slow  # issue 14: >20 s on 2 shared cores; `make test-slow` runs it
def test_sigterm_writes_every_request_answered_before_it(tmp_path):
    db = tmp_path / "store.db"
    paths = [f"/items/{n}?page={n % 7}" for n in range(300)]
    with Upstream() as upstream, Recorder(upstream.url, db) as recorder:
        assert set(send(recorder.port, paths)) == {200}
        recorder.process.send_signal(signal.SIGTERM)  # at once: the queue is still full
        assert recorder.process.wait(60) == 0, recorder.output()
    assert "301 observations recorded, 0 dropped, 0 lost" in recorder.output()
    connection = sqlite3.connect(db)
    recorded = [row[0] for row in connection.execute(
        "select path || '?' || query from observations where path != '/ready' order by id")]
    assert recorded == paths
    assert connection.execute("pragma integrity_check").fetchone() == ("ok",)
    ((seen, stored, lost),) = connection.execute("select seen, recorded, lost from counters")
    assert (seen, stored, lost) == (301, 301, 0)
    connection.close()

    report = run_cli("stats", "--db", str(db))
    assert report.returncode == 0, report.stderr
    assert "seen 301  recorded 301" in report.stdout and "lost 0" in report.stdout
    as_json = run_cli("stats", "--db", str(db), "--json")
    (run,) = json.loads(as_json.stdout)
    assert (run["service"], run["seen"], run["recorded"], run["detail"]["seen"]) == (
        "x", 301, 301, 301
    )


@pytest.mark.parametrize("victims", ["sidecar", "sidecar and worker"])
def test_kill_9_during_load_leaves_a_store_that_opens_and_checks_ok(tmp_path, victims):
    db = tmp_path / "store.db"
    stop = threading.Event()
    sent = []

    def load(port: int) -> None:
        try:
            with socket_connection(port) as connection:
                n = 0
                while not stop.is_set():
                    body = json.dumps({"n": n, "pad": "x" * (n % 2000)}).encode()
                    connection.request("POST", f"/items?n={n}", body=body,
                                       headers={"Content-Type": "application/json"})
                    connection.getresponse().read()
                    sent.append(n)
                    n += 1
        except (OSError, http.client.HTTPException):
            pass  # the proxy died under us: expected

    with Upstream() as upstream, Recorder(upstream.url, db) as recorder:
        (worker,) = recorder.worker_pids()
        clients = [threading.Thread(target=load, args=(recorder.port,), daemon=True)
                   for _ in range(3)]
        for client in clients:
            client.start()
        # Kill while writes are under way: the worker has committed some rows already.
        deadline = time.monotonic() + 30
        while (len(sent) < 300 or stored(db) < 150) and time.monotonic() < deadline:
            time.sleep(0.05)
        if victims == "sidecar":
            os.kill(recorder.process.pid, signal.SIGKILL)
        else:
            os.killpg(recorder.process.pid, signal.SIGKILL)
        recorder.process.wait(10)
        stop.set()
        for client in clients:
            client.join(10)
        # Killed alone, the sidecar leaves no orphan: the worker sees its socket
        # close, commits what it has and exits.
        deadline = time.monotonic() + 20
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(worker)
    assert len(sent) >= 300
    connection = sqlite3.connect(db)
    try:
        assert connection.execute("pragma integrity_check").fetchone() == ("ok",)
        (count,) = connection.execute("select count(*) from observations").fetchone()
        # every row is a request the proxy answered: the ones the clients counted, the
        # readiness probe, and at most one in flight per client when the kill came
        assert 0 < count <= len(sent) + 1 + len(clients), recorder.output()
        bodies = connection.execute("select query, request_body from observations "
                                    "where path = '/items' and sampled_out = 0").fetchall()
        assert bodies, recorder.output()
        # each committed row is whole: the very body its client sent for that n
        for query, body in bodies:
            n = int(query.removeprefix("n="))
            assert json.loads(body) == {"n": n, "pad": "x" * (n % 2000)}, query
    finally:
        connection.close()
