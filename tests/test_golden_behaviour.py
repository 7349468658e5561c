"""What the golden files show, asserted directly: each target's stubs replay the
recorded Content-Type and say when their dependency was last observed.

The golden files catch any change of bytes, but accepting them (``make golden``)
accepts whatever they then hold; these tests hold the behaviour a user relies on,
whatever the layout. Request-header matchers and response headers on a real
WireMock replay: tests/test_wiremock.py.
"""

from __future__ import annotations

import importlib.util
import json

import pytest
import requests
import responses
import vcr
import yaml

from freshmock.generators.targets import TARGETS
from freshmock.proxy.store import get_observation, list_endpoints

from golden_store import SERVICE, build_golden_store

BASE_URL = "http://shop-users"


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    folder = tmp_path_factory.mktemp("behaviour")
    db = build_golden_store(folder / "store.db")
    endpoints = list_endpoints(db)
    assert len(endpoints) == 7  # golden_store.py: 9 requests, 7 (method, template, status)
    written = {target: TARGETS[target].writer()(db, folder / target) for target in TARGETS}
    exemplars = {(e["method"], e["path_template"], e["status"]): get_observation(
        db, e["exemplar_id"]) for e in endpoints}
    return {"db": db, "endpoints": endpoints, "written": written, "exemplars": exemplars}


def _recorded_content_type(row: dict) -> str:
    (value,) = [v for k, v in json.loads(row["response_headers"]) if k.lower() == "content-type"]
    return value


def _send(session, exemplar: dict):
    url = BASE_URL + exemplar["path"] + (f"?{exemplar['query']}" if exemplar["query"] else "")
    headers = {"Content-Type": exemplar["request_media_type"]} if exemplar["request_body"] else {}
    return session.request(exemplar["method"], url, data=exemplar["request_body"],
                           headers=headers)


def test_wiremock_mappings_carry_content_type_and_freshness(golden):
    mappings = {}
    for stub in golden["written"]["wiremock"]:
        mapping = json.loads(stub.path.read_text())
        meta = mapping["metadata"]["freshmock"]
        mappings[(*meta["endpoint"].split(" ", 1), meta["status"])] = mapping
    for endpoint in golden["endpoints"]:
        key = (endpoint["method"], endpoint["path_template"], endpoint["status"])
        mapping, exemplar = mappings[key], golden["exemplars"][key]
        assert mapping["response"]["status"] == endpoint["status"]
        assert mapping["response"]["headers"]["Content-Type"] == _recorded_content_type(
            exemplar), key
        meta = mapping["metadata"]["freshmock"]
        assert (meta["last_observed"], meta["first_observed"], meta["observations"]) == (
            endpoint["last_seen"], endpoint["first_seen"], endpoint["observations"]), key


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
        for key, exemplar in golden["exemplars"].items():
            answer = _send(session, exemplar)
            assert answer.status_code == key[2], key
            assert answer.headers["Content-Type"] == _recorded_content_type(exemplar), key
            assert answer.content == exemplar["response_body"] or (
                answer.json() == json.loads(exemplar["response_body"])), key
    endpoints = {(e["method"], e["path_template"], e["status"]): e for e in golden["endpoints"]}
    assert stamps == {key: e["last_seen"] for key, e in endpoints.items()}


def test_vcr_cassettes_replay_the_recorded_content_type_and_say_when(golden, tmp_path):
    (stub,) = golden["written"]["vcr"]
    text = stub.path.read_text()
    for endpoint in golden["endpoints"]:
        stamp = (f"# freshmock: {endpoint['method']} {endpoint['path_template']} "
                 f"{endpoint['status']} {endpoint['media_type']}; last observed "
                 f"{endpoint['last_seen']}")
        assert stamp in text
    assert len(yaml.safe_load(text)["interactions"]) == len(golden["endpoints"])
    with vcr.VCR(record_mode="none").use_cassette(str(stub.path)):
        session = requests.Session()
        for key, exemplar in golden["exemplars"].items():
            answer = _send(session, exemplar)
            assert answer.status_code == key[2], key
            assert answer.headers["Content-Type"] == _recorded_content_type(exemplar), key


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
