"""What ``freshmock serve`` hands out and ``freshmock pull`` generates from.

An export holds exactly what the stub writers read: the published
``endpoints`` rows (schemas, statistics, counts, first/last seen) and the
observations their stubs replay (``variants``: each endpoint's exemplar and
each distinct request with an answer of its own), with the columns
``load_exemplar`` and ``variants`` read (request headers, body hashes,
operation), redacted at capture like everything in the store. No other
observation, and no other column (the dependency's host, timings), leaves the store.

``take_snapshot`` builds the export from ``publish``'s ``Model``;
``export_model`` turns an export back into a ``Model`` (the one place that
conversion lives): the endpoints as published, their recordings the
observations it carries, so every writer runs on it unchanged, with no store
and without inferring again (inference over exemplars alone would lose the counts).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import sqlite_utils

from freshmock.generators.model.endpoint import Endpoint, Model, Window
from freshmock.generators.model.publish import RowRecordings, publish, window_of
from freshmock.generators.model.tables import ENDPOINT_KEY
from freshmock.generators.targets.variants import service_stubs
from freshmock.proxy.errors import FreshmockError
from freshmock.proxy.store import OBSERVATION_COLUMNS

FORMAT = "freshmock-export"
VERSION = 2  # 2: endpoints carry operation and discriminator

# The observation columns the writers read from an exemplar (exemplars.py),
# plus its service, status and time. Anything else (the dependency's host and
# port, request headers, timings, hashes) stays in the store.
EXEMPLAR_COLUMNS = (
    "id",
    "observed_at",
    "service",
    "method",
    "path",
    "query",
    "request_media_type",
    "request_body",
    "request_body_truncated",
    "status",
    "response_headers",
    "response_media_type",
    "response_body",
    "response_body_truncated",
    # what variants reads to tell requests and answers apart
    "request_headers",
    "response_body_sha256",
    "response_body_size",
    "sampled_out",
    "error",
    "operation",
    "discriminator",
)
_BINARY = frozenset(name for name in EXEMPLAR_COLUMNS if OBSERVATION_COLUMNS[name] is bytes)
_COLUMN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class ExportError(FreshmockError):
    """An export that cannot be made or used; the message is meant for the user as is."""


class UnknownService(ExportError):
    """The export has no endpoint of the service asked for."""


@dataclass(frozen=True)
class Snapshot:
    """A store's published endpoints and their exemplars, at one moment."""

    model: Model  # what ``publish`` returned
    exemplars: dict[int, dict]  # EXEMPLAR_COLUMNS of each observation a stub replays, by id

    @property
    def days(self) -> int | None:  # the window's length; None: the whole record
        return self.model.window.days

    @property
    def since(self) -> str | None:  # its first day
        return self.model.window.since

    @property
    def endpoints(self) -> list[dict]:
        """The published rows, as the export carries them."""
        return [endpoint.row() for endpoint in self.model.endpoints]

    def services(self) -> list[dict]:
        return self.model.service_summaries()


def take_snapshot(db: sqlite_utils.Database, days: int | None) -> Snapshot:
    """Publish the window exactly as ``freshmock generate`` does, then read what stubs need."""
    model = publish(db, window_of(db, days))
    return Snapshot(model, replayed_observations(model))


def replayed_observations(model: Model) -> dict[int, dict]:
    """``EXEMPLAR_COLUMNS`` of every observation a stub of ``model`` replays, by id."""
    wanted = {e.exemplar_id for e in model.endpoints if e.exemplar_id is not None}
    for _, endpoints in model.by_service():
        wanted.update(stub.observation_id for stub in service_stubs(model, endpoints)
                      if stub.observation_id is not None)
    found = {}
    for observation_id in sorted(wanted):
        row = model.recordings.observation(observation_id)
        if row is not None:
            found[observation_id] = {name: row[name] for name in EXEMPLAR_COLUMNS}
    return found


def _window_text(snapshot: Snapshot) -> str:
    if snapshot.days is None:
        return "in the whole record"
    return f"in the {snapshot.days} days up to the newest observation"


