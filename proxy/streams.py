"""Keep streamed responses live while still recording their beginning.

mitmproxy buffers a whole body before forwarding it, so without help a
server-sent event reaches the client only when the stream ends. A callable
assigned to ``flow.response.stream`` in the ``responseheaders`` hook makes
mitmproxy forward each chunk as it arrives; ``BodyTee`` is such a callable: it
returns every chunk unchanged and copies at most ``cap`` bytes for the store.

Streaming costs about 0.3 ms of CPU per response, so only responses that are
streams by nature get a tee (``wants_tee``).
"""

from __future__ import annotations

from freshmock.proxy.bodies import is_json_media_type

# Media types whose bodies are a sequence of events the client consumes as
# they arrive, even over a response that has a Content-Length.
STREAMING_MEDIA_TYPES = frozenset(
    {
        "text/event-stream",
        "application/x-ndjson",
        "application/jsonl",
        "application/stream+json",
        "multipart/x-mixed-replace",
    }
)


class BodyTee:
    """``flow.response.stream`` callable: pass chunks through, keep a capped copy."""

    __slots__ = ("cap", "total", "_chunks", "_kept")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.total = 0  # bytes that went through, all of them
        self._chunks: list[bytes] = []
        self._kept = 0

    def __call__(self, chunk: bytes) -> bytes:
        self.total += len(chunk)
        room = self.cap - self._kept
        if room > 0 and chunk:
            kept = chunk if len(chunk) <= room else chunk[:room]
            self._chunks.append(kept)
            self._kept += len(kept)
        return chunk

    def teed(self) -> bytes:
        """What was copied so far: the first ``min(total, cap)`` bytes."""
        return b"".join(self._chunks)


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def wants_tee(headers) -> bool:
    """Whether a response with these (mitmproxy) headers should stream through a tee.

    Yes for event streams (SSE, NDJSON...). Yes for a chunked body without a
    Content-Length, unless it is JSON: such a body has an end the client waits
    for anyway, and mitmproxy's buffering costs it nothing, while a chunked
    page, download or log tail reaches the client as it is produced.
    """
    media_type = _media_type(headers.get("content-type", ""))
    if media_type in STREAMING_MEDIA_TYPES:
        return True
    if "content-length" in headers or is_json_media_type(media_type):
        return False
    return "chunked" in headers.get("transfer-encoding", "").lower()
