"""`freshmock verify` on hand-written WireMock mappings and a vcrpy cassette, against a
store recorded through the real proxy from the drift service at v1, then v2
(tests/verify_kit.py): the report names exactly the planted findings with file and
line, exit codes follow --fail-on, and `--fix` yields files the real WireMock and
vcrpy load and replay, with a diff touching only the stale lines.
"""

from __future__ import annotations

import difflib
import http.client
import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import vcr
from verify_kit import (
    WIREMOCK_EXPECTED,
    drifted_store,
    findings,
    record_more,
    report,
    verify,
    write_wiremock_mocks,
)

from freshmock.proxy.sidecar import SidecarConfig, SidecarThread

from capture_kit import http_exchange
from conftest import REPO, freshmock_command, running_peer
from drift_service import DriftService

WIREMOCK = REPO / ".peers" / "node_modules" / ".bin" / "wiremock"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return drifted_store(tmp_path_factory)


def line_of(path: Path, needle: str) -> int:
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if needle in text:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


# --- WireMock -----------------------------------------------------------------------


def test_wiremock_report_names_exactly_the_planted_findings(store, tmp_path):
    root = write_wiremock_mocks(tmp_path / "wm")
    code, result = report(store, root)
    assert code == 1  # stale findings fail the default --fail-on stale
    assert findings(result) == WIREMOCK_EXPECTED
    by_entry = {(Path(m["file"]).name, m["entry"]): m for m in result["mocks"]}
    users = root / "mappings" / "users.json"
    # a file of several mappings: each finding names the line its mapping starts on
    assert by_entry[("users.json", "search")]["line"] == line_of(users, '"name": "search"') - 1
    assert by_entry[("users.json", "a user")]["line"] == line_of(users, '"name": "a user"') - 1
    assert by_entry[("users.json", "a user")]["verdict"] == "stale"
    assert by_entry[("exports.json", "mappings[1]")]["verdict"] == "fresh"  # text/csv today
    orders = by_entry[("orders.json", "mapping")]
    assert orders["endpoint"]["path_template"] == "/orders/{order_id}"  # a regex matched it
    # v2's order calls, not v1's 60: the drift service calls /orders/{id} 45 times at v2
    # since issue 12 set its volumes to a modest nightly client's (tests/drift_service.py)
    assert orders["evidence"]["observations"] == 45
    assert orders["evidence"]["last_seen"].startswith("2026-11-02")
    assert orders["evidence"]["age_days"] > 0
    assert result["summary"] == {"stale": 6, "incomplete": 0, "unverifiable": 2, "fresh": 1}
    text = verify(store, root).stdout
    assert f"{root / 'mappings' / 'orders.json'}:1" in text
    assert "never-observed" in text and "thin-evidence" in text


@pytest.mark.slow  # issue 14: >20 s on 2 shared cores; `make test-slow` runs it
def test_exit_codes_follow_fail_on(store, tmp_path):
    root = write_wiremock_mocks(tmp_path / "wm")
    mappings = root / "mappings"
    assert verify(store, root, "--fail-on", "never").returncode == 0
    assert verify(store, root, "--fail-on", "unverifiable").returncode == 1
    # only incomplete findings: stale does not fail, incomplete does
    incomplete = tmp_path / "incomplete"
    incomplete.mkdir()
    shutil.copy(mappings / "reports.json", incomplete)
    body = json.loads((mappings / "orders.json").read_text())
    body["response"]["jsonBody"].pop("note")
    body["response"]["jsonBody"]["total"] = 120.5
    del body["response"]["jsonBody"]["customer"]["email"]  # sometimes null today
    (incomplete / "orders.json").write_text(json.dumps(body, indent=2))
    (incomplete / "reports.json").unlink()
    code, result = report(store, incomplete)
    assert {f[1] for f in findings(result)} == {"incomplete"}, findings(result)
    assert code == 0
    assert verify(store, incomplete, "--fail-on", "incomplete").returncode == 1
    # nothing verifiable at all: exit 3, whatever --fail-on says
    only_unknown = tmp_path / "unknown"
    only_unknown.mkdir()
    shutil.copy(mappings / "admin.json", only_unknown)
    assert verify(store, only_unknown).returncode == 3
    # evidence older than --max-age verifies nothing (the store's newest day is weeks ago)
    code, result = report(store, root, "--max-age", "2d")
    assert code == 3
    assert {m["verdict"] for m in result["mocks"]} == {"unverifiable"}
    assert "evidence-too-old" in {f[2] for f in findings(result)}


