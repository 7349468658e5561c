"""Which recorded observation each endpoint's stubs replay, chosen so it stays put.

Inference keeps, per endpoint and day, a few candidates: for each shape of
response body seen (its JSON paths and types), how many kept bodies had it
and the best of them (the most complete: most non-null values; ties go to the
lowest SHA-256 of the body, then the lowest id). These merge across days like
the schema statistics do.

The exemplar chosen last time is kept while it still validates against the
endpoint's current schemas, so a nightly refresh does not churn stubs with a
different but equally good body. Otherwise the best body of the most common
shape wins.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

import sqlite_utils
from jsonschema import Draft202012Validator

from freshmock.generators.model.json_bodies import has_body, json_body
from freshmock.proxy.store import get_observation_or_none

# Shapes kept per endpoint and day: enough for every variant a real endpoint
# has, bounded when a field's values make every body a shape of its own.
MAX_SHAPES = 16


def candidate(row: dict, response) -> tuple[str, list] | None:
    """``(shape, [count, completeness, sha256, id])`` for a kept, whole response."""
    if row.get("sampled_out") or row["response_body_truncated"]:
        return None
    data = row["response_body"] or b""
    if has_body(response):
        signature, completeness = shape_and_fill(response)
    else:
        signature, completeness = f"{row['response_media_type']} {bool(data)}", 0
    shape = hashlib.blake2b(signature.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
    # the worker already hashed the stored body; rows from older stores did not
    digest = row.get("response_body_sha256") or hashlib.sha256(data).hexdigest()
    return shape, [1, completeness, digest, row["id"]]


_SCALAR_SHAPES = {str: "s", int: "i", float: "n", bool: "b", type(None): "z"}


def shape_and_fill(value) -> tuple[str, int]:
    """A JSON value's shape (keys and types; arrays as the set of their item
    shapes; numeric keys as one) and how many non-null values it holds.

    One pass for both: this runs on every kept body, so it must stay cheap
    next to the schema statistics (about 14 us on a 1 KB body).
    """
    kind = type(value)
    if kind is dict:
        fill, parts = 1, []
        for key, child in value.items():
            shape, filled = shape_and_fill(child)
            fill += filled
            parts.append(("#" if key.isdigit() else key) + ":" + shape)
        parts.sort()
        return "{" + ",".join(parts) + "}", fill
    if kind is list:
        fill, shapes = 1, set()
        for item in value:
            shape, filled = shape_and_fill(item)
            fill += filled
            shapes.add(shape)
        return "[" + ",".join(sorted(shapes)) + "]", fill
    return _SCALAR_SHAPES.get(kind, "?"), (0 if value is None else 1)


def _better(entry: list) -> tuple:
    return (-entry[1], entry[2], entry[3])


def add_candidate(candidates: dict[str, list], shape: str, entry: list) -> None:
    mine = candidates.get(shape)
    if mine is None:
        candidates[shape] = list(entry)
        if len(candidates) > 4 * MAX_SHAPES:  # bound memory within a day, too
            prune(candidates)
        return
    count = mine[0] + entry[0]
    if _better(entry) < _better(mine):
        mine[1:] = entry[1:]
    mine[0] = count


def merge_candidates(candidates: dict[str, list], other: dict[str, list]) -> None:
    for shape, entry in other.items():
        add_candidate(candidates, shape, entry)
    prune(candidates)


def prune(candidates: dict[str, list]) -> None:
    """Keep the ``MAX_SHAPES`` most common shapes."""
    if len(candidates) > MAX_SHAPES:
        ranked = sorted(candidates, key=lambda shape: (-candidates[shape][0], shape))
        for shape in ranked[MAX_SHAPES:]:
            del candidates[shape]


def best_candidate(candidates: dict[str, list]) -> int | None:
    """The best body of the most common shape (ties: more complete, then by hash)."""
    if not candidates:
        return None
    entry = min(candidates.values(), key=lambda e: (-e[0], *_better(e)))
    return entry[3]


@lru_cache(maxsize=256)
def _validator(schema_text: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_text))


def still_fits(db: sqlite_utils.Database, observation_id: int, endpoint: dict,
               since: str | None = None, until: str | None = None) -> bool:
    """Whether a previous exemplar may stay: kept, in the window, valid against the schemas."""
    row = get_observation_or_none(db, observation_id)
    if row is None or row.get("sampled_out") or row["response_body_truncated"]:
        return False
    if (row["service"], row["method"], row["status"]) != (
            endpoint["service"], endpoint["method"], endpoint["status"]):
        return False
    day = row["observed_at"][:10]
    if (since and day < since) or (until and day > until):
        return False
    for part, column in (("response", "response_schema"), ("request", "request_schema")):
        body = json_body(row[f"{part}_media_type"], row[f"{part}_body"],
                         row[f"{part}_body_truncated"])
        schema = endpoint[column]
        if schema is None:
            continue
        if not has_body(body):
            if part == "response":
                return False  # the schema describes a body this exemplar lacks
            continue
        if not _validator(schema).is_valid(body):
            return False
    return True
