"""What the golden files show, asserted directly: each target's stubs replay the
recorded Content-Type and say when their dependency was last observed.

The golden files catch any change of bytes, but accepting them (``make golden``)
accepts whatever they then hold; these tests hold the behaviour a user relies on,
whatever the layout. Request-header matchers and response headers on a real
WireMock replay: tests/test_wiremock.py. Which stub answers which request:
docs/stubs.md (one default per route, one exact stub per recorded request the
default would answer otherwise).
"""

from __future__ import annotations

import importlib.util
import json

import pytest
import requests
import responses
import yaml

from freshmock.generators.model.infer import infer_endpoints
from freshmock.generators.model.publish import read_model
from freshmock.generators.model.tables import list_endpoints
from freshmock.generators.targets import TARGETS
from freshmock.generators.targets.vcr import replay_vcr
from freshmock.proxy.store import OBSERVATIONS, get_observation, insert_observations

from golden_store import SERVICE, _row, build_golden_store

BASE_URL = "http://shop-users"


def _stores(folder, *, bodyless: bool) -> dict:
    db = build_golden_store(folder / "store.db")
    if bodyless:  # what a real 204 records: no body, no Content-Type
        row = _row(10, "DELETE", "/users/3", 204, b"", media_type="")
        row["response_headers"] = json.dumps(
            [pair for pair in json.loads(row["response_headers"])
             if pair[0].lower() != "content-type"])
        insert_observations(db, [row])
        infer_endpoints(db)
    endpoints = list_endpoints(db)
    rows = [get_observation(db, row_id) for (row_id,) in db.execute(
        f"select id from {OBSERVATIONS} order by id").fetchall()]
    model = read_model(db)
    written = {target: TARGETS[target].writer()(model, folder / target) for target in TARGETS}
    return {"endpoints": endpoints, "written": written, "rows": rows}


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    store = _stores(tmp_path_factory.mktemp("behaviour"), bodyless=False)
    assert len(store["endpoints"]) == 7  # golden_store.py: 9 requests, 7 (method, template, status)
    return store


@pytest.fixture(scope="module")
def with_bodyless(tmp_path_factory):
    """The golden store plus a DELETE answered 204 with no body: the goldens hold none."""
    store = _stores(tmp_path_factory.mktemp("bodyless"), bodyless=True)
    assert len(store["rows"]) == 10 and len(store["endpoints"]) == 8
    # Every recorded request is distinct and none gets its route's default answer but the
    # default's own: each is replayed by exactly one stub (docs/stubs.md).
    assert len({_request_key(row) for row in store["rows"]}) == len(store["rows"])
    return store


def _request_key(row: dict) -> tuple:
    return (row["method"], row["path"] + (f"?{row['query']}" if row["query"] else ""),
            row["status"])


def _recorded_content_type(row: dict) -> str | None:
    values = [v for k, v in json.loads(row["response_headers"]) if k.lower() == "content-type"]
    assert len(values) <= 1, row["response_headers"]
    return values[0] if values else None


def _content_types(headers: dict) -> list:
    return [value for name, value in headers.items() if name.lower() == "content-type"]


def _send(session, exemplar: dict):
    url = BASE_URL + exemplar["path"] + (f"?{exemplar['query']}" if exemplar["query"] else "")
    headers = {"Content-Type": exemplar["request_media_type"]} if exemplar["request_body"] else {}
    return session.request(exemplar["method"], url, data=exemplar["request_body"],
                           headers=headers)


def test_wiremock_mappings_carry_content_type_and_freshness(with_bodyless):
    rows = {_request_key(row): row for row in with_bodyless["rows"]}
    endpoints = {(e["method"], e["path_template"], e["status"]): e
                 for e in with_bodyless["endpoints"]}
    replayed, bodyless = [], 0
    for stub in with_bodyless["written"]["wiremock"]:
        mapping = json.loads(stub.path.read_text())
        meta = mapping["metadata"]["freshmock"]
        recorded = meta["exemplar"]
        key = (recorded["method"], recorded["url"], meta["status"])
        row = rows[key]  # the request this mapping replays
        replayed.append(key)
        response = mapping["response"]
        assert response["status"] == row["status"], key
        content_types = _content_types(response.get("headers", {}))
        if row["response_body"]:
            assert content_types == [_recorded_content_type(row)], key
            assert _recorded_content_type(row) == row["response_media_type"], key
        else:  # nothing to describe: a Content-Type would invent a media type
            assert (content_types, meta["media_type"]) == ([], ""), key
            assert not {"body", "jsonBody", "base64Body"} & set(response), key
            bodyless += 1
        endpoint = endpoints[(*meta["endpoint"].split(" ", 1), meta["status"])]
        assert (meta["last_observed"], meta["first_observed"], meta["observations"]) == (
            endpoint["last_seen"], endpoint["first_seen"], endpoint["observations"]), key
    assert sorted(replayed) == sorted(rows)  # one mapping per recorded request, none twice
    assert bodyless == 1

