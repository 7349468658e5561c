"""Commands that capture traffic: record (the sidecar), import, demo, stats."""

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
    check_port,
    emit_json,
    open_db,
    progress,
)

PANEL = "Record traffic"


@app.command(rich_help_panel=PANEL)
def record(
    upstream: Annotated[
        str | None,
        typer.Option(help="Dependency to reverse-proxy, e.g. http://127.0.0.1:9000. "
                     "Omit for a regular forward proxy (clients set HTTP(S)_PROXY)."),
    ] = None,
    listen_host: Annotated[str, typer.Option(help="Address the proxy listens on.")] = "127.0.0.1",
    listen_port: Annotated[int, typer.Option(help="Port the proxy listens on.")] = 8080,
    db: DbOption = DEFAULT_DB,
    service: Annotated[
        str, typer.Option(help="Name recorded for the dependency (default: the upstream's "
                          "host, or host:port off the default port). Pin it: the name is the "
                          "key every later command (--service) and stub file uses.")
    ] = "",
    check_upstream: Annotated[
        bool, typer.Option(help="Refuse to start when the upstream does not accept connections.")
    ] = True,
    keep_host_header: Annotated[
        bool, typer.Option(help="Reverse mode: pass the client's Host header to the upstream "
                           "instead of the upstream's own (for dependencies that build URLs "
                           "from Host, e.g. SQS queue URLs); see docs/sidecar.md.")
    ] = False,
    config: ConfigOption = None,
    processes: Annotated[
        int, typer.Option(min=1, help="Sidecar processes sharing the listen ports "
                          "(SO_REUSEPORT), each with its own worker, all writing to one "
                          "store: one process is about one core of proxying.")
    ] = 1,
) -> None:
    """Run the recording proxy until Ctrl-C or SIGTERM (then drain to the store).

    With --config, a freshmock.toml can name several dependencies, each served
    on its own port from this one process ([[dependencies]]: name, upstream,
    listen_port), plus the store, limits and a CA bundle ([record]); see
    docs/sidecar.md.
    """
    # mitmproxy loads only for the commands that run it: the others start faster
    from freshmock.proxy.recording import RecordRequest, record_until_signalled

    check_port(listen_port, "--listen-port")
    request = RecordRequest(db, upstream, listen_host, listen_port, service, check_upstream,
                            keep_host_header, config, processes)
    record_until_signalled(request, say=lambda line: typer.echo(line, err=True))


@app.command(rich_help_panel=PANEL)
def demo(
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path, typer.Option(help="Where the WireMock mappings go.")] = Path(
        "stubs/wiremock"
    ),
) -> None:
    """Run the whole loop on a built-in demo dependency: record, infer, write WireMock stubs."""
    from freshmock.generators.workflows.demo.run import run_demo
    from freshmock.proxy.recording import prepare_store

    prepare_store(db)
    result = run_demo(db, out, say=lambda line: typer.echo(f"· {line}"))
    typer.echo("")
    typer.echo(
        f"{result.counters.get('recorded', 0)} of {result.requests_sent} requests recorded; "
        f"{result.observations_in_store} observations in {db}"
    )
    typer.echo(f"{len(result.endpoints)} endpoints inferred:")
    for endpoint in result.endpoints:
        typer.echo(
            f"  {endpoint['method']:<5} {endpoint['path_template']:<32} {endpoint['status']}  "
            f"{endpoint['observations']:>3} obs"
        )
    service_dirs = sorted({stub.path.parent.parent for stub in result.stubs})
    typer.echo(f"{len(result.stubs)} WireMock mappings written to "
               + ", ".join(str(d / "mappings") for d in service_dirs))
    if service_dirs:
        typer.echo(f"serve them with: freshmock wiremock {service_dirs[0]}")


