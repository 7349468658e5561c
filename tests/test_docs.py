"""The documentation and the CLI agree.

1. Every command and every option ``--help`` shows appears in README.md or
   docs/ (discovered from the typer app, so a command added later is held to it).
2. Every ``freshmock`` line in a shell block of README.md and docs/*.md runs,
   in order, in a temporary folder holding a recording of the demo dependency
   under the README's service name; a line that cannot run there carries the
   documented marker ``# not run: REASON`` (docs/cli.md).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import typer.main
from cli_cases import run

from freshmock.generators.cli import app
from freshmock.generators.workflows.demo.run import drive
from freshmock.generators.workflows.demo.service import DemoService, demo_requests
from freshmock.proxy.sidecar import SidecarConfig, SidecarThread

from conftest import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_BLOCKS = {"", "sh", "bash", "console", "shell"}
NOT_RUN = "# not run:"
TOKEN = "docs-test-token-0123456789abcdef"


def _all_docs() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in DOCS)


def _commands():
    group = typer.main.get_command(app)
    return sorted((name, command) for name, command in group.commands.items()
                  if not command.hidden)


def test_every_command_and_option_in_help_is_documented():
    text = _all_docs()
    missing = []
    checked = 0
    for name, command in _commands():
        checked += 1
        if f"freshmock {name}" not in text:
            missing.append(f"command `freshmock {name}`")
        for param in command.params:
            if getattr(param, "hidden", False) or param.param_type_name == "argument":
                continue
            for opt in [*param.opts, *getattr(param, "secondary_opts", [])]:
                if opt in ("-h", "--help"):
                    continue
                checked += 1
                if not re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", text):
                    missing.append(f"{name} {opt}")
    assert checked > 50, "too few commands and options found to mean anything"
    assert not missing, "in --help but in no doc: " + ", ".join(missing)


def documented_lines() -> list[tuple[str, int, str]]:
    """(file, line number, command) for each ``freshmock`` line of a shell block."""
    found = []
    for path in DOCS:
        language = None
        pending: tuple[int, str] | None = None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            fence = re.match(r"^\s*```(\S*)", line)
            if fence:
                language = None if language is not None else fence[1]
                continue
            if language not in SHELL_BLOCKS:
                continue
            if pending is not None:
                pending = (pending[0], pending[1][:-1] + " " + line.strip())
            elif re.match(r"^\s*freshmock ", line):
                pending = (number, line.strip())
            if pending is not None and not pending[1].endswith("\\"):
                found.append((path.name, *pending))
                pending = None
    return found


def test_the_docs_have_command_lines():
    lines = documented_lines()
    runnable = [line for line in lines if NOT_RUN not in line[2]]
    assert len(lines) >= 20 and len(runnable) >= 15, lines


@pytest.fixture(scope="module")
def recorded_folder(tmp_path_factory) -> Path:
    """A folder like a user's: a git repository holding a recording of the demo dependency."""
    folder = tmp_path_factory.mktemp("docs-run")
    store = folder / "recordings" / "freshmock.db"
    store.parent.mkdir()
    with DemoService() as service:
        config = SidecarConfig(str(store), upstream=service.url, listen_port=0,
                               service="users-api")
        with SidecarThread(config) as sidecar:
            drive(sidecar.port, demo_requests())
    for copy in ("staging.db", "store.db", "staging-copy.db", "recordings/local.db"):
        shutil.copy(store, folder / copy)
    (folder / "token").write_text(TOKEN + "\n")
    (folder / "token").chmod(0o600)
    git = ["git", "-c", "user.name=docs", "-c", "user.email=docs@localhost"]
    subprocess.run([*git, "init", "-q"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "start"], cwd=folder,
                   check=True)
    return folder


def test_every_documented_command_line_runs(recorded_folder):
    ran = []
    for source, number, line in documented_lines():
        if NOT_RUN in line:
            continue
        argv = shlex.split(line, comments=True)
        assert argv[0] == "freshmock", line
        if "&" in argv or "|" in argv:
            pytest.fail(f"{source}:{number}: a shell construct; mark it `{NOT_RUN}`: {line}")
        result = run(argv[1:], recorded_folder,
                     env={"FRESHMOCK_DB": None, "FRESHMOCK_CONFIG": None,
                          "FRESHMOCK_TOKEN_FILE": None})
        where = f"{source}:{number}: {line}\n{result}"
        assert result["exception"] is None, where
        assert result["code"] == 0, where
        ran.append(line)
    print(f"{len(ran)} documented command lines ran, exit 0")
