"""The ``freshmock`` command: a thin typer layer over the library.

A user mistake (missing store, port in use, unreachable upstream) is one
line on stderr and exit code 1; typer's own usage errors exit 2.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from freshmock.generators.targets import TARGETS
from freshmock.proxy.store import (
    DEFAULT_DB,
    StoreError,
    check_store_file,
    count_observations,
    open_store,
)

app = typer.Typer(
    help="Record a dependency's real traffic, infer its schemas, regenerate your mocks from it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold recorded traffic
)

DbOption = Annotated[
    Path,
    typer.Option(
        "--db",
        envvar="FRESHMOCK_DB",
        help="SQLite store of recorded traffic.",
        show_default=True,
    ),
]


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar="FRESHMOCK_CONFIG",
        help="freshmock.toml: [redaction] rules for record, [paths] rules for infer and diff.",
    ),
]

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# typer lists the choices in --help from this enum
Target = Enum("Target", {name: name for name in TARGETS}, type=str)



def fail(message: str, code: int = 1) -> None:
    typer.echo(f"freshmock: error: {message}", err=True)
    raise typer.Exit(code)


def _open(db: Path):
    try:
        return open_store(db)
    except StoreError as error:
        fail(str(error))


def _path_rules(config: Path | None):
    from freshmock.generators.paths import PathRules, PathRulesError, load_path_rules

    if config is None:
        return PathRules()
    try:
        return load_path_rules(config)
    except PathRulesError as error:
        fail(str(error))


def _ensure_parent(db: Path) -> None:
    if db == DEFAULT_DB:
        db.parent.mkdir(parents=True, exist_ok=True)


def _listener_failure(message: str, host: str, port: int) -> str:
    # mitmproxy's message suggests its own --mode syntax, which means nothing here.
    if "address already in use" in message.lower():
        return (f"cannot listen on {host}:{port}: address already in use "
                "(choose another --listen-port)")
    return message.splitlines()[0] if message else "the recording proxy failed to start"


@app.command()
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
        str, typer.Option(help="Name recorded for the dependency (default: upstream host:port).")
    ] = "",
    check_upstream: Annotated[
        bool, typer.Option(help="Refuse to start when the upstream does not accept connections.")
    ] = True,
    config: ConfigOption = None,
) -> None:
    """Run the recording proxy until Ctrl-C or SIGTERM (then drain to the store).

    With --config, a freshmock.toml can name several dependencies, each served
    on its own port from this one process ([[dependencies]]: name, upstream,
    listen_port), plus the store, limits and a CA bundle ([record]); see
    docs/sidecar.md.
    """
    # mitmproxy loads only for the commands that run it: the others start faster
    from freshmock.proxy.record_config import RecordConfigError, load_record_config
    from freshmock.proxy.redaction import RedactionConfigError, load_rules
    from freshmock.proxy.sidecar import (
        Sidecar,
        SidecarConfig,
        SidecarError,
        check_upstream_reachable,
        listener_modes,
        mode_for,
        parse_upstream,
    )

    options, listeners, ca_bundle = {}, (), None
    if config is not None:
        try:
            load_rules(config)  # fail here, in one line, rather than inside mitmproxy
            settings = load_record_config(config, parse_upstream)
        except (RedactionConfigError, RecordConfigError) as error:
            fail(str(error))
        options.update(settings.recorder_options)
        options["config"] = str(config)
        listeners, ca_bundle = settings.listeners, settings.ca_bundle
        if settings.db is not None and db == DEFAULT_DB:
            db = Path(settings.db)
        if settings.listen_host is not None and listen_host == "127.0.0.1":
            listen_host = settings.listen_host
        if listeners and upstream is not None:
            fail(f"--upstream and [[dependencies]] in {config} both name upstreams; use one")
    _ensure_parent(db)
    sidecar_config = SidecarConfig(str(db), upstream, listen_host, listen_port, service,
                                   recorder_options=options, listeners=listeners,
                                   ca_bundle=ca_bundle)
    try:
        mode = mode_for(sidecar_config)
        upstreams = [x.upstream for x in listeners if x.upstream] or [upstream]
        if check_upstream:
            for url in upstreams:
                if url is not None:
                    check_upstream_reachable(url)
    except SidecarError as error:
        fail(str(error))
    sidecar = Sidecar(sidecar_config)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, sidecar.stop)
        task = asyncio.ensure_future(sidecar.run())
        while not sidecar.listen_addresses and not task.done():
            await asyncio.sleep(0.02)
        if listeners and sidecar.listen_addresses:
            for spec, name in listener_modes(sidecar_config).items():
                for host, port in sidecar.listeners_by_mode.get(spec, []):
                    what = f"{name}: reverse proxy" if name else "forward proxy"
                    typer.echo(f"freshmock: {what} on http://{host}:{port} "
                               f"({spec.split('@')[0]})", err=True)
            typer.echo(f"freshmock: recording into {db}; Ctrl-C or SIGTERM to stop", err=True)
        elif sidecar.listen_addresses:
            host, port = sidecar.listen_addresses[0]
            typer.echo(
                f"freshmock: recording ({mode}) on http://{host}:{port} into {db}; "
                "Ctrl-C or SIGTERM to stop",
                err=True,
            )
        await task

    try:
        asyncio.run(serve())
    except SidecarError as error:
        fail(_listener_failure(str(error), listen_host, listen_port) if not listeners
             else str(error).splitlines()[0])
    counters = sidecar.recorder.counters
    typer.echo(
        f"freshmock: stopped; {counters['recorded']} observations recorded, "
        f"{counters['dropped']} dropped, {counters['lost']} lost to errors",
        err=True,
    )


@app.command()
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


@app.command()
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


class ReportFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class FailOn(str, Enum):
    breaking = "breaking"
    risky = "risky"
    any = "any"
    never = "never"


_DURATION = re.compile(r"^(\d+)([dw])$")


def _days(text: str, option: str) -> int:
    match = _DURATION.match(text.strip())
    if not match or int(match[1]) == 0:
        fail(f"{option} takes a number of days or weeks such as 7d or 4w, not {text!r}", code=2)
    return int(match[1]) * (7 if match[2] == "w" else 1)


@app.command()
def diff(
    since: Annotated[
        str, typer.Option(help="Current window: the last N days (7d) or weeks (2w) observed.")
    ] = "7d",
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
) -> None:
    """Report how each dependency's observed behaviour drifted: breaking, risky, additive.

    Compares the current window (the last --since days up to the newest
    observation) with the --baseline-window before it, or with what the stubs
    in --against say. Exit codes: 0 nothing at or above --fail-on, 1 drift at
    or above it, 2 usage errors.
    """
    from datetime import date, timedelta

    from freshmock.generators.diff import compare_windows
    from freshmock.generators.drift_report import (
        Windows,
        exceeds,
        render_json,
        render_markdown,
        render_text,
    )
    from freshmock.generators.infer import merge_window, update_partials
    from freshmock.proxy.store import last_observed_day

    current_days = _days(since, "--since")
    baseline_days = _days(baseline_window, "--baseline-window")
    try:
        store = open_store(db)
    except StoreError as error:
        fail(str(error), code=2)
    rules = _path_rules(config)
    update_partials(store, rules=rules)
    newest = last_observed_day(store)
    if newest is None:
        fail(f"no completed observations in {db}", code=2)
    end = date.fromisoformat(newest)
    current = (end - timedelta(days=current_days - 1), end)
    current_days_text = tuple(d.isoformat() for d in current)
    if against is not None:
        from freshmock.generators.stub_baseline import (
            StubBaselineError,
            baseline_days,
            read_stub_baseline,
        )

        try:
            baseline_data = read_stub_baseline(against)
        except StubBaselineError as error:
            fail(str(error), code=2)
        windows = Windows(baseline_days(baseline_data), current_days_text)
    else:
        baseline = (current[0] - timedelta(days=baseline_days), current[0] - timedelta(days=1))
        windows = Windows(tuple(d.isoformat() for d in baseline), current_days_text)
        baseline_data = merge_window(store, *windows.baseline, rules=rules)
    drifts = compare_windows(
        baseline_data, merge_window(store, *windows.current, rules=rules), service=service
    )
    render = {"text": render_text, "json": render_json, "markdown": render_markdown}
    typer.echo(render[report_format.value](drifts, windows), nl=False)
    raise typer.Exit(1 if exceeds(drifts, fail_on.value) else 0)


_AGE = re.compile(r"^(\d+)([hdw])$")


@app.command()
def check(
    folder: Annotated[
        Path, typer.Argument(help="Folder of generated stubs (searched recursively).")
    ],
    max_age: Annotated[
        str, typer.Option(help="Budget for a stub's latest observation: e.g. 36h, 7d, 2w.")
    ] = "7d",
) -> None:
    """Fail when any stub's dependency was last observed longer ago than --max-age.

    The gate a consumer's CI runs before trusting its mocks: exit 0 when
    every stub is fresh, 1 naming each stale stub and its age, 2 for usage
    errors (no stubs found, a bad --max-age).
    """
    from datetime import UTC, datetime, timedelta

    from freshmock.generators.check import describe_age, stub_ages

    match = _AGE.match(max_age.strip())
    if not match:
        fail(f"--max-age takes hours, days or weeks such as 36h, 7d or 2w, not {max_age!r}",
             code=2)
    unit = {"h": 1, "d": 24, "w": 24 * 7}[match[2]]
    budget = timedelta(hours=int(match[1]) * unit)
    if not folder.is_dir():
        fail(f"{folder} is not a folder of stubs", code=2)
    ages = stub_ages(folder, datetime.now(UTC))
    if not ages:
        fail(f"no freshmock stubs under {folder}", code=2)
    stale = [a for a in ages if a.age > budget]
    for item in stale:
        typer.echo(f"stale: {item.path}  {item.endpoint}  last observed "
                   f"{describe_age(item.age)} ago (budget {max_age})")
    typer.echo(f"{len(ages) - len(stale)} of {len(ages)} stubs observed within {max_age}")
    raise typer.Exit(1 if stale else 0)


@app.command()
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


@app.command()
def endpoints(
    db: DbOption = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
) -> None:
    """List inferred endpoints with their observation count and last-seen time."""
    from freshmock.proxy.store import list_endpoints

    rows = list_endpoints(_open(db))
    if as_json:
        keys = ("service", "method", "path_template", "status", "media_type",
                "observations", "first_seen", "last_seen")
        typer.echo(json.dumps([{k: row[k] for k in keys} for row in rows], indent=2))
        return
    if not rows:
        typer.echo("no endpoints yet: run `freshmock infer` after recording", err=True)
    for row in rows:
        typer.echo(
            f"{row['service']}  {row['method']:<6} {row['path_template']}  {row['status']}  "
            f"{row['media_type'] or '-'}  {row['observations']} obs  last seen {row['last_seen']}"
        )


WindowOption = Annotated[
    str, typer.Option(help="Stub what was observed in the last N days (28d) or weeks (4w) "
                      "up to the newest observation, or 'all' for the whole record.")
]


def _publish_window(store, window: str) -> str | None:
    """Publish the endpoints of --window; returns its first day (None: everything)."""
    from freshmock.generators.window import WindowError, publish_window, window_days

    try:
        days = window_days(window)
    except WindowError as error:
        fail(str(error), code=2)
    return publish_window(store, days)


@app.command()
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


@app.command()
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
    result = refresh_stubs(store, out, chosen, since=since, service=service)
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


@app.command()
def demo(
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path, typer.Option(help="Where the WireMock mappings go.")] = Path(
        "stubs/wiremock"
    ),
) -> None:
    """Run the whole loop on a built-in demo dependency: record, infer, write WireMock stubs."""
    from freshmock.generators.demo.run import run_demo
    from freshmock.proxy.sidecar import SidecarError

    _ensure_parent(db)
    try:
        result = run_demo(db, out, say=lambda line: typer.echo(f"· {line}"))
    except (SidecarError, StoreError) as error:
        fail(str(error))
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
        typer.echo(f"serve them with: wiremock --root-dir {service_dirs[0]}")


@app.command()
def stats(
    db: DbOption = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
) -> None:
    """What each recording run saw, kept, sampled out, dropped and lost, and why."""
    from freshmock.proxy.store import read_counters

    runs = read_counters(_open(db))
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


@app.command(name="import")
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
    from freshmock.proxy.import_errors import CaptureFileError
    from freshmock.proxy.importer import read_captures, write_captures
    from freshmock.proxy.redaction import DEFAULT_RULES, RedactionConfigError, load_rules

    try:
        rules = load_rules(config) if config is not None else DEFAULT_RULES
        built = read_captures(files, service=service, rules=rules)
        _ensure_parent(db)
        results = write_captures(db, built, body_budget=body_budget)
    except (RedactionConfigError, CaptureFileError, StoreError) as error:
        fail(str(error), code=2)
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


@app.command()
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


@app.command()
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


def main() -> None:
    app()
