"""The configurations under test, each started fresh for every measurement.

- direct: the load hits nginx itself (the ceiling; CPU and RSS are nginx's);
- mitmdump: bare ``mitmdump -q`` in reverse mode (the reference);
- mitmdump -w: mitmproxy's own recorder writing a flow file;
- freshmock record: the recording sidecar with its defaults (redaction on);
- freshmock record ×2: the same with ``--processes 2`` (two sidecars sharing
  the port with SO_REUSEPORT, one store).
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from backend import accepts_connections, free_port
from proctree import descendants

BIN = Path(sys.executable).parent  # the project's virtualenv: bench runs with its python
EXIT_LINE = re.compile(
    r"freshmock: stopped; (\d+) observations recorded, (\d+) dropped, (\d+) lost to errors"
)

RECORDER = "freshmock record"
RECORDER_X2 = "freshmock record ×2"
CONFIGS = ["direct", "mitmdump", "mitmdump -w", RECORDER, RECORDER_X2]
REFERENCE = "mitmdump"


def is_recorder(config: str) -> bool:
    return config in (RECORDER, RECORDER_X2)


class ProxyError(Exception):
    """A configuration failed to start or stop; the message carries its stderr."""


@dataclass
class Running:
    """One started configuration: where to send load and which process tree to watch."""

    config: str
    port: int
    root_pid: int
    process: subprocess.Popen | None = None  # None for direct (nginx outlives it)
    files: dict[str, Path] = field(default_factory=dict)
    exit_info: dict[str, int | str] = field(default_factory=dict)


def command(config: str, upstream_port: int, listen_port: int, files: dict[str, Path]) -> list[str]:
    upstream = f"http://127.0.0.1:{upstream_port}"
    mitmdump = [str(BIN / "mitmdump"), "-q", "--listen-host", "127.0.0.1",
                "--mode", f"reverse:{upstream}@{listen_port}"]
    if config == "mitmdump":
        return mitmdump
    if config == "mitmdump -w":
        return [*mitmdump, "-w", str(files["flows"])]
    if is_recorder(config):
        return [str(BIN / "freshmock"), "record", "--upstream", upstream,
                "--listen-port", str(listen_port), "--db", str(files["db"]),
                *(["--processes", "2"] if config == RECORDER_X2 else [])]
    raise ValueError(config)


def start(config: str, nginx_pid: int, nginx_port: int, workdir: Path, tag: str) -> Running:
    if config == "direct":
        return Running(config, nginx_port, nginx_pid)
    port = free_port()
    files = {
        "flows": workdir / f"{tag}.flows",
        "db": workdir / f"{tag}.db",
        "stderr": workdir / f"{tag}.stderr",
    }
    with files["stderr"].open("wb") as stderr:
        process = subprocess.Popen(
            command(config, nginx_port, port, files),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            start_new_session=True, cwd=workdir,
        )
    running = Running(config, port, process.pid, process, files)
    deadline = time.monotonic() + 60
    while not accepts_connections("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(running)
            raise ProxyError(f"{config} did not start: {_tail(files['stderr'])}")
        time.sleep(0.05)
    return running


def stop(running: Running, timeout: float = 60) -> None:
    """SIGTERM, wait for a clean exit (freshmock drains its queue), then read what it left."""
    process = running.process
    if process is None:
        return
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            for pid in reversed(descendants(process.pid)):  # only processes this run started
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            process.wait(10)
            running.exit_info["killed"] = f"did not exit within {timeout:g} s of SIGTERM"
    running.exit_info["returncode"] = process.returncode
    stderr = running.files["stderr"].read_text(errors="replace")
    match = EXIT_LINE.search(stderr)
    if match:
        running.exit_info.update(
            recorded=int(match[1]), dropped=int(match[2]), lost=int(match[3]))
    if is_recorder(running.config):
        running.exit_info["rows"] = count_rows(running.files["db"])
    if process.returncode != 0 or (is_recorder(running.config) and not match):
        running.exit_info["stderr"] = _tail(running.files["stderr"], lines=3)
    if running.config == "mitmdump -w" and running.files["flows"].exists():
        running.exit_info["flow_file_bytes"] = running.files["flows"].stat().st_size


def discard_files(running: Running) -> None:
    """Delete the store or flow file (the temp folder would grow over many runs)."""
    for name in ("db", "flows"):
        if name in running.files:
            for path in running.files[name].parent.glob(running.files[name].name + "*"):
                path.unlink()


def count_rows(db: Path) -> int:
    if not db.exists():
        return 0
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        try:
            return conn.execute("SELECT count(*) FROM observations").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no stderr)"
