"""The stubs answer wherever the consumer points its client: override ``demo_shop_base_url``."""

from __future__ import annotations

import pytest
import requests
from respx.models import AllMockedAssertionError
from shop_client import HttpxShop, RequestsShop, UserNotFound

SHOP_URL = "https://shop.internal:8443/api/v2"


@pytest.fixture
def demo_shop_base_url():
    return SHOP_URL


def test_the_stubs_answer_under_a_base_url_with_a_path(shop):
    assert shop.health() == "ok"
    with pytest.raises(UserNotFound):
        shop.get_user(999)


def test_requests_to_the_default_base_url_are_refused(demo_shop_responses, demo_shop_respx):
    with pytest.raises(requests.ConnectionError):
        RequestsShop("http://demo-shop").health()
    with pytest.raises(AllMockedAssertionError):
        HttpxShop("http://demo-shop").health()
