"""Write WireMock mapping files, one per endpoint and status.

Layout: ``OUT/<service>/mappings/<method>-<template>-<status>.json``, so each
service folder is a WireMock ``--root-dir`` of its own. For one method and
template, the most observed status answers every path (``urlPathTemplate``);
any other status answers only the exact request it was observed on (path,
query parameters, body), at a higher priority, so a recorded 404 for
``/users/999`` or a 422 for one invalid POST does not shadow the successes.
A variant that nothing distinguishes from the main mapping is still written,
at a lower priority, as a record of what the dependency answered.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import sqlite_utils

from freshmock.generators.emit import (
    endpoints_by_service,
    json_has,
    remove_stale,
    slug,
    write_generated,
)
from freshmock.generators.exemplars import Exemplar, body_text, load_exemplar
from freshmock.generators.templating import environment
from freshmock.proxy.redaction import is_redacted

TEMPLATE_PRIORITY = 5
EXACT_REQUEST_PRIORITY = 1
INDISTINCT_VARIANT_PRIORITY = 10


@dataclass(frozen=True)
class WrittenStub:
    service: str
    path: Path
    endpoint: dict


def mapping_name(endpoint: dict, with_media_type: bool) -> str:
    parts = [endpoint["method"], slug(endpoint["path_template"])]
    if endpoint.get("operation"):
        parts.append(slug(endpoint["operation"]))
    parts.append(str(endpoint["status"]))
    if with_media_type:
        parts.append(slug(endpoint["media_type"] or "none"))
    return "-".join(slug(part) for part in parts) + ".json"


def _response_body(exemplar: Exemplar) -> tuple[str | None, object]:
    if exemplar.has_response_json():
        return "jsonBody", exemplar.response_json
    data = exemplar.response_body
    if not data:
        return None, None
    text = body_text(data)
    if text is not None:
        return "body", text
    return "base64Body", base64.b64encode(data).decode("ascii")


def _dominant_statuses(endpoints: list[dict]) -> dict[tuple, int]:
    by_route: dict[tuple, list[dict]] = defaultdict(list)
    for endpoint in endpoints:
        by_route[(endpoint["method"], endpoint["path_template"])].append(endpoint)
    return {
        route: min(group, key=lambda e: (-e["observations"], e["status"]))["status"]
        for route, group in by_route.items()
    }


# Request headers that can change the answer for the same path and body
# (content negotiation, conditional requests, header-routed APIs). Only these
# are compared: others (User-Agent, tracing ids) would pin a stub to one client.
DISTINGUISHING_HEADERS = ("Accept", "Content-Type", "If-Match", "If-None-Match",
                          "If-Modified-Since", "Prefer", "SOAPAction", "X-Amz-Target",
                          "X-HTTP-Method-Override")


def _header_matchers(exemplar: Exemplar, dominant: Exemplar | None) -> dict:
    """Headers of the variant's request that the main mapping's request did not send alike."""
    matchers = {}
    for name in DISTINGUISHING_HEADERS:
        value = exemplar.request_header(name)
        if value is None or is_redacted(value):
            continue
        if dominant is None or dominant.request_header(name) != value:
            matchers[name] = {"equalTo": value}
    return matchers


def _variant_matchers(exemplar: Exemplar) -> tuple[dict, list]:
    """Query and body matchers that single out the exemplar's request."""
    query = {
        name: {"equalTo": value}
        for name, value in parse_qsl(exemplar.query, keep_blank_values=True)
        if not is_redacted(value)
    }
    body_patterns = []
    if "request" in exemplar.synthesized:
        return query, body_patterns  # never match on a body nobody sent
    if exemplar.has_request_json():
        body_patterns.append({"equalToJson": exemplar.request_json})
    elif (text := body_text(exemplar.request_body)) is not None:
        body_patterns.append({"equalTo": text})
    return query, body_patterns


