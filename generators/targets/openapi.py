"""Write one OpenAPI 3.1 document per dependency, from what was observed.

Templated paths with typed parameters, request and response schemas (the
published JSON Schema 2020-12, which OpenAPI 3.1 uses as is), the real
redacted exemplar as each media type's example, and ``x-freshmock-*``
extensions saying when each operation was last observed and on how many
samples it rests. Output: ``OUT/<service>.openapi.json``, deterministic bytes.

An RPC-style API (DynamoDB's ``X-Amz-Target``, STS's ``Action=``, GraphQL's
``operationName``: the endpoint's ``operation``) sends many operations to one
path and method, which OpenAPI cannot list as separate operations. They
share the path item's operation: each request body and response media type
is a ``oneOf`` with one schema per RPC operation (its ``title`` is the
operation's name, ``x-freshmock-operation`` says so too) and one named
example per operation (``examples``), and the operation lists them in
``x-freshmock-operations``: name, where a request names it
(``discriminator``), observations and last observed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from freshmock.generators.model.endpoint import Endpoint, Model
from freshmock.generators.model.exemplars import Exemplar, body_text
from freshmock.generators.model.paths import is_parameter
from freshmock.generators.targets.emit import (
    json_has,
    remove_stale,
    slug,
    write_generated,
)
from freshmock.generators.targets.stamp import (
    OPENAPI_LAST_OBSERVED,
    OPENAPI_OBSERVATIONS,
    openapi_stamp,
)
from freshmock.generators.targets.templating import environment

_INTEGER = re.compile(r"^-?\d+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
                301: "Moved Permanently", 302: "Found", 304: "Not Modified",
                400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                409: "Conflict", 410: "Gone", 422: "Unprocessable Content",
                429: "Too Many Requests", 500: "Internal Server Error",
                502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass(frozen=True)
class WrittenDocument:
    service: str
    path: Path
    document: dict


def _schema(published: dict | None) -> dict | None:
    if not published:
        return None
    # a copy without $schema: the document's jsonSchemaDialect says it once
    return {key: value for key, value in published.items() if key != "$schema"}


def _parameter_schema(values: list[str]) -> dict:
    if values and all(_INTEGER.match(v) for v in values):
        return {"type": "integer"}
    if values and all(_UUID.match(v) for v in values):
        return {"type": "string", "format": "uuid"}
    return {"type": "string"}


def _parameters(template: str, exemplar_paths: list[str]) -> list[dict]:
    names = template.split("/")
    parameters = []
    for index, segment in enumerate(names):
        if not is_parameter(segment):
            continue
        values = [p.split("/")[index] for p in exemplar_paths if len(p.split("/")) == len(names)]
        parameters.append({"name": segment[1:-1], "in": "path", "required": True,
                           "schema": _parameter_schema(values)})
    return parameters


def _request_example(exemplar: Exemplar):
    if exemplar.has_request_json():
        return exemplar.request_json
    return body_text(exemplar.request_body)


def _content(media_type: str, schema: dict | None, example) -> dict:
    entry: dict = {"schema": schema if schema is not None else {}}
    if example is not None:
        entry["example"] = example
    return {media_type or "application/octet-stream": entry}


def _add_content(content: dict, media_type: str, schema: dict | None, example,
                 operation: str) -> None:
    """One media type's schema and example; under RPC operations a oneOf and named examples."""
    key = media_type or "application/octet-stream"
    if not operation:
        content.update(_content(media_type, schema, example))
        return
    entry = content.setdefault(key, {"schema": {"oneOf": []}})
    entry["schema"]["oneOf"].append({**(schema or {}), "title": operation,
                                     "x-freshmock-operation": operation})
    if example is not None:
        entry.setdefault("examples", {})[operation] = {"value": example}


def build_document(service: str, endpoints: Sequence[Endpoint]) -> dict:
    operations: dict[tuple, list[Endpoint]] = defaultdict(list)
    for endpoint in endpoints:
        operations[(endpoint.path_template, endpoint.method.lower())].append(endpoint)
    paths: dict = {}
    for (template, method), variants in sorted(operations.items()):
        exemplars = [e.exemplar for e in variants]
        responses: dict = {}
        request_content: dict = {}
        requested: set[str] = set()
        rpc: dict[str, dict] = {}
        for endpoint, exemplar in sorted(zip(variants, exemplars, strict=True), key=lambda p: (
                p[0].status, p[0].operation, p[0].media_type or "")):
            operation = endpoint.operation
            response = responses.setdefault(str(endpoint.status), {
                "description": _STATUS_TEXT.get(endpoint.status, "Observed response"),
                OPENAPI_LAST_OBSERVED: endpoint.last_seen,
                OPENAPI_OBSERVATIONS: 0,
            })
            response[OPENAPI_OBSERVATIONS] += endpoint.observations
            response[OPENAPI_LAST_OBSERVED] = max(response[OPENAPI_LAST_OBSERVED],
                                                     endpoint.last_seen)
            example = exemplar.response_json if exemplar.has_response_json() else (
                exemplar.response_text())
            if endpoint.media_type or example is not None:
                _add_content(response.setdefault("content", {}), endpoint.media_type,
                             _schema(endpoint.response_schema), example, operation)
            request_schema = _schema(endpoint.request_schema)
            if (request_schema is not None and operation not in requested
                    and 200 <= endpoint.status < 300):
                requested.add(operation)
                _add_content(request_content, exemplar.request_media_type, request_schema,
                             _request_example(exemplar), operation)
            if operation:
                entry = rpc.setdefault(operation, {
                    "operation": operation, "discriminator": endpoint.discriminator,
                    OPENAPI_OBSERVATIONS: 0, OPENAPI_LAST_OBSERVED: ""})
                entry[OPENAPI_OBSERVATIONS] += endpoint.observations
                entry[OPENAPI_LAST_OBSERVED] = max(entry[OPENAPI_LAST_OBSERVED],
                                                      endpoint.last_seen)
        operation = {
            "operationId": slug(f"{method} {template}").replace("-", "_"),
            "responses": responses,
            **openapi_stamp((e.last_seen for e in variants),
                            (e.observations for e in variants)),
        }
        if rpc:
            operation["x-freshmock-operations"] = [rpc[name] for name in sorted(rpc)]
        parameters = _parameters(template, sorted(e.path for e in exemplars))
        if parameters:
            operation["parameters"] = parameters
        if request_content:
            operation["requestBody"] = {"content": request_content}
        paths.setdefault(template, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": service,
            "version": "observed",
            "description": f"What {service} was observed to do, recorded by freshmock.",
            **openapi_stamp((e.last_seen for e in endpoints),
                            (e.observations for e in endpoints)),
        },
        "paths": paths,
    }


def write_openapi(
    model: Model,
    out_dir: Path,
    service: str | None = None,
    templates_dir: Path | None = None,
) -> list[WrittenDocument]:
    env = environment(templates_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for service_name, endpoints in model.by_service(service):
        document = build_document(service_name, endpoints)
        target = out_dir / f"{slug(service_name)}.openapi.json"
        text = env.get_template("openapi.json.j2").render(document=document)
        write_generated(target, text)
        written.append(WrittenDocument(service_name, target, document))
    if service is None:  # every dependency was written: a document of none other is stale
        remove_stale(out_dir, "*.openapi.json", [w.path for w in written],
                     json_has("info", OPENAPI_LAST_OBSERVED))
    return written
