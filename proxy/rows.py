"""Turn captures into store rows: decode, redact, hash, shape, sample.

Runs in the worker process (proxy/worker.py), never in a proxy hook. Every
function here is pure apart from the ``Sampler`` it is handed.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from freshmock.proxy.bodies import (
    DEFAULT_MAX_BODY,
    decode_body,
    is_stored_media_type,
    sha256_hex,
)
from freshmock.proxy.capture import Capture, HeaderFields, WebSocketCapture
from freshmock.proxy.operations import operation_of
from freshmock.proxy.redaction import Redactor, count_redacted, default_redactor
from freshmock.proxy.sampling import Sampler, body_shape, endpoint_key, shape_digest


def redact_body(redactor: Redactor, media_type: str, data: bytes) -> bytes:
    """THE one place every body passes before it is stored, hashed or shaped.

    HTTP request and response bodies of stored media types (JSON, form, text)
    and WebSocket text messages come through here, decoded and capped (so
    ``data`` may be a truncated prefix, which the redactor scans as text).
    """
    redacted = redactor.redact_body(media_type, data)
    return data if redacted is None else redacted


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(text: str | None) -> str | None:
    """``text`` as valid UTF-8 for SQLite.

    mitmproxy decodes paths and methods with ``surrogateescape``, so a path
    with bytes that are not UTF-8 arrives with lone surrogates, which SQLite
    refuses; each such byte becomes ``%XX``, as it would in a URL.
    """
    if text is None or text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        text = _ESCAPED_BYTE.sub(lambda m: f"%{ord(m.group()) - 0xDC00:02X}", text)
        return _LONE_SURROGATE.sub("\ufffd", text)


def iso_utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def header_value(fields: HeaderFields, name: str) -> str:
    wanted = name.encode("latin-1").lower()
    for raw_name, raw_value in fields:
        if raw_name.lower() == wanted:
            return raw_value.decode("latin-1")
    return ""


def media_type(fields: HeaderFields) -> str:
    """``Content-Type`` without parameters, lowercased; ``""`` when absent."""
    return header_value(fields, "content-type").split(";", 1)[0].strip().lower()


@dataclass(frozen=True, slots=True)
class StoredBody:
    media_type: str
    data: bytes | None  # what goes to the store: None for metadata-only or undecodable
    size: int | None
    truncated: bool
    sha256: str | None  # of the whole decoded (and redacted, if stored) body; None if cut
    decode_error: str | None
    shape: bytes  # digest of the body's shape (sampling.body_shape)


# Shapes of recent bodies by hash: the same body (a static document, a common
# error) is not parsed and walked again. Bounded; only whole bodies have a hash.
_SHAPE_MEMO: OrderedDict[tuple[str, str], bytes] = OrderedDict()
SHAPE_MEMO_SIZE = 1024


def _shape(kind: str, stored: bytes | None, truncated: bool, sha256: str | None) -> bytes:
    if stored is None:
        return shape_digest(kind, "meta")
    if sha256 is None:
        return shape_digest(*body_shape(kind, stored, truncated))
    memo_key = (kind, sha256)
    shape = _SHAPE_MEMO.get(memo_key)
    if shape is None:
        shape = _SHAPE_MEMO[memo_key] = shape_digest(*body_shape(kind, stored, truncated))
        if len(_SHAPE_MEMO) > SHAPE_MEMO_SIZE:
            _SHAPE_MEMO.popitem(last=False)
    return shape


def stored_body(
    raw: bytes | None,
    received_size: int | None,
    fields: HeaderFields,
    max_body: int,
    redactor: Redactor,
) -> StoredBody:
    kind = media_type(fields)
    body = decode_body(raw, header_value(fields, "content-encoding"), max_body, received_size)
    data = body.data
    stored = None
    if data is not None and is_stored_media_type(kind, data):
        data = stored = redact_body(redactor, kind, data)
    sha256 = None if body.truncated else sha256_hex(data)
    shape = _shape(kind, stored, body.truncated, sha256)
    return StoredBody(kind, stored, body.size, body.truncated, sha256, body.decode_error, shape)


def _count_redacted_headers(fields: HeaderFields, redacted) -> int:
    """Markers redaction put into header values (cookies count one per value)."""
    before = sum(count_redacted(value.decode("latin-1")) for _, value in fields)
    return sum(count_redacted(value) for _, value in redacted) - before


@dataclass(frozen=True, slots=True)
class Observation:
    row: dict
    endpoint: str
    shape: bytes
    has_body: bool  # a stored body on either side: subject to sampling
    redacted: int  # header and query values replaced (bodies are not counted)


def build_observation(
    capture: Capture, max_body: int = DEFAULT_MAX_BODY, redactor: Redactor | None = None
) -> Observation:
    redactor = redactor or default_redactor()
    path, _, query = storable_text(capture.path).partition("?")
    service = storable_text(capture.service)
    method = storable_text(capture.method)
    request = stored_body(
        capture.request_body, capture.request_body_size, capture.request_headers, max_body,
        redactor,
    )
    response = stored_body(
        capture.response_body, capture.response_body_size, capture.response_headers, max_body,
        redactor,
    )
    request_headers = redactor.redact_headers(capture.request_headers)
    response_headers = redactor.redact_headers(capture.response_headers)
    redacted_query = redactor.redact_query(query)
    redacted = (
        _count_redacted_headers(capture.request_headers, request_headers)
        + _count_redacted_headers(capture.response_headers, response_headers)
        + count_redacted(redacted_query) - count_redacted(query)
    )
    # From what is stored (redacted), before sampling drops the body: a
    # sampled-out GraphQL or JSON-RPC row keeps its operation.
    operation, discriminator = operation_of(
        path, redacted_query, request_headers, request.media_type, request.data
    )
    duration_ms = None
    if capture.ended_at is not None:
        duration_ms = round((capture.ended_at - capture.started_at) * 1000, 3)
    row = {
        "observed_at": iso_utc(capture.started_at),
        "service": service,
        "method": method,
        "scheme": capture.scheme,
        "host": storable_text(capture.host),
        "port": capture.port,
        "path": path,
        "query": redacted_query,
        "request_headers": json.dumps(request_headers),
        "request_media_type": request.media_type,
        "request_body": request.data,
        "request_body_size": request.size,
        "request_body_truncated": int(request.truncated),
        "request_body_sha256": request.sha256,
        "status": capture.status,
        "response_headers": json.dumps(response_headers),
        "response_media_type": response.media_type,
        "response_body": response.data,
        "response_body_size": response.size,
        "response_body_truncated": int(response.truncated),
        "response_body_sha256": response.sha256,
        "response_streamed": int(capture.response_streamed),
        "sampled_out": 0,
        "duration_ms": duration_ms,
        "error": storable_text(capture.error) or request.decode_error or response.decode_error,
        "flow_id": storable_text(capture.flow_id),
        "operation": storable_text(operation),
        "discriminator": discriminator,
    }
    return Observation(
        row=row,
        # each operation its own budget: one busy query must not starve the others
        endpoint=endpoint_key(service, method, path) + (f" {operation}" if operation else ""),
        shape=shape_digest(capture.status, request.shape, response.shape),
        has_body=bool(request.data) or bool(response.data),
        redacted=redacted,
    )


def sample(observation: Observation, sampler: Sampler, at: float) -> bool:
    """Apply the sampler; a sampled-out row loses its bodies. True if bodies kept."""
    if not observation.has_body:
        return True
    if sampler.keep(observation.endpoint, observation.shape, at):
        return True
    row = observation.row
    row["request_body"] = row["response_body"] = None
    row["sampled_out"] = 1
    return False


def observation_row(
    capture: Capture, max_body: int = DEFAULT_MAX_BODY, redactor: Redactor | None = None
) -> dict:
    """The store row for ``capture``, with its bodies (no sampling)."""
    return build_observation(capture, max_body, redactor).row


def websocket_row(message: WebSocketCapture, redactor: Redactor | None = None) -> dict:
    """Text messages are stored (capped, through ``redact_body``); binary ones as metadata."""
    truncated = message.size > len(message.content)
    data = None
    if message.is_text:
        head = message.content.lstrip()[:1]
        kind = "application/json" if head in (b"{", b"[") else "text/plain"
        data = redact_body(redactor or default_redactor(), kind, message.content)
    return {
        "flow_id": storable_text(message.flow_id),
        "observed_at": iso_utc(message.timestamp),
        "service": storable_text(message.service),
        "path": storable_text(message.path).split("?", 1)[0],
        "seq": message.seq,
        "from_client": int(message.from_client),
        "opcode": "text" if message.is_text else "binary",
        "size": message.size,
        "truncated": int(truncated),
        "data": data,
        "sha256": None if truncated else sha256_hex(data if data is not None else message.content),
    }
