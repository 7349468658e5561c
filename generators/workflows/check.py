"""``freshmock check``: is every stub fresh enough to trust?

Reads the freshness stamp every target writes into its stubs through
``targets.stamp`` (the one module that writes and reads it), so a user's
template override cannot hide a stub's age. Reports each stub (endpoint)
whose dependency was last observed longer ago than the budget, and each
file freshmock wrote that states no readable age: unstamped is not fresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from freshmock.generators.targets.stamp import read_stamps
from freshmock.proxy.errors import FreshmockError


@dataclass(frozen=True)
class StubAge:
    path: Path
    endpoint: str
    last_observed: datetime
    age: timedelta


@dataclass(frozen=True)
class Unstamped:
    """A stub freshmock wrote whose age cannot be read: ``why`` names what is missing."""

    path: Path
    why: str


@dataclass
class Freshness:
    ages: list[StubAge] = field(default_factory=list)
    unstamped: list[Unstamped] = field(default_factory=list)


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def stub_freshness(folder: Path, now: datetime) -> Freshness:
    found = Freshness()
    for path in sorted(p for p in folder.rglob("*")
                       if p.is_file() and p.suffix in (".json", ".py", ".yaml")):
        stamps = read_stamps(path)
        if stamps is None:
            continue  # not a file freshmock wrote
        found.unstamped += [Unstamped(path, why) for why in stamps.missing]
        for endpoint, stamp in stamps.stamps:
            try:
                last = parse_timestamp(stamp)
            except (ValueError, TypeError):
                found.unstamped.append(Unstamped(path, f"{endpoint}: {stamp!r} is no timestamp"))
                continue
            found.ages.append(StubAge(path, endpoint, last, now - last))
    return found


def stub_ages(folder: Path, now: datetime) -> list[StubAge]:
    return stub_freshness(folder, now).ages


def describe_age(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


@dataclass(frozen=True)
class CheckResult:
    ages: list[StubAge]
    stale: list[StubAge]  # older than the budget
    unstamped: list[Unstamped]

    @property
    def failed(self) -> bool:
        return bool(self.stale or self.unstamped)  # a stub whose age cannot be read is not fresh


def check_stubs(folder: Path, budget: timedelta, now: datetime) -> CheckResult:
    """Every stub's age under ``folder``, those older than ``budget``, and those unstamped.

    No folder, or no stub freshmock wrote in it, is a usage error (exit 2): a
    gate that checked nothing must not pass.
    """
    if not folder.is_dir():
        raise FreshmockError(f"{folder} is not a folder of stubs")
    found = stub_freshness(folder, now)
    if not found.ages and not found.unstamped:
        raise FreshmockError(f"no freshmock stubs under {folder}")
    return CheckResult(found.ages, [a for a in found.ages if a.age > budget], found.unstamped)
