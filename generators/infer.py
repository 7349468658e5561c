"""Infer one JSON Schema per endpoint from the observations in a store.

An endpoint is (service, method, path template, status, media type). Each run
folds only the observations newer than its watermark into per-day partials
(mergeable statistics, see ``freshmock.generators.schema``), then publishes
any window of days by merging its partials: the ``endpoints`` table holds the
clean request/response schemas, counts, first/last seen, and the newest
observation whose bodies were kept as the exemplar that stubs replay.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlite_utils

from freshmock.generators.exemplar_choice import (
    add_candidate,
    best_candidate,
    candidate,
    merge_candidates,
    prune,
    still_fits,
)
from freshmock.generators.history import record_versions
from freshmock.generators.json_bodies import has_body, json_body
from freshmock.generators.paths import PathRules, PathTemplater, is_parameter
from freshmock.generators.schema import StatsBuilder, dumps, loads, publish_document
from freshmock.generators.schema.builder import STATS_KEYWORD
from freshmock.generators.schema.thresholds import STATE_VERSION
from freshmock.proxy.store import (
    ENDPOINT_KEY,
    OBSERVATIONS,
    PATH_SHAPES,
    StoreError,
    add_path_shapes,
    clear_partials,
    ensure_path_tables,
    iter_observations_between,
    iter_partials,
    iter_paths_between,
    last_observation_id,
    list_endpoints,
    lock_path_templates,
    read_partial,
    read_path_locks,
    read_path_shapes,
    read_watermark,
    replace_endpoints,
    run_in_write_transaction,
    write_partials,
    write_watermark,
)

WATERMARK = "infer_endpoints"
# Stored partials are merged only with partials of the same format.
# "bodyless-v1": answers without a body are keyed under media type "", so
# partials keyed by their Content-Type before are rebuilt, not merged.
PARTIALS_VERSION = f"stats-v{STATE_VERSION}-candidates-v1-bodyless-v1"
_UPDATE_ATTEMPTS = 3

class _Templaters(dict):
    """One ``PathTemplater`` per service, trained on every path shape stored."""

    def __init__(self, db: sqlite_utils.Database, rules: PathRules, fresh: bool = False) -> None:
        super().__init__()
        self.rules = rules
        self.locks = read_path_locks(db)
        if not fresh:
            for service, shape, count in read_path_shapes(db):
                self.get(service).add(shape, count)

    def get(self, service: str) -> PathTemplater:
        if service not in self:
            self[service] = PathTemplater(self.rules, self.locks.get(service, ()))
        return self[service]


def endpoint_key(row: dict, templater: PathTemplater) -> tuple:
    return (
        row["service"],
        row["method"],
        templater.template(row["path"]),
        row["status"],
        response_media_key(row),
    )


# Statuses that never carry a body (RFC 9110 6.4.1): 1xx, 204, 304.
_BODYLESS_STATUSES = frozenset({204, 304})


def response_media_key(row: dict) -> str:
    """The media type an answer is filed under: "" when it has no body.

    An empty body has no media type contract: a 204 whose Content-Type went
    from application/octet-stream to application/json is the same endpoint,
    and never media-type drift. A body that was sampled out still counts as one.
    """
    status = row["status"] or 0
    bodyless = (
        row["method"] == "HEAD" or status < 200 or status in _BODYLESS_STATUSES
        or row.get("response_body_size") == 0
        or (row.get("response_body_size") is None and not row.get("response_body")
            and not row.get("sampled_out"))
    )
    return "" if bodyless else (row["response_media_type"] or "")


@dataclass
class _Partial:
    """What one endpoint's observations add up to, over a day or a window."""

    observations: int = 0
    first_seen: str = ""
    last_seen: str = ""
    # Exemplar candidates by response shape (see exemplar_choice); failing
    # any, the newest observation whose bodies were kept: the max of this rank.
    candidates: dict[str, list] = field(default_factory=dict)
    exemplar: tuple[int, str, int] = (-1, "", 0)
    request: StatsBuilder = field(default_factory=StatsBuilder)
    response: StatsBuilder = field(default_factory=StatsBuilder)

    def add(self, row: dict, bodies_seen: set | None = None) -> None:
        """Observe one row; ``bodies_seen``: digests of the bodies observed earlier that day.

        A byte-identical body seen before the same day adds counts but no value
        evidence (stats "repeats"; drift_rules): one example served 30 times is
        one value. Whether a body repeats depends only on the store, never on
        how inference runs were split, so partials stay exact.
        """
        bodies_seen = set() if bodies_seen is None else bodies_seen

        def repeat(prefix: str, digest: str | None) -> bool:
            if digest is None:
                return False
            if prefix + digest in bodies_seen:
                return True
            bodies_seen.add(prefix + digest)
            return False

        seen = row["observed_at"]
        self._count(seen, seen, 1, (0 if row.get("sampled_out") else 1, seen, row["id"]))
        request = json_body(
            row["request_media_type"], row["request_body"], row["request_body_truncated"]
        )
        if has_body(request):
            self.request.add_object(request,
                                    repeat=repeat("q", row.get("request_body_sha256")))
        response = json_body(
            row["response_media_type"], row["response_body"], row["response_body_truncated"]
        )
        if has_body(response):
            self.response.add_object(response,
                                     repeat=repeat("r", row.get("response_body_sha256")))
        found = candidate(row, response)
        if found is not None:
            add_candidate(self.candidates, *found)

    def add_stored(self, row: dict) -> None:
        """Merge a stored partial (an ``infer_partials`` row) into this one."""
        exemplar = (row["exemplar_kept"], row["exemplar_observed_at"], row["exemplar_id"])
        self._count(row["first_seen"], row["last_seen"], row["observations"], exemplar)
        self.request = _merged(self.request, row["request_stats"])
        self.response = _merged(self.response, row["response_stats"])
        if row.get("exemplar_candidates"):
            merge_candidates(self.candidates, json.loads(row["exemplar_candidates"]))

    def _count(self, first_seen: str, last_seen: str, observations: int, exemplar: tuple) -> None:
        self.observations += observations
        if not self.first_seen or first_seen < self.first_seen:
            self.first_seen = first_seen
        self.last_seen = max(self.last_seen, last_seen)
        self.exemplar = max(self.exemplar, exemplar)

    def stored_row(self, key: tuple) -> dict:
        prune(self.candidates)
        kept, observed_at, exemplar_id = self.exemplar
        return {
            **dict(zip((*ENDPOINT_KEY, "day"), key, strict=True)),
            "observations": self.observations,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "exemplar_id": exemplar_id,
            "exemplar_observed_at": observed_at,
            "exemplar_kept": kept,
            "exemplar_candidates": json.dumps(self.candidates, sort_keys=True),
            "request_stats": dumps(self.request.node) if len(self.request) else None,
            "response_stats": dumps(self.response.node) if len(self.response) else None,
        }

    def exemplar_id(self) -> int:
        best = best_candidate(self.candidates)
        return self.exemplar[2] if best is None else best

    def endpoint_row(self, key: tuple) -> dict:
        return {
            **dict(zip(ENDPOINT_KEY, key, strict=True)),
            "observations": self.observations,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "request_schema": _schema_text(self.request),
            "response_schema": _schema_text(self.response),
            "exemplar_id": self.exemplar_id(),
            "request_stats": dumps(self.request.node) if len(self.request) else None,
            "response_stats": dumps(self.response.node) if len(self.response) else None,
        }


