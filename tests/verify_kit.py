"""Real parts for the verify tests: a store of the drift service at v1 then v2, recorded
through the real proxy (tests/drift_service.py), and hand-written WireMock mappings.

The mocks are written the way people write them for the v1 dependency: regex and
template URL matchers, priorities, metadata, pretty-printed bodies, a folder of
mappings with ``__files``. Against v2 they carry planted findings, listed in
``WIREMOCK_EXPECTED`` as (file, class, kind, JSON path or None).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import freshmock_command
from drift_service import record

# Three calls of an unknown route (404 at both versions): fewer than any drift
# rule decides on, old (30 current objects) or new (5 per side).
THIN_CALLS = [("GET", "/search", None, {})] * 3

WINDOW = ("2026-10-27", "2026-11-02")


_STORES: dict[str, Path] = {}


def record_more(db: Path, calls, day: str = "2026-11-02") -> None:
    """More v2 traffic in today's window of a copy of the drifted store."""
    _record_thin(db, day, calls)


def drifted_store(tmp_path_factory) -> Path:
    """v1 traffic on 2026-10-05, v2 on 2026-11-02, recorded through the real proxy once
    per session; today's 7-day window holds only v2. Tests copy it before writing."""
    if "store" not in _STORES:
        db = tmp_path_factory.mktemp("verify-store") / "store.db"
        record(db, 1, "2026-10-05")
        record(db, 2, "2026-11-02")
        _record_thin(db, "2026-11-02")
        _STORES["store"] = db
    return _STORES["store"]


def _record_thin(db: Path, day: str, calls=THIN_CALLS) -> None:
    """``calls`` to the v2 service recorded into ``db`` on ``day`` (13:00, after v2's traffic)."""
    record(db, 2, day, calls=calls, at="13:00:00")


V1_ORDER = {
    "id": 42,
    "status": "paid",
    "total": 120,
    "created_at": "2026-10-01T09:15:00Z",
    "updated_at": "2026-11-03T10:00:00Z",
    "customer": {"name": "Ada Lovelace", "email": "ada@example.test"},
    "items": [{"sku": "SKU-1", "qty": 2}],
    "note": "leave at the door",
}

_ORDER_MAPPING = {
    "priority": 5,
    "request": {"method": "GET", "urlPathPattern": "/orders/[0-9]+",
                "headers": {"Accept": {"contains": "json"}}},
    "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                 "jsonBody": V1_ORDER},
    "metadata": {"owner": "checkout-team"},
}

_USERS_FILE = {"mappings": [
    {"name": "a user", "request": {"method": "GET", "urlPath": "/users/7"},
     "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                  "jsonBody": {"id": 7, "nickname": "ada", "name": "Ada"}}},
    {"name": "search", "request": {"method": "GET", "url": "/search"},
     "response": {"status": 404, "jsonBody": {"error": "no route"}}},
]}

_OTHERS = {
    "legacy.json": {"request": {"method": "GET", "url": "/legacy"},
                    "response": {"status": 200, "jsonBody": {"ok": True}}},
    "reports.json": {"request": {"method": "GET", "urlPathTemplate": "/reports/{id}"},
                     "response": {"status": 200, "bodyFileName": "report.json",
                                  "headers": {"Content-Type": "application/json"}}},
    "exports.json": {"mappings": [
        {"priority": 1, "request": {"method": "GET", "urlPath": "/exports/3"},
         "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                      "body": "{\"id\": 3, \"csv\": \"a,b\"}"}},
        {"priority": 2, "request": {"method": "GET", "urlPathPattern": "/exports/.*"},
         "response": {"status": 200, "headers": {"Content-Type": "text/csv"},
                      "body": "a,b\n1,2\n"}},
    ]},
    "create-order.json": {"request": {"method": "POST", "url": "/orders",
                                      "bodyPatterns": [{"matchesJsonPath": "$.items"}]},
                          "response": {"status": 201,
                                       "headers": {"Content-Type": "application/json"},
                                       "jsonBody": {"id": 1001, "state": "created"}}},
    "admin.json": {"request": {"method": "GET", "urlPath": "/admin/stats"},
                   "response": {"status": 200, "jsonBody": {"orders": 3}}},
}

WIREMOCK_EXPECTED = {
    ("orders.json", "stale", "property-removed", "$.note"),
    ("orders.json", "stale", "type-widened", "$.total"),
    ("orders.json", "stale", "became-nullable", "$.customer.email"),
    ("orders.json", "incomplete", "format-dropped", "$.created_at"),
    ("orders.json", "incomplete", "items-type-widened", "$.items[]"),
    ("orders.json", "incomplete", "property-added", "$.tracking_url"),
    ("orders.json", "incomplete", "property-added", "$.coupon"),
    # the mock never shows the phone; today every order has one (a string)
    ("orders.json", "incomplete", "property-added", "$.customer.phone"),
    ("users.json", "stale", "type-changed", "$.nickname"),
    ("users.json", "stale", "became-optional", "$.name"),
    ("users.json", "unverifiable", "thin-evidence", None),  # /search: 3 calls
    ("legacy.json", "stale", "endpoint-gone", None),
    ("reports.json", "stale", "status-gone", None),
    ("reports.json", "incomplete", "status-added", None),
    ("exports.json", "stale", "media-type-changed", None),
    ("create-order.json", "stale", "new-client-error", None),
    ("admin.json", "unverifiable", "never-observed", None),
}


def write_wiremock_mocks(root: Path) -> Path:
    """A WireMock root (mappings/ and __files/) as a team keeps it; returns the root."""
    mappings, files = root / "mappings", root / "__files"
    mappings.mkdir(parents=True)
    files.mkdir()
    (mappings / "orders.json").write_text(json.dumps(_ORDER_MAPPING, indent=2) + "\n")
    (mappings / "users.json").write_text(json.dumps(_USERS_FILE, indent=4) + "\n")
    for name, mapping in _OTHERS.items():
        (mappings / name).write_text(json.dumps(mapping, indent=2) + "\n")
    (files / "report.json").write_text('{"id": 1, "rows": 12}\n')
    (root / "README.md").write_text("mocks of orders-api\n")  # not a mock: skipped
    return root


def verify(store: Path, *args) -> subprocess.CompletedProcess:
    """`freshmock verify` as a user runs it."""
    return subprocess.run(freshmock_command("verify", "--db", str(store), *map(str, args)),
                          capture_output=True, text=True, timeout=120)


def report(store: Path, *args) -> tuple[int, dict]:
    """(exit code, JSON report) of `freshmock verify --format json`."""
    result = verify(store, *args, "--format", "json")
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def findings(report: dict) -> set[tuple]:
    """(file name, class, kind, path or None) of every finding of a JSON report."""
    return {(Path(m["file"]).name, f["class"], f["kind"], None if f["path"] == "-" else f["path"])
            for m in report["mocks"] for f in m["findings"]}
