"""The published model every later stage reads: typed endpoints of one window.

``publish`` (``model/publish.py``) builds a ``Model`` from a store and is the
only writer of the ``endpoints`` table; ``workflows/export.py`` builds the
same ``Model`` from an export document. Targets write stubs from a ``Model``
and never see SQL: what they need beyond the endpoints (each endpoint's
recorded requests, the observation a stub replays) they ask ``Recordings``
for, which a store or an export answers.

Schemas and statistics are parsed once, here; a reader that changes one
(adds ``x-freshmock``, drops ``$schema``) copies it first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from freshmock.generators.model.exemplars import Exemplar, exemplar_from_row
from freshmock.generators.model.schema import dumps
from freshmock.generators.model.tables import ENDPOINT_KEY


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of the window: key, counts, schemas, statistics, exemplar."""

    # the key (ENDPOINT_KEY), plus where a request names its operation
    service: str
    method: str
    path_template: str
    operation: str  # "" when the API routes by path only
    status: int
    media_type: str | None  # "" for an answer without a body
    discriminator: str = ""  # header:X-Amz-Target, query:Action, graphql, ...
    observations: int = 0
    first_seen: str = ""  # ISO 8601 UTC
    last_seen: str = ""
    request_schema: dict | None = None  # JSON Schema 2020-12, parsed once
    response_schema: dict | None = None
    request_stats: dict | None = None  # mergeable statistics (what drift compares)
    response_stats: dict | None = None
    exemplar_id: int | None = None  # the observation the default stub replays
    exemplar: Exemplar | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple:
        return tuple(getattr(self, column) for column in ENDPOINT_KEY)

    @property
    def route(self) -> tuple[str, str, str]:
        """What one request line can reach: method, template, operation."""
        return (self.method, self.path_template, self.operation)

    def row(self) -> dict:
        """The ``endpoints`` table row (and export entry): schemas and stats as text."""
        return {
            **dict(zip(ENDPOINT_KEY, self.key, strict=True)),
            "discriminator": self.discriminator,
            "observations": self.observations,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "request_schema": _schema_text(self.request_schema),
            "response_schema": _schema_text(self.response_schema),
            "exemplar_id": self.exemplar_id,
            "request_stats": None if self.request_stats is None else dumps(self.request_stats),
            "response_stats": None if self.response_stats is None else dumps(self.response_stats),
        }

    @classmethod
    def from_row(cls, row: Mapping, exemplar_row: Mapping | None = None) -> Endpoint:
        """From an ``endpoints`` row; ``exemplar_row``: the observation ``exemplar_id`` names."""
        # Values as stored (no defaults filled in): ``row()`` gives the same row back.
        endpoint = cls(
            service=row["service"], method=row["method"], path_template=row["path_template"],
            operation=row.get("operation") or "", status=row["status"],
            media_type=row.get("media_type"), discriminator=row.get("discriminator", ""),
            observations=row.get("observations"),
            first_seen=row.get("first_seen"), last_seen=row.get("last_seen"),
            request_schema=_parsed(row.get("request_schema")),
            response_schema=_parsed(row.get("response_schema")),
            request_stats=_parsed(row.get("request_stats")),
            response_stats=_parsed(row.get("response_stats")),
            exemplar_id=row.get("exemplar_id"),
        )
        return endpoint.with_exemplar(exemplar_row)

    def with_exemplar(self, observation: Mapping | None) -> Endpoint:
        """This endpoint with its exemplar built from ``observation`` (None: row gone)."""
        return replace(self, exemplar=exemplar_from_row(observation, self))

    def replaying(self, observation: Mapping | None) -> Exemplar:
        """The exemplar a stub of this endpoint replaying ``observation`` sends."""
        return exemplar_from_row(observation, self)


def _parsed(text: str | None) -> dict | None:
    return json.loads(text) if text else None


def _schema_text(schema: dict | None) -> str | None:
    # the bytes inference stores (infer._schema_text): sorted keys, default separators
    return None if schema is None else json.dumps(schema, sort_keys=True)


@dataclass(frozen=True)
class RecordedRequest:
    """One recorded request of an endpoint, as ``targets/variants`` tells requests apart."""

    id: int
    observed_at: str
    path: str
    query: str
    request_headers: str | None  # JSON [[name, value], ...] as stored
    request_media_type: str | None
    request_body: bytes | None
    request_body_truncated: bool
    response_body_sha256: str  # digest of the answer's body
    response_headers: str | None


class Recordings(Protocol):
    """The recorded traffic behind a model, as far as stubs need it."""

    def requests(self, endpoint: Endpoint) -> Sequence[RecordedRequest]:
        """The endpoint's recorded requests with kept bodies, newest first."""

    def observation(self, observation_id: int | None) -> Mapping | None:
        """One stored observation (the columns an exemplar reads), None when gone."""


class NoRecordings:
    """A model of endpoints alone: no recorded request beyond each exemplar."""

    def requests(self, endpoint: Endpoint) -> Sequence[RecordedRequest]:
        return ()

    def observation(self, observation_id: int | None) -> Mapping | None:
        return None


@dataclass(frozen=True)
class Window:
    """The days a model describes: ``[since, until]``, None for no bound."""

    days: int | None = None  # the window's length (serve --window); None: the whole record
    since: str | None = None  # YYYY-MM-DD
    until: str | None = None


@dataclass(frozen=True)
class Model:
    """The published endpoints of one window, in key order, and their recordings."""

    window: Window
    endpoints: Sequence[Endpoint]
    recordings: Recordings = field(default_factory=NoRecordings, compare=False)

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(sorted({endpoint.service for endpoint in self.endpoints}))

    def of_service(self, service: str | None) -> list[Endpoint]:
        """The endpoints of ``service`` (every one for None), in key order."""
        return [e for e in self.endpoints if not service or e.service == service]

    def by_service(self, service: str | None = None) -> Iterator[tuple[str, list[Endpoint]]]:
        """``(service, its endpoints)`` in name order; endpoints in key order."""
        grouped: dict[str, list[Endpoint]] = {}
        for endpoint in self.of_service(service):
            grouped.setdefault(endpoint.service, []).append(endpoint)
        yield from sorted(grouped.items())

    def service_summaries(self) -> list[dict]:
        """Per service: how many endpoints and observations, and when last seen."""
        summary: dict[str, dict] = {}
        for endpoint in self.endpoints:
            entry = summary.setdefault(endpoint.service, {
                "service": endpoint.service, "endpoints": 0, "observations": 0,
                "last_seen": "",
            })
            entry["endpoints"] += 1
            entry["observations"] += endpoint.observations or 0
            entry["last_seen"] = max(entry["last_seen"], endpoint.last_seen or "")
        return [summary[name] for name in sorted(summary)]
