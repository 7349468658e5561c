"""OpenAPI 3.0 / 3.1 documents (JSON or YAML): each operation's response schemas and examples.

Every ``paths.{template}.{method}.responses.{status}.content.{media type}``
becomes one interaction for its ``schema`` (a permissive claim: the types it
accepts) and one per ``example``/``examples`` value (a claim like a mock
body's). ``$ref``s to ``#/components/...`` are followed; a path prefix of
the first ``servers`` URL is part of the request path. ``default`` and
``2XX``-style ranges have no single status and are reported as not checkable.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from freshmock.generators.workflows.verify.claims import claim_from_schema, claim_from_value
from freshmock.generators.workflows.verify.interaction import (
    MockFileError,
    MockInteraction,
    PathMatcher,
    normalise_media_type,
)

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def looks_like_openapi(document) -> bool:
    return (isinstance(document, dict) and str(document.get("openapi", "")).startswith("3.")
            and isinstance(document.get("paths"), dict))


def read_openapi(path: Path, document: dict, locate) -> list[MockInteraction]:
    def resolve(ref: str) -> dict:
        if not ref.startswith("#/"):
            raise MockFileError(f"{path}: only local $refs are read, not {ref!r}")
        target = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise MockFileError(f"{path}: $ref {ref!r} names nothing")
            target = target[part]
        return target

    servers = document.get("servers") or [{}]
    prefix = urlsplit(str(servers[0].get("url", ""))).path.rstrip("/")
    out = []
    for template, operations in document["paths"].items():
        if not isinstance(operations, dict):
            continue
        for method in _METHODS:
            operation = operations.get(method)
            if not isinstance(operation, dict):
                continue
            for status, response in (operation.get("responses") or {}).items():
                if isinstance(response, dict) and "$ref" in response:
                    response = resolve(response["$ref"])
                where = ("paths", template, method, "responses", status)
                out += _response(path, prefix + template, method.upper(), str(status),
                                 response, where, locate, resolve)
    return out


def _response(path, template, method, status, response, where, locate, resolve):
    base = dict(source=path, format="openapi", method=method,
                path=PathMatcher("template", template))
    label = f"{method} {template} {status}"
    if not status.isdigit():
        return [MockInteraction(**base, line=locate(*where), entry=label, status=None,
                                media_type=None, status_class=int(status[0])
                                if status[:1].isdigit() else None)]
    content = response.get("content") or {}
    if not content:
        return [MockInteraction(**base, line=locate(*where), entry=label, status=int(status),
                                media_type="")]
    out = []
    for media_type, media in content.items():
        media = media if isinstance(media, dict) else {}
        at = (*where, "content", media_type)
        kind = normalise_media_type(media_type)
        if "*" in kind:
            kind = None  # a wildcard media type accepts whatever is observed
        if isinstance(media.get("schema"), dict):
            out.append(MockInteraction(
                **base, line=locate(*at, "schema"), entry=f"{label} {media_type} schema",
                status=int(status), media_type=kind,
                claim=claim_from_schema(media["schema"], resolve), permissive=True))
        examples = {}
        if "example" in media:
            examples["example"] = (media["example"], (*at, "example"))
        for name, example in (media.get("examples") or {}).items():
            if isinstance(example, dict) and "$ref" in example:
                example = resolve(example["$ref"])
            if isinstance(example, dict) and "value" in example:
                examples[f"examples.{name}"] = (example["value"], (*at, "examples", name))
        for name, (value, keys) in examples.items():
            out.append(MockInteraction(
                **base, line=locate(*keys), entry=f"{label} {media_type} {name}",
                status=int(status), media_type=kind, body=value,
                claim=claim_from_value(value)))
        if not out:
            out.append(MockInteraction(**base, line=locate(*at), entry=f"{label} {media_type}",
                                       status=int(status), media_type=kind))
    return out
