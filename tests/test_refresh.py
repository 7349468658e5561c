"""The nightly refresh: committed stubs, new traffic with one planted drift, one commit."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from freshmock.proxy.store import insert_observations, open_store

from conftest import freshmock_command
from golden_store import _row, build_golden_store

TARGETS = "wiremock,openapi,jsonschema"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


def _refresh(db: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(freshmock_command("refresh", "--db", str(db), "--out", str(out),
                                            "--targets", TARGETS, *extra),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def repo_with_stubs(tmp_path):
    """A consumer's repository whose stubs were generated from yesterday's traffic."""
    repo = tmp_path / "consumer"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "ci@example.com")
    _git(repo, "config", "user.name", "CI")
    (repo / "README.md").write_text("a consumer\n")
    db_path = tmp_path / "store.db"
    db = build_golden_store(db_path)
    insert_observations(db, [_order(n, total=n + 0.5, day=20) for n in range(40)])
    db.close()
    first = _refresh(db_path, repo / "stubs")
    assert first.returncode == 0, first.stderr
    assert "no committed stubs with statistics" in first.stdout
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "stubs")
    return repo, db_path


def _order(n: int, total, day: int) -> dict:
    return _row(10 + n, "GET", f"/orders/{6000 + n}", 200, {
        "id": 6000 + n, "user_id": 1, "total": total, "currency": "EUR",
        "lines": [{"sku": "BOOK-1", "quantity": 1, "price": 39.75}],
        "shipping": {"city": "Leeds", "postcode": "LS1 4AP"}}, day=day)


def _plant_drift(db_path: Path) -> None:
    """Today the order total arrives as a string: a breaking change."""
    db = open_store(db_path)
    insert_observations(db, [_order(n, total=f"{n}.50", day=21) for n in range(40)])
    db.close()


def test_refresh_commits_only_the_stubs_the_drift_touched(repo_with_stubs, tmp_path):
    repo, db_path = repo_with_stubs
    _plant_drift(db_path)
    body_path = tmp_path / "pr-body.md"
    result = _refresh(db_path, repo / "stubs", "--commit", "--pr-body", str(body_path))
    assert result.returncode == 0, result.stderr
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "freshmock/refresh"
    assert _git(repo, "rev-list", "--count", "main..HEAD") == "1"
    touched = _git(repo, "diff", "--name-only", "main", "HEAD").splitlines()
    # the drifted endpoint's stubs only: its default and, for the 40 new orders, one
    # exact mapping each (each order answered with its own body)
    assert [t for t in touched if "/mappings/" not in t] == [
        "stubs/jsonschema/shop-users/get-orders-order_id-200.schema.json",
        "stubs/openapi/shop-users.openapi.json",
    ]
    mappings = [t for t in touched if "/mappings/" in t]
    assert "stubs/wiremock/shop-users/mappings/get-orders-order_id-200.json" in mappings
    assert all(t.startswith("stubs/wiremock/shop-users/mappings/get-orders-order_id-200")
               for t in mappings), mappings
    body = body_path.read_text()
    assert body.index("Dependency drift") < body.index("## Regenerated") < body.index(
        "## Freshness")
    drift_rows = [line for line in body.splitlines() if "`/total`" in line]
    assert len(drift_rows) == 1 and "GET /orders/{order_id}" in drift_rows[0]
    assert "**Drift:** 1 breaking, 0 risky, 0 additive." in body
    assert "(1 breaking changes)" in _git(repo, "log", "-1", "--format=%s")
    mapping = json.loads((repo / "stubs/wiremock/shop-users/mappings/"
                          "get-orders-order_id-200.json").read_text())
    assert mapping["metadata"]["freshmock"]["observations"] == 81
    assert _git(repo, "status", "--porcelain") == ""


def test_the_pr_body_names_a_removal_that_diff_names(repo_with_stubs, tmp_path):
    repo, db_path = repo_with_stubs
    db = open_store(db_path)
    rows = [_order(n, total=n, day=21) for n in range(100, 140)]
    for row in rows:
        body = json.loads(row["response_body"])
        del body["shipping"]
        row["response_body"] = json.dumps(body).encode()
    insert_observations(db, rows)
    db.close()
    stubs = str(repo / "stubs" / "wiremock")
    diffed = subprocess.run(freshmock_command("diff", "--db", str(db_path), "--against", stubs,
                                              "--since", "1d", "--format", "json"),
                            capture_output=True, text=True, timeout=120)
    removed = {(c["kind"], c["path"]) for e in json.loads(diffed.stdout)["endpoints"]
               for c in e["changes"] if c["kind"] == "property-removed"}
    assert removed == {("property-removed", "/shipping")}, diffed.stdout
    body_path = tmp_path / "pr-body.md"
    result = _refresh(db_path, repo / "stubs", "--pr-body", str(body_path))
    assert result.returncode == 0, result.stderr
    body = body_path.read_text()
    assert "**Removed:**" in body
    assert ("- breaking property-removed: shop-users `GET /orders/{order_id}` → 200 "
            "`/shipping`") in body


def test_nothing_new_means_no_changes_and_no_commit(repo_with_stubs):
    repo, db_path = repo_with_stubs
    head = _git(repo, "rev-parse", "HEAD")
    result = _refresh(db_path, repo / "stubs", "--commit")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("no changes")
    assert _git(repo, "rev-parse", "HEAD") == head
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"


def test_an_unknown_target_is_a_usage_error(repo_with_stubs):
    repo, db_path = repo_with_stubs
    result = subprocess.run(freshmock_command("refresh", "--db", str(db_path), "--out",
                                              str(repo / "stubs"), "--targets", "wiremock,soap"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "soap" in result.stderr and "Traceback" not in result.stderr
