"""The mitmproxy addon that records finished flows.

Usable in freshmock's own sidecar master and as a plain script:
``mitmdump -s proxy/recorder.py --set freshmock_db=recordings/freshmock.db``.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from mitmproxy import ctx, exceptions, http

from freshmock.proxy.capture import capture_flow
from freshmock.proxy.store import DEFAULT_DB, StoreError, check_store_file
from freshmock.proxy.writer import StoreWriter

logger = logging.getLogger(__name__)


class Recorder:
    def __init__(self) -> None:
        self.writer: StoreWriter | None = None
        self.hook_errors: Counter[str] = Counter()
        self.final_counters: Counter[str] = Counter()

    def load(self, loader) -> None:
        loader.add_option(
            "freshmock_db", str, str(DEFAULT_DB), "SQLite store that recorded traffic goes to."
        )
        loader.add_option(
            "freshmock_service",
            str,
            "",
            "Name recorded for the dependency; empty means the upstream host[:port].",
        )

    def configure(self, updated) -> None:
        if "freshmock_db" in updated:
            try:
                check_store_file(Path(ctx.options.freshmock_db), must_exist=False)
            except StoreError as error:
                raise exceptions.OptionsError(str(error)) from None

    def running(self) -> None:
        if self.writer is None:
            self.writer = StoreWriter(ctx.options.freshmock_db)
            self.writer.start()

    def done(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None  # late hooks now return at once
            writer.close()
            self.final_counters = writer.counters

    @property
    def counters(self) -> Counter[str]:
        counts = Counter(self.writer.counters if self.writer else self.final_counters)
        counts.update({f"errors.hook.{k}": v for k, v in self.hook_errors.items()})
        return counts

    # Both hooks copy references into a queue and return: no I/O, no decoding,
    # and never a change to the flow. Exceptions are counted here rather than
    # left to mitmproxy, whose log line could quote the traffic.
    def response(self, flow: http.HTTPFlow) -> None:
        self._record(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        self._record(flow)

    def _record(self, flow: http.HTTPFlow) -> None:
        if self.writer is None:
            return
        try:
            self.writer.submit(capture_flow(flow, ctx.options.freshmock_service))
        except Exception as error:
            self.hook_errors[type(error).__name__] += 1


addons = [Recorder()]
