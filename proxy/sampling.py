"""Which bodies to keep: a per-endpoint hourly budget that never misses a new shape.

An endpoint here is a cheap key (service, method, and the path with numeric,
UUID and long hex or token segments collapsed): the real path templating lives
in ``generators/``, which the sidecar never imports. Within one hour of
observation time an endpoint keeps at most ``budget`` bodies; past that, an
observation keeps its bodies only if their shape (status, media types, and
the set of JSON key paths with their types) has not been seen before.
Sampled-out observations are still written, without bodies.

Memory is bounded: at most ``max_endpoints`` endpoints (least recently seen
forgotten first) and ``max_shapes`` shapes per endpoint.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from urllib.parse import parse_qsl

from freshmock.proxy.json_text import INVALID, UNPARSED, parse_or_invalid

_UUID = re.compile(r"[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]{16,}")
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{24,}")
_DIGIT = re.compile(r"\d")


def collapse_segment(segment: str) -> str:
    if segment.isdigit():
        return "{n}"
    if _UUID.fullmatch(segment):
        return "{uuid}"
    if _HEX.fullmatch(segment):
        return "{hex}"
    if _TOKEN.fullmatch(segment) and _DIGIT.search(segment):
        return "{token}"
    return segment


def endpoint_key(service: str, method: str, path: str) -> str:
    """``svc GET /users/{n}/orders`` for ``/users/42/orders?x=1``."""
    path = path.split("?", 1)[0]
    collapsed = "/".join(collapse_segment(segment) for segment in path.split("/"))
    return f"{service} {method} {collapsed}"


# --- Shapes -------------------------------------------------------------------

MAX_SHAPE_PATHS = 2000  # a body with more distinct paths is cut here, deterministically


_SUFFIX = {
    dict: ":object",
    list: ":array",
    str: ":string",
    int: ":integer",
    float: ":number",
    bool: ":boolean",
    type(None): ":null",
}
_CONTAINERS = (dict, list)


def json_paths(value) -> set[str]:
    """``{"$:object", "$.id:integer", "$.tags[]:string", ...}`` for a parsed JSON value.

    Array items share one path (``[]``); object keys that are ids (numbers,
    UUIDs) collapse like path segments, so a map keyed by id has one shape.
    Exact, and fast on the usual list of alike objects: an item whose keys and
    value types were already seen at its path adds nothing but what its nested
    objects and arrays hold, so only those are walked.
    """
    paths: set[str] = set()
    keys: dict[str, str] = {}
    seen_items: dict[str, dict] = {}

    def key(name: str) -> str:
        collapsed = keys.get(name)
        if collapsed is None:
            collapsed = keys[name] = "." + collapse_segment(str(name))
        return collapsed

    def walk(node, path: str) -> None:
        kind = type(node)
        paths.add(path + _SUFFIX.get(kind, ":object"))
        if len(paths) >= MAX_SHAPE_PATHS:
            return
        if kind is dict:
            for name, child in node.items():
                walk(child, path + key(name))
        elif kind is list:
            item_path = path + "[]"
            kinds = set(map(type, node))
            if dict not in kinds and list not in kinds:  # scalars only: no need to visit each
                paths.update(item_path + _SUFFIX.get(item_kind, ":object") for item_kind in kinds)
                return
            # item signature (keys, value types) -> the keys holding objects or arrays
            signatures = seen_items.setdefault(item_path, {})
            for item in node:
                item_kind = type(item)
                if item_kind is dict:
                    signature = (tuple(item), tuple(map(type, item.values())))
                    nested = signatures.get(signature)
                    if nested is not None:
                        for name in nested:
                            walk(item[name], item_path + key(name))
                        continue
                    signatures[signature] = tuple(
                        name for name, child in item.items() if type(child) in _CONTAINERS
                    )
                    walk(item, item_path)
                elif item_kind is list:
                    walk(item, item_path)
                else:
                    paths.add(item_path + _SUFFIX.get(item_kind, ":object"))

    walk(value, "$")
    return paths


def shapes_as_json(media_type: str) -> bool:
    """Whether ``body_shape`` parses a body of this media type as JSON."""
    return media_type == "application/json" or media_type.endswith("+json")


def body_shape(media_type: str, data: bytes | None, truncated: bool, document=UNPARSED) -> tuple:
    """What a body looks like, for novelty: JSON key paths and types, form keys.

    ``document``: ``data`` already parsed (``INVALID`` if it is not JSON), so
    that the worker parses a body once for its shape and its redaction.
    """
    if not data:
        return (media_type, "empty")
    if truncated:
        return (media_type, "truncated")
    if shapes_as_json(media_type):
        if document is UNPARSED:
            document = parse_or_invalid(data)
        if document is not INVALID:
            try:
                return (media_type, *sorted(json_paths(document)))
            except RecursionError:
                pass
        return (media_type, "invalid")
    if media_type == "application/x-www-form-urlencoded":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return (media_type, "invalid")
        return (media_type, *sorted({collapse_segment(k) for k, _ in parse_qsl(text)}))
    return (media_type,)


def shape_digest(*parts) -> bytes:
    return hashlib.blake2b(repr(parts).encode("utf-8", "surrogatepass"), digest_size=16).digest()


# --- The sampler --------------------------------------------------------------


class _Endpoint:
    __slots__ = ("hour", "kept", "shapes")

    def __init__(self) -> None:
        self.hour = -1
        self.kept = 0
        self.shapes: OrderedDict[bytes, None] = OrderedDict()


class Sampler:
    """``keep(endpoint, shape, at)``: whether this observation keeps its bodies.

    ``budget`` 0 keeps every body.
    """

    def __init__(self, budget: int, max_endpoints: int = 10_000, max_shapes: int = 1024) -> None:
        self.budget = budget
        self.max_endpoints = max_endpoints
        self.max_shapes = max_shapes
        self._endpoints: OrderedDict[str, _Endpoint] = OrderedDict()

    def keep(self, endpoint: str, shape: bytes, at: float) -> bool:
        state = self._endpoints.get(endpoint)
        if state is None:
            state = self._endpoints[endpoint] = _Endpoint()
            if len(self._endpoints) > self.max_endpoints:
                self._endpoints.popitem(last=False)
        else:
            self._endpoints.move_to_end(endpoint)
        hour = int(at // 3600)
        if hour != state.hour:
            state.hour, state.kept = hour, 0
        new_shape = shape not in state.shapes
        if new_shape:
            state.shapes[shape] = None
            if len(state.shapes) > self.max_shapes:
                state.shapes.popitem(last=False)
        if new_shape or not self.budget or state.kept < self.budget:
            state.kept += 1
            return True
        return False
