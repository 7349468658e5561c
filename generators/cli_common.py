"""What every ``freshmock`` command shares: the typer app, common options, one-line errors.

A user mistake (missing store, port in use, unreachable upstream) is one
line on stderr and exit code 1; typer's own usage errors exit 2.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from freshmock.generators.targets import TARGETS
from freshmock.proxy.store import (
    DEFAULT_DB,
    StoreError,
    open_store,
)

app = typer.Typer(
    help="Record a dependency's real traffic, infer its schemas, regenerate your mocks from it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold recorded traffic
)

DbOption = Annotated[
    Path,
    typer.Option(
        "--db",
        envvar="FRESHMOCK_DB",
        help="SQLite store of recorded traffic.",
        show_default=True,
    ),
]


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar="FRESHMOCK_CONFIG",
        help="freshmock.toml: [redaction] rules for record; [paths] rules for infer and "
        "diff, kept with the store for every later command.",
    ),
]

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# typer lists the choices in --help from this enum
Target = Enum("Target", {name: name for name in TARGETS}, type=str)



def fail(message: str, code: int = 1) -> None:
    typer.echo(f"freshmock: error: {message}", err=True)
    raise typer.Exit(code)


def _open(db: Path):
    try:
        return open_store(db)
    except StoreError as error:
        fail(str(error))


def _path_rules(config: Path | None):
    """The ``[paths]`` rules of ``--config``; None without one: every command then
    templates with the rules the store keeps (the last ones given)."""
    from freshmock.generators.paths import PathRulesError, load_path_rules

    if config is None:
        return None
    try:
        return load_path_rules(config)
    except PathRulesError as error:
        fail(str(error))


def _ensure_parent(db: Path) -> None:
    if db == DEFAULT_DB:
        db.parent.mkdir(parents=True, exist_ok=True)
