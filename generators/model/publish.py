"""Publish a window: the one writer of the ``endpoints`` table, and the ``Model`` it holds.

``publish(db, window, rules)`` folds new observations in, merges the window's
partials into endpoints, keeps last run's exemplars where they still fit,
rewrites ``endpoints`` and returns the typed ``Model`` every target writes
from. ``generate``, ``refresh``, ``serve`` (its export) and ``infer`` all go
through it, so they publish a window the same way (one set of path rules).

``read_model`` reads what was published last without publishing again.
``StoreRecordings`` and ``RowRecordings`` answer a model's ``Recordings``
from a store or from rows held in memory (a pulled export), with one filter.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

import sqlite_utils

from freshmock.generators.model.endpoint import Endpoint, Model, RecordedRequest, Window
from freshmock.generators.model.exemplar_choice import still_fits
from freshmock.generators.model.history import record_versions
from freshmock.generators.model.infer import (
    publish_endpoints,
    row_operation,
    service_templater,
    stored_rules,
    update_partials,
)
from freshmock.generators.model.paths import PathRules, PathTemplater, is_parameter
from freshmock.generators.model.tables import (
    ENDPOINT_KEY,
    list_endpoints,
    lock_path_templates,
    migrate_model,
    replace_endpoints,
)
from freshmock.generators.model.window import window_start
from freshmock.proxy.store import (
    OBSERVATION_COLUMNS,
    iter_recent_replies,
    observations_by_id,
)

# Distinct requests read per endpoint (newest first): enough for every request
# of a test workload, bounded for a busy dependency. Candidate rows are read 4x
# over, as the filters below (media type, template, operation) drop some.
MAX_ROWS_PER_ENDPOINT = 2000
_CANDIDATES_PER_ENDPOINT = MAX_ROWS_PER_ENDPOINT * 4
_STAMP = "%Y-%m-%dT%H:%M:%SZ"


def window_of(db: sqlite_utils.Database, days: int | None) -> Window:
    """The last ``days`` days up to the newest observation (None: the whole record)."""
    return Window(days=days, since=window_start(db, days))


def publish(
    db: sqlite_utils.Database,
    window: Window | None = None,
    rules: PathRules | None = None,
    rebuild: bool = False,
) -> Model:
    """Fold in new observations, rewrite ``endpoints`` for ``window``, return its model."""
    window = window or Window()
    rows = publish_rows(db, window.since, window.until, rules, rebuild)
    return _model(db, window, rows)


def publish_rows(
    db: sqlite_utils.Database,
    since: str | None = None,
    until: str | None = None,
    rules: PathRules | None = None,
    rebuild: bool = False,
) -> list[dict]:
    """``publish`` without building the model: the ``endpoints`` rows written.

    Without ``since``/``until`` the window is every day observed; only then
    does schema history move (it follows the whole record).
    """
    migrate_model(db)
    update_partials(db, rebuild=rebuild, rules=rules)
    rows = publish_endpoints(db, since, until, rules=rules)
    _keep_stable_exemplars(db, rows, since, until)
    replace_endpoints(db, rows)
    if since is None and until is None:
        record_versions(db, rows)
    accepted = {
        (row["service"], row["path_template"])
        for row in rows
        if any(map(is_parameter, row["path_template"].split("/")))
    }
    lock_path_templates(db, sorted(accepted), datetime.now(UTC).strftime(_STAMP))
    return rows


def _keep_stable_exemplars(
    db: sqlite_utils.Database, rows: list[dict], since: str | None, until: str | None
) -> None:
    """Where last run's exemplar still fits the new schemas, keep it (no stub churn)."""
    previous = {
        tuple(row[column] for column in ENDPOINT_KEY): row["exemplar_id"]
        for row in list_endpoints(db)
    }
    for row in rows:
        chosen = previous.get(tuple(row[column] for column in ENDPOINT_KEY))
        if chosen not in (None, row["exemplar_id"]) and still_fits(db, chosen, row, since, until):
            row["exemplar_id"] = chosen


def read_model(db: sqlite_utils.Database, window: Window | None = None) -> Model:
    """The model last published into ``db`` (its ``endpoints`` table), as it stands."""
    return _model(db, window or Window(), list_endpoints(db))


def _model(db: sqlite_utils.Database, window: Window, rows: list[dict]) -> Model:
    exemplars = _observations(db, [row["exemplar_id"] for row in rows])
    endpoints = [Endpoint.from_row(row, exemplars.get(row["exemplar_id"])) for row in rows]
    return Model(window, tuple(endpoints), StoreRecordings(db))


def _observations(db: sqlite_utils.Database, ids: Iterable[int | None]) -> dict[int, dict]:
    """Whole observation rows by id, read in batches (one query per 500, not per row)."""
    return observations_by_id(db, (i for i in ids if i is not None), OBSERVATION_COLUMNS)


# --- the recorded requests of an endpoint ------------------------------------

