"""HTTPS upstreams: verified by default, trusted through ``ca_bundle``, HTTP/2 via ALPN.

Real parts only: throwaway CAs and server certificates made with
``cryptography``, real TLS servers on 127.0.0.1 (HTTP/1.1 from ``http.server``,
HTTP/2 from the ``h2`` library), a real recording proxy, the real store.
"""

from __future__ import annotations

import asyncio
import datetime
import http.client
import http.server
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import certifi
import h2.config
import h2.connection
import h2.events
import h2.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from mitmproxy.net.tls import create_proxy_server_context

from freshmock.proxy.record_config import Listener
from freshmock.proxy.sidecar import SidecarConfig, SidecarThread
from freshmock.proxy.store import open_store

from conftest import recording_with_config

BODY = json.dumps({"id": 7, "name": "ada", "plan": "team"}).encode()


# -- a throwaway CA ---------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


class Pki:
    """A root CA in ``folder`` that signs server certificates for the names asked."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.now = datetime.datetime.now(datetime.UTC)
        self.key = _key()
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name("freshmock test CA"))
            .issuer_name(_name("freshmock test CA"))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - datetime.timedelta(hours=1))
            .not_valid_after(self.now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(digital_signature=True, content_commitment=False,
                              key_encipherment=False, data_encipherment=False,
                              key_agreement=False, key_cert_sign=True, crl_sign=True,
                              encipher_only=False, decipher_only=False),
                critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                           critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.ca_pem = _pem(folder / "ca.pem", self.cert.public_bytes(serialization.Encoding.PEM))

    def server_cert(self, stem: str, names: list[str]) -> tuple[Path, Path]:
        """(certificate PEM, key PEM) for ``names``: IP addresses and DNS names."""
        key = _key()
        alt_names: list[x509.GeneralName] = []
        for name in names:
            try:
                alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt_names.append(x509.DNSName(name))
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - datetime.timedelta(hours=1))
            .not_valid_after(self.now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False)
            .sign(self.key, hashes.SHA256())
        )
        cert_pem = _pem(self.folder / f"{stem}.pem", cert.public_bytes(serialization.Encoding.PEM))
        key_pem = _pem(self.folder / f"{stem}-key.pem", key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        return cert_pem, key_pem


@pytest.fixture
def pki(tmp_path) -> Pki:
    return Pki(tmp_path)


@pytest.fixture
def public_roots(tmp_path, monkeypatch) -> Iterator[Pki]:
    """A second CA standing in for certifi's bundle, mitmproxy's default trust store.

    mitmproxy caches TLS contexts by their arguments (not by the files' contents),
    so the cache is emptied on the way in and out.
    """
    folder = tmp_path / "public"
    folder.mkdir()
    public = Pki(folder)
    monkeypatch.setattr(certifi, "where", lambda: str(public.ca_pem))
    create_proxy_server_context.cache_clear()
    yield public
    create_proxy_server_context.cache_clear()


def _server_context(cert: tuple[Path, Path], alpn: list[str]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cert)
    context.set_alpn_protocols(alpn)
    return context


# -- upstreams ----------------------------------------------------------------------------------


class _JsonHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.seen.append((self.request_version, self.path))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format, *args) -> None:
        pass


class Https1Upstream(http.server.ThreadingHTTPServer):
    """HTTP/1.1 over TLS on 127.0.0.1; the handshake runs in each connection's thread."""

    daemon_threads = True

    def __init__(self, cert: tuple[Path, Path]) -> None:
        super().__init__(("127.0.0.1", 0), _JsonHandler)
        self.context = _server_context(cert, ["http/1.1"])
        self.seen: list[tuple[str, str]] = []  # (HTTP version, path) of each request served
        self.handshake_errors: list[str] = []

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"

    def finish_request(self, request, client_address) -> None:
        request.settimeout(10)
        try:
            request = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            self.handshake_errors.append(str(error))
            return
        try:
            super().finish_request(request, client_address)
        finally:
            request.close()

    def __enter__(self) -> Https1Upstream:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(10)


class H2Upstream:
    """HTTP/2 over TLS on 127.0.0.1 (``h2``), offering ``h2`` then ``http/1.1`` by ALPN.

    Like most servers, a client that negotiates no protocol gets HTTP/1.1;
    ``h2_only`` (as gRPC servers are) offers only ``h2`` and speaks nothing else.
    ``seen`` tells which protocol each request really arrived in.
    """

    def __init__(self, cert: tuple[Path, Path], h2_only: bool = False) -> None:
        self.h2_only = h2_only
        self.context = _server_context(cert, ["h2"] if h2_only else ["h2", "http/1.1"])
        self.seen: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_until_complete,
                                        args=(self._main(),), daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0, ssl=self.context)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        for writer in list(self._writers):
            writer.close()
        await asyncio.sleep(0.1)  # let the transports finish closing

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._writers.add(writer)
        try:
            alpn = writer.get_extra_info("ssl_object").selected_alpn_protocol()
            if alpn == "h2" or self.h2_only:
                await self._serve_h2(reader, writer)
            else:
                await self._serve_h1(reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError,
                h2.exceptions.ProtocolError) as error:
            self.errors.append(repr(error))
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _serve_h2(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        connection = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        connection.initiate_connection()
        writer.write(connection.data_to_send())
        paths: dict[int, str] = {}
        while data := await reader.read(65536):
            for event in connection.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    paths[event.stream_id] = dict(event.headers)[":path"]
                elif isinstance(event, h2.events.DataReceived):
                    connection.acknowledge_received_data(event.flow_controlled_length,
                                                         event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):  # the request is complete
                    self.seen.append(("HTTP/2", paths[event.stream_id]))
                    connection.send_headers(event.stream_id, [
                        (":status", "200"), ("content-type", "application/json"),
                        ("content-length", str(len(BODY)))])
                    connection.send_data(event.stream_id, BODY, end_stream=True)
                elif isinstance(event, h2.events.ConnectionTerminated):
                    writer.write(connection.data_to_send())
                    return
            writer.write(connection.data_to_send())
            await writer.drain()

    async def _serve_h1(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        head = await reader.readuntil(b"\r\n\r\n")
        _, path, version = head.split(b"\r\n", 1)[0].decode().split(" ")
        self.seen.append((version, path))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(BODY), BODY))
        await writer.drain()

    def __enter__(self) -> H2Upstream:
        self._thread.start()
        if not self._ready.wait(10):
            raise AssertionError("the HTTP/2 upstream did not start")
        return self

    def __exit__(self, *exc_info) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self._loop.close()


