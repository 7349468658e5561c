"""Real parts for the capture-path tests: an upstream with awkward responses,
raw HTTP exchanges, a WebSocket echo server, and a recording sidecar with options.

Everything listens on 127.0.0.1 and is torn down by its context manager.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import socket
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import wsproto
import wsproto.events as ws_events

from freshmock.proxy.sidecar import SidecarConfig, SidecarThread

SECRET = "Bearer sk-live-capture-kit-0123456789abcdef"


def gzip_bomb(decoded_mib: int) -> bytes:
    """A gzip stream of ``decoded_mib`` MiB of zeros: about a thousandth of that on the wire."""
    encoder = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    parts = [encoder.compress(block) for _ in range(decoded_mib)]
    parts.append(encoder.flush())
    return b"".join(parts)


def binary_blob(size: int) -> bytes:
    out, counter = [], 0
    while sum(map(len, out)) < size:
        out.append(hashlib.sha256(counter.to_bytes(8, "big")).digest())
        counter += 1
    return b"".join(out)[:size]


class UpstreamHandler(BaseHTTPRequestHandler):
    """Deterministic responses (no Date header), so proxied bytes can equal direct ones."""

    protocol_version = "HTTP/1.1"
    server_version = "capture-kit/1"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def log_message(self, format, *args) -> None:
        pass

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response_only(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["items"]:
            item = {"id": int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0,
                    "name": f"item {parts[1:]}", "tags": ["a", "b"], "price": 9.5}
            if "variant=wide" in query:
                item["extra"] = {"colour": "red", "sizes": [1, 2]}
            return self._reply(200, json.dumps(item).encode(),
                               {"Content-Type": "application/json",
                                "Set-Cookie": "sid=upstream-cookie-secret"})
        if parts == ["gzip"]:
            body = gzip.compress(json.dumps({"zipped": True, "n": list(range(50))}).encode(),
                                 mtime=0)
            return self._reply(200, body, {"Content-Type": "application/json",
                                           "Content-Encoding": "gzip"})
        if parts == ["bomb"]:
            return self._reply(200, self.server.bomb, {"Content-Type": "application/json",
                                                       "Content-Encoding": "gzip"})
        if parts == ["bin"]:
            return self._reply(200, binary_blob(5000), {"Content-Type": "image/png"})
        if parts == ["big"]:
            size = int(query.removeprefix("size=") or 100_000)
            return self._reply(200, b"x" * size, {"Content-Type": "text/plain"})
        if parts == ["sse"]:
            return self._sse()
        if parts == ["chunked"]:
            return self._chunked()
        self._reply(404, b'{"error": "no such route"}', {"Content-Type": "application/json"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self._reply(201, body, {"Content-Type": self.headers.get("Content-Type", "text/plain")})

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _sse(self) -> None:
        """One event, then wait until the client says it has it, then the last one."""
        sync = self.server.sse
        self.send_response_only(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._chunk(b"event: tick\ndata: {\"n\": 1}\n\n")
        sync["client_had_first_when_last_sent"] = sync["client_got_first"].wait(10)
        self._chunk(b"event: tick\ndata: {\"n\": 2}\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunked(self) -> None:
        self.send_response_only(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for n in range(5):
            self._chunk(f"line {n}\n".encode())
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class Upstream:
    """``with Upstream() as up:`` serves ``UpstreamHandler`` at ``up.url``."""

    def __init__(self, bomb_mib: int = 64) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), UpstreamHandler)
        self.server.daemon_threads = True
        self.server.bomb = gzip_bomb(bomb_mib)
        self.server.sse = {"client_got_first": threading.Event()}
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Upstream:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()


def raw_exchange(port: int, method: str, path: str, body: bytes = b"",
                 headers: dict[str, str] | None = None, timeout: float = 15) -> bytes:
    """Send one request; return every byte of the response as it came off the wire.

    The response is delimited by its own framing (Content-Length or chunked), not
    by ``Connection: close``: with that header, mitmproxy 12.2 sometimes leaves its
    upstream connection in CLOSE-WAIT until shutdown (with or without the recorder),
    which pytest then reports as an unclosed transport.
    """
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        reader = sock.makefile("rb")
        try:
            return _read_response(reader)
        finally:
            reader.close()


def _read_response(reader) -> bytes:
    head = bytearray()
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline()
        if not line:
            raise ConnectionError(f"connection closed in the response head: {bytes(head)!r}")
        head += line
    fields = {}
    for line in bytes(head).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = bytearray()
        while True:
            size_line = reader.readline()
            body += size_line
            size = int(size_line.split(b";")[0], 16)
            body += reader.read(size + 2)
            if size == 0:
                return bytes(head + body)
    length = int(fields.get(b"content-length", b"0"))
    return bytes(head) + reader.read(length)


def http_exchange(port: int, method: str, path: str, body: bytes | None = None,
                  headers: dict[str, str] | None = None, timeout: float = 15):
    """``(status, header pairs, body)`` over a keep-alive connection, closed afterwards.

    For big request bodies: with ``Connection: close`` and a body of a few hundred
    KB, mitmproxy 12.2 sometimes leaves its upstream connection in CLOSE-WAIT
    until shutdown (seen with and without the recorder), which pytest reports
    as an unclosed transport.
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


