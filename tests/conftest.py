"""Shared fixtures: real parts only (a demo service on 127.0.0.1, a real
mitmproxy master with the recorder, real SQLite files)."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

# The sidecar, the demo and inference are imported inside the fixtures that use
# them, not here: every pytest start loads this file, and those imports (mitmproxy
# among them) are ~1.4 s of the ~2.6 s a mutant's test run takes (docs/mutation.md).

REPO = Path(__file__).resolve().parent.parent

# Property tests: in CI (CI=true, as GitHub Actions and most runners set it) a fixed,
# derandomised profile, so a red build is reproducible and not a dice roll; locally
# the "dev" profile draws new examples each run (and twice as many) to find what CI
# would not. Each test's own max_examples is scaled, not replaced: settings() given
# on a test win over the profile for what they name, so the profiles set only what
# the tests leave open. HYPOTHESIS_PROFILE picks one by name.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          database=None)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI", "").lower() in ("1", "true") else "dev"))


@pytest.fixture
def demo_service():
    from freshmock.generators.workflows.demo.service import DemoService

    with DemoService() as service:
        yield service


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture(scope="module")
def recorded_store(tmp_path_factory) -> Path:
    """A store of the demo's traffic, recorded through a real proxy and inferred."""
    from freshmock.generators.model.infer import infer_endpoints
    from freshmock.generators.workflows.demo.run import drive
    from freshmock.generators.workflows.demo.service import DemoService, demo_requests
    from freshmock.proxy.sidecar import SidecarConfig, SidecarThread
    from freshmock.proxy.store import open_store

    db_path = tmp_path_factory.mktemp("store") / "store.db"
    with DemoService() as service:
        config = SidecarConfig(
            str(db_path), upstream=service.url, listen_port=0, service="demo-shop"
        )
        with SidecarThread(config) as sidecar:
            drive(sidecar.port, demo_requests())
    db = open_store(db_path)
    infer_endpoints(db)
    db.close()
    return db_path


@pytest.fixture
def recording_proxy(demo_service, db_path):
    """A real recording proxy in reverse mode in front of the demo service.

    Yields the running ``SidecarThread``; its ``port`` is the proxy's.
    Leaving the test stops it and drains every capture to ``db_path``.
    """
    from freshmock.proxy.sidecar import SidecarConfig, SidecarThread

    config = SidecarConfig(
        db_path=str(db_path), upstream=demo_service.url, listen_port=0, service="demo-shop"
    )
    with SidecarThread(config) as sidecar:
        yield sidecar


@contextmanager
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 where a connection is refused, held for the block.

    Bound but never listening: the kernel refuses connections to it, and nothing
    else can bind it meanwhile (a port reserved and released could be taken by
    another test's server before use)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


class ProcessOutput:
    """Everything a child process writes to its stdout pipe, read by a thread as it
    comes, so a test can wait for a line (the port it bound) and still read the rest."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self._data = bytearray()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for chunk in iter(lambda: self.process.stdout.read1(65536), b""):
            with self._lock:
                self._data += chunk

    def text(self) -> str:
        with self._lock:
            return self._data.decode(errors="replace")

    def finish(self, timeout: float = 30) -> bytes:
        """Wait until the process closed its output; all it wrote. Closes the pipe."""
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.process.stdout.close()
        with self._lock:
            return bytes(self._data)

    def wait_for_port(self, pattern: str, what: str, timeout: float = 90) -> int:
        """The port the process printed it listens on: ``pattern``'s one group.

        The server under test binds port 0 and reports the port it got, so no
        port is ever reserved by the test and released for someone else to take."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.text())
            if found:
                return int(found.group(1))
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{what} did not report its port:\n{self.text()[-2000:]}")
            time.sleep(0.05)


# mitmdump, started with ``--mode reverse:URL@127.0.0.1:0`` and without -q, logs
# "reverse proxy to URL listening at 127.0.0.1:PORT." once bound.
MITMDUMP_LISTENING = r"listening at 127\.0\.0\.1:(\d+)"


def freshmock_command(*args: str) -> list[str]:
    """The CLI as a user runs it, in a subprocess of this interpreter."""
    return [sys.executable, "-m", "freshmock.generators", *args]


class RecordRun:
    """A running `freshmock record --config`: its process and what it printed."""

    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def port(self, listener: str) -> int:
        """The port a listener bound (each is configured with listen_port 0), as
        printed: ``listener`` is "users-api: reverse proxy" or "forward proxy"."""
        found = re.search(rf"freshmock: {re.escape(listener)} on http://[^:]+:(\d+)",
                          self.output())
        assert found, f"no {listener!r} line in: {self.output()}"
        return int(found.group(1))


@contextmanager
def recording_with_config(config: Path, timeout: float = 60) -> Iterator[RecordRun]:
    """`freshmock record --config CONFIG` as a real process, listening until the block
    ends; then SIGTERM to its process group (it drains) and wait for it."""
    log = config.with_suffix(".log")
    with open(log, "wb") as sink:
        process = subprocess.Popen(freshmock_command("record", "--config", str(config)),
                                   stdout=sink, stderr=sink, start_new_session=True)
    run = RecordRun(process, log)
    try:
        deadline = time.monotonic() + timeout
        while "recording into" not in run.output():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"freshmock record did not start: {run.output()}")
            time.sleep(0.05)
        yield run
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)


@contextmanager
def running_peer(command: list[str], port_pattern: str, ready_path: str, what: str,
                 env: dict | None = None, timeout: float = 90) -> Iterator[int]:
    """A real peer tool (WireMock, Prism: npm wrappers around another process) started
    on port 0 of 127.0.0.1; yields the port it printed (``port_pattern``'s group) once
    ``ready_path`` answers there; its process group is stopped after."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True, env=env)
    output = ProcessOutput(process)
    try:
        deadline = time.monotonic() + timeout
        try:
            port = output.wait_for_port(port_pattern, what, timeout)
        except AssertionError as error:
            pytest.fail(str(error))
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", ready_path)
                connection.getresponse().read()
                connection.close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{what} did not start:\n{output.text()[-2000:]}")
                time.sleep(0.25)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        output.finish(10)


def demo_then_generate(folder: Path, target: str) -> Path:
    """`freshmock demo` into a fresh store, then `freshmock generate --target TARGET`
    from it, both as a user runs them; returns the output folder."""
    db, out = folder / "s.db", folder / target
    for command in (["demo", "--db", str(db), "--out", str(folder / "demo-wm")],
                    ["generate", "--target", target, "--db", str(db), "--out", str(out)]):
        result = subprocess.run(freshmock_command(*command), capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
    return out


FIGURES = "freshmock figures"


@pytest.fixture
def figures(request):
    """``figures(text)``: an accuracy figure shown at the end of every run, passed or
    failed, also under ``-n 2`` (pytest-xdist hands user_properties to the controller;
    a print from a worker would be lost)."""
    def show(text: str) -> None:
        request.node.user_properties.append((FIGURES, text.strip("\n")))
    return show


def pytest_terminal_summary(terminalreporter):
    shown = [value for reports in terminalreporter.stats.values() for report in reports
             if getattr(report, "when", None) == "call"
             for name, value in getattr(report, "user_properties", ()) if name == FIGURES]
    if shown:
        terminalreporter.section("accuracy figures (precision / recall)")
        for text in shown:
            terminalreporter.line(text)