# -- helpers ------------------------------------------------------------------------------------


def _get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _rows(db_path: Path) -> list[dict]:
    db = open_store(db_path)
    try:
        return list(db["observations"].rows)
    finally:
        db.close()


def _record(db_path: Path, upstream: str, path: str, **config) -> tuple[int, bytes]:
    """One GET through an in-process sidecar in front of ``upstream``; drained on return."""
    sidecar_config = SidecarConfig(str(db_path), upstream=upstream, listen_port=0,
                                   service="secure-api", **config)
    with SidecarThread(sidecar_config) as sidecar:
        return _get(sidecar.port, path)


# -- the sidecar --------------------------------------------------------------------------------


def test_an_upstream_certificate_from_an_unknown_ca_is_refused_by_default(pki, db_path):
    with Https1Upstream(pki.server_cert("server", ["127.0.0.1", "localhost"])) as upstream:
        status, body = _record(db_path, upstream.url, "/users/7")
    assert status == 502 and BODY not in body
    assert upstream.seen == []  # no request ever reached it
    assert upstream.handshake_errors  # the proxy broke off the handshake
    (row,) = _rows(db_path)
    assert (row["service"], row["path"], row["status"]) == ("secure-api", "/users/7", None)
    assert "certificate verify failed" in row["error"].lower(), row["error"]


def test_a_ca_bundle_makes_an_internal_upstream_trusted(pki, db_path):
    with Https1Upstream(pki.server_cert("server", ["127.0.0.1", "localhost"])) as upstream:
        status, body = _record(db_path, upstream.url, "/users/7", ca_bundle=str(pki.ca_pem))
    assert (status, body) == (200, BODY)
    assert upstream.seen == [("HTTP/1.1", "/users/7")]
    (row,) = _rows(db_path)
    assert (row["service"], row["scheme"], row["path"], row["status"], row["error"]) == (
        "secure-api", "https", "/users/7", 200, None)
    assert row["response_media_type"] == "application/json"
    assert json.loads(row["response_body"]) == json.loads(BODY)


def test_a_trusted_ca_does_not_excuse_a_certificate_for_another_host(pki, db_path):
    with Https1Upstream(pki.server_cert("other", ["other.internal"])) as upstream:
        status, body = _record(db_path, upstream.url, "/users/7", ca_bundle=str(pki.ca_pem))
    assert status == 502 and BODY not in body and upstream.seen == []
    (row,) = _rows(db_path)
    assert row["status"] is None and "certificate verify failed" in row["error"].lower()


def test_by_default_upstreams_are_verified_against_certifis_roots(public_roots, db_path):
    with Https1Upstream(public_roots.server_cert("server", ["127.0.0.1"])) as upstream:
        status, body = _record(db_path, upstream.url, "/users/7")
    assert (status, body) == (200, BODY)


def test_a_ca_bundle_adds_to_certifis_roots(pki, public_roots, db_path):
    with Https1Upstream(public_roots.server_cert("server", ["127.0.0.1"])) as upstream:
        status, body = _record(db_path, upstream.url, "/users/7", ca_bundle=str(pki.ca_pem))
    assert (status, body) == (200, BODY)


