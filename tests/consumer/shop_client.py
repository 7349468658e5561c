"""A small client of the demo shop, as a project depending on it would write one.

The same calls over two HTTP libraries: ``RequestsShop`` (requests) and
``HttpxShop`` (httpx), so one test suite can run against freshmock's stubs
for ``responses`` and for ``respx``.
"""

from __future__ import annotations

import httpx
import requests


class UserNotFound(LookupError):
    pass


class InvalidUser(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class Shop:
    """The shop's API in domain terms; subclasses only send requests."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def send(self, method: str, path: str, payload: dict | None = None) -> tuple[int, object]:
        """One call: status and parsed JSON body."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def _ok(self, method: str, path: str, payload: dict | None = None):
        status, body = self.send(method, path, payload)
        if status >= 400:
            raise RuntimeError(f"{method} {path} answered {status}: {body}")
        return body

    def health(self) -> str:
        return self._ok("GET", "/health")["status"]

    def list_users(self) -> list[dict]:
        return self._ok("GET", "/users")["users"]

    def get_user(self, user_id: int) -> dict:
        status, body = self.send("GET", f"/users/{user_id}")
        if status == 404:
            raise UserNotFound(body["error"])
        return body

    def user_orders(self, user_id: int) -> list[dict]:
        return self._ok("GET", f"/users/{user_id}/orders")["orders"]

    def get_order(self, order_id: str) -> dict:
        return self._ok("GET", f"/orders/{order_id}")

    def create_user(self, name: str | None = None, email: str | None = None) -> dict:
        payload = {key: value for key, value in (("name", name), ("email", email)) if value}
        status, body = self.send("POST", "/users", payload)
        if status == 422:
            raise InvalidUser(body["error"], body["field"])
        return body


class RequestsShop(Shop):
    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.session = requests.Session()

    def send(self, method, path, payload=None):
        response = self.session.request(method, self.base_url + path, json=payload, timeout=5)
        return response.status_code, response.json()

    def close(self) -> None:
        self.session.close()


class HttpxShop(Shop):
    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.client = httpx.Client(base_url=self.base_url, timeout=5)

    def send(self, method, path, payload=None):
        response = self.client.request(method, path, json=payload)
        return response.status_code, response.json()

    def close(self) -> None:
        self.client.close()
