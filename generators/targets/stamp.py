"""Freshness stamps: written into every stub and read back from it, in one place.

Every target states, per stub, what it rests on: the endpoint, when its
dependency was first and last observed, and on how many samples. The writers
take those values from here ready to place (a dict for a JSON document or a
pytest module's ``ENDPOINTS`` entry, a whole comment line for a VCR.py
cassette), and :func:`read_stamps` finds them again through the written
format's own structure (JSON keys, a Python module's constants parsed with
``ast``, the cassette's stamp lines, whose grammar lives only here), never
through the wording around them. So a user's template (``--templates``) may
move or reword everything else and ``freshmock check`` still reads the same
ages; a file freshmock wrote whose stamp is gone is reported, never taken as
fresh.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from freshmock.generators.model.endpoint import Endpoint

# JSON targets: WireMock mappings carry the stamp under metadata.freshmock,
# JSON Schema files under x-freshmock, OpenAPI documents per operation.
WIREMOCK_KEYS = ("metadata", "freshmock")
SCHEMA_KEY = "x-freshmock"
OPENAPI_LAST_OBSERVED = "x-freshmock-last-observed"
OPENAPI_OBSERVATIONS = "x-freshmock-observations"

# VCR.py cassettes are YAML that vcrpy reads strictly (interactions, version):
# the stamp rides in comment lines, each one whole from this module.
CASSETTE_PREFIX = "# freshmock: VCR.py cassette of "
_CASSETTE_SUFFIX = ", replaying recorded exemplars"
NO_MEDIA_TYPE = "no media type"
_INTERACTION_LINE = re.compile(
    r"^# freshmock: (?P<method>[A-Z]+) (?P<template>/\S*) (?P<status>\d{3}) (?P<media>.+?); "
    r"last observed (?P<last>\S+); (?P<count>\d+) samples? since (?P<first>\S+)$")


def observed(endpoint: Endpoint) -> dict:
    """The freshness fields every per-stub stamp holds (JSON targets and pytest entries)."""
    return {"first_observed": endpoint.first_seen, "last_observed": endpoint.last_seen,
            "observations": endpoint.observations}


def json_stamp(endpoint: Endpoint) -> dict:
    """A WireMock mapping's ``metadata.freshmock`` / a schema file's ``x-freshmock`` core."""
    return {"service": endpoint.service,
            "endpoint": f"{endpoint.method} {endpoint.path_template}",
            "status": endpoint.status, "media_type": endpoint.media_type, **observed(endpoint)}


def openapi_stamp(last_seen: Iterable[str], observations: Iterable[int]) -> dict:
    """An OpenAPI operation's (or ``info``'s) stamp over the endpoints it stands for."""
    return {OPENAPI_LAST_OBSERVED: max(last_seen), OPENAPI_OBSERVATIONS: sum(observations)}


def cassette_stamp(service: str) -> str:
    """A cassette's first line: which dependency it replays (also how refresh knows it).

    Raw text, like :func:`interaction_stamp`."""
    return f"{CASSETTE_PREFIX}{service}{_CASSETTE_SUFFIX}"


def interaction_stamp(endpoint: Endpoint) -> str:
    """The comment line above a cassette interaction stating its endpoint's freshness.

    Raw text: the cassette writer escapes it onto one comment line (its ``yaml_comment``).
    """
    e = endpoint
    plural = "s" if e.observations != 1 else ""
    return (f"# freshmock: {e.method} {e.path_template} {e.status} "
            f"{e.media_type or NO_MEDIA_TYPE}; last observed {e.last_seen}; "
            f"{e.observations} sample{plural} since {e.first_seen}")


def is_pytest_module(text: str) -> bool:
    """A module freshmock wrote: ``SERVICE`` and ``ENDPOINTS`` defined at module level."""
    return _module_constants(text) is not None


def is_cassette(text: str) -> bool:
    return any(line.startswith(CASSETTE_PREFIX) for line in text.splitlines())


@dataclass
class FileStamps:
    """What one file freshmock wrote states: a stamp per stub, and each stub without one."""

    stamps: list[tuple[str, str]] = field(default_factory=list)  # (endpoint, last observed)
    missing: list[str] = field(default_factory=list)  # why a stub has no readable stamp

    def read(self, endpoint: str, holder: dict, key: str, where: str) -> None:
        """``holder[key]`` is ``endpoint``'s stamp; without it, say where it is missing."""
        if isinstance(holder.get(key), str):
            self.stamps.append((endpoint, holder[key]))
        else:
            self.missing.append(f"{endpoint}: no {key} in {where}")

    def or_none_found(self, why: str) -> FileStamps:
        """Itself, with ``why`` as missing when it holds no stub at all."""
        if not self.stamps and not self.missing:
            self.missing.append(why)
        return self


