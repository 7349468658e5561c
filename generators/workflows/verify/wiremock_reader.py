"""WireMock stub mappings (any, not only freshmock's): files of one mapping or of
``{"mappings": [...]}``, as WireMock loads them from ``mappings/``.

Request matching as WireMock documents it: ``url`` and ``urlPath`` are exact,
``urlPathTemplate`` a template, ``urlPathPattern`` and ``urlPattern`` regular
expressions (the latter over path and query). The response body is
``jsonBody``, ``body``, ``base64Body`` or ``bodyFileName`` (under the root's
``__files/``); status 200 when unstated.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

from freshmock.generators.workflows.verify.claims import claim_from_value
from freshmock.generators.workflows.verify.interaction import (
    MockFileError,
    MockInteraction,
    PathMatcher,
    answer_media_type,
)
from freshmock.generators.workflows.verify.json_spans import Span, line_of, parse_spans

_URL_KEYS = (("url", "exact", True), ("urlPath", "exact", False),
             ("urlPathTemplate", "template", False), ("urlPathPattern", "regex", False),
             ("urlPattern", "regex", True))


def looks_like_wiremock(document) -> bool:
    if isinstance(document, dict) and isinstance(document.get("mappings"), list):
        return True
    return isinstance(document, dict) and isinstance(document.get("request"), dict) and (
        isinstance(document.get("response"), dict))


def read_wiremock(path: Path, text: str) -> list[MockInteraction]:
    try:
        root = parse_spans(text)
    except ValueError as error:
        raise MockFileError(f"{path}: not valid JSON ({error})") from None
    if "mappings" in root.members:
        mappings = [(f"mappings[{i}]", span)
                    for i, span in enumerate(root.members["mappings"][1].items)]
    else:
        mappings = [("mapping", root)]
    out = []
    for entry, span in mappings:
        if isinstance(span.value, dict) and "request" in span.value:
            out.append(_interaction(path, text, entry, span))
    return out


def _interaction(path: Path, text: str, entry: str, span: Span) -> MockInteraction:
    request = span.value.get("request") or {}
    response = span.value.get("response") or {}
    matcher = PathMatcher("regex", ".*", True)
    for key, kind, with_query in _URL_KEYS:
        if isinstance(request.get(key), str):
            value = request[key]
            if kind == "exact" and with_query:
                value, _, _ = value.partition("?")
            matcher = PathMatcher(kind, value, with_query and kind == "regex")
            break
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    body, body_source = _body(path, response)
    media_type = answer_media_type(_first(headers.get("content-type")), _has_body(response))
    if media_type is None and "jsonBody" in response:
        media_type = "application/json"
    interaction = MockInteraction(
        source=path, line=line_of(text, span.start),
        entry=span.value.get("name") or span.value.get("id") or entry,
        format="wiremock", method=str(request.get("method", "ANY")).upper(), path=matcher,
        status=int(response.get("status", 200)), media_type=media_type, body=body,
        claim=claim_from_value(body) if body is not None else None,
        operation=_operation(request),
        handle={"span": span, "body_source": body_source},
    )
    if response.get("proxyBaseUrl"):
        interaction.notes.append("proxies to a live service: nothing mocked to check")
        interaction.claim = None
    return interaction


def _has_body(response: dict) -> bool:
    """Whether the mapping answers with a body at all (an empty string is none)."""
    return "jsonBody" in response or "bodyFileName" in response or any(
        response.get(key) not in (None, "") for key in ("body", "base64Body"))


def _first(value):
    return value[0] if isinstance(value, list) and value else value


def _body(path: Path, response: dict):
    """(parsed JSON body or None, where it came from)."""
    if "jsonBody" in response:
        return response["jsonBody"], "jsonBody"
    raw = None
    if isinstance(response.get("body"), str):
        raw, source = response["body"], "body"
    elif isinstance(response.get("base64Body"), str):
        try:
            raw, source = base64.b64decode(response["base64Body"]).decode("utf-8"), "base64Body"
        except (binascii.Error, UnicodeDecodeError):
            return None, None
    elif isinstance(response.get("bodyFileName"), str):
        file = body_file(path, response["bodyFileName"])
        if file is None:
            return None, None
        raw, source = file.read_text(encoding="utf-8", errors="replace"), "bodyFileName"
    if raw is None:
        return None, None
    try:
        return json.loads(raw), source
    except ValueError:
        return None, None  # not JSON: status and media type are still checked


def body_file(mapping: Path, name: str) -> Path | None:
    for root in (mapping.parent.parent, mapping.parent):
        candidate = root / "__files" / name
        if candidate.is_file():
            return candidate
    return None


def _operation(request: dict) -> str:
    """The operation discriminator a request matcher pins (X-Amz-Target, Action, GraphQL)."""
    for name, pattern in (request.get("headers") or {}).items():
        if name.lower() == "x-amz-target" and isinstance(pattern, dict) and "equalTo" in pattern:
            return str(pattern["equalTo"])
    for name, pattern in (request.get("queryParameters") or {}).items():
        if name == "Action" and isinstance(pattern, dict) and "equalTo" in pattern:
            return str(pattern["equalTo"])
    for pattern in request.get("bodyPatterns") or []:
        wanted = pattern.get("equalToJson") if isinstance(pattern, dict) else None
        if isinstance(wanted, str):
            try:
                wanted = json.loads(wanted)
            except ValueError:
                wanted = None
        if isinstance(wanted, dict) and isinstance(wanted.get("operationName"), str):
            return wanted["operationName"]
    return ""
