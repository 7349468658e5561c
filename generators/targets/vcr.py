"""Write one VCR.py cassette per dependency, replaying what was observed.

Layout: ``OUT/<service>.yaml``. Its interactions are the dependency's stubs
(``variants``): each distinct recorded request whose answer differs from its
route's default, then the defaults, each the concrete recorded request
(``/users/1``, not ``/users/{user_id}``) sent to ``http://<service>``
(``base_url`` changes that) and the recorded response. Request bodies are
the recorded bytes (vcrpy compares them); JSON response bodies are
pretty-printed with sorted keys as YAML block scalars, so a changed field
changes only its own lines; other bodies are replayed byte for byte,
non-UTF-8 ones as ``!!binary``. Response headers follow ``stub_headers``
(``Date``, framing and checksums of a re-serialised body are left out).
YAML comments (``# freshmock: ...``) say when the dependency was last
observed and on how many samples each interaction rests, and when a body is
not the recorded one (synthesized, or cut at the size cap). A WebSocket
handshake is listed in a comment only: vcrpy replays HTTP.

Playing back::

    from freshmock.generators.targets.vcr import replay_vcr
    with replay_vcr().use_cassette(path, allow_playback_repeats=True):
        ...

``replay_vcr`` is a ``vcr.VCR`` with ``record_mode="none"`` and
``REPLAY_MATCH_ON``: vcrpy's defaults plus the request body (JSON compared
as values) and the headers each interaction names (those that predicted its
answer: ``Range``, ``X-Amz-Target``...); vcrpy plays the first interaction that matches, which is
why the exact ones come first. Redacted values (``<redacted>``) stay
redacted, in query strings too.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote

from freshmock.generators.model.endpoint import Endpoint, Model
from freshmock.generators.model.exemplars import Exemplar, body_text
from freshmock.generators.model.media_types import is_json_media_type, media_type_of
from freshmock.generators.model.paths import is_parameter
from freshmock.generators.targets.emit import (
    remove_stale,
    slug,
    write_generated,
)
from freshmock.generators.targets.stamp import cassette_stamp, interaction_stamp, is_cassette
from freshmock.generators.targets.stub_headers import body_is_verbatim, replayed_headers
from freshmock.generators.targets.templating import environment
from freshmock.generators.targets.variants import (
    DEFAULT,
    EXACT,
    RECORD,
    SWITCHING_PROTOCOLS,
    VARIANT_HEADER,
    Stub,
    check_distinct,
    service_stubs,
)

DEFAULT_BASE_URL = "http://{service}"  # {service} is the service's slug
REPLAY_MATCH_ON = ("method", "scheme", "host", "port", "path", "query", "recorded_body",
                   "recorded_headers")
# Python 3.13 renamed these phrases to RFC 9110's; use those on every version so
# the cassette bytes do not depend on the interpreter.
_RFC_9110_PHRASES = {413: "Content Too Large", 414: "URI Too Long",
                     416: "Range Not Satisfiable", 422: "Unprocessable Content"}
# What requests leaves unquoted in a URL (requests.utils.requote_uri), so the
# cassette's URI is the one a client sends for the same path.
_URI_SAFE = "!#$%&'()*+,/:;=?@[]~"
_QUOTE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"}
_INDENT = 2  # block scalar content sits this far right of its key


@dataclass(frozen=True)
class WrittenCassette:
    service: str
    path: Path
    endpoints: list[Endpoint]  # in the order of the cassette's interactions
    truncated: int = 0  # interactions replaying a body cut at the cap


def _raw_in_yaml(char: str) -> bool:
    """True when ``char`` may stand as itself in a YAML scalar on one line.

    YAML's printable set, minus the characters YAML 1.1 reads as line breaks
    (NEL, U+2028, U+2029) and the byte order mark.
    """
    code = ord(char)
    if code < 0x7F:
        return code >= 0x20
    if code in (0x2028, 0x2029, 0xFEFF):
        return False
    return 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def yaml_scalar(value) -> str:
    """A YAML scalar every YAML loader reads back as ``value``: strings double-quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    escaped = (_QUOTE_ESCAPES.get(c) or (c if _raw_in_yaml(c) else _escape(c)) for c in text)
    return '"' + "".join(escaped) + '"'


def _fits_block_scalar(text: str) -> bool:
    return "\n" in text and bool(text.strip()) and all(
        c in "\n\t" or _raw_in_yaml(c) for c in text
    )


