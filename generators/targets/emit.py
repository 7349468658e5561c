"""What every stub writer shares: endpoints grouped by dependency, file names, bytes on disk."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import sqlite_utils

from freshmock.generators.model.tables import list_endpoints

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


def remove_stale(folder: Path, pattern: str, keep: Iterable[Path],
                 ours: Callable[[str], bool]) -> list[Path]:
    """Delete files matching ``pattern`` that this run did not write and ``ours`` recognises.

    A dependency or endpoint no longer observed loses its stub, so a refresh
    shows it going away; a file freshmock did not write (``ours`` is false,
    or it cannot be read) is never touched.
    """
    kept = set(keep)
    removed = []
    for path in sorted(folder.glob(pattern)):
        if path in kept:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if ours(text):
            path.unlink()
            removed.append(path)
    return removed


def json_has(*keys: str) -> Callable[[str], bool]:
    """``ours`` for JSON files: the nested key ``keys`` exists."""

    def check(text: str) -> bool:
        try:
            value = json.loads(text)
            for key in keys:
                value = value[key]
        except (ValueError, KeyError, TypeError):
            return False
        return True

    return check
