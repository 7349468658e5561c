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


# --- Which bodies are stored --------------------------------------------------
#
# JSON, form-urlencoded and text are stored; any other media type (images,
# protobuf, octet-stream...) is kept as metadata only: type, size, sha256.

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
    return media_type == "application/json" or media_type.endswith("+json")


def is_stored_media_type(media_type: str, data: bytes | None = None) -> bool:
    """Whether a body of this media type is stored (else metadata only).

    A body without a Content-Type is stored when it looks like text (UTF-8
    without NUL bytes), the way untyped JSON APIs send it.
    """
    if media_type:
        return (
            media_type.startswith("text/")
            or is_json_media_type(media_type)
            or media_type.endswith("+xml")
            or media_type in TEXT_LIKE
        )
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
