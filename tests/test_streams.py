"""Streams stay live through the recorder: SSE, chunked bodies, WebSocket conversations."""

from __future__ import annotations

import hashlib
import socket

import pytest
from mitmproxy import http
from mitmproxy.test import taddons, tflow
from mitmproxy.websocket import WebSocketMessage

from freshmock.proxy.recorder import Recorder
from freshmock.proxy.streams import BodyTee, wants_tee

from capture_kit import (
    Upstream,
    WebSocketEcho,
    counters_detail,
    raw_exchange,
    recording,
    rows,
    websocket_conversation,
)


def test_the_tee_returns_every_chunk_unchanged_and_keeps_a_capped_copy():
    tee = BodyTee(cap=10)
    chunks = [b"abcd", b"efgh", b"ijkl", b"", b"mnop"]
    assert [tee(chunk) for chunk in chunks] == chunks
    assert (tee.teed(), tee.total) == (b"abcdefghij", 16)


@pytest.mark.parametrize(
    "headers, streamed",
    [
        ({"content-type": "text/event-stream"}, True),
        ({"content-type": "text/event-stream; charset=utf-8", "content-length": "10"}, True),
        ({"content-type": "application/x-ndjson", "transfer-encoding": "chunked"}, True),
        ({"content-type": "text/plain", "transfer-encoding": "chunked"}, True),
        ({"content-type": "application/json", "transfer-encoding": "chunked"}, False),
        ({"content-type": "text/plain", "content-length": "10"}, False),
        ({"content-type": "application/octet-stream"}, False),  # ends at close: buffered
    ],
)
def test_which_responses_get_a_tee(headers, streamed):
    fields = [(name.encode(), value.encode()) for name, value in headers.items()]
    assert wants_tee(http.Headers(fields)) is streamed


def _read_until(sock: socket.socket, marker: bytes, received: bytearray) -> None:
    while marker not in received:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before {marker!r}: {bytes(received)!r}")
        received += chunk


def test_server_sent_events_reach_the_client_live_and_are_recorded(tmp_path):
    db = tmp_path / "store.db"
    with Upstream() as upstream, recording(db, upstream.url) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=15) as sock:
            sock.sendall(b"GET /sse HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
            received = bytearray()
            _read_until(sock, b'data: {"n": 1}', received)
            # Only now may the server send the last event: a proxy that buffered
            # the stream would have kept the first one back until the end.
            upstream.server.sse["client_got_first"].set()
            _read_until(sock, b"0\r\n\r\n", received)
        assert b'data: {"n": 2}' in received
        assert upstream.server.sse["client_had_first_when_last_sent"] is True
    ((media_type, streamed, body, size, truncated),) = rows(
        db, "select response_media_type, response_streamed, response_body, response_body_size, "
        "response_body_truncated from observations"
    )
    assert (media_type, streamed, truncated) == ("text/event-stream", 1, 0)
    assert body == b'event: tick\ndata: {"n": 1}\n\nevent: tick\ndata: {"n": 2}\n\n'
    assert size == len(body)


def test_a_teed_stream_over_the_cap_is_recorded_truncated_and_delivered_whole(tmp_path):
    db = tmp_path / "store.db"
    with Upstream() as upstream, recording(db, upstream.url, max_body=16) as proxy:
        direct = raw_exchange(upstream.port, "GET", "/chunked")
        assert raw_exchange(proxy.port, "GET", "/chunked") == direct
    ((body, size, truncated, streamed),) = rows(
        db, "select response_body, response_body_size, response_body_truncated, "
        "response_streamed from observations"
    )
    assert (body, size, truncated, streamed) == (b"line 0\nline 1\nli", 35, 1, 1)


def test_a_websocket_conversation_is_recorded_message_by_message(tmp_path):
    db = tmp_path / "store.db"
    binary = bytes(range(256)) * 4
    with WebSocketEcho() as echo, recording(db, echo.url) as proxy:
        replies = websocket_conversation(proxy.port, ["hello", '{"op": "sum", "args": [1, 2]}',
                                                      binary])
    assert replies == ["accepted", "echo:hello", 'echo:{"op": "sum", "args": [1, 2]}',
                       b"echo:" + binary, "closed"]
    ((flow_id, status, path),) = rows(db, "select flow_id, status, path from observations")
    assert (status, path) == (101, "/ws")
    messages = rows(
        db, "select seq, from_client, opcode, data, size, sha256 from websocket_messages "
        "where flow_id = ? order by seq", [flow_id]
    )
    assert [(seq, from_client, opcode, data) for seq, from_client, opcode, data, _, _ in
            messages] == [
        (0, 1, "text", b"hello"),
        (1, 0, "text", b"echo:hello"),
        (2, 1, "text", b'{"op": "sum", "args": [1, 2]}'),
        (3, 0, "text", b'echo:{"op": "sum", "args": [1, 2]}'),
        (4, 1, "binary", None),  # binary: metadata only
        (5, 0, "binary", None),
    ]
    assert messages[4][4:] == (1024, hashlib.sha256(binary).hexdigest())


def test_websocket_recording_stops_at_the_per_connection_cap(tmp_path):
    db = tmp_path / "store.db"
    with WebSocketEcho() as echo, recording(db, echo.url, ws_max_messages=3) as proxy:
        replies = websocket_conversation(proxy.port, ["a", "b", "c", "d"])
    assert replies[1:-1] == ["echo:a", "echo:b", "echo:c", "echo:d"]
    assert rows(db, "select seq from websocket_messages order by seq") == [(0,), (1,), (2,)]
    assert counters_detail(db)["websocket_skipped"] == 5


@pytest.mark.asyncio
async def test_websocket_messages_are_trimmed_after_each_hook_so_memory_stays_flat(tmp_path):
    recorder = Recorder()
    with taddons.context(recorder) as tctx:
        tctx.configure(recorder, freshmock_db=str(tmp_path / "store.db"))
        recorder.running()
        try:
            flow = tflow.twebsocketflow(messages=False)
            for n in range(50):
                flow.websocket.messages.append(WebSocketMessage(1, n % 2 == 0, b"m%d" % n))
                recorder.websocket_message(flow)
                assert len(flow.websocket.messages) == 1  # the one just announced stays
                assert flow.websocket.messages[-1].content == b"m%d" % n
        finally:
            recorder.done()
    assert rows(tmp_path / "store.db", "select count(*) from websocket_messages") == [(50,)]