def _bodies_before(db: sqlite_utils.Database, upto_id: int, day: str) -> set:
    """Digests of the bodies of ``day`` folded in by earlier runs (ids up to ``upto_id``)."""
    next_day = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    seen = set()
    for request, response in db.execute(
        f"select request_body_sha256, response_body_sha256 from {OBSERVATIONS} "
        "where observed_at >= ? and observed_at < ? and id <= ? and status is not null",
        [day, next_day, upto_id],
    ):
        if request:
            seen.add("q" + request)
        if response:
            seen.add("r" + response)
    return seen


def _merged(builder: StatsBuilder, stats_text: str | None) -> StatsBuilder:
    if stats_text is None:
        return builder
    node = loads(stats_text)
    if not len(builder):
        return StatsBuilder.from_node(node)  # adopt it: no copy
    builder.add_schema({STATS_KEYWORD: node})
    return builder


def _schema_text(builder: StatsBuilder) -> str | None:
    if not len(builder):
        return None
    return json.dumps(publish_document(builder.node), sort_keys=True)


def update_partials(
    db: sqlite_utils.Database, rebuild: bool = False, rules: PathRules | None = None
) -> int:
    """Fold observations newer than the watermark into per-day partials.

    Returns how many observations were folded in. Starts over (dropping every
    partial) when ``rebuild`` is set or the stored partials have another format.
    The observations are read and parsed outside the write lock; the merge into
    stored partials and the watermark move happen in one transaction, retried
    if another run moved the watermark meanwhile.
    """
    for _ in range(_UPDATE_ATTEMPTS):
        watermark = read_watermark(db, WATERMARK)
        fresh = rebuild or watermark is None or watermark[1] != PARTIALS_VERSION
        after = 0 if fresh else watermark[0]
        upto = last_observation_id(db)
        if upto <= after and not fresh:
            return 0
        # Two passes: the paths first, so every new row is filed under templates
        # learnt from all the paths, then the rows themselves, streamed.
        templaters = _Templaters(db, rules or PathRules(), fresh)
        shapes: Counter[tuple[str, str]] = Counter()
        for service, path in iter_paths_between(db, after, upto):
            templater = templaters.get(service)
            shape = templater.shape(path)
            shapes[(service, shape)] += 1
            templater.add(shape)
        partials: dict[tuple, _Partial] = {}
        seen_by_day: dict[str, set] = {}
        folded = 0
        for row in iter_observations_between(db, after, upto):
            key = endpoint_key(row, templaters.get(row["service"]))
            day = row["observed_at"][:10]
            if day not in seen_by_day:
                seen_by_day[day] = set() if fresh else _bodies_before(db, after, day)
            partials.setdefault((*key, day), _Partial()).add(row, seen_by_day[day])
            folded += 1

        def commit(
            watermark=watermark, fresh=fresh, partials=partials, upto=upto, shapes=shapes
        ) -> bool:
            if read_watermark(db, WATERMARK) != watermark:
                return False
            if fresh:
                clear_partials(db)
                db.execute(f"delete from {PATH_SHAPES}")
            add_path_shapes(db, shapes)
            rows = []
            for key, partial in partials.items():
                stored = None if fresh else read_partial(db, key)
                if stored is not None:
                    partial.add_stored(stored)
                rows.append(partial.stored_row(key))
            write_partials(db, rows)
            write_watermark(db, WATERMARK, upto, PARTIALS_VERSION)
            return True

        if run_in_write_transaction(db, commit):
            return folded
    raise StoreError(
        f"other inference runs kept updating the store; {_UPDATE_ATTEMPTS} attempts gave up"
    )


