"""The drift module's public functions, as verify calls them: one place to meet their API.

``diff`` and ``drift`` decide what is breaking, risky or additive; verify never
re-decides it. This module only adapts what they return to verify's terms:
changes listed per route, and JSON paths in one spelling (``$.items[].sku``)
whether the drift module writes ``$.items[].sku`` or the JSON Pointer
``/items/*/sku``, and the evidence minimum below which a verdict is thin.
"""

from __future__ import annotations

from freshmock.generators.drift.shapes import compare_nodes
from freshmock.generators.drift.windows import compare_windows


def route_changes(baseline: dict, current: dict, rules) -> list:
    """``EndpointDrift`` entries about endpoints and statuses (bodies left out)."""
    report = compare_windows(baseline, current, rules)
    drifts = getattr(report, "drifts", report)
    return [d for d in drifts if d.media_type is None]


def body_changes(claim: dict, current: dict, rules) -> list:
    return compare_nodes(claim, current, rules=rules)


def canonical_path(path: str | None) -> str:
    """A change's JSON path as verify reports it: ``$``, ``$.a.b``, ``$.items[].sku``; "-" none."""
    if path is None or path == "-":  # about the endpoint or a status
        return "-"
    if path.startswith("$"):
        return path
    if path == "":
        return "$"
    out = "$"
    for token in path.split("/")[1:]:
        if token == "*":
            out += "[]"
        else:
            out += "." + token.replace("~2", "*").replace("~1", "/").replace("~0", "~")
    return out


def thin_below(rules) -> int:
    """Observations of an endpoint below which the drift rules reach no verdict on a field."""
    for name in ("current_min_objects", "min_side_observations"):
        if hasattr(rules, name):
            return getattr(rules, name)
    return 1
