"""Two load generators.

- ``run_wrk``: closed loop, as fast as the server answers: a fixed number of
  keep-alive connections, each sending its next request when the previous
  response arrives. Gives throughput, and latency at that throughput.
- ``open_loop``: a fixed schedule (request i is due at t0 + i/rate) over
  keep-alive connections, whatever the server does. Latency counts from the
  moment a request was due, so a stalled server shows up as latency instead
  of silently lowering the rate (no coordinated omission). Debian has no
  wrk2, hence this small asyncio client.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

WRK_SCRIPT = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCHJSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"bytes\\":%d," ..
    "\\"connect_errors\\":%d,\\"read_errors\\":%d,\\"write_errors\\":%d," ..
    "\\"status_errors\\":%d,\\"timeouts\\":%d," ..
    "\\"p50_us\\":%d,\\"p90_us\\":%d,\\"p99_us\\":%d,\\"p999_us\\":%d,\\"max_us\\":%d}\\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: int  # socket errors, timeouts and non-2xx/3xx responses
    p50_ms: float
    p99_ms: float
    p999_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(wrk: str, url: str, threads: int, connections: int, seconds: float,
            script_dir: Path) -> WrkResult:
    script = script_dir / "report.lua"
    if not script.exists():
        script.write_text(WRK_SCRIPT)
    command = [
        wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
        "--latency", "-s", str(script), "-H", "Accept-Encoding: gzip", url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    for line in done.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            data = json.loads(line.removeprefix("BENCHJSON "))
            break
    else:
        raise RuntimeError(f"wrk printed no summary: {done.stdout[-500:]} {done.stderr[-500:]}")
    errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors",
                                   "status_errors", "timeouts"))
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        p999_ms=data["p999_us"] / 1000,
    )


@dataclass
class OpenLoopResult:
    scheduled: int
    sent: int = 0
    ok: int = 0  # complete 200 responses
    failed: int = 0  # errors, timeouts, other statuses
    seconds: float = 0.0  # first due time to last completion
    latencies: list[float] = field(default_factory=list, repr=False)  # seconds, from due time
    max_lag: float = 0.0  # worst delay between due time and actually sending

    @property
    def achieved_rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile ``q`` (0-100) of the latencies, in ms."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1] * 1000


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        """One GET; returns the status after reading the whole body."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Accept-Encoding: gzip\r\nUser-Agent: freshmock-bench\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _open_loop(host: str, port: int, paths: list[str], rate: float, seconds: float,
                     connections: int, timeout: float) -> OpenLoopResult:
    loop = asyncio.get_running_loop()
    result = OpenLoopResult(scheduled=int(rate * seconds))
    due: asyncio.Queue = asyncio.Queue()
    start = loop.time() + 0.2
    last_done = start

    async def schedule() -> None:
        for i in range(result.scheduled):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            due.put_nowait((start + i / rate, paths[i % len(paths)]))
        for _ in range(connections):
            due.put_nowait(None)

    async def worker() -> None:
        nonlocal last_done
        conn = _Connection(host, port)
        while (item := await due.get()) is not None:
            due_at, path = item
            result.max_lag = max(result.max_lag, loop.time() - due_at)
            result.sent += 1
            try:
                status = await asyncio.wait_for(conn.get(path), timeout)
            except (OSError, TimeoutError, asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError, ValueError, IndexError):
                result.failed += 1
                conn.close()
                continue
            now = loop.time()
            last_done = max(last_done, now)
            if status == 200:
                result.ok += 1
                result.latencies.append(now - due_at)
            else:
                result.failed += 1
        conn.close()

    await asyncio.gather(schedule(), *(worker() for _ in range(connections)))
    result.seconds = last_done - start
    return result


def open_loop(host: str, port: int, paths: list[str], rate: float, seconds: float,
              connections: int = 16, timeout: float = 10.0) -> OpenLoopResult:
    """Send ``rate * seconds`` GETs on a fixed schedule, cycling through ``paths``."""
    return asyncio.run(_open_loop(host, port, paths, rate, seconds, connections, timeout))
