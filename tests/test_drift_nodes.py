"""Shape drift between two statistics nodes: exactly the planted changes, nothing on noise."""

from __future__ import annotations

import random
import uuid

import pytest

from freshmock.generators.drift.shapes import Severity, compare_nodes
from freshmock.generators.model.schema.stats import merge, observe


def stats(bodies) -> dict:
    node: dict = {}
    for body in bodies:
        observe(node, body)
    return node


def changes(base_bodies, current_bodies):
    return [(c.severity, c.kind, c.path) for c in compare_nodes(stats(base_bodies),
                                                                 stats(current_bodies))]


def order(rng: random.Random, n: int, **overrides) -> dict:
    body = {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),  # churns: never drift
        "created_at": f"2026-11-{rng.randint(1, 28):02d}T10:00:00Z",
        "status": rng.choice(["paid", "shipped", "delivered"]),
        "total": rng.randint(1, 500),
        "customer": {"name": f"c{n}", "email": f"c{n}@example.test"},
        "items": [{"sku": f"S{k}", "qty": rng.randint(1, 3)} for k in range(rng.randint(1, 3))],
        "note": f"note {n}",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def orders(seed: int, n: int, **overrides) -> list[dict]:
    rng = random.Random(seed)
    return [order(rng, k, **overrides) for k in range(n)]


def test_identical_shapes_with_churning_values_are_not_drift():
    assert changes(orders(1, 300), orders(2, 100)) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"note": ...}, (Severity.breaking, "property-removed", "/note")),
        ({"total": 12.5}, (Severity.breaking, "type-widened", "/total")),
        ({"customer": ["c"]}, (Severity.breaking, "type-changed", "/customer")),
        ({"items": [{"sku": 1, "qty": 1}]}, (Severity.breaking, "type-changed", "/items/*/sku")),
        ({"coupon": "X"}, (Severity.additive, "property-added", "/coupon")),
        ({"status": "refunded"}, (Severity.risky, "enum-value-added", "/status")),
        ({"created_at": "yesterday"}, (Severity.risky, "format-dropped", "/created_at")),
    ],
)
def test_each_planted_change_is_named_with_its_class_and_path(overrides, expected):
    assert changes(orders(1, 300), orders(2, 100, **overrides)) == [expected]


def test_became_nullable():
    current = orders(2, 100) + orders(3, 20, note=None)
    assert changes(orders(1, 300), current) == [(Severity.breaking, "became-nullable", "/note")]


def test_required_became_optional():
    current = orders(2, 100) + orders(3, 10, note=...)
    assert changes(orders(1, 300), current) == [(Severity.breaking, "became-optional", "/note")]


def test_array_items_widened_is_risky():
    current = orders(2, 100, items=[{"sku": "S", "qty": 1}, "gift-wrap"])
    assert (Severity.risky, "items-type-widened", "/items/*") in changes(orders(1, 300), current)


def test_no_verdict_on_thin_evidence():
    # 4/4 -> 0/4 has p = 1/70: no verdict at a family-wise level of 0.001
    assert changes(orders(1, 4), orders(2, 4, note=...)) == []
    # 50/50 -> 0/1 is p = 1/51 = 0.02
    assert changes(orders(1, 50), orders(2, 1, note=...)) == []


def test_evidence_scales_with_the_sample():
    """No fixed floor: 59/59 -> 0/59 is decisive (p = 1/C(118, 59)), 20/20 -> 0/100 too."""
    expected = [(Severity.breaking, "property-removed", "/note")]
    assert changes(orders(1, 59), orders(2, 59, note=...)) == expected
    assert changes(orders(1, 20), orders(2, 100, note=...)) == expected


def test_one_miss_in_fifty_is_not_became_optional():
    assert changes(orders(1, 50), orders(2, 49) + orders(3, 1, note=...)) == []


def test_narrowing_is_risky_not_breaking():
    """null|string -> string: a consumer that handled null is not broken when null stops."""
    base = orders(1, 40) + orders(2, 40, note=None)
    assert changes(base, orders(3, 80)) == [(Severity.risky, "type-narrowed", "/note")]


def test_an_optional_field_that_disappears_entirely_is_reported():
    rng = random.Random(7)
    base = [order(rng, k, coupon="C1" if k % 2 else ...) for k in range(240)]
    assert changes(base, orders(2, 240)) == [
        (Severity.risky, "optional-property-removed", "/coupon")]


def test_a_property_seen_once_is_not_an_addition():
    current = orders(2, 4999) + orders(3, 1, coupon="X")
    assert changes(orders(1, 300), current) == []


def test_keys_with_dots_slashes_and_brackets_have_unambiguous_paths():
    base = [{"a.b": {"c": 1}, "a": {"b": {"c": 1}}, "x/y[0]": 1, "*": 1} for _ in range(60)]
    current = [{"a.b": {}, "a": {"b": {"c": 1}}} for _ in range(60)]
    assert changes(base, current) == [
        (Severity.breaking, "property-removed", "/a.b/c"),
        (Severity.breaking, "property-removed", "/x~1y[0]"),
        (Severity.breaking, "property-removed", "/~2"),
    ]


def test_one_repeated_example_is_not_an_enum():
    """30 copies of one body are one value: a later different value is not enum drift."""
    def body(colour, url, state):
        return {"colour": colour, "avatar_url": url, "state": state}

    base, current = {}, {}
    first = body("#1f77b4", "https://img.example.test/a.png", "open")
    for k in range(60):
        observe(base, first, repeat=k > 0)
    second = body("#ff7f0e", "https://img.example.test/b.png", "closed")
    for k in range(60):
        observe(current, second, repeat=k > 0)
    assert compare_nodes(base, current) == []


def test_pattern_like_values_are_never_enum_like():
    rng = random.Random(8)
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
    shas = ["9fceb02", "e83c516", "a1b2c3d4e5"]
    base = [{"colour": rng.choice(colours), "sha": rng.choice(shas),
             "counter": rng.choice(["1001", "1002", "1003"])} for _ in range(300)]
    current = [{"colour": "#9467bd", "sha": "0f0f0f0", "counter": "1004"} for _ in range(100)]
    assert changes(base, current) == []


def test_maps_keyed_by_ids_are_compared_as_one_value_shape():
    def inventory(rng, n):
        return {"stock": {str(rng.randint(1, 10**6)): {"qty": rng.randint(0, 9)} for _ in range(5)}}

    rng = random.Random(4)
    base = [inventory(rng, n) for n in range(200)]
    current = [inventory(rng, n) for n in range(60)]
    assert changes(base, current) == []  # new ids every time: not new properties


@pytest.mark.parametrize("presence", [0.95, 0.99])
def test_a_field_present_most_of_the_time_never_flip_flops_over_many_nights(presence):
    rng = random.Random(5)
    nights = []
    for _night in range(40):
        bodies = []
        for k in range(rng.randint(40, 120)):
            body = order(rng, k)
            if rng.random() >= presence:
                del body["note"]
            bodies.append(body)
        nights.append(stats(bodies))
    flagged = []
    for night in range(7, 40):
        baseline = merge(*nights[night - 7:night])
        current = nights[night]
        flagged += [(night, c.kind, c.path) for c in compare_nodes(baseline, current)]
    assert flagged == []
