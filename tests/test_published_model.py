"""The typed published model: ``publish`` writes it, every target reads it, no SQL after.

A ``Model`` built by ``publish`` and one rebuilt from its export (what ``pull``
does, with no store in between) give the writers byte-identical input; a
writer runs on endpoints made by hand, with SQLite unable to open a file.
"""

from __future__ import annotations

import ast
import json
import re
import sqlite3
from pathlib import Path

import pytest

from freshmock.generators.model.endpoint import Endpoint, Model, Window
from freshmock.generators.model.publish import RowRecordings, publish, read_model
from freshmock.generators.model.tables import list_endpoints
from freshmock.generators.targets import TARGETS
from freshmock.generators.workflows.export import (
    ExportError,
    Snapshot,
    export_document,
    export_model,
    iter_json,
    replayed_observations,
)

from golden_store import build_golden_store

GENERATORS = Path(__file__).resolve().parents[1] / "generators"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def _over_the_wire(model: Model) -> dict:
    """The export ``serve`` sends for ``model``, as ``pull`` reads it back."""
    document = export_document(Snapshot(model, replayed_observations(model)))
    return json.loads(b"".join(iter_json(document)))


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Model:
    return publish(build_golden_store(tmp_path_factory.mktemp("model") / "golden.db"))


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_a_published_model_and_its_pulled_export_write_the_same_stubs(
        published, target, tmp_path, monkeypatch):
    document = _over_the_wire(published)
    # the pulled side opens no database at all
    monkeypatch.setattr(sqlite3, "connect", _no_database)
    pulled = export_model(document)
    assert isinstance(pulled.recordings, RowRecordings)
    assert [e.row() for e in pulled.endpoints] == [e.row() for e in published.endpoints]
    monkeypatch.undo()
    written = TARGETS[target].writer()(published, tmp_path / "generated")
    monkeypatch.setattr(sqlite3, "connect", _no_database)
    again = TARGETS[target].writer()(pulled, tmp_path / "pulled")
    assert written and len(again) == len(written)
    generated = _tree(tmp_path / "generated")
    assert generated and _tree(tmp_path / "pulled") == generated


def _no_database(*args, **kwargs):
    raise AssertionError("a writer opened a database")


def test_every_published_row_round_trips_through_an_endpoint(published):
    rows = list_endpoints(published.recordings.db)
    assert len(rows) == len(published.endpoints) >= 7
    assert [Endpoint.from_row(row).row() for row in rows] == rows
    assert published.services == ("shop-users",)
    assert all(isinstance(e.response_schema, dict) for e in published.endpoints
               if e.media_type == "application/json")


def test_writers_leave_the_model_as_published(published, tmp_path):
    """Schemas are parsed once and shared: a writer that changed one would change the next."""
    before = [e.row() for e in published.endpoints]
    for name, target in sorted(TARGETS.items()):
        target.writer()(published, tmp_path / name)
    assert [e.row() for e in published.endpoints] == before
    assert before == [e.row() for e in read_model(published.recordings.db).endpoints]


def _hand_built() -> Model:
    observation = {
        "id": 7, "observed_at": "2026-11-30T12:00:00.000000Z", "service": "pets",
        "method": "GET", "path": "/pets/41", "query": "", "request_headers": "[]",
        "request_media_type": None, "request_body": None, "request_body_truncated": 0,
        "status": 200, "response_headers": json.dumps([["content-type", "application/json"]]),
        "response_media_type": "application/json", "response_body": b'{"id": 41, "name": "Rex"}',
        "response_body_truncated": 0, "response_body_sha256": None, "response_body_size": 25,
        "sampled_out": 0, "error": None, "operation": "", "discriminator": "",
    }
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
              "required": ["id", "name"]}
    endpoint = Endpoint(
        service="pets", method="GET", path_template="/pets/{pet_id}", operation="", status=200,
        media_type="application/json", observations=3,
        first_seen="2026-11-29T08:00:00.000000Z", last_seen="2026-11-30T12:00:00.000000Z",
        response_schema=schema, exemplar_id=7,
    ).with_exemplar(observation)
    return Model(Window(days=7, since="2026-11-24"), (endpoint,), RowRecordings([observation]))


def test_a_writer_runs_on_hand_built_endpoints_with_no_database(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite3, "connect", _no_database)
    model = _hand_built()
    (stub,) = TARGETS["wiremock"].writer()(model, tmp_path / "wiremock")
    mapping = json.loads(stub.path.read_text())
    assert mapping["request"] == {"method": "GET", "urlPathTemplate": "/pets/{pet_id}"}
    assert mapping["response"]["jsonBody"] == {"id": 41, "name": "Rex"}
    assert mapping["metadata"]["freshmock"]["observations"] == 3
    (document,) = TARGETS["openapi"].writer()(model, tmp_path / "openapi")
    get = document.document["paths"]["/pets/{pet_id}"]["get"]
    assert get["responses"]["200"]["content"]["application/json"]["example"] == {
        "id": 41, "name": "Rex"}
    assert get["parameters"][0]["schema"] == {"type": "integer"}  # from the exemplar's path
    (schema_file,) = TARGETS["jsonschema"].writer()(model, tmp_path / "schemas")
    written = json.loads(schema_file.path.read_text())
    assert written["required"] == ["id", "name"] and written["x-freshmock"]["service"] == "pets"
    assert "x-freshmock" not in model.endpoints[0].response_schema  # the model is unchanged


def test_an_export_with_one_observation_twice_is_refused_in_one_line(published):
    document = _over_the_wire(published)
    document["exemplars"].append(dict(document["exemplars"][0]))
    with pytest.raises(ExportError, match="malformed export: one exemplar id twice"):
        export_model(document)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_targets_hold_no_sql_and_publish_is_the_one_writer_of_endpoints():
    for path in sorted((GENERATORS / "targets").glob("*.py")):
        imported = _imports(path)
        assert not imported & {"sqlite3", "sqlite_utils", "freshmock.proxy.store",
                               "freshmock.generators.model.tables"}, path.name
        others = {f"freshmock.generators.targets.{p.stem}" for p in path.parent.glob("*.py")
                  if p.stem not in ("__init__", "emit", "variants", "stub_headers",
                                    "templating", "stamp", path.stem)}
        assert not imported & others, f"{path.name} imports another target"
    writers = sorted(str(p.relative_to(GENERATORS)) for p in GENERATORS.rglob("*.py")
                     if re.search(r"(?<!def )replace_endpoints\(", p.read_text()))
    assert writers == ["model/publish.py"]
