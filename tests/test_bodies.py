"""Bodies: capped decoding (bombs stay small), size caps, which media types are stored."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib

import brotli
import pytest

from freshmock.proxy.bodies import decode_body, is_json_media_type, is_xml_media_type, zstd
from freshmock.proxy.capture import Capture
from freshmock.proxy.rows import build_observation

from capture_kit import (
    Upstream,
    assert_same_bytes_as_direct,
    binary_blob,
    gzip_bomb,
    http_exchange,
    raw_exchange,
    recording,
    rows,
)

CAP = 64 * 1024
PAYLOAD = json.dumps({"users": [{"id": n, "name": f"user {n}"} for n in range(200)]}).encode()

ENCODERS = {
    "gzip": lambda data: gzip.compress(data, mtime=0),
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda data: zstd.compress(data),
}


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_each_encoding_decodes_to_the_original(encoding):
    body = decode_body(ENCODERS[encoding](PAYLOAD), encoding, CAP)
    assert body == decode_body(PAYLOAD, "identity", CAP)
    assert (body.data, body.size, body.truncated, body.decode_error) == (
        PAYLOAD, len(PAYLOAD), False, None
    )


def test_raw_deflate_without_the_zlib_wrapper_decodes():
    encoder = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = encoder.compress(PAYLOAD) + encoder.flush()
    assert decode_body(raw, "deflate", CAP).data == PAYLOAD


def test_stacked_encodings_are_undone_last_first():
    raw = brotli.compress(gzip.compress(PAYLOAD, mtime=0))
    assert decode_body(raw, "gzip, br", CAP).data == PAYLOAD


@pytest.mark.parametrize(
    "encoding, bomb",
    [
        ("gzip", lambda: gzip_bomb(256)),
        ("br", lambda: brotli.compress(b"\0" * (256 << 20), quality=1)),
        ("zstd", lambda: zstd.compress(b"\0" * (256 << 20), level=1)),
    ],
)
def test_a_decompression_bomb_is_kept_truncated_at_the_cap_never_expanded(encoding, bomb):
    raw = bomb()
    assert len(raw) < 2 << 20  # 256 MiB of zeros on the wire in well under 2 MiB
    tracemalloc.start()
    try:
        body = decode_body(raw, encoding, CAP)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert body.truncated and body.data == b"\0" * CAP
    assert body.size == len(raw)  # the decoded size is unknown: the size as received
    assert peak < 8 * CAP + 2 * len(raw), f"decoding allocated {peak} bytes"


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_corrupt_bodies_are_an_error_note_not_an_exception(encoding):
    body = decode_body(b"\x1f\x8bnot compressed at all" * 10, encoding, CAP)
    assert body.data is None and body.truncated is False
    assert body.decode_error.startswith(encoding) and "not compressed" not in body.decode_error


def test_an_unknown_encoding_keeps_the_size_and_says_so():
    body = decode_body(b"abc", "compress", CAP)
    assert (body.data, body.size) == (None, 3)
    assert body.decode_error == "unsupported content-encoding 'compress'"


def test_a_prefix_of_a_compressed_body_decodes_to_a_truncated_prefix():
    raw = gzip.compress(PAYLOAD, mtime=0)
    body = decode_body(raw[: len(raw) // 2], "gzip", CAP, received_size=len(raw))
    assert body.truncated and body.size == len(raw)
    assert body.data and PAYLOAD.startswith(body.data)


@pytest.mark.parametrize(
    "media_type, json_type",
    [
        ("application/json", True),
        ("application/problem+json", True),
        ("application/x-amz-json-1.0", True),  # DynamoDB, SQS
        ("application/x-amz-json-1.1", True),
        ("application/vnd.api-json", True),
        ("application/x-json", True),
        ("application/json-seq", False),  # a sequence of documents, not one
        ("application/x-ndjson", False),
        ("application/x-www-form-urlencoded", False),
        ("text/plain", False),
        ("application/xml", False),
        ("image/png", False),
        ("", False),
    ],
)
def test_which_media_types_are_json(media_type, json_type):
    assert is_json_media_type(media_type) is json_type


@pytest.mark.parametrize("media_type, xml", [("application/xml", True), ("text/xml", True),
                                             ("application/atom+xml", True),
                                             ("application/xml-dtd", False),
                                             ("text/html", False)])
def test_which_media_types_are_xml(media_type, xml):
    assert is_xml_media_type(media_type) is xml


def _capture(response_headers, response_body, received=None) -> Capture:
    return Capture(
        "f1", "svc", 1_700_000_000.0, 1_700_000_000.5, "GET", "http", "h", 80, "/p",
        (), b"", 0, 200, tuple(response_headers), response_body,
        len(response_body) if received is None else received, False, None,
    )


def test_binary_bodies_are_stored_within_the_cap():
    """Stubs replay downloads byte for byte: an image body is kept, like JSON."""
    blob = binary_blob(3000) + b"\0"
    row = build_observation(_capture([(b"Content-Type", b"image/png")], blob), CAP).row
    assert row["response_body"] == blob
    assert row["response_media_type"] == "image/png" and row["response_body_size"] == 3001
    assert row["response_body_sha256"] == __import__("hashlib").sha256(blob).hexdigest()


def test_a_body_cut_at_capture_is_truncated_with_its_real_size_and_no_hash():
    row = build_observation(
        _capture([(b"Content-Type", b"text/plain")], b"x" * 100, received=5000), 100
    ).row
    assert (row["response_body"], row["response_body_size"], row["response_body_truncated"]) == (
        b"x" * 100, 5000, 1
    )
    assert row["response_body_sha256"] is None


# --- through the real proxy ----------------------------------------------------------


def test_big_bodies_and_bombs_reach_the_client_whole_and_the_store_capped(tmp_path):
    db = tmp_path / "store.db"
    with Upstream(bomb_mib=128) as upstream, recording(db, upstream.url, max_body=CAP) as proxy:
        assert_same_bytes_as_direct(proxy.port, upstream.port)
        bomb_direct = raw_exchange(upstream.port, "GET", "/bomb")
        assert raw_exchange(proxy.port, "GET", "/bomb") == bomb_direct
        sent = b"y" * (3 * CAP)
        text = {"Content-Type": "text/plain"}
        assert http_exchange(proxy.port, "POST", "/echo", sent, text) == http_exchange(
            upstream.port, "POST", "/echo", sent, text
        )
    found = {
        path: (body, size, truncated)
        for path, body, size, truncated in rows(
            db, "select path, response_body, response_body_size, response_body_truncated "
            "from observations"
        )
    }
    assert found["/bomb"] == (b"\0" * CAP, len(upstream.server.bomb), 1)
    assert found["/big"] == (b"x" * CAP, 300_000, 1)
    assert found["/echo"] == (b"y" * CAP, 3 * CAP, 1)
    assert found["/bin"] == (binary_blob(5000), 5000, 0)  # binary: stored, replayable
    ((request_body, request_size, request_truncated),) = rows(
        db, "select request_body, request_body_size, request_body_truncated from observations "
        "where path = '/echo'"
    )
    assert (request_body, request_size, request_truncated) == (b"y" * CAP, 3 * CAP, 1)