@pytest.mark.slow  # issue 14: >20 s on 2 shared cores; `make test-slow` runs it
def test_input_errors_are_one_line_and_exit_2(store, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"request": {"method": "GET"')
    result = verify(store, broken)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and str(broken) in result.stderr
    assert "Traceback" not in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.yaml").write_text("hello: world\n")
    result = verify(store, empty)
    assert result.returncode == 2 and "no mocks found" in result.stderr
    assert verify(store, tmp_path / "absent").returncode == 2
    assert verify(store, empty, "--max-age", "soon").returncode == 2
    result = verify(store, write_wiremock_mocks(tmp_path / "wm"), "--service", "nope")
    assert result.returncode == 2 and "orders-api" in result.stderr  # the known ones listed


def _changed_lines(folder: Path) -> tuple[list[str], list[str]]:
    diff = subprocess.run(["git", "-C", str(folder), "diff", "--unified=0"],
                          capture_output=True, text=True, check=True).stdout
    removed = [line[1:].strip() for line in diff.splitlines()
               if line.startswith("-") and not line.startswith("---")]
    added = [line[1:].strip() for line in diff.splitlines()
             if line.startswith("+") and not line.startswith("+++")]
    return removed, added


def _committed(folder: Path) -> None:
    git = ["git", "-C", str(folder), "-c", "user.email=t@example.test", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "mocks"], check=True)


def _get(port: int, path: str, headers=None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.slow  # issue 14: >20 s on 2 shared cores; `make test-slow` runs it
def test_fix_rewrites_only_stale_wiremock_lines_and_wiremock_replays_them(store, tmp_path):
    assert WIREMOCK.exists(), f"{WIREMOCK} is missing: `make peers` installs WireMock from npm"
    root = write_wiremock_mocks(tmp_path / "wm")
    _committed(root)
    result = verify(store, root, "--fix")
    assert result.returncode == 1
    assert "fixed: " in result.stderr and "needs a human" in result.stderr
    removed, added = _changed_lines(root)
    # the removed field, the two retyped fields; the comma before a cut last member
    assert sorted(removed) == sorted(['"total": 120,', '"nickname": "ada",', '],',
                                      '"note": "leave at the door"'])
    assert len(added) == 3
    assert added[0].startswith('"total": ') and added[0] != '"total": 120,'
    assert added[1] == "]"
    assert added[2].startswith('"nickname": {"display": ')
    fixed = json.loads((root / "mappings" / "orders.json").read_text())
    assert fixed["priority"] == 5 and fixed["metadata"] == {"owner": "checkout-team"}
    assert fixed["request"]["urlPathPattern"] == "/orders/[0-9]+"

    with running_peer([str(WIREMOCK), "--port", "0", "--bind-address", "127.0.0.1",
                       "--root-dir", str(root)],
                      r"\bport:\s+(\d+)", "/__admin/mappings", "WireMock") as port:
        status, body = _get(port, "/__admin/mappings")
        loaded = json.loads(body)["mappings"]
        assert len(loaded) == 9  # every mapping of every file still loads
        assert {m.get("priority") for m in loaded} >= {1, 2, 5}
        status, body = _get(port, "/orders/5", {"Accept": "application/json"})
        order = json.loads(body)
        assert status == 200 and "note" not in order and isinstance(order["total"], float)
        status, body = _get(port, "/users/7")
        assert status == 200 and isinstance(json.loads(body)["nickname"], dict)

    _, after = report(store, root)
    kinds = {(f[0], f[2], f[3]) for f in findings(after)}
    assert not kinds & {("orders.json", "property-removed", "$.note"),
                        ("orders.json", "type-widened", "$.total"),
                        ("users.json", "type-changed", "$.nickname")}
    assert ("orders.json", "became-nullable", "$.customer.email") in kinds  # needs a human


# --- VCR.py -------------------------------------------------------------------------

VCR_CALLS = [("GET", "/orders/3"), ("GET", "/users/5"), ("GET", "/legacy"),
             ("GET", "/reports/2"), ("POST", "/orders"), ("GET", "/search")]

VCR_EXPECTED = {
    ("interactions[0]", "stale", "property-removed", "$.note"),
    ("interactions[0]", "stale", "type-widened", "$.total"),
    ("interactions[0]", "stale", "became-nullable", "$.customer.email"),
    ("interactions[0]", "stale", "became-optional", "$.coupon"),  # orders/3 had one at v1
    # orders/3 (odd) had phone null at v1; at v2 every order's phone is a string and none
    # is null: the cassette shows a type the dependency no longer sends
    ("interactions[0]", "stale", "type-changed", "$.customer.phone"),
    ("interactions[0]", "incomplete", "format-dropped", "$.created_at"),
    ("interactions[0]", "incomplete", "items-type-widened", "$.items[]"),
    ("interactions[0]", "incomplete", "property-added", "$.tracking_url"),
    ("interactions[1]", "stale", "type-changed", "$.nickname"),
    ("interactions[1]", "stale", "became-optional", "$.name"),
    ("interactions[2]", "stale", "endpoint-gone", None),
    ("interactions[3]", "stale", "status-gone", None),
    ("interactions[3]", "incomplete", "status-added", None),
    ("interactions[4]", "stale", "new-client-error", None),
    ("interactions[5]", "unverifiable", "thin-evidence", None),
    ("interactions[6]", "unverifiable", "never-observed", None),
}

HAND_WRITTEN_INTERACTION = """- request:
    body: null
    headers: {{}}
    method: GET
    uri: {base}/admin/stats
  response:
    body: {{string: '{{"orders": 3}}'}}
    headers:
      Content-Type: [application/json]
    status: {{code: 200, message: OK}}
"""


@pytest.fixture(scope="module")
def cassette(tmp_path_factory) -> tuple[Path, str]:
    """A cassette vcrpy records from the v1 service, plus one interaction typed by hand."""
    path = tmp_path_factory.mktemp("vcr") / "orders_api.yaml"
    with DriftService(1) as service, vcr.use_cassette(str(path)):
        for method, url in VCR_CALLS:
            body = {"items": [{"sku": "S", "qty": 1}], "currency": "EUR"}
            requests.request(method, service.url + url,
                             json=body if method == "POST" else None, timeout=10)
        base = service.url
    text = path.read_text()
    head, tail = text.split("version: 1")
    path.write_text(head + HAND_WRITTEN_INTERACTION.format(base=base) + "version: 1" + tail)
    return path, base


def _vcr_findings(result: dict) -> set[tuple]:
    return {(m["entry"], f["class"], f["kind"], None if f["path"] == "-" else f["path"])
            for m in result["mocks"] for f in m["findings"]}


def test_cassette_report_names_exactly_the_planted_findings(store, cassette):
    path, _ = cassette
    code, result = report(store, path)
    assert code == 1
    assert _vcr_findings(result) == VCR_EXPECTED
    lines = {m["entry"]: m["line"] for m in result["mocks"]}
    text = path.read_text().splitlines()
    # each interaction's line is the "- request:" that opens it
    assert [text[lines[f"interactions[{i}]"] - 1] for i in range(7)] == ["- request:"] * 7


def test_fix_rewrites_only_stale_cassette_lines_and_vcrpy_replays_them(store, cassette,
                                                                        tmp_path):
    folder = tmp_path / "cassettes"
    folder.mkdir()
    path = folder / cassette[0].name
    shutil.copy(cassette[0], path)
    _committed(folder)
    original = path.read_text().splitlines()
    result = verify(store, path, "--fix")
    assert result.returncode == 1 and f"fixed: {path}" in result.stderr
    removed, added = _changed_lines(folder)
    diff = subprocess.run(["git", "-C", str(folder), "diff", "--unified=0"],
                          capture_output=True, text=True, check=True).stdout
    # four hunks: the body scalars of the two fixable interactions and their lengths
    assert diff.count("\n@@ ") == 4, diff
    lengths = [i for i, line in enumerate(original) if line.strip() == "Content-Length:"]
    assert removed and added
    body_lines = {line.strip() for line in original if "note" in line or "nickname" in line
                  or "string: '{\"id\": 3" in line or line.strip().startswith('"')}
    for line in removed:
        assert line in body_lines or line.startswith("- '"), line
    assert sum(line.startswith("- '") for line in removed) == 2  # two Content-Length values
    assert len(lengths) > 2  # other interactions' lengths exist and were left alone
    assert not any("interactions[2]" in line for line in added)

    with vcr.use_cassette(str(path), record_mode="none"):
        order = requests.get(cassette[1] + "/orders/3", timeout=10).json()
        user = requests.get(cassette[1] + "/users/5", timeout=10).json()
        legacy = requests.get(cassette[1] + "/legacy", timeout=10).json()
    assert "note" not in order and isinstance(order["total"], float)
    assert isinstance(user["nickname"], dict)
    assert legacy == {"ok": True}  # gone today, but nothing a value can fix: untouched

    _, after = report(store, path)
    assert not {k[2:] for k in _vcr_findings(after)} & {
        ("property-removed", "$.note"), ("type-widened", "$.total"),
        ("type-changed", "$.nickname")}


# --- RPC: one path, operations told apart by X-Amz-Target ---------------------------


class _RpcHandler(BaseHTTPRequestHandler):
    """POST / naming its operation in X-Amz-Target, as AWS JSON protocols do (v2 shapes).

    Bodies are application/json: whether application/x-amz-json-1.0 is JSON is
    issue 16's single "is this JSON" home, not this test's business."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        target = self.headers["X-Amz-Target"]
        if target == "Shop_2026.GetOrder":
            payload = {"Order": {"Id": "o-1", "Total": 12}}  # v1 also sent "Note"
        else:
            payload = {"Things": [{"Name": "a"}], "NextToken": None}
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _rpc_mapping(target: str | None, body: dict) -> dict:
    request = {"method": "POST", "url": "/"}
    if target:
        request["headers"] = {"X-Amz-Target": {"equalTo": target}}
    return {"request": request, "response": {
        "status": 200, "headers": {"Content-Type": "application/json"},
        "jsonBody": body}}


def test_rpc_mocks_are_matched_on_their_operation(tmp_path):
    db = tmp_path / "rpc.db"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RpcHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = SidecarConfig(str(db), upstream=f"http://127.0.0.1:{server.server_port}",
                               listen_port=0, service="shop-rpc")
        with SidecarThread(config) as sidecar:
            for n in range(80):
                target = "Shop_2026.GetOrder" if n % 2 else "Shop_2026.ListThings"
                status, _, _ = http_exchange(sidecar.port, "POST", "/", b"{}", {
                    "X-Amz-Target": target, "Content-Type": "application/json"})
                assert status == 200
    finally:
        server.shutdown()
        server.server_close()
    mocks = tmp_path / "mappings"
    mocks.mkdir()
    (mocks / "get-order.json").write_text(json.dumps(_rpc_mapping(
        "Shop_2026.GetOrder", {"Order": {"Id": "o-9", "Total": 3, "Note": "x"}}), indent=2))
    (mocks / "list-things.json").write_text(json.dumps(_rpc_mapping(
        "Shop_2026.ListThings", {"Things": [{"Name": "b"}], "NextToken": None}), indent=2))
    (mocks / "any-call.json").write_text(json.dumps(_rpc_mapping(None, {"Order": {}})))
    code, result = report(db, mocks)
    assert code == 1
    assert findings(result) == {
        # matched to GetOrder, not to ListThings (whose shape it would break entirely)
        ("get-order.json", "stale", "property-removed", "$.Order.Note"),
        ("any-call.json", "unverifiable", "operation-unknown", None),
    }
    verdicts = {Path(m["file"]).name: m for m in result["mocks"]}
    assert verdicts["get-order.json"]["endpoint"]["operation"] == "Shop_2026.GetOrder"
    assert verdicts["list-things.json"]["verdict"] == "fresh"
    assert verdicts["list-things.json"]["evidence"]["observations"] == 40


def test_refresh_verify_lists_the_stale_hand_written_mocks_in_the_pr_body(store, tmp_path):
    db = tmp_path / "store.db"
    shutil.copy(store, db)  # refresh publishes endpoints into its store
    mocks = write_wiremock_mocks(tmp_path / "team-mocks")
    body = tmp_path / "pr.md"
    result = subprocess.run(freshmock_command(
        "refresh", "--db", str(db), "--out", str(tmp_path / "stubs"), "--targets", "wiremock",
        "--window", "7d", "--pr-body", str(body), "--verify", str(mocks)),
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    text = body.read_text()
    section = text[text.index("### Hand-written mocks"):]
    assert "6 stale" in section
    orders = f"`{mocks / 'mappings' / 'orders.json'}:1`"
    assert f"| stale | {orders} mapping | property-removed `$.note` |" in section
    assert "| unverifiable |" in section and "never-observed" in section
    # a broken mock file stops the refresh before any stub is written
    (mocks / "mappings" / "broken.json").write_text("{")
    result = subprocess.run(freshmock_command(
        "refresh", "--db", str(db), "--out", str(tmp_path / "other"), "--targets", "wiremock",
        "--verify", str(mocks)), capture_output=True, text=True, timeout=180)
    assert result.returncode == 2 and "broken.json" in result.stderr
    assert not (tmp_path / "other").exists()


def test_a_client_error_is_new_only_against_the_stores_own_history(store, tmp_path):
    # The shared store's 3 calls of /search are thin under the drift rules (fewer
    # than 5 a side: no verdict on its statuses at all); 30 more make them evidence.
    db = tmp_path / "store.db"
    shutil.copy(store, db)
    record_more(db, [("GET", "/search", None, {})] * 30)
    mocks = tmp_path / "mappings"
    mocks.mkdir()
    # /search answers 404 today and was first recorded today: that the mocks show
    # a 200 says nothing about whether the 404 is new. POST /orders had no 422 before.
    (mocks / "search.json").write_text(json.dumps({
        "request": {"method": "GET", "urlPath": "/search"},
        "response": {"status": 200, "jsonBody": {"results": []}}}))
    (mocks / "create.json").write_text(json.dumps({
        "request": {"method": "POST", "urlPath": "/orders"},
        "response": {"status": 201, "jsonBody": {"id": 1, "state": "created"}}}))
    _, result = report(db, mocks)
    assert findings(result) == {
        ("search.json", "incomplete", "status-added", None),
        ("search.json", "unverifiable", "status-not-observed", None),
        ("create.json", "stale", "new-client-error", None),
    }


def test_stubs_generated_from_todays_window_show_nothing_that_changed(store, tmp_path):
    """No false alarm on mocks that are right: freshmock's own stubs of the same window.

    A stub replays one real body, so what one example cannot show stays visible
    (an optional field it happens to carry or to lack, a string where null also
    comes back or a null where strings do), but nothing that changed: no field
    removed or retyped, none added that today's objects always carry, no status
    or endpoint gone, no media type changed (a 204 has none: diff files it so).
    """
    db = tmp_path / "store.db"
    shutil.copy(store, db)
    for target in ("wiremock", "openapi", "vcr"):
        result = subprocess.run(freshmock_command(
            "generate", "--target", target, "--db", str(db), "--out", str(tmp_path / target),
            "--window", "7d"), capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    _, result = report(db, tmp_path / "wiremock", tmp_path / "openapi", tmp_path / "vcr")
    kinds = {f[2] for f in findings(result)}
    # Since issue 16 a stub replays each kept body, and some lack the optional coupon
    # (21 of today's 45 orders carry it) or show the null email (15 of 45): the drift
    # rules call those property-added and type-widened, each the mirror of a
    # became-optional or became-nullable on a body that shows the other case.
    assert kinds <= {"became-optional", "became-nullable", "items-type-widened",
                     "property-added", "type-widened",
                     "thin-evidence", "status-not-observed"}, kinds
    for mock in result["mocks"]:
        for finding in mock["findings"]:
            if finding["kind"] == "property-added":  # optional today, never always there
                evidence = finding["evidence"]
                assert 0 < evidence["current_present"] < evidence["current_objects"], finding
            if finding["kind"] == "type-widened":  # the stub's type still comes back today
                assert finding["mock"] in finding["today"].split("|"), finding
    assert result["summary"]["fresh"] >= 10
    assert {m["format"] for m in result["mocks"]} == {"wiremock", "openapi", "vcr"}


def test_fix_rewrites_string_bodies_and_body_files_in_place(store, tmp_path):
    root = tmp_path / "wm"
    (root / "mappings").mkdir(parents=True)
    (root / "__files").mkdir()
    (root / "mappings" / "user.json").write_text(json.dumps({
        "request": {"method": "GET", "urlPath": "/users/8"},
        "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                     "body": '{"id": 8, "nickname": "ada", "name": "Ada"}'}}, indent=2))
    order_file = root / "__files" / "order.json"
    order_file.write_text(json.dumps(
        {"id": 1, "status": "paid", "total": 5, "note": "n"}, indent=2) + "\n")
    (root / "mappings" / "order.json").write_text(json.dumps({
        "request": {"method": "GET", "urlPathPattern": "/orders/\\d+"},
        "response": {"status": 200, "bodyFileName": "order.json",
                     "headers": {"Content-Type": "application/json"}}}, indent=2))
    before = order_file.read_text().splitlines()
    result = verify(store, root, "--fix")
    assert f"fixed: {order_file}" in result.stderr, result.stderr
    body = json.loads(json.loads((root / "mappings" / "user.json").read_text())
                      ["response"]["body"])
    assert isinstance(body["nickname"], dict) and body["name"] == "Ada"
    after = order_file.read_text().splitlines()
    diff = list(difflib.unified_diff(before, after, lineterm="", n=0))[2:]
    removed = [line[1:].strip() for line in diff if line.startswith("-")]
    added = [line[1:].strip() for line in diff if line.startswith("+")]
    # total retyped and, the member after it cut, without its comma: two lines, no more
    assert removed == ['"total": 5,', '"note": "n"']
    assert len(added) == 1 and added[0].startswith('"total": ') and "," not in added[0]
    assert json.loads(order_file.read_text())["status"] == "paid"
