"""VCR.py cassettes (YAML, as vcrpy writes them): ``interactions`` of request and response.

Each interaction: ``request.method``/``uri``; ``response.status.code``,
``headers`` (lists of values), ``body.string`` (text, or bytes for
``!!binary``, gzip-decoded when the recorded Content-Encoding says so).
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from freshmock.generators.workflows.verify.claims import claim_from_value
from freshmock.generators.workflows.verify.interaction import (
    MockFileError,
    MockInteraction,
    PathMatcher,
    answer_media_type,
    normalise_media_type,
)
from freshmock.generators.workflows.verify.yaml_nodes import YamlError, line, load_with_nodes, walk
from freshmock.proxy.operations import operation_of


def looks_like_cassette(document) -> bool:
    return (isinstance(document, dict) and isinstance(document.get("interactions"), list)
            and all(isinstance(i, dict) and "request" in i and "response" in i
                    for i in document["interactions"]))


def header(headers: dict, name: str):
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value[0] if isinstance(value, list) and value else value
    return None


def body_text(response: dict) -> str | None:
    raw = (response.get("body") or {}).get("string")
    if isinstance(raw, bytes):
        encoding = (header(response.get("headers"), "content-encoding") or "").lower()
        try:
            if encoding == "gzip":
                raw = gzip.decompress(raw)
            elif encoding == "deflate":
                raw = zlib.decompress(raw)
            raw = raw.decode("utf-8")
        except (OSError, zlib.error, UnicodeDecodeError, EOFError):
            return None
    return raw if isinstance(raw, str) else None


def read_cassette(path: Path, text: str) -> list[MockInteraction]:
    try:
        document, root = load_with_nodes(text)
    except YamlError as error:
        raise MockFileError(f"{path}: not a YAML cassette ({error})") from None
    out = []
    for index, item in enumerate(document["interactions"]):
        request, response = item.get("request") or {}, item.get("response") or {}
        url = urlsplit(str(request.get("uri", "")))
        status = response.get("status") or {}
        code = status.get("code") if isinstance(status, dict) else status
        raw = body_text(response)
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        node = walk(root, "interactions", index)
        interaction = MockInteraction(
            source=path, line=line(node), entry=f"interactions[{index}]", format="vcr",
            method=str(request.get("method", "GET")).upper(),
            path=PathMatcher("exact", url.path or "/"), status=int(code or 200),
            media_type=answer_media_type(header(response.get("headers"), "content-type"),
                                         bool(raw)),
            body=body, claim=claim_from_value(body) if body is not None else None,
            operation=_operation(request),
            handle={"index": index, "compressed": isinstance(
                (response.get("body") or {}).get("string"), bytes)},
        )
        out.append(interaction)
    return out


def _operation(request: dict) -> str:
    """The operation the recorded request names, read as the sidecar reads it."""
    uri = urlsplit(str(request.get("uri", "")))
    headers = [(k, v) for k, values in (request.get("headers") or {}).items()
               for v in (values if isinstance(values, list) else [values])]
    body = request.get("body")
    if isinstance(body, str):
        body = body.encode("utf-8")
    media_type = normalise_media_type(header(request.get("headers"), "content-type")) or ""
    return operation_of(uri.path, uri.query, headers, media_type,
                        body if isinstance(body, bytes) else None)[0]
