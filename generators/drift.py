"""Shape drift between a baseline and a current set of statistics.

``compare_nodes`` walks two statistics nodes (``freshmock.generators.schema.stats``)
and reports each change with its JSON path, classified for a consumer of
these values: breaking, risky or additive. Only shape is compared — types,
presence, formats, enum-like value sets — never the values themselves, so
timestamps and ids churning is not drift. Every verdict needs the evidence in
``DriftThresholds``: thin evidence says nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from freshmock.generators.drift_rules import DriftThresholds
from freshmock.generators.schema.publish import is_id_key
from freshmock.generators.schema.stats import count, merge


class Severity(str, Enum):
    breaking = "breaking"
    risky = "risky"
    additive = "additive"


SEVERITY_ORDER = {Severity.breaking: 0, Severity.risky: 1, Severity.additive: 2}


@dataclass(frozen=True)
class Change:
    severity: Severity
    kind: str  # e.g. "property-removed", "type-changed"
    path: str  # JSON path of the field, "$" for the body itself
    old: str  # what the baseline said, in words
    new: str
    evidence: dict = field(default_factory=dict, compare=False)

    def sort_key(self) -> tuple:
        return (SEVERITY_ORDER[self.severity], self.path, self.kind)


def describe_types(node: dict, minimum: int = 1) -> str:
    kinds = sorted(kind for kind, stats in node.items() if stats["n"] >= minimum)
    return "|".join(kinds) if kinds else "nothing"


def _types(node: dict, minimum: int) -> set[str]:
    return {kind for kind, stats in node.items() if stats["n"] >= minimum}


def compare_nodes(
    base: dict, current: dict, path: str = "$", rules: DriftThresholds | None = None,
    in_array: bool = False,
) -> list[Change]:
    rules = rules or DriftThresholds()
    changes: list[Change] = []
    _compare(base, current, path, rules, in_array, changes)
    return sorted(changes, key=Change.sort_key)


def _compare(base, current, path, rules, in_array, changes) -> None:
    if not base or not current:
        return
    minimum = rules.type_min_values
    if count(current) < minimum:
        return
    old_types, new_types = _types(base, minimum), _types(current, minimum)
    if not old_types:
        return
    evidence = {"baseline": count(base), "current": count(current)}
    _compare_types(old_types, new_types, base, current, path, in_array, changes, evidence)
    if "string" in base and "string" in current:
        _compare_strings(base["string"], current["string"], path, rules, changes)
    if "array" in base and "array" in current:
        _compare(base["array"]["items"], current["array"]["items"], f"{path}[]", rules, True,
                 changes)
    if "object" in base and "object" in current:
        _compare_objects(base["object"], current["object"], path, rules, changes)


def _compare_types(old_types, new_types, base, current, path, in_array, changes, evidence):
    added, removed = new_types - old_types, old_types - new_types
    if not added and not removed:
        return
    old, new = "|".join(sorted(old_types)), "|".join(sorted(new_types))
    if added == {"null"} and not removed:
        changes.append(Change(Severity.breaking, "became-nullable", path, old, new, evidence))
        return
    widened = removed <= {"integer"} and "number" in added and not (added - {"number", "null"})
    if in_array:
        if added:  # items of an array: widening is a risk for consumers, not a break
            changes.append(Change(Severity.risky, "items-type-widened", path, old, new, evidence))
        if removed and not widened:
            changes.append(Change(Severity.breaking, "type-changed", path, old, new, evidence))
        return
    kind = "type-widened" if widened or not removed else "type-changed"
    changes.append(Change(Severity.breaking, kind, path, old, new, evidence))


def _compare_strings(old: dict, new: dict, path, rules, changes) -> None:
    non_empty_old = old["n"] - old.get("empty", 0)
    old_formats, new_formats = set(old.get("formats") or ()), set(new.get("formats") or ())
    if non_empty_old >= rules.format_min_values and old_formats and not old_formats & new_formats:
        changes.append(Change(
            Severity.risky, "format-dropped" if not new_formats else "format-changed", path,
            "/".join(sorted(old_formats)), "/".join(sorted(new_formats)) or "no format",
            {"baseline": non_empty_old, "current": new["n"] - new.get("empty", 0)},
        ))
    old_values, new_values = old.get("values"), new.get("values")
    enum_like = (
        old_values is not None
        and old["n"] >= rules.enum_min_values
        and len(old_values) <= rules.enum_max_distinct
    )
    if enum_like and new_values is not None:
        fresh = sorted(set(new_values) - set(old_values))
        if fresh:
            changes.append(Change(
                Severity.risky, "enum-value-added", path,
                ", ".join(sorted(old_values)), ", ".join(fresh),
                {"baseline": old["n"], "current": new["n"]},
            ))


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


def _compare_objects(old: dict, new: dict, path, rules, changes) -> None:
    old_props, new_props = _properties(old), _properties(new)
    if old_props is None or new_props is None:
        _compare(_additional(old), _additional(new), f"{path}.*", rules, False, changes)
        return
    old_n, new_n = old["n"], new["n"]
    for name in sorted(old_props.keys() | new_props.keys()):
        child_path = f"{path}.{name}"
        before = count(old_props[name]) if name in old_props else 0
        after = count(new_props[name]) if name in new_props else 0
        evidence = {"baseline_present": before, "baseline_objects": old_n,
                    "current_present": after, "current_objects": new_n}
        if name not in old_props:
            changes.append(Change(Severity.additive, "property-added", child_path, "absent",
                                  describe_types(new_props[name]), evidence))
            continue
        trusted_baseline = (old_n >= rules.baseline_min_objects
                            and before >= rules.nearly_always * old_n)
        enough_current = new_n >= rules.current_min_objects
        if after == 0:
            if trusted_baseline and enough_current:
                changes.append(Change(Severity.breaking, "property-removed", child_path,
                                      describe_types(old_props[name]), "absent", evidence))
            continue
        misses = new_n - after
        if (
            before == old_n and old_n >= rules.baseline_min_objects
            and misses >= rules.optional_min_misses
            and misses >= rules.optional_min_miss_share * new_n
        ):
            changes.append(Change(Severity.breaking, "became-optional", child_path,
                                  "always present", f"missing from {misses} of {new_n}",
                                  evidence))
        _compare(old_props[name], new_props[name], child_path, rules, False, changes)
