"""The shop client against freshmock's stubs of the demo shop, over requests and httpx.

The stubs answer with what the shop was recorded answering: one exemplar per
endpoint, whatever id a path carries; a 404 and a 422 only for the exact
requests they were recorded for.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import requests
from demo_shop_stubs import ENDPOINTS
from respx.models import AllMockedAssertionError
from shop_client import InvalidUser, UserNotFound

ANSWERING = [entry for entry in ENDPOINTS if entry["answers"] != "none"]


@pytest.mark.parametrize("entry", ANSWERING, ids=[entry["name"] for entry in ANSWERING])
def test_every_endpoint_answers_with_its_recorded_exemplar(shop, entry):
    request = entry["request"]
    query = f"?{urlencode(request['query'])}" if request["query"] else ""
    status, body = shop.send(entry["method"], request["path"] + query, request.get("json"))
    assert status == entry["response"]["status"]
    assert body == entry["response"]["json"]


def test_the_shop_is_healthy(shop):
    assert shop.health() == "ok"


def test_lists_every_user(shop):
    users = shop.list_users()
    assert [user["id"] for user in users] == list(range(1, 13))
    assert all(user["name"] == f"User {user['id']}" for user in users)


def test_any_user_id_gets_a_full_profile(shop):
    for user_id in (1, 7, 12345):
        user = shop.get_user(user_id)
        assert {"id", "name", "email", "address", "roles", "active", "created_at"} <= set(user)
        assert user["email"].endswith("@example.test")
        assert "member" in user["roles"]


def test_the_user_recorded_missing_is_not_found(shop):
    with pytest.raises(UserNotFound, match="user not found"):
        shop.get_user(999)


def test_orders_of_a_user(shop):
    orders = shop.user_orders(4)
    assert orders and len({order["user_id"] for order in orders}) == 1
    assert all(order["total"]["currency"] == "EUR" for order in orders)


def test_an_order(shop):
    order = shop.get_order("3fa85f64-5717-4562-b3fc-2c963f66afa6")
    assert order["status"] in {"paid", "shipped", "delivered"}
    assert sum(item["quantity"] for item in order["items"]) >= 1


def test_creating_a_user(shop):
    created = shop.create_user("Ada", "ada@example.test")
    assert created["name"] in {"Ada", "Grace"}  # one of the two recorded creations
    assert isinstance(created["id"], int)


def test_a_user_without_a_name_is_rejected_every_time(shop):
    for _ in range(2):  # responses drops a registration once used, unless only it matches
        with pytest.raises(InvalidUser, match="name is required") as rejected:
            shop.create_user(email="nobody@example.test")
        assert rejected.value.field == "name"
    assert shop.create_user("Grace")["name"] in {"Ada", "Grace"}


def test_a_route_never_recorded_is_refused(shop):
    with pytest.raises((requests.ConnectionError, AllMockedAssertionError)):
        shop.send("GET", "/never/recorded")
