"""One home, in the generators, for what a media type says about a body.

The sidecar decides the same questions in ``freshmock.proxy.bodies`` (the
proxy never imports the generators); these are those functions, so a stored
body is read here exactly as it was read when it was redacted and stored.
"""

from __future__ import annotations

from freshmock.proxy.bodies import (
    is_json_media_type,
    is_text_media_type,
    is_xml_media_type,
    looks_like_text,
)

__all__ = [
    "EVENT_STREAM",
    "is_event_stream",
    "is_json_media_type",
    "is_text_media_type",
    "is_xml_media_type",
    "looks_like_text",
    "media_type_of",
]

EVENT_STREAM = "text/event-stream"


def media_type_of(content_type: str | None) -> str:
    """``Content-Type`` without parameters, lowercased; ``""`` when absent."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_event_stream(media_type: str | None) -> bool:
    """Server-sent events: a stub answers only a client that asks for a stream."""
    return media_type_of(media_type) == EVENT_STREAM
