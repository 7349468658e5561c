"""Per mocked interaction: stale, incomplete, unverifiable — by the drift rules of ``diff``.

The mocks are the baseline and today's window the current side of the same
comparison ``freshmock diff`` makes: ``diff.compare_windows`` decides what
happened to endpoints and statuses (gone, media type changed, a new client
error, a status added), ``drift.compare_nodes`` what happened to each body's
fields. Breaking is **stale** (the mock shows something the dependency no
longer does), risky and additive are **incomplete** (the dependency does
something the mock never shows). Nothing is decided on thin evidence: an
interaction whose endpoint was never observed, whose status never was, or
whose evidence is below the drift rules' current-side minimum is
**unverifiable**, with the reason, never counted as fine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from freshmock.generators.drift.rules import DriftThresholds
from freshmock.generators.drift.shapes import Severity
from freshmock.generators.drift.stub_baseline import StubbedEndpoint
from freshmock.generators.model.json_bodies import is_json_media_type
from freshmock.generators.model.schema.formats import is_pattern_like
from freshmock.generators.model.schema.stats import distinct_values
from freshmock.generators.workflows.check import parse_timestamp
from freshmock.generators.workflows.verify.claims import CLAIM_WEIGHT, fit_to
from freshmock.generators.workflows.verify.drift_calls import (
    body_changes,
    canonical_path,
    route_changes,
    thin_below,
)
from freshmock.generators.workflows.verify.interaction import MockInteraction
from freshmock.generators.workflows.verify.matching import Match, Matcher, fields, route_of
from freshmock.generators.workflows.verify.pact_reader import node_at
from freshmock.generators.workflows.verify.values import observed_values

STALE, INCOMPLETE, UNVERIFIABLE, FRESH = "stale", "incomplete", "unverifiable", "fresh"
CLASS_ORDER = {STALE: 0, INCOMPLETE: 1, UNVERIFIABLE: 2}
_CLASS_OF = {Severity.breaking: STALE, Severity.risky: INCOMPLETE, Severity.additive: INCOMPLETE}


@dataclass(frozen=True)
class Finding:
    verdict: str  # stale | incomplete | unverifiable
    kind: str  # a drift kind (property-removed...) or a verify one (never-observed...)
    path: str  # JSON path, "-" for the exchange as a whole
    mock: str  # what the mock says, in words
    today: str  # what the dependency does, in words
    severity: str = ""  # the drift severity behind it, "" for verify's own kinds
    evidence: dict = field(default_factory=dict, compare=False)


@dataclass
class Verdict:
    mock: MockInteraction
    endpoint: dict | None = None  # the observed endpoint's key fields
    findings: list[Finding] = field(default_factory=list)
    observations: int = 0  # today's evidence behind the verdict
    scope: str = "endpoint"  # whose observations: the endpoint's, or its service's
    last_seen: str | None = None
    age: timedelta | None = None
    key: tuple | None = None  # the observed endpoint's key, when one matched
    partial: object = None  # its statistics in the window (exemplar for --fix)

    @property
    def verdict(self) -> str:
        if not self.findings:
            return FRESH
        return min((f.verdict for f in self.findings), key=CLASS_ORDER.__getitem__)

    @property
    def verified(self) -> bool:
        """A verdict was reached on evidence (stale, incomplete or fresh)."""
        return self.verdict != UNVERIFIABLE


def _finding(change, **extra) -> Finding:
    evidence = {k: v for k, v in change.evidence.items() if not k.startswith("baseline")}
    mock = "answers" if change.kind in ("endpoint-gone", "status-gone") else change.old
    return Finding(_CLASS_OF[change.severity], change.kind, canonical_path(change.path), mock,
                   change.new,
                   change.severity.value, dict(evidence, **extra))


def verify(db, mocks: list[MockInteraction], current: dict, history: dict, *,
           now: datetime, service: str | None = None, max_age: timedelta | None = None,
           since: str | None = None, rules: DriftThresholds | None = None) -> list[Verdict]:
    rules = rules or DriftThresholds()
    matcher = Matcher(db, current, history, service)
    matches = [matcher.match(m) for m in mocks]
    verdicts = [Verdict(m) for m in mocks]
    _route_changes(verdicts, matches, current, history, rules)
    for verdict, found in zip(verdicts, matches, strict=True):
        _evidence(verdict, found, current, now)
        if max_age is not None and verdict.age is not None and verdict.age > max_age:
            verdict.findings = [Finding(
                UNVERIFIABLE, "evidence-too-old", "-", verdict.mock.describe(),
                f"newest evidence {verdict.last_seen}, older than --max-age",
                evidence={"last_seen": verdict.last_seen})]
            continue
        if found.route is None or found.baseline_key is None:
            verdict.findings.append(Finding(UNVERIFIABLE, found.reason_kind, "-",
                                            verdict.mock.describe(),
                                            found.reason or "not observed"))
            continue
        if found.key is None:
            if found.other_media_types and not any(
                    f.kind == "media-type-changed" for f in verdict.findings):
                # one of several mocks of a status: diff's media-type-changed, per mock
                verdict.findings.append(Finding(
                    STALE, "media-type-changed", "-", verdict.mock.media_type or "none",
                    ", ".join(found.other_media_types), Severity.breaking.value))
            elif not any(f.verdict == STALE for f in verdict.findings):
                today = ("endpoint observed before the window only, too little traffic in it "
                         "to call it gone" if found.seen_before
                         else "this status and media type never observed in the window")
                verdict.findings.append(Finding(
                    UNVERIFIABLE, "status-not-observed", "-", verdict.mock.describe(), today))
            continue
        _body_changes(db, verdict, current[found.key], found.key, rules, since)
        if verdict.observations < thin_below(rules):
            verdict.findings.append(Finding(
                UNVERIFIABLE, "thin-evidence", "-", verdict.mock.describe(),
                f"{verdict.observations} observations in the window; the drift rules "
                f"decide from {thin_below(rules)}",
                evidence={"current": verdict.observations}))
    for verdict in verdicts:
        verdict.findings.sort(key=lambda f: (CLASS_ORDER[f.verdict], f.path, f.kind))
    return verdicts


def _evidence(verdict: Verdict, found: Match, current: dict, now: datetime) -> None:
    if found.key is not None:
        partial = current[found.key]
        verdict.key, verdict.partial = found.key, partial
        verdict.endpoint = fields(found.key)
        verdict.observations = partial.observations
        verdict.last_seen = partial.last_seen
    else:
        # no observation of the endpoint itself: the verdict rests on its service's traffic
        if found.route is not None and found.baseline_key is not None:
            verdict.endpoint = fields(found.baseline_key)
        service = verdict.endpoint["service"] if verdict.endpoint else None
        seen = [p for k, p in current.items() if service in (None, fields(k)["service"])]
        if seen:
            verdict.scope = "service"
            verdict.observations = sum(p.observations for p in seen)
            verdict.last_seen = max(p.last_seen for p in seen)
    if verdict.last_seen:
        verdict.age = now - parse_timestamp(verdict.last_seen)


def _route_changes(verdicts, matches, current: dict, history: dict, rules) -> None:
    """Endpoint and status changes: one ``compare_windows`` over every claimed key.

    One judgement is the store's, not the mocks': a client error the mocks never
    show is a *new* one (breaking, stale) only when the store saw the route before
    the window without it. A 404 the dependency always sent, or one on a route
    first recorded in the window, is a status the mocks never show: incomplete.
    """
    baseline: dict[tuple, StubbedEndpoint] = {}
    for found in matches:
        if found.baseline_key is not None:
            baseline[found.baseline_key] = StubbedEndpoint(CLAIM_WEIGHT, "", "")
    if not baseline:
        return
    by_route: dict[tuple, list[Verdict]] = {}
    routes: dict[tuple, tuple] = {}
    for verdict, found in zip(verdicts, matches, strict=True):
        if found.baseline_key is not None:
            by_route.setdefault(_drift_route(found.baseline_key), []).append(verdict)
            routes[_drift_route(found.baseline_key)] = found.route
    # bodies are compared per mock below, each against its own claim
    for drift in route_changes(baseline, current, rules):
        owners = by_route.get((drift.service, drift.method, drift.path_template))
        if not owners:
            continue  # an endpoint no mock stands for: not the mocks' business
        at_status = [v for v in owners if v.mock.status == drift.status]
        if drift.status is not None and not at_status:
            # a status no mock shows: said once per file, at its first interaction
            firsts: dict = {}
            for v in sorted(owners, key=lambda v: (str(v.mock.source), v.mock.line)):
                firsts.setdefault(v.mock.source, v)
            at_status = list(firsts.values())
        route = routes[(drift.service, drift.method, drift.path_template)]
        for change in drift.changes:
            if change.kind == "status-gone" and not _seen_before(
                    history, current, route, drift.status):
                # The mocks' status was never recorded on this route: that it is not seen
                # today is no news (status-not-observed follows, per mock). diff told the
                # errors answering instead once, here; each is judged on its own.
                _unfold_errors(change, history, current, route, owners)
                continue
            finding = _finding(change, status=drift.status)
            if change.kind == "new-client-error" and not _new_since_history(
                    history, current, route, drift.status):
                finding = Finding(INCOMPLETE, "status-added", finding.path, "not shown",
                                  finding.today, "", finding.evidence)
            for verdict in (owners if drift.status is None else at_status):
                verdict.findings.append(finding)


def _before_window(history: dict, current: dict, route: tuple, wanted) -> int:
    """Observations of ``route`` the store holds from before the window, of keys ``wanted``."""
    return sum(p.observations - (current[k].observations if k in current else 0)
               for k, p in history.items() if route_of(k) == route and wanted(k))


def _seen_before(history: dict, current: dict, route: tuple, status: int) -> bool:
    return _before_window(history, current, route,
                          lambda k: fields(k)["status"] == status) > 0


def _new_since_history(history: dict, current: dict, route: tuple, status: int) -> bool:
    """Whether the store saw ``route`` before the window, and never with ``status`` there."""
    seen_before = _before_window(history, current, route, lambda k: True)
    return seen_before > 0 and not _seen_before(history, current, route, status)


def _unfold_errors(change, history: dict, current: dict, route: tuple, owners) -> None:
    """The error statuses a ``status-gone`` names, each as ``_route_changes`` tells them."""
    before = change.evidence.get("baseline_statuses", {})
    now = change.evidence.get("current_statuses", {})
    errors = [int(s) for s in now if int(s) >= 400 and s not in before]
    firsts: dict = {}  # statuses no mock shows: said once per file, at its first interaction
    for v in sorted(owners, key=lambda v: (str(v.mock.source), v.mock.line)):
        firsts.setdefault(v.mock.source, v)
    for status in errors:
        evidence = {"current": now[str(status)], "status": status}
        today = f"{status} on {now[str(status)]} calls"
        if 400 <= status < 500 and _new_since_history(history, current, route, status):
            finding = Finding(STALE, "new-client-error", "-", "not seen", today,
                              Severity.breaking.value, evidence)
        else:
            finding = Finding(INCOMPLETE, "status-added", "-", "not shown", today, "", evidence)
        for verdict in [v for v in owners if v.mock.status == status] or firsts.values():
            verdict.findings.append(finding)


def _drift_route(key: tuple) -> tuple:
    """How ``compare_windows`` names a key's route: an RPC operation after its template."""
    f = fields(key)
    operation = f.get("operation") or ""
    template = f"{f['path_template']} [{operation}]" if operation else f["path_template"]
    return (f["service"], f["method"], template)


