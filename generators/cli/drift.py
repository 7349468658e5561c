"""Commands that compare: diff (drift reports) and check (stub freshness)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from freshmock.generators.cli.common import (
    DEFAULT_DB,
    ConfigOption,
    DbOption,
    ExitCode,
    JsonOption,
    ReportFormat,
    app,
    check_service,
    emit_json,
    open_db,
    path_rules,
)
from freshmock.proxy.store import is_writable

PANEL = "Check mocks against reality"


class FailOn(str, Enum):
    breaking = "breaking"
    risky = "risky"
    any = "any"
    never = "never"


@app.command(rich_help_panel=PANEL)
def diff(
    window: Annotated[
        str, typer.Option(help="Current window: the last N days (7d) or weeks (2w) observed.")
    ] = "7d",
    since: Annotated[
        str | None, typer.Option(hidden=True, help="Deprecated spelling of --window.")
    ] = None,
    baseline_window: Annotated[
        str, typer.Option(help="Baseline: this many days before the current window.")
    ] = "28d",
    db: DbOption = DEFAULT_DB,
    report_format: Annotated[
        ReportFormat, typer.Option("--format", help="text for people, json for tools, "
                                   "markdown for a pull request body.")
    ] = ReportFormat.text,
    fail_on: Annotated[
        FailOn, typer.Option(help="Exit 1 when a change at or above this class is found.")
    ] = FailOn.breaking,
    service: Annotated[str | None, typer.Option(help="Only this dependency.")] = None,
    against: Annotated[
        Path | None,
        typer.Option(help="Folder of committed freshmock stubs to use as the baseline "
                     "instead of --baseline-window."),
    ] = None,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """Report how each dependency's observed behaviour drifted: breaking, risky, additive.

    Compares the current window (the last --window days up to the newest
    observation) with the --baseline-window before it, or with what the stubs
    in --against say. Exit codes: 0 nothing at or above --fail-on, 1 drift at
    or above it, 2 usage errors, 3 nothing comparable (a baseline dependency
    with no current counterpart, an empty window). (--since, the older name
    of --window, still works; elsewhere --since takes a day.) Works on a
    read-only store once `freshmock infer` has folded it in.
    """
    from freshmock.generators.drift.report import (
        exceeds,
        render_json,
        render_markdown,
        render_text,
    )
    from freshmock.generators.model.window import comparison_days
    from freshmock.generators.workflows.diff import diff_store

    if as_json:
        report_format = ReportFormat.json
    if since is not None:
        typer.echo("freshmock: warning: diff --since is now --window (a duration); "
                   "--since takes a day in infer", err=True)
        window = since
    current_days = comparison_days(window, "--window")
    baseline_days = comparison_days(baseline_window, "--baseline-window")
    rules = path_rules(config)
    store = open_db(db, read_only=db.exists() and not is_writable(db))
    service = check_service(store, service)
    report, windows = diff_store(store, db, current_days, baseline_days, service=service,
                                 against=against, rules=rules)
    render = {"text": render_text, "json": render_json, "markdown": render_markdown}
    typer.echo(render[report_format.value](report, windows), nl=False)
    if exceeds(report.drifts, fail_on.value):
        raise typer.Exit(ExitCode.CHECK_FAILED)
    for problem in report.problems:
        typer.echo(f"freshmock diff: nothing comparable: {problem}", err=True)
    raise typer.Exit(ExitCode.NOTHING_COMPARABLE if report.problems else ExitCode.OK)


@app.command(rich_help_panel=PANEL)
def check(
    folder: Annotated[
        Path, typer.Argument(help="Folder of generated stubs (searched recursively).")
    ],
    max_age: Annotated[
        str, typer.Option(help="Budget for a stub's latest observation: e.g. 36h, 7d, 2w.")
    ] = "7d",
    as_json: JsonOption = False,
) -> None:
    """Fail when any stub's dependency was last observed longer ago than --max-age.

    The gate a consumer's CI runs before trusting its mocks: exit 0 when
    every stub is fresh, 1 naming each stale stub and its age (or a stub whose
    age cannot be read), 2 for usage
    errors (no stubs found, a bad --max-age).
    """
    from datetime import UTC, datetime

    from freshmock.generators.model.window import age_budget
    from freshmock.generators.workflows.check import check_stubs, describe_age

    result = check_stubs(folder, age_budget(max_age), datetime.now(UTC))
    code = ExitCode.CHECK_FAILED if result.failed else ExitCode.OK
    if as_json:
        emit_json({"max_age": max_age, "stubs": len(result.ages), "stale": [
            {"path": str(a.path), "endpoint": a.endpoint, "age_seconds": a.age.total_seconds()}
            for a in result.stale], "unstamped": [
            {"path": str(u.path), "why": u.why} for u in result.unstamped]})
        raise typer.Exit(code)
    for item in result.stale:
        typer.echo(f"stale: {item.path}  {item.endpoint}  last observed "
                   f"{describe_age(item.age)} ago (budget {max_age})")
    for missing in result.unstamped:
        typer.echo(f"unstamped: {missing.path}  {missing.why}")
    typer.echo(f"{len(result.ages) - len(result.stale)} of {len(result.ages)} stubs observed "
               f"within {max_age}"
               + (f"; {len(result.unstamped)} state no age" if result.unstamped else ""))
    raise typer.Exit(code)
