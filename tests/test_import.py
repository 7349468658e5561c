"""`freshmock import`: HAR and mitmproxy flow files into the store, redacted, all or nothing.

The capture files are made for real: a real ``mitmdump`` in reverse mode in
front of the demo service writes a flow file (``-w``) and a HAR
(``hardump``) while freshmock's recorder script, loaded into the same
mitmdump, records the same traffic live. Imports then have a live store to
be compared with, row for row.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from pathlib import Path
from urllib.parse import quote, quote_plus, urlencode

import pytest
from mitmproxy.io import FlowReader, FlowWriter
from mitmproxy.test import tflow

from freshmock.generators.model.infer import infer_endpoints
from freshmock.generators.model.tables import ENDPOINT_KEY
from freshmock.generators.workflows.demo.service import DemoService, demo_requests
from freshmock.proxy.importer import import_files
from freshmock.proxy.store import open_store

from capture_kit import send_requests
from conftest import MITMDUMP_LISTENING, REPO, ProcessOutput, freshmock_command


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


JWT = ".".join(
    _b64url(part)
    for part in (b'{"alg":"HS256","typ":"JWT"}', b'{"sub":"import-test-user"}', b"sig" * 11)
)
COOKIE_SECRET = "sid-7c1e9a2b4d6f8e0a"
API_KEY = "ak-5f4e3d2c1b0a9f8e"
PASSWORD = "pw-Imp0rt-Sw0rdfish-42"
CLIENT_SECRET = "cs-9a8b7c6d5e4f3a2b1c0d"
SECRETS = {
    "jwt": JWT,
    "cookie": COOKIE_SECRET,
    "api_key": API_KEY,
    "password": PASSWORD,
    "client_secret": CLIENT_SECRET,
    "demo set-cookie": "s3cr3t-session-value",  # the demo service's own Set-Cookie
    "demo bearer": "demo-token-not-a-real-secret",
}

SECRET_TRAFFIC = [
    ("GET", f"/users?api_key={API_KEY}&page=2", None,
     {"Authorization": f"Bearer {JWT}", "Cookie": f"sid={COOKIE_SECRET}; theme=dark"}),
    ("POST", "/users",
     ("application/json",
      json.dumps({"name": "Ada", "email": "ada@example.test", "password": PASSWORD}).encode()),
     {"Authorization": f"Bearer {JWT}"}),
    ("POST", "/users",
     ("application/x-www-form-urlencoded",
      urlencode({"grant_type": "client_credentials", "client_id": "app-1",
                 "client_secret": CLIENT_SECRET}).encode()),
     {}),
]  # fmt: skip


def traffic() -> list[tuple[str, str, tuple | None, dict]]:
    """(method, path, (content type, body) or None, headers): the demo's traffic and secrets."""
    demo = [
        (method, path, None if body is None else ("application/json", json.dumps(body).encode()),
         headers)
        for method, path, body, headers in demo_requests()
    ]  # fmt: skip
    return demo + SECRET_TRAFFIC


def forms(secret: str) -> set[bytes]:
    """The ways a secret could sit in a file: as is, URL-encoded, JSON-escaped."""
    return {f.encode() for f in (secret, quote_plus(secret), quote(secret, safe=""),
                                 json.dumps(secret)[1:-1])}  # fmt: skip


def leaks(files: dict[str, bytes]) -> list[tuple[str, str]]:
    return [
        (name, secret_name)
        for name, data in files.items()
        for secret_name, secret in SECRETS.items()
        if any(form in data for form in forms(secret))
    ]


def store_files(db: Path) -> dict[str, bytes]:
    """The store and its -wal / -shm files, as bytes."""
    siblings = sorted(db.parent.iterdir())
    return {p.name: p.read_bytes() for p in siblings if p.name.startswith(db.name)}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        freshmock_command(*args), capture_output=True, text=True, timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