def yaml_body(value, key_column: int) -> str:
    """A body as the value of a key at ``key_column``: text over several lines
    as a literal block scalar, bytes as ``!!binary``, anything else quoted."""
    indent = " " * (key_column + _INDENT)
    if isinstance(value, bytes):
        lines = base64.encodebytes(value).decode("ascii").splitlines()
        return "!!binary |\n" + "\n".join(indent + line for line in lines)
    if not isinstance(value, str) or not _fits_block_scalar(value):
        return yaml_scalar(value)
    # Leading spaces or breaks would be taken for indentation: state it.
    indicator = str(_INDENT) if value[0] in " \n" else ""
    if not value.endswith("\n"):
        chomping = "-"  # strip: the body has no final line break
    elif value.endswith("\n\n"):
        chomping = "+"  # keep: every trailing break is content
    else:
        chomping = ""  # clip: exactly one final break
    lines = value.removesuffix("\n").split("\n")
    return f"|{indicator}{chomping}\n" + "\n".join(indent + line if line else ""
                                                    for line in lines)


def yaml_comment(value) -> str:
    """Text safe on one comment line: line breaks and control characters escaped."""
    return "".join(c if _raw_in_yaml(c) else _escape(c) for c in str(value))


def _pretty_json(value) -> str:
    """Indented JSON with sorted keys; characters YAML cannot hold raw are JSON
    ``\\u`` escapes (they only occur inside strings), so it stays a block scalar."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return "".join(c if c in "\n" or _raw_in_yaml(c) else f"\\u{ord(c):04x}" for c in text)


def _text_or_bytes(data: bytes) -> str | bytes:
    text = body_text(data)
    return data if text is None else text


def _response_body(exemplar: Exemplar) -> tuple[str | bytes, str | None]:
    """The body to replay, and a note when it is not the recorded one."""
    if exemplar.has_response_json():
        note = ("response body synthesized from the schema: no recorded body was kept"
                if "response" in exemplar.synthesized else None)
        if exemplar.response_truncated and "response" not in exemplar.synthesized:
            note = "response body was cut at the size cap"
        return _pretty_json(exemplar.response_json), note
    if exemplar.response_body:
        note = ("response body was cut at the size cap: only its first bytes are replayed"
                if exemplar.response_truncated else None)
        return _text_or_bytes(exemplar.response_body), note
    if exemplar.response_truncated:
        return "", "response body was cut at the size cap and is replayed empty"
    return "", None


def _request_body(exemplar: Exemplar) -> str | bytes | None:
    """The recorded bytes: vcrpy compares bodies as bytes unless both say application/json.
    null, not "": vcrpy's body matcher tells a GET without a body from an empty one."""
    if "request" in exemplar.synthesized:
        return _pretty_json(exemplar.request_json)
    return _text_or_bytes(exemplar.request_body) if exemplar.request_body else None


def _response_headers(exemplar: Exemplar, body) -> list[tuple[str, list[str]]]:
    """Replayed headers as vcrpy stores them, ``{name: [values]}``, sorted by name."""
    sent = body.encode("utf-8") if isinstance(body, str) else body
    verbatim = bool(sent) and body_is_verbatim(exemplar, sent)
    grouped: dict[str, tuple[str, list[str]]] = {}
    for name, value in replayed_headers(exemplar.response_headers, status=exemplar.status,
                                        sends_body=bool(sent), verbatim=verbatim):
        grouped.setdefault(name.lower(), (name, []))[1].append(value)
    return [grouped[key] for key in sorted(grouped)]


def _text(value):
    """Header values reach vcrpy as bytes from some clients (botocore), str from others."""
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _body_bytes(body) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return body if isinstance(body, bytes) else bytes(body.read()) if hasattr(body, "read") \
        else bytes(body)


def _as_json(data: bytes):
    try:
        return json.loads(data)
    except ValueError:
        return _NOT_JSON


_NOT_JSON = object()


def match_recorded_body(live, recorded) -> None:
    """vcrpy matcher: the same body bytes, no body equal to an empty one, and JSON bodies
    (any JSON media type: application/x-amz-json-1.0 too) equal as values."""
    sent, kept = _body_bytes(live.body), _body_bytes(recorded.body)
    if sent == kept:
        return
    kind = media_type_of(_text(recorded.headers.get("Content-Type")))
    if kind and is_json_media_type(kind):
        parsed = _as_json(kept)
        assert parsed is not _NOT_JSON and parsed == _as_json(sent), "JSON bodies differ"
        return
    raise AssertionError("bodies differ")


def replay_vcr(**options):
    """A ``vcr.VCR`` that plays a freshmock cassette: ``record_mode="none"``,
    ``REPLAY_MATCH_ON`` and its two matchers registered; ``options`` go to ``vcr.VCR``."""
    import vcr

    player = vcr.VCR(**{"record_mode": "none", "match_on": REPLAY_MATCH_ON, **options})
    player.register_matcher("recorded_body", match_recorded_body)
    player.register_matcher("recorded_headers", match_recorded_headers)
    return player


def match_recorded_headers(live, recorded) -> None:
    """vcrpy matcher: every header the cassette's request names, the live request sends alike.

    ``Content-Type`` compares as a media type (a charset parameter is the client's choice).
    """
    for name, value in recorded.headers.items():
        sent, value = _text(live.headers.get(name)), _text(value)
        if name.lower() == "content-type":
            assert media_type_of(sent) == media_type_of(value), f"{name}: {sent!r} != {value!r}"
        else:
            assert sent == value, f"{name}: {sent!r} != {value!r}"


