"""Schema history: a new version per endpoint whenever its published schema changes.

Sample counts (``x-freshmock-samples``) change with every observation and are
not a change of shape, so they are left out of the comparison.
"""

from __future__ import annotations

import hashlib
import json

import sqlite_utils

from freshmock.generators.model.schema.publish import SAMPLES
from freshmock.generators.model.tables import (
    ENDPOINT_KEY,
    latest_schema_versions,
    save_schema_versions,
)


def _without_samples(value):
    if isinstance(value, dict):
        return {k: _without_samples(v) for k, v in value.items() if k != SAMPLES}
    if isinstance(value, list):
        return [_without_samples(v) for v in value]
    return value


def shape_hash(endpoint: dict) -> str:
    shapes = [
        _without_samples(json.loads(endpoint[column] or "null"))
        for column in ("request_schema", "response_schema")
    ]
    return hashlib.sha256(json.dumps(shapes, sort_keys=True).encode()).hexdigest()


def record_versions(db: sqlite_utils.Database, endpoints: list[dict]) -> int:
    """Extend or start a version for each published endpoint; returns how many are new."""
    latest = latest_schema_versions(db)
    rows, new = [], 0
    for endpoint in endpoints:
        key = tuple(endpoint[column] for column in ENDPOINT_KEY)
        digest = shape_hash(endpoint)
        current = latest.get(key)
        total = endpoint["observations"]
        since_last = total - current["total_observations"] if current else total
        if current is not None and current["shape_hash"] == digest:
            current.update(
                last_seen=max(current["last_seen"], endpoint["last_seen"]),
                observations=current["observations"] + since_last,
                total_observations=total,
                request_schema=endpoint["request_schema"],
                response_schema=endpoint["response_schema"],
            )
            rows.append(current)
            continue
        new += 1
        rows.append({
            **{column: endpoint[column] for column in ENDPOINT_KEY},
            "discriminator": endpoint.get("discriminator") or "",
            "version": 1 if current is None else current["version"] + 1,
            "shape_hash": digest,
            "request_schema": endpoint["request_schema"],
            "response_schema": endpoint["response_schema"],
            # A new shape starts where the previous version's evidence ends.
            "first_seen": endpoint["first_seen"] if current is None else current["last_seen"],
            "last_seen": endpoint["last_seen"],
            "observations": since_last,
            "total_observations": total,
        })
    save_schema_versions(db, rows)
    return new