def _body_changes(db, verdict: Verdict, partial, key: tuple, rules, since) -> None:
    mock = verdict.mock
    current = partial.response.node
    if mock.media_type and not is_json_media_type(mock.media_type):
        return  # a text/csv example is text, not a JSON string: status and media type only
    if mock.claim is None or not current:
        if mock.claim is not None and not current:
            verdict.findings.append(Finding(
                UNVERIFIABLE, "body-not-kept", "$", "a JSON body",
                "no JSON body kept for this endpoint"))
        return
    claim = fit_to(mock.claim, current) if mock.permissive else mock.claim
    for change in body_changes(claim, current, rules):
        verdict.findings.append(_finding(change))
    for rule in mock.value_rules:
        finding = _check_value_rule(db, rule, current, key, rules, since)
        if finding is not None:
            verdict.findings.append(finding)


def _check_value_rule(db, rule, current: dict, key, rules, since) -> Finding | None:
    node = node_at(current, rule.path)
    if not node:
        return None  # the field itself is gone: compare_nodes said so
    if rule.kind == "equality":
        stats = node.get("string")
        values = stats and stats.get("values")
        if not isinstance(rule.expected, str) or values is None or rule.expected in values:
            return None
        # the drift rules' enum test (drift.BodyWalk): distinct-body values, a small set
        # that is not pattern-like and has no format; only then is a value "never sent"
        small_set = (rules.enum_min_distinct <= len(values) <= rules.enum_max_distinct
                     and not stats.get("formats") and not is_pattern_like(values))
        if not small_set:
            return None  # free text, ids, timestamps: traffic cannot check an equality
        seen = distinct_values(stats)
        if seen < rules.enum_min_values:
            return Finding(UNVERIFIABLE, "thin-evidence", rule.path, repr(rule.expected),
                           f"not among {seen} values ({', '.join(sorted(values))}); the "
                           f"drift rules decide a value set from {rules.enum_min_values}",
                           evidence={"current": seen})
        return Finding(STALE, "value-not-observed", rule.path, repr(rule.expected),
                       ", ".join(sorted(values)), evidence={"current": seen})
    if rule.kind in ("regex", "include"):
        if "string" not in node:
            return None
        values = observed_values(db, key, rule.path, since)
        if rule.kind == "regex":
            pattern = re.compile(rule.expected)
            bad = [v for v in values if isinstance(v, str) and not pattern.fullmatch(v)]
            wanted = f"matches /{rule.expected}/"
        else:
            bad = [v for v in values if isinstance(v, str) and rule.expected not in v]
            wanted = f"includes {rule.expected!r}"
        if bad:
            return Finding(STALE, f"{rule.kind}-mismatch", rule.path, wanted,
                           f"{len(bad)} of {len(values)} kept values do not, e.g. {bad[0]!r}",
                           evidence={"checked": len(values), "failed": len(bad)})
        return None
    if rule.kind in ("min", "max") and "array" in node:
        lengths = [len(v) for v in observed_values(db, key, rule.path, since)
                   if isinstance(v, list)]
        bad = [n for n in lengths if (n < rule.expected if rule.kind == "min"
                                      else n > rule.expected)]
        if bad:
            return Finding(STALE, f"array-{rule.kind}-length", rule.path,
                           f"{rule.kind} {rule.expected} items",
                           f"{len(bad)} of {len(lengths)} kept arrays have {bad[0]}",
                           evidence={"checked": len(lengths), "failed": len(bad)})
    return None