def render_mapping(env, endpoint: dict, exemplar: Exemplar, dominant: bool,
                   main: Exemplar | None = None) -> str:
    """``main``: the exemplar of the route's dominant mapping, when this is a variant."""
    body_field, body = _response_body(exemplar)
    headers = {}
    if exemplar.response_media_type:
        headers["Content-Type"] = exemplar.header("content-type") or exemplar.response_media_type
    query, body_patterns, request_headers, priority = {}, [], {}, TEMPLATE_PRIORITY
    if not dominant:
        query, body_patterns = _variant_matchers(exemplar)
        request_headers = _header_matchers(exemplar, main)
        distinct = (query or body_patterns or request_headers
                    or exemplar.path != endpoint["path_template"])
        priority = EXACT_REQUEST_PRIORITY if distinct else INDISTINCT_VARIANT_PRIORITY
    metadata = {
        "service": endpoint["service"],
        "endpoint": f"{endpoint['method']} {endpoint['path_template']}",
        **({"operation": endpoint["operation"], "discriminator": endpoint["discriminator"]}
           if endpoint.get("operation") else {}),
        "status": endpoint["status"],
        "media_type": endpoint["media_type"],
        "first_observed": endpoint["first_seen"],
        "last_observed": endpoint["last_seen"],
        "observations": endpoint["observations"],
        "exemplar": {"method": exemplar.method, "url": exemplar.url},
        "exemplar_truncated": exemplar.response_truncated,
        **({"synthesized": list(exemplar.synthesized)} if exemplar.synthesized else {}),
        "request_schema": json.loads(endpoint["request_schema"] or "null"),
        "response_schema": json.loads(endpoint["response_schema"] or "null"),
        # what `freshmock diff --against` compares current traffic with
        "request_stats": json.loads(endpoint.get("request_stats") or "null"),
        "response_stats": json.loads(endpoint.get("response_stats") or "null"),
    }
    return env.get_template("wiremock_mapping.json.j2").render(
        method=endpoint["method"],
        path_template=endpoint["path_template"],
        exact_path=None if dominant else exemplar.path,
        query_parameters=query,
        request_headers=request_headers,
        body_patterns=body_patterns,
        status=endpoint["status"],
        headers=headers,
        body_field=body_field,
        body=body,
        priority=priority,
        metadata=metadata,
    )


def write_wiremock(
    db: sqlite_utils.Database,
    out_dir: Path,
    service: str | None = None,
    templates_dir: Path | None = None,
) -> list[WrittenStub]:
    """Render every endpoint; remove mappings this tool wrote earlier that no longer apply."""
    env = environment(templates_dir)
    written: list[WrittenStub] = []
    for service_name, endpoints in endpoints_by_service(db, service):
        mappings = out_dir / slug(service_name) / "mappings"
        mappings.mkdir(parents=True, exist_ok=True)
        dominant = _dominant_statuses(endpoints)
        name_counts: dict[str, int] = defaultdict(int)
        for endpoint in endpoints:
            name_counts[mapping_name(endpoint, False)] += 1
        exemplars = [load_exemplar(db, endpoint) for endpoint in endpoints]
        main: dict[tuple, Exemplar] = {}
        for endpoint, exemplar in zip(endpoints, exemplars, strict=True):
            route = (endpoint["method"], endpoint["path_template"])
            if dominant[route] == endpoint["status"]:
                main.setdefault(route, exemplar)
        keep: set[Path] = set()
        for endpoint, exemplar in zip(endpoints, exemplars, strict=True):
            name = mapping_name(endpoint, name_counts[mapping_name(endpoint, False)] > 1)
            route = (endpoint["method"], endpoint["path_template"])
            is_dominant = dominant[route] == endpoint["status"]
            text = render_mapping(env, endpoint, exemplar, is_dominant, main.get(route))
            target = mappings / name
            write_generated(target, text)
            keep.add(target)
            written.append(WrittenStub(service_name, target, endpoint))
        remove_stale(mappings, "*.json", keep, json_has("metadata", "freshmock"))
    if service is None:  # a dependency no longer observed: its mappings go too
        written_dirs = {stub.path.parent for stub in written}
        for folder in sorted(out_dir.glob("*/mappings")):
            if folder not in written_dirs:
                remove_stale(folder, "*.json", (), json_has("metadata", "freshmock"))
    return written
