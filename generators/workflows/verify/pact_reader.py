"""Pact contract files, specification v2 to v4, with their matching rules honoured.

A consumer's contract claims what it relies on. Pact's matchers say how:
``type`` (and ``min``/``max`` on arrays) checks the type, never the value;
``integer``/``decimal``/``number``/``boolean``/``null`` a JSON type;
``regex`` and ``include`` the values; ``values``/``eachKey``/``eachValue``
free keys (a map). A matcher cascades to everything under it; a value under
no matcher at all is matched by equality, which traffic can check only where
today's values are a small set (see ``verdicts``). Rules are read from v2's
flat ``$.body.x`` keys and v3/v4's ``body`` → ``$.x`` → ``matchers`` lists;
v4's ``status`` rules (``statusCode: success``) widen the status.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path
from urllib.parse import urlencode

from freshmock.generators.workflows.verify.claims import as_map, claim_from_value
from freshmock.generators.workflows.verify.interaction import (
    MockInteraction,
    PathMatcher,
    ValueRule,
    normalise_media_type,
)
from freshmock.proxy.operations import operation_of

_STATUS_CLASSES = {"information": 1, "success": 2, "redirect": 3, "clientError": 4,
                   "serverError": 5, "error": None, "nonError": None}
_INDEX = re.compile(r"\[(?:\*|\d+)\]")
_QUOTED = re.compile(r"\[['\"]([^'\"]+)['\"]\]")
_NUMERIC = {"integer": ("integer",), "decimal": ("number",), "number": ("integer", "number"),
            "boolean": ("boolean",), "null": ("null",)}
_TYPE_ONLY = {"type", "date", "time", "timestamp", "datetime", "notEmpty", "semver",
              "contentType", "arrayContains"}


def looks_like_pact(document) -> bool:
    return (isinstance(document, dict) and isinstance(document.get("interactions"), list)
            and isinstance(document.get("consumer"), dict)
            and isinstance(document.get("provider"), dict))


def drift_path(pact_path: str) -> str:
    """``$.items[*].sku`` / ``$['a-b']`` → the drift report's ``$.items[].sku`` / ``$.a-b``."""
    path = _QUOTED.sub(lambda m: "." + m[1], pact_path)
    return _INDEX.sub("[]", path)


def _rules(response: dict, version: int) -> tuple[dict[str, list[dict]], list[dict]]:
    """(body rules by drift path, status matchers)."""
    raw = response.get("matchingRules") or {}
    body: dict[str, list[dict]] = {}
    status: list[dict] = []
    if version < 3 or not isinstance(raw.get("body"), dict):
        for key, rule in raw.items():
            if key.startswith("$.body") and isinstance(rule, dict):
                body[drift_path("$" + key[len("$.body"):])] = [rule]
        return body, status
    for key, rule in raw["body"].items():
        if isinstance(rule, dict):
            body[drift_path(key)] = list(rule.get("matchers") or [])
    for rule in (raw.get("status") or {}).values():
        if isinstance(rule, dict):
            status += rule.get("matchers") or []
    return body, status


def _body(response: dict):
    body = response.get("body")
    if isinstance(body, dict) and "content" in body and (
            "contentType" in body or "encoded" in body):  # v4
        content = body["content"]
        if body.get("encoded") and isinstance(content, str):
            try:
                content = json.loads(base64.b64decode(content))
            except (binascii.Error, ValueError):
                return None, body.get("contentType")
        elif isinstance(content, str):
            try:
                content = json.loads(content)
            except ValueError:
                return None, body.get("contentType")
        return content, body.get("contentType")
    return body, None


def _header(headers, name: str):
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) and value else value
    return None


def read_pact(path: Path, document: dict, locate) -> list[MockInteraction]:
    spec = str(((document.get("metadata") or {}).get("pactSpecification") or
                (document.get("metadata") or {}).get("pact-specification") or {})
               .get("version", "2"))
    version = int(spec.split(".")[0]) if spec.split(".")[0].isdigit() else 2
    out = []
    for index, item in enumerate(document["interactions"]):
        if not isinstance(item, dict) or "request" not in item or "response" not in item:
            continue  # v4 message interactions have no HTTP response to check
        request, response = item["request"], item["response"]
        body, content_type = _body(response)
        media_type = normalise_media_type(
            _header(response.get("headers"), "content-type") or content_type)
        body_rules, status_rules = _rules(response, version)
        states = ", ".join(s.get("name", "") if isinstance(s, dict) else str(s)
                           for s in item.get("providerStates") or []) or item.get(
                               "providerState", "")
        entry = f"interactions[{index}] {item.get('description', '')!r}"
        interaction = MockInteraction(
            source=path, line=locate("interactions", index),
            entry=entry + (f" given {states}" if states else ""), format="pact",
            method=str(request.get("method", "GET")).upper(),
            path=PathMatcher("exact", str(request.get("path", "/"))),
            status=int(response.get("status", 200)),
            media_type=media_type if body is not None else (media_type or ""),
            body=body, permissive=True, operation=_operation(request),
        )
        for matcher in status_rules:
            if matcher.get("match") == "statusCode":
                wanted = matcher.get("status")
                interaction.status_class = _STATUS_CLASSES.get(wanted)
                if isinstance(wanted, list):
                    interaction.notes.append(f"status matcher {wanted}: checked as stated")
                else:
                    interaction.status = None
        if body is not None:
            interaction.claim = claim_from_value(body)
            _apply(interaction, body_rules)
        out.append(interaction)
    return out


