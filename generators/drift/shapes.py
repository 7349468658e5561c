"""Shape drift between a baseline and a current set of statistics.

``BodyWalk`` walks pairs of statistics nodes (``freshmock.generators.model.schema.stats``)
and reports each change with its field path, classified for a consumer of
these values: breaking, risky or additive. Only shape is compared — types,
presence, formats, enum-like value sets — never the values themselves, so
timestamps and ids churning is not drift.

Every "gone" or "new" is a one-sided Fisher exact test on the counts the
statistics keep, and the tests of one endpoint's bodies form one family
(``drift_evidence.decide``, levels in ``drift_rules``): thin evidence says
nothing, and a field at 95-99% presence stays quiet night after night.

Field paths are JSON Pointers (RFC 6901) into the body: ``""`` is the body
itself, ``/customer/email`` a property (``~`` is written ``~0`` and ``/`` is
``~1``, so keys with dots, brackets or slashes stay unambiguous), ``*`` stands
for every item of an array or every value of a map, and a key that is
itself ``*`` is written ``~2``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from freshmock.generators.drift.evidence import Evidence, decide, fisher_higher, fisher_lower
from freshmock.generators.drift.rules import DriftThresholds
from freshmock.generators.model.schema.formats import is_pattern_like
from freshmock.generators.model.schema.publish import is_id_key
from freshmock.generators.model.schema.stats import count, distinct_values, merge


class Severity(str, Enum):
    breaking = "breaking"
    risky = "risky"
    additive = "additive"


SEVERITY_ORDER = {Severity.breaking: 0, Severity.risky: 1, Severity.additive: 2}
ANY_MEMBER = "*"


@dataclass(frozen=True)
class Change:
    severity: Severity
    kind: str  # e.g. "property-removed", "type-changed"
    path: str | None  # JSON Pointer in the body; None: about the endpoint or a status
    old: str  # what the baseline said, in words
    new: str
    evidence: dict = field(default_factory=dict, compare=False)
    part: str = "response"  # whose body the path is in: "response" or "request"

    def sort_key(self) -> tuple:
        return (SEVERITY_ORDER[self.severity], self.part, self.path or "", self.kind)


def pointer(parent: str, key: str) -> str:
    """``parent`` extended by one object key, escaped so the pointer stays unambiguous."""
    token = key.replace("~", "~0").replace("/", "~1")
    return f"{parent}/{'~2' if token == ANY_MEMBER else token}"


def describe_types(node: dict) -> str:
    return "|".join(sorted(node)) if node else "nothing"


def significance(evidence: Evidence) -> float:
    """A p-value rounded for reports (3 significant digits: stable text, golden files)."""
    return float(f"{evidence.p:.3g}")


@dataclass
class _Position:
    """One place in a body with both sides' statistics, and its significant type moves."""

    path: str
    part: str
    in_array: bool
    base: dict
    current: dict
    added: set = field(default_factory=set)
    removed: set = field(default_factory=set)
    p: float = 1.0


@dataclass(eq=False)
class _TypeMove:
    position: _Position
    kind: str
    appeared: bool


