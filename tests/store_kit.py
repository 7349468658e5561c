"""Rows for a real SQLite store, written the way the recorder writes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime


def iso_utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def observation(path: str, at: float, body: dict) -> dict:
    return {
        "observed_at": iso_utc(at), "service": "shop", "method": "GET", "scheme": "http",
        "host": "shop", "port": 80, "path": path, "query": "", "request_headers": "[]",
        "request_media_type": "", "request_body": None, "request_body_size": None,
        "request_body_truncated": 0, "status": 200, "response_headers": "[]",
        "response_media_type": "application/json", "response_body": json.dumps(body).encode(),
        "response_body_size": 10, "response_body_truncated": 0, "duration_ms": 1.0,
        "error": None,
    }