def merge_window(
    db: sqlite_utils.Database,
    since: str | None = None,
    until: str | None = None,
    rules: PathRules | None = None,
) -> dict[tuple, _Partial]:
    """Every endpoint's statistics over the days in ``[since, until]`` (inclusive).

    A partial is filed under the template its path had when it was folded in;
    templates learnt since (a position that has now merged into a parameter)
    re-file it, and partials that land on one template merge.
    """
    templaters = _Templaters(db, rules or PathRules())
    merged: dict[tuple, _Partial] = {}
    for stored in iter_partials(db, since, until):
        key = [stored[column] for column in ENDPOINT_KEY]
        key[2] = templaters.get(stored["service"]).template(stored["path_template"])
        merged.setdefault(tuple(key), _Partial()).add_stored(stored)
    return merged


def publish_endpoints(
    db: sqlite_utils.Database,
    since: str | None = None,
    until: str | None = None,
    rules: PathRules | None = None,
) -> list[dict]:
    """Endpoint rows for the days in ``[since, until]`` (``YYYY-MM-DD``, inclusive)."""
    merged = merge_window(db, since, until, rules)
    return [merged[key].endpoint_row(key) for key in sorted(merged)]


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


def infer_endpoints(
    db: sqlite_utils.Database,
    since: str | None = None,
    until: str | None = None,
    rebuild: bool = False,
    path_rules: PathRules | None = None,
) -> list[dict]:
    """Fold in new observations, then rebuild the ``endpoints`` table for the window.

    Without ``since``/``until`` the window is every day observed.
    """
    ensure_path_tables(db)
    update_partials(db, rebuild=rebuild, rules=path_rules)
    rows = publish_endpoints(db, since, until, rules=path_rules)
    _keep_stable_exemplars(db, rows, since, until)
    replace_endpoints(db, rows)
    if since is None and until is None:  # history follows the whole record only
        record_versions(db, rows)
    accepted = {
        (row["service"], row["path_template"])
        for row in rows
        if any(map(is_parameter, row["path_template"].split("/")))
    }
    lock_path_templates(db, sorted(accepted), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return rows
