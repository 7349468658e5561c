"""The recorder worker's CPU per body: kept, and sampled out.

The worker (proxy/worker.py) runs here in-process, on the benchmark's own two
documents as nginx sends them (the large one gzip), writing a real SQLite
store; CPU is ``time.process_time`` around ``Worker.process``, so other load
on the machine does not inflate it. Cases, per payload:

- kept: ``body_budget`` 0, every body decoded, redacted, hashed and stored;
- sampled out, same bytes: the budget spent, each body the same bytes as the
  last (what nginx serves, so what the closed-loop runs cost the worker);
- sampled out, distinct bytes: the budget spent, every body different values
  in the same shape (what a real API sends): decoded, parsed and shaped, never
  redacted.
"""

from __future__ import annotations

import gzip
import json
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from backend import large_document, small_document

from freshmock.proxy.capture import Capture
from freshmock.proxy.worker import Worker, WorkerSettings

BATCH = 64  # what the feeder sends at most per message


@dataclass
class WorkerCost:
    payload: str
    case: str
    bodies: int
    cpu_ms_per_body: float
    sampled_out: int


def _variant(document: bytes, seed: int) -> bytes:
    """Same shape, other values: every number and the longer strings changed."""
    rng = random.Random(seed)

    def vary(value):
        if isinstance(value, dict):
            return {k: vary(v) for k, v in value.items()}
        if isinstance(value, list):
            return [vary(v) for v in value]
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value + rng.randrange(1000)
        if isinstance(value, float):
            return round(value + rng.random(), 2)
        if isinstance(value, str) and len(value) > 3:
            return value[:-3] + f"{rng.randrange(1000):03d}"
        return value

    return json.dumps(vary(json.loads(document)), separators=(",", ":")).encode()


def _capture(n: int, body: bytes, gzipped: bool, path: str) -> Capture:
    headers = [(b"server", b"nginx"), (b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if gzipped:
        headers.append((b"content-encoding", b"gzip"))
    at = 1_800_000_000.0 + n * 0.001
    return Capture(f"flow-{n}", "", at, at + 0.002, "GET", "http", "127.0.0.1", 8080, path,
                   ((b"host", b"127.0.0.1:8080"), (b"accept-encoding", b"gzip"),
                    (b"user-agent", b"wrk")), None, None, 200, tuple(headers), body, len(body),
                   False, None)


def _run(captures: list[Capture], budget: int, workdir: Path, tag: str) -> tuple[float, int]:
    worker = Worker(WorkerSettings(str(workdir / f"{tag}.db"), tag, 0.0, 1, body_budget=budget))
    warm = budget + 1  # the budget's bodies are kept: not part of a sampled-out figure
    worker.process(captures[:warm], {})
    start = time.process_time()
    for offset in range(warm, len(captures), BATCH):
        worker.process(captures[offset:offset + BATCH], {})
    cpu = time.process_time() - start
    worker.finish({})
    return cpu * 1000 / (len(captures) - warm), worker.counters["sampled_out"]


def measure(bodies: int = 1000) -> list[WorkerCost]:
    results = []
    documents = {"small": (small_document(), False, "/small.json"),
                 "large": (large_document(), True, "/large.json")}
    with tempfile.TemporaryDirectory(prefix="freshmock-worker-cost-") as tmp:
        workdir = Path(tmp)
        for payload, (document, gzipped, path) in documents.items():
            wire = gzip.compress(document, 6, mtime=0) if gzipped else document
            # bytes objects of their own, as each flow has
            same = [_capture(n, bytes(bytearray(wire)), gzipped, path) for n in range(bodies)]
            distinct = []
            for n in range(bodies):
                body = _variant(document, n)
                distinct.append(_capture(n, gzip.compress(body, 6, mtime=0) if gzipped else body,
                                         gzipped, path))
            for case, captures, budget in (("kept", same, 0),
                                           ("sampled out, same bytes", same, 1),
                                           ("sampled out, distinct bytes", distinct, 1)):
                cpu_ms, sampled_out = _run(captures, budget, workdir, f"{payload}-{len(results)}")
                results.append(WorkerCost(payload, case, bodies, cpu_ms, sampled_out))
    return results


if __name__ == "__main__":
    for cost in measure():
        print(f"{cost.payload:6} {cost.case:28} {cost.cpu_ms_per_body:.3f} CPU ms/body "
              f"({cost.bodies} bodies, {cost.sampled_out} sampled out)")
