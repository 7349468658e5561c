"""OpenAPI 3.1 documents: valid per openapi-spec-validator, exemplars valid per their schemas."""

from __future__ import annotations

import http.client
import json
import os
import subprocess

import jsonschema
import pytest
from openapi_spec_validator import validate

from freshmock.generators.model.tables import list_endpoints
from freshmock.proxy.store import get_observation, open_store

from conftest import REPO, demo_then_generate, freshmock_command, running_peer


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    out = demo_then_generate(tmp_path_factory.mktemp("openapi"), "openapi")
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


PRISM = REPO / ".peers" / "node_modules" / ".bin" / "prism"
SAMPLE_VALUES = {"integer": "3", "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}


def _get(port: int, method: str, path: str, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=None if body is None else json.dumps(body),
                           headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def prism(document):
    path, _ = document
    assert PRISM.exists(), f"{PRISM} is missing: `make peers` installs Prism from npm"
    # -p 0: Prism binds a free port and prints "Prism is listening on http://127.0.0.1:P"
    with running_peer([str(PRISM), "mock", "-h", "127.0.0.1", "-p", "0", str(path)],
                      r"listening on http://127\.0\.0\.1:(\d+)", "/health", "Prism",
                      env={**os.environ, "SCARF_ANALYTICS": "false"}) as ready:
        yield ready


def test_prism_serves_every_operation_with_its_observed_example(prism, document):
    path, doc = document
    # ground truth is what went over the wire: each endpoint's recorded exemplar in the
    # store the document was generated from (demo_then_generate's s.db), not the
    # document's own example, which would make the check circular
    db = open_store(path.parent.parent / "s.db")
    recorded = {(e["method"], e["path_template"], e["status"]): json.loads(
        get_observation(db, e["exemplar_id"])["response_body"]) for e in list_endpoints(db)}
    served = 0
    for template, operations in doc["paths"].items():
        for method, operation in operations.items():
            path = template
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                value = SAMPLE_VALUES.get(schema.get("format") or schema["type"], "x")
                path = path.replace("{" + parameter["name"] + "}", value)
            success = min(s for s in operation["responses"] if s.startswith("2"))
            request = operation.get("requestBody", {}).get("content", {})
            body = next(iter(request.values()))["example"] if request else None
            status, headers, payload = _get(prism, method.upper(), path, body)
            assert status == int(success), (method, path, payload[:300])
            assert "sl-violations" not in {k.lower() for k in headers}, (method, path, headers)
            key = (method.upper(), template, int(success))
            assert json.loads(payload) == recorded[key], key
            served += 1
    assert served == 6