def rows(db: Path) -> list[dict]:
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute("select * from observations order by id")]
    finally:
        connection.close()


def count_rows(db: Path) -> int:
    connection = sqlite3.connect(db)
    try:
        return connection.execute("select count(*) from observations").fetchone()[0]
    finally:
        connection.close()


def connect(port: int) -> closing[http.client.HTTPConnection]:
    # Always closed: a connection left open stalls mitmdump's shutdown.
    return closing(http.client.HTTPConnection("127.0.0.1", port, timeout=10))


def _wait_for_proxy(process: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            with connect(port) as connection:
                connection.request("GET", "/health")
                connection.getresponse().read()
            return
        except OSError:
            assert process.poll() is None, "mitmdump exited"
            assert time.monotonic() < deadline, "mitmdump did not start listening"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def captured(tmp_path_factory) -> dict:
    """mitmdump writes out.mitm and out.har while the recorder script fills live.db."""
    folder = tmp_path_factory.mktemp("captured")
    with DemoService() as service:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "mitmdump"), "--set", "flow_detail=0",
             "--mode", f"reverse:{service.url}@127.0.0.1:0",
             "-w", str(folder / "out.mitm"), "--set", f"hardump={folder / 'out.har'}",
             "-s", str(REPO / "proxy" / "recorder.py"),
             "--set", f"freshmock_db={folder / 'live.db'}", "--set", "freshmock_body_budget=0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        mitmdump_output = ProcessOutput(process)
        try:
            port = mitmdump_output.wait_for_port(MITMDUMP_LISTENING, "mitmdump", 30)
            _wait_for_proxy(process, port)
            with connect(port) as connection:
                statuses = [status for status, _ in send_requests(connection, traffic())]
            # SIGTERM to mitmdump alone: it writes the HAR and drains the recorder on the way out.
            process.send_signal(signal.SIGTERM)
            process.wait(30)
            output = mitmdump_output.finish()
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left
            except ProcessLookupError:
                pass
            process.wait(10)
            mitmdump_output.finish(10)
    assert process.returncode == 0, output.decode(errors="replace")
    assert b"Traceback" not in output, output.decode(errors="replace")
    return {"folder": folder, "har": folder / "out.har", "flows": folder / "out.mitm",
            "live": folder / "live.db", "statuses": statuses}  # fmt: skip


@pytest.fixture(scope="module")
def imported(captured) -> dict:
    """Each file imported through the CLI into its own store, a reader holding the WAL open."""
    result = {}
    for kind in ("har", "flows"):
        db = captured["folder"] / f"imported-{kind}.db"
        open_store(db, must_exist=False).close()
        # While another connection is open, closing the importer's one leaves the -wal
        # file in place, so what the import wrote through it can be checked as bytes.
        reader = sqlite3.connect(db)
        try:
            reader.execute("select count(*) from observations").fetchone()
            run = cli("import", str(captured[kind]), "--db", str(db))
            files = store_files(db)
        finally:
            reader.close()
        result[kind] = {"db": db, "run": run, "files": files}
    return result


def test_the_capture_files_really_carry_the_secrets(captured):
    for kind in ("har", "flows"):
        data = {captured[kind].name: captured[kind].read_bytes()}
        assert {secret for _, secret in leaks(data)} == set(SECRETS), kind


@pytest.mark.parametrize("kind", ["har", "flows"])
def test_import_reports_every_exchange(captured, imported, kind):
    run = imported[kind]["run"]
    assert run.returncode == 0, run.stderr
    sent = len(traffic()) + 1  # and the /health probe that waited for the proxy
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"{captured[kind]}: {sent} of {sent} exchanges imported")
    assert lines[1].startswith(f"{sent} exchanges imported into {imported[kind]['db']};")
    assert "header and query values redacted" in lines[1]
    assert int(lines[1].split("; ")[1].split()[0]) > len(traffic())  # a bearer each, and more


