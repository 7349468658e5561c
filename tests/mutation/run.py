"""`make test-mutation`: cosmic-ray over the modules of tests/mutation/modules.toml,
each against its own tests; the score per module goes to docs/mutation.md.

    .venv/bin/python tests/mutation/run.py                    # every module, resuming
    .venv/bin/python tests/mutation/run.py proxy/redaction.py # one module
    .venv/bin/python tests/mutation/run.py --report           # rewrite the doc only
    .venv/bin/python tests/mutation/run.py --fresh ...        # forget earlier results
    .venv/bin/python tests/mutation/run.py --sample 40 ...    # 40 random pending mutants

cosmic-ray mutates the file on disk, one mutant at a time, and runs the module's
tests (`nice -n 10`: the machine is shared). It does so in a copy of the checkout
(.mutation/tree, imported first through PYTHONPATH, worker processes included), so
the checkout itself is never mutated and other test runs in it are not disturbed.
Sessions live in .mutation/ and resume where they stopped, so a long run can be
interrupted and continued; a module whose source changed since starts again.
A survivor is either killed by a new test or explained in
tests/mutation/equivalent.toml ("path:line:operator" = why it cannot be killed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from collections import Counter
from contextlib import closing
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SESSIONS = REPO / ".mutation"
TREE = SESSIONS / "tree"  # --tree: another copy, for a second run alongside
DOC = REPO / "docs" / "mutation.md"
BIN = Path(sys.executable).parent
START, END = "<!-- mutation scores: tests/mutation/run.py -->", "<!-- end mutation scores -->"


def load() -> tuple[list[dict], list[str], dict[str, str]]:
    config = tomllib.loads((HERE / "modules.toml").read_text())
    equivalent = tomllib.loads((HERE / "equivalent.toml").read_text())
    return config["module"], config["operators"]["exclude"], equivalent


def slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.removesuffix(".py"))


# A mutant's verdict is pass or fail, so its pytest skips what only explains a failure
# or serves other suites: assertion rewriting (--assert=plain) and the plugins the unit
# tests do not use (respx, pact, xdist, anyio, autoloaded by default). With the lazy
# tests/conftest.py this is 1.5 s a run instead of 6.6 s (70 drift tests, 0.8 s of it
# the tests themselves); the plugins kept are the ones pyproject's options name.
PYTEST_PLUGINS = ("pytest_asyncio.plugin", "_hypothesis_pytestplugin", "pytest_timeout")
# A mutant that loops forever (a `while` whose exit was mutated) fails at this bound per
# test, not at the suite's 180 s: each module's tests take 1-4 s in all, unmutated.
TEST_TIMEOUT = 20


def write_config(module: dict, exclude: list[str]) -> Path:
    plugins = [argument for name in PYTEST_PLUGINS for argument in ("-p", name)]
    test_command = shlex.join(["env", "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1", "nice", "-n", "10",
                               str(BIN / "pytest"), "-x", "-q", "--assert=plain",
                               f"--timeout={TEST_TIMEOUT}",
                               "-p", "no:cacheprovider", *plugins, *module["tests"]])
    config = SESSIONS / f"{slug(module['path'])}.toml"
    config.write_text("\n".join([
        "[cosmic-ray]",
        f"module-path = {json.dumps(module['path'])}",
        "timeout = 120.0",
        "excluded-modules = []",
        f"test-command = {json.dumps(test_command)}",
        "[cosmic-ray.distributor]",
        'name = "local"',
        "[cosmic-ray.filters.operators-filter]",
        f"exclude-operators = {json.dumps(exclude)}",
        "",
    ]))
    return config


def prepare_tree() -> None:
    """A copy of the checkout's files as they are now (tracked and new, not ignored),
    importable as freshmock.* ahead of the editable install."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                            check=True, capture_output=True, text=True).stdout
    shutil.rmtree(TREE, ignore_errors=True)
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (TREE / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, TREE / name)
    (TREE / ".import" / "freshmock").mkdir(parents=True)
    for stage in ("proxy", "generators"):
        (TREE / ".import" / "freshmock" / stage).symlink_to(TREE / stage)
    if (REPO / ".peers").exists():
        (TREE / ".peers").symlink_to(REPO / ".peers")


