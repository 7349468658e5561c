"""Run one sidecar's listeners in several processes: ``freshmock record --processes N``.

mitmproxy serves every connection from one event loop, so one sidecar
process is one core's worth of proxying (about 1,000 small requests a second
on this machine). Here N child processes each run a whole sidecar (its own
mitmproxy master, queue, feeder and worker) on the same listen ports, bound
with SO_REUSEPORT, so the kernel spreads incoming connections over them; a
keep-alive connection stays with the process that accepted it. Every worker
appends to the one store: SQLite WAL lets one writer commit at a time, and a
worker's batch waits for the lock (``busy_timeout_ms``, 5 s by default)
rather than fail; each child keeps its own counters row (its own run id), so
``freshmock stats`` lists one run per process.

The parent only supervises: it starts the children (each a fresh
interpreter, ``python -m freshmock.proxy.sidecar_processes``, given its
``SidecarConfig`` pickled on stdin), waits until every one listens or one
fails, passes SIGINT/SIGTERM on (``serve_until_signalled``), and adds up
what each reports when it stops.
Child -> parent, one JSON object a line on its stdout::

    {"ready": [[host, port], ...], "by_mode": {spec: [[host, port], ...]}}
    {"error": "one line for the user"}       instead of ready: it could not start
    {"counters": {...}}                       last, after its drain
"""

from __future__ import annotations

import json
import pickle
import signal
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import replace

from freshmock.proxy.sidecar import Sidecar, SidecarConfig, SidecarError
from freshmock.proxy.worker import with_totals

START_TIMEOUT = 60.0


class SidecarProcesses:
    """N sidecar processes sharing their listen ports. ``start()``, then ``wait()``."""

    def __init__(self, config: SidecarConfig, processes: int) -> None:
        if processes < 1:
            raise SidecarError(f"--processes must be at least 1, not {processes}")
        ports = [x.listen_port for x in config.listeners] or [config.listen_port]
        if processes > 1 and 0 in ports:
            raise SidecarError("--processes needs a fixed --listen-port (not 0): "
                               "every process must bind the same port")
        self.config = replace(config, reuse_port=True)
        self.processes = processes
        self.children: list[subprocess.Popen] = []
        self.listen_addresses: list[tuple[str, int]] = []
        self.listeners_by_mode: dict[str, list[tuple[str, int]]] = {}
        self.counters: Counter[str] = Counter()
        self.failures: list[str] = []  # children that ended without reporting

    def start(self) -> None:
        """Start every child; return once all listen, or stop them all and raise SidecarError."""
        payload = pickle.dumps(self.config)
        for _ in range(self.processes):
            child = subprocess.Popen(
                [sys.executable, "-P", "-m", "freshmock.proxy.sidecar_processes"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            )
            self.children.append(child)
            child.stdin.write(payload)
            child.stdin.close()
        errors = []
        for child in self.children:
            message = _read_message(child, START_TIMEOUT)
            if message is None or "error" in message:
                errors.append((message or {}).get("error")
                              or "a sidecar process did not start in time")
            else:
                self.listen_addresses = [tuple(a) for a in message["ready"]]
                self.listeners_by_mode = {
                    spec: [tuple(a) for a in addresses]
                    for spec, addresses in message["by_mode"].items()
                }
        if errors:
            self.stop()
            self.wait()
            raise SidecarError(errors[0])

    def serve_until_signalled(self, on_ready) -> Counter:
        """``start()``, ``on_ready()``, then wait until SIGINT or SIGTERM has every child
        drained; the sum of their counters. Raises SidecarError like ``start``."""
        self.start()
        # the children stop on the Ctrl-C that reaches the whole process group, or on
        # the SIGTERM passed on here; the parent only waits for them to drain
        signal.signal(signal.SIGINT, lambda *_: self.stop())
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        on_ready()
        return self.wait()

    def stop(self) -> None:
        """Ask every child to drain and exit (they also get a Ctrl-C of their own)."""
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    def wait(self) -> Counter:
        """Wait for every child; the sum of their counters (with totals)."""
        for child in self.children:
            last = None
            for line in child.stdout:
                try:
                    last = json.loads(line)
                except ValueError:
                    continue
                if "counters" in last:
                    self.counters.update(last["counters"])
            child.wait()
            if last is None or "counters" not in last:
                self.failures.append(f"pid {child.pid} exited with {child.returncode}")
        self.counters = with_totals(self.counters)
        return self.counters


def _read_message(child: subprocess.Popen, timeout: float) -> dict | None:
    """The child's next JSON line, or None if it exits or stays silent past ``timeout``."""
    found: list[dict] = []

    def read() -> None:
        for line in child.stdout:
            try:
                found.append(json.loads(line))
                return
            except ValueError:
                continue

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return found[0] if found else None


def _say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def child_main() -> int:
    config: SidecarConfig = pickle.load(sys.stdin.buffer)
    sidecar = Sidecar(config)

    try:
        sidecar.serve_until_signalled(lambda: _say(
            {"ready": sidecar.listen_addresses, "by_mode": sidecar.listeners_by_mode}))
    except SidecarError as error:
        _say({"error": str(error)})
        return 2
    _say({"counters": dict(sidecar.recorder.counters)})
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
