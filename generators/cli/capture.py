"""Commands that capture traffic: record (the sidecar), import, demo, stats."""

from __future__ import annotations

import json
import re
import signal
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from freshmock.generators.cli.common import (
    DEFAULT_DB,
    ConfigOption,
    DbOption,
    JsonOption,
    QuietOption,
    _ensure_parent,
    _open,
    app,
    check_port,
    emit_json,
    fail,
    progress,
)

PANEL = "Record traffic"


def _listener_failure(message: str, single_address: str | None) -> str:
    """One line for a listener that failed; ``single_address`` when --listen-port chose it."""
    first = message.splitlines()[0] if message else "the recording proxy failed to start"
    if "address already in use" not in message.lower():
        return first
    # mitmproxy's advice names its own --mode syntax, which means nothing here
    if single_address is not None:
        return (f"cannot listen on {single_address}: address already in use "
                "(choose another --listen-port)")
    where = re.search(r"listen on (\S+) ", first)
    return (f"cannot listen on {where[1] if where else 'a configured port'}: address already "
            "in use (choose another listen_port in the config)")


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
    from freshmock.proxy.capture import service_name
    from freshmock.proxy.record_config import load_record_config
    from freshmock.proxy.redaction import load_rules
    from freshmock.proxy.sidecar import (
        Sidecar,
        SidecarConfig,
        SidecarError,
        check_upstream_reachable,
        listener_modes,
        mode_for,
        parse_upstream,
    )
    from freshmock.proxy.store import check_recordable

    check_port(listen_port, "--listen-port")
    options, listeners, ca_bundle = {}, (), None
    if config is not None:
        load_rules(config)  # fail here, in one line, rather than inside mitmproxy
        settings = load_record_config(config, parse_upstream)
        options.update(settings.recorder_options)
        options["config"] = str(config)
        listeners, ca_bundle = settings.listeners, settings.ca_bundle
        if keep_host_header:  # the command line's word holds for every dependency
            listeners = tuple(replace(x, keep_host_header=True) for x in listeners)
        if settings.db is not None and db == DEFAULT_DB:
            db = Path(settings.db)
        if settings.listen_host is not None and listen_host == "127.0.0.1":
            listen_host = settings.listen_host
        if listeners and upstream is not None:
            fail(f"--upstream and [[dependencies]] in {config} both name upstreams; use one")
    _ensure_parent(db)
    check_recordable(db)  # read-only, foreign or damaged: one line now, not lost rows later
    sidecar_config = SidecarConfig(str(db), upstream, listen_host, listen_port, service,
                                   recorder_options=options, listeners=listeners,
                                   ca_bundle=ca_bundle, keep_host_header=keep_host_header)
    mode = mode_for(sidecar_config)
    upstreams = [x.upstream for x in listeners if x.upstream] or [upstream]
    if check_upstream:
        for url in upstreams:
            if url is not None:
                check_upstream_reachable(url)
    if upstream is not None:
        scheme, host, port = parse_upstream(upstream)
        recorded_as = f"as service {service_name(service, host, port, scheme)!r}"
    else:
        recorded_as = ("as service " + repr(service) if service
                       else "as each request's host (or host:port)")
    if processes > 1:
        counters = _record_in_processes(sidecar_config, processes, mode, db, listeners)
        typer.echo(
            f"freshmock: stopped; {counters['recorded']} observations recorded, "
            f"{counters['dropped']} dropped, {counters['lost']} lost to errors "
            f"({processes} processes)",
            err=True,
        )
        return
    sidecar = Sidecar(sidecar_config)

    def say_listening() -> None:
        if listeners:
            for spec, name in listener_modes(sidecar_config).items():
                for host, port in sidecar.listeners_by_mode.get(spec, []):
                    what = f"{name}: reverse proxy" if name else "forward proxy"
                    typer.echo(f"freshmock: {what} on http://{host}:{port} "
                               f"({spec.split('@')[0]})", err=True)
            typer.echo(f"freshmock: recording into {db}, each dependency as its name above; "
                       "Ctrl-C or SIGTERM to stop", err=True)
        else:
            host, port = sidecar.listen_addresses[0]
            typer.echo(
                f"freshmock: recording ({mode}) on http://{host}:{port} into {db} "
                f"{recorded_as}; Ctrl-C or SIGTERM to stop",
                err=True,
            )

    try:
        sidecar.serve_until_signalled(say_listening)
    except SidecarError as error:
        fail(_listener_failure(str(error), None if listeners else f"{listen_host}:{listen_port}"))
    counters = sidecar.recorder.counters
    typer.echo(
        f"freshmock: stopped; {counters['recorded']} observations recorded, "
        f"{counters['dropped']} dropped, {counters['lost']} lost to errors",
        err=True,
    )
    if counters["lost"] and not counters["recorded"]:
        fail(f"nothing could be written to {db}: see `freshmock stats --db {db}` for why")


def _record_in_processes(sidecar_config, processes: int, mode: str, db, listeners):
    """``record --processes N``: N sidecars on the same ports (proxy/sidecar_processes.py)."""
    from freshmock.proxy.sidecar import SidecarError
    from freshmock.proxy.sidecar_processes import SidecarProcesses

    try:
        group = SidecarProcesses(sidecar_config, processes)
    except SidecarError as error:  # a usage error: the options cannot work together
        fail(str(error), 2)
    try:
        group.start()
    except SidecarError as error:
        port = None if listeners else f"{sidecar_config.listen_host}:{sidecar_config.listen_port}"
        fail(_listener_failure(str(error), port))
    # the children stop on the Ctrl-C that reaches the whole process group, or on
    # the SIGTERM passed on here; the parent only waits for them to drain
    signal.signal(signal.SIGINT, lambda *_: group.stop())
    signal.signal(signal.SIGTERM, lambda *_: group.stop())
    for spec, addresses in (group.listeners_by_mode.items() if listeners else ()):
        for host, port in addresses:
            typer.echo(f"freshmock: reverse proxy on http://{host}:{port} ({spec.split('@')[0]})",
                       err=True)
    host, port = group.listen_addresses[0]
    where = "" if listeners else f" on http://{host}:{port}"
    typer.echo(f"freshmock: recording ({mode}){where} into {db} with {processes} processes; "
               "Ctrl-C or SIGTERM to stop", err=True)
    counters = group.wait()
    for failure in group.failures:
        typer.echo(f"freshmock: a sidecar process ended without its counters: {failure}",
                   err=True)
    return counters


@app.command(rich_help_panel=PANEL)
def demo(
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path, typer.Option(help="Where the WireMock mappings go.")] = Path(
        "stubs/wiremock"
    ),
) -> None:
    """Run the whole loop on a built-in demo dependency: record, infer, write WireMock stubs."""
    from freshmock.generators.workflows.demo.run import run_demo
    from freshmock.proxy.store import check_recordable

    _ensure_parent(db)
    check_recordable(db)
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

    runs = read_counters(_open(db, read_only=True))
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
    from freshmock.proxy.redaction import DEFAULT_RULES, load_rules
    from freshmock.proxy.store import check_recordable

    rules = load_rules(config) if config is not None else DEFAULT_RULES
    _ensure_parent(db)
    check_recordable(db)
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
