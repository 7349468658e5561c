"""Run a recording proxy: a mitmproxy master with only what a recorder needs.

``mitmdump`` loads some thirty addons (flow editing, replay, scripting, a
console dumper); a recorder needs a handful. The list below relies on
mitmproxy internals that are not a stable API, which is why mitmproxy is
pinned in ``pyproject.toml`` and ``tests/test_sidecar.py`` runs real traffic
through exactly this master.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import certifi

from freshmock.proxy.lean_addons import register_bare_addons_package

register_bare_addons_package()  # before the first mitmproxy.addons import: 10 MB less RSS

from mitmproxy import ctx, options
from mitmproxy.addons import (
    block,
    core,
    disable_h2c,
    next_layer,
    proxyserver,
    tlsconfig,
    update_alt_svc,
)
from mitmproxy.master import Master
from mitmproxy.proxy import mode_servers
from mitmproxy.utils import asyncio_utils

from freshmock.proxy.errors import FreshmockError
from freshmock.proxy.host_header import RewriteHostHeader
from freshmock.proxy.record_config import Listener
from freshmock.proxy.recorder import Recorder
from freshmock.proxy.store import StoreError, check_store_file
from freshmock.proxy.upstream_http2 import UpstreamHttp2


class SidecarError(FreshmockError):
    """The sidecar could not start; the message is meant for the user as is."""


@dataclass(frozen=True)
class SidecarConfig:
    db_path: str
    upstream: str | None = None  # None: a regular forward proxy
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    service: str = ""
    # Recorder options without their ``freshmock_`` prefix, e.g. {"max_body": 65536}
    # (see proxy/recorder.py OPTIONS).
    recorder_options: Mapping[str, object] = field(default_factory=dict)
    # Several listeners (one per dependency, from freshmock.toml); when given,
    # they replace upstream / listen_port / service above.
    listeners: tuple[Listener, ...] = ()
    ca_bundle: str | None = None  # PEM file of CAs trusted for HTTPS upstreams
    # Reverse mode: pass the client's Host header on instead of the upstream's
    # (proxy/host_header.py says when, and what it costs). Listeners say it each.
    keep_host_header: bool = False
    # SO_REUSEPORT on every TCP listener, so several sidecar processes serve one
    # port (proxy/sidecar_processes.py); the kernel spreads connections over them.
    reuse_port: bool = False


def parse_upstream(url: str) -> tuple[str, str, int]:
    """``http://host:port`` → (scheme, host, port), or a one-line SidecarError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SidecarError(
            f"--upstream must look like http://HOST:PORT or https://HOST, not {url!r}"
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise SidecarError(f"--upstream has an invalid port: {url!r}") from None
    if parts.path not in ("", "/"):
        raise SidecarError(
            f"--upstream takes no path (got {parts.path!r}): reverse mode maps / to /"
        )
    return parts.scheme, parts.hostname, port


def check_upstream_reachable(url: str, timeout: float = 3.0) -> None:
    _, host, port = parse_upstream(url)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SidecarError(f"upstream {url} does not accept connections ({reason})") from None


def _mode(upstream: str | None) -> str:
    if upstream is None:
        return "regular"
    scheme, host, port = parse_upstream(upstream)
    return f"reverse:{scheme}://{host}:{port}"


def mode_for(config: SidecarConfig) -> str:
    return _mode(config.upstream)


def _listener_spec(config: SidecarConfig, listener: Listener) -> str:
    host = listener.listen_host or config.listen_host
    return f"{_mode(listener.upstream)}@{host}:{listener.listen_port}"


def keeps_host_header(config: SidecarConfig) -> bool:
    """Whether mitmproxy's switch is on: for the sidecar, or for any of its listeners."""
    if config.listeners:
        return any(listener.keep_host_header for listener in config.listeners)
    return config.keep_host_header


def listener_modes(config: SidecarConfig) -> dict[str, str]:
    """mitmproxy mode spec → service name recorded for its traffic.

    Each spec names its own listen address (``...@host:port``), so mitmproxy
    serves every dependency from one process; the spec of the listener a
    connection came in on tells the recorder whose traffic it is.
    """
    if not config.listeners:
        return {mode_for(config): config.service}
    return {_listener_spec(config, listener): listener.name for listener in config.listeners}


