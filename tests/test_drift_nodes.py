"""Shape drift between two statistics nodes: exactly the planted changes, nothing on noise."""

from __future__ import annotations

import random
import uuid

import pytest

from freshmock.generators.drift import Severity, compare_nodes
from freshmock.generators.schema.stats import merge, observe


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
        ({"note": ...}, (Severity.breaking, "property-removed", "$.note")),
        ({"total": 12.5}, (Severity.breaking, "type-widened", "$.total")),
        ({"customer": ["c"]}, (Severity.breaking, "type-changed", "$.customer")),
        ({"items": [{"sku": 1, "qty": 1}]}, (Severity.breaking, "type-changed", "$.items[].sku")),
        ({"coupon": "X"}, (Severity.additive, "property-added", "$.coupon")),
        ({"status": "refunded"}, (Severity.risky, "enum-value-added", "$.status")),
        ({"created_at": "yesterday"}, (Severity.risky, "format-dropped", "$.created_at")),
    ],
)
def test_each_planted_change_is_named_with_its_class_and_path(overrides, expected):
    assert changes(orders(1, 300), orders(2, 100, **overrides)) == [expected]


def test_became_nullable():
    current = orders(2, 100) + orders(3, 20, note=None)
    assert changes(orders(1, 300), current) == [(Severity.breaking, "became-nullable", "$.note")]


def test_required_became_optional():
    current = orders(2, 100) + orders(3, 10, note=...)
    assert changes(orders(1, 300), current) == [(Severity.breaking, "became-optional", "$.note")]


def test_array_items_widened_is_risky():
    current = orders(2, 100, items=[{"sku": "S", "qty": 1}, "gift-wrap"])
    assert (Severity.risky, "items-type-widened", "$.items[]") in changes(orders(1, 300), current)


def test_no_verdict_on_thin_evidence():
    assert changes(orders(1, 20), orders(2, 100, note=...)) == []  # baseline too small
    assert changes(orders(1, 300), orders(2, 5, note=...)) == []  # current too small


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
