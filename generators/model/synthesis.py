"""Make up a value that fits a published schema, for parts never observed.

Stubs replay real exemplars; this fills in only what no kept body shows (a
response whose bodies were all sampled out or cut at the size cap). Every
choice is drawn from a generator seeded by the caller's seed and the JSON
path of the value, so a value does not change when an unrelated part of the
schema does, and the same schema always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import random
import uuid

_FORMAT_VALUES = {
    "date-time": lambda r: f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T"
                           f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:00Z",
    "date": lambda r: f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
    "uuid": lambda r: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "email": lambda r: f"user{r.randint(1, 9999)}@example.com",
    "uri": lambda r: f"https://example.com/{r.randint(1, 9999)}",
    "ipv4": lambda r: f"192.0.2.{r.randint(1, 254)}",
}
_TYPE_ORDER = ("object", "array", "string", "integer", "number", "boolean", "null")
_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")


def _random(seed: str, path: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}\0{path}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def synthesize(schema: dict, seed: str, path: str = "$"):
    """A value valid against ``schema`` (the subset freshmock publishes)."""
    rng = _random(seed, path)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        values = [v for v in schema["enum"] if v is not None] or schema["enum"]
        return values[rng.randrange(len(values))]
    if "anyOf" in schema and "type" not in schema:
        # the first non-null branch: a stub is more useful with a value than null
        branches = [b for b in schema["anyOf"] if b.get("type") != "null"] or schema["anyOf"]
        return synthesize(branches[0], seed, path)
    kind = _pick_type(schema.get("type"))
    if kind == "object":
        return _object(schema, seed, path)
    if kind == "array":
        items = schema.get("items")
        return [synthesize(items, seed, f"{path}[0]")] if items else []
    if kind == "string":
        return _string(schema, rng)
    if kind == "integer":
        return rng.randint(int(schema.get("minimum", 1)), int(schema.get("maximum", 1000)))
    if kind == "number":
        low, high = schema.get("minimum", 0.0), schema.get("maximum", 1000.0)
        return round(rng.uniform(low, high), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return {}  # an empty schema allows anything


def _pick_type(declared) -> str | None:
    if isinstance(declared, str):
        return declared
    if isinstance(declared, list):
        for kind in _TYPE_ORDER:
            if kind in declared and (kind != "null" or len(declared) == 1):
                return kind
    return None


def _object(schema: dict, seed: str, path: str) -> dict:
    properties = schema.get("properties", {})
    value = {name: synthesize(sub, seed, f"{path}.{name}")
             for name, sub in sorted(properties.items())}
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and not properties:
        value["1"] = synthesize(extra, seed, f"{path}.*")
    return value


def _string(schema: dict, rng: random.Random) -> str:
    format_name = schema.get("format")
    if format_name is None:
        for branch in schema.get("anyOf", ()):
            format_name = format_name or branch.get("format")
    if format_name in _FORMAT_VALUES:
        return _FORMAT_VALUES[format_name](rng)
    return f"{_WORDS[rng.randrange(len(_WORDS))]}-{rng.randint(1, 999)}"
