"""Stubs of shop-users for pytest, as freshmock last observed it; regenerate, do not edit.

shop-users was last observed at 2026-11-20T10:00:09.000000Z; these stubs rest on
9 recorded samples over 7 endpoints.

Every endpoint answers with its recorded exemplar under ``shop_users_base_url``
(``BASE_URL`` unless a test suite overrides that fixture):

- ``shop_users_responses``: ``requests`` is stubbed by an active ``responses.RequestsMock``;
- ``shop_users_respx``: ``httpx`` is stubbed by an active ``respx`` router.

Load the fixtures with ``pytest -p shop_users_stubs`` or, in the root conftest.py,
``pytest_plugins = ["shop_users_stubs"]``; outside pytest, call
``register_responses(rsps, base_url)`` or ``register_respx(router, base_url)``.

The most common success of a route answers every path of its template
(``[^/]+`` per parameter); any other recorded answer only the request it was
observed on (path, query parameters, body, the headers that predicted it). A request nothing was recorded
for is refused as each library refuses an unmocked URL: ``requests.ConnectionError``
from responses, ``AllMockedAssertionError`` from respx.
"""

# Recorded bodies hold strings of any length.
# ruff: noqa: E501

import base64
import json
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

__all__ = [
    "BASE_URL",
    "ENDPOINTS",
    "LAST_OBSERVED",
    "OBSERVATIONS",
    "SERVICE",
    "find",
    "register_responses",
    "register_respx",
    "response_body",
    "shop_users_base_url",
    "shop_users_responses",
    "shop_users_respx",
]

SERVICE = "shop-users"
BASE_URL = "http://shop-users"
LAST_OBSERVED = "2026-11-20T10:00:09.000000Z"
OBSERVATIONS = 9