# A request of each awkward kind, with a credential, as (method, path, body, headers).
MIXED_TRAFFIC = [
    ("GET", "/items/1", b"", {"Authorization": SECRET}),
    ("GET", "/items/2?variant=wide&api_key=query-secret-1", b"", {}),
    ("GET", "/gzip", b"", {"Accept-Encoding": "gzip"}),
    ("GET", "/bin", b"", {}),
    ("GET", "/big?size=300000", b"", {}),
    ("POST", "/items", b'{"name": "new", "qty": 2}', {"Content-Type": "application/json"}),
    ("GET", "/chunked", b"", {}),
    ("GET", "/missing", b"", {}),
]


def assert_same_bytes_as_direct(proxy_port: int, upstream_port: int, traffic=MIXED_TRAFFIC):
    """Every response through the proxy is byte-identical to the upstream's own."""
    for method, path, body, headers in traffic:
        direct = raw_exchange(upstream_port, method, path, body, headers)
        proxied = raw_exchange(proxy_port, method, path, body, headers)
        assert proxied == direct, f"{method} {path}: the proxy changed the response"


@contextmanager
def recording(db: Path, upstream_url: str, **options):
    """A recording sidecar (real mitmproxy, real worker) with recorder options."""
    config = SidecarConfig(str(db), upstream=upstream_url, listen_port=0, service="kit",
                           recorder_options=options)
    with SidecarThread(config) as sidecar:
        yield sidecar


def wait_for(predicate: Callable[[], object], timeout: float = 20, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def rows(db: Path, sql: str, args=()) -> list[tuple]:
    connection = sqlite3.connect(db, timeout=10)
    try:
        return list(connection.execute(sql, args))
    finally:
        connection.close()


def counters_detail(db: Path) -> dict:
    (detail,) = rows(db, "select detail from counters order by updated_at desc limit 1")[0]
    return json.loads(detail)


# --- WebSocket: a wsproto echo server and client over plain sockets -------------


class WebSocketEcho:
    """Echoes every message back, prefixed; closes when the client does."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        ws = wsproto.WSConnection(wsproto.ConnectionType.SERVER)
        with conn:
            while True:
                data = conn.recv(65536)
                ws.receive_data(data or None)
                for event in ws.events():
                    if isinstance(event, ws_events.Request):
                        conn.sendall(ws.send(ws_events.AcceptConnection()))
                    elif isinstance(event, ws_events.TextMessage):
                        conn.sendall(ws.send(ws_events.Message(data="echo:" + event.data)))
                    elif isinstance(event, ws_events.BytesMessage):
                        conn.sendall(ws.send(ws_events.Message(data=b"echo:" + event.data)))
                    elif isinstance(event, ws_events.CloseConnection):
                        conn.sendall(ws.send(event.response()))
                        return
                if not data:
                    return

    def __enter__(self) -> WebSocketEcho:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.sock.close()


def websocket_conversation(port: int, messages: list[str | bytes], path: str = "/ws") -> list:
    """Connect through ``port``, send each message, collect the replies, close."""
    ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    replies: list = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(ws.send(ws_events.Request(host="127.0.0.1", target=path)))

        def pump(until: Callable[[], bool]) -> None:
            while not until():
                data = sock.recv(65536)
                ws.receive_data(data or None)
                for event in ws.events():
                    if isinstance(event, ws_events.AcceptConnection):
                        replies.append("accepted")
                    elif isinstance(event, ws_events.Message):
                        replies.append(event.data)
                    elif isinstance(event, ws_events.CloseConnection):
                        replies.append("closed")
                if not data:
                    return

        pump(lambda: "accepted" in replies)
        for n, message in enumerate(messages):
            sock.sendall(ws.send(ws_events.Message(data=message)))
            pump(lambda n=n: len(replies) >= n + 2)
        sock.sendall(ws.send(ws_events.CloseConnection(code=1000)))
        pump(lambda: "closed" in replies)
    return replies


def send_requests(connection: http.client.HTTPConnection, requests) -> list[tuple[int, bytes]]:
    """Send ``(method, path, body, headers)`` on one connection, ``body`` being None or
    ``(content_type, bytes)``; returns each ``(status, response body)``."""
    answers = []
    for method, path, body, headers in requests:
        headers = dict(headers)
        data = None
        if body is not None:
            headers["Content-Type"], data = body
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        answers.append((response.status, response.read()))
    return answers
