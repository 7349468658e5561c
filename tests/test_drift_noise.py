"""Noise is not drift: many nights of an unchanged dependency through the whole comparison.

A dependency whose answers never change contract, but whose values churn (ids,
timestamps), whose optional fields come and go (a field at 95-99% presence,
another at 50%), and which answers a few percent 404s and 503s at random, is
compared night after night (last 7 nights as the baseline, tonight as the
current window) by ``compare_windows``: endpoint, status and body tests
together. Not one change may be reported on any night.
"""

from __future__ import annotations

import random
import uuid

import pytest

from freshmock.generators.drift.stub_baseline import StubbedEndpoint
from freshmock.generators.drift.windows import compare_windows

SERVICE = "orders-api"


def _order(rng: random.Random, presence: float) -> dict:
    body = {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "created_at": f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
        "status": rng.choice(["paid", "shipped", "delivered", "refunded"]),
        "total": rng.randint(1, 900),
        "items": [{"sku": f"S{rng.randint(1, 10**6)}"} for _ in range(rng.randint(0, 3))],
    }
    if rng.random() < presence:
        body["note"] = f"note {rng.randint(1, 10**6)}"
    if rng.random() < 0.5:
        body["coupon"] = f"C{rng.randint(100, 999)}"
    return body


def _night(rng: random.Random, day: str, presence: float) -> dict:
    window: dict[tuple, StubbedEndpoint] = {}

    def add(method, template, status, media_type, body=None):
        key = (SERVICE, method, template, "", status, media_type)  # "": routed by path
        entry = window.setdefault(key, StubbedEndpoint(0, f"{day}T00:00:00Z",
                                                       f"{day}T23:00:00Z"))
        entry.observations += 1
        if body is not None:
            entry.response.add_object(body)

    for _ in range(rng.randint(40, 120)):
        roll = rng.random()
        if roll < 0.02:
            add("GET", "/orders/{order_id}", 404, "application/json", {"error": "not found"})
        elif roll < 0.03:
            add("GET", "/orders/{order_id}", 503, "text/html")
        else:
            add("GET", "/orders/{order_id}", 200, "application/json", _order(rng, presence))
    for _ in range(rng.randint(20, 60)):
        add("GET", "/users/{user_id}", 200, "application/json",
            {"id": rng.randint(1, 10**6), "name": f"u{rng.randint(1, 999)}",
             "avatar_url": f"https://img.example.test/{rng.randint(1, 99)}.png"})
    if rng.random() < 0.7:  # a rarely called endpoint: some nights not at all
        for _ in range(rng.randint(1, 4)):
            add("GET", "/health", 200, "application/json", {"status": "ok"})
    return window


def _merge(nights: list[dict]) -> dict:
    merged: dict[tuple, StubbedEndpoint] = {}
    for night in nights:
        for key, entry in night.items():
            into = merged.setdefault(key, StubbedEndpoint(0, entry.first_seen,
                                                          entry.last_seen))
            into.observations += entry.observations
            into.first_seen = min(into.first_seen, entry.first_seen)
            into.last_seen = max(into.last_seen, entry.last_seen)
            if len(entry.response):
                into.response.add_schema(entry.response)
    return merged


@pytest.mark.parametrize("presence", [0.95, 0.97, 0.99])
def test_forty_nights_of_an_unchanged_dependency_report_nothing(presence):
    rng = random.Random(int(presence * 100))
    nights = [_night(rng, f"2026-{10 + n // 28:02d}-{1 + n % 28:02d}", presence)
              for n in range(40)]
    flagged = []
    for night in range(7, 40):
        report = compare_windows(_merge(nights[night - 7:night]), nights[night])
        assert report.problems == []
        flagged += [(night, d.path_template, d.status, c.kind, c.path)
                    for d in report.drifts for c in d.changes]
    assert flagged == []


def test_the_same_harness_catches_a_real_removal_on_its_first_night():
    """The quiet above is not deafness: the field goes at night 30 and night 30 says so."""
    rng = random.Random(3)
    nights = [_night(rng, f"2026-{10 + n // 28:02d}-{1 + n % 28:02d}", 0.97 if n < 30 else 0)
              for n in range(32)]
    report = compare_windows(_merge(nights[23:30]), nights[30])
    assert [(d.status, c.severity.value, c.kind, c.path) for d in report.drifts
            for c in d.changes] == [(200, "breaking", "property-removed", "/note")]
