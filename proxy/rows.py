"""Turn captures into store rows: decode, shape, sample, then redact and hash what is kept.

Runs in the worker process (proxy/worker.py), never in a proxy hook. Every
function here is pure apart from the ``Sampler`` and ``ShapeMemo`` it is handed.
With a body budget ~99% of bodies are sampled out at full load, so the order
matters: a 50 KB JSON body cost 3.7 ms when it was redacted before sampling
threw it away, and costs its decode, parse and shape walk (or one hash, when
the same bytes were seen recently) when the shape decides first.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from freshmock.proxy.bodies import (
    DEFAULT_MAX_BODY,
    Body,
    decode_body,
    sha256_hex,
)
from freshmock.proxy.capture import Capture, HeaderFields, WebSocketCapture
from freshmock.proxy.json_text import UNPARSED, parse_or_invalid
from freshmock.proxy.operations import operation_of
from freshmock.proxy.redaction import Redactor, count_redacted, default_redactor, redacts_as_json
from freshmock.proxy.sampling import (
    Sampler,
    body_shape,
    endpoint_key,
    shape_digest,
    shapes_as_json,
)


def redact_body(redactor: Redactor, media_type: str, data: bytes, document=UNPARSED) -> bytes:
    """THE one place every body passes before it is stored or hashed.

    HTTP request and response bodies of stored media types (JSON, form, text)
    that are kept (not sampled out), and WebSocket text messages, come through
    here, decoded and capped (so ``data`` may be a truncated prefix, which the
    redactor scans as text). ``document``: ``data`` already parsed for its shape.
    """
    redacted = redactor.redact_body(media_type, data, document)
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
class BodyFacts:
    """What sampling and the row need of a body, before any redaction."""

    size: int | None
    truncated: bool
    decode_error: str | None
    stored: bool  # a stored media type (JSON, form, text), decoded: kept if sampled in
    has_data: bool  # stored and not empty: subject to sampling
    shape: bytes  # digest of the body's shape (sampling.body_shape), of the unredacted body
    meta_sha256: str | None  # of a metadata-only body (images...): nothing to redact


@dataclass(slots=True)
class SurveyedBody:
    """One side of a capture between reading and the sampling decision."""

    media_type: str
    facts: BodyFacts
    body: Body | None  # decoded; None until needed when the facts came from the memo
    document: object  # the decoded body parsed as JSON, INVALID, or UNPARSED


class ShapeMemo:
    """Facts of recently seen bodies by a digest of their bytes as received.

    The same body (a static document, a common error) costs one sha256 of its
    raw bytes (8 us for 12.6 KB of gzip) instead of decoding, parsing and
    walking it again (1.5 ms for that body as 50 KB of JSON). Memory only, in
    the worker; bounded. Only whole bodies are memoised.
    """

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._facts: OrderedDict[tuple, BodyFacts] = OrderedDict()

    def get(self, key: tuple) -> BodyFacts | None:
        facts = self._facts.get(key)
        if facts is not None:
            self._facts.move_to_end(key)
        return facts

    def put(self, key: tuple, facts: BodyFacts) -> None:
        self._facts[key] = facts
        if len(self._facts) > self.size:
            self._facts.popitem(last=False)


def _decode(kind: str, raw, encoding: str, max_body: int, received_size) -> tuple:
    """(body, stored, document): decoded, whether its media type is stored, parsed if JSON."""
    body = decode_body(raw, encoding, max_body, received_size)
    data = body.data
    stored = data is not None  # every body within the cap: binary ones replay byte for byte
    document = UNPARSED
    if (stored and data and not body.truncated
            and (shapes_as_json(kind) or redacts_as_json(kind, data))):
        document = parse_or_invalid(data)  # once, for the shape and the redaction
    return body, stored, document


def survey_body(
    raw: bytes | None,
    received_size: int | None,
    fields: HeaderFields,
    max_body: int,
    memo: ShapeMemo | None = None,
) -> SurveyedBody:
    """Decode and shape a body (no redaction yet: it may be sampled out)."""
    kind = media_type(fields)
    encoding = header_value(fields, "content-encoding")
    key = None
    if memo is not None and raw:
        key = (kind, encoding, received_size, max_body, hashlib.sha256(raw).digest())
        facts = memo.get(key)
        if facts is not None:
            return SurveyedBody(kind, facts, None, UNPARSED)
    body, stored, document = _decode(kind, raw, encoding, max_body, received_size)
    data = body.data
    if stored:
        shape = shape_digest(*body_shape(kind, data, body.truncated, document))
    else:
        shape = shape_digest(kind, "meta")
    meta_sha256 = None if stored or body.truncated else sha256_hex(data)
    facts = BodyFacts(body.size, body.truncated, body.decode_error, stored,
                      stored and bool(data), shape, meta_sha256)
    if key is not None:
        memo.put(key, facts)
    return SurveyedBody(kind, facts, body, document)


def stored_data(
    surveyed: SurveyedBody, raw, received_size, fields, max_body: int, redactor: Redactor
) -> tuple[bytes | None, str | None]:
    """``(data, sha256)`` of a kept body: redacted, and hashed unless cut at the cap."""
    facts = surveyed.facts
    if not facts.stored:
        return None, facts.meta_sha256
    body, document = surveyed.body, surveyed.document
    if body is None:  # facts from the memo: decode now that it is kept
        encoding = header_value(fields, "content-encoding")
        body, _, document = _decode(surveyed.media_type, raw, encoding, max_body, received_size)
    data = redact_body(redactor, surveyed.media_type, body.data, document)
    return data, None if facts.truncated else sha256_hex(data)


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
    sampled_out: bool = False  # bodies were not kept (so never redacted nor hashed)


def build_observation(
    capture: Capture,
    max_body: int = DEFAULT_MAX_BODY,
    redactor: Redactor | None = None,
    sampler: Sampler | None = None,
    memo: ShapeMemo | None = None,
) -> Observation:
    """The store row for ``capture``.

    With a ``sampler``, a body's fate is decided from its shape first (one
    parse, before redaction), and only a kept body is redacted and hashed: a
    sampled-out row never costs a redaction of its response body. Without one every body is kept
    (``sample`` may drop them later, as the importer does).
    """
    redactor = redactor or default_redactor()
    path, _, query = storable_text(capture.path).partition("?")
    service = storable_text(capture.service)
    method = storable_text(capture.method)
    sides = (
        (capture.request_body, capture.request_body_size, capture.request_headers),
        (capture.response_body, capture.response_body_size, capture.response_headers),
    )
    request, response = (survey_body(raw, size, fields, max_body, memo)
                         for raw, size, fields in sides)
    request_headers = redactor.redact_headers(capture.request_headers)
    response_headers = redactor.redact_headers(capture.response_headers)
    redacted_query = redactor.redact_query(query)
    redacted = (
        _count_redacted_headers(capture.request_headers, request_headers)
        + _count_redacted_headers(capture.response_headers, response_headers)
        + count_redacted(redacted_query) - count_redacted(query)
    )
    # The operation is read from the request as it would be stored (redacted),
    # before the sampling decision: it is part of the budget's key (one busy
    # query must not starve the others), and a sampled-out GraphQL or JSON-RPC
    # row keeps it. Request bodies are small; the large ones are responses.
    request_stored = stored_data(request, *sides[0], max_body, redactor)
    operation, discriminator = operation_of(
        path, redacted_query, request_headers, request.media_type, request_stored[0]
    )
    endpoint = endpoint_key(service, method, path) + (f" {operation}" if operation else "")
    shape = shape_digest(capture.status, request.facts.shape, response.facts.shape)
    has_body = request.facts.has_data or response.facts.has_data
    keep = sampler is None or not has_body or sampler.keep(endpoint, shape, capture.started_at)
    stored = []
    for surveyed, (raw, size, fields) in zip((request, response), sides, strict=True):
        if keep:
            stored.append(request_stored if surveyed is request
                          else stored_data(surveyed, raw, size, fields, max_body, redactor))
        elif surveyed.facts.stored:
            stored.append((None, None))  # sampled out: not kept, not hashed
        else:
            stored.append((None, surveyed.facts.meta_sha256))
    (request_data, request_sha256), (response_data, response_sha256) = stored
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
        "request_body": request_data,
        "request_body_size": request.facts.size,
        "request_body_truncated": int(request.facts.truncated),
        "request_body_sha256": request_sha256,
        "status": capture.status,
        "response_headers": json.dumps(response_headers),
        "response_media_type": response.media_type,
        "response_body": response_data,
        "response_body_size": response.facts.size,
        "response_body_truncated": int(response.facts.truncated),
        "response_body_sha256": response_sha256,
        "response_streamed": int(capture.response_streamed),
        "sampled_out": int(not keep),
        "duration_ms": duration_ms,
        "error": (storable_text(capture.error) or request.facts.decode_error
                  or response.facts.decode_error),
        "flow_id": storable_text(capture.flow_id),
        "operation": storable_text(operation),
        "discriminator": discriminator,
    }
    return Observation(row, endpoint, shape, has_body, redacted, not keep)


def sample(observation: Observation, sampler: Sampler, at: float) -> bool:
    """Apply the sampler to a row built with every body; True if bodies kept.

    A sampled-out row loses its stored bodies and their hashes, as rows the
    worker samples out never had them.
    """
    if not observation.has_body:
        return True
    if sampler.keep(observation.endpoint, observation.shape, at):
        return True
    row = observation.row
    for side in ("request", "response"):
        if row[f"{side}_body"] is not None:
            row[f"{side}_body"] = row[f"{side}_body_sha256"] = None
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
