"""``freshmock pull``: fetch a server's export (or make one from a local store), write stubs.

The transport is the only difference between a URL and a local store: either
way an export document comes back, becomes a ``Model`` (``export.export_model``)
and the same writers as ``freshmock generate`` run on it, with no store. HTTP goes through the
standard library's ``urllib`` (one GET: no dependency to add for it), with
redirects refused so the token never follows one to another host.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from freshmock.generators.workflows.atomic_output import staged_folder
from freshmock.generators.workflows.export import (
    ExportError,
    check_document,
    export_document,
    export_model,
    take_snapshot,
)
from freshmock.generators.workflows.generate import NothingWritten, write_target
from freshmock.generators.workflows.serve import read_token
from freshmock.proxy.errors import FreshmockError
from freshmock.proxy.store import open_store

OnProgress = Callable[[int, int | None], None]  # (bytes so far, bytes in all or None)

TIMEOUT = 60.0  # seconds without a byte (pull --timeout); a server infers before its first answer
_CHUNK = 64 * 1024


class PullError(FreshmockError):
    """A pull that cannot go ahead; the message is meant for the user as is."""


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def export_url(base: str, service: str | None = None) -> str:
    """``BASE/v1/export`` (BASE may carry a path prefix), with ``?service=`` when given."""
    parts = urlsplit(base)
    path = parts.path.rstrip("/")
    if not path.endswith("/v1/export"):
        path += "/v1/export"
    query = urlencode({"service": service}) if service else ""
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _shown(url: str) -> str:
    """The URL without any user:password@ part, for messages."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx


_OPENER = urllib.request.build_opener(_NoRedirects)


def _error_text(body: bytes) -> str | None:
    try:
        message = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return None
    return message if isinstance(message, str) else None


def _http_failure(base: str, error: urllib.error.HTTPError, token: str | None) -> str:
    try:
        message = _error_text(error.read(64 * 1024))
    except (OSError, http.client.HTTPException):
        message = None
    if error.code in (401, 403):
        if token is None:
            return f"{base} requires a token: pass --token-file (or set FRESHMOCK_TOKEN_FILE)"
        return f"token refused by {base} (HTTP {error.code}): check --token-file"
    if 300 <= error.code < 400:
        return (f"{base} redirected to {error.headers.get('Location', '?')}; pull from that "
                "address directly (the token is not sent on to a redirect)")
    if error.code == 404 and message is None:
        return f"{base} has no /v1/export (HTTP 404): is it a `freshmock serve`?"
    return f"{base} answered HTTP {error.code}" + (f": {message}" if message else "")


def _connect_failure(base: str, reason: object, timeout: float) -> str:
    where = urlsplit(base).netloc
    if isinstance(reason, ConnectionRefusedError):
        return f"cannot connect to {where}: connection refused (is `freshmock serve` running?)"
    if isinstance(reason, socket.gaierror):
        return f"cannot connect to {where}: unknown host"
    if isinstance(reason, TimeoutError):
        return (f"{where} did not answer within {timeout:g} s (is it a `freshmock serve`? "
                "a large store: raise --timeout)")
    if isinstance(reason, ssl.SSLError):
        if _speaks_plain_http(reason):
            return (f"{where} answered TLS with plain HTTP: `freshmock serve` speaks http://, "
                    f"so pull {_shown(base).replace('https://', 'http://', 1)}")
        return f"TLS with {where} failed: {reason.reason or reason}"
    text = getattr(reason, "strerror", None) or str(reason)
    return f"cannot connect to {where}: {text}"