def export_document(snapshot: Snapshot, service: str | None = None) -> dict:
    """The export of one service (or all): a JSON-ready dict, bodies in base64."""
    endpoints = [e for e in snapshot.endpoints if service is None or e["service"] == service]
    if service is not None and not endpoints:
        names = ", ".join(s["service"] for s in snapshot.services()) or "none"
        raise UnknownService(
            f"no endpoints of service {service!r} {_window_text(snapshot)} (services: {names})"
        )
    services = {e["service"] for e in endpoints}
    ids = sorted(i for i, row in snapshot.exemplars.items() if row["service"] in services)
    return {
        "format": FORMAT,
        "version": VERSION,
        "window": {"days": snapshot.days, "since": snapshot.since},
        "endpoints": endpoints,
        "exemplars": [_encoded(snapshot.exemplars[i]) for i in ids],
    }


def _encoded(row: dict) -> dict:
    return {
        name: base64.b64encode(value).decode("ascii")
        if name in _BINARY and value is not None else value
        for name, value in row.items()
    }


def iter_json(document: dict) -> Iterator[bytes]:
    """The document as JSON (sorted keys, ASCII), one list item per chunk."""
    yield b"{"
    for index, key in enumerate(sorted(document)):
        yield (b", " if index else b"") + json.dumps(key).encode() + b": "
        value = document[key]
        if isinstance(value, list):
            yield b"["
            for position, item in enumerate(value):
                yield (b", " if position else b"") + json.dumps(item, sort_keys=True).encode()
            yield b"]"
        else:
            yield json.dumps(value, sort_keys=True).encode()
    yield b"}"


def check_document(document: object) -> dict:
    """Raise ``ExportError`` unless ``document`` is an export this freshmock reads."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ExportError("not a freshmock export")
    if document.get("version") != VERSION:
        raise ExportError(
            f"export format version {document.get('version')!r}; this freshmock reads "
            f"version {VERSION} (run the same freshmock release on both sides)"
        )
    endpoints, exemplars = document.get("endpoints"), document.get("exemplars")
    if not isinstance(endpoints, list) or not isinstance(exemplars, list):
        raise ExportError("malformed export: endpoints and exemplars must be lists")
    for endpoint in endpoints:
        if not isinstance(endpoint, dict) or not set(ENDPOINT_KEY) <= endpoint.keys():
            raise ExportError("malformed export: an endpoint lacks its key columns")
        if not all(_COLUMN_NAME.match(name) for name in endpoint):
            raise ExportError("malformed export: an endpoint has an invalid column name")
    for row in exemplars:
        if not isinstance(row, dict) or not isinstance(row.get("id"), int):
            raise ExportError("malformed export: an exemplar lacks its id")
        unknown = sorted(set(row) - set(OBSERVATION_COLUMNS))
        if unknown:
            raise ExportError(f"malformed export: unknown exemplar columns {unknown}")
    return document


def _decoded(row: dict) -> dict:
    decoded = dict(row)
    for name in _BINARY & row.keys():
        if row[name] is None:
            continue
        try:
            decoded[name] = base64.b64decode(row[name], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise ExportError(f"malformed export: {name} of exemplar {row['id']} "
                              "is not base64") from None
    return decoded


def export_model(document: dict) -> Model:
    """The ``Model`` an export holds: what ``pull`` hands the writers, no store in between."""
    check_document(document)
    rows = [_decoded(row) for row in document["exemplars"]]
    if len({row["id"] for row in rows}) < len(rows):
        raise ExportError("malformed export: one exemplar id twice")
    keys = [tuple(endpoint[column] for column in ENDPOINT_KEY)
            for endpoint in document["endpoints"]]
    if len(set(map(_hashable, keys))) < len(keys):
        raise ExportError("malformed export: one endpoint twice")
    recordings = RowRecordings(rows)
    try:
        endpoints = [Endpoint.from_row(row, recordings.observation(row.get("exemplar_id")))
                     for row in document["endpoints"]]
    except (ValueError, TypeError) as error:  # a schema that is not JSON text
        raise ExportError(f"malformed export: an endpoint's schemas: {error}") from None
    # in key order, as a store lists them (NULL first, then numbers, then text)
    endpoints.sort(key=lambda e: tuple(map(_store_order, e.key)))
    window = document.get("window") if isinstance(document.get("window"), dict) else {}
    return Model(Window(days=window.get("days"), since=window.get("since")),
                 tuple(endpoints), recordings)


def _hashable(key: tuple) -> str:
    return json.dumps(key, sort_keys=True, default=str)


def _store_order(value) -> tuple:
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))
