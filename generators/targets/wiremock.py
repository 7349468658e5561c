"""Write WireMock mapping files: every stub of every route (see ``variants``).

Layout: ``OUT/<service>/mappings/<stub name>.json``, so each service folder
is a WireMock ``--root-dir`` of its own. A route's default stub answers its
path template (``urlPathTemplate``) at priority 5; an exact stub answers only
requests like its recorded one (path, query parameters, body, and the
headers that predicted its answer) at priority 1; a record stub answers only
a request naming it in ``X-Freshmock-Variant``. Response headers follow
``stub_headers``. A WebSocket handshake cannot be replayed by WireMock: its
stub answers only upgrade requests, with a 501 that says so, never a 101.
``write_wiremock`` refuses to write two mappings with identical matchers at
one priority.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from freshmock.generators.model.endpoint import Endpoint, Model
from freshmock.generators.model.exemplars import Exemplar, body_text
from freshmock.generators.targets.emit import (
    json_has,
    remove_stale,
    slug,
    write_generated,
)
from freshmock.generators.targets.stamp import WIREMOCK_KEYS, json_stamp
from freshmock.generators.targets.stub_headers import body_is_verbatim, replayed_headers
from freshmock.generators.targets.templating import environment
from freshmock.generators.targets.variants import (
    DEFAULT,
    EXACT,
    RECORD,
    SWITCHING_PROTOCOLS,
    VARIANT_HEADER,
    OperationMatch,
    Stub,
    check_distinct,
    service_stubs,
)
from freshmock.proxy.redaction import is_redacted

TEMPLATE_PRIORITY = 5
EXACT_REQUEST_PRIORITY = 1
RECORD_PRIORITY = 1  # reachable only by its X-Freshmock-Variant name
NO_WEBSOCKET = 501


@dataclass(frozen=True)
class WrittenStub:
    service: str
    path: Path
    endpoint: Endpoint
    truncated: bool = False  # it replays a body cut at the cap


def stub_file_name(stub: Stub) -> str:
    """``get-users-user_id-200.json``; ``...-200-2.json`` for a route's second stub of it."""
    return slug(stub.name.replace("#", "")) + ".json"


def _response_body(exemplar: Exemplar) -> tuple[str | None, object, bytes | None]:
    """(WireMock field, its value, the bytes it sends)."""
    if exemplar.has_response_json():
        return "jsonBody", exemplar.response_json, None
    data = exemplar.response_body
    if not data:
        return None, None, b""
    text = body_text(data)
    if text is not None:
        return "body", text, data
    return "base64Body", base64.b64encode(data).decode("ascii"), data


def _headers_object(pairs) -> dict:
    """WireMock takes ``{name: value}`` or ``{name: [values]}`` for repeated headers."""
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in grouped.items()}


def _header_matchers(stub: Stub) -> dict:
    matchers = {}
    for name, value in stub.match_headers:
        if value is None:
            matchers[name] = {"absent": True}
        else:
            matchers[name] = {"equalTo": value}
            if name == "Upgrade":
                matchers[name]["caseInsensitive"] = True
    return matchers


def _exact_matchers(exemplar: Exemplar) -> tuple[dict, list]:
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
    elif exemplar.request_body:
        body_patterns.append(
            {"binaryEqualTo": base64.b64encode(exemplar.request_body).decode("ascii")})
    return query, body_patterns


def _operation_matchers(operation: OperationMatch | None) -> tuple[dict, dict, list]:
    """(headers, query parameters, body patterns) that match the route's operation."""
    if operation is None:
        return {}, {}, []
    value = ({"matches": operation.pattern} if operation.pattern
             else {"equalTo": operation.value})
    if operation.source == "header":
        return {operation.name: value}, {}, []
    if operation.source == "query":
        return {}, {operation.name: value}, []
    if operation.source == "form":  # the whole body must match: the field anywhere in it
        field = re.escape(f"{operation.name}={operation.value}")
        return {}, {}, [{"matches": f"(?s)(.*&)?{field}(&.*)?"}]
    return {}, {}, [{"matchesJsonPath": {"expression": f"$.{operation.name}", **value}}]


def _request(stub: Stub) -> dict:
    exemplar = stub.exemplar
    request: dict = {"method": stub.endpoint.method}
    headers, query, body_patterns = _operation_matchers(stub.operation)
    headers = {**headers, **_header_matchers(stub)}
    if stub.kind == EXACT:
        exact_query, exact_body = _exact_matchers(exemplar)
        query = {**query, **exact_query}
        body_patterns = body_patterns + exact_body
    if stub.kind == RECORD:
        headers[VARIANT_HEADER] = {"equalTo": stub.name}
    if query:
        request["queryParameters"] = query
    if headers:
        request["headers"] = headers
    if body_patterns:
        request["bodyPatterns"] = body_patterns
    if stub.kind == EXACT:
        request["urlPath"] = exemplar.path
    else:
        request["urlPathTemplate"] = stub.endpoint.path_template
    return request