def _speaks_plain_http(error: ssl.SSLError) -> bool:
    # OpenSSL's words when the first bytes back are "HTTP/1.x ...", not a TLS record
    return any(word in str(error).upper()
               for word in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"))


def _read(response, on_progress: OnProgress | None) -> bytes:
    length = response.headers.get("Content-Length")
    total = int(length) if length and length.isdigit() else None
    parts, done = [], 0
    while chunk := response.read(_CHUNK):
        parts.append(chunk)
        done += len(chunk)
        if on_progress is not None:
            on_progress(done, total)
    if total is not None and done < total:
        raise http.client.IncompleteRead(b"", total - done)
    return b"".join(parts)


def fetch_export(
    base: str,
    token: str | None,
    service: str | None = None,
    on_progress: OnProgress | None = None,
    timeout: float = TIMEOUT,
) -> dict:
    """GET the export from a ``freshmock serve`` at ``base`` and check it."""
    shown = _shown(base)
    request = urllib.request.Request(export_url(base, service), headers={
        "Accept": "application/json", "Accept-Encoding": "gzip", "User-Agent": "freshmock-pull",
    })
    if token is not None:
        request.add_unredirected_header("Authorization", f"Bearer {token}")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            encoding = response.headers.get("Content-Encoding", "identity").lower()
            body = _read(response, on_progress)
    except urllib.error.HTTPError as error:
        raise PullError(_http_failure(shown, error, token)) from None
    except urllib.error.URLError as error:
        raise PullError(_connect_failure(shown, error.reason, timeout)) from None
    except TimeoutError:
        raise PullError(f"{shown} accepted the connection but sent nothing for {timeout:g} s "
                        "(is it a `freshmock serve`? a large store: raise --timeout)") from None
    except ssl.SSLError as error:
        raise PullError(_connect_failure(shown, error, timeout)) from None
    except (http.client.HTTPException, ConnectionError) as error:
        raise PullError(f"the answer from {shown} broke off ({type(error).__name__})") from None
    try:
        if encoding == "gzip":
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        document = json.loads(body)
    except (zlib.error, ValueError):
        raise PullError(f"{shown} did not answer with JSON: is it a `freshmock serve`?") from None
    try:
        return check_document(document)
    except ExportError as error:
        raise PullError(f"{shown}: {error}") from None


def local_export(path: Path, days: int | None, service: str | None = None) -> dict:
    """The export ``freshmock serve --window`` would hand out for the store at ``path``.

    Raises ``StoreError`` for an unusable store, ``PullError`` for an unknown service.
    """
    db = open_store(path)
    try:
        return check_document(export_document(take_snapshot(db, days), service))
    except ExportError as error:
        raise PullError(f"{path}: {error}") from None
    finally:
        db.conn.close()


def write_stubs(
    document: dict,
    target: str,
    out_dir: Path,
    service: str | None = None,
    templates_dir: Path | None = None,
) -> list:
    """Run ``target``'s writer on the model the export holds (no store in between)."""
    return write_target(export_model(document), target, out_dir, service, templates_dir)


def check_source(source: str, window: str | None) -> bool:
    """Whether ``source`` is a server's URL (else a store file); refuse anything else."""
    if is_url(source):
        if window is not None:
            raise PullError("--window applies to a local store; a server exports the window "
                            "its `freshmock serve --window` sets")
        return True
    if "://" in source:
        raise PullError(f"{source}: pull speaks http:// (and https:// through a TLS proxy), "
                        f"not {source.split('://')[0]}://")
    if not Path(source).is_file():
        raise PullError(f"{source} is neither an http(s) URL nor a store file")
    return False


def pull_document(source: str, service: str | None, token_file: Path | None,
                  days: int | None, timeout: float = TIMEOUT,
                  on_progress: OnProgress | None = None) -> dict:
    """The export of a server (``source`` a URL) or of a local store, checked."""
    if is_url(source):
        token = read_token(token_file) if token_file is not None else None
        return fetch_export(source, token, service, on_progress, timeout=timeout)
    return local_export(Path(source), days, service)


def write_pulled(document: dict, source: str, target: str, out_dir: Path,
                 service: str | None = None, templates_dir: Path | None = None) -> list:
    """Write ``target`` from a pulled export under ``out_dir``, all or nothing.

    Raises ``NothingWritten`` (``out_dir`` left as it was) when no stub came out.
    """
    try:
        model = export_model(document)
    except ExportError as error:
        raise PullError(f"{source}: {error}") from None
    with staged_folder(out_dir) as staging:
        written = write_target(model, target, staging, service, templates_dir)
        if not written:
            raise NothingWritten("no stub to write")
    return written


@contextmanager
def download_progress(label: str, threshold: int = 1 << 20,
                      quiet: bool = False) -> Iterator[OnProgress]:
    """A progress bar on stderr for downloads of ``threshold`` bytes or more (terminals only)."""
    import sys

    if quiet or not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    bar: Progress | None = None
    task = None

    def update(done: int, total: int | None) -> None:
        nonlocal bar, task
        if bar is None:
            if (total if total is not None else done) < threshold:
                return
            bar = Progress(TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                      console=Console(stderr=True), transient=True)
            bar.start()
            task = bar.add_task(label, total=total)
        bar.update(task, completed=done)

    try:
        yield update
    finally:
        if bar is not None:
            bar.stop()
