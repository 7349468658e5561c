"""`freshmock verify` on `responses` files, OpenAPI documents and Pact contracts, each
written the way its users write them (the `responses` recorder and pact-python's own
consumer DSL against the real libraries; OpenAPI by hand), checked against the store
of the drift service recorded through the real proxy at v1 then v2.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import requests
import responses
from pact import Pact, match
from responses import _recorder
from verify_kit import drifted_store, record_more, report

from drift_service import DriftService


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return drifted_store(tmp_path_factory)


def entry_findings(result: dict) -> set[tuple]:
    return {(m["entry"], f["class"], f["kind"], None if f["path"] == "-" else f["path"])
            for m in result["mocks"] for f in m["findings"]}


# --- responses ----------------------------------------------------------------------

RECORDED_CALLS = ["/orders/3", "/users/5", "/legacy", "/reports/2", "/search"]

RESPONSES_EXPECTED = {
    ("responses[0]", "stale", "property-removed", "$.note"),
    ("responses[0]", "stale", "type-widened", "$.total"),
    ("responses[0]", "stale", "became-nullable", "$.customer.email"),
    ("responses[0]", "stale", "became-optional", "$.coupon"),
    # orders/3 (odd) had phone null at v1; at v2 every phone is a string, none null
    ("responses[0]", "stale", "type-changed", "$.customer.phone"),
    ("responses[0]", "incomplete", "format-dropped", "$.created_at"),
    ("responses[0]", "incomplete", "items-type-widened", "$.items[]"),
    ("responses[0]", "incomplete", "property-added", "$.tracking_url"),
    ("responses[1]", "stale", "type-changed", "$.nickname"),
    ("responses[1]", "stale", "became-optional", "$.name"),
    ("responses[2]", "stale", "endpoint-gone", None),
    ("responses[3]", "stale", "status-gone", None),
    ("responses[3]", "incomplete", "status-added", None),
    ("responses[4]", "unverifiable", "thin-evidence", None),
}

HAND_WRITTEN_TOML = """\
# fixtures for the invoice tests, typed by hand
[[responses]]
[responses.response]
method = "GET"
url = "http://orders.test/search"
status = 404
content_type = "application/json"
body = '{"error": "no route"}'
auto_calculate_content_length = false

[[responses]]
[responses.response]
method = "GET"
url = "http://orders.test/exports/3"
status = 200
content_type = "text/csv"
body = "a,b\\n1,2\\n"
auto_calculate_content_length = false

[[responses]]
[responses.response]
method = "GET"
url = "http://orders.test/admin/stats"
status = 200
content_type = "application/json"
body = '{"orders": 3}'
auto_calculate_content_length = false
"""


def test_responses_files_report_the_planted_findings(store, tmp_path):
    recorded = tmp_path / "recorded.yaml"
    with DriftService(1) as service:
        @_recorder.record(file_path=recorded)
        def calls():
            for path in RECORDED_CALLS:
                requests.get(service.url + path, timeout=10)

        calls()
        base = service.url
    with responses.RequestsMock() as mock:  # the recorder's file is one responses replays
        mock._add_from_file(recorded)
        assert [requests.get(base + path, timeout=10).status_code
                for path in RECORDED_CALLS] == [200, 200, 200, 200, 404]
    typed = tmp_path / "invoices.toml"
    typed.write_text(HAND_WRITTEN_TOML)
    code, result = report(store, recorded, "--fail-on", "stale")
    assert code == 1
    assert entry_findings(result) == RESPONSES_EXPECTED
    lines = recorded.read_text().splitlines()
    assert all(lines[m["line"] - 1].startswith("- response:") for m in result["mocks"])

    code, result = report(store, typed)
    assert entry_findings(result) == {
        ("responses[0]", "unverifiable", "thin-evidence", None),  # 3 calls of /search
        ("responses[2]", "unverifiable", "never-observed", None),
    }
    verdicts = {m["entry"]: (m["verdict"], m["line"]) for m in result["mocks"]}
    assert verdicts["responses[1]"] == ("fresh", 11)  # text/csv, as the dependency says today
    assert verdicts["responses[0]"][1] == 2 and verdicts["responses[2]"][1] == 20
    assert code == 0  # nothing stale; two unverifiable, one verified


# --- OpenAPI ------------------------------------------------------------------------

OPENAPI_30 = """\
openapi: 3.0.3
info: {title: orders-api, version: "1.4"}
servers:
  - url: https://orders.example.test
