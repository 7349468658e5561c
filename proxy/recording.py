"""A foreground recording run, what ``freshmock record`` calls: options in, counters out.

``record_until_signalled(request, say)`` reads ``freshmock.toml`` into a
``SidecarConfig``, checks the store and the upstreams, runs one sidecar in
this thread (``Sidecar.serve_until_signalled``) or N sidecar processes
(``SidecarProcesses.serve_until_signalled``) until SIGINT or SIGTERM, and says what a person
reads on stderr through ``say``: where it listens, then the exit line with
the counters. Every failure is a ``FreshmockError`` with its one line.

The sidecar (mitmproxy, about half a second to import) is imported by the
functions that run it, so ``prepare_store`` stays cheap for ``import``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from freshmock.proxy.errors import FreshmockError
from freshmock.proxy.store import DEFAULT_DB, check_recordable

# record's --listen-host default: a [record] listen_host replaces only this one
DEFAULT_LISTEN_HOST = "127.0.0.1"

Say = Callable[[str], None]


@dataclass(frozen=True)
class RecordRequest:
    """What ``freshmock record`` was given on its command line."""

    db: Path = DEFAULT_DB
    upstream: str | None = None
    listen_host: str = DEFAULT_LISTEN_HOST
    listen_port: int = 8080
    service: str = ""
    check_upstream: bool = True
    keep_host_header: bool = False
    config: Path | None = None
    processes: int = 1


def prepare_store(db: Path) -> None:
    """Before anything records into ``db``: make the default store's folder, then
    refuse a read-only, foreign or damaged store in one line (not lost rows later)."""
    if db == DEFAULT_DB:
        db.parent.mkdir(parents=True, exist_ok=True)
    check_recordable(db)


def sidecar_config(request: RecordRequest):
    """The ``SidecarConfig`` for ``request``: its --config merged in, the store checked."""
    from freshmock.proxy.record_config import load_record_config
    from freshmock.proxy.redaction import load_rules
    from freshmock.proxy.sidecar import SidecarConfig, parse_upstream

    db, listen_host, keep_host = request.db, request.listen_host, request.keep_host_header
    options, listeners, ca_bundle = {}, (), None
    if request.config is not None:
        load_rules(request.config)  # fail here, in one line, rather than inside mitmproxy
        settings = load_record_config(request.config, parse_upstream)
        options.update(settings.recorder_options)
        options["config"] = str(request.config)
        listeners, ca_bundle = settings.listeners, settings.ca_bundle
        if keep_host:  # the command line's word holds for every dependency
            listeners = tuple(replace(x, keep_host_header=True) for x in listeners)
        if settings.db is not None and db == DEFAULT_DB:
            db = Path(settings.db)
        if settings.listen_host is not None and listen_host == DEFAULT_LISTEN_HOST:
            listen_host = settings.listen_host
        if listeners and request.upstream is not None:
            raise FreshmockError(f"--upstream and [[dependencies]] in {request.config} both "
                                 "name upstreams; use one")
    prepare_store(db)
    return SidecarConfig(str(db), request.upstream, listen_host, request.listen_port,
                         request.service, recorder_options=options, listeners=listeners,
                         ca_bundle=ca_bundle, keep_host_header=keep_host)


def listener_failure(message: str, single_address: str | None) -> str:
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


def _single_address(config) -> str | None:
    return None if config.listeners else f"{config.listen_host}:{config.listen_port}"


def _recorded_as(config) -> str:
    from freshmock.proxy.capture import service_name
    from freshmock.proxy.sidecar import parse_upstream

    if config.upstream is not None:
        scheme, host, port = parse_upstream(config.upstream)
        return f"as service {service_name(config.service, host, port, scheme)!r}"
    return ("as service " + repr(config.service) if config.service
            else "as each request's host (or host:port)")


def _stopped_line(counters, processes: int) -> str:
    across = f" ({processes} processes)" if processes > 1 else ""
    return (f"freshmock: stopped; {counters['recorded']} observations recorded, "
            f"{counters['dropped']} dropped, {counters['lost']} lost to errors{across}")


def record_until_signalled(request: RecordRequest, say: Say):
    """Record until SIGINT or SIGTERM, then drain; the run's counters.

    Raises ``FreshmockError`` (exit 2) for a bad config or store, an upstream
    that does not accept connections, a listener that cannot bind, and a run
    that recorded nothing because every write failed.
    """
    from freshmock.proxy.sidecar import check_upstream_reachable, mode_for

    config = sidecar_config(request)
    mode = mode_for(config)
    if request.check_upstream:
        for url in [x.upstream for x in config.listeners if x.upstream] or [config.upstream]:
            if url is not None:
                check_upstream_reachable(url)
    recorded_as = _recorded_as(config)
    if request.processes > 1:
        counters = _record_in_processes(config, request.processes, mode, say)
        say(_stopped_line(counters, request.processes))
        return counters
    counters = _record_in_this_process(config, mode, recorded_as, say)
    say(_stopped_line(counters, 1))
    if counters["lost"] and not counters["recorded"]:
        raise FreshmockError(f"nothing could be written to {config.db_path}: see "
                             f"`freshmock stats --db {config.db_path}` for why")
    return counters


def _record_in_this_process(config, mode: str, recorded_as: str, say: Say):
    from freshmock.proxy.sidecar import Sidecar, SidecarError, listener_modes

    sidecar = Sidecar(config)

    def say_listening() -> None:
        if config.listeners:
            for spec, name in listener_modes(config).items():
                for host, port in sidecar.listeners_by_mode.get(spec, []):
                    what = f"{name}: reverse proxy" if name else "forward proxy"
                    say(f"freshmock: {what} on http://{host}:{port} ({spec.split('@')[0]})")
            say(f"freshmock: recording into {config.db_path}, each dependency as its name "
                "above; Ctrl-C or SIGTERM to stop")
        else:
            host, port = sidecar.listen_addresses[0]
            say(f"freshmock: recording ({mode}) on http://{host}:{port} into {config.db_path} "
                f"{recorded_as}; Ctrl-C or SIGTERM to stop")

    try:
        sidecar.serve_until_signalled(say_listening)
    except SidecarError as error:
        raise SidecarError(listener_failure(str(error), _single_address(config))) from None
    return sidecar.recorder.counters


def _record_in_processes(config, processes: int, mode: str, say: Say):
    """``record --processes N``: N sidecars on the same ports (proxy/sidecar_processes.py)."""
    from freshmock.proxy.sidecar import SidecarError
    from freshmock.proxy.sidecar_processes import SidecarProcesses

    group = SidecarProcesses(config, processes)  # SidecarError: options that cannot work

    def say_listening() -> None:
        for spec, addresses in (group.listeners_by_mode.items() if config.listeners else ()):
            for host, port in addresses:
                say(f"freshmock: reverse proxy on http://{host}:{port} ({spec.split('@')[0]})")
        host, port = group.listen_addresses[0]
        where = "" if config.listeners else f" on http://{host}:{port}"
        say(f"freshmock: recording ({mode}){where} into {config.db_path} with {processes} "
            "processes; Ctrl-C or SIGTERM to stop")

    try:
        counters = group.serve_until_signalled(say_listening)
    except SidecarError as error:
        raise SidecarError(listener_failure(str(error), _single_address(config))) from None
    for failure in group.failures:
        say(f"freshmock: a sidecar process ended without its counters: {failure}")
    return counters
