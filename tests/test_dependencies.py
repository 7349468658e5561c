"""Every third-party import is declared, and every declared package is used.

mitmproxy 12.3 stopped bringing zstandard, and a fresh install broke on an
import nobody had declared; deptry reads the imports and pyproject.toml, so a
package that only arrives as somebody else's dependency fails here first.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")
ROOT = Path(__file__).resolve().parent.parent

# Modules a test writes at run time (the generated pytest fixtures), not packages.
GENERATED_MODULES = "demo_shop_stubs"


def deptry(*args: str, cwd: Path = ROOT) -> str | None:
    """deptry's findings, or None when it found nothing."""
    executable = shutil.which("deptry", path=str(Path(sys.executable).parent))
    assert executable, "deptry is part of the test extra: run make install"
    result = subprocess.run(
        [executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        check=False,
    )
    # deptry colours its findings whatever the terminal; keep the words
    return None if result.returncode == 0 else ANSI.sub("", result.stdout + result.stderr)


def test_installed_code_declares_what_it_imports() -> None:
    # proxy/ and generators/: undeclared (DEP001), transitive-only (DEP003),
    # unused (DEP002) and test-extra-only (DEP004) packages all fail.
    assert deptry(".") is None


def test_tests_and_benchmarks_declare_what_they_import() -> None:
    # Any declared package may serve a test, and most runtime packages are not
    # imported by tests, so only undeclared and transitive imports count here.
    findings = deptry(
        "tests", "tests/consumer", "bench", "--exclude", "a^",
        "--ignore", "DEP002,DEP004", "--per-rule-ignores", f"DEP001={GENERATED_MODULES}",
    )
    assert findings is None


def test_a_planted_undeclared_import_fails(tmp_path: Path) -> None:
    # A copy of the project, so a planted file can never be left in the tree.
    for folder in ("proxy", "generators"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    assert deptry(".", cwd=tmp_path) is None
    (tmp_path / "generators" / "planted.py").write_text(
        "import idna  # only ever installed as a dependency of a dependency\n"
        "import respx  # declared for the tests only\n"
    )
    findings = deptry(".", cwd=tmp_path)
    assert findings is not None
    assert "generators/planted.py:1:8: DEP003 'idna'" in findings
    assert "generators/planted.py:2:8: DEP004 'respx'" in findings


def test_a_missing_package_is_one_line_naming_it():
    # The worker's decoders need zstd; hide the module and run a command.
    hide = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'backports.zstd' or name == 'compression.zstd':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "sys.argv = ['freshmock', 'stats', '--help']\n"
        "from freshmock.generators.cli import main\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "zstd" in lines[0] and "pip install" in lines[0]