class BodyWalk:
    """The tests of one family (an endpoint's request and response bodies), then the verdict."""

    def __init__(self, rules: DriftThresholds | None = None) -> None:
        self.rules = rules or DriftThresholds()
        self.tests: list[tuple[Evidence, object]] = []
        self.positions: list[_Position] = []

    def add(self, base: dict, current: dict, part: str = "response", path: str = "",
            in_array: bool = False) -> None:
        self._compare(base, current, path, part, in_array)

    def changes(self) -> list[Change]:
        found: list[Change] = []
        for item in decide(self.tests, self.rules.false_alarm_level):
            if isinstance(item, Change):
                found.append(item)
            else:
                target = item.position.added if item.appeared else item.position.removed
                target.add(item.kind)
        for position in self.positions:
            change = _type_change(position)
            if change is not None:
                found.append(change)
        return sorted(found, key=Change.sort_key)

    def _test(self, evidence: Evidence, item) -> None:
        self.tests.append((evidence, item))

    def _compare(self, base, current, path, part, in_array) -> None:
        if not base or not current:
            return
        nb, nc = count(base), count(current)
        position = _Position(path, part, in_array, base, current)
        self.positions.append(position)
        floor = self.rules.min_effect
        for kind in sorted(base.keys() | current.keys()):
            kb = base[kind]["n"] if kind in base else 0
            kc = current[kind]["n"] if kind in current else 0
            if kb and not kc and kb >= floor * nb:
                evidence = fisher_lower(kb, nb, 0, nc)
                self._test(evidence, _TypeMove(position, kind, False))
                position.p = min(position.p, evidence.p)
            elif kc and not kb and kc >= floor * nc:
                evidence = fisher_higher(0, nb, kc, nc)
                self._test(evidence, _TypeMove(position, kind, True))
                position.p = min(position.p, evidence.p)
        if "string" in base and "string" in current:
            self._compare_strings(base["string"], current["string"], path, part)
        if "array" in base and "array" in current:
            self._compare(base["array"]["items"], current["array"]["items"],
                          f"{path}/{ANY_MEMBER}", part, True)
        if "object" in base and "object" in current:
            self._compare_objects(base["object"], current["object"], path, part)

    def _compare_strings(self, old: dict, new: dict, path, part) -> None:
        rules = self.rules
        old_formats, new_formats = set(old.get("formats") or ()), set(new.get("formats") or ())
        old_evidence = max(0, distinct_values(old) - old.get("empty", 0))
        new_evidence = max(0, distinct_values(new) - new.get("empty", 0))
        if (old_evidence >= rules.format_min_values and old_formats and new_evidence
                and not old_formats & new_formats):
            self.tests.append((Evidence(0.0, 0.0), Change(
                Severity.risky, "format-dropped" if not new_formats else "format-changed", path,
                "/".join(sorted(old_formats)), "/".join(sorted(new_formats)) or "no format",
                {"baseline": old_evidence, "current": new_evidence}, part)))
        old_values, new_values = old.get("values"), new.get("values")
        if old_values is None or new_values is None or old_formats:
            return
        before = sum(old_values.values())
        if not (before >= rules.enum_min_values
                and rules.enum_min_distinct <= len(old_values) <= rules.enum_max_distinct
                and not is_pattern_like(old_values)):
            return
        fresh = sorted(set(new_values) - set(old_values))
        if not fresh:
            return
        hits, after = sum(new_values[v] for v in fresh), sum(new_values.values())
        evidence = fisher_higher(0, before, hits, after)
        self._test(evidence, Change(
            Severity.risky, "enum-value-added", path, ", ".join(sorted(old_values)),
            ", ".join(fresh), {"baseline": before, "current": after, "current_new": hits,
                               "p_value": significance(evidence)}, part))

    def _compare_objects(self, old: dict, new: dict, path, part) -> None:
        old_props, new_props = _properties(old), _properties(new)
        if old_props is None or new_props is None:
            self._compare(_additional(old), _additional(new), f"{path}/{ANY_MEMBER}", part,
                          False)
            return
        old_n, new_n = old["n"], new["n"]
        floor, rules = self.rules.min_effect, self.rules
        for name in sorted(old_props.keys() | new_props.keys()):
            child = pointer(path, name)
            before = count(old_props[name]) if name in old_props else 0
            after = count(new_props[name]) if name in new_props else 0
            facts = {"baseline_present": before, "baseline_objects": old_n,
                     "current_present": after, "current_objects": new_n}
            if not before:
                if after >= floor * new_n:
                    evidence = fisher_higher(0, old_n, after, new_n)
                    self._test(evidence, Change(
                        Severity.additive, "property-added", child, "absent",
                        describe_types(new_props[name]),
                        {**facts, "p_value": significance(evidence)}, part))
                continue
            if not after:
                if before >= floor * old_n:
                    evidence = fisher_lower(before, old_n, 0, new_n)
                    always = before >= rules.nearly_always * old_n
                    self._test(evidence, Change(
                        Severity.breaking if always else Severity.risky,
                        "property-removed" if always else "optional-property-removed", child,
                        describe_types(old_props[name]), "absent",
                        {**facts, "p_value": significance(evidence)}, part))
                continue
            if before == old_n and (new_n - after) >= floor * new_n:
                evidence = fisher_lower(before, old_n, after, new_n)
                self._test(evidence, Change(
                    Severity.breaking, "became-optional", child, "always present",
                    f"missing from {new_n - after} of {new_n}",
                    {**facts, "p_value": significance(evidence)}, part))
            self._compare(old_props[name], new_props[name], child, part, False)


def _type_change(position: _Position) -> Change | None:
    added, removed = position.added, position.removed
    if not added and not removed:
        return None
    base, current = position.base, position.current
    old, new = describe_types(base), describe_types(current)
    evidence = {"baseline": count(base), "current": count(current),
                "baseline_types": {k: v["n"] for k, v in sorted(base.items())},
                "current_types": {k: v["n"] for k, v in sorted(current.items())},
                "p_value": float(f"{position.p:.3g}")}
    path, part = position.path, position.part

    def change(severity, kind):
        return Change(severity, kind, path, old, new, evidence, part)

    widened = (bool(removed) and removed <= {"integer"} and "number" in added
               and not added - {"number", "null"})
    if position.in_array:  # an array's items: widening is a risk for consumers, not a break
        if removed and added and not widened:
            return change(Severity.breaking, "type-changed")
        if added:
            return change(Severity.risky, "items-type-widened")
        return change(Severity.risky, "items-type-narrowed")
    if added == {"null"} and not removed:
        return change(Severity.breaking, "became-nullable")
    if widened or (added and not removed):
        return change(Severity.breaking, "type-widened")
    if added:
        return change(Severity.breaking, "type-changed")
    # Narrowing: a type (or null) stopped appearing. A consumer that handled
    # it is not broken when it stops coming; it may rely on it, so: risky.
    return change(Severity.risky, "type-narrowed")


def _properties(stats: dict) -> dict | None:
    """Named properties, or None for a map (ids as keys, or folded)."""
    properties = stats.get("properties")
    if properties is None or (properties and all(map(is_id_key, properties))):
        return None
    return properties


def _additional(stats: dict) -> dict:
    if "additional" in stats:
        return stats["additional"]
    return merge(*stats["properties"].values()) if stats["properties"] else {}


def compare_nodes(
    base: dict, current: dict, path: str = "", rules: DriftThresholds | None = None,
    in_array: bool = False, part: str = "response",
) -> list[Change]:
    """The changes between two statistics nodes, as one family of tests."""
    walk = BodyWalk(rules)
    walk.add(base, current, part, path, in_array)
    return walk.changes()
