"""The immutable slice of a mitmproxy flow that the recorder keeps.

Building a ``Capture`` only copies references to immutable values (strings,
ints, bytes, tuples of header byte pairs), so it is cheap enough to run inside
a proxy hook. Everything costly — redaction, decoding — happens later in the
writer thread.
"""

from __future__ import annotations

from dataclasses import dataclass

HeaderFields = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class Capture:
    service: str
    started_at: float
    ended_at: float | None
    method: str
    scheme: str
    host: str
    port: int
    path: str  # as sent, including the query string
    request_headers: HeaderFields
    request_body: bytes | None
    status: int | None
    response_headers: HeaderFields
    response_body: bytes | None
    error: str | None

    @property
    def size(self) -> int:
        """Approximate bytes held by this capture, for queue accounting."""
        return len(self.request_body or b"") + len(self.response_body or b"") + 512


def service_name(configured: str, host: str, port: int, scheme: str) -> str:
    """The dependency's name: configured, else ``host`` or ``host:port``."""
    if configured:
        return configured
    default_port = 443 if scheme == "https" else 80
    return host if port == default_port else f"{host}:{port}"


def capture_flow(flow, configured_service: str = "") -> Capture:
    """Copy what the store needs from a finished ``mitmproxy.http.HTTPFlow``.

    Reads ``raw_content`` (bytes as received), never ``content``: decoding
    here would cost the event loop and, if assigned, alter the traffic.
    """
    request = flow.request
    response = flow.response
    return Capture(
        service=service_name(configured_service, request.host, request.port, request.scheme),
        started_at=request.timestamp_start,
        ended_at=response.timestamp_end if response is not None else None,
        method=request.method,
        scheme=request.scheme,
        host=request.host,
        port=request.port,
        path=request.path,
        request_headers=request.headers.fields,
        request_body=request.raw_content,
        status=response.status_code if response is not None else None,
        response_headers=response.headers.fields if response is not None else (),
        response_body=response.raw_content if response is not None else None,
        error=flow.error.msg if flow.error is not None else None,
    )
