"""Decode recorded bodies with a hard cap, and decide which bodies are kept.

Runs in the worker process. mitmproxy's own decoding has no size cap and a
module-level cache that is not thread-safe, so decoding happens here instead.
A body that would decode past the cap (a decompression bomb, or just a big
payload) is kept truncated at the cap and flagged, never expanded in full:
every decoder is asked for at most ``cap + 1`` bytes.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import zlib
from dataclasses import dataclass

import brotli

try:  # Python 3.14+: the standard library's zstd, which mitmproxy 12.3 also uses
    from compression import zstd
except ImportError:  # Python 3.12-3.13: its backport, the same module mitmproxy pulls in
    import backports.zstd as zstd

DEFAULT_MAX_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Body:
    data: bytes | None
    size: int | None  # decoded size when known, else the size as received
    truncated: bool
    decode_error: str | None = None


def _zlib(raw: bytes, wbits: int, cap: int) -> bytes:
    return zlib.decompressobj(wbits).decompress(raw, cap + 1)


def _deflate(raw: bytes, cap: int) -> bytes:
    try:
        return _zlib(raw, zlib.MAX_WBITS, cap)
    except zlib.error:  # raw deflate without the zlib wrapper, as some servers send
        return _zlib(raw, -zlib.MAX_WBITS, cap)


def _brotli(raw: bytes, cap: int) -> bytes:
    # The output buffer stops growing once it reaches the limit (it may pass
    # it by one internal block), so memory stays within about twice the cap.
    return brotli.Decompressor().process(raw, output_buffer_limit=cap + 1)


def _zstd(raw: bytes, cap: int) -> bytes:
    # One decompressor per frame (a body may hold several, RFC 8878 §3.1); each
    # is asked for at most what is left of cap + 1, so a bomb never expands.
    chunks, have, rest = [], 0, raw
    while rest and have <= cap:
        decompressor = zstd.ZstdDecompressor()
        chunk = decompressor.decompress(rest, max_length=cap + 1 - have)
        chunks.append(chunk)
        have += len(chunk)
        if not decompressor.eof:  # cut at the cap, or a prefix of the stream
            break
        rest = decompressor.unused_data
    return b"".join(chunks)


DECODERS = {
    "gzip": lambda raw, cap: _zlib(raw, 16 + zlib.MAX_WBITS, cap),
    "x-gzip": lambda raw, cap: _zlib(raw, 16 + zlib.MAX_WBITS, cap),
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}
DECODE_ERRORS = (zlib.error, brotli.error, zstd.ZstdError, MemoryError)


def decode_body(
    raw: bytes | None,
    content_encoding: str,
    cap: int = DEFAULT_MAX_BODY,
    received_size: int | None = None,
) -> Body:
    """Undo ``content_encoding`` (``gzip``, ``br, gzip``...) keeping at most ``cap`` bytes.

    ``raw`` may already be a prefix of the body (the capture cap); then
    ``received_size`` is the body's real size and the result is truncated.
    A prefix of a compressed stream decodes to a prefix of the body.
    """
    if raw is None:
        return Body(None, None, False)
    received = len(raw) if received_size is None else received_size
    cut_on_capture = received > len(raw)
    encodings = [e.strip().lower() for e in content_encoding.split(",")]
    encodings = [e for e in encodings if e not in ("", "identity")]
    data = raw
    try:
        # Applied in the order listed, so undone from the last one back.
        for encoding in reversed(encodings):
            decoder = DECODERS.get(encoding)
            if decoder is None:
                return Body(None, received, False, f"unsupported content-encoding {encoding!r}")
            data = decoder(data, cap)
    except DECODE_ERRORS as error:
        return Body(None, received, False, f"{encoding} decode failed: {type(error).__name__}")
    truncated = cut_on_capture or len(data) > cap
    if len(data) > cap:
        data = data[:cap]
    return Body(data, received if truncated else len(data), truncated)


# --- Media types ------------------------------------------------------------
#
# Every body is stored within the cap (binary ones too, so stubs can replay a
# download byte for byte). These say how a stored body is read: as one JSON
# document, as XML (redaction keeps it well-formed), as text, or as bytes.
# The generators' home for the same question is generators/model/media_types.py.

TEXT_LIKE = frozenset(
    {
        "application/x-www-form-urlencoded",
        "application/xml",
        "application/javascript",
        "application/graphql",
        "application/x-ndjson",
        "application/jsonl",
    }
)


def is_json_media_type(media_type: str) -> bool:
    """JSON by its media type: ``*/json``, ``*/*+json`` (RFC 6839) and ``*/*-json``.

    The last covers vendor types that are JSON without the structured suffix,
    e.g. ``application/x-amz-json-1.0`` (DynamoDB, SQS) — a version may follow
    ``-json``. Streams of documents (``json-seq``, ``x-ndjson``) are not one
    JSON document and stay text. ``media_type`` is lowercased, without parameters.
    """
    subtype = media_type.partition("/")[2]
    if not subtype:
        return False
    if subtype == "json" or subtype.endswith("+json"):
        return True
    return _DASH_JSON.search(subtype) is not None


_DASH_JSON = re.compile(r"-json(?:-\d+(?:\.\d+)*)?$")


def is_xml_media_type(media_type: str) -> bool:
    """``*/xml`` and ``*/*+xml`` (RFC 7303): redaction must keep these well-formed."""
    subtype = media_type.partition("/")[2]
    return subtype == "xml" or subtype.endswith("+xml")


def is_text_media_type(media_type: str) -> bool:
    """Bodies read as text: ``text/*``, JSON, XML and the text-like application types."""
    return (media_type.startswith("text/") or is_json_media_type(media_type)
            or is_xml_media_type(media_type) or media_type in TEXT_LIKE)


def looks_like_text(data: bytes | None) -> bool:
    """UTF-8 without NUL bytes in the first 8 KiB: how an untyped body is read."""
    if not data:
        return True
    head = data[:8192]
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def sha256_hex(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()
