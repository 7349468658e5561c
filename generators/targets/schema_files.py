"""Write one JSON Schema file per endpoint and status, for contract assertions in any language.

``OUT/<service>/<method>-<template>-<status>.schema.json`` holds the published
response schema; when JSON request bodies were seen, ``...-request.schema.json``
holds theirs. Each carries ``x-freshmock`` (endpoint, last observed, samples).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from freshmock.generators.model.endpoint import Endpoint, Model
from freshmock.generators.targets.emit import (
    json_has,
    mapping_name,
    remove_stale,
    slug,
    write_generated,
)
from freshmock.generators.targets.stamp import SCHEMA_KEY, json_stamp
from freshmock.generators.targets.templating import environment


@dataclass(frozen=True)
class WrittenSchema:
    service: str
    path: Path
    endpoint: Endpoint


def _document(endpoint: Endpoint, part: str) -> dict | None:
    published = endpoint.response_schema if part == "response" else endpoint.request_schema
    if not published:
        return None
    return {**published, SCHEMA_KEY: {  # a copy: the model's schema stays as published
        **json_stamp(endpoint),
        "part": part,
    }}


def write_schema_files(
    model: Model,
    out_dir: Path,
    service: str | None = None,
    templates_dir: Path | None = None,
) -> list[WrittenSchema]:
    env = environment(templates_dir)
    written: list[WrittenSchema] = []
    for service_name, endpoints in model.by_service(service):
        folder = out_dir / slug(service_name)
        folder.mkdir(parents=True, exist_ok=True)
        names = defaultdict(int)
        for endpoint in endpoints:
            names[mapping_name(endpoint, False)] += 1
        for endpoint in endpoints:
            base = mapping_name(endpoint, names[mapping_name(endpoint, False)] > 1)
            base = base.removesuffix(".json")
            for part, suffix in (("response", ""), ("request", "-request")):
                document = _document(endpoint, part)
                if document is None:
                    continue
                target = folder / f"{base}{suffix}.schema.json"
                text = env.get_template("schema.json.j2").render(document=document)
                write_generated(target, text)
                written.append(WrittenSchema(service_name, target, endpoint))
        remove_stale(folder, "*.schema.json", {stub.path for stub in written},
                     json_has(SCHEMA_KEY))
    if service is None:  # a dependency no longer observed: its schemas go too
        written_dirs = {stub.path.parent for stub in written}
        for folder in sorted(p for p in out_dir.iterdir() if p.is_dir()):
            if folder not in written_dirs:
                remove_stale(folder, "*.schema.json", (), json_has(SCHEMA_KEY))
    return written
