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

from freshmock.generators.model.schema import StatsBuilder
from freshmock.proxy.errors import FreshmockError


@dataclass
class StubbedEndpoint:
    """The same surface as a merged window entry: counts, last seen, statistics."""

    observations: int
    first_seen: str
    last_seen: str
    request: StatsBuilder = field(default_factory=StatsBuilder)
    response: StatsBuilder = field(default_factory=StatsBuilder)


class StubBaselineError(FreshmockError):
    """The folder holds no usable freshmock stubs; the message says why."""


def _media_key(method: str, status: int, media_type: str | None) -> str:
    """Stubs made before bodyless answers were filed under "" still name a media type."""
    if method == "HEAD" or status in (204, 304) or status < 200:
        return ""
    return media_type or ""


def read_stub_baseline(folder: Path) -> dict[tuple, StubbedEndpoint]:
    baseline: dict[tuple, StubbedEndpoint] = {}
    for path in sorted(folder.rglob("*.json")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]["freshmock"]
            method, template = meta["endpoint"].split(" ", 1)
            key = (meta["service"], method, template, meta.get("operation", ""),
                   meta["status"], _media_key(method, meta["status"], meta["media_type"]))
            entry = StubbedEndpoint(meta["observations"], meta["first_observed"],
                                    meta["last_observed"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # not a freshmock stub
        if key in baseline and not (meta.get("request_stats") or meta.get("response_stats")):
            continue  # another stub of the endpoint: its first one carries the statistics
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
