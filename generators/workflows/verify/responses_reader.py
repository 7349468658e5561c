"""``responses`` recorder files: the YAML (or TOML) ``responses._add_from_file`` loads.

``responses: [{response: {method, url, status, body, content_type, ...}}]``, as
``responses._recorder.record(file_path=...)`` writes them and as people write
them by hand. TOML files carry the same keys in ``[[responses]]`` tables.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from freshmock.generators.workflows.verify.claims import claim_from_value
from freshmock.generators.workflows.verify.interaction import (
    MockFileError,
    MockInteraction,
    PathMatcher,
    normalise_media_type,
)
from freshmock.generators.workflows.verify.yaml_nodes import YamlError, line, load_with_nodes, walk

_TOML_TABLE = re.compile(r"^[ \t]*\[\[[ \t]*responses[ \t]*\]\]", re.MULTILINE)


def looks_like_responses_file(document) -> bool:
    return (isinstance(document, dict) and isinstance(document.get("responses"), list)
            and all(isinstance(r, dict) and isinstance(r.get("response"), dict)
                    for r in document["responses"]))


def read_responses_file(path: Path, text: str) -> list[MockInteraction]:
    if path.suffix == ".toml":
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise MockFileError(f"{path}: not valid TOML ({error})") from None
        starts = [text.count("\n", 0, m.start()) + 1 for m in _TOML_TABLE.finditer(text)]
        lines = lambda index: starts[index] if index < len(starts) else 1  # noqa: E731
    else:
        try:
            document, root = load_with_nodes(text)
        except YamlError as error:
            raise MockFileError(f"{path}: not a YAML responses file ({error})") from None
        lines = lambda index: line(walk(root, "responses", index))  # noqa: E731
    if not looks_like_responses_file(document):
        raise MockFileError(f"{path}: no 'responses' list of {{response: ...}} entries")
    out = []
    for index, item in enumerate(document["responses"]):
        response = item["response"]
        raw = response.get("body")
        body = None
        if isinstance(raw, str) and raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        media_type = normalise_media_type(response.get("content_type")
                                          or headers.get("content-type"))
        out.append(MockInteraction(
            source=path, line=lines(index), entry=f"responses[{index}]", format="responses",
            method=str(response.get("method", "GET")).upper(),
            path=PathMatcher("exact", urlsplit(str(response.get("url", ""))).path or "/"),
            status=int(response.get("status", 200)),
            # responses' own default content type is text/plain; a JSON body sent
            # with it still parses as JSON, so the claim compares the body
            media_type=media_type if raw else "",
            body=body, claim=claim_from_value(body) if body is not None else None,
        ))
    return out
