"""The recorder's worker process: captures in, rows out to SQLite.

Decoding, redaction, shape hashing, sampling and SQLite writes all happen
here, in a process of its own, so that none of it holds the GIL of the
process running mitmproxy's event loop (a writer *thread* doing this work cut
the proxy from 426 to 179 req/s). ``proxy/feeder.py`` starts it as
``python -P -m freshmock.proxy.worker FD``: a fresh interpreter (fork and
exec, the ``spawn`` way; never a fork of the proxy with its loop and
threads) that talks to the sidecar over a socket pair, FD being its end.
It imports neither mitmproxy nor the sidecar's ``__main__``.

Protocol (pickled tuples, one per ``Channel.send``, proxy/channel.py)::

    sidecar -> worker   ("config", WorkerSettings)        first, once
                        ("batch", seq, [capture...], parent_counters)
                        ("stop", parent_counters)          drain, write, exit
    worker -> sidecar   ("ack", seq, worker_counters)      after the batch's transaction
                        ("stopped", worker_counters)

``parent_counters`` are the sidecar's own counts (seen, dropped, hook errors,
and the totals of workers that died), so the counters row the worker writes
is the whole run's. The worker exits when the sidecar's end closes, so a
killed sidecar never leaves it behind. It ignores SIGINT and SIGTERM: a
Ctrl-C or a service manager signals the whole process group, and the worker
must outlive the sidecar's drain, not cut it short.

Test-only fault injection: when ``FRESHMOCK_WORKER_FAULT`` is set in the
environment, building the row of any capture whose path contains its value
raises ``RuntimeError`` (tests/test_faults.py uses it to check that a bug in
row building costs one observation and never the traffic). Nothing else reads
it.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import dataclass

from freshmock.proxy.capture import Capture, WebSocketCapture
from freshmock.proxy.channel import Channel
from freshmock.proxy.redaction import DEFAULT_RULES, RedactionRules, Redactor
from freshmock.proxy.rows import (
    Observation,
    ShapeMemo,
    build_observation,
    iso_utc,
    websocket_row,
)
from freshmock.proxy.sampling import Sampler
from freshmock.proxy.store import append_capture_batch, open_capture_connection

logger = logging.getLogger(__name__)

FAULT_ENV = "FRESHMOCK_WORKER_FAULT"
TOTALS = ("dropped", "lost", "errors")


@dataclass(frozen=True)
class WorkerSettings:
    db_path: str
    run_id: str
    started_at: float
    pid: int  # of the sidecar
    service: str = ""
    max_body: int = 1024 * 1024
    body_budget: int = 0  # bodies kept per endpoint per hour; 0: all
    busy_timeout_ms: int = 5000
    reopen_interval: float = 1.0  # after a failure to open the store
    redaction: RedactionRules = DEFAULT_RULES  # from [redaction] of freshmock.toml


def error_name(error: BaseException) -> str:
    """A failure's kind without its message (messages may quote traffic)."""
    return getattr(error, "sqlite_errorname", None) or type(error).__name__


def with_totals(counts: Counter | dict) -> Counter:
    """Add ``dropped``, ``lost`` and ``errors``: the sums of ``dropped.*`` and so on."""
    result = Counter({k: v for k, v in counts.items() if k not in TOTALS})
    for total in TOTALS:
        result[total] = sum(v for k, v in result.items() if k.startswith(total + "."))
    return result


def counters_row(settings: WorkerSettings, counts: Counter | dict) -> dict:
    import json

    counts = with_totals(counts)
    return {
        "run_id": settings.run_id,
        "started_at": iso_utc(settings.started_at),
        "updated_at": iso_utc(time.time()),
        "pid": settings.pid,
        "service": settings.service,
        **{
            name: counts[name]
            for name in ("seen", "recorded", "sampled_out", "dropped", "lost", "redacted", "errors")
        },
        "detail": json.dumps(dict(sorted(counts.items())), separators=(",", ":")),
    }