def _response(stub: Stub) -> tuple[dict, bool]:
    exemplar = stub.exemplar
    status = stub.endpoint.status
    if status == SWITCHING_PROTOCOLS:
        return {"status": NO_WEBSOCKET, "headers": {"Content-Type": "text/plain"},
                "body": (f"freshmock: no stub for this request: {stub.name} is a WebSocket "
                         "handshake, which WireMock cannot replay\n")}, False
    field, body, sent = _response_body(exemplar)
    verbatim = sent is not None and body_is_verbatim(exemplar, sent)
    pairs = replayed_headers(exemplar.response_headers, status=status,
                             sends_body=bool(field), verbatim=verbatim)
    if exemplar.response_media_type and not any(n.lower() == "content-type" for n, _ in pairs):
        pairs.insert(0, ("Content-Type", exemplar.response_media_type))
    response: dict = {"status": status}
    if pairs:
        response["headers"] = _headers_object(pairs)
    if field:
        response[field] = body
    return response, exemplar.response_truncated


def render_mapping(env, stub: Stub, with_statistics: bool) -> tuple[str, dict, bool]:
    """The mapping's text, its request matcher and whether it replays a cut body."""
    endpoint, exemplar = stub.endpoint, stub.exemplar
    request = _request(stub)
    response, truncated = _response(stub)
    priority = TEMPLATE_PRIORITY if stub.kind == DEFAULT else (
        EXACT_REQUEST_PRIORITY if stub.kind == EXACT else RECORD_PRIORITY)
    metadata = {
        **json_stamp(endpoint),
        **({"operation": endpoint.operation, "discriminator": endpoint.discriminator}
           if endpoint.operation else {}),
        "stub": stub.kind,
        "exemplar": {"method": exemplar.method, "url": exemplar.url},
        "exemplar_truncated": truncated,
        **({"synthesized": list(exemplar.synthesized)} if exemplar.synthesized else {}),
    }
    if with_statistics:
        metadata.update({
            "request_schema": endpoint.request_schema,
            "response_schema": endpoint.response_schema,
            # what `freshmock diff --against` compares current traffic with
            "request_stats": endpoint.request_stats,
            "response_stats": endpoint.response_stats,
        })
    text = env.get_template("wiremock_mapping.json.j2").render(
        request=request, response=response, priority=priority, metadata=metadata,
        # the parts on their own, for templates that build their own mapping
        method=endpoint.method, path_template=endpoint.path_template,
        status=endpoint.status, stub=stub.kind, name=stub.name)
    return text, {"request": request, "priority": priority}, truncated


def write_wiremock(
    model: Model,
    out_dir: Path,
    service: str | None = None,
    templates_dir: Path | None = None,
) -> list[WrittenStub]:
    """Render every stub; remove mappings this tool wrote earlier that no longer apply."""
    env = environment(templates_dir)
    written: list[WrittenStub] = []
    for service_name, endpoints in model.by_service(service):
        mappings = out_dir / slug(service_name) / "mappings"
        stubs = service_stubs(model, endpoints)
        rendered, keys, with_statistics = [], [], set()
        for stub in stubs:
            first = id(stub.endpoint) not in with_statistics
            with_statistics.add(id(stub.endpoint))
            text, key, truncated = render_mapping(env, stub, first)
            rendered.append((stub, text, truncated))
            keys.append((stub.name, key))
        check_distinct(keys, f"WireMock mappings of {service_name}")
        mappings.mkdir(parents=True, exist_ok=True)
        keep: set[Path] = set()
        for stub, text, truncated in rendered:
            target = mappings / stub_file_name(stub)
            write_generated(target, text)
            keep.add(target)
            written.append(WrittenStub(service_name, target, stub.endpoint, truncated))
        remove_stale(mappings, "*.json", keep, json_has(*WIREMOCK_KEYS))
    if service is None:  # a dependency no longer observed: its mappings go too
        written_dirs = {stub.path.parent for stub in written}
        for folder in sorted(out_dir.glob("*/mappings")):
            if folder not in written_dirs:
                remove_stale(folder, "*.json", (), json_has(*WIREMOCK_KEYS))
    return written
