"""The immutable slice of a mitmproxy flow that the recorder keeps.

Building a capture copies references to immutable values (strings, ints,
bytes, tuples of header byte pairs) into a tuple, so it is cheap enough to run
inside a proxy hook. The only copy of data is the cap: a body longer than
``max_body`` is sliced to its first ``max_body`` bytes, and its real size is
kept beside it. Everything else (decoding, redaction, sampling) happens in the
worker process. This module must not import mitmproxy: the worker unpickles
these tuples without it.
"""

from __future__ import annotations

from typing import NamedTuple

HeaderFields = tuple[tuple[bytes, bytes], ...]

# Queue accounting: a capture's fixed overhead (tuple, strings, headers) on
# top of its bodies, roughly what a typical request costs in memory.
CAPTURE_OVERHEAD = 512


class Capture(NamedTuple):
    """One request/response pair (or a request that ended in an error)."""

    flow_id: str
    service: str
    started_at: float
    ended_at: float | None
    method: str
    scheme: str
    host: str
    port: int
    path: str  # as sent, including the query string
    request_headers: HeaderFields
    request_body: bytes | None  # as received (still content-encoded), at most max_body bytes
    request_body_size: int | None  # bytes as received, before the cap
    status: int | None
    response_headers: HeaderFields
    response_body: bytes | None
    response_body_size: int | None
    response_streamed: bool  # the body went to the client live, through a tee
    error: str | None

    @property
    def weight(self) -> int:
        """Approximate bytes held by this capture, for queue accounting."""
        return len(self.request_body or b"") + len(self.response_body or b"") + CAPTURE_OVERHEAD


class WebSocketCapture(NamedTuple):
    """One WebSocket message, linked to its handshake by ``flow_id``."""

    flow_id: str
    service: str
    path: str
    seq: int  # 0, 1, 2... within the connection
    from_client: bool
    is_text: bool
    timestamp: float
    content: bytes  # at most max_body bytes
    size: int  # of the whole message

    @property
    def weight(self) -> int:
        """Approximate bytes held by this capture, for queue accounting."""
        return len(self.content) + CAPTURE_OVERHEAD


def service_name(configured: str, host: str, port: int, scheme: str) -> str:
    """The dependency's name: configured, else ``host`` or ``host:port``."""
    if configured:
        return configured
    default_port = 443 if scheme == "https" else 80
    return host if port == default_port else f"{host}:{port}"


def capped(data: bytes | None, max_body: int) -> tuple[bytes | None, int | None]:
    """``(data[:max_body], len(data))``: copies only when the body is over the cap."""
    if data is None:
        return None, None
    size = len(data)
    return (data if size <= max_body else data[:max_body]), size


def capture_flow(flow, configured_service: str = "", max_body: int = 1024 * 1024) -> Capture:
    """Copy what the store needs from a finished ``mitmproxy.http.HTTPFlow``.

    Reads ``raw_content`` (bytes as received), never ``content``: decoding
    here would cost the event loop and, if assigned, alter the traffic. A
    response that was streamed to the client has no ``raw_content``; what a
    ``BodyTee`` (proxy/streams.py) copied on the way stands in for it.
    """
    request = flow.request
    response = flow.response
    request_body, request_size = capped(request.raw_content, max_body)
    streamed = False
    if response is None:
        status, response_headers, ended_at = None, (), None
        response_body = response_size = None
    else:
        status, response_headers = response.status_code, response.headers.fields
        ended_at = response.timestamp_end
        tee = response.stream
        if callable(tee) and hasattr(tee, "teed"):
            streamed = True
            response_body, response_size = tee.teed(), tee.total
        else:
            response_body, response_size = capped(response.raw_content, max_body)
    return Capture(
        flow_id=flow.id,
        service=service_name(configured_service, request.host, request.port, request.scheme),
        started_at=request.timestamp_start,
        ended_at=ended_at,
        method=request.method,
        scheme=request.scheme,
        host=request.host,
        port=request.port,
        path=request.path,
        request_headers=request.headers.fields,
        request_body=request_body,
        request_body_size=request_size,
        status=status,
        response_headers=response_headers,
        response_body=response_body,
        response_body_size=response_size,
        response_streamed=streamed,
        error=flow.error.msg if flow.error is not None else None,
    )


def capture_websocket_message(
    flow, seq: int, configured_service: str = "", max_body: int = 1024 * 1024
) -> WebSocketCapture:
    """Copy the latest message of ``flow.websocket`` (the one the hook announced)."""
    request = flow.request
    message = flow.websocket.messages[-1]
    content, size = capped(message.content, max_body)
    return WebSocketCapture(
        flow_id=flow.id,
        service=service_name(configured_service, request.host, request.port, request.scheme),
        path=request.path,
        seq=seq,
        from_client=message.from_client,
        is_text=message.is_text,
        timestamp=message.timestamp,
        content=content,
        size=size,
    )