def test_openapi_responses_carry_media_type_and_freshness(golden):
    (stub,) = golden["written"]["openapi"]
    document = json.loads(stub.path.read_text())
    assert document["info"]["x-freshmock-last-observed"] == max(
        e["last_seen"] for e in golden["endpoints"])
    for endpoint in golden["endpoints"]:
        template = endpoint["path_template"]
        operation = document["paths"][template][endpoint["method"].lower()]
        response = operation["responses"][str(endpoint["status"])]
        assert list(response["content"]) == [endpoint["media_type"]], template
        assert response["x-freshmock-last-observed"] >= endpoint["last_seen"]


def test_pytest_stubs_answer_with_the_recorded_content_type_and_say_when(golden):
    (stub,) = golden["written"]["pytest"]
    spec = importlib.util.spec_from_file_location(stub.module, stub.path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.LAST_OBSERVED == max(e["last_seen"] for e in golden["endpoints"])
    stamps = {(e["method"], e["path_template"], e["response"]["status"]): e["last_observed"]
              for e in module.ENDPOINTS}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        module.register_responses(mock, BASE_URL)
        session = requests.Session()
        for row in golden["rows"]:  # each recorded request gets the answer recorded for it
            key = _request_key(row)
            answer = _send(session, row)
            assert answer.status_code == row["status"], key
            assert answer.headers["Content-Type"] == _recorded_content_type(row), key
            assert answer.content == row["response_body"] or (
                answer.json() == json.loads(row["response_body"])), key
    endpoints = {(e["method"], e["path_template"], e["status"]): e for e in golden["endpoints"]}
    assert stamps == {key: e["last_seen"] for key, e in endpoints.items()}


def test_vcr_cassettes_replay_the_recorded_content_type_and_say_when(with_bodyless):
    (stub,) = with_bodyless["written"]["vcr"]
    text = stub.path.read_text()
    for endpoint in with_bodyless["endpoints"]:
        stamp = (f"# freshmock: {endpoint['method']} {endpoint['path_template']} "
                 f"{endpoint['status']} {endpoint['media_type'] or 'no media type'}; "
                 f"last observed "
                 f"{endpoint['last_seen']}")
        assert stamp in text
    # every recorded request is distinct and answered otherwise than its route's default
    # (or is the default's own): one interaction each
    assert len(yaml.safe_load(text)["interactions"]) == len(with_bodyless["rows"]) == 10
    # the cassette's own player: it matches bodies, so POST /users replays 201 and 422
    with replay_vcr().use_cassette(str(stub.path)) as cassette:
        session = requests.Session()
        for row in with_bodyless["rows"]:
            key = _request_key(row)
            answer = _send(session, row)
            assert answer.status_code == row["status"], key
            assert answer.headers.get("Content-Type") == _recorded_content_type(row), key
            if row["response_body"]:
                assert answer.content == row["response_body"] or (
                    answer.json() == json.loads(row["response_body"])), key
            else:
                assert (answer.content, _recorded_content_type(row)) == (b"", None), key
        assert cassette.all_played


def test_schema_files_say_when_they_were_last_observed(golden):
    last_seen = {(f"{e['method']} {e['path_template']}", e["status"]): e["last_seen"]
                 for e in golden["endpoints"]}
    stamped = set()
    for stub in golden["written"]["jsonschema"]:
        meta = json.loads(stub.path.read_text())["x-freshmock"]
        key = (meta["endpoint"], meta["status"])
        assert (meta["service"], meta["last_observed"]) == (SERVICE, last_seen[key]), key
        stamped.add(key)
    assert stamped == set(last_seen) - {("GET /health", 200)}  # text/plain: no schema
