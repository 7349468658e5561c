"""What every stub writer shares: file names, bytes on disk, stale files, mapping names."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from freshmock.generators.model.endpoint import Endpoint

_SLUG = re.compile(r"[^a-z0-9_]+")


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "root"


def mapping_name(endpoint: Endpoint, with_media_type: bool) -> str:
    """``get-users-user_id-200.json``: an endpoint's file name (WireMock, JSON Schema)."""
    parts = [endpoint.method, slug(endpoint.path_template)]
    if endpoint.operation:
        parts.append(slug(endpoint.operation))
    parts.append(str(endpoint.status))
    if with_media_type:
        parts.append(slug(endpoint.media_type or "none"))
    return "-".join(slug(part) for part in parts) + ".json"


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
