"""What a mock claims about a body, as a statistics node the drift rules can compare.

A mock is an assertion, not a sample: a field its body shows is one the
consumer's tests rely on being there, every time. So a claim is the
statistics of the mock's value seen ``CLAIM_WEIGHT`` times: far past every
baseline threshold of ``drift_rules`` (5 observations a side; a Fisher test
of 1,000,000 claimed objects against 30 current ones is as decisive as 30
allow), so the drift rules judge only the evidence on today's side. Value
sets are dropped: a mock's example value is not an enumeration, and drift
never compares values anyway.

Schemas (OpenAPI) and Pact matchers claim what a consumer *accepts*: a
nullable field, one of several types, "any number". Such claims are
``permissive`` and are narrowed to the types today's traffic shows before
comparing (``fit_to``), so accepting null is never "null no longer sent", and
an optional property today's traffic never sends is never "removed".
"""

from __future__ import annotations

from freshmock.generators.model.schema import observe
from freshmock.generators.model.schema.formats import FORMATS
from freshmock.generators.model.schema.stats import count

CLAIM_WEIGHT = 1_000_000
# An optional property of a schema: present in half the claimed objects, so
# it is never "always present" (no became-optional when today's objects lack
# it sometimes); when today's objects never carry it, ``fit_to`` drops it.
OPTIONAL_SHARE = 0.5
_MAX_SCHEMA_DEPTH = 32  # recursive $refs stop here


def claim_from_value(value) -> dict:
    """The claim of a body a mock returns as is."""
    return weighted(observe({}, value))


def weighted(node: dict, weight: float = CLAIM_WEIGHT) -> dict:
    out = {}
    for kind, stats in node.items():
        scaled = dict(stats, n=round(stats["n"] * weight))
        if kind == "string":
            scaled["empty"] = round(stats["empty"] * weight)
            scaled["values"] = None
        elif kind == "array":
            scaled["items"] = weighted(stats["items"], weight)
        elif kind == "object":
            if "properties" in stats:
                scaled["properties"] = {k: weighted(v, weight)
                                        for k, v in stats["properties"].items()}
            else:
                scaled["additional"] = weighted(stats["additional"], weight)
        out[kind] = scaled
    return out


def as_map(node: dict) -> dict:
    """An object claim whose keys are free (Pact ``values``/``eachKey``): one node for all."""
    from freshmock.generators.model.schema import merge

    stats = node.get("object")
    if stats is not None and "properties" in stats:
        values = list(stats.pop("properties").values())
        stats["additional"] = merge(*values) if values else {}
    return node


def fit_to(claim: dict, current: dict) -> dict:
    """A permissive claim narrowed to the types ``current`` shows, where they overlap."""
    if not claim or not current:
        return claim
    kept = {kind: stats for kind, stats in claim.items() if kind in current}
    if not kept:
        return claim
    # the types dropped were accepted, not claimed: the field is as present as before
    total, kept_total = count(claim), count(kept)
    out = {}
    for kind, stats in kept.items():
        stats = dict(stats)
        if kept_total and kept_total != total:
            stats["n"] = round(stats["n"] * total / kept_total)
            if kind == "string":
                stats["empty"] = round(stats["empty"] * total / kept_total)
        if kind == "array":
            stats["items"] = fit_to(stats["items"], current["array"]["items"])
        elif kind == "object" and "properties" in stats:
            theirs = current["object"].get("properties") or {}
            # An optional property (claimed in fewer objects than its parent) that
            # today's traffic never sends was accepted, not claimed: the drift rules
            # would call it optional-property-removed, yet the schema allows exactly
            # that absence. A required one stays, so its absence is property-removed.
            stats["properties"] = {k: fit_to(v, theirs.get(k, {}))
                                   for k, v in stats["properties"].items()
                                   if k in theirs or count(v) >= stats["n"]}
        out[kind] = stats
    return out


