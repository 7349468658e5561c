"""HAR 1.2 files (browser devtools, mitmproxy's ``hardump``, Charles, Insomnia) as captures.

Each entry becomes the same ``Capture`` the live recorder copies from a
mitmproxy flow, so it goes through the same row building and redaction
(proxy/rows.py). Differences a HAR forces, and why:

- HAR bodies (``content.text``, ``postData.text``) are already decoded: the
  ``Content-Encoding`` header is dropped, or row building would try to
  gunzip plain text. Text is stored as UTF-8.
- HTTP/2 pseudo-headers (``:authority``, ``:path``...) are dropped: mitmproxy
  never lists them among a flow's headers either.
- ``status`` 0 is HAR for "no response": recorded like a flow that ended in
  an error, with ``_error`` (Chrome's and mitmproxy's field) as the reason.
- A HAR has no flow ids: an entry's id is a hash of the entry, so importing
  the same file twice finds the same ids (proxy/importer.py skips them).

Every problem raises ``CaptureFileError`` naming the entry by its index in
``log.entries`` (from 0, as ``jq '.log.entries[17]'`` counts) and the field.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from freshmock.proxy.capture import Capture, HeaderFields, capped, service_name
from freshmock.proxy.import_errors import CaptureFileError

_BOM = b"\xef\xbb\xbf"
_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
# Headers describing how the body travelled, which a HAR's decoded body no longer matches.
_DROPPED_HEADERS = frozenset({b"content-encoding"})
_ABSENT = object()
_KIND_NAMES = {dict: "an object", list: "an array", str: "a string", int: "an integer"}


class _EntryProblem(Exception):
    """What is wrong inside one entry; the caller adds the file and the index."""


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return "a number"
    return _KIND_NAMES.get(type(value), type(value).__name__)


def _take(parent: dict, name: str, where: str, kind: type, optional: bool = False):
    """``parent[name]`` checked to be a ``kind``; ``None`` when optional and absent or null."""
    value = parent.get(name, _ABSENT)
    label = f"{where}.{name}" if where else name
    if value is _ABSENT or (optional and value is None):
        if optional:
            return None
        raise _EntryProblem(f"{label} missing")
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _EntryProblem(f"{label} must be {_KIND_NAMES[kind]}, not {_type_name(value)}")
    return value


def _pairs(parent: dict, name: str, where: str, optional: bool = False) -> list[tuple[str, str]]:
    """A HAR list of ``{"name": ..., "value": ...}`` objects as pairs."""
    items = _take(parent, name, where, list, optional)
    pairs = []
    for index, item in enumerate(items or ()):
        label = f"{where}.{name}[{index}]"
        if not isinstance(item, dict):
            raise _EntryProblem(f"{label} must be an object, not {_type_name(item)}")
        value = _take(item, "value", label, str, optional=True)
        pairs.append((_take(item, "name", label, str), value or ""))
    return pairs


def _header_bytes(text: str) -> bytes:
    # mitmproxy keeps header bytes as received, which rows.py reads as latin-1.
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def _headers(parent: dict, where: str) -> HeaderFields:
    fields = []
    for name, value in _pairs(parent, "headers", where):
        raw_name = _header_bytes(name)
        if name.startswith(":") or raw_name.lower() in _DROPPED_HEADERS:
            continue
        fields.append((raw_name, _header_bytes(value)))
    return tuple(fields)


def _text_body(parent: dict, where: str) -> bytes | None:
    """``text`` of a HAR ``content`` or ``postData`` object, base64 undone; None if absent."""
    text = _take(parent, "text", where, str, optional=True)
    if text is None:
        return None
    encoding = _take(parent, "encoding", where, str, optional=True)
    if not encoding:
        return text.encode("utf-8", "replace")
    if encoding.lower() != "base64":
        raise _EntryProblem(f"{where}.encoding must be base64 when present")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _EntryProblem(f"{where}.text is not valid base64") from None


def _request_body(request: dict) -> bytes:
    post = _take(request, "postData", "request", dict, optional=True)
    if post is None:
        return b""  # what mitmproxy holds for a request without a body
    body = _text_body(post, "request.postData")
    if body is not None:
        return body
    # Some tools give a form only as params: rebuild the urlencoded body.
    params = _pairs(post, "params", "request.postData", optional=True)
    return urlencode(params).encode("utf-8") if params else b""


def _started_at(entry: dict) -> float:
    text = _take(entry, "startedDateTime", "", str)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _EntryProblem("startedDateTime is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:  # HAR requires an offset; a tool that left it out meant UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _target(request: dict) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path with query)`` from ``request.url`` and ``queryString``."""
    url = _take(request, "url", "request", str)
    parts = urlsplit(url)
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None or not parts.hostname:
        raise _EntryProblem("request.url is not an absolute http(s) URL")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise _EntryProblem("request.url has an invalid port") from None
    path = parts.path or "/"
    query = parts.query
    if not query:  # some tools keep the query only in queryString
        pairs = _pairs(request, "queryString", "request", optional=True)
        query = urlencode(pairs, quote_via=quote) if pairs else ""
    return scheme, parts.hostname, port, f"{path}?{query}" if query else path


