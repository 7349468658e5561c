"""``freshmock diff``: the store's current window against a baseline window or committed stubs.

The current window is the last N days up to the newest observation; the
baseline is the M days just before it (``model/window.py`` does the day
arithmetic), or what the stubs in ``--against`` say they were made from.
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from freshmock.generators.drift.report import Windows
from freshmock.generators.drift.stub_baseline import baseline_days, read_stub_baseline
from freshmock.generators.drift.windows import DriftReport, compare_windows
from freshmock.generators.model.infer import merge_window, update_partials
from freshmock.generators.model.paths import PathRules
from freshmock.generators.model.window import days_before, last_days
from freshmock.proxy.errors import NothingToDo
from freshmock.proxy.store import last_observed_day


def diff_store(
    store: sqlite_utils.Database, db: Path, current_days: int, baseline_window_days: int, *,
    service: str | None = None, against: Path | None = None, rules: PathRules | None = None,
) -> tuple[DriftReport, Windows]:
    """The drift report and the two windows it compared; ``NothingToDo`` for an empty store."""
    if last_observed_day(store) is None:  # before folding: an empty store stays as it is
        raise NothingToDo(f"no completed observations in {db}: nothing to compare")
    update_partials(store, rules=rules)
    current = last_days(last_observed_day(store), current_days)
    if against is not None:
        baseline = read_stub_baseline(against)
        windows = Windows(baseline_days(baseline), current)
        sides = {"baseline_is": "stubs are for", "current_holds": "the store holds"}
    else:
        windows = Windows(days_before(current[0], baseline_window_days), current)
        baseline = merge_window(store, *windows.baseline, rules=rules)
        sides = {}
    report = compare_windows(baseline, merge_window(store, *windows.current, rules=rules),
                             service=service, **sides)
    return report, windows
