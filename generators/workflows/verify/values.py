"""Values of one field in the bodies the store kept for an endpoint, for value matchers.

Statistics keep types, formats and small value sets, not every value; a
Pact ``regex`` or ``min`` is checked on the kept bodies themselves, newest
first, at most ``SAMPLE_LIMIT`` of them (sampling keeps every new shape, so
these span the shapes observed).
"""

from __future__ import annotations

from freshmock.generators.model.json_bodies import has_body, json_body
from freshmock.generators.model.paths import template_matches
from freshmock.generators.workflows.verify.matching import fields
from freshmock.generators.workflows.verify.pact_reader import segments
from freshmock.proxy.store import iter_response_bodies

SAMPLE_LIMIT = 500


def observed_values(db, key: tuple, path: str, since: str | None) -> list:
    f = fields(key)
    values: list = []
    bodies = 0
    for row in iter_response_bodies(db, f["service"], f["method"], f["status"], since or "",
                                    operation=f.get("operation")):
        if bodies >= SAMPLE_LIMIT:
            break
        if not template_matches(f["path_template"], row[0]):
            continue
        body = json_body(row[1], row[2], row[3])
        if has_body(body):
            bodies += 1
            values += _at(body, segments(path))
    return values


def _at(value, parts: list[str]) -> list:
    if not parts:
        return [value]
    head, rest = parts[0], parts[1:]
    if head == "[]":
        return [v for item in value for v in _at(item, rest)] if isinstance(value, list) else []
    if isinstance(value, dict) and head in value:
        return _at(value[head], rest)
    return []
