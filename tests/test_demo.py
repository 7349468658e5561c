"""`freshmock demo`: the whole loop on the embedded default, as `make demo` runs it."""

from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest

from conftest import freshmock_command


def test_demo_records_infers_and_writes_wiremock_stubs(tmp_path):
    db = tmp_path / "recordings" / "freshmock.db"
    db.parent.mkdir()
    out = tmp_path / "stubs"
    result = subprocess.run(
        freshmock_command("demo", "--db", str(db), "--out", str(out)),
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert "36 of 36 requests recorded" in result.stdout
    assert "8 endpoints inferred" in result.stdout
    assert str(out / "demo-shop" / "mappings") in result.stdout

    connection = sqlite3.connect(db)
    assert connection.execute("select count(*) from observations").fetchone() == (36,)
    assert connection.execute("select count(*) from endpoints").fetchone() == (8,)
    assert connection.execute("pragma integrity_check").fetchone() == ("ok",)
    mappings = sorted((out / "demo-shop" / "mappings").glob("*.json"))
    # every endpoint has its mappings; the distinct requests with answers of their own, too
    assert {json.loads(m.read_text())["metadata"]["freshmock"]["endpoint"] for m in mappings} \
        == {"GET /health", "GET /users", "GET /users/{user_id}", "GET /users/{user_id}/orders",
            "GET /orders/{order_id}", "POST /users"}
    assert len(mappings) == 34
    assert all(json.loads(m.read_text())["metadata"]["freshmock"]["service"] == "demo-shop"
               for m in mappings)


@pytest.mark.slow  # issue 14: >20 s on 2 shared cores; `make test-slow` runs it
def test_running_the_demo_again_adds_observations_to_the_same_store(tmp_path):
    db, out = tmp_path / "s.db", tmp_path / "stubs"
    for _ in range(2):
        result = subprocess.run(
            freshmock_command("demo", "--db", str(db), "--out", str(out)),
            capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stderr
    assert "72 observations" in result.stdout
    assert len(list((out / "demo-shop" / "mappings").glob("*.json"))) >= 34