def entry_id(entry: dict) -> str:
    """A stable id for an entry without one: the same entry always gets the same id."""
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "har-" + hashlib.sha256(canonical.encode("ascii")).hexdigest()[:32]


def entry_capture(entry: object, flow_id: str, service: str, max_body: int) -> Capture:
    if not isinstance(entry, dict):
        raise _EntryProblem(f"must be an object, not {_type_name(entry)}")
    started_at = _started_at(entry)
    request = _take(entry, "request", "", dict)
    method = _take(request, "method", "request", str)
    if not method:
        raise _EntryProblem("request.method is empty")
    scheme, host, port, path = _target(request)
    request_headers = _headers(request, "request")
    request_body, request_size = capped(_request_body(request), max_body)
    response = _take(entry, "response", "", dict)
    status = _take(response, "status", "response", int)
    reason = response.get("_error")  # not HAR 1.2, so taken only when it is usable
    error = reason if isinstance(reason, str) and reason else None
    if status == 0:
        status, response_headers, ended_at = None, (), None
        response_body = response_size = None
        error = error or "no response (status 0 in the HAR file)"
    else:
        response_headers = _headers(response, "response")
        content = _take(response, "content", "response", dict)
        response_body, response_size = capped(_text_body(content, "response.content"), max_body)
        elapsed = entry.get("time")
        ended_at = None
        if isinstance(elapsed, int | float) and not isinstance(elapsed, bool) and elapsed >= 0:
            ended_at = started_at + elapsed / 1000
    return Capture(
        flow_id=flow_id,
        service=service_name(service, host, port, scheme),
        started_at=started_at,
        ended_at=ended_at,
        method=method,
        scheme=scheme,
        host=host,
        port=port,
        path=path,
        request_headers=request_headers,
        request_body=request_body,
        request_body_size=request_size,
        status=status,
        response_headers=response_headers,
        response_body=response_body,
        response_body_size=response_size,
        response_streamed=False,
        error=error,
    )


def _document(path: Path, data: bytes) -> list:
    """``log.entries`` of a HAR file's bytes."""
    try:
        document = json.loads(data.removeprefix(_BOM))
    except json.JSONDecodeError as error:  # its message gives a position, never the text
        raise CaptureFileError(
            path, f"not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from None
    except UnicodeDecodeError:
        raise CaptureFileError(path, "not valid JSON (not UTF-8 text)") from None
    except RecursionError:
        raise CaptureFileError(path, "not valid JSON (nested too deeply)") from None
    log = document.get("log") if isinstance(document, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise CaptureFileError(path, "not a HAR file (no log.entries array)")
    return entries


def read_har(path: Path, data: bytes, service: str = "", max_body: int = 1024 * 1024):
    """``[(label, capture), ...]`` for every entry of a HAR file, in file order.

    ``service``: the name to record; empty means each request's host[:port],
    as the live recorder does.
    """
    captures = []
    seen: Counter[str] = Counter()
    for index, entry in enumerate(_document(path, data)):
        where = f"entry {index}"
        try:
            flow_id = entry_id(entry)
            seen[flow_id] += 1
            if seen[flow_id] > 1:  # the very same entry twice in one file: both happened
                flow_id = f"{flow_id}-{seen[flow_id]}"
            captures.append((where, entry_capture(entry, flow_id, service, max_body)))
        except _EntryProblem as problem:
            raise CaptureFileError(path, str(problem), where) from None
    return captures