_REQUEST_COLUMNS = ("id", "observed_at", "path", "query", "request_headers",
                    "request_media_type", "request_body", "request_body_truncated",
                    "response_media_type", "response_body_sha256", "response_body_size",
                    "response_headers", "operation", "discriminator")


def _template_regex(template: str) -> re.Pattern:
    parts = [("[^/]+" if is_parameter(s) else re.escape(s)) for s in template.split("/")]
    return re.compile("/".join(parts))


def _requests(endpoint: Endpoint, candidates: Iterable[Mapping], templater: PathTemplater,
              rules: PathRules, body_digest) -> list[RecordedRequest]:
    """The endpoint's own requests among ``candidates`` (its service, method and status
    in its first/last seen, bodies kept, no error; newest first)."""
    pattern = _template_regex(endpoint.path_template)
    media_type = endpoint.media_type or ""
    found = []
    for row in candidates:
        if (row["response_media_type"] or "") != media_type and not (
                media_type == "" and not row["response_body_size"]):
            continue
        if not pattern.fullmatch(row["path"]) or row_operation(row, rules)[0] != endpoint.operation:
            continue
        # A literal the templater kept (/users/me beside /users/{user}) is its own
        # endpoint: the template's pattern matches it, but its rows are not this one's.
        if templater.template(row["path"]) != endpoint.path_template:
            continue
        found.append(RecordedRequest(
            id=row["id"], observed_at=row["observed_at"], path=row["path"],
            query=row["query"] or "", request_headers=row["request_headers"],
            request_media_type=row["request_media_type"], request_body=row["request_body"],
            request_body_truncated=bool(row["request_body_truncated"]),
            # rows of stores older than the hash: digest the body now
            response_body_sha256=row["response_body_sha256"] or body_digest(row["id"]),
            response_headers=row["response_headers"],
        ))
        if len(found) >= MAX_ROWS_PER_ENDPOINT:
            break
    return found


class StoreRecordings:
    """A model's recordings read from its store, one endpoint at a time."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self._templaters: dict[str, PathTemplater] = {}
        self._rules: PathRules | None = None

    def _templater(self, service: str) -> PathTemplater:
        if service not in self._templaters:
            self._templaters[service] = service_templater(self.db, service)
        return self._templaters[service]

    def requests(self, endpoint: Endpoint) -> Sequence[RecordedRequest]:
        if self._rules is None:
            self._rules = stored_rules(self.db)
        rows = iter_recent_replies(
            self.db, _REQUEST_COLUMNS, endpoint.service, endpoint.method, endpoint.status,
            endpoint.first_seen, endpoint.last_seen, limit=_CANDIDATES_PER_ENDPOINT)
        return _requests(endpoint, rows, self._templater(endpoint.service), self._rules,
                         self._body_digest)

    def _body_digest(self, observation_id: int) -> str:
        data = observations_by_id(self.db, [observation_id],
                                  ("id", "response_body"))[observation_id]["response_body"]
        return hashlib.sha256(data or b"").hexdigest()

    def observation(self, observation_id: int | None) -> Mapping | None:
        # plain SQL: sqlite-utils' Table.get introspects the table's keys on every
        # call (1.5 s of 2.9 s for 9,000 lookups in make bench-generation)
        if observation_id is None:
            return None
        return observations_by_id(self.db, [observation_id], OBSERVATION_COLUMNS).get(
            observation_id)


class RowRecordings:
    """Recordings held in memory: the observations an export carries, by id.

    The requests of an endpoint are picked from them exactly as from a store
    whose only rows they are, with that store's templater (no path shapes
    learnt) and rules (the defaults): what ``pull`` always generated from.
    """

    def __init__(self, rows: Iterable[Mapping], rules: PathRules | None = None) -> None:
        # every column present, as a store's row has it (None: not carried)
        self.rows = {row["id"]: {name: row.get(name) for name in OBSERVATION_COLUMNS}
                     for row in rows}
        self.rules = rules or PathRules()
        self._newest_first = sorted(self.rows.values(), key=lambda row: -row["id"])
        self._templaters: dict[str, PathTemplater] = {}

    def requests(self, endpoint: Endpoint) -> Sequence[RecordedRequest]:
        if endpoint.first_seen is None or endpoint.last_seen is None:
            return []
        candidates = [
            row for row in self._newest_first
            if (row.get("service"), row.get("method"), row.get("status")) == (
                endpoint.service, endpoint.method, endpoint.status)
            and row.get("observed_at") is not None
            and endpoint.first_seen <= row["observed_at"] <= endpoint.last_seen
            and not row.get("sampled_out") and row.get("error") is None
        ][:_CANDIDATES_PER_ENDPOINT]
        templater = self._templaters.setdefault(endpoint.service, PathTemplater(self.rules))
        return _requests(endpoint, candidates, templater, self.rules, self._body_digest)

    def _body_digest(self, observation_id: int) -> str:
        return hashlib.sha256(self.rows[observation_id].get("response_body") or b"").hexdigest()

    def observation(self, observation_id: int | None) -> Mapping | None:
        return self.rows.get(observation_id)
