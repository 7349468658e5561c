"""What every ``freshmock`` command shares: the typer app, common options, one-line errors.

Exit codes, the same for every command: ``ExitCode`` in ``proxy/errors.py``
holds the table (docs/cli.md repeats it).

Library code raises ``FreshmockError`` (or a subclass) with a one-line
message and its exit code; the command group below catches it once and
words it once, as ``freshmock: error: MESSAGE`` on stderr. It also words,
once each, click's usage errors (2), Ctrl-C (130), a store damaged mid-run
(2) and a closed stdout (0); ``cli/__init__.py``'s ``main`` words a missing
Python package (2). Commands raise; they word no error themselves.
"""

from __future__ import annotations

import difflib
import re
import sqlite3
import sys
from contextlib import contextmanager
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated

import click
import typer
from typer._click.exceptions import UsageError
from typer.core import TyperArgument, TyperCommand, TyperGroup

from freshmock.generators.targets import TARGETS
from freshmock.proxy.errors import ExitCode, FreshmockError, NothingToDo
from freshmock.proxy.store import (
    DEFAULT_DB,
    StoreError,
    open_store,
)


class ReportFormat(str, Enum):
    """How diff and verify word their report."""

    text = "text"
    json = "json"
    markdown = "markdown"


def _say_error(message: str) -> None:
    # one line, whatever the library put in it
    typer.echo(f"freshmock: error: {' '.join(message.split())}", err=True)


# Metavars a person reads in --help, by parameter name; then by type.
_METAVARS = {
    "db": "FILE", "config": "FILE", "token_file": "FILE", "pr_body": "FILE",
    "out": "DIR", "templates": "DIR", "against": "DIR", "folder": "DIR",
    "port": "PORT", "listen_port": "PORT", "timeout": "SECONDS",
    "upstream": "URL", "service": "NAME", "branch": "NAME",
    "listen_host": "ADDRESS", "host": "ADDRESS",
    "since": "DAY", "until": "DAY", "at": "DAY",
    "window": "DURATION", "baseline_window": "DURATION", "max_age": "DURATION",
    "target": "TARGETS", "body_budget": "N",
    "files": "FILE", "sources": "STORE", "endpoint": "ENDPOINT", "source": "URL|STORE",
}
_BY_TYPE = {"int": "N", "float": "NUMBER", "str": "TEXT"}


def _human_metavars(command) -> None:
    for param in command.params:
        if param.metavar is not None or getattr(param, "is_flag", False):
            continue
        described = getattr(param, "type_descriptor", None)
        if described is not None and described.is_choice:
            param.metavar = "|".join(str(getattr(c, "value", c)) for c in described.choices or ())
            continue
        metavar = _METAVARS.get(param.name or "")
        if metavar is None:
            if described is not None and described.is_path:
                metavar = "PATH"
            else:
                bare = param.bare_type() if hasattr(param, "bare_type") else ""
                metavar = _BY_TYPE.get(bare, (param.name or "value").upper())
        param.metavar = metavar


class FreshmockArgument(TyperArgument):
    """An argument listed in --help by its metavar alone: ``STORE...``, not ``<list[Path]>``."""

    def display_type_rich(self, ctx) -> None:
        return None

    def _rich_display_name(self) -> str:
        return (self.metavar or self.name or "ARG") + ("..." if self.nargs != 1 else "")


class FreshmockCommand(TyperCommand):
    """Usage lines as a person writes them: ``freshmock merge [OPTIONS] OUT STORE...``."""

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = (param.metavar or param.name or "ARG").upper()
                name += "..." if param.nargs != 1 else ""
                pieces.append(name if param.required else f"[{name}]")
        return pieces