def test_an_upstream_that_offers_http2_is_served_and_recorded(pki, db_path):
    with H2Upstream(pki.server_cert("server", ["127.0.0.1", "localhost"])) as upstream:
        status, body = _record(db_path, upstream.url, "/users/7", ca_bundle=str(pki.ca_pem))
    assert (status, body) == (200, BODY)
    assert [path for _, path in upstream.seen] == ["/users/7"]
    (row,) = _rows(db_path)
    assert (row["service"], row["path"], row["status"], row["error"]) == (
        "secure-api", "/users/7", 200, None)
    assert json.loads(row["response_body"]) == json.loads(BODY)


def _record_on_listener(db_path: Path, upstream: str, requests: list[tuple[str, dict]],
                        **listener) -> list[tuple[int, bytes]]:
    """GETs through a sidecar listener configured like a [[dependencies]] entry."""
    config = SidecarConfig(str(db_path), ca_bundle=None, listeners=(
        Listener("secure-api", upstream, 0, **listener),))
    answers = []
    with SidecarThread(config) as sidecar:
        port = sidecar.port
        for path, headers in requests:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                answers.append((response.status, response.read()))
            finally:
                connection.close()
    return answers


@pytest.mark.parametrize("h2_only", [False, True], ids=["h2-and-http1.1", "h2-only"])
def test_a_dependency_with_http2_is_spoken_to_in_http2(pki, db_path, h2_only, monkeypatch):
    cert = pki.server_cert("server", ["127.0.0.1", "localhost"])
    monkeypatch.setattr(certifi, "where", lambda: str(pki.ca_pem))
    create_proxy_server_context.cache_clear()
    try:
        with H2Upstream(cert, h2_only=h2_only) as upstream:
            answers = _record_on_listener(db_path, upstream.url, [("/users/7", {})], http2=True)
    finally:
        create_proxy_server_context.cache_clear()
    assert upstream.seen == [("HTTP/2", "/users/7")], upstream.errors
    assert answers == [(200, BODY)]
    (row,) = _rows(db_path)
    assert (row["service"], row["path"], row["status"], row["error"]) == (
        "secure-api", "/users/7", 200, None)


def test_without_http2_the_upstream_hears_the_clients_http1_and_an_h2_only_one_fails(
        pki, db_path):
    """mitmproxy mirrors the client's protocol: documented, and pinned here."""
    cert = pki.server_cert("server", ["127.0.0.1", "localhost"])
    with H2Upstream(cert) as both, H2Upstream(cert, h2_only=True) as h2_only:
        status, body = _record(db_path, both.url, "/users/7", ca_bundle=str(pki.ca_pem))
        refused, _ = _record(db_path, h2_only.url, "/users/8", ca_bundle=str(pki.ca_pem))
    assert (status, body) == (200, BODY) and both.seen == [("HTTP/1.1", "/users/7")]
    assert refused == 502 and h2_only.seen == []


def test_an_upgrade_request_keeps_http1_even_with_http2(pki, db_path, monkeypatch):
    """WebSocket upgrades need HTTP/1.1: their connection is not offered h2."""
    cert = pki.server_cert("server", ["127.0.0.1", "localhost"])
    monkeypatch.setattr(certifi, "where", lambda: str(pki.ca_pem))
    create_proxy_server_context.cache_clear()
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}
    try:
        with H2Upstream(cert) as upstream:
            _record_on_listener(db_path, upstream.url, [("/socket", upgrade), ("/users/7", {})],
                                http2=True)
    finally:
        create_proxy_server_context.cache_clear()
    assert upstream.seen == [("HTTP/1.1", "/socket"), ("HTTP/2", "/users/7")], upstream.errors


# -- the CLI --------------------------------------------------------------------------------


def test_record_config_ca_bundle_trusts_the_dependency(pki, tmp_path):
    db = tmp_path / "store.db"
    with Https1Upstream(pki.server_cert("server", ["127.0.0.1", "localhost"])) as upstream:
        config = tmp_path / "freshmock.toml"
        config.write_text(f"""
[record]
db = "{db}"
ca_bundle = "{pki.ca_pem}"

[[dependencies]]
name = "payments"
upstream = "{upstream.url}"
listen_port = 0
""")
        with recording_with_config(config) as run:
            port = run.port("payments: reverse proxy")
            assert _get(port, "/charges/42") == (200, BODY)
    assert run.process.returncode == 0, run.output()
    assert upstream.seen == [("HTTP/1.1", "/charges/42")]
    rows = [(r["service"], r["scheme"], r["path"], r["status"], r["error"]) for r in _rows(db)]
    assert rows == [("payments", "https", "/charges/42", 200, None)]
