"""Windows of days: the durations options give (28d, 4w, 36h) and the day arithmetic.

A window is the last N days up to the newest observation, as a pair of days
(YYYY-MM-DD, both inclusive). ``generate`` and ``serve`` publish the same
window with the same code, so stubs pulled from a server are the ones
``generate`` writes on the server's store; ``diff``, ``verify`` and
``show --at`` take their windows from here too.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import sqlite_utils

from freshmock.generators.model.infer import infer_endpoints, update_partials
from freshmock.proxy.errors import FreshmockError
from freshmock.proxy.store import last_observed_day

DEFAULT_WINDOW = "28d"
_DURATION = re.compile(r"^(\d+)([dw])$")


class WindowError(FreshmockError, ValueError):
    """A window that cannot be read; the message is meant for the user as is."""


def window_days(text: str, option: str = "--window") -> int | None:
    """How many days ``28d`` or ``4w`` is; None for ``all`` (the whole record)."""
    if text == "all":
        return None
    match = _DURATION.match(text.strip())
    if not match or int(match[1]) == 0:
        raise WindowError(
            f"{option} takes a number of days or weeks such as 7d or 4w, not {text!r}"
        )
    return int(match[1]) * (7 if match[2] == "w" else 1)


def comparison_days(text: str, option: str) -> int:
    """``window_days`` for a comparison (diff, verify): ``all`` is a window for stubs only."""
    days = window_days(text, option)
    if days is None:
        raise WindowError(
            f"{option} takes a number of days or weeks such as 7d or 4w, not {text!r}")
    return days


def last_days(newest: str, days: int) -> tuple[str, str]:
    """The ``days`` days (at least 1) up to and including ``newest``: (first, newest)."""
    end = date.fromisoformat(newest)
    return (end - timedelta(days=days - 1)).isoformat(), end.isoformat()


def days_before(first: str, days: int) -> tuple[str, str]:
    """The ``days`` days just before ``first``: a baseline for the window starting there."""
    start = date.fromisoformat(first)
    return (start - timedelta(days=days)).isoformat(), (start - timedelta(days=1)).isoformat()


_AGE = re.compile(r"^(\d+)([hdw])$")


def age_budget(text: str, option: str = "--max-age") -> timedelta:
    """``36h``, ``7d``, ``2w`` as a timedelta: how old evidence or a stub may be."""
    match = _AGE.match(text.strip())
    if not match:
        raise WindowError(
            f"{option} takes hours, days or weeks such as 36h, 7d or 2w, not {text!r}")
    return timedelta(hours=int(match[1]) * {"h": 1, "d": 24, "w": 24 * 7}[match[2]])


def window_start(db: sqlite_utils.Database, days: int | None) -> str | None:
    """First day (YYYY-MM-DD) of the last ``days`` days up to the newest observation.

    None means no lower bound: ``days`` is None, or nothing was observed yet.
    """
    if days is None:
        return None
    update_partials(db)
    newest = last_observed_day(db)
    if newest is None:
        return None
    return last_days(newest, days)[0]


def publish_window(db: sqlite_utils.Database, days: int | None) -> str | None:
    """Fold in new observations and publish the ``endpoints`` table for the window.

    Returns the window's first day (None: the whole record).
    """
    since = window_start(db, days)
    infer_endpoints(db, since=since)
    return since
