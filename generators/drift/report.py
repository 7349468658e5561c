"""Drift reports: text for people, JSON for tools, Markdown for a pull request body.

The JSON layout is documented in docs/drift-json.md; change both together.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from freshmock.generators.drift.shapes import SEVERITY_ORDER, Change, Severity
from freshmock.generators.drift.windows import (
    COMPARED,
    NO_VERDICT,
    NOT_OBSERVED,
    DriftReport,
    EndpointDrift,
    Observed,
)

# 2: field paths became JSON Pointers ("/customer/email", was "$.customer.email")
# with the body they are in as "part"; coverage, observed windows and problems added.
JSON_FORMAT_VERSION = 2
VERDICT_WORDS = {COMPARED: "compared", NOT_OBSERVED: "not observed in the current window",
                 NO_VERDICT: "no verdict (thin evidence)"}


@dataclass(frozen=True)
class Windows:
    baseline: tuple[str, str]  # first and last day, inclusive
    current: tuple[str, str]


def counts(drifts: list[EndpointDrift]) -> Counter:
    """Changes per class."""
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


def field_text(c: Change) -> str:
    """Where a change is, for people: the body's JSON Pointer, "(body)" for the body itself."""
    if c.path is None:
        return ""
    where = c.path or "(body)"
    return f"request {where}" if c.part == "request" else where


def _observed_text(o: Observed) -> str:
    if not o.observations:
        return "observed: nothing"
    return f"observed {o.first_day} .. {o.last_day}, {o.observations} observations"


def coverage_tally(report: DriftReport) -> Counter:
    return Counter(item.verdict for item in report.coverage)


def _coverage_line(report: DriftReport) -> str:
    tally = coverage_tally(report)
    return (f"{len(report.coverage)} baseline items: {tally[COMPARED]} compared, "
            f"{tally[NOT_OBSERVED]} not observed in the current window, "
            f"{tally[NO_VERDICT]} no verdict (thin evidence)")


def _item_text(item) -> str:
    media = f" {item.media_type}" if item.media_type else ""
    return f"{item.method} {item.path_template} → {item.status}{media}"


def _ordered(drifts):
    """Breaking first, then risky, then additive; stable within a class."""
    return sorted(drifts, key=lambda d: (SEVERITY_ORDER[d.worst], d.sort_key()))


def render_text(report: DriftReport, windows: Windows) -> str:
    drifts = report.drifts
    tally = counts(drifts)
    lines = [
        f"drift: baseline {windows.baseline[0]} .. {windows.baseline[1]} "
        f"({_observed_text(report.baseline)}), "
        f"current {windows.current[0]} .. {windows.current[1]} "
        f"({_observed_text(report.current)})",
        f"{tally['breaking']} breaking, {tally['risky']} risky, {tally['additive']} additive",
        f"coverage: {_coverage_line(report)}",
    ]
    lines += [f"nothing comparable: {problem}" for problem in report.problems]
    by_service: dict[str, list[EndpointDrift]] = {}
    for d in drifts:
        by_service.setdefault(d.service, []).append(d)
    for service, entries in sorted(by_service.items()):
        lines += ["", f"{service}"]
        for d in entries:
            lines.append(f"  {_endpoint(d)}  ({_evidence(d)})")
            for c in d.changes:
                where = field_text(c)
                where = f" {where}" if where else ""
                lines.append(f"    {c.severity.value:<8} {c.kind}{where}: {c.old} → {c.new}")
    unsettled = [item for item in report.coverage if item.verdict != COMPARED]
    if unsettled:
        lines += ["", "not compared"]
        for item in unsettled:
            lines.append(f"  {item.service} {_item_text(item)}  ({item.baseline_observations} "
                         f"baseline obs): {VERDICT_WORDS[item.verdict]}: {item.note}")
    return "\n".join(lines) + "\n"