# In matching order. "answers": "exemplar" answers only the recorded request,
# "template" any path of path_template (literal segments tried before
# parameters), "none" nothing: it is a record of a response the others shadow.
ENDPOINTS = [
    # POST /users 422: last observed 2026-11-20T10:00:07.000000Z, 1 sample
    {
        "answers": "exemplar",
        "first_observed": "2026-11-20T10:00:07.000000Z",
        "last_observed": "2026-11-20T10:00:07.000000Z",
        "method": "POST",
        "name": "POST /users 422",
        "observations": 1,
        "path_regex": "^/users$",
        "path_template": "/users",
        "request": {
            "json": {
                "name": "Nameless",
            },
            "path": "/users",
            "query": {},
        },
        "response": {
            "content_type": "application/json",
            "headers": [
                [
                    "ETag",
                    '"v1-/users"',
                ],
                [
                    "X-RateLimit-Remaining",
                    "99",
                ],
            ],
            "json": {
                "error": "email is required",
                "field": "email",
            },
            "status": 422,
        },
    },
    # GET /users/{user_id} 200 #2: last observed 2026-11-20T10:00:03.000000Z, 3 samples
    {
        "answers": "exemplar",
        "first_observed": "2026-11-20T10:00:01.000000Z",
        "last_observed": "2026-11-20T10:00:03.000000Z",
        "method": "GET",
        "name": "GET /users/{user_id} 200 #2",
        "observations": 3,
        "path_regex": "^/users/[^/]+$",
        "path_template": "/users/{user_id}",
        "request": {
            "path": "/users/2",
            "query": {},
        },
        "response": {
            "content_type": "application/json",
            "headers": [
                [
                    "ETag",
                    '"v1-/users/2"',
                ],
                [
                    "X-RateLimit-Remaining",
                    "99",
                ],
            ],
            "json": {
                "active": False,
                "created_at": "2026-02-11T14:05:00Z",
                "email": "grace@example.com",
                "id": 2,
                "name": "Grace Hopper",
                "roles": [
                    "staff",
                ],
            },
            "status": 200,
        },
    },
    # GET /users/{user_id} 200 #3: last observed 2026-11-20T10:00:03.000000Z, 3 samples
    {
        "answers": "exemplar",
        "first_observed": "2026-11-20T10:00:01.000000Z",
        "last_observed": "2026-11-20T10:00:03.000000Z",
        "method": "GET",
        "name": "GET /users/{user_id} 200 #3",
        "observations": 3,
        "path_regex": "^/users/[^/]+$",
        "path_template": "/users/{user_id}",
        "request": {
            "path": "/users/3",
            "query": {},
        },
        "response": {
            "content_type": "application/json",
            "headers": [
                [
                    "ETag",
                    '"v1-/users/3"',
                ],
                [
                    "X-RateLimit-Remaining",
                    "99",
                ],
            ],
            "json": {
                "active": True,
                "created_at": "2026-03-21T08:00:00Z",
                "email": "linus@example.com",
                "id": 3,
                "name": "Linus Pauling",
                "roles": [],
            },
            "status": 200,
        },
    },
    # GET /users/{user_id} 404: last observed 2026-11-20T10:00:05.000000Z, 1 sample
    {
        "answers": "exemplar",
        "first_observed": "2026-11-20T10:00:05.000000Z",
        "last_observed": "2026-11-20T10:00:05.000000Z",
        "method": "GET",
        "name": "GET /users/{user_id} 404",
        "observations": 1,
        "path_regex": "^/users/[^/]+$",
        "path_template": "/users/{user_id}",
        "request": {
            "path": "/users/999",
            "query": {},
        },
        "response": {
            "content_type": "application/json",
            "headers": [
                [
                    "ETag",
                    '"v1-/users/999"',
                ],
                [
                    "X-RateLimit-Remaining",
                    "99",
                ],
            ],
            "json": {
                "error": "not found",
                "id": 999,
            },
            "status": 404,
        },
    },
    # GET /health 200: last observed 2026-11-20T10:00:09.000000Z, 1 sample
    {
        "answers": "template",
        "first_observed": "2026-11-20T10:00:09.000000Z",
        "last_observed": "2026-11-20T10:00:09.000000Z",
        "method": "GET",
        "name": "GET /health 200",
        "observations": 1,
        "path_regex": "^/health$",
        "path_template": "/health",
        "request": {
            "path": "/health",
            "query": {},
        },
        "response": {
            "content_type": "text/plain",
            "headers": [
                [
                    "ETag",
                    '"v1-/health"',
                ],
                [
                    "X-RateLimit-Remaining",
                    "99",
                ],
            ],
            "status": 200,
            "text": "ok\n",
        },
    },
    # GET /users 200: last observed 2026-11-20T10:00:00.000000Z, 1 sample
    {
        "answers": "template",
        "first_observed": "2026-11-20T10:00:00.000000Z",
        "last_observed": "2026-11-20T10:00:00.000000Z",
        "method": "GET",
        "name": "GET /users 200",
        "observations": 1,
        "path_regex": "^/users$",
        "path_template": "/users",
        "request": {
            "path": "/users",
            "query": {
                "limit": "2",
            },
        },
        "response": {
            "content_type": "application/json",
            "headers": [
                [
                    "ETag",
                    '"v1-/users"',
                ],
                [
                    "X-RateLimit-Remaining",
                    "99",
                ],
            ],
            "json": {
                "next": None,
                "users": [
                    {
                        "active": True,
                        "created_at": "2026-01-04T09:30:00Z",
                        "email": "ada@example.com",
                        "id": 1,
                        "name": "Ada Lovelace",
                        "roles": [
                            "admin",
                            "staff",
                        ],
                    },
                    {
                        "active": False,
                        "created_at": "2026-02-11T14:05:00Z",
                        "email": "grace@example.com",
                        "id": 2,
                        "name": "Grace Hopper",
                        "roles": [
                            "staff",
                        ],
                    },
                ],
            },
            "status": 200,
        },
    },
    # POST /users 201: last observed 2026-11-20T10:00:06.000000Z, 1 sample
    {
        "answers": "template",
        "first_observed": "2026-11-20T10:00:06.000000Z",
        "last_observed": "2026-11-20T10:00:06.000000Z",
        "method": "POST",
        "name": "POST /users 201",
        "observations": 1,
        "path_regex": "^/users$",
        "path_template": "/users",
        "request": {
            "json": {
                "email": "edsger@example.com",
                "name": "Edsger Dijkstra",
            },
            "path": "/users",
            "query": {},
        },
        "response": {
            "content_type": "application/json",
            "headers": [
                [
                    "ETag",
                    '"v1-/users"',
                ],
                [
                    "X-RateLimit-Remaining",
                    "99",
                ],
            ],
            "json": {
                "active": True,
                "created_at": "2026-11-20T10:00:06Z",
                "email": "edsger@example.com",
                "id": 4,
                "name": "Edsger Dijkstra",
                "roles": [],
            },
            "status": 201,
        },
    },
    # GET /orders/{order_id} 200: last observed 2026-11-20T10:00:08.000000Z, 1 sample
    {
        "answers": "template",
        "first_observed": "2026-11-20T10:00:08.000000Z",
        "last_observed": "2026-11-20T10:00:08.000000Z",
        "method": "GET",
        "name": "GET /orders/{order_id} 200",
        "observations": 1,
        "path_regex": "^/orders/[^/]+$",
        "path_template": "/orders/{order_id}",
        "request": {
            "path": "/orders/5001",
            "query": {},
        },
        "response": {
            "content_type": "application/json",
            "headers": [
                [
                    "ETag",
                    '"v1-/orders/5001"',
                ],
                [
                    "X-RateLimit-Remaining",
                    "99",
                ],
            ],
            "json": {
                "currency": "EUR",
                "id": 5001,
                "lines": [
                    {
                        "price": 39.75,
                        "quantity": 2,
                        "sku": "BOOK-1",
                    },
                    {
                        "price": 50.0,
                        "quantity": 1,
                        "sku": "PEN-7",
                    },
                ],
                "shipping": {
                    "city": "London",
                    "postcode": "N1 9GU",
                },
                "total": 129.5,
                "user_id": 1,
            },
            "status": 200,
        },
    },
    # GET /users/{user_id} 200: last observed 2026-11-20T10:00:03.000000Z, 3 samples
    {
        "answers": "template",
        "first_observed": "2026-11-20T10:00:01.000000Z",
        "last_observed": "2026-11-20T10:00:03.000000Z",
        "method": "GET",
        "name": "GET /users/{user_id} 200",
        "observations": 3,
        "path_regex": "^/users/[^/]+$",
        "path_template": "/users/{user_id}",
        "request": {
            "path": "/users/1",
            "query": {},
        },
        "response": {
            "content_type": "application/json",
            "headers": [
                [
                    "ETag",
                    '"v1-/users/1"',
                ],
                [
                    "X-RateLimit-Remaining",
                    "99",
                ],
            ],
            "json": {
                "active": True,
                "created_at": "2026-01-04T09:30:00Z",
                "email": "ada@example.com",
                "id": 1,
                "name": "Ada Lovelace",
                "roles": [
                    "admin",
                    "staff",
                ],
            },
            "status": 200,
        },
    },
]


