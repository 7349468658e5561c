"""Secrets in WebSocket text messages never reach disk: grepped in the store's bytes.

A conversation through the real recording proxy carries a password and a token in
JSON messages and a bearer token and an AWS key in plain text ones, both ways (the
echo server sends each back); every file of the store is read as bytes after the
proxy stopped. The messages themselves must be there, redacted, so the check is
never vacuous.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from capture_kit import WebSocketEcho, recording, websocket_conversation

PASSWORD = "ws-Pa55word-never-on-disk"
TOKEN = "tok_live_4f1e2d3c4b5a69788796a5b4c3d2e1f0"
BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3cy11c2VyIn0.c2lnbmF0dXJlLXdz"
AWS_KEY = "AKIAIOSFODNN7WSTESTX"
MESSAGES = [
    json.dumps({"op": "login", "user": "ada", "password": PASSWORD}),
    json.dumps({"op": "subscribe", "auth": {"access_token": TOKEN}, "topic": "orders"}),
    f"AUTH {BEARER}",
    f"rotated key {AWS_KEY} for ops",
]


def _store_bytes(db: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(db.parent.iterdir())
                    if path.name.startswith(db.name))


def test_secrets_in_websocket_text_messages_are_redacted_on_disk(tmp_path):
    db = tmp_path / "store.db"
    with WebSocketEcho() as echo, recording(db, echo.url) as proxy:
        replies = websocket_conversation(proxy.port, MESSAGES)
    assert replies[1:-1] == [f"echo:{message}" for message in MESSAGES]  # the client got it all
    with closing(sqlite3.connect(db)) as connection:
        stored = [row[0] for row in connection.execute(
            "select data from websocket_messages order by seq")]
    assert len(stored) == 2 * len(MESSAGES), stored  # each message and its echo
    login = json.loads(stored[0])
    assert login == {"op": "login", "user": "ada", "password": "<redacted>"}
    assert json.loads(stored[2])["auth"]["access_token"] == "<redacted>"
    assert stored[4] == b"AUTH <redacted:bearer>"
    assert stored[6] == b"rotated key <redacted:aws_access_key> for ops"
    on_disk = _store_bytes(db)
    for secret in (PASSWORD, TOKEN, BEARER.removeprefix("Bearer "), AWS_KEY):
        assert secret.encode() not in on_disk, secret[:8]
