"""Commands that write stubs: generate, refresh, serve and pull."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from freshmock.generators.cli.common import (
    DEFAULT_DB,
    DbOption,
    JsonOption,
    QuietOption,
    Target,
    app,
    check_out_folder,
    check_port,
    check_service,
    check_templates,
    emit_json,
    fail,
    nothing_to_do,
    open_db,
    progress,
    require_observations,
)
from freshmock.generators.targets import TARGETS

WindowOption = Annotated[
    str, typer.Option(help="Stub what was observed in the last N days (28d) or weeks (4w) "
                      "up to the newest observation, or 'all' for the whole record.")
]

PANEL = "Write and share stubs"


@app.command(rich_help_panel=PANEL)
def generate(
    target: Annotated[Target, typer.Option(help="Stub format to write.")] = Target.wiremock,
    db: DbOption = DEFAULT_DB,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: stubs/TARGET).")
    ] = None,
    service: Annotated[str | None, typer.Option(help="Only this dependency.")] = None,
    templates: Annotated[
        Path | None, typer.Option(help="Folder of templates that override the built-in ones.")
    ] = None,
    window: WindowOption = "28d",
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Infer from the latest observations, then write stubs for TARGET.

    Stubs describe the dependency as recently observed: an endpoint or field
    not seen within --window is left out. Each stub replays a real recorded
    exemplar, the same one as last time while it still fits the schema.

    All or nothing: the stubs are written beside OUT and moved into place at
    the end, so an interrupted run leaves OUT as it was.
    """
    from freshmock.generators.model.window import window_days
    from freshmock.generators.workflows.generate import (
        NothingWritten,
        generate_stubs,
        truncated_count,
    )

    out_dir = check_out_folder(out or Path("stubs") / target.value)
    check_templates(templates)
    days = window_days(window)
    store = open_db(db)
    require_observations(store, db)
    service = check_service(store, service)
    chosen = TARGETS[target.value]
    with progress(f"generating {chosen.what}", quiet):
        try:
            written = generate_stubs(store, target.value, out_dir, days, service, templates)
        except NothingWritten:
            nothing_to_do(f"no completed observations{' for ' + service if service else ''} "
                          f"in {db} within --window {window}")
    if as_json:
        emit_json({"target": target.value, "out": str(out_dir), "written": len(written)})
    else:
        typer.echo(f"wrote {len(written)} {chosen.what} under {out_dir}")
    if truncated := truncated_count(written):
        typer.echo(f"note: {truncated} stub{'s' if truncated != 1 else ''} replay a body cut at "
                   "the body cap (--max-body when recording); each says so in its metadata",
                   err=True)


@app.command(rich_help_panel=PANEL)
def refresh(
    out: Annotated[Path, typer.Option(help="Folder of committed stubs: OUT/<target>/...")],
    targets: Annotated[
        str, typer.Option("--target", "--targets",
                          help="Comma-separated targets to regenerate: "
                          + ", ".join(sorted(TARGETS)) + ". Drift is read from wiremock. "
                          "(--targets is the older spelling.)")
    ] = "wiremock,openapi",
    db: DbOption = DEFAULT_DB,
    pr_body: Annotated[
        Path | None, typer.Option(help="Write the pull-request body (Markdown) here.")
    ] = None,
    commit: Annotated[
        bool, typer.Option(help="Create --branch from HEAD and commit the refreshed stubs "
                           "(push and PR creation are left to CI).")
    ] = False,
    branch: Annotated[str, typer.Option(help="Branch for --commit.")] = "freshmock/refresh",
    service: Annotated[str | None, typer.Option(help="Only this dependency.")] = None,
    window: WindowOption = "28d",
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    verify: Annotated[list[Path] | None, typer.Option(
        "--verify", help="Hand-written mocks (files or folders, repeatable) to check as "
                         "`freshmock verify` does; the PR body lists the stale ones.")] = None,
) -> None:
    """Nightly refresh: drift against the stubs in OUT, regenerate them, write a PR body.

    Exits 0 either way; prints "no changes" (and commits nothing) when the
    regenerated stubs equal the committed ones. All or nothing: every target
    folder and the PR body are written beside their place and moved in
    together at the end; an interrupted refresh leaves OUT as it was.
    """
    from freshmock.generators.cli.verify import verify_for_refresh
    from freshmock.generators.model.window import window_days
    from freshmock.generators.workflows import refresh as refreshing

    chosen = refreshing.parse_targets(targets)
    check_out_folder(out)
    if pr_body is not None and pr_body.is_dir():
        fail(f"--pr-body {pr_body} is a folder; give a file name")
    days = window_days(window)
    if commit:
        refreshing.check_git_repository(out)
    store = open_db(db)
    require_observations(store, db)
    service = check_service(store, service)
    # Mocks are read before anything is written: a bad mock file is exit 2, nothing changed.
    verified = verify_for_refresh(store, verify, window, service) if verify else None
    with progress("refreshing stubs", quiet):
        try:
            result = refreshing.run_refresh(store, out, chosen, days, service, pr_body, verified)
        except refreshing.NothingToRefresh:
            nothing_to_do(f"no completed observations{' for ' + service if service else ''} "
                          f"in {db} within --window {window}")
    commit_id = (refreshing.commit_refresh(out, branch, result)
                 if commit and result.changed else None)
    if as_json:
        emit_json(refreshing.summary_json(result, commit_id))
        return
    for line in refreshing.summary_lines(result, out, commit_id, branch):
        typer.echo(line)


