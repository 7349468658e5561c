"""Where freshmock record's p99 comes from: pauses of the proxy's event loop, measured.

    .venv/bin/python bench/tail.py [--seconds 8] [--payload large] [--no-gc-freeze]

Runs the sidecar in this process (so its interpreter can be watched) in front
of the benchmark's nginx, loads it with wrk, and reports what held the GIL
away from mitmproxy's event loop: garbage-collector pauses (gc.callbacks, by
generation), the feeder thread's pickling and sending of batches, and the
event loop's own lag (a 1 ms heartbeat that records how late it ran). The
worker is a separate process and shows up only as CPU it takes from the core.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import proctree
from backend import Nginx
from loadgen import run_wrk
from tooling import ensure_tools

from freshmock.proxy import feeder
from freshmock.proxy.sidecar import SidecarConfig, SidecarThread


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


class GcWatch:
    """Each collection's CPU time (thread_time: not inflated when the machine is busy)."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.thread_time()
        else:
            self.pauses[info["generation"]].append(time.thread_time() - self._start)


def watch_feeder(holds: list[float]) -> None:
    """Time each batch the feeder sends (pickling holds the GIL throughout)."""
    original = feeder.Pipeline._send_batch

    def timed(self, worker, items):
        start = time.thread_time()
        original(self, worker, items)
        holds.append(time.thread_time() - start)

    feeder.Pipeline._send_batch = timed


def loop_lag(loop: asyncio.AbstractEventLoop, lags: list[float], stop: threading.Event) -> None:
    async def beat() -> None:
        while not stop.is_set():
            due = time.perf_counter() + 0.001
            await asyncio.sleep(0.001)
            lags.append(max(0.0, time.perf_counter() - due))

    asyncio.run_coroutine_threadsafe(beat(), loop)


def ms(values: list[float]) -> str:
    if not values:
        return "none"
    return (f"{len(values)} × p50 {statistics.median(values) * 1e3:.2f} ms, "
            f"p99 {percentile(values, 99) * 1e3:.2f} ms, max {max(values) * 1e3:.2f} ms, "
            f"total {sum(values) * 1e3:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--payload", choices=["small", "large"], default="large")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--no-gc-freeze", action="store_true",
                        help="measure with the sidecar's gc.freeze() undone")
    args = parser.parse_args()
    tools = ensure_tools()
    gc_watch, holds, lags = GcWatch(), [], []
    watch_feeder(holds)
    with tempfile.TemporaryDirectory(prefix="freshmock-tail-") as tmp:
        nginx = Nginx(tools["nginx"], Path(tmp))
        nginx.start()
        try:
            config = SidecarConfig(str(Path(tmp) / "tail.db"),
                                   upstream=f"http://127.0.0.1:{nginx.port}", listen_port=0)
            with SidecarThread(config) as proxy:
                if args.no_gc_freeze:
                    gc.unfreeze()
                url = f"http://127.0.0.1:{proxy.port}{nginx.payloads[args.payload].path}"
                run_wrk(tools["wrk"], url, 2, args.connections, 1, Path(tmp))
                stop = threading.Event()
                loop_lag(proxy.sidecar.master.event_loop, lags, stop)
                gc.callbacks.append(gc_watch)
                holds.clear()
                cpu = proctree.cpu_seconds(proctree.os.getpid())
                load = run_wrk(tools["wrk"], url, 2, args.connections, args.seconds, Path(tmp))
                cpu = proctree.cpu_seconds(proctree.os.getpid()) - cpu
                gc.callbacks.remove(gc_watch)
                stop.set()
                counters = proxy.sidecar.recorder.counters
        finally:
            nginx.stop()
    print(f"{args.payload}: {load.rps:,.0f} req/s, p50 {load.p50_ms:.2f} ms, "
          f"p99 {load.p99_ms:.2f} ms; gc.freeze {'off' if args.no_gc_freeze else 'on'}; "
          f"this process {cpu * 1e3 / max(1, load.requests):.3f} CPU ms/req")
    for generation, pauses in gc_watch.pauses.items():
        print(f"  gc generation {generation} (CPU): {ms(pauses)}")
    print(f"  feeder batches sent (CPU of the feeder thread): {ms(holds)}")
    print(f"  tracked objects at the end: {len(gc.get_objects())}, frozen {gc.get_freeze_count()}")
    print(f"  event-loop lag (1 ms heartbeat): {ms(lags)}")
    print(f"  recorded {counters['recorded']}, dropped {counters['dropped']}, "
          f"lost {counters['lost']}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