@pytest.mark.parametrize("kind", ["har", "flows"])
def test_rows_have_method_path_status_and_redacted_bodies(captured, imported, kind):
    stored = rows(imported[kind]["db"])
    sent = [("GET", "/health", 200)] + [
        (method, path.split("?", 1)[0], status)
        for (method, path, _, _), status in zip(traffic(), captured["statuses"], strict=True)
    ]
    assert Counter((r["method"], r["path"], r["status"]) for r in stored) == Counter(sent)
    assert {r["service"] for r in stored} == {f"127.0.0.1:{stored[0]['port']}"}

    created = next(r for r in stored if r["status"] == 201 and b"password" in r["request_body"])
    assert json.loads(created["request_body"]) == {
        "name": "Ada", "email": "ada@example.test", "password": "<redacted>"
    }
    assert json.loads(created["response_body"])["name"] == "Ada"
    form = next(r for r in stored if r["request_media_type"].endswith("form-urlencoded"))
    assert form["request_body"] == (
        b"grant_type=client_credentials&client_id=app-1&client_secret=<redacted>"
    )
    assert form["status"] == 400 and json.loads(form["response_body"]) == {
        "error": "body is not JSON"
    }
    listing = next(r for r in stored if r["query"])
    assert listing["query"] == "api_key=<redacted>&page=2"
    headers = dict(json.loads(listing["request_headers"]))
    assert headers["Authorization"] == "<redacted:bearer>"
    assert headers["Cookie"] == "sid=<redacted>; theme=<redacted>"
    missing = next(r for r in stored if r["path"] == "/users/999")
    assert json.loads(missing["response_body"])["error"] == "user not found"


def test_a_flow_file_imports_as_the_very_rows_the_live_recorder_wrote(captured, imported):
    def without_id(row: dict) -> dict:
        return {k: v for k, v in row.items() if k != "id"}

    live = [without_id(row) for row in rows(captured["live"])]
    assert len(live) == len(traffic()) + 1
    assert [without_id(row) for row in rows(imported["flows"]["db"])] == live


def test_a_har_imports_as_the_live_rows_but_for_flow_ids_and_durations(captured, imported):
    def comparable(row: dict) -> dict:
        return {k: v for k, v in row.items() if k not in ("id", "flow_id", "duration_ms")}

    live = sorted(rows(captured["live"]), key=lambda row: row["observed_at"])
    har = sorted(rows(imported["har"]["db"]), key=lambda row: row["observed_at"])
    assert [comparable(row) for row in har] == [comparable(row) for row in live]
    assert all(row["flow_id"].startswith("har-") for row in har)


@pytest.mark.parametrize("kind", ["har", "flows"])
def test_no_secret_reaches_the_store_or_its_wal(imported, kind):
    files = imported[kind]["files"]
    wal = imported[kind]["db"].name + "-wal"
    assert len(files.get(wal, b"")) > 0  # the import's writes are in it: it was checked too
    assert leaks(files) == []


def test_imported_traffic_infers_the_endpoints_live_recording_does(captured, imported):
    def endpoint_keys(db: Path) -> set[tuple]:
        store = open_store(db)
        try:
            return {tuple(row[k] for k in ENDPOINT_KEY) for row in infer_endpoints(store)}
        finally:
            store.close()

    live = endpoint_keys(captured["live"])
    assert any(key[1] == "GET" and key[2].startswith("/users/{") for key in live)
    assert endpoint_keys(imported["har"]["db"]) == live
    assert endpoint_keys(imported["flows"]["db"]) == live


def test_importing_the_same_exchanges_again_adds_nothing(captured, tmp_path):
    db = tmp_path / "again.db"
    first = import_files(db, [captured["flows"]])
    again = import_files(db, [captured["flows"], captured["har"], captured["har"]])
    assert first[0].imported == len(traffic()) + 1
    assert [(r.imported, r.already_stored) for r in again] == [
        (0, first[0].imported), (first[0].imported, 0), (0, first[0].imported)
    ]
    assert count_rows(db) == 2 * first[0].imported