@app.command(rich_help_panel=PANEL)
def serve(
    token_file: Annotated[
        Path,
        typer.Option(envvar="FRESHMOCK_TOKEN_FILE",
                     help="File holding the bearer token clients must send "
                     "(one word, at least 16 characters)."),
    ],
    db: DbOption = DEFAULT_DB,
    host: Annotated[
        str, typer.Option(help="Address to listen on. Anything but loopback puts the export "
                          "and the token on the network in plain HTTP.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port to listen on, 0-65535 (0: any free port).")
    ] = 8765,
    window: Annotated[
        str, typer.Option(help="Export what was observed in the last N days (28d) or weeks "
                          "(4w) up to the newest observation, or 'all', as generate does.")
    ] = "28d",
) -> None:
    """Serve the store's stub export, read-only over HTTP, until Ctrl-C or SIGTERM.

    Developers run `freshmock pull URL` against it to get the stubs `freshmock
    generate` would write here: published schemas, counts and each endpoint's
    redacted exemplar, never any other recorded traffic. New observations
    are folded in before answering, so a pull gets the latest state.
    """
    from freshmock.generators.model.window import window_days
    from freshmock.generators.workflows.serve import serve_store

    check_port(port)
    days = window_days(window)

    def say(line: str) -> None:
        typer.echo(f"freshmock: {line}", err=True)

    serve_store(db, host, port, token_file, days, log=say)
    say("stopped")


@app.command(rich_help_panel=PANEL)
def pull(
    source: Annotated[
        str, typer.Argument(help="URL of a `freshmock serve` (http://host:port), "
                            "or the path of a local store.")
    ],
    target: Annotated[Target, typer.Option(help="Stub format to write.")],
    out: Annotated[Path, typer.Option(help="Output folder.")],
    service: Annotated[
        str | None, typer.Option(help="Only this dependency (default: every one).")
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(envvar="FRESHMOCK_TOKEN_FILE", help="File holding the server's token."),
    ] = None,
    window: Annotated[
        str | None, typer.Option(help="For a local store: the window to stub, as for generate "
                                 "(default 28d). A server's comes from `serve --window`.")
    ] = None,
    templates: Annotated[
        Path | None, typer.Option(help="Folder of templates that override the built-in ones.")
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds to wait for the server to connect and to "
                            "send each part of its answer (it infers before the first byte).")
    ] = 60.0,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Fetch the stub export of a `freshmock serve` (or a local store) and write stubs from it.

    The stubs are those `freshmock generate` writes on the server's store:
    the server infers, and the export carries its endpoints and their
    exemplars; only the writers run here. All or nothing: the stubs are
    written beside OUT and moved into place at the end.
    """
    from freshmock.generators.model.window import DEFAULT_WINDOW, window_days
    from freshmock.generators.workflows import pull as pulling
    from freshmock.generators.workflows.generate import NothingWritten

    check_out_folder(out)
    check_templates(templates)
    remote = pulling.check_source(source, window)
    days = None if remote else window_days(window or DEFAULT_WINDOW)
    if not remote:  # the store's own services, checked before local_export writes into it
        checking = open_db(Path(source), read_only=True)
        check_service(checking, service)
        checking.close()
    showing = (pulling.download_progress(f"pulling {source}", quiet=quiet) if remote
               else progress(f"exporting {source}", quiet))
    with showing as on_progress:
        document = pulling.pull_document(source, service, token_file, days, timeout,
                                         on_progress)
    endpoints = document["endpoints"]
    if not endpoints:
        nothing_to_do(f"no endpoints in the export from {source} "
                      "(nothing observed in its window yet?)")
    chosen = TARGETS[target.value]
    with progress(f"writing {chosen.what}", quiet):
        try:
            written = pulling.write_pulled(document, source, target.value, out, service,
                                           templates)
        except NothingWritten:
            nothing_to_do(f"none of the {len(endpoints)} endpoints from {source} "
                          f"gives {chosen.what}")
    services = len({endpoint["service"] for endpoint in endpoints})
    if as_json:
        emit_json({"source": source, "endpoints": len(endpoints), "services": services,
                   "target": target.value, "out": str(out), "written": len(written)})
        return
    typer.echo(f"pulled {len(endpoints)} endpoints of {services} "
               f"{'service' if services == 1 else 'services'} from {source}; "
               f"wrote {len(written)} {chosen.what} under {out}")


@app.command(rich_help_panel=PANEL)
def wiremock(
    folder: Annotated[
        Path, typer.Argument(help="Stubs written by `generate --target wiremock`: the OUT "
                             "folder, or one service's folder in it.")
    ] = Path("stubs/wiremock"),
    service: Annotated[
        str | None, typer.Option(help="The dependency to serve when FOLDER holds several.")
    ] = None,
    port: Annotated[int, typer.Option(help="Port WireMock listens on, 0-65535 (0: any free "
                                      "port).")] = 8080,
    host: Annotated[str, typer.Option(help="Address WireMock listens on.")] = "127.0.0.1",
) -> None:
    """Serve generated WireMock stubs with the WireMock that `make peers` installed.

    Looks for WireMock in FRESHMOCK_WIREMOCK, then .peers/ in this folder or
    a parent, then PATH; runs it until Ctrl-C. Needs Java 11+.
    """
    import subprocess

    from freshmock.generators.workflows.wiremock_runner import (
        check_java,
        find_wiremock,
        wiremock_command,
        wiremock_root,
    )

    check_port(port)
    root = wiremock_root(folder, service)
    launcher = find_wiremock()
    check_java()
    typer.echo(f"freshmock: serving {root} with WireMock on http://{host}:{port}; "
               "Ctrl-C to stop", err=True)
    child = subprocess.Popen(wiremock_command(launcher, root, port, host))
    try:
        code = child.wait()
    except KeyboardInterrupt:  # the child got the same SIGINT (one process group)
        child.wait()
        raise
    if code != 0:
        fail(f"WireMock exited with status {code} (see its output above)")
