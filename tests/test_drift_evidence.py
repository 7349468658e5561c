"""Drift planted with realistic evidence is reported, through `freshmock diff` as a user
runs it: 120 baseline and 60 current observations of each endpoint, spread over days,
values that vary like real data.

Two changes the end-to-end drift test did not guard (a deliberate breakage of each
went unnoticed): a property removed deep inside the body, and a change in what
clients send (request-body drift). Each store also has a control endpoint that did
not change, and an unchanged store reports nothing, so a pass is never vacuous.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from freshmock.proxy.store import insert_observations, open_store

from conftest import freshmock_command
from store_kit import observation_row

# 60 a side is a realistic week of a low-traffic endpoint: 60/60 -> 0/60 is decisive
# under drift_rules.py's Fisher test (p = 1/C(120, 60), far below its false-alarm level).
BASELINE_PER_ENDPOINT, CURRENT_PER_ENDPOINT = 60, 60
BASELINE_DAYS = ["2026-10-19", "2026-10-20", "2026-10-21", "2026-10-22", "2026-10-23"]
CURRENT_DAYS = ["2026-10-29", "2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02"]


def _row(day: str, n: int, method: str, path: str, response: dict, request: dict | None = None):
    return observation_row(
        observed_at=f"{day}T{8 + n % 10:02d}:{n % 60:02d}:00.000000Z", method=method, path=path,
        request=request, status=200 if method == "GET" else 201, body=response,
        response_headers=[["Content-Type", "application/json"]], duration_ms=3.0)


def _customer(n: int, with_zip: bool = True) -> dict:
    address = {"street": f"{n} Long Lane", "city": f"Town {n % 17}"}
    if with_zip:
        address["zip"] = f"{10000 + n * 7}"
    return {"id": 5000 + n, "name": f"Customer {n}", "address": address}


def _order(n: int, with_zip: bool = True) -> dict:
    return {"id": 900 + n, "total": 10 + n % 13, "customer": _customer(n, with_zip)}


def _new_order(n: int, quantity_as_text: bool = False) -> dict:
    quantity = 1 + n % 5
    return {"sku": f"SKU-{n % 23:03d}", "quantity": str(quantity) if quantity_as_text
            else quantity, "gift": n % 3 == 0}


def _side(days: list[str], start: int, count: int, *, with_zip: bool,
          quantity_as_text: bool) -> list:
    rows = []
    for n in range(start, start + count):
        day = days[n % len(days)]
        rows.append(_row(day, n, "GET", f"/orders/{900 + n}", _order(n, with_zip)))
        rows.append(_row(day, n, "POST", "/orders", {"id": 900 + n, "status": "accepted"},
                         _new_order(n, quantity_as_text)))
        rows.append(_row(day, n, "GET", f"/customers/{5000 + n}", _customer(n)))  # control
    return rows


def _store(path: Path, *, zip_removed: bool = False, quantity_as_text: bool = False) -> Path:
    db = open_store(path, must_exist=False)
    insert_observations(db, _side(BASELINE_DAYS, 0, BASELINE_PER_ENDPOINT, with_zip=True,
                                  quantity_as_text=False))
    insert_observations(db, _side(CURRENT_DAYS, BASELINE_PER_ENDPOINT, CURRENT_PER_ENDPOINT,
                                  with_zip=not zip_removed, quantity_as_text=quantity_as_text))
    db.close()
    return path


def _changes(db: Path) -> tuple[int, set[tuple]]:
    result = subprocess.run(freshmock_command("diff", "--db", str(db), "--format", "json",
                                              "--fail-on", "any"),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert {e["path_template"] for e in report["endpoints"]} <= {
        "/orders/{order_id}", "/orders", "/customers/{customer_id}"}, report["endpoints"]
    return result.returncode, {
        (f"{e['method']} {e['path_template']}", c["severity"], c["kind"],
         f"{c['part']} {c['path']}")
        for e in report["endpoints"] for c in e["changes"]}


@pytest.fixture(scope="module")
def unchanged(tmp_path_factory) -> tuple[int, set]:
    return _changes(_store(tmp_path_factory.mktemp("same") / "store.db"))


def test_an_unchanged_dependency_with_the_same_evidence_reports_nothing(unchanged):
    assert unchanged == (0, set())


def test_a_property_removed_three_levels_deep_is_reported_as_breaking(tmp_path, unchanged):
    code, changes = _changes(_store(tmp_path / "store.db", zip_removed=True))
    assert code == 1
    assert changes == {("GET /orders/{order_id}", "breaking", "property-removed",
                        "response /customer/address/zip")}


def test_a_request_body_field_that_changed_type_is_reported(tmp_path, unchanged):
    code, changes = _changes(_store(tmp_path / "store.db", quantity_as_text=True))
    assert code == 1
    (change,) = changes
    endpoint, severity, kind, path = change
    assert (endpoint, kind, path) == ("POST /orders", "type-changed", "request /quantity")
    assert severity in ("breaking", "risky")
