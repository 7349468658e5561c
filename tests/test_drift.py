"""Drift end to end: a dependency at v1 then v2, served for real and recorded through
the proxy; the report names exactly the changes planted in v2 (tests/drift_service.py).

Golden files tests/golden/drift.*: these tests only compare; ``make golden``
(tests/update_golden.py) rewrites them, printing the diff it accepts.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import freshmock_command
from drift_service import record, traffic
from golden_files import DRIFT_FORMATS, assert_same_tree

GOLDEN = Path(__file__).parent / "golden"
PLANTED = {
    ("breaking", "property-removed", "GET /orders/{order_id}", 200, "/note"),
    ("breaking", "type-widened", "GET /orders/{order_id}", 200, "/total"),
    ("breaking", "became-nullable", "GET /orders/{order_id}", 200, "/customer/email"),
    ("breaking", "type-changed", "GET /users/{user_id}", 200, "/nickname"),
    ("breaking", "became-optional", "GET /users/{user_id}", 200, "/name"),
    ("breaking", "status-gone", "GET /reports/{report_id}", 200, None),
    ("breaking", "status-gone", "GET /profiles/{profile_id}", 200, None),
    ("breaking", "media-type-changed", "GET /exports/{export_id}", 200, None),
    ("breaking", "endpoint-gone", "GET /legacy", None, None),
    ("breaking", "new-client-error", "POST /orders", 422, None),
    ("risky", "enum-value-added", "GET /orders/{order_id}", 200, "/status"),
    ("risky", "format-dropped", "GET /orders/{order_id}", 200, "/created_at"),
    ("risky", "items-type-widened", "GET /orders/{order_id}", 200, "/items/*"),
    ("risky", "type-narrowed", "GET /orders/{order_id}", 200, "/customer/phone"),
    ("risky", "optional-property-removed", "GET /orders/{order_id}", 200, "/gift_message"),
    ("additive", "property-added", "GET /orders/{order_id}", 200, "/tracking_url"),
    ("additive", "status-added", "GET /reports/{report_id}", 204, None),
    ("additive", "endpoint-added", "GET /invoices/{invoice_id}", None, None),
}


def found_changes(report: dict) -> set:
    return {
        (c["severity"], c["kind"], f"{e['method']} {e['path_template']}", e["status"], c["path"])
        for e in report["endpoints"] for c in e["changes"]
    }


@pytest.fixture(scope="module")
def drifted_store(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("drift") / "store.db"
    record(db, 1, "2026-10-05")
    record(db, 2, "2026-11-02")
    return db


def diff(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(freshmock_command("diff", "--db", str(db), *args),
                          capture_output=True, text=True, timeout=120)


def test_the_report_names_exactly_the_planted_changes(drifted_store):
    result = diff(drifted_store, "--format", "json")
    assert result.returncode == 1, result.stderr  # breaking changes fail the default gate
    report = json.loads(result.stdout)
    found = found_changes(report)
    assert found - PLANTED == set(), "reported but not planted"
    assert PLANTED - found == set(), "planted but not reported"
    assert report["summary"] == {"breaking": 10, "risky": 5, "additive": 3}


def test_an_error_that_replaced_a_success_is_reported_once_with_both_sides(drifted_store):
    report = json.loads(diff(drifted_store, "--format", "json").stdout)
    profiles = [(e["status"], c) for e in report["endpoints"]
                if e["path_template"] == "/profiles/{profile_id}" for c in e["changes"]]
    assert len(profiles) == 1
    status, change = profiles[0]
    assert (status, change["kind"]) == (200, "status-gone")
    assert change["evidence"]["baseline_statuses"] == {"200": 40}
    assert change["evidence"]["current_statuses"] == {"404": 40}
    assert "404 on 40 calls" in change["new"]


def test_every_baseline_item_is_accounted_for(drifted_store):
    report = json.loads(diff(drifted_store, "--format", "json").stdout)
    items = report["coverage"]["items"]
    rare = [i for i in items if i["path_template"] == "/rare"]
    assert [(i["verdict"], i["baseline_observations"]) for i in rare] == [("not-observed", 3)]
    assert "current observations" in rare[0]["note"]
    # an empty 204 whose Content-Type changed is one endpoint, compared, not drift
    sessions = [i for i in items if i["path_template"] == "/sessions/{session_id}"]
    assert [(i["status"], i["media_type"], i["verdict"]) for i in sessions] == [
        (204, "", "compared")]
    text = diff(drifted_store).stdout
    assert "GET /rare → 200 application/json  (3 baseline obs): not observed" in text


@pytest.mark.parametrize(("fail_on", "code"), [("breaking", 1), ("risky", 1), ("any", 1),
                                               ("never", 0)])
def test_exit_codes_follow_fail_on(drifted_store, fail_on, code):
    assert diff(drifted_store, "--fail-on", fail_on).returncode == code


def test_no_drift_when_the_dependency_did_not_change(tmp_path):
    db = tmp_path / "same.db"
    record(db, 1, "2026-10-05")
    record(db, 1, "2026-11-02")
    result = diff(db, "--fail-on", "any")
    assert result.returncode == 0, result.stdout
    assert "0 breaking, 0 risky, 0 additive" in result.stdout


@pytest.mark.parametrize("args", [["--since", "a week"], ["--baseline-window", "0d"],
                                  ["--format", "yaml"]])
def test_usage_errors_exit_2(drifted_store, args):
    result = diff(drifted_store, *args)
    assert result.returncode == 2


def test_a_missing_store_is_a_usage_error(tmp_path):
    result = diff(tmp_path / "none.db")
    assert result.returncode == 2 and "no store at" in result.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_golden_reports(drifted_store, fmt):
    output = diff(drifted_store, "--format", fmt, "--fail-on", "never").stdout
    name = DRIFT_FORMATS[fmt]
    assert_same_tree({name: (GOLDEN / name).read_bytes()}, {name: output.encode()}, "golden")


def test_markdown_puts_breaking_changes_first(drifted_store):
    text = diff(drifted_store, "--format", "markdown").stdout
    assert text.index("### Breaking") < text.index("### Risky") < text.index("### Additive")


def test_committed_stubs_serve_as_the_baseline(tmp_path):
    """--against DIR: the stubs generated at v1 are what the consumer's mocks believe."""
    db = tmp_path / "store.db"
    record(db, 1, "2026-10-05")
    stubs = tmp_path / "stubs"
    generated = subprocess.run(
        freshmock_command("generate", "--db", str(db), "--out", str(stubs)),
        capture_output=True, text=True, timeout=120)
    assert generated.returncode == 0, generated.stderr
    record(db, 2, "2026-11-02")
    result = diff(db, "--against", str(stubs), "--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert found_changes(report) == PLANTED
    assert report["windows"]["baseline"] == {"first_day": "2026-10-05", "last_day": "2026-10-05"}


def test_against_a_folder_without_stubs_is_a_usage_error(drifted_store, tmp_path):
    result = diff(drifted_store, "--against", str(tmp_path))
    assert result.returncode == 2 and "no freshmock stubs" in result.stderr


# Vacuous comparisons: each is exit 3 with one line naming the cause, never a green.

def test_a_dependency_back_on_another_port_is_not_a_green(tmp_path):
    """The default service name is host:port: the stubs' name and the store's differ."""
    db = tmp_path / "store.db"
    record(db, 1, "2026-10-05", service_name="")
    stubs = tmp_path / "stubs"
    generated = subprocess.run(
        freshmock_command("generate", "--db", str(db), "--out", str(stubs)),
        capture_output=True, text=True, timeout=120)
    assert generated.returncode == 0, generated.stderr
    record(db, 1, "2026-11-02", service_name="")  # a new DriftService: a new port
    result = diff(db, "--against", str(stubs))
    assert result.returncode == 3, result.stdout
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("freshmock diff: nothing comparable: stubs are for 127.0.0.1:")
    assert "; the store holds 127.0.0.1:" in line and "pass --service" in line


def test_a_service_typo_is_not_a_green(drifted_store):
    result = diff(drifted_store, "--service", "orders-ap")
    assert result.returncode in (2, 3), result.stdout  # 2 once --service is checked up front
    assert "orders-ap" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_baseline_dependency_missing_from_the_current_window_fails_the_gate(tmp_path):
    db = tmp_path / "store.db"
    record(db, 1, "2026-10-05", service_name="orders-api")
    record(db, 1, "2026-10-05", service_name="users-api")
    record(db, 1, "2026-11-02", service_name="orders-api")
    result = diff(db, "--fail-on", "any")
    assert result.returncode == 3, result.stdout
    assert ("the baseline window holds users-api; the current window holds orders-api"
            in result.stderr)
    assert "users-api" in result.stdout  # its endpoints listed as not observed


def test_an_empty_current_window_is_not_a_green(tmp_path):
    db = tmp_path / "store.db"
    record(db, 1, "2026-10-05", service_name="orders-api")
    record(db, 1, "2026-11-02", service_name="users-api")
    result = diff(db, "--service", "orders-api")
    assert result.returncode == 3, result.stdout
    assert "the current window holds no observations of orders-api" in result.stderr


@pytest.mark.slow  # issue 14: >20 s on 2 shared cores; `make test-slow` runs it
def test_a_stub_with_no_current_counterpart_is_listed(tmp_path):
    db = tmp_path / "store.db"
    record(db, 1, "2026-10-05")
    stubs = tmp_path / "stubs"
    generated = subprocess.run(
        freshmock_command("generate", "--db", str(db), "--out", str(stubs)),
        capture_output=True, text=True, timeout=120)
    assert generated.returncode == 0, generated.stderr
    record(db, 1, "2026-11-02", calls=[c for c in traffic(1) if c[1] != "/health"])
    result = diff(db, "--against", str(stubs), "--format", "json", "--fail-on", "any")
    report = json.loads(result.stdout)
    health = [i for i in report["coverage"]["items"] if i["path_template"] == "/health"]
    assert health and health[0]["verdict"] in ("compared", "not-observed")
    assert any(c["kind"] == "endpoint-gone" for e in report["endpoints"]
               if e["path_template"] == "/health" for c in e["changes"]) or \
        health[0]["verdict"] == "not-observed"
