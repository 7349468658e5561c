"""Verify reports: text for people, JSON for tools, Markdown for a pull request body.

Every finding names its file and line (and the entry inside the file), its
class, and the evidence behind it: how many observations today's verdict
rests on and how old the newest one is.
"""

from __future__ import annotations

import json
from collections import Counter

from freshmock.generators.workflows.check import describe_age
from freshmock.generators.workflows.verify.verdicts import CLASS_ORDER, FRESH, Verdict

JSON_FORMAT_VERSION = 1
_ORDER = [*CLASS_ORDER, FRESH]


def summary(verdicts: list[Verdict]) -> Counter:
    return Counter(v.verdict for v in verdicts)


def exceeds(verdicts: list[Verdict], fail_on: str) -> bool:
    """Whether any finding is at or above ``fail_on`` (stale|incomplete|unverifiable|never)."""
    if fail_on == "never":
        return False
    limit = CLASS_ORDER[fail_on]
    return any(CLASS_ORDER[f.verdict] <= limit for v in verdicts for f in v.findings)


def _endpoint(v: Verdict) -> str:
    if v.endpoint is None:
        return "no observed endpoint"
    e = v.endpoint
    text = f"{e['service']} {e['method']} {e['path_template']}"
    if e.get("operation"):
        text += f" [{e['operation']}]"
    return text + f" → {e['status']}" + (f" {e['media_type']}" if e["media_type"] else "")


def _evidence(v: Verdict) -> str:
    if not v.last_seen:
        return "no observation in the window"
    whose = " of the service" if v.scope == "service" else ""
    return (f"{v.observations} observations{whose}, newest {v.last_seen} "
            f"({describe_age(v.age)} ago)")


def _ordered(verdicts):
    return sorted(verdicts, key=lambda v: (_ORDER.index(v.verdict), str(v.mock.source),
                                           v.mock.line))


def _headline(verdicts, window) -> str:
    counts = summary(verdicts)
    parts = ", ".join(f"{counts.get(name, 0)} {name}" for name in _ORDER)
    return f"{len(verdicts)} mocked interactions checked against {window[0]}..{window[1]}: {parts}"


def render_text(verdicts: list[Verdict], window: tuple[str, str]) -> str:
    lines = [_headline(verdicts, window)]
    for v in _ordered(verdicts):
        if v.verdict == FRESH:
            continue
        lines.append("")
        lines.append(f"{v.verdict.upper()}  {v.mock.location()}  {v.mock.entry}")
        lines.append(f"  mock: {v.mock.describe()}  ({v.mock.format})")
        lines.append(f"  observed: {_endpoint(v)}; {_evidence(v)}")
        for f in v.findings:
            where = "" if f.path == "-" else f" {f.path}"
            lines.append(f"  {f.verdict:<12} {f.kind}{where}: mock {f.mock}; today {f.today}")
        for note in v.mock.notes:
            lines.append(f"  note: {note}")
    return "\n".join(lines) + "\n"


def as_json(verdicts: list[Verdict], window: tuple[str, str]) -> dict:
    return {
        "format_version": JSON_FORMAT_VERSION,
        "window": {"first_day": window[0], "last_day": window[1]},
        "summary": {name: summary(verdicts).get(name, 0) for name in _ORDER},
        "mocks": [{
            "file": str(v.mock.source), "line": v.mock.line, "entry": v.mock.entry,
            "format": v.mock.format, "interaction": v.mock.describe(),
            "verdict": v.verdict, "endpoint": v.endpoint,
            "evidence": {"observations": v.observations, "of": v.scope,
                         "last_seen": v.last_seen,
                         "age_days": None if v.age is None
                         else round(v.age.total_seconds() / 86400, 2)},
            "findings": [{"class": f.verdict, "kind": f.kind, "path": f.path,
                          "mock": f.mock, "today": f.today, "severity": f.severity or None,
                          "evidence": f.evidence} for f in v.findings],
            "notes": list(v.mock.notes),
        } for v in _ordered(verdicts)],
    }


def render_json(verdicts: list[Verdict], window: tuple[str, str]) -> str:
    return json.dumps(as_json(verdicts, window), indent=2, sort_keys=True) + "\n"


def render_markdown(verdicts: list[Verdict], window: tuple[str, str]) -> str:
    lines = ["### Hand-written mocks checked against observed traffic", "",
             _headline(verdicts, window), ""]
    flagged = [v for v in _ordered(verdicts) if v.verdict != FRESH]
    if not flagged:
        return "\n".join(lines) + "\n"
    lines += ["| class | mock | finding | mock says | today | evidence |",
              "| --- | --- | --- | --- | --- | --- |"]
    for v in flagged:
        for f in v.findings:
            where = "" if f.path == "-" else f" `{f.path}`"
            lines.append(
                f"| {f.verdict} | `{_cell(v.mock.location())}` {_cell(v.mock.entry)} "
                f"| {f.kind}{where} | {_cell(f.mock)} | {_cell(f.today)} "
                f"| {_cell(_evidence(v))} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