class _StartupWatch(logging.Handler):
    """Addon and log handler: learns whether the listeners came up.

    mitmproxy reports a listener that cannot bind (port in use, no permission)
    only as an error log line, then carries on; the sidecar must not.
    """

    def __init__(self, sidecar: Sidecar, started: threading.Event | None) -> None:
        super().__init__(logging.ERROR)
        self.sidecar = sidecar
        self.started = started
        self.messages: list[str] = []
        logging.getLogger("mitmproxy").addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def running(self) -> None:
        logging.getLogger("mitmproxy").removeHandler(self)
        addresses = ctx.master.addons.get("proxyserver").listen_addrs()
        if self.messages or not addresses:
            self.sidecar.startup_error = "; ".join(self.messages) or "no proxy listener started"
            ctx.master.shutdown()
        else:
            # Everything loaded so far (mitmproxy, its addons, certificates) lives
            # as long as the process: moved out of the collector's generations, a
            # full collection no longer walks it (see docs/performance.md, tail).
            gc.collect()
            gc.freeze()
            self.sidecar.listen_addresses = [(addr[0], addr[1]) for addr in addresses]
            self.sidecar.listeners_by_mode = {
                server.mode.full_spec: [(addr[0], addr[1]) for addr in server.listen_addrs]
                for server in ctx.master.addons.get("proxyserver").servers
            }
        if self.started is not None:
            self.started.set()


DRAIN_SECONDS = 5.0


def _allow_reuse_port() -> None:
    """Let a Proxyserver with ``freshmock_reuse_port`` bind its TCP listeners with SO_REUSEPORT.

    mitmproxy binds each listener with ``asyncio.start_server(handler, host,
    port)`` and offers no option for it; every socket sharing a port must set
    SO_REUSEPORT before binding, so the one method that binds is wrapped.
    Other Proxyservers in the process bind as before. mitmproxy is pinned
    (see the module docstring); tests/test_processes.py binds two processes.
    """
    instance = mode_servers.AsyncioServerInstance
    if getattr(instance.listen, "freshmock_reuse_port", False):
        return
    original = instance.listen

    async def listen(self, host: str, port: int):
        if (getattr(self.manager, "freshmock_reuse_port", False) and port
                and self.mode.transport_protocol == "tcp"):
            return [await asyncio.start_server(self.handle_stream, host, port, reuse_port=True)]
        return await original(self, host, port)

    listen.freshmock_reuse_port = True
    instance.listen = listen


