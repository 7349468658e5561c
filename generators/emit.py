"""What every stub writer shares: endpoints grouped by dependency, file names, bytes on disk."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import sqlite_utils

from freshmock.proxy.store import list_endpoints

_SLUG = re.compile(r"[^a-z0-9_]+")


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "root"


def endpoints_by_service(
    db: sqlite_utils.Database, service: str | None = None
) -> list[tuple[str, list[dict]]]:
    """``[(service, its endpoints)]`` in name order; endpoints in key order."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for endpoint in list_endpoints(db, service):
        grouped[endpoint["service"]].append(endpoint)
    return sorted(grouped.items())


def write_generated(path: Path, text: str) -> None:
    """UTF-8 with LF line endings on every platform: the same bytes on every run."""
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