def _apply(interaction: MockInteraction, rules: dict[str, list[dict]]) -> None:
    for path, matchers in sorted(rules.items()):
        node = node_at(interaction.claim, path)
        if node is not None and matchers:
            _any_format(node)  # a matcher claims a type (or a regex), not the example's format
        for matcher in matchers:
            kind = matcher.get("match")
            if kind in _NUMERIC and node is not None:
                total = sum(stats["n"] for stats in node.values())
                kinds = _NUMERIC[kind]
                node.clear()  # the weight shared: one value has one type
                for i, t in enumerate(kinds):
                    n = total // len(kinds) + (total % len(kinds) if i == 0 else 0)
                    node[t] = {"n": n, "min": 0, "max": 0} if t in ("integer", "number") else {
                        "n": n}
            elif kind in ("values", "eachKey", "eachValue") and node is not None:
                as_map(node)
            elif kind == "regex" and "regex" in matcher:
                interaction.value_rules.append(ValueRule(path, "regex", matcher["regex"]))
            elif kind == "include" and "value" in matcher:
                interaction.value_rules.append(ValueRule(path, "include", matcher["value"]))
            elif kind == "equality":
                interaction.value_rules.append(ValueRule(path, "equality", _value_at(
                    interaction.body, path)))
            elif kind not in _TYPE_ONLY and kind is not None:
                interaction.notes.append(f"{path}: matcher {kind!r} checked by type only")
            for bound in ("min", "max"):
                if isinstance(matcher.get(bound), int):
                    interaction.value_rules.append(ValueRule(path, bound, matcher[bound]))
    _equality_leaves(interaction, interaction.body, "$", set(rules))


def _any_format(node: dict) -> None:
    for kind, stats in node.items():
        if kind == "string":
            stats["formats"] = []
        elif kind == "array":
            _any_format(stats["items"])
        elif kind == "object":
            for child in (stats.get("properties") or {"*": stats.get("additional", {})}).values():
                _any_format(child)


def _equality_leaves(interaction, value, path: str, ruled: set[str]) -> None:
    """Values under no matcher at all are matched by equality (Pact's default)."""
    if path in ruled:
        return  # a matcher here cascades to everything below
    if isinstance(value, dict):
        for key, item in value.items():
            _equality_leaves(interaction, item, f"{path}.{key}", ruled)
    elif isinstance(value, list):
        for item in value[:1]:
            _equality_leaves(interaction, item, f"{path}[]", ruled)
    elif isinstance(value, str | bool):
        interaction.value_rules.append(ValueRule(path, "equality", value))


def segments(path: str) -> list[str]:
    """``$.a.b[].c`` → ["a", "b", "[]", "c"]."""
    out = []
    for part in re.findall(r"\[\]|\.[^.\[]+", path[1:]):
        out.append("[]" if part == "[]" else part[1:])
    return out


def node_at(node: dict | None, path: str) -> dict | None:
    for part in segments(path):
        if node is None:
            return None
        if part == "[]":
            node = (node.get("array") or {}).get("items")
        else:
            node = ((node.get("object") or {}).get("properties") or {}).get(part)
    return node


def _value_at(value, path: str):
    for part in segments(path):
        if part == "[]":
            value = value[0] if isinstance(value, list) and value else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
    return value


def _operation(request: dict) -> str:
    """The operation the contract's request names, read as the sidecar reads it."""
    query = request.get("query") or ""
    if isinstance(query, dict):  # v3/v4: {name: [values]}
        query = urlencode([(k, v) for k, values in query.items()
                           for v in (values if isinstance(values, list) else [values])])
    headers = [(k, v) for k, values in (request.get("headers") or {}).items()
               for v in (values if isinstance(values, list) else [values])]
    body, content_type = _body(request)
    media_type = normalise_media_type(_header(request.get("headers"), "content-type")
                                      or content_type) or ""
    raw = json.dumps(body).encode() if body is not None and not isinstance(body, str) else (
        body.encode() if isinstance(body, str) else None)
    return operation_of(str(request.get("path", "/")), str(query), headers, media_type, raw)[0]
