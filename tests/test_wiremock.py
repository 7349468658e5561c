"""Generated WireMock mappings, served by a real WireMock on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path

import pytest

from freshmock.generators.model.infer import infer_endpoints
from freshmock.generators.model.publish import read_model
from freshmock.generators.model.tables import list_endpoints
from freshmock.generators.targets.wiremock import write_wiremock
from freshmock.generators.workflows.demo.service import demo_requests
from freshmock.proxy.store import (
    get_observation,
    insert_observations,
    iter_observations,
    open_store,
)

from conftest import REPO, running_peer
from store_kit import observation

WIREMOCK = REPO / ".peers" / "node_modules" / ".bin" / "wiremock"


@pytest.fixture(scope="module")
def mappings_root(recorded_store, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("stubs")
    write_wiremock(read_model(open_store(recorded_store)), out)
    return out / "demo-shop"


def _exchange(port: int, method: str, url: str, body: bytes | None = None, headers=None):
    """``(status, response headers, body)`` of one request to 127.0.0.1:``port``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, url, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def _request(port: int, method: str, url: str, body: bytes | None = None, headers=None):
    status, _, data = _exchange(port, method, url, body, headers)
    return status, data


def _recorded_header(row: dict, name: str) -> str | None:
    values = [v for k, v in json.loads(row["response_headers"]) if k.lower() == name]
    return values[0] if values else None


@pytest.fixture(scope="module")
def wiremock(mappings_root):
    assert WIREMOCK.exists(), f"{WIREMOCK} is missing: `make peers` installs WireMock from npm"
    # --port 0: WireMock binds a free port itself and prints it ("port:   43925")
    # in its start-up summary, which --disable-banner would hide.
    with running_peer([str(WIREMOCK), "--port", "0", "--bind-address", "127.0.0.1",
                       "--root-dir", str(mappings_root)],
                      r"\bport:\s+(\d+)", "/__admin/mappings", "WireMock") as ready:
        yield ready


def test_wiremock_loads_every_generated_mapping(wiremock, mappings_root):
    _, body = _request(wiremock, "GET", "/__admin/mappings")
    loaded = json.loads(body)
    files = sorted((mappings_root / "mappings").glob("*.json"))
    assert loaded["meta"]["total"] == len(files)
    endpoints = {json.loads(f.read_text())["metadata"]["freshmock"]["endpoint"] for f in files}
    assert len(endpoints) == 6  # 8 endpoints: two routes have a success and an error


def _url(row: dict) -> str:
    return row["path"] + (f"?{row['query']}" if row["query"] else "")


def _sent_headers(row: dict) -> dict:
    return {"Content-Type": row["request_media_type"]} if row["request_body"] else {}


def _assert_answer(answer, row: dict, where) -> None:
    """The status, Content-Type (as recorded, on the wire) and body recorded in ``row``."""
    status, response_headers, body = answer
    assert status == row["status"], where
    # Content-Type is asserted on the wire, not only in the golden files: a mapping
    # that loses it makes clients parse JSON as octet-stream.
    assert response_headers.get("Content-Type") == _recorded_header(row, "content-type"), where
    assert response_headers.get("Content-Type") is not None, where  # the demo sends bodies
    assert json.loads(body) == json.loads(row["response_body"]), where


def test_replayed_requests_get_the_answer_recorded_for_them(wiremock, recorded_store):
    """docs/stubs.md: a recorded request gets its own recorded answer (an exact stub where
    the route's default would answer otherwise)."""
    db = open_store(recorded_store)
    observations = list(iter_observations(db))
    assert len(observations) == len(demo_requests())
    answers: dict[tuple, set] = {}
    for row in observations:  # the demo is stateless: a repeated request got one answer
        key = (row["method"], _url(row), row["request_body"])
        answers.setdefault(key, set()).add((row["status"], row["response_body"]))
    assert all(len(seen) == 1 for seen in answers.values()), answers
    assert len(answers) < len(observations)  # GET /users three times: repeats replay too
    for row in observations:
        where = (row["method"], _url(row))
        answer = _exchange(wiremock, row["method"], _url(row), row["request_body"],
                           _sent_headers(row))
        _assert_answer(answer, row, where)
    # the answers differ per request, so a stub per route could not pass the loop above
    user_bodies = {row["response_body"] for row in observations
                   if re.fullmatch(r"/users/\d+", row["path"]) and row["status"] == 200}
    assert len(user_bodies) > 1


def test_requests_never_recorded_get_the_route_default(wiremock, recorded_store):
    """A request of a route nothing was recorded for gets the route's most common success."""
    db = open_store(recorded_store)
    endpoints = list_endpoints(db)
    assert len(endpoints) == 8
    successes: dict[tuple, list] = {}
    for endpoint in endpoints:
        if endpoint["status"] < 400:
            successes.setdefault((endpoint["method"], endpoint["path_template"]), []).append(
                endpoint)
    assert len(successes) == 6  # every route of the demo has one success: its default
    recorded = {(row["method"], _url(row), row["request_body"])
                for row in iter_observations(db)}
    for (method, template), (endpoint,) in successes.items():
        default = get_observation(db, endpoint["exemplar_id"])
        url = re.sub(r"\{[^}]+\}", "unrecorded-7", template) + "?freshmock=unrecorded"
        body = None
        if default["request_body"]:  # a body no recorded request sent
            body = json.dumps({"freshmock": "never recorded"}).encode()
        assert (method, url, body) not in recorded
        answer = _exchange(wiremock, method, url, body, _sent_headers(default))
        _assert_answer(answer, default, (method, url))


