"""A drift baseline read back from committed stubs.

freshmock stamps into each WireMock mapping the endpoint it stands for and
the statistics its schemas were published from (``metadata.freshmock``), so
the stubs a consumer has committed say what its mocks believe the dependency
does; ``freshmock diff --against DIR`` compares current traffic with that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from freshmock.generators.schema import StatsBuilder


@dataclass
class StubbedEndpoint:
    """The same surface as a merged window entry: counts, last seen, statistics."""

    observations: int
    first_seen: str
    last_seen: str
    request: StatsBuilder = field(default_factory=StatsBuilder)
    response: StatsBuilder = field(default_factory=StatsBuilder)


class StubBaselineError(Exception):
    """The folder holds no usable freshmock stubs; the message says why."""


def read_stub_baseline(folder: Path) -> dict[tuple, StubbedEndpoint]:
    baseline: dict[tuple, StubbedEndpoint] = {}
    for path in sorted(folder.rglob("*.json")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]["freshmock"]
            method, template = meta["endpoint"].split(" ", 1)
            key = (meta["service"], method, template, meta.get("operation", ""),
                   meta["status"], meta["media_type"])
            entry = StubbedEndpoint(meta["observations"], meta["first_observed"],
                                    meta["last_observed"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # not a freshmock stub
        if meta.get("request_stats"):
            entry.request = StatsBuilder.from_node(meta["request_stats"])
        if meta.get("response_stats"):
            entry.response = StatsBuilder.from_node(meta["response_stats"])
        baseline[key] = entry
    if not baseline:
        raise StubBaselineError(f"no freshmock stubs under {folder}")
    return baseline


def baseline_days(baseline: dict[tuple, StubbedEndpoint]) -> tuple[str, str]:
    return (min(e.first_seen for e in baseline.values())[:10],
            max(e.last_seen for e in baseline.values())[:10])