class FreshmockGroup(TyperGroup):
    """The command group: every error a user or the environment can cause ends here, once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            if type(command) is TyperCommand:
                command.__class__ = FreshmockCommand
            _human_metavars(command)
            for param in command.params:
                if type(param) is TyperArgument:
                    param.__class__ = FreshmockArgument

    def invoke(self, ctx: click.Context):
        _opened.clear()
        try:
            return self._invoke_and_word_errors(ctx)
        finally:
            _close_stores()

    def _invoke_and_word_errors(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except FreshmockError as error:
            _say_error(str(error))
            raise typer.Exit(error.exit_code) from None
        except UsageError as error:  # click's own: a missing option, a value of the wrong type
            where = f"freshmock {error.ctx.info_name}" if error.ctx and error.ctx.parent else \
                "freshmock"
            _say_error(f"{error.format_message()} (see `{where} -h`)")
            raise typer.Exit(ExitCode.USAGE) from None
        except KeyboardInterrupt:
            typer.echo("freshmock: interrupted", err=True)
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except sqlite3.DatabaseError as error:  # found mid-run: a page read back damaged
            where = f"{_opened[-1]}: " if _opened else ""
            if "readonly" in str(error):
                _say_error(f"{where}the store became read-only while this command wrote "
                           "into it; make it writable and run the command again")
            else:
                _say_error(f"{where}the store cannot be read ({error}); restore it from a copy")
            raise typer.Exit(ExitCode.USAGE) from None
        except BrokenPipeError:  # `freshmock endpoints | head`: the reader left, fine
            sys.stderr.close()
            raise typer.Exit(ExitCode.OK) from None


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"freshmock {version('freshmock')}")
        except PackageNotFoundError:
            typer.echo("freshmock (not installed as a package)")
        raise typer.Exit()


app = typer.Typer(
    cls=FreshmockGroup,
    no_args_is_help=True,
    add_completion=False,
    # Help is plain text: rich markup would swallow [redaction], [paths], [[dependencies]].
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_show_locals=False,  # locals may hold recorded traffic
)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True,
                           help="Print freshmock's version and exit.")
    ] = False,
) -> None:
    """Record a dependency's real traffic, infer its schemas, regenerate your mocks from it.

    Exit codes for every command: 0 ok, 1 the check failed (drift, stale
    stubs), 2 usage or input error, 3 nothing comparable or nothing to write,
    130 interrupted.
    """


DbOption = Annotated[
    Path,
    typer.Option(
        "--db",
        envvar="FRESHMOCK_DB",
        metavar="FILE",
        help="SQLite store of recorded traffic.",
        show_default=True,
    ),
]


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar="FRESHMOCK_CONFIG",
        metavar="FILE",
        help="freshmock.toml: [redaction] rules for record; [paths] rules for infer and "
        "diff, kept with the store for every later command.",
    ),
]

QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress display (it shows only on a terminal).")
]

JsonOption = Annotated[
    bool, typer.Option("--json", help="One JSON document on stdout, for scripts.")
]

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# typer lists the choices in --help from this enum
Target = Enum("Target", {name: name for name in TARGETS}, type=str)


def fail(message: str, code: int = ExitCode.USAGE) -> None:
    raise FreshmockError(message, exit_code=code)


def nothing_to_do(message: str) -> None:
    raise NothingToDo(message)


_opened: list[Path] = []  # the stores this command opened, for a damage found mid-run
_connections: list = []


def open_db(db: Path, read_only: bool = False):
    """Open the store for a command; ``read_only`` for commands that never write it.

    It is closed when the command ends (the last connection folds the WAL in
    then, not whenever the garbage collector gets to it).
    """
    store = open_store(db, read_only=read_only)
    _opened.append(db)
    _connections.append(store)
    return store


def _close_stores() -> None:
    while _connections:
        try:
            _connections.pop().close()
        except sqlite3.Error:
            pass


def parse_day(text: str | None, option: str) -> str | None:
    """A calendar day as YYYY-MM-DD (``2026-13-45`` is refused, not read as no day)."""
    if text is None:
        return None
    try:
        if not _DAY.match(text):
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        fail(f"{option} takes a calendar day as YYYY-MM-DD, not {text!r}")


def day_range(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """``--since``/``--until`` checked: real days, and the first not after the last."""
    first, last = parse_day(since, "--since"), parse_day(until, "--until")
    if first and last and last < first:
        fail(f"--until {last} is before --since {first}; swap them")
    return first, last


def check_port(port: int, option: str = "--port", allow_any: bool = True) -> int:
    low = 0 if allow_any else 1
    if not low <= port <= 65535:
        fail(f"{option} takes a port number {low}-65535, not {port}")
    return port


def check_templates(folder: Path | None) -> Path | None:
    if folder is not None and not folder.is_dir():
        fail(f"--templates {folder} is not a folder (give the folder holding your "
             "override templates)")
    return folder


def check_out_folder(folder: Path, option: str = "--out") -> Path:
    """An output folder that exists or can be made: refuse a file or an unwritable place."""
    import os

    if folder.exists() and not folder.is_dir():
        fail(f"{option} {folder} is a file; give a folder for the output")
    parent = folder.absolute()
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        fail(f"{option} {folder}: {parent} is a file, so the folder cannot be made there")
    if not os.access(parent, os.W_OK | os.X_OK):
        fail(f"{option} {folder}: no permission to write in {parent}")
    if folder.exists() and not os.access(folder.absolute().parent, os.W_OK | os.X_OK):
        # output is staged beside the folder and moved into place at the end
        fail(f"{option} {folder}: no permission to write in {folder.absolute().parent}")
    return folder


def known_services(store) -> list[str]:
    from freshmock.proxy.store import observed_services

    return observed_services(store)


def require_observations(store, db: Path) -> None:
    """Stop before any write when there is nothing to infer from (exit 3)."""
    from freshmock.proxy.store import last_observed_day

    if last_observed_day(store) is None:
        nothing_to_do(f"no completed observations in {db} yet: record traffic first "
                      "(`freshmock record`, `freshmock import`)")


def check_service(store, service: str | None) -> str | None:
    """An unknown --service is a usage error listing the known ones (never an empty result)."""
    if not service:
        return service or None
    known = known_services(store)
    if service not in known:
        close = difflib.get_close_matches(service, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        fail(f"no service {service!r} in the store; {hint}known services: "
             + (", ".join(known) if known else "none (nothing recorded yet)"))
    return service


def path_rules(config: Path | None):
    """The ``[paths]`` rules of ``--config``; None without one: every command then
    templates with the rules the store keeps (the last ones given)."""
    from freshmock.generators.model.paths import load_path_rules

    if config is None:
        return None
    return load_path_rules(config)


def show_progress(quiet: bool) -> bool:
    """Progress goes to stderr on a terminal only; scripts and --quiet get none."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress(label: str, quiet: bool, total: int | None = None):
    """Yield ``advance(done, total=None)``: a rich progress display on a terminal, else nothing."""
    if not show_progress(quiet):
        yield lambda done, total=None: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(SpinnerColumn(), TextColumn(label), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    task = bar.add_task(label, total=total)

    def advance(done: int, new_total: int | None = None) -> None:
        bar.update(task, completed=done, **({"total": new_total} if new_total else {}))

    with bar:
        yield advance


def emit_json(value) -> None:
    import json

    typer.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


__all__ = ["DEFAULT_DB", "StoreError", "ExitCode", "FreshmockError", "NothingToDo", "app", "fail"]
