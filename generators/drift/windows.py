"""Drift between two windows of a store (or committed stubs and a window).

``compare_windows`` takes what ``infer.merge_window`` returns (or
``stub_baseline.read_stub_baseline``) for a baseline and a current window and
returns a ``DriftReport``: per endpoint every change — the shape changes of
request and response bodies (``drift.BodyWalk``) and the changes only visible
across endpoints: an endpoint or a success status no longer seen, a media
type changed, a new client error where requests used to succeed, a new status
or endpoint. Every "gone" and "new" is a Fisher exact test on call counts
(families: the statuses of an endpoint, the endpoints of a dependency).

Nothing is dropped silently: every baseline item (service, method, template,
status, media type) is accounted for in ``coverage`` — compared, not observed
in the current window, or no verdict on thin evidence — and a baseline
dependency with no current counterpart, or an empty side, is a ``problem``:
the comparison is vacuous and the gate must not pass.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from freshmock.generators.drift.evidence import (
    decide,
    decisive_at_best,
    fisher_higher,
    fisher_lower,
)
from freshmock.generators.drift.rules import DriftThresholds
from freshmock.generators.drift.shapes import (
    SEVERITY_ORDER,
    BodyWalk,
    Change,
    Severity,
    significance,
)
from freshmock.generators.model.schema.stats import count

NO_BODY = ""  # the media type of an answer without a body: it has no media type contract
COMPARED, NOT_OBSERVED, NO_VERDICT = "compared", "not-observed", "no-verdict"


@dataclass
class Side:
    """What one window saw of an endpoint (or of one of its statuses)."""

    observations: int
    last_seen: str


@dataclass
class EndpointDrift:
    service: str
    method: str
    path_template: str
    status: int | None  # None: about the endpoint as a whole
    media_type: str | None
    changes: list[Change] = field(default_factory=list)
    baseline: Side | None = None
    current: Side | None = None

    @property
    def worst(self) -> Severity:
        return min((c.severity for c in self.changes), key=SEVERITY_ORDER.__getitem__)

    def sort_key(self) -> tuple:
        return (self.service, self.path_template, self.method, self.status or 0,
                self.media_type or "")


@dataclass(frozen=True)
class Coverage:
    """What became of one baseline item: compared, not observed now, or no verdict."""

    service: str
    method: str
    path_template: str
    status: int
    media_type: str
    verdict: str  # COMPARED | NOT_OBSERVED | NO_VERDICT
    baseline_observations: int
    current_observations: int
    note: str = ""

    def sort_key(self) -> tuple:
        return (self.service, self.path_template, self.method, self.status, self.media_type)


@dataclass(frozen=True)
class Observed:
    """What a side really held: first and last day observed, and how many observations."""

    first_day: str | None
    last_day: str | None
    observations: int


@dataclass
class DriftReport:
    drifts: list[EndpointDrift]
    coverage: list[Coverage]
    problems: list[str]  # a vacuous comparison: one line each, naming both sides and the fix
    baseline: Observed
    current: Observed


def _side(partials) -> Side | None:
    partials = [p for p in partials if p is not None]
    if not partials:
        return None
    return Side(sum(p.observations for p in partials), max(p.last_seen for p in partials))


def _observed(window: dict) -> Observed:
    if not window:
        return Observed(None, None, 0)
    return Observed(min(p.first_seen for p in window.values())[:10],
                    max(p.last_seen for p in window.values())[:10],
                    sum(p.observations for p in window.values()))


def _by_route(window: dict) -> dict[tuple, dict[tuple, object]]:
    routes: dict[tuple, dict[tuple, object]] = defaultdict(dict)
    for (service, method, template, operation, status, media_type), partial in window.items():
        # an RPC operation is its own route; reports name it after the template
        route_name = f"{template} [{operation}]" if operation else template
        routes[(service, method, route_name)][(status, media_type)] = partial
    return routes


def _is_success(status: int) -> bool:
    return 200 <= status < 300


def _is_error(status: int) -> bool:
    return status >= 400


def _is_client_error(status: int) -> bool:
    return 400 <= status < 500


def _traffic(window: dict) -> dict[str, int]:
    traffic: dict[str, int] = defaultdict(int)
    for (svc, *_), partial in window.items():
        traffic[svc] += partial.observations
    return traffic


def vacuous_sides(baseline: dict, current: dict, baseline_is: str, current_holds: str,
                  service: str | None) -> list[str]:
    """Why comparing these sides would compare nothing, one line per cause (empty: fine).

    ``baseline_is`` / ``current_holds`` name the sides in a sentence: "stubs are
    for" / "the store holds", or "the baseline window holds" / "the current
    window holds".
    """
    scope = f" of {service}" if service else ""
    if not current:
        return [f"{current_holds} no observations{scope}: nothing to compare"]
    if not baseline:
        return [f"the baseline holds no observations{scope}: nothing to compare"]
    held = ", ".join(sorted(_traffic(current)))
    return [
        f"{baseline_is} {name}; {current_holds} {held} — "
        "pass --service or set it in freshmock.toml"
        for name in sorted(_traffic(baseline).keys() - _traffic(current).keys())
    ]


class _Comparison:
    def __init__(self, rules: DriftThresholds) -> None:
        self.rules = rules
        self.drifts: list[EndpointDrift] = []
        self.coverage: list[Coverage] = []

    def account(self, route, key, partial, verdict, current=0, note="") -> None:
        service, method, template = route
        status, media_type = key
        self.coverage.append(Coverage(service, method, template, status, media_type, verdict,
                                      partial.observations, current, note))

    def thin(self, n_before: int, n_after: int) -> bool:
        rules = self.rules
        return (n_before < rules.min_side_observations or n_after < rules.min_side_observations
                or decisive_at_best(n_before, n_after) > rules.false_alarm_level)


def compare_windows(
    baseline: dict, current: dict, rules: DriftThresholds | None = None,
    service: str | None = None, baseline_is: str = "the baseline window holds",
    current_holds: str = "the current window holds",
) -> DriftReport:
    rules = rules or DriftThresholds()
    if service is not None:
        baseline = {k: v for k, v in baseline.items() if k[0] == service}
        current = {k: v for k, v in current.items() if k[0] == service}
    problems = vacuous_sides(baseline, current, baseline_is, current_holds, service)
    work = _Comparison(rules)
    old_routes, new_routes = _by_route(baseline), _by_route(current)
    old_traffic, new_traffic = _traffic(baseline), _traffic(current)
    for name in sorted(old_traffic.keys() | new_traffic.keys()):
        _compare_service(work, name, old_routes, new_routes, old_traffic[name],
                         new_traffic[name])
    drifts = sorted((d for d in work.drifts if d.changes), key=EndpointDrift.sort_key)
    return DriftReport(drifts, sorted(work.coverage, key=Coverage.sort_key), problems,
                       _observed(baseline), _observed(current))


def _compare_service(work, name, old_routes, new_routes, old_total, new_total) -> None:
    """Endpoints gone or new (one family of tests per dependency), then each endpoint."""
    routes = sorted(r for r in old_routes.keys() | new_routes.keys() if r[0] == name)
    tests = []
    for route in routes:
        old, new = old_routes.get(route, {}), new_routes.get(route, {})
        if old and not new:
            calls = sum(p.observations for p in old.values())
            tests.append((fisher_lower(calls, old_total, 0, new_total), route))
        elif new and not old:
            calls = sum(p.observations for p in new.values())
            tests.append((fisher_higher(0, old_total, calls, new_total), route))
    evidence = {route: e for e, route in tests}
    decided = set(decide(tests, work.rules.false_alarm_level))
    for route in routes:
        old, new = old_routes.get(route, {}), new_routes.get(route, {})
        whole = EndpointDrift(*route, None, None, baseline=_side(old.values()),
                              current=_side(new.values()))
        work.drifts.append(whole)
        if old and not new:
            if route in decided:
                whole.changes.append(Change(
                    Severity.breaking, "endpoint-gone", None,
                    f"{whole.baseline.observations} calls", "not seen",
                    {"baseline": whole.baseline.observations, "current": 0,
                     "service_current": new_total, "p_value": significance(evidence[route])}))
                verdict, note = COMPARED, "endpoint gone"
            else:
                verdict = NOT_OBSERVED
                note = (f"{name} has {new_total} current observations: too few for a "
                        "verdict on this endpoint")
            for key, partial in sorted(old.items(), key=_key_order):
                work.account(route, key, partial, verdict, 0, note)
        elif new and not old:
            if route in decided:
                whole.changes.append(Change(
                    Severity.additive, "endpoint-added", None, "not seen",
                    f"{whole.current.observations} calls",
                    {"baseline": 0, "current": whole.current.observations,
                     "service_baseline": old_total, "p_value": significance(evidence[route])}))
        else:
            _compare_route(work, route, old, new)


def _key_order(item) -> tuple:
    (status, media_type), _ = item
    return (status, media_type or "")


def _statuses(partials: dict) -> dict[int, dict]:
    grouped: dict[int, dict] = defaultdict(dict)
    for (status, media_type), partial in partials.items():
        grouped[status][media_type] = partial
    return grouped


def _calls(by_status: dict[int, dict]) -> dict[int, int]:
    return {status: sum(p.observations for p in media.values())
            for status, media in sorted(by_status.items())}


def _compare_route(work: _Comparison, route, old: dict, new: dict) -> None:
    old_status, new_status = _statuses(old), _statuses(new)
    old_calls, new_calls = _calls(old_status), _calls(new_status)
    n_old, n_new = sum(old_calls.values()), sum(new_calls.values())
    if work.thin(n_old, n_new):
        note = f"thin evidence: {n_old} baseline observations, {n_new} current"
        for key, partial in sorted(old.items(), key=_key_order):
            now = new[key].observations if key in new else 0
            work.account(route, key, partial, NO_VERDICT, now, note)
        return
    tests = []
    for status in sorted(old_calls.keys() | new_calls.keys()):
        before, after = old_calls.get(status, 0), new_calls.get(status, 0)
        if before and not after and before >= work.rules.min_effect * n_old:
            tests.append((fisher_lower(before, n_old, 0, n_new), status))
        elif after and not before and after >= work.rules.min_effect * n_new:
            tests.append((fisher_higher(0, n_old, after, n_new), status))
    evidence = {status: e for e, status in tests}
    decided = set(decide(tests, work.rules.false_alarm_level))
    gone_success = sorted(s for s in decided if s in old_calls and _is_success(s))
    new_errors = sorted(s for s in decided if s in new_calls and _is_error(s))
    succeeded = any(_is_success(s) for s in old_calls)
    counts = {"baseline_statuses": {str(s): n for s, n in old_calls.items()},
              "current_statuses": {str(s): n for s, n in new_calls.items()}}
    for status in sorted(old_status.keys() | new_status.keys()):
        before, after = old_status.get(status, {}), new_status.get(status, {})
        entry = EndpointDrift(*route, status, None, baseline=_side(before.values()),
                              current=_side(after.values()))
        work.drifts.append(entry)
        if not after:
            if status in gone_success:
                now = ", ".join(f"{s} on {new_calls[s]} calls" for s in new_errors)
                entry.changes.append(Change(
                    Severity.breaking, "status-gone", None,
                    f"{status} on {old_calls[status]} calls",
                    f"not seen; now {now}" if now else "not seen",
                    {"baseline": old_calls[status], "current": 0, **counts,
                     "p_value": significance(evidence[status])}))
                verdict, note = COMPARED, "status gone"
            elif status in decided:
                verdict, note = COMPARED, "an error status no longer seen"
            else:
                verdict = NOT_OBSERVED
                note = (f"the endpoint has {n_new} current calls: too few for a verdict "
                        f"on status {status}")
            for media_type, partial in sorted(before.items()):
                work.account(route, (status, media_type), partial, verdict, 0, note)
            continue
        if not before:
            if status in decided and not (gone_success and status in new_errors):
                # An error that replaced a success is told once, on the success gone.
                if _is_client_error(status) and succeeded:
                    kind, severity = "new-client-error", Severity.breaking
                else:
                    kind, severity = "status-added", Severity.additive
                entry.changes.append(Change(
                    severity, kind, None, "not seen",
                    f"{status} on {new_calls[status]} calls",
                    {"baseline": 0, "current": new_calls[status], **counts,
                     "p_value": significance(evidence[status])}))
            continue
        _compare_media(work, route, status, entry, before, after)


def _compare_media(work, route, status, entry, before: dict, after: dict) -> None:
    old_bodies = {m for m in before if m != NO_BODY}
    new_bodies = {m for m in after if m != NO_BODY}
    if old_bodies and new_bodies and not old_bodies & new_bodies:
        n_old, n_new = entry.baseline.observations, entry.current.observations
        if work.thin(n_old, n_new):
            verdict = NO_VERDICT
            note = f"thin evidence: {n_old} baseline observations, {n_new} current"
        else:
            entry.changes.append(Change(
                Severity.breaking, "media-type-changed", None,
                ", ".join(sorted(old_bodies)), ", ".join(sorted(new_bodies)),
                {"baseline": n_old, "current": n_new}))
            verdict, note = COMPARED, "media type changed"
        for media_type, partial in sorted(before.items()):
            work.account(route, (status, media_type), partial, verdict, 0, note)
        return
    for media_type, partial in sorted(before.items()):
        if media_type in after:
            _compare_bodies(work, route, status, media_type, partial, after[media_type])
        elif media_type == NO_BODY or not new_bodies:
            # A body appeared where none was, or vanished: no media type contract to drift.
            work.account(route, (status, media_type), partial, COMPARED,
                         entry.current.observations, "no body on one side")
        else:
            work.account(route, (status, media_type), partial, NOT_OBSERVED, 0,
                         f"media type not observed in the current window (status {status} "
                         f"answered {', '.join(sorted(new_bodies))})")


def _compare_bodies(work, route, status, media_type, old, new) -> None:
    entry = EndpointDrift(*route, status, media_type, baseline=_side([old]),
                          current=_side([new]))
    work.drifts.append(entry)
    key = (status, media_type)
    if media_type == NO_BODY:
        work.account(route, key, old, COMPARED, new.observations, "no body")
        return
    sizes = [(count(old.response.node), count(new.response.node)),
             (count(old.request.node), count(new.request.node))]
    if all(a == 0 or b == 0 for a, b in sizes):
        work.account(route, key, old, COMPARED, new.observations, "no JSON bodies to compare")
        return
    if all(work.thin(a, b) for a, b in sizes if a and b):
        work.account(route, key, old, NO_VERDICT, new.observations,
                     f"thin evidence: {old.observations} baseline observations, "
                     f"{new.observations} current")
        return
    walk = BodyWalk(work.rules)
    walk.add(old.response.node, new.response.node, "response")
    walk.add(old.request.node, new.request.node, "request")
    entry.changes += walk.changes()
    work.account(route, key, old, COMPARED, new.observations)
