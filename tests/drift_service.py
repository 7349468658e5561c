"""A dependency in two versions, for drift tests: v2 plants one change of every kind.

Served for real with http.server on 127.0.0.1; ``traffic(version)`` is what a
consumer calls. Besides the planted changes both versions churn ids and
timestamps and carry an optional field present in about half the responses.

Volumes are what a nightly job sees of a modest client: 30-60 calls per
endpoint per window. Planted in v2 (the drift report must name exactly these):
  breaking  property-removed    GET /orders/{order_id} 200  /note
  breaking  type-widened        GET /orders/{order_id} 200  /total        integer → number
  breaking  became-nullable     GET /orders/{order_id} 200  /customer/email
  breaking  type-changed        GET /users/{user_id} 200    /nickname     string → object
  breaking  became-optional     GET /users/{user_id} 200    /name
  breaking  status-gone         GET /reports/{report_id}    200
  breaking  status-gone         GET /profiles/{profile_id}  200 (now answered 404: told once)
  breaking  media-type-changed  GET /exports/{export_id} 200  application/json → text/csv
  breaking  endpoint-gone       GET /legacy
  breaking  new-client-error    POST /orders 422
  risky     enum-value-added    GET /orders/{order_id} 200  /status       refunded
  risky     format-dropped      GET /orders/{order_id} 200  /created_at   date-time
  risky     items-type-widened  GET /orders/{order_id} 200  /items/*
  risky     type-narrowed       GET /orders/{order_id} 200  /customer/phone  null|string → string
  risky     optional-property-removed  GET /orders/{order_id} 200  /gift_message
  additive  property-added      GET /orders/{order_id} 200  /tracking_url
  additive  status-added        GET /reports/{report_id}    204
  additive  endpoint-added      GET /invoices/{invoice_id}

Not drift, and never reported: DELETE /sessions/{session_id} answers 204 in both
versions, with Content-Type application/octet-stream then application/json
(an empty body has no media type); GET /rare is called 3 times at v1 only
(too few for "endpoint gone": the report lists it as not observed).
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from freshmock.generators.workflows.demo.run import drive
from freshmock.proxy.sidecar import SidecarConfig, SidecarThread


def _order(version: int, n: int, rng: random.Random) -> dict:
    order = {
        "id": n,
        "status": rng.choice(["paid", "shipped"] + (["refunded"] if version == 2 else [])),
        "total": rng.randint(5, 900) + (0.5 if version == 2 else 0),
        "created_at": (f"2026-10-{1 + n % 28:02d}T{n % 24:02d}:15:00Z" if version == 1
                       else f"2026/10/{1 + n % 28:02d} {n % 24:02d}:15"),
        "updated_at": f"2026-11-{1 + rng.randint(0, 27):02d}T{rng.randint(0, 23):02d}:00:00Z",
        "customer": {"name": f"Customer {n}",
                     "email": None if version == 2 and n % 3 == 0 else f"c{n}@example.test",
                     "phone": None if version == 1 and n % 2 else f"+44 20 7946 {n:04d}"},
        "items": [{"sku": f"SKU-{rng.randint(1, 10**6)}", "qty": rng.randint(1, 4)}
                  for _ in range(rng.randint(1, 3))],
    }
    if version == 2 and n % 3 == 0:
        order["items"].append("gift-wrap")
    if rng.random() < 0.5:
        order["coupon"] = f"C{rng.randint(100, 999)}"  # optional in both versions: no drift
    if version == 1 and rng.random() < 0.5:
        order["gift_message"] = f"for {n}"  # optional, then gone entirely
    if version == 1:
        order["note"] = f"note {rng.randint(1, 10**6)}"
    else:
        order["tracking_url"] = f"https://track.example.test/{n}"
    return order


def _user(version: int, n: int) -> dict:
    user = {"id": n, "nickname": f"u{n}" if version == 1 else {"display": f"u{n}"}}
    if version == 1 or n % 3 != 0:
        user["name"] = f"User {n}"
    return user


class DriftHandler(BaseHTTPRequestHandler):
    # Headers and body go out in two writes: without this, Nagle holds the body ~40 ms.
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    version = 1

    def log_message(self, format, *args) -> None:
        pass

    def _send(self, status: int, payload=None, media_type="application/json",
              empty_type: str | None = None) -> None:
        body = b"" if payload is None else (
            payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
        self.send_response(status)
        if payload is not None or empty_type:
            self.send_header("Content-Type", empty_type or media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        rng = random.Random(self.path + str(self.version))
        version = self.server.version
        if parts[0] == "orders":
            return self._send(200, _order(version, int(parts[1]), rng))
        if parts[0] == "users":
            return self._send(200, _user(version, int(parts[1])))
        if parts[0] == "reports":
            if version == 1:
                return self._send(200, {"id": int(parts[1]), "rows": rng.randint(1, 99)})
            return self._send(204)
        if parts[0] == "exports":
            if version == 1:
                return self._send(200, {"id": int(parts[1]), "csv": "a,b"})
            return self._send(200, "a,b\n1,2\n", "text/csv")
        if parts[0] == "legacy":
            return self._send(200, {"ok": True})
        if parts[0] == "profiles":
            if version == 1:
                return self._send(200, {"id": int(parts[1]), "bio": "hello"})
            return self._send(404, {"error": "no such profile"})
        if parts[0] == "rare":
            return self._send(200, {"ok": True})
        if parts[0] == "invoices":
            return self._send(200, {"id": int(parts[1]), "amount": rng.randint(1, 99)})
        if parts[0] == "health":
            return self._send(200, {"status": "ok"})
        self._send(404, {"error": "no route"})

    def do_DELETE(self) -> None:
        # No body either way; only the Content-Type header of the empty answer changes.
        self._send(204, empty_type="application/octet-stream" if self.server.version == 1
                   else "application/json")

    def do_POST(self) -> None:
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.server.version == 2 and "currency" not in payload:
            return self._send(422, {"error": "currency is required"})
        self._send(201, {"id": 1000 + len(payload["items"]), "state": "created"})


class DriftService:
    def __init__(self, version: int) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), DriftHandler)
        self.server.version = version
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()


def traffic(version: int) -> list[tuple[str, str, dict | None, dict]]:
    """(method, path, JSON body, headers): what the consumer calls against each version."""
    calls: list[tuple[str, str, dict | None, dict]] = []
    orders = range(1, 61) if version == 1 else range(200, 245)
    calls += [("GET", f"/orders/{n}", None, {}) for n in orders]
    users = range(1, 51) if version == 1 else range(300, 340)
    calls += [("GET", f"/users/{n}", None, {}) for n in users]
    calls += [("GET", f"/reports/{n}", None, {}) for n in range(1, 31)]
    calls += [("GET", f"/exports/{n}", None, {}) for n in range(1, 31)]
    calls += [("GET", f"/profiles/{n}", None, {}) for n in range(1, 41)]
    calls += [("DELETE", f"/sessions/{n}", None, {}) for n in range(1, 31)]
    calls += [("GET", "/health", None, {})] * 20
    for n in range(45):
        body = {"items": [{"sku": "S", "qty": 1}] * (1 + n % 3), "currency": "EUR"}
        if version == 2 and n % 3 == 0:
            del body["currency"]
        calls.append(("POST", "/orders", body, {}))
    if version == 1:
        calls += [("GET", "/legacy", None, {})] * 30
        calls += [("GET", "/rare", None, {})] * 3
    else:
        calls += [("GET", f"/invoices/{n}", None, {}) for n in range(1, 31)]
    return calls


def record(db: Path, version: int, day: str, service_name: str = "orders-api",
           calls=None, at: str = "12:00:00") -> None:
    """Record one version's traffic (or ``calls``) through the real proxy, then date it
    ``day`` at ``at`` (the row id as microseconds: distinct, in recording order).

    ``service_name`` "": the sidecar's default name, the upstream's host:port.
    """
    before = 0
    if db.exists():
        with closing(sqlite3.connect(db)) as connection:
            before = connection.execute("select max(id) from observations").fetchone()[0] or 0
    with DriftService(version) as service:
        config = SidecarConfig(str(db), upstream=service.url, listen_port=0,
                               service=service_name)
        with SidecarThread(config) as sidecar:
            drive(sidecar.port, traffic(version) if calls is None else calls)
    # Windows are days apart; traffic recorded seconds apart is moved to its day
    # (deterministically, so the golden reports are stable).
    with closing(sqlite3.connect(db)) as connection, connection:
        connection.execute(
            "update observations set observed_at = ? || printf('%06d', id) || 'Z' where id > ?",
            [f"{day}T{at}.", before],
        )
