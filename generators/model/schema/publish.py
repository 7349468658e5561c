"""Turn a statistics node into a clean JSON Schema (2020-12, as OpenAPI 3.1 uses).

A pure function of the node: equal statistics give equal schemas, whatever
order the values arrived in. Claims that need evidence (``required``,
``format``, ``enum``) are made only past the thresholds in ``thresholds.py``;
where one was withheld for lack of samples, the schema carries
``x-freshmock-samples`` with the count it rests on.

Unions: scalar types and ``null`` share one ``"type": [...]`` list (``null``
last); an object or array alone with ``null`` does too; anything else mixed
with an object or array is an ``anyOf`` in a fixed order (scalars, array,
object, null). Keys, ``required`` and ``enum`` are sorted.
"""

from __future__ import annotations

import re

from freshmock.generators.model.schema.formats import UUID_PATTERN, is_pattern_like
from freshmock.generators.model.schema.stats import count, distinct_values, merge
from freshmock.generators.model.schema.thresholds import (
    ENUM_MIN_SAMPLES,
    FORMAT_MIN_SAMPLES,
    MAP_MIN_HEX_KEY_LENGTH,
    REQUIRED_MIN_SAMPLES,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SAMPLES = "x-freshmock-samples"

_INTEGER_KEY = re.compile(r"-?\d+", re.ASCII)
_UUID_KEY = re.compile(UUID_PATTERN)
_HEX_KEY = re.compile(r"[0-9a-fA-F]*\d[0-9a-fA-F]*", re.ASCII)


def publish_document(node: dict) -> dict:
    """The schema of a whole body, with ``$schema`` naming the dialect."""
    return {"$schema": DIALECT, **publish(node)}


def publish(node: dict) -> dict:
    """The schema of every value ``node`` has seen (``{}`` when it has seen none)."""
    complex_kinds = [kind for kind in ("array", "object") if kind in node]
    branches = []
    nullable = "null" in node
    scalar_types = ["boolean"] if "boolean" in node else []
    if "number" in node:  # integers widen to number once a float was seen
        scalar_types.append("number")
    elif "integer" in node:
        scalar_types.append("integer")
    if "string" in node:
        scalar_types.append("string")
    if scalar_types:
        alone = len(scalar_types) == 1 and not complex_kinds
        scalar = {"type": _type(scalar_types, nullable)}
        if "string" in node:
            scalar.update(_string_keywords(node["string"], alone, nullable))
        branches.append(scalar)
        nullable = False
    for kind in complex_kinds:
        schema = _array(node["array"]) if kind == "array" else _object(node["object"])
        if nullable and not branches and len(complex_kinds) == 1:
            schema["type"] = [schema["type"], "null"]
            nullable = False
        branches.append(schema)
    if nullable:
        branches.append({"type": "null"})
    if not branches:
        return {}
    return branches[0] if len(branches) == 1 else {"anyOf": branches}


def _type(types: list[str], nullable: bool):
    if nullable:
        return [*types, "null"]
    return types[0] if len(types) == 1 else types


def _string_keywords(stats: dict, alone: bool, nullable: bool) -> dict:
    keywords: dict = {}
    withheld = False
    non_empty = stats["n"] - stats["empty"]
    # Claims about values rest on values from distinct bodies only: one example
    # served 500 times is one value (stats "repeats").
    evidence = max(0, distinct_values(stats) - stats["empty"])
    if stats["formats"] and non_empty:
        if evidence >= FORMAT_MIN_SAMPLES:
            name = stats["formats"][0]
            if stats["empty"]:
                keywords["anyOf"] = [{"format": name}, {"const": ""}]
            else:
                keywords["format"] = name
            return keywords  # values of a format are data, not an enumeration
        withheld = True
    values = stats["values"]
    if alone and values is not None and not withheld and not is_pattern_like(values):
        if distinct_values(stats) >= ENUM_MIN_SAMPLES:
            keywords["enum"] = sorted(values) + ([None] if nullable else [])
        # Below the threshold almost every string field is a candidate: the
        # enclosing object's sample count already says how thin the evidence is.
    if withheld:
        keywords[SAMPLES] = stats["n"]
    return keywords


def _array(stats: dict) -> dict:
    schema: dict = {"type": "array"}
    if stats["items"]:
        schema["items"] = publish(stats["items"])
    return schema


def _object(stats: dict) -> dict:
    schema: dict = {"type": "object"}
    properties = stats.get("properties")
    if properties is None:
        schema["additionalProperties"] = publish(stats["additional"])
        return schema
    if not properties:
        return schema
    if all(map(is_id_key, properties)):
        schema["additionalProperties"] = publish(merge(*properties.values()))
        return schema
    names = sorted(properties)
    schema["properties"] = {name: publish(properties[name]) for name in names}
    seen = stats["n"]
    if seen >= REQUIRED_MIN_SAMPLES:
        required = [name for name in names if count(properties[name]) == seen]
        if required:
            schema["required"] = required
    else:
        schema[SAMPLES] = seen
    return schema


def is_id_key(key: str) -> bool:
    """Keys that name an entity rather than a field: integers, uuids, long hex."""
    return bool(
        _INTEGER_KEY.fullmatch(key)
        or (len(key) == 36 and _UUID_KEY.fullmatch(key))
        or (len(key) >= MAP_MIN_HEX_KEY_LENGTH and _HEX_KEY.fullmatch(key))
    )
