"""Commands that write stubs: generate, refresh, serve and pull."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from freshmock.generators.cli.common import (
    DEFAULT_DB,
    DbOption,
    ExitCode,
    JsonOption,
    QuietOption,
    Target,
    _open,
    app,
    check_out_folder,
    check_port,
    check_service,
    check_templates,
    emit_json,
    fail,
    nothing_to_do,
    progress,
    require_observations,
)
from freshmock.generators.targets import TARGETS

WindowOption = Annotated[
    str, typer.Option(help="Stub what was observed in the last N days (28d) or weeks (4w) "
                      "up to the newest observation, or 'all' for the whole record.")
]

PANEL = "Write and share stubs"


def _publish_window(store, window: str) -> str | None:
    """Publish the endpoints of --window; returns its first day (None: everything)."""
    from freshmock.generators.model.window import publish_window, window_days

    return publish_window(store, window_days(window))


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
    from freshmock.generators.workflows.atomic_output import staged_folder

    out_dir = check_out_folder(out or Path("stubs") / target.value)
    check_templates(templates)
    window_days_checked(window)
    store = _open(db)
    require_observations(store, db)
    service = check_service(store, service)
    chosen = TARGETS[target.value]
    with progress(f"generating {chosen.what}", quiet):
        _publish_window(store, window)
        with staged_folder(out_dir) as staging:
            written = _run_writer(chosen, store, staging, service, templates)
            if not written:
                nothing_to_do(f"no completed observations{' for ' + service if service else ''} "
                              f"in {db} within --window {window}")
    if as_json:
        emit_json({"target": target.value, "out": str(out_dir), "written": len(written)})
    else:
        typer.echo(f"wrote {len(written)} {chosen.what} under {out_dir}")
    truncated = sum(getattr(item, "truncated", 0) for item in written)
    if truncated:
        typer.echo(f"note: {truncated} stub{'s' if truncated != 1 else ''} replay a body cut at "
                   "the body cap (--max-body when recording); each says so in its metadata",
                   err=True)


def window_days_checked(window: str) -> int | None:
    from freshmock.generators.model.window import window_days

    return window_days(window)


def _run_writer(chosen, store, out_dir: Path, service, templates):
    from jinja2 import TemplateError

    from freshmock.generators.targets.variants import DuplicateStubError

    try:
        return chosen.writer()(store, out_dir, service=service, templates_dir=templates)
    except TemplateError as error:  # a user's override template: name it, no traceback
        fail(f"template error: {type(error).__name__}: {error}")
    except DuplicateStubError as error:  # a bug of ours, never a wrong answer: say so loudly
        fail(str(error), code=ExitCode.CHECK_FAILED)


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
    from freshmock.generators.model.tables import list_endpoints
    from freshmock.generators.workflows.refresh import (
        check_git_repository,
        commit_refresh,
        refresh_stubs,
    )

    chosen = [name.strip() for name in targets.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in TARGETS]
    if unknown or not chosen:
        fail(f"unknown target(s) {', '.join(unknown) or '(none given)'}; choose from "
             + ", ".join(sorted(TARGETS)))
    check_out_folder(out)
    if pr_body is not None and pr_body.is_dir():
        fail(f"--pr-body {pr_body} is a folder; give a file name")
    window_days_checked(window)
    if commit:
        check_git_repository(out)
    store = _open(db)
    require_observations(store, db)
    service = check_service(store, service)
    from freshmock.generators.cli.verify import verify_for_refresh

    # Mocks are read before anything is written: a bad mock file is exit 2, nothing changed.
    verified = verify_for_refresh(store, verify, window, service) if verify else None
    with progress("refreshing stubs", quiet):
        since = _publish_window(store, window)
        if not list_endpoints(store, service):
            nothing_to_do(f"no completed observations{' for ' + service if service else ''} "
                          f"in {db} within --window {window}")
        result = refresh_stubs(store, out, chosen, since=since, service=service, pr_body=pr_body,
                               verified=verified)
    commit_id = commit_refresh(out, branch, result) if commit and result.changed else None
    drift_total = sum(len(d.changes) for d in result.drifts)
    if as_json:
        emit_json({"changed": result.changed, "drift_findings": drift_total,
                   "commit": commit_id,
                   "targets": {name: {"added": len(c.added), "changed": len(c.modified),
                                      "removed": len(c.removed)}
                               for name, c in result.changes.items()}})
        return
    if not result.changed:
        typer.echo(f"no changes: the stubs under {out} already match what was observed")
        return
    for name, change in result.changes.items():
        typer.echo(f"{name}: {len(change.added)} added, {len(change.modified)} changed, "
                   f"{len(change.removed)} removed")
    typer.echo(f"{drift_total} drift findings" if result.windows else
               "no committed stubs with statistics to compare with: no drift report")
    if commit_id:
        typer.echo(f"committed {commit_id[:12]} on {branch}")


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
    from freshmock.generators.workflows.serve import (
        MIN_TOKEN_LENGTH,
        ExportServer,
        is_loopback,
        read_token,
        token_file_warning,
    )

    check_port(port)
    days = window_days(window)
    token = read_token(token_file, MIN_TOKEN_LENGTH)
    warning = token_file_warning(token_file)
    # A missing, foreign, damaged or read-only store fails here, in one line:
    # serve folds new observations in before each answer, so it writes.
    from freshmock.proxy.store import check_recordable, check_store_file

    check_store_file(db, must_exist=True)
    check_recordable(db)

    def say(line: str) -> None:
        typer.echo(f"freshmock: {line}", err=True)

    server = ExportServer(db, host, port, token, days, log=say)
    if warning:
        say(f"warning: {warning}")
    if not is_loopback(host):
        say(f"warning: serving plain HTTP on {host}; the token and the export cross the network "
            "unencrypted (put TLS in front, or keep to 127.0.0.1 and tunnel)")
    say(f"serving stub exports of {db} on {server.url} (bearer token from {token_file}); "
        "Ctrl-C or SIGTERM to stop")
    server.run()
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
    from jinja2 import TemplateError

    from freshmock.generators.model.window import DEFAULT_WINDOW, window_days
    from freshmock.generators.workflows.atomic_output import staged_folder
    from freshmock.generators.workflows.export import ExportError
    from freshmock.generators.workflows.pull import (
        download_progress,
        fetch_export,
        is_url,
        local_export,
        write_stubs,
    )
    from freshmock.generators.workflows.serve import read_token

    check_out_folder(out)
    check_templates(templates)
    if is_url(source):
        if window is not None:
            fail("--window applies to a local store; a server exports the window its "
                 "`freshmock serve --window` sets")
        token = read_token(token_file) if token_file is not None else None
        with download_progress(f"pulling {source}", quiet=quiet) as on_progress:
            document = fetch_export(source, token, service, on_progress, timeout=timeout)
    else:
        if "://" in source:
            fail(f"{source}: pull speaks http:// (and https:// through a TLS proxy), "
                 f"not {source.split('://')[0]}://")
        if not Path(source).is_file():
            fail(f"{source} is neither an http(s) URL nor a store file")
        days = window_days(window or DEFAULT_WINDOW)
        checking = _open(Path(source), read_only=True)  # before local_export writes into it
        check_service(checking, service)
        checking.close()
        with progress(f"exporting {source}", quiet):
            document = local_export(Path(source), days, service)
    endpoints = document["endpoints"]
    if not endpoints:
        nothing_to_do(f"no endpoints in the export from {source} "
                      "(nothing observed in its window yet?)")
    chosen = TARGETS[target.value]
    with progress(f"writing {chosen.what}", quiet), staged_folder(out) as staging:
        try:
            written = write_stubs(document, target.value, staging, service, templates)
        except TemplateError as error:  # a user's override template: name it, no traceback
            fail(f"template error: {type(error).__name__}: {error}")
        except ExportError as error:
            fail(f"{source}: {error}")
        if not written:
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