def _relative(url, base_url):
    """Path and query pairs of ``url`` under ``base_url``, or (None, None) outside it."""
    base, target = urlsplit(base_url), urlsplit(str(url))
    if (target.scheme, target.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return None, None
    prefix, path = base.path.rstrip("/"), target.path or "/"
    if prefix:
        if path != prefix and not path.startswith(prefix + "/"):
            return None, None
        path = path[len(prefix):] or "/"
    return path, parse_qsl(target.query, keep_blank_values=True)


def _text(body):
    if body is None:
        return ""
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)


def _header(headers, name):
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value.decode("latin-1") if isinstance(value, bytes) else value
    return None


def _sends_headers(expected, headers):
    """The headers that predicted the entry's answer, sent alike (None: not sent)."""
    return all(_header(headers, name) == value
               for name, value in expected.get("headers", {}).items())


def _bytes(body):
    if body is None:
        return b""
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _field(document, dotted):
    for key in dotted.split("."):
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _names_operation(expected, query, body, headers):
    """The request asks for the entry's operation where its API names one."""
    operation = expected.get("operation")
    if operation is None:
        return True
    source, name = operation["source"], operation["name"]
    if source == "header":
        found = _header(headers, name)
    elif source == "query":
        found = dict(query).get(name)
    elif source == "form":
        found = dict(parse_qsl(_text(body), keep_blank_values=True)).get(name)
    else:
        try:
            found = _field(json.loads(_text(body)), name)
        except ValueError:
            found = None
    if not isinstance(found, str):
        return False
    if operation["pattern"] is not None:
        return re.fullmatch(operation["pattern"], found) is not None
    return found == operation["value"]


def _is_exemplar_request(expected, path, query, body, headers):
    if path != expected["path"] or not _sends_headers(expected, headers):
        return False
    if not _names_operation(expected, query, body, headers):
        return False
    sent = dict(query)
    if any(sent.get(name) != value for name, value in expected["query"].items()):
        return False
    if "base64" in expected:
        return _bytes(body) == base64.b64decode(expected["base64"])
    if "json" in expected:
        try:
            return json.loads(_text(body)) == expected["json"]
        except ValueError:
            return False
    if "text" in expected:
        return _text(body) == expected["text"]
    return True


