"""The background writer: a bounded queue in front of batched SQLite inserts.

Proxy hooks call ``submit``, which never blocks: when the queue is full the
capture is dropped and counted. A failure here (store unwritable, disk full,
a bug in row building) is counted and logged once per kind; it never reaches
the proxy.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from pathlib import Path

from freshmock.proxy.capture import Capture
from freshmock.proxy.rows import observation_row
from freshmock.proxy.store import insert_observations, open_store

logger = logging.getLogger(__name__)

_STOP = object()


class StoreWriter(threading.Thread):
    def __init__(
        self,
        db_path: str | Path,
        max_queue: int = 10_000,
        batch_size: int = 200,
        flush_interval: float = 0.5,
    ) -> None:
        super().__init__(name="freshmock-writer", daemon=True)
        self.db_path = Path(db_path)
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._db = None
        self.counters: Counter[str] = Counter()
        self._reported: set[str] = set()

    def submit(self, capture: Capture) -> bool:
        """Hand a capture to the writer without waiting. False when dropped."""
        self.counters["seen"] += 1
        try:
            self._queue.put_nowait(capture)
        except queue.Full:
            self.counters["dropped"] += 1
            return False
        return True

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued so far, then stop."""
        if self.is_alive():
            self._queue.put(_STOP, timeout=timeout)
            self.join(timeout)

    def run(self) -> None:
        batch: list[Capture] = []
        deadline = time.monotonic() + self.flush_interval
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                item = None
            if item is _STOP:
                self._flush(batch)
                break
            if item is not None:
                batch.append(item)
            if len(batch) >= self.batch_size or time.monotonic() >= deadline:
                self._flush(batch)
                batch = []
                deadline = time.monotonic() + self.flush_interval
        if self._db is not None:
            self._db.close()

    def _flush(self, batch: list[Capture]) -> None:
        if not batch:
            return
        rows = []
        for capture in batch:
            try:
                rows.append(observation_row(capture))
            except Exception as error:  # a bug in row building must not stop recording
                self._failed("row", error, 1)
        if not rows:
            return
        try:
            if self._db is None:
                self._db = open_store(self.db_path, must_exist=False)
            insert_observations(self._db, rows)
            self.counters["recorded"] += len(rows)
        except Exception as error:  # store unwritable, disk full, locked: count, keep going
            self._failed("store", error, len(rows))
            self._db = None

    def _failed(self, kind: str, error: Exception, lost: int) -> None:
        self.counters[f"errors.{kind}"] += 1
        self.counters["lost"] += lost
        # The exception type only: messages from row building may quote traffic.
        key = f"{kind}:{type(error).__name__}"
        if key not in self._reported:
            self._reported.add(key)
            logger.warning(
                "freshmock: %s write failed (%s); further failures of this kind are only counted",
                kind,
                type(error).__name__,
            )
