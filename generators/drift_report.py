"""Drift reports: text for people, JSON for tools, Markdown for a pull request body.

The JSON layout is documented in docs/drift-json.md; change both together.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from freshmock.generators.diff import EndpointDrift
from freshmock.generators.drift import SEVERITY_ORDER, Severity

JSON_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Windows:
    baseline: tuple[str, str]  # first and last day, inclusive
    current: tuple[str, str]


def counts(drifts: list[EndpointDrift]) -> Counter:
    return Counter(change.severity.value for d in drifts for change in d.changes)


def exceeds(drifts: list[EndpointDrift], fail_on: str) -> bool:
    """Whether any change is at or above ``fail_on`` (breaking|risky|any|never)."""
    if fail_on == "never":
        return False
    limit = {"breaking": 0, "risky": 1, "any": 2}[fail_on]
    return any(SEVERITY_ORDER[c.severity] <= limit for d in drifts for c in d.changes)


def _endpoint(d: EndpointDrift) -> str:
    text = f"{d.method} {d.path_template}"
    if d.status is not None:
        text += f" → {d.status}"
    if d.media_type:
        text += f" {d.media_type}"
    return text


def _evidence(d: EndpointDrift) -> str:
    def side(name, s):
        return f"{name} {s.observations} obs, last seen {s.last_seen}" if s else f"{name} none"
    return f"{side('baseline', d.baseline)}; {side('current', d.current)}"


def _ordered(drifts):
    """Breaking first, then risky, then additive; stable within a class."""
    return sorted(drifts, key=lambda d: (SEVERITY_ORDER[d.worst], d.sort_key()))


def render_text(drifts: list[EndpointDrift], windows: Windows) -> str:
    tally = counts(drifts)
    lines = [
        f"drift: baseline {windows.baseline[0]} .. {windows.baseline[1]}, "
        f"current {windows.current[0]} .. {windows.current[1]}",
        f"{tally['breaking']} breaking, {tally['risky']} risky, {tally['additive']} additive",
    ]
    by_service: dict[str, list[EndpointDrift]] = {}
    for d in drifts:
        by_service.setdefault(d.service, []).append(d)
    for service, entries in sorted(by_service.items()):
        lines += ["", f"{service}"]
        for d in entries:
            lines.append(f"  {_endpoint(d)}  ({_evidence(d)})")
            for c in d.changes:
                where = "" if c.path == "-" else f" {c.path}"
                lines.append(f"    {c.severity.value:<8} {c.kind}{where}: {c.old} → {c.new}")
    return "\n".join(lines) + "\n"


def as_json(drifts: list[EndpointDrift], windows: Windows) -> dict:
    def side(s):
        return None if s is None else {"observations": s.observations, "last_seen": s.last_seen}

    return {
        "format": JSON_FORMAT_VERSION,
        "windows": {
            "baseline": {"first_day": windows.baseline[0], "last_day": windows.baseline[1]},
            "current": {"first_day": windows.current[0], "last_day": windows.current[1]},
        },
        "summary": {s.value: counts(drifts)[s.value] for s in Severity},
        "endpoints": [
            {
                "service": d.service, "method": d.method, "path_template": d.path_template,
                "status": d.status, "media_type": d.media_type,
                "baseline": side(d.baseline), "current": side(d.current),
                "changes": [
                    {"severity": c.severity.value, "kind": c.kind,
                     "path": None if c.path == "-" else c.path, "old": c.old, "new": c.new,
                     "evidence": c.evidence}
                    for c in d.changes
                ],
            }
            for d in drifts
        ],
    }


def render_json(drifts: list[EndpointDrift], windows: Windows) -> str:
    return json.dumps(as_json(drifts, windows), indent=2, sort_keys=True) + "\n"


def render_markdown(drifts: list[EndpointDrift], windows: Windows) -> str:
    tally = counts(drifts)
    lines = [
        "## Dependency drift",
        "",
        f"Observed traffic from **{windows.current[0]} to {windows.current[1]}** compared with "
        f"**{windows.baseline[0]} to {windows.baseline[1]}**.",
        "",
        "| | breaking | risky | additive |",
        "|---|---|---|---|",
        f"| changes | {tally['breaking']} | {tally['risky']} | {tally['additive']} |",
    ]
    if not drifts:
        return "\n".join(lines + ["", "No drift: the mocks still match what was observed."]) + "\n"
    for severity in Severity:
        rows = [(d, c) for d in _ordered(drifts) for c in d.changes if c.severity is severity]
        if not rows:
            continue
        lines += ["", f"### {severity.value.capitalize()}", "",
                  "| endpoint | change | field | was | now | evidence |",
                  "|---|---|---|---|---|---|"]
        for d, c in rows:
            field = "" if c.path == "-" else f"`{c.path}`"
            lines.append(
                f"| {d.service} `{_endpoint(d)}` | {c.kind} | {field} | {_cell(c.old)} "
                f"| {_cell(c.new)} | {_cell(_evidence(d))} |"
            )
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
