"""Drift between two windows of a store: per endpoint, per status, per media type.

``compare_windows`` takes what ``infer.merge_window`` returns for a baseline
and a current window and lists, per endpoint, every change: the shape changes
of request and response bodies (``drift.compare_nodes``) and the changes only
visible across endpoints — an endpoint or a success status no longer seen, a
media type changed, a new client error where requests used to succeed, a new
status or endpoint.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from freshmock.generators.drift import SEVERITY_ORDER, Change, Severity, compare_nodes
from freshmock.generators.drift_rules import DriftThresholds


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


def _side(partials) -> Side | None:
    partials = [p for p in partials if p is not None]
    if not partials:
        return None
    return Side(sum(p.observations for p in partials), max(p.last_seen for p in partials))


def _by_route(window: dict) -> dict[tuple, dict[tuple, object]]:
    routes: dict[tuple, dict[tuple, object]] = defaultdict(dict)
    for (service, method, template, operation, status, media_type), partial in window.items():
        # an RPC operation is its own route; reports name it after the template
        route_name = f"{template} [{operation}]" if operation else template
        routes[(service, method, route_name)][(status, media_type)] = partial
    return routes


def _is_success(status: int) -> bool:
    return 200 <= status < 300


def _is_client_error(status: int) -> bool:
    return 400 <= status < 500


def compare_windows(
    baseline: dict, current: dict, rules: DriftThresholds | None = None,
    service: str | None = None,
) -> list[EndpointDrift]:
    rules = rules or DriftThresholds()
    old_routes, new_routes = _by_route(baseline), _by_route(current)
    service_traffic: dict[str, int] = defaultdict(int)
    for (svc, *_), partial in current.items():
        service_traffic[svc] += partial.observations
    drifts: list[EndpointDrift] = []
    for route in sorted(old_routes.keys() | new_routes.keys()):
        if service is not None and route[0] != service:
            continue
        drifts += _compare_route(route, old_routes.get(route, {}), new_routes.get(route, {}),
                                 service_traffic[route[0]], rules)
    return sorted((d for d in drifts if d.changes), key=EndpointDrift.sort_key)


def _compare_route(route, old: dict, new: dict, service_traffic: int, rules) -> list[EndpointDrift]:
    service, method, template = route
    whole = EndpointDrift(service, method, template, None, None,
                          baseline=_side(old.values()), current=_side(new.values()))
    if not new:
        if (whole.baseline.observations >= rules.endpoint_min_observations
                and service_traffic >= rules.current_min_service_observations):
            whole.changes.append(Change(
                Severity.breaking, "endpoint-gone", "-", f"{whole.baseline.observations} calls",
                "not seen", {"baseline": whole.baseline.observations, "current": 0}))
        return [whole]
    if not old:
        whole.changes.append(Change(Severity.additive, "endpoint-added", "-", "not seen",
                                    f"{whole.current.observations} calls",
                                    {"baseline": 0, "current": whole.current.observations}))
        return [whole]

    drifts = [whole]
    old_status = _group_by_status(old)
    new_status = _group_by_status(new)
    route_succeeded = any(_is_success(s) for s in old_status)
    for status in sorted(old_status.keys() | new_status.keys()):
        before, after = old_status.get(status, {}), new_status.get(status, {})
        entry = EndpointDrift(service, method, template, status, None,
                              baseline=_side(before.values()), current=_side(after.values()))
        drifts.append(entry)
        if not after:
            if (_is_success(status) and entry.baseline.observations
                    >= rules.endpoint_min_observations
                    and whole.current.observations >= rules.current_min_objects):
                entry.changes.append(Change(
                    Severity.breaking, "status-gone", "-", f"{status} seen", "not seen",
                    {"baseline": entry.baseline.observations, "current": 0}))
            continue
        if not before:
            if _is_client_error(status) and route_succeeded:
                entry.changes.append(Change(
                    Severity.breaking, "new-client-error", "-", "not seen",
                    f"{status} on {entry.current.observations} calls",
                    {"baseline": 0, "current": entry.current.observations}))
            else:
                entry.changes.append(Change(
                    Severity.additive, "status-added", "-", "not seen", f"{status} seen",
                    {"baseline": 0, "current": entry.current.observations}))
            continue
        if not (before.keys() & after.keys()):
            entry.changes.append(Change(
                Severity.breaking, "media-type-changed", "-",
                ", ".join(sorted(m or "none" for m in before)),
                ", ".join(sorted(m or "none" for m in after)),
                {"baseline": entry.baseline.observations, "current": entry.current.observations}))
            continue
        for media_type in sorted(before.keys() & after.keys(), key=lambda m: m or ""):
            drifts.append(_compare_bodies(route, status, media_type, before[media_type],
                                          after[media_type], rules))
    return drifts


def _group_by_status(partials: dict) -> dict[int, dict]:
    grouped: dict[int, dict] = defaultdict(dict)
    for (status, media_type), partial in partials.items():
        grouped[status][media_type] = partial
    return grouped


def _compare_bodies(route, status, media_type, old, new, rules) -> EndpointDrift:
    service, method, template = route
    entry = EndpointDrift(service, method, template, status, media_type,
                          baseline=_side([old]), current=_side([new]))
    entry.changes += compare_nodes(old.response.node, new.response.node, "$", rules)
    entry.changes += compare_nodes(old.request.node, new.request.node, "request $", rules)
    return entry
