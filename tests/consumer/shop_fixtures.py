"""The consumer's fixtures: a shop client over each HTTP library, on freshmock's stubs.

Loaded with ``-p shop_fixtures`` (pytest.ini), after ``-p demo_shop_stubs``,
the module freshmock generates; ``demo_shop_base_url`` comes from there unless
a test module overrides it.
"""

from __future__ import annotations

import pytest
from shop_client import HttpxShop, RequestsShop


@pytest.fixture
def requests_shop(demo_shop_responses, demo_shop_base_url):
    shop = RequestsShop(demo_shop_base_url)
    yield shop
    shop.close()


@pytest.fixture
def httpx_shop(demo_shop_respx, demo_shop_base_url):
    shop = HttpxShop(demo_shop_base_url)
    yield shop
    shop.close()


@pytest.fixture(params=["requests_shop", "httpx_shop"])
def shop(request):
    """Each test once over requests + responses, once over httpx + respx."""
    return request.getfixturevalue(request.param)
