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

from freshmock.proxy.bodies import is_json_media_type
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

    Exact, and walked breadth-wise: all the values found at one path are
    handled together, so the types at a path are one ``set(map(type, ...))``
    and the children of every object there are gathered by key in one loop.
    On a list of 230 alike 8-field items (50 KB) that is ~4x faster than
    visiting each value on its own; it runs on every body that may be sampled
    out, before any redaction.
    """
    paths: set[str] = set()
    keys: dict[str, str] = {}

    def key(name: str) -> str:
        collapsed = keys.get(name)
        if collapsed is None:
            collapsed = keys[name] = "." + collapse_segment(str(name))
        return collapsed

    def walk(values: list, path: str) -> None:
        kinds = set(map(type, values))
        if len(kinds) == 1:
            (kind,) = kinds
            paths.add(path + _SUFFIX.get(kind, ":object"))
            if kind not in _CONTAINERS:
                return
        else:
            paths.update(path + _SUFFIX.get(kind, ":object") for kind in kinds)
        if len(paths) >= MAX_SHAPE_PATHS:
            return
        if dict in kinds:
            children: dict[str, list] = {}
            for node in values:
                if type(node) is dict:
                    for name, child in node.items():
                        found = children.get(name)
                        if found is None:
                            children[name] = [child]
                        else:
                            found.append(child)
            for name, found in children.items():
                if len(found) == 1 and type(found[0]) not in _CONTAINERS:  # the usual leaf
                    paths.add(path + key(name) + _SUFFIX.get(type(found[0]), ":object"))
                else:
                    walk(found, path + key(name))
                if len(paths) >= MAX_SHAPE_PATHS:
                    return
        if list in kinds:
            items = [item for node in values if type(node) is list for item in node]
            if items:
                walk(items, path + "[]")

    walk([value], "$")
    return paths


def shapes_as_json(media_type: str) -> bool:
    """Whether ``body_shape`` parses a body of this media type as JSON."""
    return is_json_media_type(media_type)


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