def forget_survivors(session: Path) -> set[str]:
    """Make surviving mutants pending again: run them against the tests as they are now.

    cosmic-ray stores its outcomes by enum name (SURVIVED, not the value "survived")."""
    with closing(sqlite3.connect(session)) as connection, connection:
        jobs = {job for (job,) in connection.execute(
            "select job_id from work_results where test_outcome = 'SURVIVED'")}
        connection.execute("delete from work_results where test_outcome = 'SURVIVED'")
    return jobs


SET_ASIDE = "set aside by tests/mutation/run.py --sample"


def set_aside_all_but(session: Path, size: int, seed: int, only: set[str] | None = None) -> None:
    """Leave ``size`` pending mutants, drawn at random, for ``cosmic-ray exec``: the others
    get a placeholder result that ``put_back`` removes, so they stay pending (reported as
    not run, never as killed). A sample is a random draw over the module, not its first lines.
    """
    with closing(sqlite3.connect(session)) as connection, connection:
        pending_jobs = sorted(job for (job,) in connection.execute(
            "select job_id from work_items where job_id not in (select job_id from work_results)"))
        if only is not None:  # --recheck: the survivors just made pending, nothing else
            chosen = only
        else:
            chosen = set(random.Random(seed).sample(pending_jobs, min(size, len(pending_jobs))))
        connection.executemany(
            "insert into work_results (worker_outcome, output, test_outcome, diff, job_id) "
            "values ('SKIPPED', ?, NULL, NULL, ?)",
            [(SET_ASIDE, job) for job in pending_jobs if job not in chosen])


def put_back(session: Path) -> None:
    with closing(sqlite3.connect(session)) as connection, connection:
        connection.execute("delete from work_results where output = ?", (SET_ASIDE,))


def run_module(module: dict, exclude: list[str], fresh: bool, recheck: bool = False,
               sample: int | None = None, seed: int = 14) -> None:
    SESSIONS.mkdir(exist_ok=True)
    config = write_config(module, exclude)
    session = SESSIONS / f"{slug(module['path'])}.sqlite"
    digest = hashlib.sha256((TREE / module["path"]).read_bytes()).hexdigest()
    stamp = session.with_suffix(".sha256")
    if fresh or not stamp.exists() or stamp.read_text() != digest:
        session.unlink(missing_ok=True)
    created = not session.exists()
    if created:
        subprocess.run([BIN / "cosmic-ray", "init", config, session], cwd=TREE, check=True)
        subprocess.run([BIN / "cr-filter-operators", session, config], cwd=TREE, check=True)
        stamp.write_text(digest)
    put_back(session)  # a sampled run that was interrupted
    if recheck and not created:
        set_aside_all_but(session, 0, seed, only=forget_survivors(session))
    elif sample is not None:
        set_aside_all_but(session, sample, seed)
    path = TREE / module["path"]
    original = path.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(TREE / ".import")}
    try:
        print(f"mutating {module['path']} ({pending(session)} mutants to run)", flush=True)
        subprocess.run([BIN / "cosmic-ray", "exec", config, session], cwd=TREE, env=env,
                       check=True)
    finally:
        path.write_bytes(original)
        put_back(session)


def results(session: Path) -> list[tuple[dict, dict | None]]:
    dump = subprocess.run([BIN / "cosmic-ray", "dump", session], cwd=REPO, check=True,
                          capture_output=True, text=True).stdout
    return [tuple(json.loads(line)) for line in dump.splitlines() if line.strip()]


def pending(session: Path) -> int:
    return sum(1 for _, result in results(session) if result is None)


