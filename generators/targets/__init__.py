"""Every stub format ``freshmock generate`` writes, by name.

Each writer takes ``(model, out_dir, service=None, templates_dir=None)``:
``model`` is a ``freshmock.generators.model.endpoint.Model`` (from ``publish``
over a store, or from a pulled export), never a database; it returns what it
wrote (objects with ``service`` and ``path``). A writer reads endpoints as
attributes and asks ``model.recordings`` for recorded requests; one target
never imports another (shared pieces live in ``emit`` and ``variants``).
Imports are lazy so the CLI starts without loading every emitter.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class Target:
    name: str
    module: str
    function: str
    what: str  # plural noun for messages: "WireMock mappings"

    def writer(self):
        return getattr(import_module(f"freshmock.generators.targets.{self.module}"), self.function)


TARGETS = {
    target.name: target
    for target in (
        Target("wiremock", "wiremock", "write_wiremock", "WireMock mappings"),
        Target("openapi", "openapi", "write_openapi", "OpenAPI 3.1 documents"),
        Target("jsonschema", "schema_files", "write_schema_files", "JSON Schema files"),
        Target("pytest", "pytest_fixtures", "write_pytest_fixtures", "pytest fixture modules"),
        Target("vcr", "vcr", "write_vcr_cassettes", "VCR.py cassettes"),
    )
}
