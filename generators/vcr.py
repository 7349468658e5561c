"""Write one VCR.py cassette per dependency, replaying what was observed.

Layout: ``OUT/<service>.yaml``, one interaction per endpoint (method, path
template, status, media type). Each interaction is the endpoint's exemplar:
its concrete request (``/users/1``, not ``/users/{user_id}``) sent to
``http://<service>`` (``base_url`` changes that), and the recorded response.
JSON bodies are pretty-printed with sorted keys as YAML block scalars, so a
changed field changes only its own lines; other text is replayed byte for
byte, non-UTF-8 bodies as ``!!binary``. ``content-length`` is left out (the
body is served whole, and the header would change with every field) and so are
``content-encoding`` and ``transfer-encoding``: the store keeps bodies decoded.
YAML comments (``# freshmock: ...``) say when the dependency was last observed
and on how many samples each interaction rests, and when a body is not the
recorded one (synthesized by ``load_exemplar``, or cut at the size cap).
JSON is served as UTF-8, whatever charset the recording declared.

Playing back, with vcrpy's ``record_mode="none"``:

- vcrpy matches on method, scheme, host, port, path and query by default, so
  point the client at the base URL, or pass ``match_on=["method", "path",
  "query"]`` to replay whatever host the client calls;
- an interaction plays once unless ``use_cassette(..., allow_playback_repeats=True)``;
- for one method and path template the most observed status comes first, so
  with the default matchers a request gets it before the variants (e.g. a 201
  before a 422); add ``"body"`` to ``match_on`` to pick the variant by request
  body (JSON bodies compare as values, as both sides say ``application/json``);
- redacted values (``<redacted>``) stay redacted, in query strings too.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

from freshmock.generators.emit import endpoints_by_service, remove_stale, slug, write_generated
from freshmock.generators.exemplars import Exemplar, body_text, load_exemplar
from freshmock.generators.paths import is_parameter
from freshmock.generators.templating import environment

DEFAULT_BASE_URL = "http://{service}"  # {service} is the service's slug
# Framing and hop-by-hop headers: they described the recorded connection, not the replay.
_DROPPED_RESPONSE_HEADERS = frozenset({
    "connection", "content-encoding", "content-length", "keep-alive", "proxy-authenticate",
    "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
})
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
    endpoints: list[dict]  # in the order of the cassette's interactions


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
        return _pretty_json(exemplar.response_json), note
    if exemplar.response_body:
        return _text_or_bytes(exemplar.response_body), None
    if exemplar.response_truncated:
        return "", "response body was cut at the size cap and is replayed empty"
    return "", None


def _request_body(exemplar: Exemplar) -> str | bytes | None:
    # null, not "": vcrpy's body matcher tells a GET without a body from an empty one
    if exemplar.has_request_json():
        return _pretty_json(exemplar.request_json)
    return _text_or_bytes(exemplar.request_body) if exemplar.request_body else None


def _response_headers(exemplar: Exemplar) -> list[tuple[str, list[str]]]:
    """Recorded headers as vcrpy stores them, ``{name: [values]}``, sorted by name."""
    grouped: dict[str, tuple[str, list[str]]] = {}
    for name, value in exemplar.response_headers:
        if name.lower() not in _DROPPED_RESPONSE_HEADERS:
            grouped.setdefault(name.lower(), (name, []))[1].append(value)
    return [grouped[key] for key in sorted(grouped)]


def _reason(status: int) -> str:
    if status in _RFC_9110_PHRASES:
        return _RFC_9110_PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _interaction(endpoint: dict, exemplar: Exemplar, base_url: str) -> dict:
    body, note = _response_body(exemplar)
    request_body = _request_body(exemplar)
    request_headers = []
    if request_body is not None and exemplar.request_media_type:
        request_headers.append(("Content-Type", [exemplar.request_media_type]))
    notes = [note] if note else []
    if any(is_parameter(segment) for segment in exemplar.path.split("/")):
        notes.append("the recorded request is gone: its URI is the path template")
    if "request" in exemplar.synthesized:
        notes.append("request body synthesized from the schema: no recorded body was kept")
    return {
        "endpoint": endpoint,
        "notes": notes,
        "method": exemplar.method,
        "uri": base_url + quote(exemplar.url, safe=_URI_SAFE),
        "request_body": request_body,
        "request_headers": request_headers,
        "status": endpoint["status"],
        "reason": _reason(endpoint["status"]),
        "response_headers": _response_headers(exemplar),
        "response_body": body,
    }


def _playback_order(endpoints: list[dict]) -> list[dict]:
    """By path template and method; the most observed status of each first.

    vcrpy plays the first unplayed interaction that matches, and variants of one
    route often share a request line (POST /users: 201 and 422).
    """
    by_route: dict[tuple, list[dict]] = defaultdict(list)
    for endpoint in endpoints:
        by_route[(endpoint["path_template"], endpoint["method"])].append(endpoint)
    dominant = {route: min(group, key=lambda e: (-e["observations"], e["status"]))["status"]
                for route, group in by_route.items()}
    return sorted(endpoints, key=lambda e: (
        e["path_template"], e["method"],
        e["status"] != dominant[(e["path_template"], e["method"])],
        e["status"], e["media_type"] or ""))


def write_vcr_cassettes(
    db: sqlite_utils.Database,
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
    for service_name, endpoints in endpoints_by_service(db, service):
        service_url = base_url.replace("{service}", slug(service_name)).rstrip("/")
        ordered = _playback_order(endpoints)
        interactions = [_interaction(e, load_exemplar(db, e), service_url) for e in ordered]
        text = env.get_template("vcr_cassette.yaml.j2").render(
            service=service_name,
            base_url=service_url,
            last_observed=max(e["last_seen"] for e in endpoints),
            observations=sum(e["observations"] for e in endpoints),
            interactions=interactions,
        )
        target = out_dir / f"{slug(service_name)}.yaml"
        write_generated(target, text)
        written.append(WrittenCassette(service_name, target, ordered))
    if service is None:  # every dependency was written: a cassette of none other is stale
        remove_stale(out_dir, "*.yaml", [w.path for w in written],
                     lambda text: text.startswith("# freshmock: VCR.py cassette of "))
    return written
