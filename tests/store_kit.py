"""Rows for a real SQLite store, written the way the recorder writes them.

``observation_row`` is the one factory of ``observations`` rows in the tests:
every corpus (the golden store, the drift corpora, the VCR edge cases...)
states only what its traffic has that the defaults do not.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from freshmock.proxy.store import OBSERVATION_COLUMNS, open_store


def iso_utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _recorded(body) -> bytes | None:
    """Bytes as recorded; any other value as its JSON text."""
    return body if body is None or isinstance(body, bytes) else json.dumps(body).encode()


def observation_row(*, observed_at: str, path: str = "/", method: str = "GET",
                    status: int | None = 200, body=b"", media_type: str = "application/json",
                    response_headers: list | None = None, request=None,
                    request_media_type: str | None = None, service: str = "shop",
                    host: str = "shop", port: int = 80, query: str = "",
                    duration_ms: float = 1.0, **columns) -> dict:
    """One ``observations`` row as the recorder writes it.

    ``body`` and ``request`` are bytes as recorded or any JSON value; the
    response headers default to the one Content-Type ``media_type`` names, the
    request's media type to JSON when there is a request body; ``columns`` set
    any other column as it is (a name the table lacks fails).
    """
    response = _recorded(body)
    request_body = _recorded(request)
    if request_media_type is None:
        request_media_type = "application/json" if request is not None else ""
    if response_headers is None:
        response_headers = [["content-type", media_type]] if media_type else []
    row = {
        "observed_at": observed_at, "service": service, "method": method, "scheme": "http",
        "host": host, "port": port, "path": path, "query": query, "request_headers": "[]",
        "request_media_type": request_media_type, "request_body": request_body,
        "request_body_size": len(request_body or b""), "request_body_truncated": 0,
        "status": status, "response_headers": json.dumps(response_headers),
        "response_media_type": media_type, "response_body": response,
        "response_body_size": len(response or b""), "response_body_truncated": 0,
        "duration_ms": duration_ms, "error": None,
        **columns,
    }
    unknown = set(row) - set(OBSERVATION_COLUMNS)
    assert not unknown, f"observations has no column {sorted(unknown)}"
    return row


def observation(path: str, at: float, body: dict) -> dict:
    """A GET of ``shop`` answered 200 with ``body`` at the Unix time ``at``."""
    return observation_row(observed_at=iso_utc(at), path=path, body=body, response_headers=[],
                           request_body_size=None, response_body_size=10)


def users_observation(day: int, body, path: str = "/users/7", status: int | None = 200,
                      second: int = 0, method: str = "GET", request=None,
                      raw: bytes | None = None) -> dict:
    """A request to ``users-api`` on 2026-11-``day`` at 10:00 plus ``second`` seconds."""
    return observation_row(
        observed_at=f"2026-11-{day:02d}T10:{second // 60:02d}:{second % 60:02d}.000000Z",
        service="users-api", host="127.0.0.1", port=9000, path=path, method=method,
        status=status, body=raw if raw is not None else json.dumps(body).encode(),
        request=request, duration_ms=1.5)


def new_store(path: Path):
    """An empty store at ``path`` (created with every table the recorder writes)."""
    return open_store(path, must_exist=False)
