"""Infer one JSON Schema per endpoint from the observations in a store.

An endpoint is (service, method, path template, operation, status, media
type); the operation is "" unless the API names one in the request (RPC
styles: ``freshmock.proxy.operations``). Each run
folds only the observations newer than its watermark into per-day partials
(mergeable statistics, see ``freshmock.generators.model.schema``), then publishes
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

from freshmock.generators.model.exemplar_choice import (
    add_candidate,
    best_candidate,
    candidate,
    merge_candidates,
    prune,
)
from freshmock.generators.model.json_bodies import has_body, json_body
from freshmock.generators.model.paths import PathRules, PathTemplater
from freshmock.generators.model.schema import StatsBuilder, dumps, loads, publish_document
from freshmock.generators.model.schema.builder import STATS_KEYWORD
from freshmock.generators.model.schema.thresholds import STATE_VERSION
from freshmock.generators.model.tables import (
    ENDPOINT_KEY,
    add_path_shapes,
    clear_partials,
    clear_path_shapes,
    iter_partials,
    read_partial,
    read_path_locks,
    read_path_rules_text,
    read_path_shapes,
    read_watermark,
    run_in_write_transaction,
    write_partials,
    write_path_rules_text,
    write_watermark,
)
from freshmock.proxy.operations import operation_of
from freshmock.proxy.store import (
    StoreError,
    iter_body_digests,
    iter_observations_between,
    iter_path_responses_between,
    last_observation_id,
)

WATERMARK = "infer_endpoints"
_STAMP = "%Y-%m-%dT%H:%M:%SZ"
# Stored partials are merged only with partials of the same format.
# "bodyless-v1": answers without a body are keyed under media type "", so
# partials keyed by their Content-Type before are rebuilt, not merged;
# "operations-v1": the key gained the operation discriminator.
PARTIALS_VERSION = f"stats-v{STATE_VERSION}-candidates-v1-operations-v1-bodyless-v1"
_UPDATE_ATTEMPTS = 3

class _Templaters(dict):
    """One ``PathTemplater`` per service, trained on every path shape stored."""

    def __init__(self, db: sqlite_utils.Database, rules: PathRules, fresh: bool = False) -> None:
        super().__init__()
        self.rules = rules
        self.locks = read_path_locks(db)
        if not fresh:
            for service, shape, count, signatures in read_path_shapes(db):
                self.get(service).add(shape, count, signatures)

    def get(self, service: str) -> PathTemplater:
        if service not in self:
            self[service] = PathTemplater(self.rules, self.locks.get(service, ()))
        return self[service]


def service_templater(db: sqlite_utils.Database, service: str) -> PathTemplater:
    """The templater every command files ``service``'s paths with: the store's
    rules, shapes and locks (what ``infer`` last learnt)."""
    return _Templaters(db, stored_rules(db)).get(service)


def merged_values(db: sqlite_utils.Database) -> dict[tuple[str, str], list[dict]]:
    """Per (service, template), each parameter position: how many distinct values
    it merged and the first few, from the stored path shapes. Typed identifiers
    were collapsed before storing; they show as ``{}``."""
    templaters = _Templaters(db, stored_rules(db))
    by_service: dict[str, list[str]] = {}
    for service, shape, _, _ in read_path_shapes(db):
        by_service.setdefault(service, []).append(shape)
    return {
        (service, template): positions
        for service, shapes in by_service.items()
        for template, positions in templaters.get(service).merged_values(shapes).items()
    }


# Response bodies parsed per path shape and run for the templater's evidence: a
# shape's signature rarely changes, and a hot path must not be parsed per row.
_PARSED_PER_SHAPE = 3
_SIGNATURES_PER_SHAPE = 4


def _keys(value) -> str:
    if isinstance(value, list):
        value = next((item for item in value if isinstance(item, dict)), None)
        return "[" + ",".join(sorted(value)[:40]) if value is not None else "[]"
    if isinstance(value, dict):
        return "{" + ",".join(sorted(value)[:40])
    return ""


def response_signature(method: str, status: int, media_type: str | None, body, truncated) -> str:
    """How a success response looks, coarsely: method, status, the top-level keys
    (of the object, or of an array's first object) and one level below them for
    up to 3 containers (a list envelope's ``data`` items tell ``/projects`` from
    ``/users``), else the media type. "" for non-success statuses: error bodies
    look alike across unrelated endpoints."""
    if not 200 <= (status or 0) < 300:
        return ""
    parsed = json_body(media_type or "", body, bool(truncated))
    if isinstance(parsed, list):
        parsed = next((item for item in parsed if isinstance(item, dict)), parsed)
        prefix = "[]"
    else:
        prefix = ""
    if isinstance(parsed, dict):
        inner = [f"{key}:{_keys(parsed[key])}" for key in sorted(parsed)
                 if isinstance(parsed[key], (dict, list)) and _keys(parsed[key])][:3]
        shape = prefix + _keys(parsed) + (";" + ";".join(inner) if inner else "")
    else:
        shape = prefix or media_type or "-"
    return f"{method} {status} {shape}"


def stored_rules(db: sqlite_utils.Database, rules: PathRules | None = None) -> PathRules:
    """The rules to template with: ``rules`` when a command was given ``--config``
    (they then become the store's), else the ones the store keeps."""
    if rules is not None:
        if read_path_rules_text(db) != rules.to_json():
            write_path_rules_text(db, rules.to_json(), datetime.now(UTC).strftime(_STAMP))
        return rules
    text = read_path_rules_text(db)
    return PathRules() if text is None else PathRules.from_json(text)


def row_operation(row: dict, rules: PathRules) -> tuple[str, str]:
    """``(operation, discriminator)`` of a stored observation.

    The sidecar stored it (from the built-in protocols) before sampling could
    drop the body; ``[paths] discriminators`` are applied to the stored request
    here, and where they find nothing (a sampled-out body) the stored value stands.
    Rows from before operations were stored get them derived now.
    """
    stored = row.get("operation")
    if stored is not None and not rules.discriminators:
        return stored, row.get("discriminator") or ""
    try:
        headers = json.loads(row.get("request_headers") or "[]")
    except ValueError:
        headers = []
    found = operation_of(
        row["path"], row.get("query") or "", headers, row.get("request_media_type") or "",
        row.get("request_body"),
        rules.discriminators,
    )
    if not found[0] and stored:
        return stored, row.get("discriminator") or ""
    return found


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
    discriminator: str = ""
    first_seen: str = ""
    last_seen: str = ""
    # Exemplar candidates by response shape (see exemplar_choice); failing
    # any, the newest observation whose bodies were kept: the max of this rank.
    candidates: dict[str, list] = field(default_factory=dict)
    exemplar: tuple[int, str, int] = (-1, "", 0)
    request: StatsBuilder = field(default_factory=StatsBuilder)
    response: StatsBuilder = field(default_factory=StatsBuilder)

    def add(self, row: dict, discriminator: str = "", bodies_seen: set | None = None) -> None:
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

        self.discriminator = self.discriminator or discriminator
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
        self.discriminator = self.discriminator or row.get("discriminator") or ""
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
            "discriminator": self.discriminator,
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
            "discriminator": self.discriminator,
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
    for request, response in iter_body_digests(db, day, next_day, upto_id):
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
    rules = stored_rules(db, rules)
    # Partials are filed by operation as the rules said when they were folded
    # in: other rules start over.
    version = f"{PARTIALS_VERSION}-rules-{rules.digest()}"
    for _ in range(_UPDATE_ATTEMPTS):
        watermark = read_watermark(db, WATERMARK)
        fresh = rebuild or watermark is None or watermark[1] != version
        after = 0 if fresh else watermark[0]
        upto = last_observation_id(db)
        if upto <= after and not fresh:
            return 0
        # Two passes: the paths first, so every new row is filed under templates
        # learnt from all the paths, then the rows themselves, streamed.
        templaters = _Templaters(db, rules, fresh)
        shapes: Counter[tuple[str, str]] = Counter()
        signatures: dict[tuple[str, str], set[str]] = {}
        for service, path, method, status, media_type, body, truncated in (
            iter_path_responses_between(db, after, upto)
        ):
            templater = templaters.get(service)
            shape = templater.shape(path)
            shapes[(service, shape)] += 1
            seen = signatures.setdefault((service, shape), set())
            signature = None
            if len(seen) < _SIGNATURES_PER_SHAPE and shapes[(service, shape)] <= _PARSED_PER_SHAPE:
                signature = response_signature(method, status, media_type, body, truncated)
                if signature:
                    seen.add(signature)
            templater.add(shape, 1, (signature,) if signature else ())
        partials: dict[tuple, _Partial] = {}
        seen_by_day: dict[str, set] = {}
        folded = 0
        for row in iter_observations_between(db, after, upto):
            templater = templaters.get(row["service"])
            operation, discriminator = row_operation(row, rules)
            key = (row["service"], row["method"], templater.template(row["path"]), operation,
                   row["status"], response_media_key(row))
            day = row["observed_at"][:10]
            if day not in seen_by_day:
                seen_by_day[day] = set() if fresh else _bodies_before(db, after, day)
            partials.setdefault((*key, day), _Partial()).add(row, discriminator, seen_by_day[day])
            folded += 1

        def commit(
            watermark=watermark, fresh=fresh, partials=partials, upto=upto, shapes=shapes,
            signatures=signatures,
        ) -> bool:
            if read_watermark(db, WATERMARK) != watermark:
                return False
            if fresh:
                clear_partials(db)
                clear_path_shapes(db)
            add_path_shapes(db, shapes, {k: v for k, v in signatures.items() if v})
            rows = []
            for key, partial in partials.items():
                stored = None if fresh else read_partial(db, key)
                if stored is not None:
                    partial.add_stored(stored)
                rows.append(partial.stored_row(key))
            write_partials(db, rows)
            write_watermark(db, WATERMARK, upto, version)
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
    templaters = _Templaters(db, stored_rules(db, rules))
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


def infer_endpoints(
    db: sqlite_utils.Database,
    since: str | None = None,
    until: str | None = None,
    rebuild: bool = False,
    path_rules: PathRules | None = None,
) -> list[dict]:
    """Fold in new observations, then rebuild the ``endpoints`` table for the window.

    Without ``since``/``until`` the window is every day observed. The rows
    written; ``model.publish`` (the one writer of ``endpoints``) does the work.
    """
    from freshmock.generators.model.publish import publish_rows  # it imports this module

    return publish_rows(db, since, until, rules=path_rules, rebuild=rebuild)
