"""``verify`` end to end, for the command and for ``refresh --verify``: read the mocks,
take today's window of the store, reach a verdict per mocked interaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from freshmock.generators.model.infer import merge_window, update_partials
from freshmock.generators.model.paths import PathRules
from freshmock.generators.model.window import last_days
from freshmock.generators.workflows.verify.readers import MockSet, read_mocks
from freshmock.generators.workflows.verify.verdicts import Verdict, verify
from freshmock.proxy.errors import FreshmockError, NothingToDo
from freshmock.proxy.store import last_observed_day


class NothingObserved(NothingToDo):
    """The store has no completed observation: nothing to verify against (exit 3)."""


class UnknownService(FreshmockError, ValueError):
    """--service names a dependency the store never observed; the message lists the known."""


@dataclass
class VerifyRun:
    mocks: MockSet
    verdicts: list[Verdict]
    window: tuple[str, str]


def run_verify(db, paths: list[Path], window_days: int | None, *, service: str | None = None,
               max_age: timedelta | None = None, rules: PathRules | None = None,
               now: datetime | None = None, store_name: str | None = None) -> VerifyRun:
    """``window_days`` None: the whole record. Raises ``MockFileError`` for an
    unreadable mock file, ``NothingObserved`` for a store without observations
    (its message starts with ``store_name`` when given)."""
    mocks = read_mocks(paths)
    update_partials(db, rules=rules)
    newest = last_observed_day(db)
    if newest is None:
        where = f"{store_name}: " if store_name else ""
        raise NothingObserved(f"{where}the store has no completed observations")
    end = date.fromisoformat(newest)
    history = merge_window(db, rules=rules)
    known = sorted({key[0] for key in history})
    if service is not None and service not in known:
        raise UnknownService(f"--service {service!r} was never observed; the store knows "
                             + (", ".join(known) or "no service"))
    if window_days is None:
        first = min(p.first_seen for p in history.values())[:10]
        window = (first, end.isoformat())
    else:
        window = last_days(newest, window_days)
    current = merge_window(db, *window, rules=rules)
    verdicts = verify(db, mocks.interactions, current, history, now=now or datetime.now(UTC),
                      service=service, max_age=max_age, since=window[0])
    return VerifyRun(mocks, verdicts, window)