def find(method, url, body=None, base_url=BASE_URL, headers=None):
    """The entry of ``ENDPOINTS`` that answers this request, or None."""
    path, query = _relative(url, base_url)
    if path is None:
        return None
    for entry in ENDPOINTS:
        if entry["answers"] == "none" or entry["method"] != method.upper():
            continue
        if not re.fullmatch(entry["path_regex"], path):
            continue
        if entry["answers"] == "template":
            if _sends_headers(entry["request"], headers) and _names_operation(
                    entry["request"], query, body, headers):
                return entry
        elif _is_exemplar_request(entry["request"], path, query, body, headers):
            return entry
    return None


def response_body(entry):
    """The exemplar response body as bytes."""
    response = entry["response"]
    if "json" in response:
        return json.dumps(response["json"]).encode("utf-8")
    if "text" in response:
        return response["text"].encode("utf-8")
    if "base64" in response:
        return base64.b64decode(response["base64"])
    return b""


def _url_regex(entry, base_url):
    """The URLs an entry may answer; ``find`` decides among entries that share them.

    The entry's name rides along as a regex comment, ``(?#...)``: respx merges
    routes whose patterns are equal, and a 404 for one path must stay apart
    from the 200 for every path.
    """
    if entry["answers"] == "exemplar":
        path = re.escape(entry["request"]["path"])
    else:
        path = entry["path_regex"][1:-1]
    name = entry["name"].replace(")", "")
    return re.compile(f"^{re.escape(base_url.rstrip('/'))}{path}(?:[?#].*)?$(?#{name})")


def register_responses(rsps, base_url=BASE_URL):
    """Register every endpoint on a ``responses.RequestsMock``.

    ``responses`` hands out, then drops, the first of several registrations a
    request matches; so each registration matches only the requests ``find``
    gives it, and stays registered.
    """
    for entry in ENDPOINTS:
        if entry["answers"] == "none":
            continue
        rsps.add(
            entry["method"],
            _url_regex(entry, base_url),
            body=response_body(entry),
            status=entry["response"]["status"],
            content_type=entry["response"].get("content_type"),
            headers=_header_dict(entry),
            match=[_answered_by(entry, base_url)],
        )
    return rsps


def _header_dict(entry):
    """responses takes one value per name: repeated headers joined as RFC 9110 §5.3 allows."""
    merged = {}
    for name, value in entry["response"].get("headers", []):
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged


def _answered_by(entry, base_url):
    def matcher(request):
        chosen = find(request.method, request.url, request.body, base_url, request.headers)
        if chosen is entry:
            return True, ""
        return False, f"{entry['name']} does not answer it"

    return matcher


def register_respx(router, base_url=BASE_URL):
    """Add every endpoint as a route named like ``GET /users/{user_id} 200`` to a respx router."""
    import httpx

    def answer(entry):
        def side_effect(request):
            if find(request.method, request.url, request.read(), base_url,
                    request.headers) is not entry:
                return None  # respx tries the next route
            headers = [tuple(pair) for pair in entry["response"].get("headers", [])]
            if entry["response"].get("content_type"):
                headers.insert(0, ("Content-Type", entry["response"]["content_type"]))
            return httpx.Response(entry["response"]["status"], headers=headers,
                                  content=response_body(entry))

        return side_effect

    for entry in ENDPOINTS:
        if entry["answers"] == "none":
            continue
        router.route(method=entry["method"], url__regex=_url_regex(entry, base_url),
                     name=entry["name"]).mock(side_effect=answer(entry))
    return router


@pytest.fixture
def shop_users_base_url():
    """Where the stubs of shop-users answer; override this fixture to move them."""
    return BASE_URL


@pytest.fixture
def shop_users_responses(shop_users_base_url):
    """``requests`` to shop-users get its recorded exemplars (an active RequestsMock)."""
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield register_responses(rsps, shop_users_base_url)


@pytest.fixture
def shop_users_respx(shop_users_base_url):
    """``httpx`` requests to shop-users get its recorded exemplars (an active respx router)."""
    import respx

    with respx.mock(assert_all_called=False) as router:
        yield register_respx(router, shop_users_base_url)