paths:
  /orders/{orderId}:
    get:
      parameters:
        - {name: orderId, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: one order
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Order"
              example:
                id: 42
                status: paid
                total: 120
                created_at: "2026-10-01T09:15:00Z"
                updated_at: "2026-11-03T10:00:00Z"
                customer: {name: Ada, email: ada@example.test}
                items: [{sku: SKU-1, qty: 2}]
                note: leave at the door
        "404":
          description: no such order
          content:
            application/json:
              schema: {type: object, properties: {error: {type: string}}}
  /legacy:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object, properties: {ok: {type: boolean}}}
  /reports/{reportId}:
    get:
      responses:
        "200":
          description: a report
          content:
            application/json:
              schema:
                type: object
                required: [id, rows]
                properties: {id: {type: integer}, rows: {type: integer}}
  /admin/stats:
    get:
      responses:
        "200":
          description: stats
          content:
            application/json:
              schema: {type: object}
components:
  schemas:
    Order:
      type: object
      required: [id, status, total, created_at, customer, items, note]
      properties:
        id: {type: integer}
        status: {type: string, enum: [paid, shipped]}
        total: {type: integer}
        created_at: {type: string, format: date-time}
        updated_at: {type: string, format: date-time}
        coupon: {type: string}
        customer: {$ref: "#/components/schemas/Customer"}
        items:
          type: array
          items:
            type: object
            required: [sku, qty]
            properties: {sku: {type: string}, qty: {type: integer}}
        note: {type: string}
    Customer:
      type: object
      required: [name, email]
      properties:
        name: {type: string}
        email: {type: string}
