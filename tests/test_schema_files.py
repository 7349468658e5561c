"""--target jsonschema: one schema file per endpoint and status, valid and true to traffic."""

from __future__ import annotations

import json

import jsonschema

from freshmock.generators.model.json_bodies import has_body, json_body
from freshmock.generators.model.paths import template_matches
from freshmock.generators.model.publish import read_model
from freshmock.generators.targets.schema_files import write_schema_files
from freshmock.proxy.store import iter_observations, open_store

from conftest import demo_then_generate
from golden_store import build_golden_store


def test_one_valid_schema_per_endpoint_and_status_that_every_body_satisfies(tmp_path):
    out = demo_then_generate(tmp_path, "jsonschema")
    db = tmp_path / "s.db"
    folder = out / "demo-shop"
    names = sorted(p.name for p in folder.glob("*.schema.json"))
    assert "get-users-user_id-200.schema.json" in names
    assert "post-users-201-request.schema.json" in names
    assert len([n for n in names if not n.endswith("-request.schema.json")]) == 8

    schemas = {}
    for path in folder.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        meta = schema["x-freshmock"]
        schemas[(meta["endpoint"], meta["status"], meta["part"])] = schema
    checked = 0
    for row in iter_observations(open_store(db)):
        body = json_body(row["response_media_type"], row["response_body"])
        if not has_body(body):
            continue
        for (endpoint, status, part), schema in schemas.items():
            method, template = endpoint.split(" ", 1)
            if (part == "response" and status == row["status"] and method == row["method"]
                    and template_matches(template, row["path"])):
                jsonschema.Draft202012Validator(schema).validate(body)
                checked += 1
    assert checked == 36


def test_schemas_of_endpoints_no_longer_observed_are_removed_but_foreign_files_kept(tmp_path):
    db = build_golden_store(tmp_path / "store.db")
    written = write_schema_files(read_model(db), tmp_path / "out")
    folder = written[0].path.parent
    stale = folder / "get-gone-200.schema.json"
    stale.write_text(json.dumps({"type": "object", "x-freshmock": {}}))
    handwritten = folder / "contract.schema.json"
    handwritten.write_text(json.dumps({"type": "object"}))
    write_schema_files(read_model(db), tmp_path / "out")
    assert not stale.exists() and handwritten.exists()
    assert all(stub.path.exists() for stub in written)
