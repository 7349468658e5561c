"""The window of days stubs describe: the last N days up to the newest observation.

``generate`` and ``serve`` publish the same window with the same code, so stubs
pulled from a server are the ones ``generate`` writes on the server's store.
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
    return (date.fromisoformat(newest) - timedelta(days=days - 1)).isoformat()


def publish_window(db: sqlite_utils.Database, days: int | None) -> str | None:
    """Fold in new observations and publish the ``endpoints`` table for the window.

    Returns the window's first day (None: the whole record).
    """
    since = window_start(db, days)
    infer_endpoints(db, since=since)
    return since
