"""Which observed endpoint each mocked interaction stands for.

A route is an endpoint key without its status and media type (service,
method, template, and the operation discriminator where the store has one).
Exact paths match a template with ``paths.template_matches``; a mock's own
template matches one with parameters at the same positions, whatever their
names; a regex must match the concrete path an endpoint's exemplar was
observed on. The most specific template wins, then the most observed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from freshmock.generators.drift.windows import NO_BODY
from freshmock.generators.model.paths import is_parameter, template_matches
from freshmock.generators.model.tables import ENDPOINT_KEY
from freshmock.generators.workflows.verify.interaction import MockInteraction, normalise_media_type
from freshmock.proxy.store import get_observation_or_none

_STATUS_AND_MEDIA = ("status", "media_type")


def fields(key: tuple) -> dict:
    return dict(zip(ENDPOINT_KEY, key, strict=True))


def route_of(key: tuple) -> tuple:
    return tuple(v for name, v in fields(key).items() if name not in _STATUS_AND_MEDIA)


def key_of(route: tuple, status: int, media_type: str | None) -> tuple:
    names = [n for n in ENDPOINT_KEY if n not in _STATUS_AND_MEDIA]
    values = dict(zip(names, route, strict=True)) | {"status": status, "media_type": media_type}
    return tuple(values[n] for n in ENDPOINT_KEY)


@dataclass
class Match:
    route: tuple | None  # None: no observed route matches (see reason)
    key: tuple | None = None  # the observed endpoint the interaction's status/media map to
    baseline_key: tuple | None = None  # the key the mock's claim is filed under
    reason: str = ""
    seen_before: bool = False  # the route was observed, only not in the window
    other_media_types: tuple = ()  # the status is observed today, only with these
    reason_kind: str = "never-observed"  # what an unmatched interaction's reason is


class Matcher:
    def __init__(self, db, current: dict, history: dict, service: str | None) -> None:
        self.db = db
        self.service = service
        self.current = self._routes(current)
        self.history = self._routes(history)
        self.services = sorted({fields(k)["service"] for k in history})
        self._exemplar_paths: dict[tuple, list[str]] = {}
        self._current_partials = current

    def _routes(self, window: dict) -> dict[tuple, dict[tuple, object]]:
        routes: dict[tuple, dict[tuple, object]] = defaultdict(dict)
        for key, partial in window.items():
            if self.service is None or fields(key)["service"] == self.service:
                routes[route_of(key)][key] = partial
        return routes

    def match(self, mock: MockInteraction) -> Match:
        self.ambiguous: list[str] = []
        route = self._best(mock, self.current)
        if self.ambiguous:
            return Match(None, reason=f"the mock names no operation, and {len(self.ambiguous)} "
                         f"are observed on this path ({', '.join(self.ambiguous[:5])}): "
                         "match one (X-Amz-Target, Action, operationName)",
                         reason_kind="operation-unknown")
        if route is None:
            old = self._best(mock, self.history)
            if old is None:
                return Match(None, reason="never observed: no recorded endpoint matches "
                             f"{mock.method} {mock.path.value}")
            return self._file(mock, old, {}, seen_before=True)
        return self._file(mock, route, self.current[route])

    def _file(self, mock, route, entries: dict, seen_before: bool = False) -> Match:
        by_status = [(k, p) for k, p in entries.items() if self._status_fits(mock, k)]
        if not by_status:
            status = mock.status
            spelled = self._spelling(route, status, mock.media_type)
            if status is None:
                return Match(route, reason=f"no {mock.status_class}xx response observed",
                             seen_before=seen_before)
            return Match(route, baseline_key=key_of(route, status, spelled),
                         seen_before=seen_before)
        wanted = [(k, p) for k, p in by_status
                  if mock.media_type is None
                  or (normalise_media_type(fields(k)["media_type"]) or "") == mock.media_type]
        if not wanted and (mock.media_type == NO_BODY or all(
                fields(k)["media_type"] == NO_BODY for k, _ in by_status)):
            # a body on one side only: no media type contract to drift (diff's rule)
            wanted = by_status
        if not wanted:  # observed with another media type: the claim keeps its own
            status = fields(by_status[0][0])["status"]
            return Match(route, baseline_key=key_of(route, status, mock.media_type),
                         other_media_types=tuple(sorted(
                             fields(k)["media_type"] or "none" for k, _ in by_status)))
        key, _ = max(wanted, key=lambda kp: kp[1].observations)
        return Match(route, key=key, baseline_key=key)

    def _spelling(self, route, status, media_type):
        for key in self.history.get(route, {}):
            f = fields(key)
            if f["status"] == status and (normalise_media_type(f["media_type"]) or "") == (
                    media_type or ""):
                return f["media_type"]
        return media_type

    @staticmethod
    def _status_fits(mock: MockInteraction, key: tuple) -> bool:
        status = fields(key)["status"]
        if mock.status is not None:
            return status == mock.status
        return mock.status_class is not None and status // 100 == mock.status_class

    def _best(self, mock: MockInteraction, routes: dict) -> tuple | None:
        candidates = []
        for route, entries in routes.items():
            f = fields(next(iter(entries)))
            if mock.method not in ("ANY", f["method"]):
                continue
            if mock.operation and f.get("operation", mock.operation) != mock.operation:
                continue
            if not self._path_fits(mock, f["path_template"], route, entries):
                continue
            literals = sum(not is_parameter(s) for s in f["path_template"].split("/"))
            candidates.append((literals, sum(p.observations for p in entries.values()), route))
        if not candidates:
            return None
        best = max(candidates)
        operations = {fields(next(iter(routes[c[2]])))["operation"] if "operation" in
                      ENDPOINT_KEY else "" for c in candidates if c[0] == best[0]}
        if not mock.operation and len(operations - {""}) > 1:
            # the mock answers every operation of an RPC path: no one of them is its claim
            self.ambiguous = sorted(operations - {""})
            return None
        return best[2]

    def _path_fits(self, mock, template: str, route, entries) -> bool:
        matcher = mock.path
        if matcher.kind == "exact":
            return template_matches(template, matcher.value)
        if matcher.kind == "template":
            mine, theirs = matcher.value.split("/"), template.split("/")
            return len(mine) == len(theirs) and all(
                (is_parameter(a) and is_parameter(b)) or a == b
                for a, b in zip(mine, theirs, strict=True))
        try:
            pattern = re.compile(matcher.value)
        except re.error:
            note = f"path regex {matcher.value!r} does not compile (as a Python regex)"
            if note not in mock.notes:
                mock.notes.append(note)
            return False
        return any(pattern.fullmatch(p if matcher.with_query else p.split("?")[0])
                   for p in self._observed_paths(route, entries))

    def _observed_paths(self, route, entries) -> list[str]:
        if route not in self._exemplar_paths:
            paths = []
            for partial in entries.values():
                row = get_observation_or_none(self.db, partial.exemplar_id())
                if row is not None:
                    paths.append(row["path"] + (f"?{row['query']}" if row["query"] else ""))
            self._exemplar_paths[route] = paths
        return self._exemplar_paths[route]
