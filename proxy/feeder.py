"""The sidecar's side of the capture path: a bounded queue, a feeder thread, a worker.

::

    proxy hook (event loop)  --offer-->  CaptureQueue (bounded: items and bytes;
                                         full -> drop and count, never wait)
    feeder thread            --take-->   pickled batches over a socket pair
    worker process (proxy/worker.py)     decode, redact, sample, write SQLite

The feeder may block on the socket when the worker falls behind; the hooks
never do, they only see a full queue. When the worker dies, what it had not
acknowledged is counted as lost and a new one is started (with backoff if it
keeps dying); meanwhile captures wait in the queue, or are dropped when it is
full. Nothing here can raise into a hook.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, deque

from freshmock.proxy.channel import Channel
from freshmock.proxy.store import append_capture_batch, open_store
from freshmock.proxy.worker import WorkerSettings, counters_row, error_name, with_totals

logger = logging.getLogger(__name__)


class CaptureQueue:
    """Hook-side buffer, bounded in items and bytes. ``offer`` never blocks."""

    def __init__(self, max_items: int, max_bytes: int) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.counts: Counter[str] = Counter()
        self._items: deque = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self._closed = False

    def offer(self, item, weight: int) -> bool:
        with self._lock:
            self.counts["seen"] += 1
            if self._closed:
                self.counts["dropped.stopped"] += 1
                return False
            if len(self._items) >= self.max_items:
                self.counts["dropped.queue_items"] += 1
                return False
            if self._bytes + weight > self.max_bytes:
                self.counts["dropped.queue_bytes"] += 1
                return False
            self._items.append((item, weight))
            self._bytes += weight
            return True

    def count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def take(self, max_items: int, max_bytes: int) -> list:
        """Pop up to ``max_items`` items / ``max_bytes`` bytes (at least one if any)."""
        taken, size = [], 0
        with self._lock:
            while self._items and len(taken) < max_items:
                item, weight = self._items[0]
                if taken and size + weight > max_bytes:
                    break
                self._items.popleft()
                self._bytes -= weight
                size += weight
                taken.append(item)
        return taken

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def snapshot(self) -> Counter:
        with self._lock:
            return Counter(self.counts)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        return self._bytes


class _Worker:
    """One worker process and our end of its socket."""

    def __init__(self, settings: WorkerSettings) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-P", "-m", "freshmock.proxy.worker", str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                # Its own process group: Ctrl-C or a SIGTERM sent to the sidecar's
                # group must not reach it, even before it can ignore signals
                # itself; it stops when the sidecar tells it to (or goes away).
                process_group=0,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.conn = Channel(ours.detach())
        self.started = time.monotonic()
        self.unacked: dict[int, int] = {}  # batch seq -> captures in it
        self.counters: dict = {}  # its latest report
        self.stopped = False
        self.conn.send(("config", settings))

    def dead(self) -> bool:
        return self.process.poll() is not None

    def reap(self) -> None:
        """Make sure the process is gone and waited for; close our end."""
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self.conn.close()


class Pipeline:
    """Owns the queue, the feeder thread and the worker process of one sidecar run."""

    def __init__(
        self,
        settings: WorkerSettings,
        max_items: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        # Small messages: pickling holds the GIL throughout, and the proxy's event
        # loop waits for it; 500 captures took 3-8 ms of the feeder's CPU in one
        # piece, 64 take under 1 ms. The worker joins what has arrived into one
        # transaction (proxy/worker.py), so small messages cost no extra commits.
        batch_items: int = 64,
        batch_bytes: int = 1024 * 1024,
        flush_interval: float = 0.05,
        counters_interval: float = 1.0,
        drain_timeout: float = 20.0,
    ) -> None:
        self.settings = settings
        self.queue = CaptureQueue(max_items, max_bytes)
        self.batch_items = batch_items
        self.batch_bytes = batch_bytes
        self.flush_interval = flush_interval
        self.counters_interval = counters_interval
        self.drain_timeout = drain_timeout
        self._drain_deadline: float | None = None
        self._own: Counter[str] = Counter()  # feeder-side: deaths, restarts, losses
        self._dead_totals: Counter[str] = Counter()  # what workers that died had reported
        self._worker: _Worker | None = None
        self._seq = 0
        self._deaths_in_a_row = 0
        self._restart_at = 0.0
        self._last_sent = 0.0
        self._sent_counts: Counter | None = None
        self._reported: set[str] = set()
        self._lock = threading.Lock()  # guards _own, _dead_totals, _worker.counters
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="freshmock-feeder", daemon=True)

    # --- used from the proxy's thread -------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def offer(self, item) -> bool:
        return self.queue.offer(item, item.weight)

    @property
    def worker_pid(self) -> int | None:
        worker = self._worker
        return worker.process.pid if worker is not None else None

    @property
    def counters(self) -> Counter:
        """Every count of the run so far, with ``dropped``/``lost``/``errors`` totals."""
        return with_totals(self._parent_counts(worker_too=True))

    def close(self, timeout: float = 60.0) -> None:
        """Stop taking captures, write every queued one, stop the worker. Idempotent.

        Waits for the drain (``drain_timeout``) and the worker's last
        transaction; past ``timeout`` the worker is killed.
        """
        self.queue.close()
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():  # a hung worker: killing it unblocks the feeder
            worker = self._worker
            if worker is not None:
                worker.process.kill()
            self._thread.join(10)

    # --- the feeder thread ------------------------------------------------------------

    def _parent_counts(self, worker_too: bool = False) -> Counter:
        counts = self.queue.snapshot()
        with self._lock:
            counts.update(self._own)
            counts.update(self._dead_totals)
            if worker_too and self._worker is not None:
                counts.update(self._worker.counters)
        return counts

    def _run(self) -> None:
        try:
            while not self._step():
                pass
        except Exception as error:  # a bug here must not leave the run unaccounted
            self._count(f"errors.feeder.{error_name(error)}")
            self.report(f"errors.feeder.{error_name(error)}")
        finally:
            self._shutdown()

    def _step(self) -> bool:
        """One round; True when the run is over."""
        stopping = self._stopping.is_set()
        if stopping and self._drain_deadline is None:
            self._drain_deadline = time.monotonic() + self.drain_timeout
        self._supervise()
        worker = self._worker
        if worker is not None:
            self._read_replies(worker)
            items = self.queue.take(self.batch_items, self.batch_bytes)
            if items or self._counters_due():
                self._send_batch(worker, items)
            if items:
                return False
        if stopping:
            if not len(self.queue) or time.monotonic() > self._drain_deadline:
                return True
            time.sleep(self.flush_interval)  # waiting for a worker to (re)start
        else:
            self._stopping.wait(self.flush_interval)
        return False

    def _counters_due(self) -> bool:
        if time.monotonic() - self._last_sent < self.counters_interval:
            return False
        return self._parent_counts() != self._sent_counts

    def _send_batch(self, worker: _Worker, items: list) -> None:
        self._seq += 1
        counts = self._parent_counts()
        try:
            worker.conn.send(("batch", self._seq, items, dict(counts)))
        except (OSError, ValueError):  # broken pipe: the worker is gone
            self._count("lost.worker", len(items))
            self._worker_gone(worker)
            return
        worker.unacked[self._seq] = len(items)
        self._last_sent = time.monotonic()
        self._sent_counts = counts

    def _read_replies(self, worker: _Worker) -> None:
        try:
            while worker.conn.poll(0):
                reply = worker.conn.recv()
                if reply[0] == "ack":
                    worker.unacked.pop(reply[1], None)
                if reply[0] == "stopped":
                    worker.stopped = True
                with self._lock:
                    worker.counters = reply[-1]
                for key in reply[-1]:
                    self.report(key)
        except (EOFError, OSError):
            pass  # noticed as a death by _supervise

    def _supervise(self) -> None:
        worker = self._worker
        if worker is not None and worker.dead():
            self._worker_gone(worker)
        if self._worker is None and time.monotonic() >= self._restart_at:
            try:
                self._worker = _Worker(self.settings)
            except Exception as error:
                self._count(f"errors.worker_start.{error_name(error)}")
                self.report(f"errors.worker_start.{error_name(error)}")
                self._restart_at = time.monotonic() + self._backoff()
                return
            if self._restart_at:
                self._count("worker_restarts")

    def _backoff(self) -> float:
        self._deaths_in_a_row += 1
        return min(30.0, 0.25 * 2 ** (self._deaths_in_a_row - 1))

    def _worker_gone(self, worker: _Worker) -> None:
        """Account for a worker that died (or stopped listening), and schedule another."""
        self._read_replies(worker)  # acks it sent before dying still count
        self._count("errors.worker.died")
        self.report("errors.worker.died")
        self._count("lost.worker", sum(worker.unacked.values()))
        worker.unacked.clear()
        worker.reap()
        with self._lock:
            self._dead_totals.update(worker.counters)
            worker.counters = {}
            if self._worker is worker:
                self._worker = None
        if time.monotonic() - worker.started > 60:
            self._deaths_in_a_row = 0
        self._restart_at = time.monotonic() + self._backoff()

    def _shutdown(self) -> None:
        """Ask the worker to write the final counters and exit; wait for it."""
        worker = self._worker
        left = self.queue.take(len(self.queue) + 1, 1 << 62)
        if left:  # no worker could take them in time
            self._count("lost.worker", len(left))
        if worker is not None:
            try:
                worker.conn.send(("stop", dict(self._parent_counts())))
                deadline = time.monotonic() + 30
                while not worker.stopped and not worker.dead() and time.monotonic() < deadline:
                    if worker.conn.poll(0.05):
                        self._read_replies(worker)
            except (OSError, ValueError):
                pass
            self._read_replies(worker)  # a reply sent just before it exited
            if not worker.stopped:
                self._count("lost.worker", sum(worker.unacked.values()))
            try:
                worker.process.wait(10)
            except subprocess.TimeoutExpired:
                pass
            worker.reap()
            if worker.stopped:
                return
        self._write_counters_here()

    def _write_counters_here(self) -> None:
        """No worker to write the final counters: the proxy is stopping, so do it here."""
        try:
            db = open_store(self.settings.db_path, must_exist=False)
            try:
                db.execute("PRAGMA busy_timeout = 2000")
                append_capture_batch(db, [], [], counters_row(self.settings, self.counters))
            finally:
                db.close()
        except Exception as error:
            self._count(f"errors.store.{error_name(error)}")

    def _count(self, key: str, n: int = 1) -> None:
        if n:
            with self._lock:
                self._own[key] += n

    def report(self, key: str) -> None:
        """Log a kind of failure the first time it is seen, by name only (no traffic)."""
        if not key.startswith("errors.") or key in self._reported:
            return
        self._reported.add(key)
        logger.warning(
            "freshmock: recording failure %s; traffic is unaffected, "
            "further failures of this kind are only counted",
            key.removeprefix("errors."),
        )
