"""Run ``freshmock`` commands in-process and report what a user would see.

Used by test_cli_catalogue.py directly, and as a script inside a mount
namespace where the workspace is a read-only mount (``unshare -rm``): there
it reads a JSON list of argv lists on stdin and prints one JSON result each.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from typer.testing import CliRunner

from freshmock.generators.cli import app

SIDE_FILES = ("-wal", "-shm", "-journal")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file's bytes under ``root``: what a failing command must leave as it was.

    SQLite's -wal/-shm side files are left out: a reader of a WAL store may
    create them (SQLite's own doing, the store's content unchanged).
    """
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(SIDE_FILES)}


def run(argv: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Exit code, stdout, stderr and any exception that escaped the CLI."""
    runner = CliRunner()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = runner.invoke(app, argv, env=env, catch_exceptions=True, prog_name="freshmock")
    finally:
        os.chdir(previous)
    escaped = result.exception
    if isinstance(escaped, SystemExit):
        escaped = None
    return {"argv": argv, "code": result.exit_code, "stdout": result.stdout,
            "stderr": result.stderr,
            "exception": None if escaped is None else f"{type(escaped).__name__}: {escaped}"}


if __name__ == "__main__":
    cases = json.load(sys.stdin)
    print(json.dumps([run(argv, Path(cwd)) for argv, cwd in cases]))