def test_a_body_budget_samples_as_the_recorder_does(captured, tmp_path):
    db = tmp_path / "budget.db"
    (result,) = import_files(db, [captured["flows"]], body_budget=1)
    stored = rows(db)
    sampled = [row for row in stored if row["sampled_out"]]
    assert result.imported == len(stored) and result.sampled_out == len(sampled) > 0
    assert all(row["request_body"] is None and row["response_body"] is None for row in sampled)
    # the first of each endpoint's hour keeps its bodies
    assert next(r for r in stored if r["path"] == "/users/1")["sampled_out"] == 0


def test_flow_files_keep_errors_and_websockets_and_skip_what_the_recorder_never_sees(tmp_path):
    flows = tmp_path / "mixed.mitm"
    with open(flows, "wb") as handle:
        writer = FlowWriter(handle)
        for flow in (tflow.tflow(resp=True), tflow.ttcpflow(), tflow.tdnsflow(),
                     tflow.tflow(err=True), tflow.tflow(), tflow.twebsocketflow()):
            writer.add(flow)  # fmt: skip
    db = tmp_path / "mixed.db"
    (result,) = import_files(db, [flows])
    assert result.skipped == {"tcp flows": 1, "dns flows": 1, "unfinished flows": 1}
    assert [(r["path"], r["status"], r["error"]) for r in rows(db)] == [
        ("/path", 200, None), ("/path", None, "error"), ("/ws", 101, None)
    ]
    connection = sqlite3.connect(db)
    try:
        messages = connection.execute("select seq, opcode, data from websocket_messages").fetchall()
    finally:
        connection.close()
    assert messages == [(0, "binary", None), (1, "text", b"hello text"), (2, "text", b"it's me")]


# --- Details of HAR files that mitmproxy's own does not exercise ----------------

SMALL_HAR = {
    "log": {
        "version": "1.2",
        "entries": [
            {
                "startedDateTime": "2026-03-14T10:26:53.500+01:00",
                "time": 12.5,
                "request": {
                    "method": "POST",
                    "url": "https://api.example.test/v1/customers",
                    "headers": [{"name": ":authority", "value": "api.example.test"},
                                {"name": "Content-Type", "value": "application/json"}],
                    "queryString": [{"name": "access_token", "value": "qs-token-1a2b3c4d"},
                                    {"name": "page", "value": "2"}],
                    "postData": {"mimeType": "application/json",
                                 "text": '{"customer_ref": "CR-778899", "name": "Bo"}'},
                },
                "response": {
                    "status": 200,
                    "headers": [{"name": "Content-Type", "value": "application/json"},
                                {"name": "Content-Encoding", "value": "gzip"}],
                    "content": {"mimeType": "application/json", "encoding": "base64",
                                "text": base64.b64encode(b'{"id": 7}').decode()},
                },
            },
            {
                "startedDateTime": "2026-03-14T09:27:00Z",
                "request": {"method": "GET", "url": "https://api.example.test/v1/slow",
                            "headers": []},
                "response": {"status": 0, "headers": [], "content": {},
                             "_error": "net::ERR_CONNECTION_RESET"},
            },
        ],
    }
}  # fmt: skip


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory) -> Path:
    """A store holding the small HAR, imported through the CLI with --service and --config."""
    folder = tmp_path_factory.mktemp("seed")
    har = folder / "small.har"
    har.write_text(json.dumps(SMALL_HAR))
    config = folder / "freshmock.toml"
    config.write_text('[redaction]\nfields = ["customer_ref"]\n')
    db = folder / "seed.db"
    run = cli("import", str(har), "--db", str(db), "--service", "customers-api",
              "--config", str(config))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == f"{har}: 2 of 2 exchanges imported (HAR)"
    assert not Path(f"{db}-wal").exists()  # the file alone is the whole store: copies are safe
    return db