def claim_from_schema(schema: dict, resolve, weight: float = CLAIM_WEIGHT, depth: int = 0) -> dict:
    """The claim of a JSON Schema (OpenAPI 3.0 or 3.1): the types it accepts, permissively.

    ``resolve`` turns a ``$ref`` into the schema it names.
    """
    if depth > _MAX_SCHEMA_DEPTH or not isinstance(schema, dict):
        return {}
    if "$ref" in schema:
        return claim_from_schema(resolve(schema["$ref"]), resolve, weight, depth + 1)
    node: dict = {}
    for combined in ("allOf",):
        parts = [resolve(p["$ref"]) if "$ref" in p else p for p in schema.get(combined, [])]
        if parts:
            merged = _merge_all_of(parts, resolve, depth)
            return claim_from_schema({**schema, **merged, "allOf": []} if merged else {},
                                     resolve, weight, depth + 1)
    # A value has one type: alternatives share the weight, so the node's count
    # (a property's presence) is the weight whatever the number of types.
    for alternative in ("oneOf", "anyOf"):
        parts = schema.get(alternative, [])
        for part in parts:
            _union(node, claim_from_schema(part, resolve, weight / len(parts), depth + 1))
    kinds = _types(schema)
    for kind in kinds:
        _union(node, _claim_of_type(kind, schema, resolve, weight / len(kinds), depth))
    return node


def _merge_all_of(parts: list[dict], resolve, depth: int) -> dict:
    merged: dict = {"properties": {}, "required": []}
    for part in parts:
        if "$ref" in part:
            part = resolve(part["$ref"])
        if "allOf" in part and depth < _MAX_SCHEMA_DEPTH:
            part = _merge_all_of(part["allOf"], resolve, depth + 1) | {
                k: v for k, v in part.items() if k != "allOf"}
        merged["properties"].update(part.get("properties", {}))
        merged["required"] += part.get("required", [])
        for key, value in part.items():
            if key not in ("properties", "required"):
                merged.setdefault(key, value)
    if merged["properties"] and "type" not in merged:
        merged["type"] = "object"
    return merged


def _types(schema: dict) -> list[str]:
    declared = schema.get("type")
    if declared is None:
        if "properties" in schema or "additionalProperties" in schema:
            declared = "object"
        elif "items" in schema:
            declared = "array"
        elif "enum" in schema:
            declared = sorted({_json_type(v) for v in schema["enum"]})
        else:
            return []
    kinds = [declared] if isinstance(declared, str) else list(declared)
    if schema.get("nullable") is True:  # OpenAPI 3.0
        kinds.append("null")
    return kinds


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "string")


def _claim_of_type(kind: str, schema: dict, resolve, weight: float, depth: int) -> dict:
    n = round(weight)
    if kind in ("null", "boolean"):
        return {kind: {"n": n}}
    if kind == "integer":
        return {"integer": {"n": n, "min": 0, "max": 0}}
    if kind == "number":  # a JSON Schema number accepts integers too
        half = round(weight / 2)
        return {"integer": {"n": half, "min": 0, "max": 0},
                "number": {"n": n - half, "min": 0, "max": 0}}
    if kind == "string":
        declared = schema.get("format")
        formats = [declared] if declared in FORMATS else []
        return {"string": {"n": n, "empty": 0, "formats": formats, "values": None}}
    if kind == "array":
        items = claim_from_schema(schema.get("items", {}), resolve, weight, depth + 1)
        return {"array": {"n": n, "items": items}}
    if kind == "object":
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        if not properties and isinstance(additional, dict):
            return {"object": {"n": n, "additional": claim_from_schema(
                additional, resolve, weight, depth + 1)}}
        required = set(schema.get("required", []))
        claimed = {}
        for name, child in (properties or {}).items():
            share = 1 if name in required else OPTIONAL_SHARE
            claimed[name] = claim_from_schema(child, resolve, weight * share, depth + 1)
        return {"object": {"n": n, "properties": claimed}}
    return {}


def _union(target: dict, other: dict) -> None:
    from freshmock.generators.model.schema import merge_into

    for kind, stats in other.items():
        if kind in target:
            continue  # one claim per type: the first alternative states it
        merge_into(target, {kind: stats})
