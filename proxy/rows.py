"""Turn a ``Capture`` into a store row: redact, split the URL, decode bodies.

Runs in the writer thread, never in a proxy hook.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from freshmock.proxy.bodies import DEFAULT_MAX_BODY, decode_body
from freshmock.proxy.capture import Capture, HeaderFields
from freshmock.proxy.redaction import redact_headers, redact_query


def iso_utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def header_value(fields: HeaderFields, name: str) -> str:
    wanted = name.encode("latin-1").lower()
    for raw_name, raw_value in fields:
        if raw_name.lower() == wanted:
            return raw_value.decode("latin-1")
    return ""


def media_type(fields: HeaderFields) -> str:
    """``Content-Type`` without parameters, lowercased; ``""`` when absent."""
    return header_value(fields, "content-type").split(";", 1)[0].strip().lower()


def observation_row(capture: Capture, max_body: int = DEFAULT_MAX_BODY) -> dict:
    path, _, query = capture.path.partition("?")
    request_body = decode_body(
        capture.request_body, header_value(capture.request_headers, "content-encoding"), max_body
    )
    response_body = decode_body(
        capture.response_body,
        header_value(capture.response_headers, "content-encoding"),
        max_body,
    )
    duration_ms = None
    if capture.ended_at is not None:
        duration_ms = round((capture.ended_at - capture.started_at) * 1000, 3)
    return {
        "observed_at": iso_utc(capture.started_at),
        "service": capture.service,
        "method": capture.method,
        "scheme": capture.scheme,
        "host": capture.host,
        "port": capture.port,
        "path": path,
        "query": redact_query(query),
        "request_headers": json.dumps(redact_headers(capture.request_headers)),
        "request_media_type": media_type(capture.request_headers),
        "request_body": request_body.data,
        "request_body_size": request_body.size,
        "request_body_truncated": int(request_body.truncated),
        "status": capture.status,
        "response_headers": json.dumps(redact_headers(capture.response_headers)),
        "response_media_type": media_type(capture.response_headers),
        "response_body": response_body.data,
        "response_body_size": response_body.size,
        "response_body_truncated": int(response_body.truncated),
        "duration_ms": duration_ms,
        "error": capture.error or request_body.decode_error or response_body.decode_error,
    }
