"""The recorded exchange each stub replays, in the form every emitter needs.

An endpoint names its exemplar (``exemplar_id``, chosen by inference).
``exemplar_from_row`` parses that observation's bodies (``load_exemplar``
reads it from a store first). Only where a
body the schema describes was never kept (sampled out, cut at the size cap,
or the row is gone) is a value synthesised from the schema, seeded by the
endpoint so it is the same on every run; ``synthesized`` says which parts.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

import sqlite_utils

from freshmock.generators.model.json_bodies import has_body, json_body
from freshmock.generators.model.synthesis import synthesize
from freshmock.proxy.store import get_observation_or_none


@dataclass(frozen=True)
class Exemplar:
    method: str
    path: str  # the concrete path it was observed on, e.g. /users/42
    query: str  # raw query string, without "?"; redacted values stay redacted
    request_media_type: str | None
    request_body: bytes | None  # raw bytes as stored (None: absent or not kept)
    request_json: object  # the parsed JSON body, if has_request_json()
    status: int
    response_headers: tuple[tuple[str, str], ...]  # as recorded (credentials redacted)
    response_media_type: str | None
    response_body: bytes | None
    response_json: object
    response_truncated: bool = False
    synthesized: tuple[str, ...] = field(default=())  # "request" / "response"
    request_headers: tuple[tuple[str, str], ...] = ()  # as recorded (credentials redacted)

    @property
    def url(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")

    def has_request_json(self) -> bool:
        return has_body(self.request_json)

    def has_response_json(self) -> bool:
        return has_body(self.response_json)

    def response_text(self) -> str | None:
        """The response body as text: JSON re-serialised deterministically, else UTF-8."""
        if self.has_response_json():
            return json.dumps(self.response_json, sort_keys=True, ensure_ascii=False)
        return None if self.response_truncated else body_text(self.response_body)

    def header(self, name: str) -> str | None:
        return _first(self.response_headers, name)

    def request_header(self, name: str) -> str | None:
        return _first(self.request_headers, name)


def body_text(data: bytes | None) -> str | None:
    """A stored body as text; None when there is none or it is not UTF-8."""
    if not data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _headers(text: str | None) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(pair) for pair in json.loads(text or "[]"))


def _first(headers, name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


def _seed(endpoint, part: str) -> str:
    return " ".join(
        str(value) for value in (endpoint.service, endpoint.method, endpoint.path_template,
                                 endpoint.status)
    ) + f" {part}"


def load_exemplar(db: sqlite_utils.Database, endpoint: dict) -> Exemplar:
    """The exemplar of an ``endpoints`` row (a dict), read from the store."""
    from freshmock.generators.model.endpoint import Endpoint

    return exemplar_from_row(get_observation_or_none(db, endpoint.get("exemplar_id")),
                             Endpoint.from_row(endpoint))


def exemplar_from_row(row, endpoint) -> Exemplar:
    """``endpoint``'s (an ``Endpoint``) exemplar from the observation ``row`` (None: gone)."""
    if row is None:
        row = _placeholder(endpoint)
    request_json = json_body(
        row["request_media_type"], row["request_body"], row["request_body_truncated"]
    )
    response_json = json_body(
        row["response_media_type"], row["response_body"], row["response_body_truncated"]
    )
    synthesized = []
    # deep copies: a value taken from the schema (const, enum) must not alias it
    if not has_body(response_json) and endpoint.response_schema:
        response_json = copy.deepcopy(synthesize(endpoint.response_schema,
                                                 _seed(endpoint, "response")))
        synthesized.append("response")
    if not has_body(request_json) and endpoint.request_schema and row["request_body"]:
        # a request body was sent but not kept whole: stand in for it
        request_json = copy.deepcopy(synthesize(endpoint.request_schema,
                                                _seed(endpoint, "request")))
        synthesized.append("request")
    return Exemplar(
        method=row["method"],
        path=row["path"],
        query=row["query"] or "",
        request_media_type=row["request_media_type"],
        request_body=None if row["request_body_truncated"] else row["request_body"],
        request_json=request_json,
        status=endpoint.status,
        response_headers=_headers(row["response_headers"]),
        response_media_type=row["response_media_type"] or endpoint.media_type,
        response_body=None if row["response_body_truncated"] else row["response_body"],
        response_json=response_json,
        response_truncated=bool(row["response_body_truncated"]),
        synthesized=tuple(synthesized),
        request_headers=_headers(row.get("request_headers")),
    )


def _placeholder(endpoint) -> dict:
    """An observation row for an endpoint whose exemplar row is gone: no bodies kept."""
    media_type = endpoint.media_type
    return {
        "method": endpoint.method,
        "path": endpoint.path_template,
        "query": "",
        "request_media_type": None,
        "request_body": None,
        "request_body_truncated": 0,
        "response_headers": json.dumps([["content-type", media_type]] if media_type else []),
        "response_media_type": media_type,
        "response_body": None,
        "response_body_truncated": 0,
    }
