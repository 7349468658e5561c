"""`freshmock check DIR --max-age`: the gate a consumer's CI runs before trusting mocks."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

from conftest import freshmock_command


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
    assert "8 of 8 stubs observed within 1h" in checked.stdout


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