def test_har_details_service_config_base64_time_and_failed_entries(seed_store):
    posted, failed = rows(seed_store)
    assert posted["service"] == failed["service"] == "customers-api"
    assert posted["observed_at"] == "2026-03-14T09:26:53.500000Z"  # UTC, the store's format
    assert (posted["scheme"], posted["host"], posted["port"]) == ("https", "api.example.test", 443)
    assert posted["query"] == "access_token=<redacted>&page=2"  # built from queryString
    assert json.loads(posted["request_body"]) == {"customer_ref": "<redacted>", "name": "Bo"}
    assert posted["response_body"] == b'{"id": 7}'  # base64 undone; already decoded, not gunzipped
    assert posted["error"] is None and posted["duration_ms"] == 12.5
    assert [name for name, _ in json.loads(posted["request_headers"])] == ["Content-Type"]
    assert failed["status"] is None and failed["error"] == "net::ERR_CONNECTION_RESET"
    assert b"CR-778899" not in seed_store.read_bytes()


# --- Malformed input: one line naming file and entry, exit 2, nothing written ---


def _invalid_json(captured, folder: Path) -> tuple[Path, str]:
    path = folder / "broken.har"
    path.write_text('{"log": {"entries": [{"request": ')
    return path, f"{path}: not valid JSON (Expecting value at line 1, column 34)"


def _entry_without_response(captured, folder: Path) -> tuple[Path, str]:
    har = json.loads(captured["har"].read_text())
    del har["log"]["entries"][3]["response"]
    path = folder / "capture.har"
    path.write_text(json.dumps(har))
    return path, f"{path}: entry 3: response missing"


def _truncated_flow_file(captured, folder: Path) -> tuple[Path, str]:
    data = captured["flows"].read_bytes()
    with open(captured["flows"], "rb") as handle:
        flows = len(list(FlowReader(handle).stream()))
    path = folder / "cut.mitm"
    path.write_bytes(data[:-10])  # the last flow loses its end
    return path, f"{path}: flow {flows - 1}: truncated or corrupt"


@pytest.mark.parametrize(
    "make_bad", [_invalid_json, _entry_without_response, _truncated_flow_file],
    ids=["invalid-json", "har-entry-3-without-response", "truncated-flow-file"],
)
def test_a_malformed_file_imports_nothing_even_after_a_valid_one(
    captured, seed_store, tmp_path, make_bad
):
    db = tmp_path / "store.db"
    shutil.copy(seed_store, db)
    before = count_rows(db)
    bad, message = make_bad(captured, tmp_path)
    valid = captured["har"] if bad.suffix == ".mitm" else captured["flows"]
    run = cli("import", str(valid), str(bad), "--db", str(db))
    assert run.returncode == 2, run
    assert run.stderr.splitlines() == [run.stderr.strip()]  # one line
    assert run.stderr.startswith(f"freshmock: error: {message}")
    assert "Traceback" not in run.stderr + run.stdout and run.stdout == ""
    assert count_rows(db) == before == 2


def test_a_malformed_file_does_not_even_create_the_store(captured, tmp_path):
    bad, message = _entry_without_response(captured, tmp_path)
    db = tmp_path / "never.db"
    run = cli("import", str(captured["flows"]), str(bad), "--db", str(db))
    assert run.returncode == 2 and message in run.stderr
    assert not db.exists()


def test_help_explains_formats_options_and_atomicity():
    run = cli("import", "--help")
    assert run.returncode == 0
    text = " ".join(run.stdout.split())
    for fragment in ("HAR files", "mitmdump -w", "--db", "--service", "--config",
                     "--body-budget", "0 keeps every body", "redaction",
                     "nothing from any file is written", "importing a file twice adds nothing"):
        assert fragment in text, fragment  # fmt: skip
