"""Replace credentials before anything is written to disk.

A replaced value stays a string (``<redacted>``) so that schemas inferred
from redacted traffic keep the field's type.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

REDACTED = "<redacted>"

CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "apikey",
        "x-apikey",
        "x-auth-token",
        "x-access-token",
        "x-csrf-token",
        "x-xsrf-token",
        "x-amz-security-token",
    }
)

# Names that look like they carry a secret, compared with separators removed
# and lowercased, so "Api-Key", "api_key" and "APIKEY" are one name.
_SECRET_NAME = re.compile(
    r"(password|passwd|secret|token|apikey|accesskey|privatekey|credential|session|signature|auth)"
)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.\s]", "", name.lower())


def is_secret_name(name: str) -> bool:
    return _SECRET_NAME.search(_normalise(name)) is not None


def is_credential_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in CREDENTIAL_HEADERS or is_secret_name(lowered)


def redact_headers(fields) -> list[list[str]]:
    """Header byte pairs → ``[[name, value], ...]`` with credentials replaced.

    Order and repeated names are kept: both can matter to a replay.
    """
    redacted = []
    for raw_name, raw_value in fields:
        name = raw_name.decode("latin-1")
        value = REDACTED if is_credential_header(name) else raw_value.decode("latin-1")
        redacted.append([name, value])
    return redacted


def redact_query(query: str) -> str:
    """Replace the values of query parameters whose names look secret."""
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(is_secret_name(name) for name, _ in pairs):
        return query
    return urlencode(
        [(name, REDACTED if is_secret_name(name) else value) for name, value in pairs],
        safe="<>",
    )
