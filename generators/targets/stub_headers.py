"""Which recorded response headers a stub replays: one rule for every target.

Kept: every header a client may read — ``ETag``, ``Location``,
``Last-Modified``, ``Content-Range``, ``Accept-Ranges``, ``Cache-Control``,
``x-amz-*``, ``x-ratelimit-*``, ``Set-Cookie`` (its value redacted at record
time) and any other the dependency sent — as recorded.

Dropped, by rule:

- framing and hop-by-hop headers (``Connection``, ``Keep-Alive``,
  ``Transfer-Encoding``, ``Upgrade`` on anything but a 101, ``Trailer``...):
  they described the recorded connection, and the stub server frames its own;
- ``Content-Encoding``: bodies are stored decoded, and replayed so;
- ``Content-Length`` where the stub sends a body other than the recorded
  bytes (a JSON body is re-serialised, so the recorded length would lie). It
  is kept where the recorded bytes are sent unchanged, and where no body is
  sent (a ``HEAD``, a 304: it is then the size of the resource); clients read
  it (boto3's ``ContentLength``);
- ``Date``: volatile; the stub server sends its own (WireMock and vcrpy's
  replayed responses carry none otherwise, which clients accept);
- checksums of the body (``Content-MD5``, ``x-amz-checksum-*``,
  ``x-amz-crc32``, ``Digest``, ``Content-Digest``, ``Repr-Digest``,
  ``x-goog-hash``) unless the stub sends the recorded bytes unchanged: a
  re-serialised or redacted body would fail the client's check (boto3 raises
  ``FlexibleChecksumError`` / ``Crc32Error``).

To change the rule, pass ``extra_dropped`` (names, any case) to
``replayed_headers``, or override the template of the target.
"""

from __future__ import annotations

from collections.abc import Iterable

from freshmock.proxy.redaction import is_redacted

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-connection", "te", "trailer",
    "transfer-encoding", "upgrade",
})
VOLATILE = frozenset({"date"})
CHECKSUMS = frozenset({"content-md5", "x-amz-crc32", "digest", "content-digest",
                       "repr-digest", "x-goog-hash"})
CHECKSUM_PREFIXES = ("x-amz-checksum-",)


def is_checksum(name: str) -> bool:
    lowered = name.lower()
    return lowered in CHECKSUMS or lowered.startswith(CHECKSUM_PREFIXES)


def replayed_headers(headers: Iterable[tuple[str, str]], *, status: int,
                     sends_body: bool, verbatim: bool,
                     extra_dropped: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The recorded ``(name, value)`` pairs a stub answers with, in recorded order.

    ``sends_body``: the stub sends a body; ``verbatim``: it is the recorded
    bytes unchanged (not re-serialised, not redacted, not cut at the cap).
    """
    dropped = {name.lower() for name in extra_dropped}
    kept = []
    for name, value in headers:
        lowered = name.lower()
        if lowered in dropped or lowered in VOLATILE or lowered == "content-encoding":
            continue
        if lowered in HOP_BY_HOP and not (status == 101 and lowered in ("upgrade", "connection")):
            continue
        if lowered == "content-length" and sends_body and not verbatim:
            continue
        if is_checksum(lowered) and sends_body and not verbatim:
            continue  # with no body it describes the stored object (an upload's checksum)
        kept.append((name, value))
    return kept


def body_is_verbatim(exemplar, sent: bytes | None) -> bool:
    """Whether ``sent`` is the recorded body exactly: stored whole and not redacted."""
    data = exemplar.response_body
    if exemplar.response_truncated or data is None or sent != data:
        return False
    try:
        return not is_redacted(data.decode("utf-8"))
    except UnicodeDecodeError:
        return True
