"""``freshmock show``: one endpoint's published schema, counts and history."""

from __future__ import annotations

import json
from datetime import date, timedelta

import sqlite_utils

from freshmock.generators.model.infer import publish_endpoints
from freshmock.generators.model.paths import template_matches
from freshmock.generators.model.tables import ENDPOINT_KEY, list_endpoints, schema_versions
from freshmock.generators.model.window import last_days
from freshmock.proxy.errors import FreshmockError, NothingToDo

WINDOW_DAYS = 7
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}


def parse_endpoint(spec: str) -> tuple[str | None, str]:
    method, _, rest = spec.strip().partition(" ")
    if method.upper() in METHODS and rest.strip():
        return method.upper(), rest.strip()
    return None, spec.strip()


def find_endpoints(
    db: sqlite_utils.Database, spec: str, service: str | None, at: str | None
) -> list[dict]:
    method, path = parse_endpoint(spec)
    if at is None:
        rows = list_endpoints(db, service)
    else:
        since, at = last_days(at, WINDOW_DAYS)
        rows = [r for r in publish_endpoints(db, since, at)
                if service is None or r["service"] == service]
    exact = [r for r in rows if r["path_template"] == path]
    candidates = exact or [r for r in rows if template_matches(r["path_template"], path)]
    return [r for r in candidates if method is None or r["method"] == method]


def outside_window(
    db: sqlite_utils.Database, spec: str, service: str | None, at: str
) -> str | None:
    """Why ``spec`` matches nothing ``--at`` a day when it matches at other times; else None."""
    elsewhen = find_endpoints(db, spec, service, None)
    if not elsewhen:
        return None
    first = min(row["first_seen"] for row in elsewhen)[:10]
    last = max(row["last_seen"] for row in elsewhen)[:10]
    latest = (date.fromisoformat(last) + timedelta(days=WINDOW_DAYS - 1)).isoformat()
    return (f"{spec!r} was not observed in the {WINDOW_DAYS} days up to {at}; it was observed "
            f"from {first} to {last}: pick --at a day from {first} to {latest}")


def show_endpoints(
    db: sqlite_utils.Database, spec: str, service: str | None, at: str | None,
    store_name: str = "the store",
) -> list[dict]:
    """What ``show`` prints for ``spec``, one document per matching endpoint.

    Nothing matching is an error naming the endpoint (exit 2), or, with ``at``
    a day outside the times it was observed, one naming the days to pick (exit 3).
    """
    matches = find_endpoints(db, spec, service, at)
    if not matches and at is not None:
        reason = outside_window(db, spec, service, at)
        if reason:
            raise NothingToDo(reason)
    if not matches and not list_endpoints(db):  # a store only a sidecar has written
        raise NothingToDo(f"no endpoints in {store_name} yet: run `freshmock infer` first")
    if not matches:
        raise FreshmockError(f"no endpoint matches {spec!r}" + (f" in {service}" if service else "")
                             + " (see `freshmock endpoints`)")
    return [shown(db, row) for row in matches]


def shown(db: sqlite_utils.Database, endpoint: dict) -> dict:
    key = tuple(endpoint[column] for column in ENDPOINT_KEY)
    return {
        **{column: endpoint[column] for column in ENDPOINT_KEY},
        "observations": endpoint["observations"],
        "first_seen": endpoint["first_seen"],
        "last_seen": endpoint["last_seen"],
        "request_schema": json.loads(endpoint["request_schema"] or "null"),
        "response_schema": json.loads(endpoint["response_schema"] or "null"),
        "versions": [
            {
                "version": v["version"],
                "first_seen": v["first_seen"],
                "last_seen": v["last_seen"],
                "observations": v["observations"],
            }
            for v in schema_versions(db, key)
        ],
    }


def render_text(documents: list[dict]) -> str:
    blocks = []
    for doc in documents:
        lines = [
            f"{doc['service']}  {doc['method']} {doc['path_template']}  {doc['status']}  "
            f"{doc['media_type'] or '-'}",
            f"  {doc['observations']} observations, first seen {doc['first_seen']}, "
            f"last seen {doc['last_seen']}",
        ]
        for part in ("request_schema", "response_schema"):
            schema = doc[part]
            label = part.replace("_", " ")
            if schema is None:
                lines.append(f"  {label}: no JSON body observed")
            else:
                body = json.dumps(schema, indent=2, sort_keys=True).replace("\n", "\n    ")
                lines.append(f"  {label}:\n    {body}")
        if doc["versions"]:
            lines.append("  versions:")
            for v in doc["versions"]:
                lines.append(
                    f"    v{v['version']}  {v['first_seen']} .. {v['last_seen']}  "
                    f"{v['observations']} observations"
                )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
