"""Every target's output for a fixed store, byte for byte; minimal diffs on change.

Golden files live in tests/golden/stubs/<target>/. ``make golden`` rewrites
them (and the drift reports) from the current output.
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest

from freshmock.generators.infer import infer_endpoints
from freshmock.generators.targets import TARGETS
from freshmock.proxy.store import insert_observations

from golden_store import build_golden_store, golden_rows

GOLDEN = Path(__file__).parent / "golden" / "stubs"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def _generate(db, target: str, out: Path) -> dict[str, bytes]:
    written = TARGETS[target].writer()(db, out)
    assert written, f"{target} wrote nothing"
    return _tree(out)


@pytest.fixture(scope="module")
def golden_db(tmp_path_factory):
    return build_golden_store(tmp_path_factory.mktemp("golden") / "store.db")


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_output_matches_the_golden_files(golden_db, target, tmp_path):
    output = _generate(golden_db, target, tmp_path / target)
    golden = GOLDEN / target
    if os.environ.get("FRESHMOCK_UPDATE_GOLDEN"):
        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(tmp_path / target, golden,
                        ignore=shutil.ignore_patterns("__pycache__"))
    assert output == _tree(golden)
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
    written = TARGETS[target].writer()(before, out)
    legacy_files = [w.path for w in written if w.service == "legacy-api"]
    assert legacy_files
    foreign = legacy_files[0].parent / "written-by-hand.txt"
    foreign.write_text("mine\n")
    after = _generate(build_golden_store(tmp_path / "after.db"), target, out)
    assert not any(path.exists() for path in legacy_files)
    assert foreign.exists()
    assert {name: data for name, data in after.items() if "written-by-hand" not in name} == (
        _tree(GOLDEN / target))
