"""Commands that compare: diff (drift reports) and check (stub freshness)."""

from __future__ import annotations

from datetime import date, timedelta
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from freshmock.generators.cli.common import (
    DEFAULT_DB,
    ConfigOption,
    DbOption,
    JsonOption,
    ReportFormat,
    _open,
    _path_rules,
    app,
    check_service,
    emit_json,
    fail,
    nothing_to_do,
)
from freshmock.proxy.store import is_writable

PANEL = "Check mocks against reality"


class FailOn(str, Enum):
    breaking = "breaking"
    risky = "risky"
    any = "any"
    never = "never"


def _days(text: str, option: str) -> int:
    from freshmock.generators.model.window import window_days

    days = window_days(text, option)
    if days is None:  # "all" is a window for stubs, not for a comparison
        fail(f"{option} takes a number of days or weeks such as 7d or 4w, not {text!r}")
    return days


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
        Windows,
        exceeds,
        render_json,
        render_markdown,
        render_text,
    )
    from freshmock.generators.drift.windows import compare_windows
    from freshmock.generators.model.infer import merge_window, update_partials
    from freshmock.proxy.store import last_observed_day

    if as_json:
        report_format = ReportFormat.json
    if since is not None:
        typer.echo("freshmock: warning: diff --since is now --window (a duration); "
                   "--since takes a day in infer", err=True)
        window = since
    current_days = _days(window, "--window")
    baseline_days = _days(baseline_window, "--baseline-window")
    rules = _path_rules(config)
    store = _open(db, read_only=db.exists() and not is_writable(db))
    service = check_service(store, service)
    if last_observed_day(store) is None:  # before folding: an empty store stays as it is
        nothing_to_do(f"no completed observations in {db}: nothing to compare")
    update_partials(store, rules=rules)
    newest = last_observed_day(store)
    end = date.fromisoformat(newest)
    current = (end - timedelta(days=current_days - 1), end)
    current_days_text = tuple(d.isoformat() for d in current)
    if against is not None:
        from freshmock.generators.drift.stub_baseline import baseline_days, read_stub_baseline

        baseline_data = read_stub_baseline(against)
        windows = Windows(baseline_days(baseline_data), current_days_text)
        sides = {"baseline_is": "stubs are for", "current_holds": "the store holds"}
    else:
        baseline = (current[0] - timedelta(days=baseline_days), current[0] - timedelta(days=1))
        windows = Windows(tuple(d.isoformat() for d in baseline), current_days_text)
        baseline_data = merge_window(store, *windows.baseline, rules=rules)
        sides = {}
    report = compare_windows(
        baseline_data, merge_window(store, *windows.current, rules=rules), service=service,
        **sides,
    )
    render = {"text": render_text, "json": render_json, "markdown": render_markdown}
    typer.echo(render[report_format.value](report, windows), nl=False)
    if exceeds(report.drifts, fail_on.value):
        raise typer.Exit(1)
    for problem in report.problems:
        typer.echo(f"freshmock diff: nothing comparable: {problem}", err=True)
    raise typer.Exit(3 if report.problems else 0)




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
    every stub is fresh, 1 naming each stale stub and its age, 2 for usage
    errors (no stubs found, a bad --max-age).
    """
    from datetime import UTC, datetime

    from freshmock.generators.model.window import age_budget
    from freshmock.generators.workflows.check import describe_age, stub_freshness

    budget = age_budget(max_age)
    if not folder.is_dir():
        fail(f"{folder} is not a folder of stubs")
    freshness = stub_freshness(folder, datetime.now(UTC))
    ages, unstamped = freshness.ages, freshness.unstamped
    if not ages and not unstamped:
        fail(f"no freshmock stubs under {folder}")
    stale = [a for a in ages if a.age > budget]
    failed = bool(stale or unstamped)  # a stub whose age cannot be read is not fresh
    if as_json:
        emit_json({"max_age": max_age, "stubs": len(ages), "stale": [
            {"path": str(a.path), "endpoint": a.endpoint, "age_seconds": a.age.total_seconds()}
            for a in stale], "unstamped": [
            {"path": str(u.path), "why": u.why} for u in unstamped]})
        raise typer.Exit(1 if failed else 0)
    for item in stale:
        typer.echo(f"stale: {item.path}  {item.endpoint}  last observed "
                   f"{describe_age(item.age)} ago (budget {max_age})")
    for missing in unstamped:
        typer.echo(f"unstamped: {missing.path}  {missing.why}")
    typer.echo(f"{len(ages) - len(stale)} of {len(ages)} stubs observed within {max_age}"
               + (f"; {len(unstamped)} state no age" if unstamped else ""))
    raise typer.Exit(1 if failed else 0)
