"""Path templating: typed identifier segments become named parameters."""

from __future__ import annotations

import pytest

from freshmock.generators.paths import path_template


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/users/42", "/users/{user_id}"),
        ("/users/42/orders/7", "/users/{user_id}/orders/{order_id}"),
        ("/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6", "/orders/{order_id}"),
        ("/categories/5/items", "/categories/{category_id}/items"),
        ("/a/1/2", "/a/{a_id}/{id}"),
        ("/pairs/1/2/3", "/pairs/{pair_id}/{id}/{id2}"),
        ("/users/me", "/users/me"),
        ("/v2/users", "/v2/users"),
        ("/42", "/42"),  # the first segment names a collection: never a parameter
        ("/", "/"),
        ("", ""),
    ],
)
def test_path_template(path, template):
    assert path_template(path) == template


def test_parameter_names_are_unique_within_a_template():
    template = path_template("/users/1/users/2")
    assert template == "/users/{user_id}/users/{user_id2}"
