"""Mergeable statistics of JSON values, kept as plain JSON-ready dicts.

A *node* describes every value seen at one place in a document. It maps each
JSON type seen there to that type's statistics, every one of which carries its
count ``n``::

    {"null": {"n": 2},
     "boolean": {"n": 5},
     "integer": {"n": 9, "min": 1, "max": 42},
     "number": {"n": 3, "min": 0.5, "max": 9.75},          # floats only
     "string": {"n": 12, "empty": 1, "formats": ["date-time"],
                "values": {"open": 5, "closed": 3, "": 1}, # null once past the cap
                "repeats": 3},    # copies of bodies already seen: not in values
     "array": {"n": 4, "items": NODE},
     "object": {"n": 7, "properties": {"id": NODE, ...}}}  # or {"n", "additional": NODE}

A property's presence count is the sum of its node's counts, so ``required``
needs no set bookkeeping. An object whose distinct keys pass
``MAP_MAX_PROPERTIES`` folds its properties into one ``additional`` node.

Every statistic is a homomorphism of the multiset of values (counts add,
min/max, format sets intersect, capped value sets union then re-cap), so
``merge_into`` is associative and commutative and observing values one by one
gives exactly the merge of observing them in any split. Nodes hold only dicts,
lists, strings and numbers: ``dumps``/``loads`` round-trip them exactly.
"""

from __future__ import annotations

import json

from freshmock.generators.model.schema.formats import DETECTORS, FORMATS, still_possible
from freshmock.generators.model.schema.thresholds import (
    ENUM_MAX_LENGTH,
    ENUM_MAX_VALUES,
    MAP_MAX_PROPERTIES,
)


def observe(node: dict, value, repeat: bool = False) -> dict:
    """Add one parsed JSON value to ``node`` (in place) and return ``node``.

    ``repeat``: the value is a byte-identical copy of a body already observed
    (the same example served again). It counts everywhere a count matters
    (presence, types), but adds no evidence to value-based rules: strings
    count it under ``repeats`` and leave ``values`` alone.
    """
    table = _OBSERVE_REPEAT if repeat else _OBSERVE
    try:
        table[type(value)](node, value)
    except KeyError as error:
        raise TypeError(f"not a JSON value: {error.args[0]!r}") from None
    return node


def _observe_null(node: dict, value) -> None:
    stats = node.get("null")
    if stats is None:
        node["null"] = {"n": 1}
    else:
        stats["n"] += 1


def _observe_bool(node: dict, value: bool) -> None:
    stats = node.get("boolean")
    if stats is None:
        node["boolean"] = {"n": 1}
    else:
        stats["n"] += 1


def _observe_range(node: dict, kind: str, value) -> None:
    stats = node.get(kind)
    if stats is None:
        node[kind] = {"n": 1, "min": value, "max": value}
        return
    stats["n"] += 1
    if value < stats["min"]:
        stats["min"] = value
    elif value > stats["max"]:
        stats["max"] = value


def _observe_int(node: dict, value: int) -> None:
    _observe_range(node, "integer", value)


def _observe_float(node: dict, value: float) -> None:
    # -0.0 == 0.0: keep one spelling whatever arrives first
    _observe_range(node, "number", 0.0 if value == 0.0 else value)


def _observe_str(node: dict, value: str) -> None:
    stats = node.get("string")
    if stats is None:
        stats = node["string"] = {"n": 0, "empty": 0, "formats": list(FORMATS), "values": {}}
    stats["n"] += 1
    if value:
        formats = stats["formats"]
        for name in formats:
            if not DETECTORS[name](value):
                stats["formats"] = still_possible(formats, value)
                break
    else:
        stats["empty"] += 1
    values = stats["values"]
    if values is not None:
        if value in values:
            values[value] += 1
        elif len(values) < ENUM_MAX_VALUES and len(value) <= ENUM_MAX_LENGTH:
            values[value] = 1
        else:
            stats["values"] = None


def _observe_str_repeat(node: dict, value: str) -> None:
    stats = node.get("string")
    if stats is None:
        # The copy this repeats was folded into another partial (an earlier
        # inference run of the same day): start the statistic from this value
        # for its type and formats, but not as evidence of a value set.
        _observe_str(node, value)
        stats = node["string"]
        values = stats["values"]
        if values is not None and value in values:
            del values[value]
        stats["repeats"] = 1
        return
    stats["n"] += 1
    stats["repeats"] = stats.get("repeats", 0) + 1
    if not value:
        stats["empty"] += 1


def distinct_values(stats: dict) -> int:
    """A string statistic's values that came from bodies not seen before."""
    return stats["n"] - stats.get("repeats", 0)


def _observe_list(node: dict, value: list, table=None) -> None:
    table = table or _OBSERVE
    stats = node.get("array")
    if stats is None:
        stats = node["array"] = {"n": 0, "items": {}}
    stats["n"] += 1
    items = stats["items"]
    for item in value:
        table[type(item)](items, item)


