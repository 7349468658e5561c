"""A small JSON HTTP service standing in for "service B" in the demo and tests.

Deterministic data, path ids (integers and UUIDs), nested objects, a 404 and
a 201/422 pair, so every stage of freshmock has something real to chew on.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CITIES = ["Lisbon", "Oslo", "Lyon", "Porto", "Graz", "Turku"]


def _user(user_id: int) -> dict:
    return {
        "id": user_id,
        "name": f"User {user_id}",
        "email": f"user{user_id}@example.test",
        "created_at": f"2026-0{1 + user_id % 9}-1{user_id % 10}T08:30:00Z",
        "active": user_id % 3 != 0,
        "address": {
            "city": CITIES[user_id % len(CITIES)],
            "postcode": f"{1000 + user_id * 7}",
            "geo": {"lat": 38.7 + user_id / 100, "lng": -9.1 - user_id / 100},
        },
        "roles": ["member"] + (["admin"] if user_id == 1 else []),
    }


def _order_id(user_id: int, n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo-order-{user_id}-{n}"))


def _order(user_id: int, n: int) -> dict:
    return {
        "id": _order_id(user_id, n),
        "user_id": user_id,
        "status": ["paid", "shipped", "delivered"][n % 3],
        "total": {"amount": round(9.5 * (n + 1) + user_id, 2), "currency": "EUR"},
        "items": [
            {"sku": f"SKU-{user_id}{n}{k}", "quantity": k + 1, "unit_price": 4.75}
            for k in range(1 + n % 3)
        ],
    }


USERS = {user_id: _user(user_id) for user_id in range(1, 13)}
ORDERS = {
    _order_id(user_id, n): _order(user_id, n) for user_id in USERS for n in range(1 + user_id % 3)
}


class DemoHandler(BaseHTTPRequestHandler):
    # Headers and body go out in two writes: without this, Nagle holds the body ~40 ms.
    disable_nagle_algorithm = True
    server_version = "freshmock-demo/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # keep demo output readable
        pass

    def _send(self, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "demo_session=s3cr3t-session-value; HttpOnly")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = [p for p in self.path.split("?", 1)[0].split("/") if p]
        if parts == ["health"]:
            return self._send(200, {"status": "ok"})
        if parts == ["users"]:
            summaries = [{"id": u["id"], "name": u["name"]} for u in USERS.values()]
            return self._send(200, {"users": summaries, "total": len(summaries)})
        if len(parts) >= 2 and parts[0] == "users" and parts[1].isdigit():
            user = USERS.get(int(parts[1]))
            if user is None:
                return self._send(404, {"error": "user not found", "id": int(parts[1])})
            if len(parts) == 2:
                return self._send(200, user)
            if parts[2:] == ["orders"]:
                orders = [o for o in ORDERS.values() if o["user_id"] == user["id"]]
                return self._send(200, {"orders": orders, "count": len(orders)})
        if len(parts) == 2 and parts[0] == "orders":
            order = ORDERS.get(parts[1])
            if order is not None:
                return self._send(200, order)
            return self._send(404, {"error": "order not found"})
        self._send(404, {"error": "no such route"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            payload = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self._send(400, {"error": "body is not JSON"})
        if self.path.split("?", 1)[0] != "/users":
            return self._send(404, {"error": "no such route"})
        if not isinstance(payload, dict) or not payload.get("name"):
            return self._send(422, {"error": "name is required", "field": "name"})
        created = _user(100 + len(payload["name"]))
        created.update(name=payload["name"], email=payload.get("email", created["email"]))
        self._send(201, created)


class DemoService:
    """``with DemoService() as service:`` serves on 127.0.0.1 at ``service.url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = ThreadingHTTPServer((host, port), DemoHandler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> DemoService:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()


def demo_requests() -> list[tuple[str, str, dict | None, dict]]:
    """The traffic the demo drives: (method, path, JSON body, headers)."""
    auth = {"Authorization": "Bearer demo-token-not-a-real-secret"}
    traffic: list[tuple[str, str, dict | None, dict]] = [("GET", "/health", None, {})]
    traffic += [("GET", "/users", None, auth)] * 3
    traffic += [("GET", f"/users/{user_id}", None, auth) for user_id in USERS]
    traffic += [("GET", f"/users/{user_id}/orders", None, auth) for user_id in range(1, 9)]
    traffic += [("GET", f"/orders/{order_id}", None, auth) for order_id in sorted(ORDERS)[:8]]
    traffic += [("GET", "/users/999", None, auth)]
    traffic += [
        ("POST", "/users", {"name": "Ada", "email": "ada@example.test"}, auth),
        ("POST", "/users", {"name": "Grace"}, auth),
        ("POST", "/users", {"email": "nobody@example.test"}, auth),
    ]
    return traffic