"""

ORDER = "GET /orders/{orderId} 200 application/json"
OPENAPI_30_EXPECTED = {
    (f"{ORDER} schema", "stale", "property-removed", "$.note"),
    (f"{ORDER} schema", "stale", "type-widened", "$.total"),
    (f"{ORDER} schema", "stale", "became-nullable", "$.customer.email"),
    (f"{ORDER} schema", "incomplete", "format-dropped", "$.created_at"),
    (f"{ORDER} schema", "incomplete", "items-type-widened", "$.items[]"),
    (f"{ORDER} schema", "incomplete", "property-added", "$.tracking_url"),
    # Customer declares no phone; every v2 order's customer has one (a string)
    (f"{ORDER} schema", "incomplete", "property-added", "$.customer.phone"),
    (f"{ORDER} example", "stale", "property-removed", "$.note"),
    (f"{ORDER} example", "stale", "type-widened", "$.total"),
    (f"{ORDER} example", "stale", "became-nullable", "$.customer.email"),
    (f"{ORDER} example", "incomplete", "format-dropped", "$.created_at"),
    (f"{ORDER} example", "incomplete", "items-type-widened", "$.items[]"),
    (f"{ORDER} example", "incomplete", "property-added", "$.tracking_url"),
    (f"{ORDER} example", "incomplete", "property-added", "$.coupon"),  # optional in the schema
    (f"{ORDER} example", "incomplete", "property-added", "$.customer.phone"),
    ("GET /orders/{orderId} 404 application/json schema", "unverifiable",
     "status-not-observed", None),
    ("GET /legacy 200 application/json schema", "stale", "endpoint-gone", None),
    ("GET /reports/{reportId} 200 application/json schema", "stale", "status-gone", None),
    ("GET /reports/{reportId} 200 application/json schema", "incomplete", "status-added",
     None),
    ("GET /admin/stats 200 application/json schema", "unverifiable", "never-observed", None),
}

OPENAPI_31 = {
    "openapi": "3.1.0",
    "info": {"title": "orders-api users", "version": "2"},
    "paths": {"/users/{id}": {"get": {"responses": {"200": {
        "description": "a user",
        "content": {"application/json": {"schema": {
            "type": "object", "required": ["id", "nickname", "name"],
            "properties": {"id": {"type": "integer"}, "nickname": {"type": "string"},
                           "name": {"type": "string"},
                           "email": {"type": ["string", "null"]}}}}}}}}}},
}


def test_openapi_documents_report_the_planted_findings(store, tmp_path):
    spec = tmp_path / "orders-api.yaml"
    spec.write_text(OPENAPI_30)
    code, result = report(store, spec)
    assert code == 1
    assert entry_findings(result) == OPENAPI_30_EXPECTED
    lines = spec.read_text().splitlines()
    where = {m["entry"]: m["line"] for m in result["mocks"]}
    assert lines[where[f"{ORDER} schema"] - 1].strip() == "schema:"
    assert lines[where[f"{ORDER} example"] - 1].strip() == "example:"
    users = tmp_path / "users.json"
    users.write_text(json.dumps(OPENAPI_31, indent=2))
    code, result = report(store, users)
    # email is nullable and optional in the schema: accepting null is not stale
    assert entry_findings(result) == {
        ("GET /users/{id} 200 application/json schema", "stale", "type-changed", "$.nickname"),
        ("GET /users/{id} 200 application/json schema", "stale", "became-optional", "$.name"),
    }


# --- Pact ---------------------------------------------------------------------------

ISO_INSTANT = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def _order_body(status):
    return {
        "id": match.int(42),  # type matchers: today's ids are 200-279, not 42
        "status": status,
        "total": match.int(120),
        "created_at": match.regex("2026-10-01T09:15:00Z", regex=ISO_INSTANT),
        "customer": {"name": match.str("Ada"), "email": match.str("ada@example.test")},
        # eachLike with min 2: today's orders carry 1-3 items, so some break it
        "items": match.each_like({"sku": match.str("SKU-1"), "qty": match.int(1)}, min=2),
        "note": match.str("leave at the door"),
        "updated_at": match.str("2026-11-03T10:00:00Z"),
        "coupon": match.str("C100"),
    }


@pytest.fixture(scope="module")
def pact_file(tmp_path_factory) -> Path:
    """A v4 contract written by pact-python's consumer DSL, its mock server exercised."""
    folder = tmp_path_factory.mktemp("pacts")
    pact = Pact("shop-web", "orders-api").with_specification("V4")
    (pact.upon_receiving("an order").given("order 42 exists")
     .with_request("GET", "/orders/42")
     .will_respond_with(200)
     .with_body(_order_body(match.str("pending")), content_type="application/json"))
    (pact.upon_receiving("a pending order, by value").with_request("GET", "/orders/43")
     .will_respond_with(200)
     .with_body(_order_body("pending"), content_type="application/json"))
    (pact.upon_receiving("a user").with_request("GET", "/users/9")
     .will_respond_with(200)
     .with_body({"id": match.int(9), "nickname": match.str("ada")},
                content_type="application/json"))
    (pact.upon_receiving("the legacy check").with_request("GET", "/legacy")
     .will_respond_with(200).with_body({"ok": match.bool(True)},
                                       content_type="application/json"))
    (pact.upon_receiving("admin stats").with_request("GET", "/admin/stats")
     .will_respond_with(200).with_body({"orders": match.int(3)},
                                       content_type="application/json"))
    with pact.serve() as server:
        for path in ("/orders/42", "/orders/43", "/users/9", "/legacy", "/admin/stats"):
            assert requests.get(f"{server.url}{path}", timeout=10).status_code == 200
    pact.write_file(folder, overwrite=True)
    (written,) = folder.glob("*.json")
    return written


