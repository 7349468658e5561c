"""``freshmock serve``: a store's stub export over HTTP, read-only, behind a bearer token.

    GET /healthz               "ok"; the only path that needs no token
    GET /v1/services           [{service, endpoints, observations, last_seen}]
    GET /v1/export[?service=]  the export (see ``export``), gzip when accepted

Every other request needs ``Authorization: Bearer TOKEN``, compared in
constant time; without it the answer is 401 with ``WWW-Authenticate: Bearer``.
Before answering, the window is published again if observations were added
since the last answer, so a client pulls the dependency as observed today
while a sidecar keeps recording into the store. Beyond that inference the
server only reads; each request opens its own connection, one at a time.

Both libraries come with mitmproxy: the app is plain WSGI on Werkzeug's
routing and request/response objects; tornado's HTTPServer, which is meant
for production, unlike Werkzeug's development server, serves it, running
the app on a small thread pool.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import ipaddress
import json
import logging
import os
import re
import signal
import socket
import sqlite3
import stat
import threading
import traceback
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.wsgi import WSGIContainer
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from freshmock.generators.workflows.export import (
    ExportError,
    Snapshot,
    UnknownService,
    export_document,
    iter_json,
    take_snapshot,
)
from freshmock.proxy.errors import FreshmockError
from freshmock.proxy.store import StoreError, last_observation_id, open_store

MIN_TOKEN_LENGTH = 16
_TOKEN = re.compile(r"^[\x21-\x7e]+$")  # one header-safe word: printable ASCII, no spaces
_GENERATE_TOKEN = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class TokenError(FreshmockError):
    """A token file that cannot be used; the message never holds the token."""


class ServeError(FreshmockError):
    """The server cannot start; the message is meant for the user as is."""


def read_token(path: Path, min_length: int = 1) -> str:
    """The token in ``path``, surrounding whitespace stripped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TokenError(f"no token file at {path}") from None
    except IsADirectoryError:
        raise TokenError(f"token file {path} is a directory") from None
    except OSError as error:
        raise TokenError(f"cannot read token file {path}: {error.strerror}") from None
    try:
        token = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise TokenError(f"token file {path} is not text") from None
    if not token:
        raise TokenError(f"token file {path} is empty (put one in it: {_GENERATE_TOKEN})")
    if not _TOKEN.match(token):
        raise TokenError(f"the token in {path} must be one word of printable ASCII")
    if len(token) < min_length:
        raise TokenError(f"the token in {path} has {len(token)} characters; use at least "
                         f"{min_length} ({_GENERATE_TOKEN})")
    return token


def token_file_warning(path: Path) -> str | None:
    """A warning when every user on the machine can read the token file."""
    mode = path.stat().st_mode
    if mode & stat.S_IROTH:
        return f"{path} is readable by every user of this machine (chmod 600 {path})"
    return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ExportSource:
    """The store behind the server: a fresh connection per use, one use at a time.

    The published snapshot is kept until the store holds a newer observation.
    """

    def __init__(self, db_path: Path, days: int | None) -> None:
        self.db_path = db_path
        self.days = days
        self._lock = threading.Lock()
        self._newest_id: int | None = None
        self._snapshot: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        with self._lock:
            db = open_store(self.db_path)
            try:
                newest = last_observation_id(db)  # read first: later rows mean another pass
                if self._snapshot is None or newest != self._newest_id:
                    self._snapshot = take_snapshot(db, self.days)
                    self._newest_id = newest
                return self._snapshot
            finally:
                db.conn.close()


def _json(status: int, value, headers: dict | None = None) -> Response:
    return Response(json.dumps(value, sort_keys=True) + "\n", status=status,
                    content_type="application/json", headers=headers)


def _gzipped(chunks: Iterable[bytes]) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    parts = [compressor.compress(chunk) for chunk in chunks]
    parts.append(compressor.flush())
    return b"".join(parts)