def test_an_unrecorded_route_is_not_stubbed(wiremock):
    status, _ = _request(wiremock, "GET", "/never/recorded")
    assert status == 404


def test_mapping_files_are_named_after_method_template_and_status(mappings_root):
    """The first stub of an endpoint is named after it; more stubs of it get -2, -3..."""
    names = sorted(path.name for path in (mappings_root / "mappings").glob("*.json"))
    assert [name for name in names if not re.search(r"-\d{3}-\d+\.json$", name)] == [
        "get-health-200.json",
        "get-orders-order_id-200.json",
        "get-users-200.json",
        "get-users-user_id-200.json",
        "get-users-user_id-404.json",
        "get-users-user_id-orders-200.json",
        "post-users-201.json",
        "post-users-422.json",
    ]
    assert "get-users-user_id-200-2.json" in names  # another user: its own recorded body


def test_each_mapping_says_when_its_dependency_was_last_observed(mappings_root, recorded_store):
    db = open_store(recorded_store)
    endpoints = {(e["method"], e["path_template"], e["status"]): e for e in list_endpoints(db)}
    stamped = set()
    for path in (mappings_root / "mappings").glob("*.json"):
        meta = json.loads(path.read_text())["metadata"]["freshmock"]
        method, template = meta["endpoint"].split(" ", 1)
        endpoint = endpoints[(method, template, meta["status"])]
        assert meta["last_observed"] == endpoint["last_seen"]
        assert meta["observations"] == endpoint["observations"]
        stamped.add((method, template, meta["status"]))
    assert stamped == set(endpoints)
    assert sum(e["observations"] for e in endpoints.values()) == len(demo_requests())


def test_regenerating_from_an_unchanged_store_is_byte_identical(recorded_store, tmp_path):
    db = open_store(recorded_store)
    first = {p.path.name: p.path.read_bytes()
             for p in write_wiremock(read_model(db), tmp_path / "a")}
    second = {p.path.name: p.path.read_bytes()
              for p in write_wiremock(read_model(db), tmp_path / "b")}
    assert first == second
    for text in first.values():
        assert text.endswith(b"}\n") and b"\r\n" not in text


def test_mappings_of_vanished_endpoints_are_removed_but_foreign_files_kept(
    recorded_store, tmp_path
):
    db = open_store(recorded_store)
    write_wiremock(read_model(db), tmp_path)
    mappings = tmp_path / "demo-shop" / "mappings"
    stale = mappings / "get-gone-200.json"
    stale.write_text(json.dumps({"metadata": {"freshmock": {}}}))
    handwritten = mappings / "my-own-stub.json"
    handwritten.write_text(json.dumps({"request": {"method": "GET", "url": "/x"}}))
    write_wiremock(read_model(db), tmp_path)
    assert not stale.exists()
    assert handwritten.exists()


def test_a_variant_told_apart_by_a_request_header_answers_only_with_it(wiremock, tmp_path):
    """A 304 recorded for If-None-Match must not shadow the 200 of the same path."""
    db = open_store(tmp_path / "store.db", must_exist=False)
    rows = [observation(f"/items/{n}", 1_700_000_000 + n, {"id": n, "name": f"item {n}"})
            for n in range(1, 6)]
    conditional = observation("/items/1", 1_700_000_010, {})
    conditional.update(status=304, response_body=b"", response_media_type="",
                       request_headers=json.dumps([["If-None-Match", '"v1"'],
                                                   ["User-Agent", "client/1"]]))
    rows.append(conditional)
    insert_observations(db, rows)
    infer_endpoints(db)
    written = write_wiremock(read_model(db), tmp_path / "wm")
    (variant_path,) = [stub.path for stub in written if stub.endpoint.status == 304]
    variant = json.loads(variant_path.read_text())
    assert variant["request"]["headers"] == {"If-None-Match": {"equalTo": '"v1"'}}
    ids = []
    try:
        for path in [stub.path for stub in written]:
            status, body = _request(wiremock, "POST", "/__admin/mappings", path.read_bytes(),
                                    {"Content-Type": "application/json"})
            assert status == 201, body
            ids.append(json.loads(body)["id"])
        assert _request(wiremock, "GET", "/items/1", headers={"If-None-Match": '"v1"'})[0] == 304
        status, body = _request(wiremock, "GET", "/items/1")
        assert status == 200 and json.loads(body)["id"] in range(1, 6)
        assert _request(wiremock, "GET", "/items/3", headers={"If-None-Match": '"v1"'})[0] == 200
    finally:
        for mapping_id in ids:
            _request(wiremock, "DELETE", f"/__admin/mappings/{mapping_id}")
