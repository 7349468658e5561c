"""``freshmock check``: is every stub fresh enough to trust?

Reads the observation metadata freshmock stamps into what it generates, in
each target's own place: WireMock mappings' ``metadata.freshmock``, JSON
Schema files' ``x-freshmock``, each OpenAPI operation's
``x-freshmock-last-observed``, the per-endpoint comments of pytest fixture
modules and VCR cassettes. Reports each stub (endpoint) whose dependency was
last observed longer ago than the budget.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from freshmock.proxy.errors import FreshmockError


@dataclass(frozen=True)
class StubAge:
    path: Path
    endpoint: str
    last_observed: datetime
    age: timedelta


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# "# POST /users 422: last observed 2026-11-20T10:00:07Z, 1 sample" (pytest modules)
# "# freshmock: GET /health 200 text/plain; last observed 2026-...Z; ..." (VCR cassettes)
_ENDPOINT_COMMENT = re.compile(
    r"^\s*# (?:freshmock: )?(?P<endpoint>[A-Z]+ /\S* \d{3})\S*(?: \S+)?[:;] "
    r"last observed (?P<at>\d{4}-\d\d-\d\dT[0-9:.]+Z)", re.MULTILINE)


_SERVICE_NAME = re.compile(r"(?:Stubs|cassette) of (\S+?)[,\s]")


def _from_json(document: dict) -> list[tuple[str, str]]:
    """(endpoint, last observed) pairs a generated JSON file states."""
    meta = document.get("metadata", {}).get("freshmock") or document.get("x-freshmock")
    if isinstance(meta, dict) and "last_observed" in meta:
        return [(f"{meta.get('service', '?')} {meta.get('endpoint', '?')} "
                 f"{meta.get('status', '')}".strip(), meta["last_observed"])]
    if "openapi" in document and isinstance(document.get("paths"), dict):
        service = document.get("info", {}).get("title", "?")
        return [(f"{service} {method.upper()} {template}", operation["x-freshmock-last-observed"])
                for template, operations in sorted(document["paths"].items())
                for method, operation in sorted(operations.items())
                if isinstance(operation, dict) and "x-freshmock-last-observed" in operation]
    return []


def _stated(path: Path) -> list[tuple[str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    if path.suffix == ".json":
        try:
            document = json.loads(text)
        except ValueError:
            return []
        return _from_json(document) if isinstance(document, dict) else []
    if "freshmock" not in text[:400]:
        return []  # not written by freshmock
    named = _SERVICE_NAME.search(text[:400])
    service = f"{named[1]} " if named else ""
    return [(service + m["endpoint"], m["at"]) for m in _ENDPOINT_COMMENT.finditer(text)]


def stub_ages(folder: Path, now: datetime) -> list[StubAge]:
    ages = []
    for path in sorted(p for p in folder.rglob("*")
                       if p.is_file() and p.suffix in (".json", ".py", ".yaml")):
        for endpoint, stamp in _stated(path):
            try:
                last = parse_timestamp(stamp)
            except (ValueError, TypeError):
                continue  # not a timestamp: not a stub freshmock wrote
            ages.append(StubAge(path, endpoint, last, now - last))
    return ages


def describe_age(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def stale_stubs(
    folder: Path, budget: timedelta, now: datetime
) -> tuple[list[StubAge], list[StubAge]]:
    """Every stub's age under ``folder``, and those older than ``budget``.

    No folder, or no stub freshmock wrote in it, is a usage error (exit 2): a
    gate that checked nothing must not pass.
    """
    if not folder.is_dir():
        raise FreshmockError(f"{folder} is not a folder of stubs")
    ages = stub_ages(folder, now)
    if not ages:
        raise FreshmockError(f"no freshmock stubs under {folder}")
    return ages, [a for a in ages if a.age > budget]