def _reason(status: int) -> str:
    if status in _RFC_9110_PHRASES:
        return _RFC_9110_PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _interaction(stub: Stub, base_url: str) -> dict:
    endpoint, exemplar = stub.endpoint, stub.exemplar
    body, note = _response_body(exemplar)
    request_body = _request_body(exemplar)
    request_headers = []
    if request_body is not None and exemplar.request_media_type:
        request_headers.append(("Content-Type", [exemplar.request_media_type]))
    request_headers += [(name, [value]) for name, value in stub.match_headers
                        if value is not None]
    operation = stub.operation  # in a header, the body and URI do not carry it
    if operation is not None and operation.source == "header" and not any(
            name.lower() == operation.name.lower() for name, _ in request_headers):
        request_headers.append((operation.name, [operation.value]))
    if stub.kind == RECORD:
        request_headers.append((VARIANT_HEADER, [stub.name]))
    notes = [note] if note else []
    if any(is_parameter(segment) for segment in exemplar.path.split("/")):
        notes.append("the recorded request is gone: its URI is the path template")
    if "request" in exemplar.synthesized:
        notes.append("request body synthesized from the schema: no recorded body was kept")
    if stub.kind == RECORD:
        notes.append(f"on record: answers only a request with {VARIANT_HEADER}: {stub.name}")
    return {
        "endpoint": endpoint,
        "stamp": yaml_comment(interaction_stamp(endpoint)),
        "notes": notes,
        "method": exemplar.method,
        "uri": base_url + quote(exemplar.url, safe=_URI_SAFE),
        "request_body": request_body,
        "request_headers": request_headers,
        "status": endpoint.status,
        "reason": _reason(endpoint.status),
        "response_headers": _response_headers(exemplar, body),
        "response_body": body,
    }


_PLAYBACK_RANK = {EXACT: 0, RECORD: 1, DEFAULT: 2}


def _pinned_headers(stub: Stub) -> int:
    """How many request headers an interaction requires a value of."""
    return sum(value is not None for _, value in stub.match_headers)


def playback_order(stubs: list[Stub]) -> list[Stub]:
    """Exact stubs before records before defaults: vcrpy plays the first that matches,
    and a default's request may also be sent with a header an exact stub names.

    Within a route's exact stubs, those requiring more header values come first: a
    cassette cannot say a header must be absent (``Range: None``, which WireMock writes
    as ``absent``), so the 200 of ``GET /blobs/b1.bin`` would also match the request
    with ``Range: bytes=0-99`` and answer it with the whole object, were it played
    before that request's 206.
    """
    return sorted(stubs, key=lambda s: (_PLAYBACK_RANK[s.kind], s.endpoint.path_template,
                                        s.endpoint.method, -_pinned_headers(s), s.name))


def write_vcr_cassettes(
    model: Model,
    out_dir: Path,
    service: str | None = None,
    templates_dir: Path | None = None,
    *,
    base_url: str = DEFAULT_BASE_URL,
) -> list[WrittenCassette]:
    """Render one cassette per service; ``base_url`` may name ``{service}`` (its slug)."""
    env = environment(templates_dir)
    env.filters.update(yaml=yaml_scalar, yaml_body=yaml_body, yaml_comment=yaml_comment)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for service_name, endpoints in model.by_service(service):
        service_url = base_url.replace("{service}", slug(service_name)).rstrip("/")
        stubs = service_stubs(model, endpoints)
        websockets = [s for s in stubs if s.endpoint.status == SWITCHING_PROTOCOLS]
        ordered = playback_order([s for s in stubs if s not in websockets])
        interactions = [_interaction(stub, service_url) for stub in ordered]
        check_distinct([(stub.name, [i["method"], i["uri"], i["request_body"],
                                     i["request_headers"]])
                        for stub, i in zip(ordered, interactions, strict=True)],
                       f"VCR.py cassette of {service_name}")
        text = env.get_template("vcr_cassette.yaml.j2").render(
            service=service_name,
            stamp=yaml_comment(cassette_stamp(service_name)),
            base_url=service_url,
            last_observed=max(e.last_seen for e in endpoints),
            observations=sum(e.observations for e in endpoints),
            interactions=interactions,
            websockets=[stub.name for stub in websockets],
        )
        target = out_dir / f"{slug(service_name)}.yaml"
        write_generated(target, text)
        written.append(WrittenCassette(service_name, target,
                                       [stub.endpoint for stub in ordered],
                                       sum(stub.exemplar.response_truncated for stub in ordered)))
    if service is None:  # every dependency was written: a cassette of none other is stale
        remove_stale(out_dir, "*.yaml", [w.path for w in written],
                     is_cassette)
    return written
