"""CPU time and memory of a process and all its descendants, read from /proc.

A recorder may run helper processes (a writer worker, multiprocessing's
resource tracker), so every figure covers the whole tree under the process
the benchmark started:

- CPU: utime + stime + cutime + cstime of each live process in the tree.
  The c* fields hold descendants that already exited and were reaped, so
  nothing is counted twice and nothing that ran is missed.
- peak RSS: VmHWM (the kernel's high-water mark of resident memory) of every
  process that was seen in the tree, summed. A sampler thread re-reads it
  every second so a helper that exits before the end still counts.
- current RSS: VmRSS summed, for the soak's time series.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm (field 2) may contain spaces and parentheses: split after the last ')'.
    return text[text.rindex(")") + 2:].split()


def descendants(root: int) -> list[int]:
    """``root`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def cpu_seconds(root: int) -> float:
    ticks = 0
    for pid in descendants(root):
        fields = _stat_fields(pid)
        if fields is not None:
            ticks += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return ticks / TICKS


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeSampler(threading.Thread):
    """Samples the tree's memory every ``interval`` seconds until ``stop()``."""

    def __init__(self, root: int, interval: float = 1.0) -> None:
        super().__init__(name=f"sampler-{root}", daemon=True)
        self.root = root
        self.interval = interval
        self.peaks: dict[int, int] = {}  # pid -> highest VmHWM seen, kB
        self.rss_series: list[tuple[float, int]] = []  # (monotonic time, summed VmRSS kB)
        self._stop_event = threading.Event()
        self._lock = threading.Lock()

    def sample(self) -> int:
        total_rss = 0
        with self._lock:
            for pid in descendants(self.root):
                hwm = _status_kb(pid, "VmHWM")
                if hwm:
                    self.peaks[pid] = max(self.peaks.get(pid, 0), hwm)
                total_rss += _status_kb(pid, "VmRSS")
            self.rss_series.append((time.monotonic(), total_rss))
        return total_rss

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(5)

    def peak_rss_kb(self) -> int:
        self.sample()
        with self._lock:
            return sum(self.peaks.values())

    def processes(self) -> int:
        with self._lock:
            return len(self.peaks)


def wait_until_idle(root: int, quiet_share: float = 0.03, window: float = 0.3,
                    limit: float = 15.0) -> None:
    """Wait until the tree uses under ``quiet_share`` of a core (work queued behind
    the load, such as a writer's backlog, is then finished), at most ``limit`` s."""
    deadline = time.monotonic() + limit
    before = cpu_seconds(root)
    while time.monotonic() < deadline:
        time.sleep(window)
        after = cpu_seconds(root)
        if after - before < quiet_share * window:
            return
        before = after


def machine_cpu_seconds() -> dict[str, float]:
    """CPU seconds all processes on the machine have used since boot (/proc/stat).

    ``busy`` is user + nice + system, the same fields a process's utime and
    stime feed; interrupts and steal are left out.
    """
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = (int(v) for v in fields[:8])
    return {"busy": (user + nice + system) / TICKS, "steal": steal / TICKS,
            "at": time.monotonic()}


class ForeignLoad:
    """CPU used by processes outside the benchmark during a window, in cores.

    Machine-wide busy time minus what the benchmark itself used: its own
    process (the open-loop client runs there), its reaped children (wrk), and
    the live trees under ``roots`` (nginx, the proxy).
    """

    def __init__(self, *roots: int) -> None:
        self.roots = set(roots)
        self.start = self._read()

    def _read(self) -> tuple[float, float, float]:
        machine = machine_cpu_seconds()
        own = sum(os.times()[:4]) + sum(cpu_seconds(root) for root in self.roots)
        return machine["at"], machine["busy"], own

    def cores(self) -> float:
        at, busy, own = self._read()
        wall = at - self.start[0]
        foreign = (busy - self.start[1]) - (own - self.start[2])
        return max(0.0, foreign) / wall if wall > 0 else float("nan")
