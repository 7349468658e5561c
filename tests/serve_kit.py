"""``freshmock serve`` in a subprocess, for the tests of serve, pull and the CLI catalogue."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

FRESHMOCK = str(Path(sys.executable).parent / "freshmock")
_SCRUBBED_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "FRESHMOCK_TOKEN_FILE", "FRESHMOCK_DB")


def scrubbed_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.upper() not in _SCRUBBED_ENV}


class Server:
    """``freshmock serve`` in a subprocess of its own session."""

    def __init__(self, db: Path, token_file: Path) -> None:
        self.process = subprocess.Popen(
            [FRESHMOCK, "serve", "--db", str(db), "--port", "0", "--token-file", str(token_file)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=scrubbed_env(),
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        self.url = self._announced_url()
        self._wait_healthy()

    def _drain(self) -> None:
        for line in self.process.stderr:
            self.log.append(line)
            self.lines.put(line)

    def _announced_url(self) -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if "serving" in line:
                return line.split(" on ", 1)[1].split()[0]
        self.stop()
        pytest.fail(f"freshmock serve did not start: {''.join(self.log)}")

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", trust_env=False).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        pytest.fail("freshmock serve never answered /healthz")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signum)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._drainer.join(timeout=5)
        self.process.stderr.close()
        return self.process.returncode