def test_pact_contract_from_the_dsl_is_verified_with_its_matchers(store, pact_file):
    contract = json.loads(pact_file.read_text())
    assert contract["metadata"]["pactSpecification"]["version"].startswith("4")
    code, result = report(store, pact_file)
    assert code == 1
    got = entry_findings(result)
    by_description = {}
    for entry, *finding in got:
        by_description.setdefault(entry.split("'")[1], set()).add(tuple(finding))
    shared = {
        ("stale", "type-widened", "$.total"),  # integer matcher: today's totals are decimals
        ("stale", "regex-mismatch", "$.created_at"),  # today 2026/10/.. fails the regex
        ("stale", "became-nullable", "$.customer.email"),
        ("stale", "property-removed", "$.note"),
        ("incomplete", "items-type-widened", "$.items[]"),
        ("incomplete", "property-added", "$.tracking_url"),
        # the contract's customer has no phone; every v2 order's customer has one
        ("incomplete", "property-added", "$.customer.phone"),
        ("stale", "became-optional", "$.coupon"),  # Pact needs the key; half lack it today
        ("stale", "array-min-length", "$.items"),
    }
    # a type matcher on status: "pending" is never observed, and that is fine
    assert by_description["an order"] == shared
    # the same field with no matcher is matched by equality: "pending" is not among
    # today's 45 statuses, but the drift rules decide a value set from 50 distinct-body
    # values (drift_rules.ENUM_MIN_VALUES): too few to call it never sent, and it says so
    assert by_description["a pending order, by value"] == shared | {
        ("unverifiable", "thin-evidence", "$.status")}
    assert by_description["a user"] == {("stale", "type-changed", "$.nickname"),
                                        ("incomplete", "property-added", "$.name")}
    assert by_description["the legacy check"] == {("stale", "endpoint-gone", None)}
    assert by_description["admin stats"] == {("unverifiable", "never-observed", None)}
    # no format-dropped on created_at: a regex matcher claims the regex, not the
    # example's date-time format
    lines = pact_file.read_text().splitlines()
    for mock in result["mocks"]:
        assert lines[mock["line"] - 1].strip() == "{"


def test_a_pact_equality_is_stale_once_the_value_set_is_evidence(store, pact_file, tmp_path):
    db = tmp_path / "store.db"
    shutil.copy(store, db)
    record_more(db, [("GET", f"/orders/{n}", None, {}) for n in range(245, 275)])  # 75 in all
    _, result = report(db, pact_file)
    (by_value,) = [m for m in result["mocks"] if "by value" in m["entry"]]
    status = [f for f in by_value["findings"] if f["path"] == "$.status"]
    assert [(f["class"], f["kind"]) for f in status] == [("stale", "value-not-observed")]
    assert set(status[0]["today"].split(", ")) == {"paid", "refunded", "shipped"}


def _older_contract(version: str) -> dict:
    """A contract as pact-js 9 / pact-jvm write them: v2 flat rules, v3 per-part rules."""
    body = {"id": 7, "nickname": "ada"}
    if version == "2.0.0":
        rules = {"$.body.id": {"match": "type"}, "$.body.nickname": {"match": "type"}}
    else:
        rules = {"body": {"$.id": {"matchers": [{"match": "integer"}]},
                          "$.nickname": {"matchers": [{"match": "regex", "regex": "[a-z]+"}]}}}
    return {
        "consumer": {"name": "shop-web"}, "provider": {"name": "orders-api"},
        "interactions": [{
            "description": "a user", "providerState": "user 7 exists",
            "request": {"method": "GET", "path": "/users/7"},
            "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                         "body": body,
                         "matchingRules": rules}}],
        "metadata": {"pactSpecification": {"version": version}},
    }


@pytest.mark.parametrize("version", ["2.0.0", "3.0.0"])
def test_pact_v2_and_v3_contracts_are_read_with_their_rules(store, tmp_path, version):
    path = tmp_path / "shop-web-orders-api.json"
    path.write_text(json.dumps(_older_contract(version), indent=2))
    code, result = report(store, path)
    assert code == 1
    (mock,) = result["mocks"]
    assert mock["entry"] == "interactions[0] 'a user' given user 7 exists"
    assert {(f["class"], f["kind"], f["path"]) for f in mock["findings"]} == {
        ("stale", "type-changed", "$.nickname"),  # a string before, an object today
        ("incomplete", "property-added", "$.name"),
    }
