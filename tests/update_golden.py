"""Rewrite the golden files from the current output, printing the diff it accepts.

    .venv/bin/python tests/update_golden.py            # what `make golden` runs
    .venv/bin/python tests/update_golden.py --check    # print the diff, write nothing

The golden tests only compare; this is the one way to change what they expect, so
a regression is never accepted by running a test. Review the printed diff (and
`git diff tests/golden`) before committing: every changed line must be intended.
Exit code: 0 nothing changed, 1 the golden files differ (rewritten unless --check).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the tests' helper modules

from freshmock.generators.targets import TARGETS  # noqa: E402

from golden_files import (  # noqa: E402
    DRIFT_FORMATS,
    GOLDEN,
    STUBS,
    drift_report,
    generate_tree,
    tree,
    tree_diff,
)
from golden_store import build_golden_store  # noqa: E402


def stub_outputs(work: Path) -> dict[str, dict[str, bytes]]:
    db = build_golden_store(work / "golden.db")
    return {target: generate_tree(db, target, work / target) for target in sorted(TARGETS)}


def drift_outputs(work: Path) -> dict[str, bytes]:
    from drift_service import record  # records through the real proxy: needs 127.0.0.1

    db = work / "drift.db"
    record(db, 1, "2026-10-05")
    record(db, 2, "2026-11-02")
    return {name: drift_report(db, fmt).encode() for fmt, name in DRIFT_FORMATS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="print the diff, write nothing")
    parser.add_argument("--only", choices=["stubs", "drift"], help="one kind of golden file")
    parser.add_argument("--golden", type=Path, default=GOLDEN,
                        help="the golden folder (default: tests/golden)")
    args = parser.parse_args(argv)
    stubs_root = args.golden / STUBS.relative_to(GOLDEN)
    changed = False
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if args.only in (None, "stubs"):
            for target, output in stub_outputs(work).items():
                golden = stubs_root / target
                difference = tree_diff(tree(golden) if golden.is_dir() else {}, output,
                                       f"stubs/{target}")
                if difference:
                    changed = True
                    print(difference)
                    if not args.check:
                        shutil.rmtree(golden, ignore_errors=True)
                        shutil.copytree(work / target, golden,
                                        ignore=shutil.ignore_patterns("__pycache__"))
        if args.only in (None, "drift"):
            reports = drift_outputs(work)
            current = {name: (args.golden / name).read_bytes()
                       for name in reports if (args.golden / name).exists()}
            difference = tree_diff(current, reports, "golden")
            if difference:
                changed = True
                print(difference)
                if not args.check:
                    for name, data in reports.items():
                        (args.golden / name).write_bytes(data)
    verb = "differ" if args.check else "were rewritten: review the diff above before committing"
    print(f"golden files {verb}" if changed else "golden files unchanged", file=sys.stderr)
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
