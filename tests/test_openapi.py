"""OpenAPI 3.1 documents: valid per openapi-spec-validator, exemplars valid per their schemas."""

from __future__ import annotations

import json
import subprocess

import jsonschema
import pytest
from openapi_spec_validator import validate

from conftest import freshmock_command


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openapi")
    db, out = folder / "s.db", folder / "out"
    for command in (["demo", "--db", str(db), "--out", str(folder / "wm")],
                    ["generate", "--target", "openapi", "--db", str(db), "--out", str(out)]):
        result = subprocess.run(freshmock_command(*command), capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
    path = out / "demo-shop.openapi.json"
    return path, json.loads(path.read_text())


def test_the_document_validates_as_openapi_31(document):
    _, doc = document
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {"/health", "/users", "/users/{user_id}",
                                 "/users/{user_id}/orders", "/orders/{order_id}"}


def test_path_parameters_are_typed(document):
    _, doc = document
    (user,) = doc["paths"]["/users/{user_id}"]["get"]["parameters"]
    (order,) = doc["paths"]["/orders/{order_id}"]["get"]["parameters"]
    assert user["schema"] == {"type": "integer"} and user["in"] == "path" and user["required"]
    assert order["schema"] == {"type": "string", "format": "uuid"}


def test_every_example_validates_against_its_operations_schema(document):
    _, doc = document
    checked = 0
    for operations in doc["paths"].values():
        for operation in operations.values():
            bodies = [r.get("content", {}) for r in operation["responses"].values()]
            bodies.append(operation.get("requestBody", {}).get("content", {}))
            for content in bodies:
                for entry in content.values():
                    if "example" in entry:
                        jsonschema.Draft202012Validator(entry["schema"]).validate(entry["example"])
                        checked += 1
    assert checked >= 9


def test_operations_say_when_they_were_last_observed(document):
    _, doc = document
    get_user = doc["paths"]["/users/{user_id}"]["get"]
    assert get_user["x-freshmock-observations"] == 13  # 12 found + 1 not found
    assert get_user["responses"]["404"]["x-freshmock-observations"] == 1
    assert get_user["x-freshmock-last-observed"].endswith("Z")
    assert "requestBody" in doc["paths"]["/users"]["post"]


def test_regeneration_is_byte_identical(document, tmp_path):
    path, _ = document
    db = path.parent.parent / "s.db"
    result = subprocess.run(
        freshmock_command("generate", "--target", "openapi", "--db", str(db),
                          "--out", str(tmp_path)),
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / path.name).read_bytes() == path.read_bytes()