@app.command(rich_help_panel=PANEL)
def stats(
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """What each recording run saw, kept, sampled out, dropped and lost, and why."""
    from freshmock.proxy.store import read_counters

    runs = read_counters(open_db(db, read_only=True))
    if as_json:
        typer.echo(json.dumps(runs, indent=2))
        return
    if not runs:
        typer.echo(f"no recording runs in {db} yet", err=True)
        return
    totals: dict[str, int] = {}
    for run in runs:
        typer.echo(
            f"run {run['run_id'][:8]}  {run['service'] or '-'}  "
            f"{run['started_at']} .. {run['updated_at']}"
        )
        typer.echo(
            f"  seen {run['seen']}  recorded {run['recorded']} "
            f"({run['sampled_out']} without bodies: over budget)  dropped {run['dropped']}  "
            f"lost {run['lost']}  redacted {run['redacted']}  errors {run['errors']}"
        )
        kinds = {k.removeprefix("errors."): v for k, v in run["detail"].items()
                 if k.startswith("errors.") and v}
        if kinds:
            typer.echo("  errors: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
        for key in ("seen", "recorded", "sampled_out", "dropped", "lost", "redacted", "errors"):
            totals[key] = totals.get(key, 0) + (run[key] or 0)
    if len(runs) > 1:
        typer.echo(f"{len(runs)} runs: " + "  ".join(f"{k} {v}" for k, v in totals.items()))


@app.command(name="import", rich_help_panel=PANEL)
def import_captures(
    files: Annotated[
        list[Path],
        typer.Argument(help="HAR files (.har, .zhar) and mitmproxy flow files "
                       "(mitmdump -w), in any mix.", metavar="FILE", show_default=False),
    ],
    db: DbOption = DEFAULT_DB,
    service: Annotated[
        str, typer.Option(help="Name recorded for the dependency (default: each request's "
                          "host:port, as record does).")
    ] = "",
    config: ConfigOption = None,
    body_budget: Annotated[
        int, typer.Option(min=0, help="Bodies kept per endpoint per hour of observation time, "
                          "over which only new shapes keep theirs (record's sidecar keeps 120); "
                          "0 keeps every body.")
    ] = 0,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import existing captures, redacted exactly as live recording redacts them.

    Each exchange keeps its own time (HAR startedDateTime, a flow's start)
    and goes through the recorder's redaction (extended by the redaction
    table of --config, as for record) before anything is written. Flows that
    ended in an error are recorded as the sidecar records them; TCP, UDP and
    DNS flows are skipped. Exchanges already in the store (same flow id) are
    skipped, so importing a file twice adds nothing.

    All or nothing: a malformed file stops the import with one line naming
    the file and the entry (counted from 0: entry 3 is log.entries[3]), and
    nothing from any file is written. Exit codes: 0 imported, 2 a file, the
    store or an option is unusable.
    """
    from freshmock.proxy.importer import read_captures, write_captures
    from freshmock.proxy.recording import prepare_store
    from freshmock.proxy.redaction import DEFAULT_RULES, load_rules

    rules = load_rules(config) if config is not None else DEFAULT_RULES
    prepare_store(db)
    with progress("importing captures", quiet):
        built = read_captures(files, service=service, rules=rules)
        results = write_captures(db, built, body_budget=body_budget)
    if as_json:
        emit_json({"db": str(db), "imported": sum(r.imported for r in results),
                   "files": [{"path": str(r.path), "kind": r.kind, "exchanges": r.exchanges,
                              "imported": r.imported, "already_stored": r.already_stored}
                             for r in results]})
        return
    for result in results:
        notes = [f"{result.already_stored} already in the store"] if result.already_stored else []
        if result.sampled_out:
            notes.append(f"{result.sampled_out} without bodies (over --body-budget)")
        if result.websocket_messages:
            notes.append(f"{result.websocket_messages} WebSocket messages")
        notes += [f"{count} {kind} skipped" for kind, count in sorted(result.skipped.items())]
        typer.echo(f"{result.path}: {result.imported} of {result.exchanges} exchanges imported "
                   f"({result.kind})" + "".join(f"; {note}" for note in notes))
    typer.echo(f"{sum(r.imported for r in results)} exchanges imported into {db}; "
               f"{sum(r.redacted for r in results)} header and query values redacted "
               "(bodies are redacted too, uncounted)")
