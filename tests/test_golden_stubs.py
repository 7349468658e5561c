"""Every target's output for a fixed store, byte for byte; minimal diffs on change.

Golden files live in tests/golden/stubs/<target>/. These tests only compare:
``make golden`` (tests/update_golden.py) rewrites them, printing the diff it
accepts. What the goldens show that users rely on (response headers, request
matchers, freshness stamps) is also asserted directly, in test_golden_behaviour.py.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from freshmock.generators.model.infer import infer_endpoints
from freshmock.generators.model.publish import read_model
from freshmock.generators.targets import TARGETS
from freshmock.proxy.store import insert_observations

from golden_files import STUBS as GOLDEN
from golden_files import assert_same_tree
from golden_files import generate_tree as _generate
from golden_files import tree as _tree
from golden_store import build_golden_store, golden_rows


@pytest.fixture(scope="module")
def golden_db(tmp_path_factory):
    return build_golden_store(tmp_path_factory.mktemp("golden") / "store.db")


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_output_matches_the_golden_files(golden_db, target, tmp_path):
    output = _generate(golden_db, target, tmp_path / target)
    assert_same_tree(_tree(GOLDEN / target), output, f"stubs/{target}")
    for name, data in output.items():
        assert data.endswith(b"\n") and b"\r\n" not in data, name


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_regenerating_from_an_unchanged_store_is_byte_identical(golden_db, target, tmp_path):
    first = _generate(golden_db, target, tmp_path / "first")
    assert _generate(golden_db, target, tmp_path / "first") == first  # over its own output
    assert _generate(golden_db, target, tmp_path / "second") == first


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_one_changed_field_changes_only_the_lines_of_that_field(golden_db, target, tmp_path):
    before = _generate(golden_db, target, tmp_path / "before")
    changed_db = build_golden_store(tmp_path / "changed.db", user_name="Ada King")
    after = _generate(changed_db, target, tmp_path / "after")
    assert sorted(after) == sorted(before)
    changed_lines = []
    for name in before:
        diff = difflib.unified_diff(before[name].decode().splitlines(),
                                    after[name].decode().splitlines(), lineterm="", n=0)
        changed_lines += [line for line in diff
                          if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert all("Ada" in line for line in changed_lines), changed_lines
    if target != "jsonschema":  # schemas hold no values; every other target replays the body
        assert any("Ada King" in line for line in changed_lines)
        assert len(changed_lines) <= 8, changed_lines


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_stubs_of_a_dependency_no_longer_observed_are_removed_foreign_files_kept(target,
                                                                                tmp_path):
    before = build_golden_store(tmp_path / "before.db")
    legacy = [{**row, "service": "legacy-api"} for row in golden_rows()[:2]]
    insert_observations(before, legacy)
    infer_endpoints(before)
    out = tmp_path / "out"
    written = TARGETS[target].writer()(read_model(before), out)
    legacy_files = [w.path for w in written if w.service == "legacy-api"]
    assert legacy_files
    foreign = legacy_files[0].parent / "written-by-hand.txt"
    foreign.write_text("mine\n")
    after = _generate(build_golden_store(tmp_path / "after.db"), target, out)
    assert not any(path.exists() for path in legacy_files)
    assert foreign.exists()
    assert {name: data for name, data in after.items() if "written-by-hand" not in name} == (
        _tree(GOLDEN / target))


def test_update_golden_prints_the_diff_and_writes_only_when_asked(tmp_path):
    """`make golden` is the one way to change the golden files, and it shows what it accepts."""
    golden = tmp_path / "golden"
    shutil.copytree(GOLDEN, golden / "stubs")
    mapping = golden / "stubs" / "wiremock" / "shop-users" / "mappings" / "get-health-200.json"
    # the recorded header as replayed (its recorded case); the metadata's media_type stays,
    # so the diff is exactly one line out and one in
    recorded = '"content-type": "text/plain"'
    assert mapping.read_text().count(recorded) == 1
    mapping.write_text(mapping.read_text().replace(recorded, '"content-type": "text/html"'))
    tampered = mapping.read_text()

    def update(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(Path(__file__).parent / "update_golden.py"),
                               "--only", "stubs", "--golden", str(golden), *args],
                              capture_output=True, text=True, timeout=300)

    check = update("--check")
    assert check.returncode == 1, check.stderr
    changed = [line for line in check.stdout.splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ['-      "content-type": "text/html"',
                       '+      "content-type": "text/plain"'], check.stdout
    assert "get-health-200.json" in check.stdout
    assert mapping.read_text() == tampered  # --check writes nothing
    rewrite = update()
    assert rewrite.returncode == 1 and "review the diff" in rewrite.stderr
    assert _tree(golden / "stubs") == _tree(GOLDEN)
    again = update()
    assert (again.returncode, again.stdout) == (0, ""), again.stderr
