"""The mitmproxy addon that records finished flows.

Usable in freshmock's own sidecar master and as a plain script:
``mitmdump -s proxy/recorder.py --set freshmock_db=recordings/freshmock.db``.

The hooks only copy references into a bounded queue (proxy/feeder.py) and
return: no I/O, no decoding, never a change to what the client receives. A
worker process (proxy/worker.py) does everything else.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections import Counter
from pathlib import Path

from mitmproxy import ctx, exceptions, http

from freshmock.proxy.capture import capture_flow, capture_websocket_message
from freshmock.proxy.feeder import Pipeline
from freshmock.proxy.redaction import DEFAULT_RULES, RedactionConfigError, load_rules
from freshmock.proxy.store import DEFAULT_DB, StoreError, check_store_file, open_store
from freshmock.proxy.streams import BodyTee, wants_tee
from freshmock.proxy.worker import WorkerSettings, error_name, with_totals

WS_SEQ = "freshmock.ws_seq"  # flow.metadata key: messages seen on this connection

# name (after the freshmock_ prefix): type, default, help
OPTIONS = {
    "max_body": (
        int,
        1024 * 1024,
        "Bytes kept per body (and per WebSocket message); a longer one is recorded "
        "truncated, with its real size. The traffic itself is never cut.",
    ),
    "body_budget": (
        int,
        120,
        "Bodies kept per endpoint per hour; over it, observations are recorded without "
        "bodies unless their shape is new. 0 keeps every body.",
    ),
    "queue_items": (int, 10_000, "Captures waiting for the writer, at most; more are dropped."),
    "queue_bytes": (
        int,
        64 * 1024 * 1024,
        "Bytes of captures waiting for the writer, at most; more are dropped.",
    ),
    "ws_max_messages": (int, 1000, "WebSocket messages recorded per connection, at most."),
    "busy_timeout_ms": (
        int,
        5000,
        "How long the writer waits for a store locked by another process before "
        "giving up on a batch.",
    ),
}


class Recorder:
    def __init__(self) -> None:
        self.pipeline: Pipeline | None = None
        self.final_counters: Counter[str] = Counter()
        self._hook_errors: Counter[str] = Counter()
        self._service = ""
        # mode spec of a listener → its dependency's name (set by the sidecar)
        self.services_by_mode: dict[str, str] = {}
        self._max_body = OPTIONS["max_body"][1]
        self._ws_max = OPTIONS["ws_max_messages"][1]
        self._redaction = DEFAULT_RULES

    def load(self, loader) -> None:
        loader.add_option(
            "freshmock_db", str, str(DEFAULT_DB), "SQLite store that recorded traffic goes to."
        )
        loader.add_option(
            "freshmock_config",
            str,
            "",
            "freshmock.toml whose [redaction] table extends or overrides the redaction rules.",
        )
        loader.add_option(
            "freshmock_service",
            str,
            "",
            "Name recorded for the dependency; empty means the upstream host[:port].",
        )
        for name, (kind, default, help_text) in OPTIONS.items():
            loader.add_option(f"freshmock_{name}", kind, default, help_text)

    def configure(self, updated) -> None:
        if "freshmock_db" in updated:
            try:
                check_store_file(Path(ctx.options.freshmock_db), must_exist=False)
            except StoreError as error:
                raise exceptions.OptionsError(str(error)) from None
        if "freshmock_config" in updated:
            path = ctx.options.freshmock_config
            try:
                self._redaction = load_rules(path) if path else DEFAULT_RULES
            except RedactionConfigError as error:
                raise exceptions.OptionsError(str(error)) from None
        for name in OPTIONS:
            value = getattr(ctx.options, f"freshmock_{name}")
            minimum = 1 if name in ("max_body", "queue_items", "queue_bytes") else 0
            if f"freshmock_{name}" in updated and value < minimum:
                raise exceptions.OptionsError(f"freshmock_{name} must be at least {minimum}")
        # Cached: hooks run per flow, and option lookups are not free.
        self._service = ctx.options.freshmock_service
        self._max_body = ctx.options.freshmock_max_body
        self._ws_max = ctx.options.freshmock_ws_max_messages

    def running(self) -> None:
        if self.pipeline is not None:
            return
        options = ctx.options
        settings = WorkerSettings(
            db_path=str(Path(options.freshmock_db).absolute()),
            run_id=uuid.uuid4().hex,
            started_at=time.time(),
            pid=os.getpid(),
            service=options.freshmock_service,
            max_body=options.freshmock_max_body,
            body_budget=options.freshmock_body_budget,
            busy_timeout_ms=options.freshmock_busy_timeout_ms,
            redaction=self._redaction,
        )
        try:  # create or migrate the store here, so the worker opens it with plain sqlite3
            open_store(settings.db_path, must_exist=False).close()
        except (StoreError, OSError, sqlite3.Error):
            pass  # the worker retries, and counts what it cannot write
        self.pipeline = Pipeline(
            settings, max_items=options.freshmock_queue_items,
            max_bytes=options.freshmock_queue_bytes,
        )
        self.pipeline.start()

    def done(self) -> None:
        if self.pipeline is not None:
            pipeline, self.pipeline = self.pipeline, None  # late hooks now return at once
            pipeline.close()
            self.final_counters = pipeline.counters

    @property
    def counters(self) -> Counter[str]:
        counts = Counter(self.pipeline.counters if self.pipeline else self.final_counters)
        counts.update(self._hook_errors)
        return with_totals(counts)

    @property
    def worker_pid(self) -> int | None:
        return self.pipeline.worker_pid if self.pipeline is not None else None

    # Every hook catches its own exceptions: mitmproxy would log them with a
    # traceback, which could quote the traffic, and the flow must go on as is.

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if self.pipeline is None or flow.response.stream:
            return
        try:
            if wants_tee(flow.response.headers):
                flow.response.stream = BodyTee(self._max_body)
        except Exception as error:
            self._hook_failed(error)

    def response(self, flow: http.HTTPFlow) -> None:
        self._record(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        self._record(flow)

    def _record(self, flow: http.HTTPFlow) -> None:
        pipeline = self.pipeline
        if pipeline is None:
            return
        try:
            pipeline.offer(capture_flow(flow, self._service_of(flow), self._max_body))
        except Exception as error:
            self._hook_failed(error)

    def _service_of(self, flow) -> str:
        if not self.services_by_mode:
            return self._service
        return self.services_by_mode.get(flow.client_conn.proxy_mode.full_spec, self._service)

    def websocket_message(self, flow: http.HTTPFlow) -> None:
        pipeline = self.pipeline
        if pipeline is None:
            return
        try:
            messages = flow.websocket.messages
            seq = flow.metadata.get(WS_SEQ, 0)
            flow.metadata[WS_SEQ] = seq + 1
            if seq < self._ws_max:
                pipeline.offer(
                    capture_websocket_message(flow, seq, self._service_of(flow), self._max_body)
                )
            else:
                pipeline.queue.count("websocket_skipped")
            # A long connection must not grow: keep only the message being
            # announced, which addons after this one may still read as [-1].
            del messages[:-1]
        except Exception as error:
            self._hook_failed(error)

    def _hook_failed(self, error: Exception) -> None:
        key = f"errors.hook.{error_name(error)}"
        pipeline = self.pipeline
        if pipeline is None:
            self._hook_errors[key] += 1
        else:
            pipeline.queue.count(key)
            pipeline.report(key)


addons = [Recorder()]
