"""Find the mocks under the paths a user names and read each with its format's reader.

A file's format is told by its content, not its name: a WireMock mapping
has ``request``/``response`` (or ``mappings``), a Pact contract ``consumer``,
``provider`` and ``interactions``, a cassette ``interactions`` of
request/response pairs, a ``responses`` file a ``responses`` list, an
OpenAPI document ``openapi: 3.x``. Files of none of these are skipped (and
counted), so a folder of mocks can hold anything else beside them.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from freshmock.generators.workflows.verify.interaction import MockFileError, MockInteraction
from freshmock.generators.workflows.verify.locate import json_locator, yaml_locator
from freshmock.generators.workflows.verify.openapi_reader import looks_like_openapi, read_openapi
from freshmock.generators.workflows.verify.pact_reader import looks_like_pact, read_pact
from freshmock.generators.workflows.verify.responses_reader import (
    looks_like_responses_file,
    read_responses_file,
)
from freshmock.generators.workflows.verify.vcr_reader import looks_like_cassette, read_cassette
from freshmock.generators.workflows.verify.wiremock_reader import looks_like_wiremock, read_wiremock
from freshmock.generators.workflows.verify.yaml_nodes import YamlError, load_with_nodes

_SUFFIXES = (".json", ".yaml", ".yml", ".toml")


@dataclass
class MockSet:
    interactions: list[MockInteraction] = field(default_factory=list)
    files: dict[Path, str] = field(default_factory=dict)  # file → format
    skipped: list[Path] = field(default_factory=list)  # not a mock format


def read_mocks(paths: list[Path]) -> MockSet:
    found = MockSet()
    for path in paths:
        if not path.exists():
            raise MockFileError(f"{path}: no such file or folder")
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _SUFFIXES
                       and "__files" not in p.parts) if path.is_dir() else [path]
        for file in files:
            interactions, kind = read_file(file)
            if kind is None:
                found.skipped.append(file)
                continue
            found.files[file] = kind
            found.interactions += interactions
    return found


def read_file(path: Path) -> tuple[list[MockInteraction], str | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MockFileError(f"{path}: cannot be read ({error})") from None
    if path.suffix == ".json":
        try:
            document = json.loads(text)
        except ValueError as error:
            raise MockFileError(f"{path}: not valid JSON ({error})") from None
        if looks_like_pact(document):
            return read_pact(path, document, json_locator(text)), "pact"
        if looks_like_openapi(document):
            return read_openapi(path, document, json_locator(text)), "openapi"
        if looks_like_wiremock(document):
            return read_wiremock(path, text), "wiremock"
        if looks_like_cassette(document):  # vcrpy's JSON serializer
            return read_cassette(path, text), "vcr"
        return [], None
    if path.suffix == ".toml":
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return [], None
        if looks_like_responses_file(document):
            return read_responses_file(path, text), "responses"
        return [], None
    try:
        document, root = load_with_nodes(text)
    except YamlError as error:
        raise MockFileError(f"{path}: not valid YAML ({error})") from None
    if looks_like_cassette(document):
        return read_cassette(path, text), "vcr"
    if looks_like_responses_file(document):
        return read_responses_file(path, text), "responses"
    if looks_like_openapi(document):
        return read_openapi(path, document, yaml_locator(root)), "openapi"
    if looks_like_pact(document):
        return read_pact(path, document, yaml_locator(root)), "pact"
    return [], None
