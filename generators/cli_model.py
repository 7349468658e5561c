"""Commands over the inferred model: infer, show, endpoints, merge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from freshmock.generators.cli_common import (
    _DAY,
    DEFAULT_DB,
    ConfigOption,
    DbOption,
    StoreError,
    _open,
    _path_rules,
    app,
    fail,
)
from freshmock.proxy.store import check_store_file, count_observations

PANEL = "Inspect what was learnt"


@app.command(rich_help_panel=PANEL)
def infer(
    db: DbOption = DEFAULT_DB,
    since: Annotated[
        str | None, typer.Option(help="First day of the window to publish (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last day of the window to publish (YYYY-MM-DD).")
    ] = None,
    rebuild: Annotated[
        bool, typer.Option(help="Forget what earlier runs folded in and start over.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Fold new observations into per-endpoint schemas and publish them.

    Only observations recorded since the last run are read; the endpoints
    table is then published for the window (every day observed by default).
    """
    from freshmock.generators.infer import infer_endpoints

    for day in (since, until):
        if day is not None and not _DAY.match(day):
            fail(f"--since/--until take a day as YYYY-MM-DD, not {day!r}")
    store = _open(db)
    rows = infer_endpoints(
        store, since=since, until=until, rebuild=rebuild, path_rules=_path_rules(config)
    )
    window = f" for {since or 'the start'} .. {until or 'today'}" if since or until else ""
    typer.echo(
        f"{len(rows)} endpoints{window} from {count_observations(store)} observations in {db}"
    )


@app.command(rich_help_panel=PANEL)
def show(
    endpoint: Annotated[
        str,
        typer.Argument(
            help="'METHOD /template', '/template' (any method) or a concrete path "
            "such as /users/42."
        ),
    ],
    db: DbOption = DEFAULT_DB,
    service: Annotated[str | None, typer.Option(help="Only this dependency.")] = None,
    at: Annotated[
        str | None,
        typer.Option(help="Show the schema as published from the 7 days up to this day "
                     "(YYYY-MM-DD) instead of the latest."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON document, for scripts.")
    ] = False,
) -> None:
    """Print an endpoint's published schema, its sample counts and its version history."""
    from freshmock.generators.show import find_endpoints, render_text, shown

    if at is not None and not _DAY.match(at):
        fail(f"--at takes a day as YYYY-MM-DD, not {at!r}")
    store = _open(db)
    matches = find_endpoints(store, endpoint, service, at)
    if not matches:
        fail(f"no endpoint matches {endpoint!r}" + (f" in {service}" if service else "")
             + " (see `freshmock endpoints`)")
    documents = [shown(store, row) for row in matches]
    if as_json:
        typer.echo(json.dumps(documents, indent=2, sort_keys=True))
    else:
        typer.echo(render_text(documents))


@app.command(rich_help_panel=PANEL)
def merge(
    out: Annotated[Path, typer.Argument(help="Store to merge into (created if missing).")],
    sources: Annotated[list[Path], typer.Argument(help="Stores from other sidecars.")],
) -> None:
    """Combine stores from many sidecars into OUT. Running it twice adds nothing."""
    from freshmock.generators.merge import merge_stores

    for source in sources:  # check every input before OUT is created or changed
        try:
            check_store_file(source, must_exist=True)
        except StoreError as error:
            fail(str(error))
    try:
        results = merge_stores(out, sources)
    except StoreError as error:
        fail(str(error))
    for result in results:
        typer.echo(f"{result.source}: {result.read} read, {result.added} new")
    typer.echo(f"{sum(r.added for r in results)} observations added to {out}")


@app.command(rich_help_panel=PANEL)
def endpoints(
    db: DbOption = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
) -> None:
    """List inferred endpoints with their observation count and last-seen time."""
    from freshmock.proxy.store import list_endpoints

    rows = list_endpoints(_open(db))
    if as_json:
        keys = ("service", "method", "path_template", "operation", "discriminator", "status",
                "media_type", "observations", "first_seen", "last_seen")
        typer.echo(json.dumps([{k: row[k] for k in keys} for row in rows], indent=2))
        return
    if not rows:
        typer.echo("no endpoints yet: run `freshmock infer` after recording", err=True)
    for row in rows:
        operation = f" [{row['operation']}]" if row.get("operation") else ""
        typer.echo(
            f"{row['service']}  {row['method']:<6} {row['path_template']}{operation}  "
            f"{row['status']}  "
            f"{row['media_type'] or '-'}  {row['observations']} obs  last seen {row['last_seen']}"
        )
