"""mitmproxy flow files (``mitmdump -w``, mitmproxy's "save") as captures.

Read with mitmproxy's own ``FlowReader``, which also upgrades files written
by older mitmproxy versions. Each HTTP flow goes through ``capture_flow``,
the very function the live recorder's hooks call, so an imported flow is
recorded as if the sidecar had seen it: flows that ended in an error too,
with their flow id, which lets the importer skip flows already in the store.

What the live recorder never sees is skipped and counted: TCP, UDP and DNS
flows, and HTTP flows with neither response nor error (``mitmdump -w``
writes the flows still in flight when it stops).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mitmproxy import http
from mitmproxy.io import FlowReader

from freshmock.proxy.capture import WebSocketCapture, capped, capture_flow, service_name
from freshmock.proxy.import_errors import CaptureFileError

# The live recorder's default for freshmock_ws_max_messages.
WS_MAX_MESSAGES = 1000


@dataclass
class FlowFileContents:
    captures: list = field(default_factory=list)  # [(label, Capture), ...]
    messages: list[WebSocketCapture] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # kind -> flows


def _unreadable(error: BaseException) -> str:
    """Why a flow could not be read, without quoting it (its bytes may be secrets)."""
    cause: BaseException | None = error
    while cause is not None:
        text = str(cause)
        if "flow format version" in text:  # written by another mitmproxy: say which
            return text.splitlines()[0]
        cause = cause.__cause__
    return "truncated or corrupt (not a complete mitmproxy flow file)"


def _messages(flow: http.HTTPFlow, service: str, max_body: int) -> list[WebSocketCapture]:
    """The connection's messages as the live recorder's hook copies them, one by one."""
    request = flow.request
    name = service_name(service, request.host, request.port, request.scheme)
    captures = []
    for seq, message in enumerate(flow.websocket.messages[:WS_MAX_MESSAGES]):
        content, size = capped(message.content, max_body)
        captures.append(
            WebSocketCapture(
                flow_id=flow.id, service=name, path=request.path, seq=seq,
                from_client=message.from_client, is_text=message.is_text,
                timestamp=message.timestamp, content=content, size=size,
            )
        )
    return captures


def read_flow_file(path: Path, service: str = "", max_body: int = 1024 * 1024):
    """Every recordable exchange of a flow file, in file order (``flow N`` counts from 0)."""
    contents = FlowFileContents()
    with open(path, "rb") as handle:
        flows = iter(FlowReader(handle).stream())
        index = 0
        while True:
            where = f"flow {index}"
            try:
                flow = next(flows)
            except StopIteration:
                break
            # mitmproxy's reader raises FlowReadException, but a damaged state
            # can fail in the flow classes (KeyError, TypeError...) as well.
            except Exception as error:
                raise CaptureFileError(path, _unreadable(error), where) from None
            index += 1
            if not isinstance(flow, http.HTTPFlow):
                contents.skipped[f"{flow.type} flows"] += 1
                continue
            if flow.response is None and flow.error is None:
                contents.skipped["unfinished flows"] += 1
                continue
            try:
                contents.captures.append((where, capture_flow(flow, service, max_body)))
                if flow.websocket is not None:
                    contents.messages.extend(_messages(flow, service, max_body))
            except Exception as error:
                problem = f"not a usable HTTP flow ({type(error).__name__})"
                raise CaptureFileError(path, problem, where) from None
    return contents
