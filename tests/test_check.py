"""`freshmock check DIR --max-age`: the gate a consumer's CI runs before trusting mocks."""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from freshmock.generators.model.tables import list_endpoints
from freshmock.generators.targets import TARGETS
from freshmock.generators.workflows.check import parse_timestamp, stub_ages

from conftest import freshmock_command
from golden_store import build_golden_store


def run_check(folder, *args):
    return subprocess.run(freshmock_command("check", str(folder), *args),
                          capture_output=True, text=True, timeout=60)


def test_fresh_stubs_pass(tmp_path):
    out = tmp_path / "stubs"
    result = subprocess.run(freshmock_command("demo", "--db", str(tmp_path / "s.db"),
                                              "--out", str(out)),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    checked = run_check(out, "--max-age", "1h")
    assert checked.returncode == 0, checked.stdout
    assert "34 of 34 stubs observed within 1h" in checked.stdout  # one per distinct demo request


def test_each_stale_stub_is_named_with_its_age(tmp_path):
    out = tmp_path / "stubs"
    subprocess.run(freshmock_command("demo", "--db", str(tmp_path / "s.db"), "--out", str(out)),
                   capture_output=True, text=True, timeout=120, check=True)
    mapping = out / "demo-shop" / "mappings" / "get-health-200.json"
    document = json.loads(mapping.read_text())
    old = (datetime.now(UTC) - timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    document["metadata"]["freshmock"]["last_observed"] = old
    mapping.write_text(json.dumps(document))

    checked = run_check(out, "--max-age", "7d")
    assert checked.returncode == 1
    stale = [line for line in checked.stdout.splitlines() if line.startswith("stale:")]
    assert len(stale) == 1
    assert "get-health-200.json" in stale[0] and "GET /health" in stale[0]
    assert "9.0 days ago" in stale[0]
    assert run_check(out, "--max-age", "2w").returncode == 0


def test_usage_errors_exit_2(tmp_path):
    assert run_check(tmp_path, "--max-age", "7d").returncode == 2  # no stubs there
    assert run_check(tmp_path / "missing").returncode == 2
    (tmp_path / "x.json").write_text("{}")
    assert run_check(tmp_path, "--max-age", "soon").returncode == 2


def _route(endpoint: str) -> str:
    """"svc GET /users/{user_id} 404" -> "svc GET /users/{user_id}" (OpenAPI has no status)."""
    head, _, last = endpoint.rpartition(" ")
    return head if last.isdigit() else endpoint


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_target_states_its_freshness_and_check_reads_it(target, tmp_path):
    db = build_golden_store(tmp_path / "store.db")
    out = tmp_path / target
    TARGETS[target].writer()(db, out)
    # The golden store was last observed on 2026-11-20: days ago, but not years.
    stale = run_check(out, "--max-age", "1d")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert any("GET /orders/{order_id}" in line for line in stale.stdout.splitlines())
    fresh = run_check(out, "--max-age", "3650d")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr

    observed: dict[str, set] = defaultdict(set)
    for e in list_endpoints(db):
        if target == "jsonschema" and not e["response_schema"]:
            continue  # a text/plain health check has no schema file
        observed[f"{e['service']} {e['method']} {e['path_template']}"].add(
            parse_timestamp(e["last_seen"]))
    ages = stub_ages(out, datetime(2026, 11, 21, tzinfo=UTC))
    assert {_route(a.endpoint) for a in ages} == set(observed)
    for age in ages:
        stamps = observed[_route(age.endpoint)]
        # an OpenAPI operation states the latest of its statuses
        assert age.last_observed in stamps if target != "openapi" else (
            age.last_observed == max(stamps))
