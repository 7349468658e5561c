"""Shared fixtures: real parts only (a demo service on 127.0.0.1, a real
mitmproxy master with the recorder, real SQLite files)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from freshmock.generators.demo.run import drive
from freshmock.generators.demo.service import DemoService, demo_requests
from freshmock.generators.infer import infer_endpoints
from freshmock.proxy.sidecar import SidecarConfig, SidecarThread
from freshmock.proxy.store import open_store

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo_service():
    with DemoService() as service:
        yield service


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture(scope="module")
def recorded_store(tmp_path_factory) -> Path:
    """A store of the demo's traffic, recorded through a real proxy and inferred."""
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
    config = SidecarConfig(
        db_path=str(db_path), upstream=demo_service.url, listen_port=0, service="demo-shop"
    )
    with SidecarThread(config) as sidecar:
        yield sidecar


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
def running_peer(command: list[str], port: int, ready_path: str, what: str,
                 env: dict | None = None, timeout: float = 90) -> Iterator[int]:
    """A real peer tool (WireMock, Prism: npm wrappers around another process) on
    127.0.0.1:``port``, up once ``ready_path`` answers; its process group is stopped after."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True, env=env)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", ready_path)
                connection.getresponse().read()
                connection.close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode(errors="replace")
                    pytest.fail(f"{what} did not start:\n{output[-2000:]}")
                time.sleep(0.25)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stdout.close()


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
