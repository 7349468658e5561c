"""Parse a stored body as JSON, when it is JSON and was kept whole."""

from __future__ import annotations

import json

from freshmock.generators.model.media_types import is_json_media_type

_NO_BODY = object()


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def json_body(media_type: str, data: bytes | None, truncated: bool = False):
    """The parsed body, or ``_NO_BODY`` when it is absent, cut short or not JSON.

    ``NaN`` and ``Infinity``, which Python's parser accepts, are not JSON.
    """
    if not data or truncated or not media_type or not is_json_media_type(media_type):
        return _NO_BODY
    try:
        return json.loads(data, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        return _NO_BODY


def has_body(value) -> bool:
    return value is not _NO_BODY
