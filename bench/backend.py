"""The fast local dependency: nginx serving two JSON documents on 127.0.0.1.

Everything nginx writes (pid, logs, temp files) stays in a temporary folder,
so it runs without root and without touching the system's nginx.

- ``/small.json``: about 300 bytes, sent as is;
- ``/large.json``: about 50 KB of JSON, sent gzip-compressed
  (``gzip_static always`` serves a pre-compressed copy, so nginx spends no
  CPU compressing and every configuration sees the same bytes).
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import random
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PATHS = {"small": "/small.json", "large": "/large.json"}

CONFIG = """\
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}
events {{ worker_connections 4096; }}

http {{
    access_log off;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    types {{ application/json json; }}
    default_type application/json;
    keepalive_requests 10000000;
    keepalive_timeout 300s;

    server {{
        listen 127.0.0.1:{port};
        root {dir}/www;
        location = /small.json {{ }}
        location = /large.json {{ gzip_static always; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def small_document() -> bytes:
    doc = {
        "id": 4217,
        "name": "Ada Lovelace",
        "email": "ada@example.test",
        "active": True,
        "roles": ["admin", "billing"],
        "created_at": "2026-01-14T09:30:00Z",
        "address": {"street": "12 St James's Square", "city": "London", "postcode": "SW1Y 4JH"},
        "balance": {"amount": 1234.5, "currency": "GBP"},
        "tags": ["beta", "eu"],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def large_document(target_bytes: int = 50_000) -> bytes:
    """About ``target_bytes`` of realistic-looking JSON (random ids, not all repeats)."""
    rng = random.Random(20261122)
    items = []
    while True:
        n = len(items)
        items.append({
            "id": 100_000 + n,
            "sku": f"SKU-{rng.randrange(16**8):08X}",
            "name": f"{rng.choice(['Blue', 'Red', 'Steel', 'Oak', 'Linen'])} "
                    f"{rng.choice(['Chair', 'Lamp', 'Desk', 'Shelf', 'Rug'])} {n}",
            "price": {"amount": round(rng.uniform(3, 900), 2), "currency": "EUR"},
            "stock": rng.randrange(0, 500),
            "tags": rng.sample(["new", "sale", "eco", "gift", "bulk", "last"], 2),
            "updated_at": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T"
                          f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
            "checksum": f"{rng.getrandbits(128):032x}",
        })
        body = json.dumps({"items": items, "page": 1, "total": len(items)}, separators=(",", ":"))
        if len(body) >= target_bytes:
            return body.encode()


@dataclass
class Payload:
    name: str
    path: str
    body_bytes: int  # JSON as the application sees it
    wire_bytes: int  # body bytes on the wire (gzip for "large")


class Nginx:
    def __init__(self, nginx: str, workdir: Path) -> None:
        self.nginx = nginx
        self.dir = workdir / "nginx"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.payloads: dict[str, Payload] = {}

    def _write_files(self) -> None:
        www = self.dir / "www"
        www.mkdir(parents=True)
        (self.dir / "tmp").mkdir()
        small, large = small_document(), large_document()
        large_gz = gzip.compress(large, compresslevel=6, mtime=0)
        (www / "small.json").write_bytes(small)
        (www / "large.json").write_bytes(large)
        (www / "large.json.gz").write_bytes(large_gz)
        self.payloads = {
            "small": Payload("small", PATHS["small"], len(small), len(small)),
            "large": Payload("large", PATHS["large"], len(large), len(large_gz)),
        }
        # nginx's workers drop to an unprivileged user when started as root:
        # they must be able to read the files (tempfile makes folders 0700).
        for path in [self.dir.parent, self.dir, www, *www.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        user = "user nobody nogroup;" if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(CONFIG.format(dir=self.dir, port=self.port, user=user))

    def start(self) -> None:
        self._write_files()
        self.process = subprocess.Popen(
            [self.nginx, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
             "-e", str(self.dir / "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.process.stderr.read().decode().strip()}")
            if accepts_connections("127.0.0.1", self.port):
                check_payloads("127.0.0.1", self.port, self.payloads)
                return
            time.sleep(0.05)
        raise RuntimeError(f"nginx did not listen on 127.0.0.1:{self.port} within 10 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: fast shutdown of master and worker
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def accepts_connections(host: str, port: int) -> bool:
    """True once something listens on host:port (connects and closes, sends nothing)."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def fetch(host: str, port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """One GET with Accept-Encoding: gzip; the body is returned as received (not decoded)."""
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def check_payloads(host: str, port: int, payloads: dict[str, Payload]) -> int:
    """Fetch each document once and check it arrived exactly as nginx sends it.

    Raises OSError if host:port does not answer, RuntimeError if it answers
    wrongly; returns the number of requests made. Used for nginx
    itself and, through each proxy, as the readiness probe: it also proves the
    large body really crosses the wire gzip-compressed.
    """
    for payload in payloads.values():
        status, headers, body = fetch(host, port, payload.path)
        if status != 200:
            raise RuntimeError(f"GET {payload.path}: status {status}")
        if not headers.get("content-type", "").startswith("application/json"):
            raise RuntimeError(f"GET {payload.path}: Content-Type {headers.get('content-type')}")
        if len(body) != payload.wire_bytes:
            raise RuntimeError(
                f"GET {payload.path}: {len(body)} bytes, expected {payload.wire_bytes}")
        if payload.name == "large":
            if headers.get("content-encoding") != "gzip" or body[:2] != b"\x1f\x8b":
                raise RuntimeError("GET /large.json did not arrive gzip-compressed")
            if len(gzip.decompress(body)) != payload.body_bytes:
                raise RuntimeError("GET /large.json does not decompress to the document")
    return len(payloads)
