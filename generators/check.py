"""``freshmock check``: is every stub fresh enough to trust?

Reads the observation metadata freshmock stamps into what it generates
(today: WireMock mappings' ``metadata.freshmock``) and reports each stub
whose dependency was last observed longer ago than the budget.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path


@dataclass(frozen=True)
class StubAge:
    path: Path
    endpoint: str
    last_observed: datetime
    age: timedelta


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def stub_ages(folder: Path, now: datetime) -> list[StubAge]:
    ages = []
    for path in sorted(folder.rglob("*.json")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]["freshmock"]
            last = parse_timestamp(meta["last_observed"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a freshmock stub (a hand-written mapping, say)
        ages.append(StubAge(path, f"{meta.get('service', '?')} {meta.get('endpoint', '?')} "
                                  f"{meta.get('status', '')}".strip(), last, now - last))
    return ages


def describe_age(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"
