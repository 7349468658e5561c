"""A small fixed store for golden stub files: same rows, same bytes, every run.

What a recording of a shop's user service looks like: a list, an item by id
with a 404 for one id, a POST with a 201 and a 422, an order with nested
objects, a query parameter, a text health check.
"""

from __future__ import annotations

from pathlib import Path

from freshmock.generators.model.infer import infer_endpoints
from freshmock.proxy.store import insert_observations, open_store

from store_kit import observation_row

SERVICE = "shop-users"
USERS = [
    {"id": 1, "name": "Ada Lovelace", "email": "ada@example.com", "active": True,
     "created_at": "2026-01-04T09:30:00Z", "roles": ["admin", "staff"]},
    {"id": 2, "name": "Grace Hopper", "email": "grace@example.com", "active": False,
     "created_at": "2026-02-11T14:05:00Z", "roles": ["staff"]},
    {"id": 3, "name": "Linus Pauling", "email": "linus@example.com", "active": True,
     "created_at": "2026-03-21T08:00:00Z", "roles": []},
]


def _row(second: int, method: str, path: str, status: int, body, *, query: str = "",
         request=None, media_type: str = "application/json", day: int = 20) -> dict:
    return observation_row(
        observed_at=f"2026-11-{day:02d}T10:{second // 60:02d}:{second % 60:02d}.000000Z",
        service=SERVICE, method=method, host="users.internal", path=path, query=query,
        request=request, status=status, body=body, media_type=media_type,
        # what a client reads (kept in stubs), a volatile Date and framing (dropped)
        response_headers=[
            ["content-type", media_type], ["ETag", f'"v1-{path}"'],
            ["X-RateLimit-Remaining", "99"], ["Date", "Fri, 20 Nov 2026 10:00:00 GMT"],
            ["Transfer-Encoding", "chunked"]],
        duration_ms=2.0)


def golden_rows(user_name: str = "Ada Lovelace") -> list[dict]:
    """The recorded traffic; ``user_name`` changes one field of one exemplar."""
    users = [dict(user) for user in USERS]
    users[0]["name"] = user_name
    rows = [_row(0, "GET", "/users", 200, {"users": users[:2], "next": None},
                 query="limit=2")]
    rows += [_row(1 + n, "GET", f"/users/{user['id']}", 200, user)
             for n, user in enumerate(users)]
    rows.append(_row(5, "GET", "/users/999", 404, {"error": "not found", "id": 999}))
    new_user = {"name": "Edsger Dijkstra", "email": "edsger@example.com"}
    rows.append(_row(6, "POST", "/users", 201,
                     {"id": 4, **new_user, "active": True, "created_at": "2026-11-20T10:00:06Z",
                      "roles": []}, request=new_user))
    rows.append(_row(7, "POST", "/users", 422, {"error": "email is required",
                                                "field": "email"},
                     request={"name": "Nameless"}))
    rows.append(_row(8, "GET", "/orders/5001", 200, {
        "id": 5001, "user_id": 1, "total": 129.5, "currency": "EUR",
        "lines": [{"sku": "BOOK-1", "quantity": 2, "price": 39.75},
                  {"sku": "PEN-7", "quantity": 1, "price": 50.0}],
        "shipping": {"city": "London", "postcode": "N1 9GU"}}))
    rows.append(_row(9, "GET", "/health", 200, b"ok\n", media_type="text/plain"))
    return rows


def build_golden_store(path: Path, user_name: str = "Ada Lovelace"):
    db = open_store(path, must_exist=False)
    insert_observations(db, golden_rows(user_name))
    infer_endpoints(db)
    return db