class Worker:
    """Turns batches into one transaction each. Usable in-process, too (tests)."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self.counters: Counter[str] = Counter()
        # Budget 0 keeps every body: no sampling decision, nothing to memoise.
        self.sampler = Sampler(settings.body_budget) if settings.body_budget else None
        self.memo = ShapeMemo() if settings.body_budget else None
        self.redactor = Redactor(settings.redaction)
        self.fault = os.environ.get(FAULT_ENV) or None
        self._parent: dict = {}
        self._written: dict | None = None  # the counters last written
        self._db = None
        self._open_after = 0.0

    def _failed(self, kind: str, error: BaseException, lost: int) -> None:
        self.counters[f"errors.{kind}.{error_name(error)}"] += 1
        if lost:
            self.counters[f"lost.{kind}"] += lost

    def _store(self):
        if self._db is None and time.monotonic() >= self._open_after:
            try:
                self._db = open_capture_connection(
                    self.settings.db_path, self.settings.busy_timeout_ms
                )
            except Exception as error:
                self._failed("store_open", error, 0)
                self._open_after = time.monotonic() + self.settings.reopen_interval
        return self._db

    def _build(self, capture: Capture) -> Observation:
        if self.fault is not None and self.fault in capture.path:
            raise RuntimeError("injected fault")  # FRESHMOCK_WORKER_FAULT, tests only
        return build_observation(
            capture, self.settings.max_body, self.redactor, self.sampler, self.memo
        )

    def process(self, items: list, parent_counters: dict) -> None:
        """Build rows for ``items`` and append them, with the counters, in one transaction."""
        self._parent = parent_counters
        observations, messages = [], []
        pending: Counter[str] = Counter()
        for item in items:
            try:
                if isinstance(item, WebSocketCapture):
                    messages.append(websocket_row(item, self.redactor))
                    continue
                observation = self._build(item)
                if observation.sampled_out:
                    pending["sampled_out"] += 1
                pending["redacted"] += observation.redacted
                observations.append(observation.row)
            except Exception as error:  # a bug in row building costs this capture only
                self._failed("rows", error, 1)
        pending["recorded"] += len(observations)
        pending["websocket_recorded"] += len(messages)
        self._write(observations, messages, pending)

    def _write(self, observations: list, messages: list, pending: Counter) -> None:
        counts = Counter(self._parent)
        counts.update(self.counters)
        counts.update(pending)
        counts = +counts
        if not observations and not messages and counts == self._written:
            return
        db = self._store()
        if db is None:
            self.counters["lost.store"] += len(observations) + len(messages)
            return
        try:
            append_capture_batch(db, observations, messages, counters_row(self.settings, counts))
        except sqlite3.OperationalError as error:  # unwritable, full, locked: count, go on
            self._failed("store", error, len(observations) + len(messages))
            return
        except Exception:  # a row SQLite refuses: find it, keep the others
            self._write_one_by_one(db, observations, messages, pending)
            return
        self.counters.update(+pending)
        self._written = counts

    def _write_one_by_one(self, db, observations: list, messages: list, pending: Counter) -> None:
        refused: Counter[str] = Counter()
        for table, batch in (("observations", observations), ("messages", messages)):
            for row in batch:
                try:
                    if table == "observations":
                        append_capture_batch(db, [row], [])
                    else:
                        append_capture_batch(db, [], [row])
                except sqlite3.OperationalError as error:
                    self._failed("store", error, 1)
                    refused["recorded" if table == "observations" else "websocket_recorded"] += 1
                except Exception as error:
                    self._failed("rows", error, 1)
                    refused["recorded" if table == "observations" else "websocket_recorded"] += 1
        pending.subtract(refused)
        self.counters.update(+pending)
        self._write([], [], Counter())

    def finish(self, parent_counters: dict) -> None:
        """Write the final counters and close the store."""
        self._parent = parent_counters
        self._write([], [], Counter())
        self._close_store()

    def _close_store(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            try:
                db.close()
            except Exception:
                pass


# Batches that have already arrived are written in one transaction, up to this
# many captures: the feeder sends small batches (so pickling never holds the
# proxy's GIL for long), and a commit per small batch would cost more.
JOIN_ITEMS = 2000
# ... and this many bytes of bodies (Capture.weight): 2,000 large captures held
# at once would be 26 MB of the worker's peak RSS.
JOIN_BYTES = 4 * 1024 * 1024


def _receive(conn: Channel) -> tuple[list[int], list, dict | None, tuple | None, bool]:
    """Block for a message, then take every batch already waiting (up to JOIN_ITEMS).

    ``(seqs, items, parent_counters, stop, closed)``: ``stop`` is a stop
    message read after the batches, to be handled once they are written;
    ``closed``: the sidecar's end closed after the batches read.
    """
    seqs, items, parent, stop, weight = [], [], None, None, 0
    message = conn.recv()  # EOFError / OSError: nothing read, the caller finishes
    while True:
        if message[0] == "batch":
            _, seq, batch, parent = message
            seqs.append(seq)
            items.extend(batch)
            weight += sum(item.weight for item in batch)
        elif message[0] == "stop":
            stop = message
            break
        try:
            if len(items) >= JOIN_ITEMS or weight >= JOIN_BYTES or not conn.poll(0):
                break
            message = conn.recv()
        except (EOFError, OSError):  # write what arrived before the sidecar went
            return seqs, items, parent, stop, True
    return seqs, items, parent, stop, False


def serve(conn: Channel, worker: Worker) -> None:
    while True:
        try:
            seqs, items, parent_counters, stop, closed = _receive(conn)
        except (EOFError, OSError):  # the sidecar is gone: what is written stays
            worker.finish(worker._parent)
            return
        try:
            if seqs:
                worker.process(items, parent_counters)
                if closed:
                    worker.finish(worker._parent)
                    return
                counters = dict(worker.counters)
                for seq in seqs:
                    conn.send(("ack", seq, counters))
            if stop is not None:
                worker.finish(stop[1])
                conn.send(("stopped", dict(worker.counters)))
                return
        except (BrokenPipeError, ConnectionResetError):
            worker.finish(worker._parent)
            return


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        # When cores are short, recording lags (and the bounded queue drops,
        # counted) before the proxy slows; 5, not more, so that unrelated busy
        # processes do not starve it outright.
        os.nice(5)
    except OSError:
        pass
    try:
        # SCHED_BATCH: the same share of the CPU, but waking up to write a batch
        # never preempts the proxy's event loop mid-request (which showed as
        # latency tail when both ran on one core).
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):
        pass
    conn = Channel(int(argv[1]))
    try:
        kind, settings = conn.recv()
    except (EOFError, OSError):
        return 0
    if kind != "config":
        return 2
    serve(conn, Worker(settings))
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
