"""What a sidecar records, from ``freshmock.toml``: the store, limits, one listener per dependency.

```toml
[record]
db = "recordings/staging.db"   # the store (relative to the working directory)
listen_host = "127.0.0.1"      # every listener binds here unless it says otherwise
forward_port = 3128            # optional: a forward proxy too, for HTTP(S)_PROXY clients
ca_bundle = "/etc/ssl/internal-ca.pem"   # trust these CAs for HTTPS upstreams (PEM)
max_body = 1048576             # any option of proxy/recorder.py OPTIONS
body_budget = 120

[[dependencies]]
name = "users-api"
upstream = "http://users.internal:8080"
listen_port = 9001

[[dependencies]]
name = "payments"
upstream = "https://payments.example.com"
listen_port = 9002
http2 = true                   # speak HTTP/2 upstream (for an upstream that accepts only h2)
keep_host_header = true        # pass the client's Host on (default: the upstream's)
```

Every mistake is a ``RecordConfigError`` whose one-line message names the
file, the key and the problem. ``[redaction]`` is read by redaction_config.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from freshmock.proxy.errors import FreshmockError
from freshmock.proxy.recorder import OPTIONS
from freshmock.proxy.toml_file import read_toml

RECORD_KEYS = ("db", "listen_host", "forward_port", "ca_bundle", "keep_host_header", *OPTIONS)
DEPENDENCY_KEYS = ("name", "upstream", "listen_port", "listen_host", "http2",
                   "keep_host_header")


class RecordConfigError(FreshmockError):
    """The config cannot be used; the message is meant for the user as is."""


@dataclass(frozen=True)
class Listener:
    """One port the sidecar serves: reverse proxy for ``upstream``, or forward when None."""

    name: str  # recorded as the service; "" for the forward proxy (host:port instead)
    upstream: str | None
    listen_port: int
    listen_host: str | None = None  # None: the sidecar's listen_host
    http2: bool = False  # offer HTTP/2 to a TLS upstream (see upstream_http2.py)
    keep_host_header: bool = False  # pass the client's Host on (see host_header.py)


@dataclass(frozen=True)
class RecordConfig:
    db: str | None
    listen_host: str | None
    ca_bundle: str | None
    recorder_options: dict
    listeners: tuple[Listener, ...]
    keep_host_header: bool = False  # [record]: the default of every dependency


def _unknown(where: str, key: str, known: tuple[str, ...]) -> RecordConfigError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
    return RecordConfigError(f"{where} unknown key {key!r}; {hint}")


def _port(where: str, value: object) -> int:
    # 0: any free port, as with --listen-port 0; record prints the port it got
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise RecordConfigError(f"{where} must be a port number (0-65535), got {value!r}")
    return value


def _text(where: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RecordConfigError(f"{where} must be a non-empty string, got {value!r}")
    return value


def _record_table(table: dict) -> tuple[dict, list[Listener]]:
    options, listeners = {}, []
    for key, value in table.items():
        if key not in RECORD_KEYS:
            raise _unknown("[record]", key, RECORD_KEYS)
        if key in OPTIONS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RecordConfigError(f"[record] {key} must be a whole number, got {value!r}")
            options[key] = value
    if "forward_port" in table:
        listeners.append(Listener("", None, _port("[record] forward_port",
                                                   table["forward_port"])))
    return options, listeners


def _dependency(index: int, table: object, parse_upstream,
                default_keep_host: bool = False) -> Listener:
    where = f"[[dependencies]] #{index + 1}"
    if not isinstance(table, dict):
        raise RecordConfigError(f"{where} must be a table")
    for key in table:
        if key not in DEPENDENCY_KEYS:
            raise _unknown(where, key, DEPENDENCY_KEYS)
    for key in ("name", "upstream", "listen_port"):
        if key not in table:
            raise RecordConfigError(f"{where} needs {key!r}")
    name = _text(f"{where} name", table["name"])
    upstream = _text(f"{where} ({name}) upstream", table["upstream"])
    try:
        parse_upstream(upstream)
    except Exception as error:  # SidecarError; imported lazily to keep this module light
        raise RecordConfigError(f"{where} ({name}) upstream: {error}") from None
    host = table.get("listen_host")
    http2 = _flag(f"{where} ({name}) http2", table.get("http2", False))
    keep_host = _flag(f"{where} ({name}) keep_host_header",
                      table.get("keep_host_header", default_keep_host))
    return Listener(name, upstream, _port(f"{where} ({name}) listen_port", table["listen_port"]),
                    None if host is None else _text(f"{where} ({name}) listen_host", host),
                    http2, keep_host)


def _flag(where: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise RecordConfigError(f"{where} must be true or false, got {value!r}")
    return value


def parse_record_config(document: dict, parse_upstream) -> RecordConfig:
    """The record settings of a parsed freshmock.toml (other sections are ignored here)."""
    record = document.get("record", {})
    if not isinstance(record, dict):
        raise RecordConfigError("record must be a [record] table")
    options, listeners = _record_table(record)
    dependencies = document.get("dependencies", [])
    if not isinstance(dependencies, list):
        raise RecordConfigError("dependencies must be an array of [[dependencies]] tables")
    keep_host = _flag("[record] keep_host_header", record.get("keep_host_header", False))
    listeners += [_dependency(i, table, parse_upstream, keep_host)
                  for i, table in enumerate(dependencies)]
    names = [listener.name for listener in listeners if listener.name]
    for name in names:
        if names.count(name) > 1:
            raise RecordConfigError(f"[[dependencies]] name {name!r} is used twice")
    default_host = record.get("listen_host")
    addresses = [(listener.listen_host or default_host, listener.listen_port)
                 for listener in listeners]
    for listener, address in zip(listeners, addresses, strict=True):
        if addresses.count(address) > 1:
            raise RecordConfigError(
                f"port {listener.listen_port} is given to more than one listener")
    db = record.get("db")
    ca_bundle = record.get("ca_bundle")
    return RecordConfig(
        db=None if db is None else _text("[record] db", db),
        listen_host=None if default_host is None else _text("[record] listen_host",
                                                             default_host),
        ca_bundle=None if ca_bundle is None else _text("[record] ca_bundle", ca_bundle),
        recorder_options=options,
        listeners=tuple(listeners),
        keep_host_header=keep_host,
    )


def load_record_config(path: str | Path, parse_upstream) -> RecordConfig:
    path = Path(path)
    document = read_toml(path, RecordConfigError)
    try:
        config = parse_record_config(document, parse_upstream)
    except RecordConfigError as error:
        raise RecordConfigError(f"{path}: {error}") from None
    if config.ca_bundle is not None and not Path(config.ca_bundle).is_file():
        raise RecordConfigError(f"{path}: [record] ca_bundle {config.ca_bundle} is not a file")
    return config