def read_stamps(path: Path) -> FileStamps | None:
    """The stamps of a file freshmock wrote; None for a file it did not write."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if path.suffix == ".json":
        try:
            document = json.loads(text)
        except ValueError:
            return None
        return _json_stamps(document) if isinstance(document, dict) else None
    if path.suffix == ".py":
        return _pytest_stamps(text)
    if path.suffix == ".yaml":
        return _cassette_stamps(text)
    return None


def _json_stamps(document: dict) -> FileStamps | None:
    meta = document.get(WIREMOCK_KEYS[0], {})
    meta = meta.get(WIREMOCK_KEYS[1]) if isinstance(meta, dict) else None
    if meta is None:
        meta = document.get(SCHEMA_KEY)
    if isinstance(meta, dict):
        endpoint = (f"{meta.get('service', '?')} {meta.get('endpoint', '?')} "
                    f"{meta.get('status', '')}").strip()
        found = FileStamps()
        found.read(endpoint, meta, "last_observed", "its freshmock metadata")
        return found
    info = document.get("info")
    if "openapi" in document and isinstance(info, dict) and OPENAPI_LAST_OBSERVED in info:
        return _openapi_stamps(str(info.get("title", "?")), document.get("paths"))
    return None


def _openapi_stamps(service: str, paths) -> FileStamps:
    found = FileStamps()
    for template, operations in sorted((paths or {}).items()):
        for method, operation in sorted(operations.items()):
            if not isinstance(operation, dict):
                continue
            found.read(f"{service} {method.upper()} {template}", operation,
                       OPENAPI_LAST_OBSERVED, "its operation")
    return found.or_none_found(f"{service}: no operations")


def _module_constants(text: str) -> dict | None:
    """SERVICE and ENDPOINTS of a generated pytest module, read without running it."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    constants = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in ("SERVICE", "ENDPOINTS")):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                return None
    if not isinstance(constants.get("SERVICE"), str) or not isinstance(
            constants.get("ENDPOINTS"), list):
        return None
    return constants


def _pytest_stamps(text: str) -> FileStamps | None:
    constants = _module_constants(text)
    if constants is None:
        return None
    found = FileStamps()
    for entry in constants["ENDPOINTS"]:
        if not isinstance(entry, dict):
            found.missing.append(f"{constants['SERVICE']}: an entry that is not a dict")
            continue
        status = (entry.get("response") or {}).get("status", "")
        endpoint = (f"{constants['SERVICE']} {entry.get('method', '?')} "
                    f"{entry.get('path_template', '?')} {status}").strip()
        found.read(endpoint, entry, "last_observed", "its ENDPOINTS entry")
    return found.or_none_found(f"{constants['SERVICE']}: no ENDPOINTS")


def _cassette_stamps(text: str) -> FileStamps | None:
    lines = text.splitlines()
    service = next((line[len(CASSETTE_PREFIX):].removesuffix(_CASSETTE_SUFFIX)
                    for line in lines if line.startswith(CASSETTE_PREFIX)), None)
    stamped = [m for m in map(_INTERACTION_LINE.match, lines) if m]
    if service is None and not stamped:
        return None  # no freshmock stamp line at all: a cassette someone else recorded
    prefix = f"{service} " if service else ""
    found = FileStamps([(f"{prefix}{m['method']} {m['template']} {m['status']}", m["last"])
                        for m in stamped])
    if service is None:
        found.missing.append(f"no {CASSETTE_PREFIX.strip()}... line naming the dependency")
    try:
        interactions = (yaml.safe_load(text) or {}).get("interactions") or []
    except (yaml.YAMLError, AttributeError):
        interactions = []
    if len(stamped) < len(interactions):
        found.missing.append(f"{len(interactions) - len(stamped)} of {len(interactions)} "
                             "interactions have no freshness line")
    elif not stamped:
        found.missing.append(f"{service}: no interaction has a freshness line")
    return found