def _observe_dict(node: dict, value: dict, table=None) -> None:
    table = table or _OBSERVE
    stats = node.get("object")
    if stats is None:
        stats = node["object"] = {"n": 0, "properties": {}}
    stats["n"] += 1
    properties = stats.get("properties")
    if properties is not None and len(properties) + len(value) > MAP_MAX_PROPERTIES:
        if len(properties.keys() | value.keys()) > MAP_MAX_PROPERTIES:
            _fold(stats)
            properties = None
    if properties is None:
        additional = stats["additional"]
        for item in value.values():
            table[type(item)](additional, item)
        return
    for key, item in value.items():
        child = properties.get(key)
        if child is None:
            child = properties[key] = {}
        table[type(item)](child, item)


_OBSERVE = {
    type(None): _observe_null,
    bool: _observe_bool,
    int: _observe_int,
    float: _observe_float,
    str: _observe_str,
    list: _observe_list,
    dict: _observe_dict,
}
_OBSERVE_REPEAT = {
    **_OBSERVE,
    str: _observe_str_repeat,
    list: lambda node, value: _observe_list(node, value, _OBSERVE_REPEAT),
    dict: lambda node, value: _observe_dict(node, value, _OBSERVE_REPEAT),
}


def _fold(stats: dict) -> None:
    """Turn an object's per-key nodes into one node for all its values."""
    additional: dict = {}
    for child in stats.pop("properties").values():
        merge_into(additional, child)
    stats["additional"] = additional


def count(node: dict) -> int:
    """How many values ``node`` has seen, of any type."""
    return sum(stats["n"] for stats in node.values())


def merge_into(target: dict, source: dict) -> dict:
    """Add everything ``source`` has seen to ``target`` (in place); ``source`` is untouched."""
    for kind, stats in source.items():
        mine = target.get(kind)
        if mine is None:
            target[kind] = clone(stats)
        else:
            _MERGE[kind](mine, stats)
    return target


def merge(*nodes: dict) -> dict:
    """A new node that has seen everything each of ``nodes`` has."""
    result: dict = {}
    for node in nodes:
        merge_into(result, node)
    return result


def _merge_count(mine: dict, other: dict) -> None:
    mine["n"] += other["n"]


def _merge_range(mine: dict, other: dict) -> None:
    mine["n"] += other["n"]
    if other["min"] < mine["min"]:
        mine["min"] = other["min"]
    if other["max"] > mine["max"]:
        mine["max"] = other["max"]


def _merge_string(mine: dict, other: dict) -> None:
    mine["n"] += other["n"]
    mine["empty"] += other["empty"]
    if "repeats" in other:
        mine["repeats"] = mine.get("repeats", 0) + other["repeats"]
    if mine["formats"] != other["formats"]:
        mine["formats"] = [name for name in mine["formats"] if name in other["formats"]]
    values, others = mine["values"], other["values"]
    if values is None:
        return
    if others is None:
        mine["values"] = None
        return
    for value, seen in others.items():
        values[value] = values.get(value, 0) + seen
    if len(values) > ENUM_MAX_VALUES:
        mine["values"] = None


def _merge_array(mine: dict, other: dict) -> None:
    mine["n"] += other["n"]
    merge_into(mine["items"], other["items"])


def _merge_object(mine: dict, other: dict) -> None:
    mine["n"] += other["n"]
    properties, others = mine.get("properties"), other.get("properties")
    if properties is not None and others is not None:
        if (
            len(properties) + len(others) <= MAP_MAX_PROPERTIES
            or len(properties.keys() | others.keys()) <= MAP_MAX_PROPERTIES
        ):
            for key, child in others.items():
                if key in properties:
                    merge_into(properties[key], child)
                else:
                    properties[key] = clone(child)
            return
    if properties is not None:
        _fold(mine)
    additional = mine["additional"]
    if others is None:
        merge_into(additional, other["additional"])
    else:
        for child in others.values():
            merge_into(additional, child)


_MERGE = {
    "null": _merge_count,
    "boolean": _merge_count,
    "integer": _merge_range,
    "number": _merge_range,
    "string": _merge_string,
    "array": _merge_array,
    "object": _merge_object,
}


def clone(value):
    """A deep copy of plain JSON data (faster than ``copy.deepcopy``)."""
    if type(value) is dict:
        return {key: clone(item) for key, item in value.items()}
    if type(value) is list:
        return list(value)  # only format names: strings
    return value


def dumps(node: dict) -> str:
    """Canonical JSON text: equal nodes give equal bytes."""
    # ASCII escapes keep lone surrogates (valid in JSON text) storable as UTF-8.
    return json.dumps(node, sort_keys=True, separators=(",", ":"))


def loads(text: str) -> dict:
    return json.loads(text)