def outcome(result: dict | None) -> str:
    """killed / survived / pending / skipped (an excluded operator) / incompetent."""
    if result is None:
        return "pending"
    if result["worker_outcome"] == "skipped" and result.get("output") == SET_ASIDE:
        return "pending"
    if result["worker_outcome"] == "skipped":
        return "skipped"
    if result["worker_outcome"] != "normal":
        return "incompetent"  # the mutant could not even be imported: counts as killed
    return "killed" if result["test_outcome"] == "killed" else "survived"


def mutant_key(job: dict) -> str:
    """``path:line:operator``, as tests/mutation/equivalent.toml names a mutant."""
    mutation = job["mutations"][0]
    return (f"{mutation['module_path']}:{mutation['start_pos'][0]}:"
            f"{mutation['operator_name'].removeprefix('core/')}")


def report(modules: list[dict], equivalent: dict[str, str]) -> str:
    rows, survivors, known, run_paths = [], [], set(), set()
    for module in modules:
        session = SESSIONS / f"{slug(module['path'])}.sqlite"
        if not session.exists():
            rows.append(f"| `{module['path']}` | not run | | | | |")
            continue
        run_paths.add(module["path"])
        counts, explained = Counter(), 0
        for job, result in results(session):
            kind = outcome(result)
            counts[kind] += 1
            key = mutant_key(job)
            known.add(key)
            if kind == "survived":
                mutation = job["mutations"][0]
                why = equivalent.get(key)
                explained += why is not None
                survivors.append(f"- `{key}` (occurrence {mutation['occurrence']}): "
                                 + (f"equivalent: {why}" if why else "**not killed yet**"))
        run = counts["killed"] + counts["incompetent"] + counts["survived"]
        killed = counts["killed"] + counts["incompetent"]
        score = f"{100 * killed / run:.1f}%" if run else "n/a"
        adjusted = f"{100 * (killed + explained) / run:.1f}%" if run else "n/a"
        rows.append(f"| `{module['path']}` | {run} of {run + counts['pending']} | {killed} | "
                    f"{counts['survived']} ({explained} equivalent) | {score} | {adjusted} |")
    table = ["| module | mutants run | killed | survived | score | counting equivalents |",
             "| --- | --- | --- | --- | --- | --- |", *rows]
    # an argued key whose line holds no such mutant: the code moved, the key did not
    stale = sorted(key for key in equivalent if key.split(":")[0] in run_paths
                   and key not in known)
    lines = [START, *table, "", "Survivors:", "", *(survivors or ["- none"])]
    if stale:
        lines += ["", "Argued keys that match no mutant (a line moved: move the key):", "",
                  *(f"- `{key}`" for key in stale)]
    return "\n".join([*lines, END])


def write_doc(text: str) -> None:
    current = DOC.read_text()
    before, rest = current.split(START, 1)
    DOC.write_text(before + text + rest.split(END, 1)[1])


def main(argv: list[str] | None = None) -> int:
    global TREE
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help="paths from modules.toml (default: all)")
    parser.add_argument("--report", action="store_true", help="only rewrite docs/mutation.md")
    parser.add_argument("--fresh", action="store_true", help="start the sessions again")
    parser.add_argument("--recheck", action="store_true",
                        help="run only the survivors again (after adding tests that kill them)")
    parser.add_argument("--tree", type=Path, default=TREE,
                        help="where the mutated copy lives (default .mutation/tree)")
    parser.add_argument("--sample", type=int, metavar="N",
                        help="run N pending mutants of each module, drawn at random (the "
                             "rest stay pending: the doc says how many of how many ran)")
    parser.add_argument("--seed", type=int, default=14, help="seed of --sample's draw")
    args = parser.parse_args(argv)
    TREE = args.tree.resolve()
    modules, exclude, equivalent = load()
    known = {module["path"]: module for module in modules}
    unknown = [path for path in args.modules if path not in known]
    if unknown:
        sys.exit(f"not in tests/mutation/modules.toml: {', '.join(unknown)}")
    if not args.report:
        prepare_tree()
        for path in args.modules or list(known):
            run_module(known[path], exclude, args.fresh, args.recheck, args.sample, args.seed)
    text = report(modules, equivalent)
    write_doc(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
