"""Decode recorded bodies with a hard cap on the decoded size.

mitmproxy's own decoding has no size cap and a module-level cache that is not
thread-safe, so the writer thread decodes here instead. A body that would
decode past the cap (a decompression bomb, or just a big payload) is kept
truncated at the cap and flagged, never expanded in full.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import brotli
import zstandard

DEFAULT_MAX_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Body:
    data: bytes | None
    size: int | None  # decoded size when known, else the size as received
    truncated: bool
    decode_error: str | None = None


def _zlib(raw: bytes, wbits: int, cap: int) -> tuple[bytes, bool]:
    decoder = zlib.decompressobj(wbits)
    data = decoder.decompress(raw, cap + 1)
    return data[:cap], len(data) > cap


def _brotli(raw: bytes, cap: int) -> tuple[bytes, bool]:
    decoder = brotli.Decompressor()
    data = decoder.process(raw, output_buffer_limit=cap + 1)
    return data[:cap], len(data) > cap


def _zstd(raw: bytes, cap: int) -> tuple[bytes, bool]:
    reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    data = reader.read(cap + 1)
    return data[:cap], len(data) > cap


def decode_body(raw: bytes | None, content_encoding: str, cap: int = DEFAULT_MAX_BODY) -> Body:
    if raw is None:
        return Body(None, None, False)
    encoding = content_encoding.strip().lower()
    try:
        if encoding in ("", "identity"):
            data, truncated = raw[:cap], len(raw) > cap
        elif encoding in ("gzip", "x-gzip"):
            data, truncated = _zlib(raw, 16 + zlib.MAX_WBITS, cap)
        elif encoding == "deflate":
            try:
                data, truncated = _zlib(raw, zlib.MAX_WBITS, cap)
            except zlib.error:  # raw deflate without the zlib wrapper, as some servers send
                data, truncated = _zlib(raw, -zlib.MAX_WBITS, cap)
        elif encoding == "br":
            data, truncated = _brotli(raw, cap)
        elif encoding == "zstd":
            data, truncated = _zstd(raw, cap)
        else:
            return Body(None, len(raw), False, f"unsupported content-encoding {encoding!r}")
    except (zlib.error, brotli.error, zstandard.ZstdError) as error:
        return Body(None, len(raw), False, f"{encoding} decode failed: {type(error).__name__}")
    return Body(data, len(raw) if truncated else len(data), truncated)
