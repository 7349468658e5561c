"""Commands over the inferred model: infer, show, endpoints, merge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from freshmock.generators.cli.common import (
    DEFAULT_DB,
    ConfigOption,
    DbOption,
    JsonOption,
    QuietOption,
    app,
    check_service,
    day_range,
    emit_json,
    open_db,
    parse_day,
    path_rules,
    progress,
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
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Fold new observations into per-endpoint schemas and publish them.

    Only observations recorded since the last run are read; the endpoints
    table is then published for the window (every day observed by default).
    """
    from freshmock.generators.model.infer import infer_endpoints

    since, until = day_range(since, until)
    rules = path_rules(config)
    store = open_db(db)
    with progress("inferring schemas", quiet):
        rows = infer_endpoints(store, since=since, until=until, rebuild=rebuild, path_rules=rules)
    observations = count_observations(store)
    if as_json:
        emit_json({"endpoints": len(rows), "observations": observations,
                   "since": since, "until": until})
        return
    window = f" for {since or 'the start'} .. {until or 'today'}" if since or until else ""
    typer.echo(f"{len(rows)} endpoints{window} from {observations} observations in {db}")


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
    from freshmock.generators.workflows.show import render_text, show_endpoints

    at = parse_day(at, "--at")
    store = open_db(db, read_only=True)
    documents = show_endpoints(store, endpoint, check_service(store, service), at, str(db))
    if as_json:
        typer.echo(json.dumps(documents, indent=2, sort_keys=True))
    else:
        typer.echo(render_text(documents))


@app.command(rich_help_panel=PANEL)
def merge(
    out: Annotated[Path, typer.Argument(help="Store to merge into (created if missing).",
                                        metavar="OUT")],
    sources: Annotated[list[Path], typer.Argument(help="Stores from other sidecars.")],
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Combine stores from many sidecars into OUT. Running it twice adds nothing.

    All or nothing: OUT gains every new observation in one transaction (a new
    OUT is built beside its place and moved in), so an interrupted merge
    leaves OUT as it was.
    """
    from freshmock.generators.workflows.merge import merge_stores

    for source in sources:  # check every input before OUT is created or changed
        check_store_file(source, must_exist=True)
    with progress("merging observations", quiet) as advance:
        results = merge_stores(out, sources, progress=advance)
    if as_json:
        emit_json({"out": str(out), "added": sum(r.added for r in results),
                   "sources": [{"source": str(r.source), "read": r.read, "added": r.added}
                               for r in results]})
        return
    for result in results:
        typer.echo(f"{result.source}: {result.read} read, {result.added} new")
    typer.echo(f"{sum(r.added for r in results)} observations added to {out}")


@app.command(rich_help_panel=PANEL)
def endpoints(
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """List inferred endpoints with their observation count and last-seen time.

    Under each template with parameters: the values each parameter merged (how
    many, the first few), so a wrong merge can be seen and undone with
    [paths] literals or templates (docs/paths.md).
    """
    from freshmock.generators.model.infer import merged_values
    from freshmock.generators.model.tables import list_endpoints

    store = open_db(db, read_only=True)
    rows = list_endpoints(store)
    merged = merged_values(store)
    if as_json:
        keys = ("service", "method", "path_template", "operation", "discriminator", "status",
                "media_type", "observations", "first_seen", "last_seen")
        typer.echo(json.dumps([
            {**{k: row[k] for k in keys},
             "merged": merged.get((row["service"], row["path_template"]), [])}
            for row in rows], indent=2))
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
        template = (row["service"], row["path_template"])
        for position in merged.pop(template, []):  # once per template, under its first row
            values = position["values"]
            shown = ", ".join(values) + (", ..." if position["distinct"] > len(values) else "")
            parts = [f"{position['distinct']} values: {shown}"] if values else []
            parts += ["typed identifiers"] if position["typed"] else []
            typer.echo(f"    {position['parameter']}: {'; '.join(parts)}")