class ExportApp:
    """The WSGI application."""

    def __init__(self, source: ExportSource, token: str,
                 log: Callable[[str], None] = lambda line: None) -> None:
        self.source = source
        self._token = token.encode("ascii")
        self.log = log
        self.routes = Map([
            Rule("/healthz", endpoint="health", methods=["GET"]),
            Rule("/v1/services", endpoint="services", methods=["GET"]),
            Rule("/v1/export", endpoint="export", methods=["GET"]),
        ])

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.respond(request)
        # The path and the service asked for, escaped; never a header (the token is in one).
        path = request.path.encode("unicode_escape").decode("ascii")
        service = request.args.get("service")
        self.log(f"{request.remote_addr} {request.method} {path}"
                 + (f" service={service!r}" if service else "") + f" {response.status_code}")
        return response(environ, start_response)

    def warm_up(self) -> None:
        """Publish the window ahead of the first request; log how it went."""
        try:
            snapshot = self.source.snapshot()
        except Exception as error:  # the same error will answer the first request
            self.log(f"error: {error}")
            return
        window = "the whole record" if snapshot.days is None else f"last {snapshot.days} days"
        services = len(snapshot.services())
        self.log(f"{len(snapshot.endpoints)} endpoints of {services} "
                 f"{'service' if services == 1 else 'services'} published ({window})")

    def respond(self, request: Request) -> Response:
        if request.path != "/healthz":
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
        try:
            endpoint, _ = self.routes.bind_to_environ(request.environ).match()
        except MethodNotAllowed as error:
            return _json(405, {"error": "method not allowed"},
                         {"Allow": ", ".join(error.valid_methods or ())})
        except HTTPException as error:
            return _json(error.code or 404, {"error": error.name.lower()})
        try:
            response = getattr(self, f"_{endpoint}")(request)
        except (StoreError, ExportError) as error:
            self.log(f"error: {error}")
            return _json(503, {"error": str(error)})
        except sqlite3.DatabaseError as error:  # made read-only or damaged while serving
            message = f"{self.source.db_path}: the store cannot be used now ({error})"
            self.log(f"error: {message}")
            return _json(503, {"error": message})
        except Exception:  # answer 500, keep serving; the traceback holds no token
            self.log("error: " + traceback.format_exc().rstrip())
            return _json(500, {"error": "internal error; see the server's log"})
        response.headers["Cache-Control"] = "no-store"
        return response

    def _refusal(self, request: Request) -> Response | None:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return _json(401, {"error": "a bearer token is required"},
                         {"WWW-Authenticate": 'Bearer realm="freshmock"'})
        offered = credentials.strip().encode("latin-1", "replace")
        if not hmac.compare_digest(offered, self._token):
            return _json(401, {"error": "token refused"},
                         {"WWW-Authenticate": 'Bearer realm="freshmock", error="invalid_token"'})
        return None

    def _health(self, request: Request) -> Response:
        return Response("ok\n", content_type="text/plain")

    def _services(self, request: Request) -> Response:
        snapshot = self.source.snapshot()
        return _json(200, {"window": {"days": snapshot.days, "since": snapshot.since},
                           "services": snapshot.services()})

    def _export(self, request: Request) -> Response:
        snapshot = self.source.snapshot()
        try:
            document = export_document(snapshot, request.args.get("service") or None)
        except UnknownService as error:
            return _json(404, {"error": str(error)})
        chunks = iter_json(document)
        if request.accept_encodings["gzip"]:
            return Response(_gzipped(chunks), content_type="application/json",
                            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
        return Response(b"".join(chunks), content_type="application/json",
                        headers={"Vary": "Accept-Encoding"})


def _listening_sockets(host: str, port: int) -> list[socket.socket]:
    try:
        return bind_sockets(port, address=host)
    except socket.gaierror as error:
        raise ServeError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        hint = " (choose another --port)" if error.errno == errno.EADDRINUSE else ""
        raise ServeError(f"cannot listen on {host}:{port}: {reason}{hint}") from None


class ExportServer:
    """The app behind tornado's HTTPServer; ``run`` until SIGINT or SIGTERM.

    The sockets are bound here, so a port in use fails before anything runs.
    """

    def __init__(self, db_path: Path, host: str, port: int, token: str, days: int | None,
                 log: Callable[[str], None] = lambda line: None) -> None:
        self.app = ExportApp(ExportSource(db_path, days), token, log)
        self.host = host
        self._sockets = _listening_sockets(host, port)
        self.port = self._sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def run(self, signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> None:
        """Serve until one of ``signals`` arrives (call from the main thread)."""
        asyncio.run(self._serve(signals))

    async def _serve(self, signals: tuple[int, ...]) -> None:
        # The app logs each request itself, without headers; tornado's line has the query.
        logging.getLogger("tornado.access").setLevel(logging.ERROR + 1)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in signals:
            loop.add_signal_handler(signum, stop.set)
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="freshmock-serve") as pool:
            server = HTTPServer(WSGIContainer(self.app, executor=pool),
                                max_body_size=64 * 1024, idle_connection_timeout=60)
            server.add_sockets(self._sockets)
            pool.submit(self.app.warm_up)  # publish now, so the first pull is quick
            await stop.wait()
            server.stop()
            await server.close_all_connections()
            pool.shutdown(wait=False, cancel_futures=True)


def serve_store(db_path: Path, host: str, port: int, token_file: Path, days: int | None,
                log: Callable[[str], None]) -> None:
    """``freshmock serve``: check the token and the store, then serve until SIGINT/SIGTERM.

    A missing, foreign, damaged or read-only store fails before anything is
    bound, in one line: serve folds new observations in before each answer,
    so it writes.
    """
    from freshmock.proxy.store import check_recordable, check_store_file

    token = read_token(token_file, MIN_TOKEN_LENGTH)
    warning = token_file_warning(token_file)
    check_store_file(db_path, must_exist=True)
    check_recordable(db_path)
    server = ExportServer(db_path, host, port, token, days, log=log)
    if warning:
        log(f"warning: {warning}")
    if not is_loopback(host):
        log(f"warning: serving plain HTTP on {host}; the token and the export cross the "
            "network unencrypted (put TLS in front, or keep to 127.0.0.1 and tunnel)")
    log(f"serving stub exports of {db_path} on {server.url} (bearer token from {token_file}); "
        "Ctrl-C or SIGTERM to stop")
    server.run()
