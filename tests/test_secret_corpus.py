"""A corpus of secrets goes through the real recording proxy; none reaches disk.

The upstream is a small echo service defined here: it answers with what it
was sent plus secrets of its own (tokens, cookies, keys), as JSON, text and
gzip. The store's raw bytes (the database and its -wal / -shm files, read
while the proxy runs and again after it stops) must contain none of the
secret values, in any of the encodings they travelled in.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus, urlencode

import pytest

from freshmock.proxy.sidecar import SidecarConfig, SidecarThread

from capture_kit import send_requests


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(subject: str) -> str:
    header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
    payload = _b64url(json.dumps({"sub": subject, "iat": 1767225600}).encode())
    return f"{header}.{payload}.{_b64url(subject.encode() * 3)}"


def make_pem(label: str) -> str:
    body = base64.b64encode(f"private key material for {label} ".encode() * 4).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN PRIVATE KEY-----\n{lines}\n-----END PRIVATE KEY-----"


# Sent by the client.
REQUEST_JWT = make_jwt("corpus-request-user")
QUERY_TOKEN = "qtok-7f3a9c1e5b2d4a68"
QUERY_API_KEY = "qkey-0d9e8f7a6b5c4d3e"
QUERY_JWT = make_jwt("corpus-query-hint")
COOKIE_SID = "sid-c0ffee-9a8b7c6d5e4f"
HEADER_API_KEY = "hkey-1a2b3c4d5e6f7a8b"
HEADER_AWS_KEY = "AKIAJ3CORPUS7EXAMPL2"
LOGIN_PASSWORD = "pw-Corpus-Sw0rdfish-71"
LOGIN_REFRESH = "rt-device-4c5d6e7f8a9b0c1d"
LOGIN_CARD = "4012 8888 8888 1881"
FORM_PASSWORD = "pw-Form-Tr0ub4dor-3"
FORM_CLIENT_SECRET = "cs-5e6f7a8b9c0d1e2f3a4b"
NOTE_AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
NOTE_PEM = make_pem("corpus note")
NOTE_BEARER_TOKEN = "brr-0b79bab50daca910b000d4f1"
# Sent by the upstream.
RESPONSE_JWT = make_jwt("corpus-access-token")
RESPONSE_REFRESH = "rt-server-9f8e7d6c5b4a3f2e"
RESPONSE_COOKIE = "srv-session-6a5b4c3d2e1f"
RESPONSE_HEADER_TOKEN = "xat-3e4f5a6b7c8d9e0f"
RESPONSE_API_TOKEN = "api-tok-8d7c6b5a4f3e2d1c"
RESPONSE_CARD = "5105105105105100"
GZIP_PEM = make_pem("corpus gzip")
GZIP_SECRET = "gz-secret-2b3c4d5e6f7a8b9c"
GZIP_JWT = make_jwt("corpus-gzip-item")

SECRETS = {
    "REQUEST_JWT": REQUEST_JWT,
    "QUERY_TOKEN": QUERY_TOKEN,
    "QUERY_API_KEY": QUERY_API_KEY,
    "QUERY_JWT": QUERY_JWT,
    "COOKIE_SID": COOKIE_SID,
    "HEADER_API_KEY": HEADER_API_KEY,
    "HEADER_AWS_KEY": HEADER_AWS_KEY,
    "LOGIN_PASSWORD": LOGIN_PASSWORD,
    "LOGIN_REFRESH": LOGIN_REFRESH,
    "LOGIN_CARD": LOGIN_CARD,
    "FORM_PASSWORD": FORM_PASSWORD,
    "FORM_CLIENT_SECRET": FORM_CLIENT_SECRET,
    "NOTE_AWS_KEY": NOTE_AWS_KEY,
    "NOTE_PEM": NOTE_PEM,
    "NOTE_BEARER_TOKEN": NOTE_BEARER_TOKEN,
    "RESPONSE_JWT": RESPONSE_JWT,
    "RESPONSE_REFRESH": RESPONSE_REFRESH,
    "RESPONSE_COOKIE": RESPONSE_COOKIE,
    "RESPONSE_HEADER_TOKEN": RESPONSE_HEADER_TOKEN,
    "RESPONSE_API_TOKEN": RESPONSE_API_TOKEN,
    "RESPONSE_CARD": RESPONSE_CARD,
    "GZIP_PEM": GZIP_PEM,
    "GZIP_SECRET": GZIP_SECRET,
    "GZIP_JWT": GZIP_JWT,
}


def encodings(secret: str) -> set[bytes]:
    """The forms a secret can take on disk: as is, URL-encoded, JSON-escaped, bare digits."""
    forms = {secret, quote_plus(secret), quote(secret, safe=""), json.dumps(secret)[1:-1]}
    if secret.replace(" ", "").isdigit():
        forms.add(secret.replace(" ", ""))
    if "-----BEGIN" in secret:  # each line of key material on its own
        forms.update(line for line in secret.splitlines() if "-----" not in line)
    return {form.encode() for form in forms}


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:
        pass

    def _reply(self, content_type: str, body: bytes, headers: dict[str, str] | None = None):
        headers = dict(headers or {})
        if "gzip" in (self.headers.get("Accept-Encoding") or ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, payload, headers: dict[str, str] | None = None) -> None:
        self._reply("application/json; charset=utf-8", json.dumps(payload).encode(), headers)

    def _token_response(self, received) -> dict:
        return {
            "received": received,
            "access_token": RESPONSE_JWT,
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": RESPONSE_REFRESH,
        }

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/profile":
            self._json(
                {
                    "user": {"id": 7, "name": "Alice", "created_at": "2026-03-14T09:26:53Z"},
                    "api_token": RESPONSE_API_TOKEN,
                    "cards": [{"last4": "5100", "number": RESPONSE_CARD}],
                },
                {
                    "Set-Cookie": f"session={RESPONSE_COOKIE}; HttpOnly; Path=/",
                    "X-Auth-Token": RESPONSE_HEADER_TOKEN,
                },
            )
        elif path == "/keys":
            self._json(
                {
                    "keys": [{"id": 1, "private_key": GZIP_PEM}, {"id": 2, "secret": GZIP_SECRET}],
                    "items": [{"jwt": GZIP_JWT, "order_id": "ORD-2026-000123"}],
                }
            )
        else:
            self._json({"done": True})

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        content_type = self.headers.get("Content-Type") or ""
        if content_type.startswith("text/"):
            self._reply("text/plain; charset=utf-8", data)
        elif content_type.startswith("application/x-www-form-urlencoded"):
            self._json(self._token_response(data.decode()))
        else:
            self._json(self._token_response(json.loads(data)))


@pytest.fixture(scope="module")
def echo_service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


CORPUS = [
    (
        "GET",
        "/profile?"
        + urlencode(
            {
                "access_token": QUERY_TOKEN,
                "api_key": QUERY_API_KEY,
                "page": "2",
                "since": "2026-03-14T09:26:53Z",
                "id_hint": QUERY_JWT,
            }
        ),
        None,
        {
            "Authorization": f"Bearer {REQUEST_JWT}",
            "Cookie": f"sid={COOKIE_SID}; theme=dark",
            "X-Api-Key": HEADER_API_KEY,
            "X-Deploy-Note": f"rotated {HEADER_AWS_KEY}",
        },
    ),
    (
        "POST",
        "/login",
        (
            "application/json",
            json.dumps(
                {
                    "username": "alice",
                    "password": LOGIN_PASSWORD,
                    "mfa": {"otp": 135790},
                    "device": {"name": "phone", "refresh_token": LOGIN_REFRESH},
                    "cards": [{"number": LOGIN_CARD, "holder": "A. Liddell"}],
                }
            ).encode(),
        ),
        {},
    ),
    (
        "POST",
        "/oauth/token",
        (
            "application/x-www-form-urlencoded",
            urlencode(
                {
                    "grant_type": "password",
                    "username": "alice",
                    "password": FORM_PASSWORD,
                    "client_secret": FORM_CLIENT_SECRET,
                    "client_id": "app-1",
                }
            ).encode(),
        ),
        {},
    ),
    (
        "POST",
        "/notes",
        (
            "text/plain; charset=utf-8",
            (
                f"ops note: rotated {NOTE_AWS_KEY}\n{NOTE_PEM}\n"
                f"call with Bearer {NOTE_BEARER_TOKEN}\n"
            ).encode(),
        ),
        {},
    ),
    ("GET", "/keys", None, {"Accept-Encoding": "gzip"}),
    ("GET", "/corpus-done", None, {}),
]


def store_bytes(db_path: Path) -> dict[str, bytes]:
    return {
        path.name: path.read_bytes()
        for path in sorted(db_path.parent.iterdir())
        if path.name.startswith(db_path.name)
    }


@pytest.fixture(scope="module")
def recorded(echo_service, tmp_path_factory):
    """Drive the corpus through a real recording proxy; what the client got and what is on disk."""
    db_path = tmp_path_factory.mktemp("corpus") / "store.db"
    config = SidecarConfig(db_path=str(db_path), upstream=echo_service, listen_port=0)
    with SidecarThread(config) as sidecar:
        connection = http.client.HTTPConnection("127.0.0.1", sidecar.port, timeout=30)
        try:
            responses = send_requests(connection, CORPUS)
        finally:
            connection.close()
        # While the proxy runs, the newest rows may sit in the -wal file only.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            while_running = store_bytes(db_path)
            if any(b"/corpus-done" in data for data in while_running.values()):
                break
            time.sleep(0.2)
        sidecar.stop()
    after_stop = store_bytes(db_path)
    connection = sqlite3.connect(db_path)
    connection.row_factory = sqlite3.Row
    rows = {row["path"]: dict(row) for row in connection.execute("select * from observations")}
    connection.close()
    return {"responses": responses, "while_running": while_running, "after_stop": after_stop,
            "rows": rows}  # fmt: skip


def test_the_client_receives_the_real_traffic(recorded):
    statuses = [status for status, _ in recorded["responses"]]
    assert statuses == [200] * len(CORPUS)
    login = json.loads(recorded["responses"][1][1])
    assert login["access_token"] == RESPONSE_JWT
    assert login["received"]["password"] == LOGIN_PASSWORD
    assert GZIP_PEM in json.loads(gzip.decompress(recorded["responses"][4][1]))["keys"][0].values()


def test_every_request_is_recorded(recorded):
    assert set(recorded["rows"]) == {path.split("?", 1)[0] for _, path, _, _ in CORPUS}


def test_headers_cookies_and_query_are_redacted(recorded):
    row = recorded["rows"]["/profile"]
    assert row["query"] == (
        "access_token=<redacted>&api_key=<redacted>&page=2&since=2026-03-14T09%3A26%3A53Z"
        "&id_hint=<redacted:jwt>"
    )
    request_headers = dict(json.loads(row["request_headers"]))
    assert request_headers["Authorization"] == "<redacted:bearer>"
    assert request_headers["Cookie"] == "sid=<redacted>; theme=<redacted>"
    assert request_headers["X-Api-Key"] == "<redacted>"
    assert request_headers["X-Deploy-Note"] == "rotated <redacted:aws_access_key>"
    response_headers = dict(json.loads(row["response_headers"]))
    assert response_headers["Set-Cookie"] == "session=<redacted>; HttpOnly; Path=/"
    assert response_headers["X-Auth-Token"] == "<redacted>"


# The tests below need Redactor.redact_body wired into proxy/rows.py.


def test_json_bodies_are_redacted_keeping_their_shape(recorded):
    login = recorded["rows"]["/login"]
    assert json.loads(login["request_body"]) == {
        "username": "alice",
        "password": "<redacted>",
        "mfa": {"otp": 0},
        "device": {"name": "phone", "refresh_token": "<redacted>"},
        "cards": [{"number": "<redacted:card>", "holder": "A. Liddell"}],
    }
    response = json.loads(login["response_body"])
    assert response["received"]["password"] == "<redacted>"
    assert {key: response[key] for key in response if key != "received"} == {
        "access_token": "<redacted:jwt>",
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": "<redacted>",
    }
    profile = json.loads(recorded["rows"]["/profile"]["response_body"])
    assert profile["api_token"] == "<redacted>"
    assert profile["cards"] == [{"last4": "5100", "number": "<redacted:card>"}]
    assert profile["user"]["created_at"] == "2026-03-14T09:26:53Z"


def test_gzip_bodies_are_redacted_after_decoding(recorded):
    keys = json.loads(recorded["rows"]["/keys"]["response_body"])
    assert keys == {
        "keys": [
            {"id": 1, "private_key": "<redacted:private_key>"},
            {"id": 2, "secret": "<redacted>"},
        ],
        "items": [{"jwt": "<redacted:jwt>", "order_id": "ORD-2026-000123"}],
    }


def test_form_and_text_bodies_are_redacted(recorded):
    form = recorded["rows"]["/oauth/token"]
    assert form["request_body"] == (
        b"grant_type=password&username=alice&password=<redacted>&client_secret=<redacted>"
        b"&client_id=app-1"
    )
    echoed_form = json.loads(form["response_body"])["received"]
    assert "password=<redacted>" in echoed_form and "client_secret=<redacted>" in echoed_form
    note = recorded["rows"]["/notes"]
    expected = b"ops note: rotated <redacted:aws_access_key>\n<redacted:private_key>\n"
    expected += b"call with <redacted:bearer>\n"
    assert note["request_body"] == expected and note["response_body"] == expected


@pytest.mark.parametrize("moment", ["while_running", "after_stop"])
def test_no_secret_value_is_anywhere_in_the_store_files(recorded, moment):
    files = recorded[moment]
    assert "store.db" in files
    # Not vacuous: the files hold the whole corpus (its last request's row, and the
    # clear parts of the others), so a leak would have had somewhere to be.
    data = b"".join(files.values())
    assert b"/corpus-done" in data, f"the corpus had not reached the store {moment}"
    assert all(path.split("?")[0].encode() in data for _, path, _, _ in CORPUS)
    leaks = [
        (name, secret_name)
        for name, data in files.items()
        for secret_name, secret in SECRETS.items()
        if any(form in data for form in encodings(secret))
    ]
    assert leaks == []