def _quiet_cancellation(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """Connections still open at shutdown are cancelled; that is not an error to print."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


class Sidecar:
    def __init__(self, config: SidecarConfig) -> None:
        self.config = config
        self.recorder = Recorder()
        self.master: Master | None = None
        self.listen_addresses: list[tuple[str, int]] = []
        self.listeners_by_mode: dict[str, list[tuple[str, int]]] = {}
        self.startup_error: str | None = None
        self._ca_folder: tempfile.TemporaryDirectory | None = None

    def _build_master(self, watch: _StartupWatch) -> Master:
        opts = options.Options()
        master = Master(opts)
        server = proxyserver.Proxyserver()
        if self.config.reuse_port:
            _allow_reuse_port()
            server.freshmock_reuse_port = True
        master.addons.add(
            core.Core(),
            server,
            next_layer.NextLayer(),
            tlsconfig.TlsConfig(),
            block.Block(),
            disable_h2c.DisableH2C(),
            update_alt_svc.UpdateAltSvc(),
            self.recorder,
            watch,
        )
        http2_specs = [_listener_spec(self.config, x) for x in self.config.listeners if x.http2]
        if http2_specs:
            master.addons.add(UpstreamHttp2(http2_specs))
        keep_host = keeps_host_header(self.config)
        if keep_host and self.config.listeners:
            rewritten = [_listener_spec(self.config, x) for x in self.config.listeners
                         if x.upstream and not x.keep_host_header]
            if rewritten:
                master.addons.add(RewriteHostHeader(rewritten))
        modes = listener_modes(self.config)
        self.recorder.services_by_mode = modes
        if self.config.ca_bundle:
            opts.update(ssl_verify_upstream_trusted_ca=self._trusted_cas(self.config.ca_bundle))
        opts.update(
            mode=list(modes),
            listen_host=self.config.listen_host,
            listen_port=self.config.listen_port,
            # Lazy: read the request before connecting upstream, so a dependency
            # that is down still yields a flow (recorded with its error) and the
            # client a 502 that says why, instead of a bare reset.
            connection_strategy="lazy",
            keep_host_header=keep_host,
            freshmock_db=self.config.db_path,
            freshmock_service=self.config.service,
            **{f"freshmock_{name}": value for name, value in self.config.recorder_options.items()},
        )
        return master

    def _trusted_cas(self, ca_bundle: str) -> str:
        """certifi's roots plus the user's CAs, in one file for mitmproxy.

        mitmproxy trusts ``ssl_verify_upstream_trusted_ca`` *instead of*
        certifi; a bundle for an internal CA must not make public upstreams
        untrusted, so the two are joined. The file lives as long as the sidecar.
        """
        self._ca_folder = tempfile.TemporaryDirectory(prefix="freshmock-cas-")
        joined = Path(self._ca_folder.name) / "trusted-cas.pem"
        joined.write_bytes(Path(certifi.where()).read_bytes().rstrip(b"\n") + b"\n"
                           + Path(ca_bundle).read_bytes())
        return str(joined)

    async def run(self, started: threading.Event | None = None) -> None:
        """Serve until ``stop()``; raise SidecarError if a listener fails to start."""
        try:
            check_store_file(Path(self.config.db_path), must_exist=False)
        except StoreError as error:
            raise SidecarError(str(error)) from None
        asyncio.get_running_loop().set_exception_handler(_quiet_cancellation)
        watch = _StartupWatch(self, started)
        # The lean master has no terminal log: recording failures (logged once
        # per kind, by name only) would otherwise reach nobody.
        warnings = logging.StreamHandler(sys.stderr)
        warnings.setLevel(logging.WARNING)
        logging.getLogger("freshmock").addHandler(warnings)
        try:
            self.master = self._build_master(watch)
            await self.master.run()
        finally:
            logging.getLogger("mitmproxy").removeHandler(watch)
            logging.getLogger("freshmock").removeHandler(warnings)
            if self._ca_folder is not None:
                self._ca_folder.cleanup()
        if self.startup_error is not None:
            raise SidecarError(self.startup_error)

    def serve_until_signalled(self, on_ready) -> None:
        """Run in this thread until SIGINT or SIGTERM; ``on_ready()`` once listening.

        The one loop of a foreground sidecar (``freshmock record`` and each
        child of ``record --processes``); raises SidecarError like ``run``.
        """
        import signal

        async def serve() -> None:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, self.stop)
            task = asyncio.ensure_future(self.run())
            while not self.listen_addresses and not task.done():
                await asyncio.sleep(0.02)
            if self.listen_addresses:
                on_ready()
            await task

        asyncio.run(serve())

    def stop(self) -> None:
        """Thread-safe: stop accepting connections, then shut down and drain."""
        master = self.master
        if master is None:
            return

        async def close_listeners_then_exit() -> None:
            try:
                proxyserver = master.addons.get("proxyserver")
                await proxyserver.servers.update([])
                # Let connections already closing finish, so their flows are
                # recorded and nothing is cancelled mid-way; then stop anyway.
                deadline = time.monotonic() + DRAIN_SECONDS
                while proxyserver.connections and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
            finally:
                master.should_exit.set()

        def schedule() -> None:
            asyncio_utils.create_task(
                close_listeners_then_exit(), name="freshmock stop", keep_ref=True
            )

        master.event_loop.call_soon_threadsafe(schedule)


class SidecarThread:
    """A sidecar on its own event loop in a background thread (demo, tests).

    ``with SidecarThread(config) as sidecar:`` returns once the listener is up;
    leaving the block stops the proxy and waits until every capture is written.
    """

    def __init__(self, config: SidecarConfig, start_timeout: float = 30.0) -> None:
        self.sidecar = Sidecar(config)
        self.start_timeout = start_timeout
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="freshmock-sidecar", daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self.sidecar.run(self._started))
        except BaseException as error:  # handed to the starting thread
            self._error = error
        finally:
            self._started.set()

    @property
    def port(self) -> int:
        return self.sidecar.listen_addresses[0][1]

    def __enter__(self) -> SidecarThread:
        self._thread.start()
        self._started.wait(self.start_timeout)
        if self._error is not None:
            raise self._error
        if not self.sidecar.listen_addresses:
            raise SidecarError("the recording proxy did not start in time")
        return self

    def stop(self) -> None:
        """Stop the proxy and wait until every capture is written. Idempotent."""
        if self._thread.is_alive():
            self.sidecar.stop()
            self._thread.join(60)

    def __exit__(self, *exc_info) -> None:
        self.stop()
