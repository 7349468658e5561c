"""What one benchmark run found: measurements, their medians and ratios, the checks."""

from __future__ import annotations

import argparse
import datetime
import math
import statistics
from dataclasses import dataclass, field

METRICS = ("rps", "cpu_ms", "p50_ms", "p99_ms", "p999_ms", "peak_rss_mb")


@dataclass
class Measurement:
    """One configuration, one payload, one round: a closed-loop wrk run."""

    round: int
    config: str
    payload: str
    rps: float = math.nan
    cpu_ms: float = math.nan  # CPU ms of the process tree per completed request
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    p999_ms: float = math.nan
    peak_rss_mb: float = math.nan
    requests: int = 0
    errors: int = 0
    processes: int = 0  # processes seen in the tree
    other_cores: float = math.nan  # CPU used by other processes during the measured run
    exit_info: dict = field(default_factory=dict)
    failure: str | None = None


@dataclass
class OpenLoopCheck:
    """The sustained-rate check, or the soak: freshmock record under a fixed schedule."""

    rate: float
    seconds: float
    paths: list[str]
    config: str = "freshmock record"
    scheduled: int = 0
    sent: int = 0
    ok: int = 0
    failed: int = 0
    probes: int = 0  # readiness requests made before the load (also recorded)
    achieved_rps: float = 0.0
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    p999_ms: float = math.nan
    max_ms: float = math.nan
    max_lag_ms: float = math.nan  # worst lateness of the client itself
    cpu_share: float = math.nan  # of one core, averaged over the load
    peak_rss_mb: float = math.nan
    other_cores: float = math.nan  # CPU used by other processes during the load
    exit_info: dict = field(default_factory=dict)  # exit line counters and rows in the store
    stats: dict | None = None  # `freshmock stats --json`, when that command exists
    rss_series_mb: list[tuple[float, float]] = field(default_factory=list)
    failure: str | None = None

    def counter(self, key: str) -> int | None:
        """``key`` from the exit line or from ``freshmock stats``, whichever is higher."""
        values = [self.exit_info.get(key)]
        if self.stats and "error" not in self.stats:
            values.append(find_number(self.stats, key))
        values = [v for v in values if v is not None]
        return max(values) if values else None

    @property
    def dropped(self) -> int | None:
        return self.counter("dropped")

    @property
    def lost(self) -> int | None:
        return self.counter("lost")

    @property
    def counters_from(self) -> str:
        usable = self.stats and "error" not in self.stats
        if usable and find_number(self.stats, "dropped") is not None:
            return "exit line and `freshmock stats --json`"
        return "exit line"

    @property
    def rows(self) -> int | None:
        return self.exit_info.get("rows")

    @property
    def expected_rows(self) -> int:
        return self.sent + self.probes

    @property
    def passed(self) -> bool:
        if self.config != "freshmock record":  # a reference: every request answered
            return self.failure is None and self.failed == 0
        return (self.failure is None and self.failed == 0 and self.dropped == 0
                and self.lost == 0 and self.rows == self.expected_rows)


def find_number(data, key: str) -> int | None:
    """The first integer under ``key`` anywhere in a JSON value."""
    if isinstance(data, dict):
        if isinstance(data.get(key), int):
            return data[key]
        values = list(data.values())
    elif isinstance(data, list):
        values = data
    else:
        return None
    for value in values:
        found = find_number(value, key)
        if found is not None:
            return found
    return None


def drop_reasons(data, found: dict[str, int] | None = None) -> dict[str, int]:
    """Counters named ``dropped.<reason>`` anywhere in ``freshmock stats`` output."""
    found = {} if found is None else found
    if isinstance(data, dict):
        for key, value in data.items():
            if key.startswith("dropped.") and isinstance(value, int):
                found.setdefault(key, value)
            else:
                drop_reasons(value, found)
    elif isinstance(data, list):
        for value in data:
            drop_reasons(value, found)
    return found


def drop_share(measurements: list[Measurement], config: str, payload: str) -> tuple[int, int]:
    """(dropped, seen) over all completed runs, from the recorder's exit line."""
    runs = [m for m in measurements
            if m.config == config and m.payload == payload and m.failure is None]
    dropped = sum(m.exit_info.get("dropped", 0) for m in runs)
    seen = dropped + sum(m.exit_info.get("recorded", 0) + m.exit_info.get("lost", 0) for m in runs)
    return dropped, seen


def median(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


def medians(measurements: list[Measurement], config: str, payload: str) -> dict[str, float]:
    runs = [m for m in measurements
            if m.config == config and m.payload == payload and m.failure is None]
    summary = {metric: median([getattr(m, metric) for m in runs]) for metric in METRICS}
    summary["errors"] = sum(m.errors for m in runs)
    summary["runs"] = len(runs)
    return summary


def round_ratios(measurements: list[Measurement], config: str, reference: str, payload: str,
                 metric: str) -> list[float]:
    """``metric`` of ``config`` ÷ that of ``reference``, one value per round both completed."""
    by_round: dict[int, dict[str, float]] = {}
    for m in measurements:
        if m.payload == payload and m.failure is None:
            by_round.setdefault(m.round, {})[m.config] = getattr(m, metric)
    return [
        values[config] / values[reference]
        for _, values in sorted(by_round.items())
        if config in values and reference in values and values[reference]
    ]


def rss_flatness(series_mb: list[tuple[float, float]]) -> dict[str, float]:
    """Growth between the early and the late part of a soak, ignoring the first minute.

    early = median of the samples in the 20% of the run after warm-up, late =
    median of the last 20%; slope = least-squares fit after warm-up, MB/hour.
    """
    if len(series_mb) < 5:
        return {}
    warm = [p for p in series_mb if p[0] >= min(60.0, series_mb[-1][0] / 5)] or series_mb
    fifth = max(1, len(warm) // 5)
    early = statistics.median(v for _, v in warm[:fifth])
    late = statistics.median(v for _, v in warm[-fifth:])
    xs, ys = [t for t, _ in warm], [v for _, v in warm]
    slope = statistics.linear_regression(xs, ys).slope * 3600 if len(set(xs)) > 1 else 0.0
    return {"early_mb": early, "late_mb": late, "growth_mb": late - early,
            "growth_pct": (late - early) / early * 100 if early else math.nan,
            "slope_mb_per_hour": slope, "min_mb": min(ys), "max_mb": max(ys)}


@dataclass
class Run:
    """Everything the report needs from one invocation."""

    started: datetime.datetime
    machine: dict[str, str]
    settings: argparse.Namespace
    load_before: str
    cpu_before: dict[str, float]
    payloads: dict = field(default_factory=dict)  # name -> backend.Payload
    measurements: list[Measurement] = field(default_factory=list)
    sustained: OpenLoopCheck | None = None
    sustained_reference: OpenLoopCheck | None = None  # bare mitmdump, same schedule
    soak: OpenLoopCheck | None = None
    worker_costs: list = field(default_factory=list)  # worker_cost.WorkerCost
    finished: datetime.datetime | None = None
    load_after: str = ""
    cpu_after: dict[str, float] = field(default_factory=dict)
    own_cpu: float = 0.0  # CPU s of the benchmark and all it started (nginx, wrk, proxies)

    @property
    def other_cores(self) -> float:
        """Average cores used by processes outside the benchmark while it ran."""
        wall = self.cpu_after["at"] - self.cpu_before["at"]
        busy = self.cpu_after["busy"] - self.cpu_before["busy"]
        return max(0.0, busy - self.own_cpu) / wall if wall > 0 else math.nan
