"""What the golden files hold and how a run's output is compared with them.

Tests only compare (``assert_same_tree``); rewriting the files is
``tests/update_golden.py`` (``make golden``), a separate command that prints the
diff it accepts. A test that could rewrite its own expected files would pass on
any regression the moment someone ran it with the rewrite switch on.
"""

from __future__ import annotations

import difflib
import subprocess
from pathlib import Path

from freshmock.generators.model.publish import read_model
from freshmock.generators.targets import TARGETS

from conftest import freshmock_command

GOLDEN = Path(__file__).parent / "golden"
STUBS = GOLDEN / "stubs"
DRIFT_FORMATS = {"text": "drift.txt", "json": "drift.json", "markdown": "drift.md"}


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path (compiled Python left out)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def generate_tree(db, target: str, out: Path) -> dict[str, bytes]:
    written = TARGETS[target].writer()(read_model(db), out)
    assert written, f"{target} wrote nothing"
    return tree(out)


def drift_report(db: Path, fmt: str) -> str:
    result = subprocess.run(
        freshmock_command("diff", "--db", str(db), "--format", fmt, "--fail-on", "never"),
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def tree_diff(expected: dict[str, bytes], actual: dict[str, bytes], label: str) -> str:
    """A unified diff from ``expected`` to ``actual``, file by file; "" when equal."""
    lines = []
    for name in sorted(set(expected) | set(actual)):
        before = expected.get(name, b"").decode(errors="replace").splitlines()
        after = actual.get(name, b"").decode(errors="replace").splitlines()
        lines += difflib.unified_diff(
            before, after, lineterm="",
            fromfile=f"{label}/{name}" if name in expected else "/dev/null",
            tofile=f"{label}/{name}" if name in actual else "/dev/null")
    return "\n".join(lines)


def assert_same_tree(expected: dict[str, bytes], actual: dict[str, bytes], label: str) -> None:
    difference = tree_diff(expected, actual, label)
    assert not difference, (
        f"output differs from the golden files (if intended: `make golden`, then review "
        f"and commit the diff):\n{difference[:6000]}")
