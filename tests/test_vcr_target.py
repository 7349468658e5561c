"""Generated VCR.py cassettes, played back by vcrpy for a `requests` client, offline."""

from __future__ import annotations

import difflib
import json
import re
import socket
from pathlib import Path

import pytest
import requests
import vcr
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.serializers import yamlserializer

from freshmock.generators.model.exemplars import load_exemplar
from freshmock.generators.model.infer import infer_endpoints
from freshmock.generators.model.publish import read_model
from freshmock.generators.model.tables import list_endpoints
from freshmock.generators.targets.vcr import write_vcr_cassettes, yaml_body, yaml_comment
from freshmock.proxy.store import insert_observations, open_store

from golden_store import build_golden_store
from store_kit import observation_row

BASE_URL = "http://demo-shop"  # does not resolve: the cassette is the only way to an answer


@pytest.fixture(scope="module")
def cassette_path(recorded_store, tmp_path_factory) -> Path:
    written = write_vcr_cassettes(read_model(open_store(recorded_store)),
                                  tmp_path_factory.mktemp("vcr"))
    assert [cassette.service for cassette in written] == ["demo-shop"]
    return written[0].path


@pytest.fixture
def no_network(monkeypatch):
    """Any name lookup or connection during playback fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access during playback: {args!r}")
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture
def client():
    with requests.Session() as session:
        session.trust_env = False  # no HTTP_PROXY from the environment
        yield session


def _send(client, base_url: str, exemplar):
    url = base_url + exemplar.url
    if exemplar.has_request_json():
        return client.request(exemplar.method, url, json=exemplar.request_json)
    return client.request(exemplar.method, url, data=exemplar.request_body or None)


def test_the_cassette_is_in_vcrpy_format(cassette_path, recorded_store):
    data = yaml.safe_load(cassette_path.read_text(encoding="utf-8"))
    assert cassette_path.name == "demo-shop.yaml"
    assert sorted(data) == ["interactions", "version"] and data["version"] == 1
    # one interaction per stub: 8 endpoints, 34 distinct requests with answers of their own
    assert len(list_endpoints(open_store(recorded_store))) == 8
    assert len(data["interactions"]) == 34
    for interaction in data["interactions"]:
        assert sorted(interaction["request"]) == ["body", "headers", "method", "uri"]
        assert sorted(interaction["response"]) == ["body", "headers", "status"]
        assert interaction["request"]["uri"].startswith(BASE_URL + "/")
        headers = {name.lower() for name in interaction["response"]["headers"]}
        assert "content-type" in headers and "date" not in headers
        if "application/json" in str(interaction["response"]["headers"]):
            assert "content-length" not in headers  # re-serialised: the length would lie
        assert all(isinstance(v, list) for v in interaction["response"]["headers"].values())


def test_every_interaction_replays_the_recorded_exemplar_offline(
    cassette_path, recorded_store, no_network, client
):
    """Played with replay_vcr: each recorded request gets its own recorded answer."""
    from freshmock.generators.targets.vcr import replay_vcr

    data = yaml.safe_load(cassette_path.read_text(encoding="utf-8"))
    with replay_vcr().use_cassette(str(cassette_path)) as cassette:
        for interaction in data["interactions"]:
            request, recorded = interaction["request"], interaction["response"]
            headers = {name: values[0] for name, values in request["headers"].items()}
            body = request["body"]
            response = client.request(request["method"], request["uri"], headers=headers,
                                      data=body.encode() if isinstance(body, str) else body)
            assert response.status_code == recorded["status"]["code"], request["uri"]
            assert response.json() == json.loads(recorded["body"]["string"]), request["uri"]
            assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert cassette.all_played


def _cassette_order(cassette_path: Path, endpoints: list[dict]) -> list[dict]:
    comments = re.findall(r"^# freshmock: (\S+) (\S+) (\d+) ", cassette_path.read_text(),
                          re.MULTILINE)
    by_key = {(e["method"], e["path_template"], str(e["status"])): e for e in endpoints}
    return [by_key[key] for key in comments]


def test_any_host_and_the_request_body_pick_the_interaction(
    cassette_path, recorded_store, no_network, client
):
    db = open_store(recorded_store)
    variants = [e for e in list_endpoints(db) if e["method"] == "POST"]
    assert sorted(e["status"] for e in variants) == [201, 422]
    recorder = vcr.VCR(record_mode="none", match_on=["method", "path", "query", "body"])
    with recorder.use_cassette(str(cassette_path)):
        for endpoint in sorted(variants, key=lambda e: -e["status"]):  # 422 first
            exemplar = load_exemplar(db, endpoint)
            response = _send(client, "http://127.0.0.1:9", exemplar)
            assert response.status_code == endpoint["status"]
            assert response.json() == exemplar.response_json


def test_a_request_not_in_the_cassette_is_refused(cassette_path, no_network, client):
    with vcr.VCR(record_mode="none").use_cassette(str(cassette_path)):
        with pytest.raises(CannotOverwriteExistingCassetteException):
            client.get(BASE_URL + "/never/recorded")


def test_repeats_need_allow_playback_repeats(cassette_path, no_network, client):
    with vcr.VCR(record_mode="none").use_cassette(str(cassette_path)):
        assert client.get(BASE_URL + "/health").status_code == 200
        with pytest.raises(CannotOverwriteExistingCassetteException):
            client.get(BASE_URL + "/health")
    repeating = vcr.VCR(record_mode="none")
    with repeating.use_cassette(str(cassette_path), allow_playback_repeats=True):
        assert [client.get(BASE_URL + "/health").status_code for _ in range(3)] == [200] * 3


def test_comments_say_when_each_endpoint_was_last_observed(cassette_path, recorded_store):
    endpoints = list_endpoints(open_store(recorded_store))
    lines = cassette_path.read_text().splitlines()
    header = lines[:4]
    assert all(line.startswith("# freshmock: ") for line in header)
    assert f"last observed {max(e['last_seen'] for e in endpoints)};" in header[1]
    assert f"{sum(e['observations'] for e in endpoints)} samples behind 34 interactions" in (
        header[1])
    for endpoint in endpoints:
        sample = "sample" if endpoint["observations"] == 1 else "samples"
        comment = (f"# freshmock: {endpoint['method']} {endpoint['path_template']} "
                   f"{endpoint['status']} {endpoint['media_type']}; "
                   f"last observed {endpoint['last_seen']}; "
                   f"{endpoint['observations']} {sample} since {endpoint['first_seen']}")
        assert lines[lines.index(comment) + 1] == "- request:"


def test_regenerating_from_an_unchanged_store_is_byte_identical(recorded_store, tmp_path):
    db = open_store(recorded_store)
    first = write_vcr_cassettes(read_model(db), tmp_path / "a")[0].path.read_bytes()
    assert write_vcr_cassettes(read_model(db), tmp_path / "a")[0].path.read_bytes() == first
    assert write_vcr_cassettes(read_model(db), tmp_path / "b")[0].path.read_bytes() == first
    assert first.endswith(b"\nversion: 1\n") and b"\r" not in first


def test_one_changed_field_changes_only_the_lines_of_that_field(tmp_path):
    golden = read_model(build_golden_store(tmp_path / "a.db"))
    before = write_vcr_cassettes(golden, tmp_path / "a")
    changed_db = build_golden_store(tmp_path / "b.db", user_name="Ada King")
    after = write_vcr_cassettes(read_model(changed_db), tmp_path / "b")
    diff = difflib.unified_diff(before[0].path.read_text().splitlines(),
                                after[0].path.read_text().splitlines(), lineterm="", n=0)
    changed = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed and all("Ada" in line for line in changed), changed
    assert any("Ada King" in line for line in changed) and len(changed) <= 8


def test_the_base_url_can_be_chosen(recorded_store, tmp_path):
    written = write_vcr_cassettes(read_model(open_store(recorded_store)), tmp_path,
                                  base_url="https://{service}.internal:8443/")
    uris = [i["request"]["uri"] for i in yaml.safe_load(written[0].path.read_text())[
        "interactions"]]
    assert all(uri.startswith("https://demo-shop.internal:8443/") for uri in uris)
    assert "# freshmock: requests go to https://demo-shop.internal:8443;" in (
        written[0].path.read_text())


# --- bodies and headers that YAML could get wrong -----------------------------

TRICKY_SERVICE = "tricky: shop #1"
TRICKY_TEXT = {
    "/colon": "key: value\nother: {a: b}\n- item",
    "/hash": "# not a comment\nvalue # still not",
    "/quotes": "'single' \"double\" `back` \\ backslash \\n",
    "/unicode": "héllo ☃ 😀 line\u2028separator\u2029 nel\x85 bom\ufeff",
    "/indent": "   leading spaces\n\ttab first\ntrailing  \n\n",
    "/crlf": "line one\r\nline two\r\n",
    "/markers": "---\nnull\n...\n&anchor *alias !tag |\n",
    "/controls": "nul\x00 bell\x07 del\x7f esc\x1b",
    "/encoded": "decoded text, served as recorded",
}
TRICKY_JSON = {"a: b": "# c", "quote": "\"'", "emoji": "😀\u2028", "lead": "  x", "empty": "",
               "nested": {"k": [1, "- y", None, True, 2.5]}, "multi": "line\nbreak",
               "lone surrogate": "\ud800", "controls": "\x00\x7f\x85\ufeff"}
BINARY = bytes(range(256)) + b"\xff\xfe"


def _row(second: int, path: str, body: bytes, media_type: str, *, status: int = 200,
         query: str = "", headers=None, method: str = "GET", request: bytes | None = None,
         request_media_type: str = "") -> dict:
    return observation_row(
        observed_at=f"2026-11-20T10:00:{second:02d}.000000Z", service=TRICKY_SERVICE,
        method=method, host="tricky.internal", path=path, query=query, request=request,
        request_media_type=request_media_type, status=status, body=body,
        media_type=media_type,
        response_headers=headers or ([["Content-Type", media_type]] if media_type else []))


def _tricky_rows() -> list[dict]:
    rows = [_row(n, path, text.encode(), "text/plain")
            for n, (path, text) in enumerate(sorted(TRICKY_TEXT.items()))
            if path != "/encoded"]
    rows.append(_row(20, "/encoded", TRICKY_TEXT["/encoded"].encode(), "text/plain", headers=[
        ["Content-Type", "text/plain"], ["Content-Encoding", "gzip"],
        ["Content-Length", "3"], ["Transfer-Encoding", "chunked"],
        ["X-Odd", "a: b # c \"q\" 'r' é"], ["Set-Cookie", "a=1"], ["set-cookie", "b=2"]]))
    rows.append(_row(21, "/binary", BINARY, "application/octet-stream"))
    rows.append(_row(22, "/empty", b"", "", status=204))
    rows.append(_row(23, "/json", json.dumps(TRICKY_JSON).encode(), "application/json"))
    rows.append(_row(24, "/search", b"found", "text/plain", query="q=a%3Ab%23&tag=%C3%A9+x"))
    rows.append(_row(25, "/echo", json.dumps({"echo": "a: #b"}).encode(), "application/json",
                     method="POST", request=json.dumps({"q": "a: #b", "n": [1]}).encode(),
                     request_media_type="application/json", status=201))
    rows.append(_row(26, "/note", b"kept", "text/plain", method="PUT",
                     request=b"  a: b\n# c\n", request_media_type="text/plain"))
    return rows


@pytest.fixture(scope="module")
def tricky_cassette(tmp_path_factory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("tricky")
    db = open_store(folder / "store.db", must_exist=False)
    insert_observations(db, _tricky_rows())
    infer_endpoints(db)
    written = write_vcr_cassettes(read_model(db), folder / "out")
    assert [cassette.path.name for cassette in written] == ["tricky-shop-1.yaml"]
    return written[0].path, db


def test_tricky_bodies_and_headers_round_trip_exactly(tricky_cassette, no_network, client):
    path, db = tricky_cassette
    endpoints = list_endpoints(db)
    assert len(endpoints) == len(_tricky_rows())  # every path kept its own template
    yaml.safe_load(path.read_text(encoding="utf-8"))
    base = "http://tricky-shop-1"
    with vcr.VCR(record_mode="none").use_cassette(str(path)) as cassette:
        assert len(cassette) == len(endpoints)
        for route, text in TRICKY_TEXT.items():
            response = client.get(base + route)
            assert response.status_code == 200 and response.content == text.encode(), route
        binary = client.get(base + "/binary")
        assert binary.content == BINARY
        assert binary.headers["Content-Type"] == "application/octet-stream"
        empty = client.get(base + "/empty")
        assert empty.status_code == 204 and empty.content == b""
        data = client.get(base + "/json")
        assert data.json() == TRICKY_JSON
        search = client.get(base + "/search", params={"q": "a:b#", "tag": "é x"})
        assert search.content == b"found"
        echo = client.post(base + "/echo", json={"q": "a: #b", "n": [1]})
        assert echo.status_code == 201 and echo.json() == {"echo": "a: #b"}
        assert client.put(base + "/note", data=b"  a: b\n# c\n").content == b"kept"
        assert cassette.all_played
    encoded = cassette.data[[r.path for r in cassette.requests].index("/encoded")][1]
    # the recorded bytes are replayed unchanged, so their length is kept too
    assert sorted(encoded["headers"]) == ["Content-Length", "Content-Type", "Set-Cookie", "X-Odd"]
    assert encoded["headers"]["Set-Cookie"] == ["a=1", "b=2"]
    assert encoded["headers"]["X-Odd"] == ["a: b # c \"q\" 'r' é"]


def test_json_bodies_stay_one_field_a_line(tricky_cassette):
    path, _ = tricky_cassette
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index('    uri: "http://tricky-shop-1/json"') + 3
    assert lines[start] == "      string: |-"
    assert lines[start + 1:start + 4] == ["        {", '          "a: b": "# c",',
                                          '          "controls": "\\u0000\\u007f\\u0085\\ufeff",']
    assert '          "emoji": "😀\\u2028",' in lines


def test_tricky_request_bodies_match_on_body(tricky_cassette, no_network, client):
    path, _ = tricky_cassette
    recorder = vcr.VCR(record_mode="none", match_on=["method", "path", "body"])
    with recorder.use_cassette(str(path)):
        # JSON compares as values (both sides say application/json), text byte for byte
        assert client.post("http://x/echo", json={"n": [1], "q": "a: #b"}).status_code == 201
        assert client.put("http://x/note", data=b"  a: b\n# c\n",
                          headers={"Content-Type": "text/plain"}).content == b"kept"


def test_comments_stay_on_one_line():
    assert yaml_comment("a\nb\r\u2028c # d") == "a\\x0ab\\x0d\\u2028c # d"
    document = f"# {yaml_comment('x\nkey: 1')}\nkey: 2\n"
    assert yaml.safe_load(document) == {"key": 2}


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.binary()))
@example("  a\n\n")
@example("\n\n x\n")
@example("\t\n")
@example("a\r\nb\x85c\u2028")
def test_any_body_reads_back_as_the_same_bytes(body):
    document = ("interactions:\n- request:\n    body: " + yaml_body(body, 4) +
                "\n    headers: {}\n    method: \"GET\"\n    uri: \"http://x/\"\n"
                "  response:\n    body:\n      string: " + yaml_body(body, 6) +
                "\n    headers: {}\n    status:\n      code: 200\n      message: \"OK\"\n"
                "version: 1\n")
    expected = body if isinstance(body, bytes) else body.encode("utf-8")
    for load in (yaml.safe_load, yamlserializer.deserialize):
        interaction = load(document)["interactions"][0]
        for value in (interaction["request"]["body"], interaction["response"]["body"]["string"]):
            # vcrpy encodes str bodies as UTF-8 before handing them to the client
            assert (value if isinstance(value, bytes) else value.encode("utf-8")) == expected


def test_bodies_not_kept_are_synthesized_or_replayed_empty_with_a_note(tmp_path, no_network,
                                                                        client):
    db = open_store(tmp_path / "store.db", must_exist=False)
    user = {"id": 7, "name": "Ada", "tags": ["a"]}
    insert_observations(db, [
        {**_row(0, "/users/7", json.dumps(user).encode(), "application/json"),
         "service": "cut"},
        {**_row(1, "/log", b"the first by", "text/plain"), "service": "cut",
         "response_body_truncated": 1},
    ])
    infer_endpoints(db)
    users = next(e for e in list_endpoints(db) if e["path_template"] != "/log")
    db["observations"].delete(users["exemplar_id"])  # the exemplar row is gone
    path = write_vcr_cassettes(read_model(db), tmp_path / "out")[0].path
    text = path.read_text()
    assert ("# freshmock: response body synthesized from the schema: no recorded body was kept"
            in text)
    assert "# freshmock: response body was cut at the size cap and is replayed empty" in text
    assert "# freshmock: the recorded request is gone: its URI is the path template" in text
    with vcr.VCR(record_mode="none").use_cassette(str(path)):
        body = client.get(f"http://cut{users['path_template']}").json()
        assert sorted(body) == ["id", "name", "tags"]  # the schema's shape, made-up values
        assert client.get("http://cut/log").content == b""


def test_a_template_of_ones_own_is_used(recorded_store, tmp_path):
    own = tmp_path / "templates"
    own.mkdir()
    (own / "vcr_cassette.yaml.j2").write_text(
        "# mine: {{ service | yaml_comment }}\ninteractions: []\nversion: 1\n")
    written = write_vcr_cassettes(read_model(open_store(recorded_store)), tmp_path / "out",
                                  templates_dir=own)
    assert written[0].path.read_text() == "# mine: demo-shop\ninteractions: []\nversion: 1\n"


def test_an_interaction_requiring_a_header_plays_before_one_that_cannot_say_it_is_absent():
    """vcrpy plays the first interaction that matches; a cassette cannot require a header
    to be absent, so the 200 of a route (Range: None) must come after its ranged 206."""
    from freshmock.generators.model.endpoint import Endpoint
    from freshmock.generators.targets.variants import DEFAULT, EXACT, Stub
    from freshmock.generators.targets.vcr import playback_order

    def stub(kind, status, range_value, name):
        endpoint = Endpoint("files", "GET", "/blobs/{blob}", "", status, "")
        return Stub(kind, endpoint, None, (("Range", range_value),), name=name)

    whole = stub(EXACT, 200, None, "GET /blobs/{blob} 200")
    ranged = stub(EXACT, 206, "bytes=0-99", "GET /blobs/{blob} 206")
    default = stub(DEFAULT, 200, None, "GET /blobs/{blob} 200 #2")
    assert playback_order([default, whole, ranged]) == [ranged, whole, default]
