"""Replace secrets before anything is written to disk.

Where: header values, cookies (names and attributes kept), query strings,
JSON / form / text bodies. What: values under secret names, and values that
look secret wherever they are (``freshmock.proxy.secret_patterns``).

A replaced value keeps its JSON type, so schemas inferred from redacted
traffic stay true: a string becomes ``<redacted>`` or ``<redacted:KIND>``
when its kind is known (``jwt``, ``card``, ``bearer`` ...), a number under a
secret name becomes 0, a boolean false; objects and arrays under a secret
name keep their shape and are redacted at their leaves. null stays null and
an empty string stays empty: neither hides anything.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from urllib.parse import quote_plus, unquote_plus

from freshmock.proxy.bodies import is_json_media_type, is_xml_media_type
from freshmock.proxy.json_redaction import compact_json, redact_document
from freshmock.proxy.json_text import INVALID, UNPARSED, parse_or_invalid
from freshmock.proxy.redaction_config import (
    DEFAULT_RULES,
    RedactionConfigError,
    RedactionRules,
    default_rules,
    load_rules,
)
from freshmock.proxy.secret_patterns import (
    MARKER,
    REDACTED,
    Mode,
    ValueScanner,
    count_redacted,
    is_redacted,
    looks_secret_name,
    normalise_name,
    replace_named_pairs,
    xml_marker,
)

__all__ = [
    "REDACTED",
    "RedactionConfigError",
    "RedactionRules",
    "Redactor",
    "count_redacted",
    "default_redactor",
    "default_rules",
    "is_redacted",
    "is_secret_name",
    "load_rules",
    "redact_body",
    "redact_headers",
    "redact_query",
]


# Names that look secret but carry none: the CORS flag is "true", never a credential.
_BUILTIN_KEEP = frozenset({"accesscontrolallowcredentials"})
_COOKIE_HEADERS = frozenset({"cookie", "setcookie"})
_SAFE_IN_QUERY = "<>:"
# An element holding only text, ``<ns:SessionToken a="b">value</ns:SessionToken>``:
# its local name decides like a JSON key does (SecretAccessKey, Password...).
_XML_LEAF = re.compile(
    r"(?P<open><(?P<tag>(?:[A-Za-z_][\w.-]*:)?(?P<local>[A-Za-z_][\w.-]*))(?:\s[^<>]*)?>)"
    r"(?P<text>[^<]*)(?P<close></(?P=tag)\s*>)")


def _is_form(media_type: str) -> bool:
    return media_type == "application/x-www-form-urlencoded"


def redacts_as_json(media_type: str, data: bytes) -> bool:
    """Whether ``redact_body`` parses this (non-empty) body as JSON."""
    return is_json_media_type(media_type) or (
        not media_type and data.lstrip()[:1] in (b"{", b"["))


# Beyond text/*, every type the store keeps as text (proxy/bodies.py): XML,
# NDJSON, JavaScript, GraphQL documents are text a secret can hide in.
_TEXT_SUBTYPES = frozenset(
    {"xml", "json", "ndjson", "jsonl", "json-seq", "javascript", "ecmascript", "graphql", "yaml"}
)


def _is_text(media_type: str) -> bool:
    if media_type.startswith("text/"):
        return True
    subtype = media_type.partition("/")[2].rpartition("+")[2]  # atom+xml → xml
    return subtype.removeprefix("x-") in _TEXT_SUBTYPES


class Redactor:
    """Redaction with the built-in rules extended by ``rules``.

    Safe to share between threads; cheap to call, a little costly to build.
    Pickles as its rules, so it can be handed to a worker process.
    """

    def __init__(self, rules: RedactionRules = DEFAULT_RULES) -> None:
        self.rules = rules
        self._values = ValueScanner(rules.patterns)
        self._keep = _BUILTIN_KEEP | {normalise_name(name) for name in rules.keep}
        self._fields = frozenset(normalise_name(name) for name in rules.fields)
        self._headers = frozenset(normalise_name(name) for name in rules.headers)
        # Names repeat across traffic; bounded because keys can be ids.
        self.field_mode = lru_cache(maxsize=4096)(self._field_mode)
        self.header_mode = lru_cache(maxsize=1024)(self._header_mode)
        self.scan_key = lru_cache(maxsize=4096)(self.scan)

    def __reduce__(self):
        return (type(self), (self.rules,))

    def _field_mode(self, name: str) -> Mode:
        normalised = normalise_name(name)
        if normalised in self._keep:
            return Mode.KEEP
        if normalised in self._fields or looks_secret_name(normalised):
            return Mode.SECRET
        return Mode.NORMAL

    def _header_mode(self, name: str) -> Mode:
        normalised = normalise_name(name)
        if normalised in self._keep:
            return Mode.KEEP
        if normalised in _COOKIE_HEADERS:
            return Mode.COOKIE
        if normalised in self._headers or looks_secret_name(normalised):
            return Mode.SECRET
        return Mode.NORMAL

    # --- values -------------------------------------------------------------

    def scan(self, text: str) -> str:
        """``text`` with every secret-looking value (and ``name=value`` pair) replaced."""
        text = self._values.scan(text)
        if "=" in text or '"' in text:
            text = replace_named_pairs(text, self._is_secret_field, self._secret_string)
        return text

    def _is_secret_field(self, name: str) -> bool:
        return self.field_mode(name) is Mode.SECRET

    def _secret_string(self, value: str) -> str:
        return self._values.marker_for(value) if value else value

    # --- headers and query --------------------------------------------------

    def redact_headers(self, fields) -> list[list[str]]:
        """Header byte pairs → ``[[name, value], ...]``; order and repeated names kept."""
        redacted = []
        for raw_name, raw_value in fields:
            name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name
            value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
            mode = self.header_mode(name)
            if mode is Mode.NORMAL:
                value = self.scan(value)
            elif mode is Mode.SECRET:
                value = self._secret_string(value)
            elif mode is Mode.COOKIE:
                value = self._redact_cookies(value, set_cookie=name.lower() == "set-cookie")
            redacted.append([name, value])
        return redacted

    def _redact_cookies(self, value: str, set_cookie: bool) -> str:
        """Cookie values only; names and, for Set-Cookie, the attributes after ``;`` stay."""
        if set_cookie:
            pair, separator, attributes = value.partition(";")
            return self._redact_cookie(pair) + separator + attributes
        return ";".join(self._redact_cookie(crumb) for crumb in value.split(";"))

    def _redact_cookie(self, crumb: str) -> str:
        name, equals, cookie_value = crumb.partition("=")
        if not equals:  # a nameless cookie: all of it is value
            name, cookie_value = crumb[: len(crumb) - len(crumb.lstrip())], crumb
        if not cookie_value.strip() or self.field_mode(name.strip()) is Mode.KEEP:
            return crumb
        return f"{name}{equals}{self._secret_string(cookie_value.strip().strip('"'))}"

    def redact_query(self, query: str) -> str:
        """A query string (no ``?``) with secret values replaced; other pairs keep their bytes."""
        if not query:
            return query
        parts = query.split("&")
        for index, part in enumerate(parts):
            raw_name, equals, raw_value = part.partition("=")
            name = unquote_plus(raw_name)
            if not equals:  # a bare value, e.g. ``?eyJ...``
                scanned = self.scan(name)
                if scanned != name:
                    parts[index] = quote_plus(scanned, safe=_SAFE_IN_QUERY)
                continue
            mode = self.field_mode(name)
            if mode is Mode.KEEP or not raw_value:
                continue
            value = unquote_plus(raw_value)
            new = self._secret_string(value) if mode is Mode.SECRET else self.scan(value)
            if new != value:
                parts[index] = f"{raw_name}={quote_plus(new, safe=_SAFE_IN_QUERY)}"
        return "&".join(parts)

    # --- bodies -------------------------------------------------------------

    def redact_body(
        self, media_type: str, data: bytes | None, document=UNPARSED
    ) -> bytes | None:
        """A decoded body with secrets replaced; bytes are returned as is when nothing was.

        ``media_type``: lowercased, without parameters. JSON (``*/json``,
        ``*+json``), form-urlencoded and text (``text/*``, XML, NDJSON,
        JavaScript, GraphQL, YAML) are redacted; a body with no media type is
        JSON if it parses, else text; other types (images, protobuf,
        multipart) are returned unchanged. ``document``: ``data`` already parsed
        (``INVALID`` when it is not JSON), so the worker parses a body once; it
        is redacted in place.
        """
        if not data:
            return data
        if redacts_as_json(media_type, data):
            redacted = self._redact_json_bytes(data, document)
            if redacted is not None:
                return redacted
            return self._redact_text_bytes(data)
        # Undeclared markup is redacted as XML: a secret under an element name
        # (<Password>...</Password>) is found there and only there, and XML may omit
        # its <?xml declaration. The XML pass is regular expressions over the text, so
        # HTML and broken markup come out as they went in but for what it replaces.
        if is_xml_media_type(media_type) or (not media_type and data.lstrip()[:1] == b"<"):
            return self._redact_xml_bytes(data)
        if _is_form(media_type):
            text = data.decode("utf-8", "surrogateescape")
            return self.redact_query(text).encode("utf-8", "surrogateescape")
        if _is_text(media_type) or not media_type:
            return self._redact_text_bytes(data)
        return data

    def _redact_xml_bytes(self, data: bytes) -> bytes:
        """XML that stays well-formed: element text under a secret name, then every
        secret-looking value, replaced by ``REDACTED-KIND`` (never markup)."""
        text = data.decode("utf-8", "surrogateescape")
        scanned = _XML_LEAF.sub(self._redact_xml_leaf, text)
        scanned = self.scan(scanned)
        scanned = MARKER.sub(lambda match: xml_marker(match.group()), scanned)
        return data if scanned == text else scanned.encode("utf-8", "surrogateescape")

    def _redact_xml_leaf(self, match) -> str:
        value = match.group("text")
        if not value.strip() or self.field_mode(match.group("local")) is not Mode.SECRET:
            return match.group()
        replaced = xml_marker(self._secret_string(value.strip()))
        return match.group("open") + replaced + match.group("close")

    def _redact_text_bytes(self, data: bytes) -> bytes:
        text = data.decode("utf-8", "surrogateescape")
        scanned = self.scan(text)
        return data if scanned == text else scanned.encode("utf-8", "surrogateescape")

    def _redact_json_bytes(self, data: bytes, document=UNPARSED) -> bytes | None:
        """None when ``data`` is not JSON (then it is scanned as text)."""
        if document is UNPARSED:
            document = parse_or_invalid(data)
        if document is INVALID:
            return None
        try:
            redacted, changed = self.redact_json(document)
        except RecursionError:
            return None
        return compact_json(redacted) if changed else data

    def redact_json(self, document) -> tuple[object, bool]:
        """``(redacted, changed)`` for a document fresh from json.loads (modified in place)."""
        return redact_document(
            document,
            self.field_mode,
            self.scan,
            self.scan_key,
            self._secret_string,
            self._values.min_length,
        )


@cache
def default_redactor() -> Redactor:
    """A shared Redactor with the built-in rules only."""
    return Redactor(DEFAULT_RULES)


def is_secret_name(name: str) -> bool:
    return default_redactor().field_mode(name) is Mode.SECRET


def redact_headers(fields) -> list[list[str]]:
    return default_redactor().redact_headers(fields)


def redact_query(query: str) -> str:
    return default_redactor().redact_query(query)


def redact_body(media_type: str, data: bytes | None) -> bytes | None:
    return default_redactor().redact_body(media_type, data)
