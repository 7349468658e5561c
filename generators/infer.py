"""Infer one JSON Schema per endpoint from the observations in a store.

An endpoint is (service, method, path template, status, media type). Its
request and response schemas are built with genson over every JSON body seen;
the newest observation is kept as the exemplar that stubs replay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlite_utils
from genson import SchemaBuilder

from freshmock.generators.paths import path_template
from freshmock.proxy.store import iter_observations, replace_endpoints

_NO_BODY = object()


def is_json_media_type(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def json_body(media_type: str, data: bytes | None, truncated: bool = False):
    """The parsed body, or ``_NO_BODY`` when it is absent, cut short or not JSON."""
    if not data or truncated or not is_json_media_type(media_type):
        return _NO_BODY
    try:
        return json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return _NO_BODY


def has_body(value) -> bool:
    return value is not _NO_BODY


@dataclass
class _EndpointBuilder:
    observations: int = 0
    first_seen: str = ""
    last_seen: str = ""
    exemplar_id: int = 0
    request: SchemaBuilder = field(default_factory=SchemaBuilder)
    response: SchemaBuilder = field(default_factory=SchemaBuilder)
    request_bodies: int = 0
    response_bodies: int = 0

    def add(self, row: dict) -> None:
        self.observations += 1
        if not self.first_seen or row["observed_at"] < self.first_seen:
            self.first_seen = row["observed_at"]
        if row["observed_at"] >= self.last_seen:
            self.last_seen = row["observed_at"]
            self.exemplar_id = row["id"]
        request = json_body(
            row["request_media_type"], row["request_body"], row["request_body_truncated"]
        )
        if has_body(request):
            self.request.add_object(request)
            self.request_bodies += 1
        response = json_body(
            row["response_media_type"], row["response_body"], row["response_body_truncated"]
        )
        if has_body(response):
            self.response.add_object(response)
            self.response_bodies += 1

    def row(self, key: tuple) -> dict:
        service, method, template, status, media_type = key
        return {
            "service": service,
            "method": method,
            "path_template": template,
            "status": status,
            "media_type": media_type,
            "observations": self.observations,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "request_schema": _schema_text(self.request) if self.request_bodies else None,
            "response_schema": _schema_text(self.response) if self.response_bodies else None,
            "exemplar_id": self.exemplar_id,
        }


def _schema_text(builder: SchemaBuilder) -> str:
    return json.dumps(builder.to_schema(), sort_keys=True)


def endpoint_key(row: dict) -> tuple:
    return (
        row["service"],
        row["method"],
        path_template(row["path"]),
        row["status"],
        row["response_media_type"],
    )


def infer_endpoints(db: sqlite_utils.Database) -> list[dict]:
    """Rebuild the ``endpoints`` table from every completed observation."""
    builders: dict[tuple, _EndpointBuilder] = {}
    for row in iter_observations(db):
        builders.setdefault(endpoint_key(row), _EndpointBuilder()).add(row)
    rows = [builders[key].row(key) for key in sorted(builders)]
    replace_endpoints(db, rows)
    return rows