def _observed_json(o: Observed) -> dict:
    return {"first_day": o.first_day, "last_day": o.last_day, "observations": o.observations}


def as_json(report: DriftReport, windows: Windows) -> dict:
    def side(s):
        return None if s is None else {"observations": s.observations, "last_seen": s.last_seen}

    drifts = report.drifts
    return {
        "format": JSON_FORMAT_VERSION,
        "windows": {
            "baseline": {"first_day": windows.baseline[0], "last_day": windows.baseline[1]},
            "current": {"first_day": windows.current[0], "last_day": windows.current[1]},
        },
        "observed": {"baseline": _observed_json(report.baseline),
                     "current": _observed_json(report.current)},
        "summary": {s.value: counts(drifts)[s.value] for s in Severity},
        "problems": list(report.problems),
        "coverage": {
            "summary": {v: coverage_tally(report)[v] for v in (COMPARED, NOT_OBSERVED,
                                                                NO_VERDICT)},
            "items": [
                {"service": i.service, "method": i.method, "path_template": i.path_template,
                 "status": i.status, "media_type": i.media_type, "verdict": i.verdict,
                 "baseline_observations": i.baseline_observations,
                 "current_observations": i.current_observations, "note": i.note}
                for i in report.coverage
            ],
        },
        "endpoints": [
            {
                "service": d.service, "method": d.method, "path_template": d.path_template,
                "status": d.status, "media_type": d.media_type,
                "baseline": side(d.baseline), "current": side(d.current),
                "changes": [
                    {"severity": c.severity.value, "kind": c.kind, "path": c.path,
                     "part": None if c.path is None else c.part, "old": c.old, "new": c.new,
                     "evidence": c.evidence}
                    for c in d.changes
                ],
            }
            for d in drifts
        ],
    }


def render_json(report: DriftReport, windows: Windows) -> str:
    return json.dumps(as_json(report, windows), indent=2, sort_keys=True) + "\n"


def render_markdown(report: DriftReport, windows: Windows) -> str:
    drifts = report.drifts
    tally = counts(drifts)
    lines = [
        "## Dependency drift",
        "",
        f"Observed traffic from **{windows.current[0]} to {windows.current[1]}** "
        f"({_observed_text(report.current)}) compared with "
        f"**{windows.baseline[0]} to {windows.baseline[1]}** ({_observed_text(report.baseline)}).",
        "",
        "| | breaking | risky | additive |",
        "|---|---|---|---|",
        f"| changes | {tally['breaking']} | {tally['risky']} | {tally['additive']} |",
        "",
        f"Coverage: {_coverage_line(report)}.",
    ]
    for problem in report.problems:
        lines += ["", f"**Nothing comparable:** {_cell(problem)}"]
    unsettled = [item for item in report.coverage if item.verdict != COMPARED]
    if unsettled:
        lines += ["", "| not compared | baseline obs | why |", "|---|---|---|"]
        lines += [f"| {item.service} `{_item_text(item)}` | {item.baseline_observations} | "
                  f"{_cell(VERDICT_WORDS[item.verdict])}: {_cell(item.note)} |"
                  for item in unsettled]
    if not drifts:
        if report.problems or unsettled:
            return "\n".join(lines) + "\n"
        return "\n".join(lines + ["", "No drift: the mocks still match what was observed."]) + "\n"
    for severity in Severity:
        rows = [(d, c) for d in _ordered(drifts) for c in d.changes if c.severity is severity]
        if not rows:
            continue
        lines += ["", f"### {severity.value.capitalize()}", "",
                  "| endpoint | change | field | was | now | evidence |",
                  "|---|---|---|---|---|---|"]
        for d, c in rows:
            where = field_text(c)
            where = f"`{where}`" if where else ""
            lines.append(
                f"| {d.service} `{_endpoint(d)}` | {c.kind} | {where} | {_cell(c.old)} "
                f"| {_cell(c.new)} | {_cell(_evidence(d))} |"
            )
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
