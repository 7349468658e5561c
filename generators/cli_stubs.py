"""Commands that write stubs: generate, refresh, serve and pull."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from freshmock.generators.cli_common import (
    DEFAULT_DB,
    DbOption,
    StoreError,
    Target,
    _open,
    app,
    fail,
)
from freshmock.generators.targets import TARGETS

WindowOption = Annotated[
    str, typer.Option(help="Stub what was observed in the last N days (28d) or weeks (4w) "
                      "up to the newest observation, or 'all' for the whole record.")
]

PANEL = "Write and share stubs"


def _publish_window(store, window: str) -> str | None:
    """Publish the endpoints of --window; returns its first day (None: everything)."""
    from freshmock.generators.window import WindowError, publish_window, window_days

    try:
        days = window_days(window)
    except WindowError as error:
        fail(str(error), code=2)
    return publish_window(store, days)


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
) -> None:
    """Infer from the latest observations, then write stubs for TARGET.

    Stubs describe the dependency as recently observed: an endpoint or field
    not seen within --window is left out. Each stub replays a real recorded
    exemplar, the same one as last time while it still fits the schema.
    """
    from jinja2 import TemplateError


    store = _open(db)
    _publish_window(store, window)
    out_dir = out or Path("stubs") / target.value
    chosen = TARGETS[target.value]
    try:
        written = chosen.writer()(store, out_dir, service=service, templates_dir=templates)
    except TemplateError as error:  # a user's override template: name it, no traceback
        fail(f"template error: {type(error).__name__}: {error}")
    if not written:
        fail(f"no completed observations{' for ' + service if service else ''} in {db}")
    typer.echo(f"wrote {len(written)} {chosen.what} under {out_dir}")


@app.command(rich_help_panel=PANEL)
def refresh(
    out: Annotated[Path, typer.Option(help="Folder of committed stubs: OUT/<target>/...")],
    targets: Annotated[
        str, typer.Option(help="Comma-separated targets to regenerate: "
                          + ", ".join(sorted(TARGETS)) + ". Drift is read from wiremock.")
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
    verify: Annotated[list[Path] | None, typer.Option(
        "--verify", help="Hand-written mocks (files or folders, repeatable) to check as "
                         "`freshmock verify` does; the PR body lists the stale ones.")] = None,
) -> None:
    """Nightly refresh: drift against the stubs in OUT, regenerate them, write a PR body.

    Exits 0 either way; prints "no changes" (and commits nothing) when the
    regenerated stubs equal the committed ones.
    """
    from freshmock.generators.refresh import (
        RefreshError,
        commit_refresh,
        refresh_stubs,
        render_pr_body,
    )
    from freshmock.proxy.store import list_endpoints

    chosen = [name.strip() for name in targets.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in TARGETS]
    if unknown or not chosen:
        fail(f"unknown target(s) {', '.join(unknown) or '(none given)'}; choose from "
             + ", ".join(sorted(TARGETS)), code=2)
    store = _open(db)
    since = _publish_window(store, window)
    if not list_endpoints(store, service):
        fail(f"no completed observations{' for ' + service if service else ''} in {db}")
    from freshmock.generators.cli_verify import verify_for_refresh

    verified = verify_for_refresh(store, verify, window, service) if verify else None
    result = refresh_stubs(store, out, chosen, since=since, service=service)
    result.verified = verified
    body = render_pr_body(result)
    if pr_body is not None:
        pr_body.parent.mkdir(parents=True, exist_ok=True)
        pr_body.write_text(body, encoding="utf-8")
    if not result.changed:
        typer.echo(f"no changes: the stubs under {out} already match what was observed")
        return
    for name, change in result.changes.items():
        typer.echo(f"{name}: {len(change.added)} added, {len(change.modified)} changed, "
                   f"{len(change.removed)} removed")
    drift_total = sum(len(d.changes) for d in result.drifts)
    typer.echo(f"{drift_total} drift findings" if result.windows else
               "no committed stubs with statistics to compare with: no drift report")
    if commit:
        try:
            commit_id = commit_refresh(out, branch, result)
        except RefreshError as error:
            fail(str(error))
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
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8765,
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
    from freshmock.generators.serve import (
        MIN_TOKEN_LENGTH,
        ExportServer,
        ServeError,
        TokenError,
        is_loopback,
        read_token,
        token_file_warning,
    )
    from freshmock.generators.window import WindowError, window_days

    try:
        days = window_days(window)
    except WindowError as error:
        fail(str(error), code=2)
    try:
        token = read_token(token_file, MIN_TOKEN_LENGTH)
    except TokenError as error:
        fail(str(error))
    warning = token_file_warning(token_file)
    _open(db).conn.close()  # a missing or broken store fails here, in one line

    def say(line: str) -> None:
        typer.echo(f"freshmock: {line}", err=True)

    try:
        server = ExportServer(db, host, port, token, days, log=say)
    except ServeError as error:
        fail(str(error))
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
) -> None:
    """Fetch the stub export of a `freshmock serve` (or a local store) and write stubs from it.

    The stubs are those `freshmock generate` writes on the server's store:
    the server infers, and the export carries its endpoints and their
    exemplars; only the writers run here.
    """
    from jinja2 import TemplateError

    from freshmock.generators.export import ExportError
    from freshmock.generators.pull import (
        PullError,
        download_progress,
        fetch_export,
        is_url,
        local_export,
        write_stubs,
    )
    from freshmock.generators.serve import TokenError, read_token
    from freshmock.generators.window import DEFAULT_WINDOW, WindowError, window_days

    if is_url(source):
        if window is not None:
            fail("--window applies to a local store; a server exports the window its "
                 "`freshmock serve --window` sets", code=2)
        token = None
        if token_file is not None:
            try:
                token = read_token(token_file)
            except TokenError as error:
                fail(str(error))
        try:
            with download_progress(f"pulling {source}") as progress:
                document = fetch_export(source, token, service, progress)
        except PullError as error:
            fail(str(error))
    else:
        if not Path(source).is_file():
            fail(f"{source} is neither an http(s) URL nor a store file", code=2)
        try:
            days = window_days(window or DEFAULT_WINDOW)
        except WindowError as error:
            fail(str(error), code=2)
        try:
            document = local_export(Path(source), days, service)
        except (StoreError, PullError) as error:
            fail(str(error))
    endpoints = document["endpoints"]
    if not endpoints:
        fail(f"no endpoints in the export from {source} (nothing observed in its window yet?)")
    chosen = TARGETS[target.value]
    try:
        written = write_stubs(document, target.value, out, service, templates)
    except TemplateError as error:  # a user's override template: name it, no traceback
        fail(f"template error: {type(error).__name__}: {error}")
    except ExportError as error:
        fail(f"{source}: {error}")
    if not written:
        fail(f"none of the {len(endpoints)} endpoints from {source} gives {chosen.what}")
    services = len({endpoint["service"] for endpoint in endpoints})
    typer.echo(f"pulled {len(endpoints)} endpoints of {services} "
               f"{'service' if services == 1 else 'services'} from {source}; "
               f"wrote {len(written)} {chosen.what} under {out}")

