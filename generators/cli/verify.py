"""``freshmock verify``: check hand-written mocks against what the dependency does today."""

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
    FreshmockError,
    ReportFormat,
    app,
    fail,
    open_db,
    path_rules,
)

PANEL = "Check mocks against reality"


class VerifyFailOn(str, Enum):
    stale = "stale"
    incomplete = "incomplete"
    unverifiable = "unverifiable"
    never = "never"


@app.command(rich_help_panel=PANEL)
def verify(
    paths: Annotated[list[Path], typer.Argument(
        help="Mock files or folders: WireMock mappings, VCR.py cassettes, responses files "
             "(YAML/TOML), OpenAPI 3.x documents, Pact contracts.")],
    db: DbOption = DEFAULT_DB,
    service: Annotated[str | None, typer.Option(help="Only this dependency.")] = None,
    since: Annotated[str, typer.Option(
        help="Today's window: the last N days (7d) or weeks (2w) observed.")] = "7d",
    report_format: Annotated[ReportFormat, typer.Option(
        "--format", help="text for people, json for tools, markdown for a PR body.")
    ] = ReportFormat.text,
    fail_on: Annotated[VerifyFailOn, typer.Option(
        help="Exit 1 when a finding of this class or a worse one is found "
             "(stale < incomplete < unverifiable).")] = VerifyFailOn.stale,
    max_age: Annotated[str | None, typer.Option(
        help="Evidence older than this (36h, 7d, 2w) verifies nothing: unverifiable.")
    ] = None,
    fix: Annotated[bool, typer.Option(
        "--fix", help="Rewrite the stale parts of WireMock mappings and VCR cassettes with "
                      "today's exemplar values, touching nothing else.")] = False,
    config: ConfigOption = None,
) -> None:
    """Check existing mocks against the traffic observed today: stale, incomplete, unverifiable.

    Each mocked interaction is matched to its observed endpoint and compared
    the way `diff` compares windows: stale (the mock shows what the
    dependency no longer does), incomplete (the dependency does what the mock
    never shows), unverifiable (never observed, or too little evidence).
    Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it,
    2 usage or input errors, 3 no interaction could be verified.
    """
    from freshmock.generators.model.window import age_budget, comparison_days
    from freshmock.generators.workflows.verify.fix import fix_mocks
    from freshmock.generators.workflows.verify.report import (
        exceeds,
        render_json,
        render_markdown,
        render_text,
    )
    from freshmock.generators.workflows.verify.run import run_verify

    window_days = comparison_days(since, "--since")
    budget = age_budget(max_age) if max_age is not None else None
    store = open_db(db)
    result = run_verify(store, paths, window_days, service=service, max_age=budget,
                        rules=path_rules(config), store_name=str(db))
    if not result.verdicts:
        fail("no mocks found under " + ", ".join(map(str, paths)) + " (WireMock, VCR, "
             "responses, OpenAPI or Pact files)")
    render = {"text": render_text, "json": render_json, "markdown": render_markdown}
    typer.echo(render[report_format.value](result.verdicts, result.window), nl=False)
    if fix:
        for line in fix_mocks(store, result.verdicts):
            typer.echo(line, err=True)
    if not any(v.verified for v in result.verdicts):
        raise typer.Exit(ExitCode.NOTHING_COMPARABLE)
    failed = exceeds(result.verdicts, fail_on.value)
    raise typer.Exit(ExitCode.CHECK_FAILED if failed else ExitCode.OK)


def verify_for_refresh(store, paths: list[Path], window: str, service: str | None):
    """``refresh --verify``: the mocks are read (and a bad one stops) before anything is written."""
    from freshmock.generators.model.window import window_days
    from freshmock.generators.workflows.verify.run import run_verify

    try:
        return run_verify(store, paths, window_days(window), service=service)
    except FreshmockError as error:  # every one is a usage error here, even nothing observed
        fail(str(error), code=ExitCode.USAGE)
