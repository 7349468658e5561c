"""Recognise secrets: by the name they travel under, and by their value.

Names are compared normalised (lowercase, separators and trailing digits
dropped), so ``apiKey``, ``API-KEY`` and ``api_key`` are one name.

A name is secret when its *last word* is a secret noun (``access_token``,
``client_secret``, ``new_password``, ``x-api-key``), after dropping one
trailing qualifier such as ``_hash`` or ``_confirmation``. Names that only
describe a secret are not secrets: OAuth's ``token_type`` (``"Bearer"``) and
``expires_in``, ``password_changed_at`` or ``password_policy`` keep their
values, so schemas and exemplars keep real data. A field like
``next_page_token`` is redacted: opaque, and erring that way is safe.

Values are secret when they look like one wherever they appear (see
``VALUE_KINDS``). Card numbers: 13–19 digits, contiguous or in groups split
by one kind of separator (space or dash), first digit 2–6 (every major card
brand), passing the Luhn check. The first-digit rule keeps epoch-millisecond
timestamps and snowflake ids (which start with 1 for centuries to come) out.
JSON numbers are never scanned, only strings: big integers are ids.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from enum import Enum
from urllib.parse import unquote_plus

REDACTED = "<redacted>"
MARKER = re.compile(r"<redacted(?::[A-Za-z0-9_-]+)?>")
PATTERN_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")

# The shortest match of any built-in value detector; shorter strings skip them.
_MIN_SECRET_LENGTH = 13


class Mode(Enum):
    """How a value is treated, decided by the name it travels under."""

    NORMAL = "normal"  # scan it for secret-looking text
    SECRET = "secret"  # replace it, keeping its JSON type
    KEEP = "keep"  # leave it alone (the user's keep list)
    COOKIE = "cookie"  # a Cookie / Set-Cookie header: names and attributes stay


def marker(kind: str | None = None) -> str:
    return f"<redacted:{kind}>" if kind else REDACTED


# Inside XML a marker must not be markup: ``<redacted:jwt>`` would parse as an
# element with an unbound prefix. XML bodies get ``REDACTED-jwt`` instead, legal
# in text and attribute values alike.
XML_REDACTED = "REDACTED"
XML_MARKER = re.compile(r"(?<![A-Za-z0-9_])REDACTED(?:-[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*)?")


def xml_marker(angle_marker: str) -> str:
    """``<redacted:jwt>`` → ``REDACTED-jwt``; ``<redacted>`` → ``REDACTED``."""
    kind = angle_marker[len("<redacted"):-1].removeprefix(":")
    return f"{XML_REDACTED}-{kind}" if kind else XML_REDACTED


def is_redacted(value: str) -> bool:
    """True when ``value`` holds a redaction marker (whole or in part), of either form."""
    return (("<redacted" in value and MARKER.search(value) is not None)
            or (XML_REDACTED in value and XML_MARKER.search(value) is not None))


def count_redacted(value: str) -> int:
    """How many redaction markers ``value`` holds (a Cookie header may hold several)."""
    count = len(MARKER.findall(value)) if "<redacted" in value else 0
    return count + (len(XML_MARKER.findall(value)) if XML_REDACTED in value else 0)


# --- names ------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^a-z0-9]+")

_SECRET_EXACT = frozenset(
    {
        "auth", "pass", "pwd", "pw", "pin", "pan", "cvv", "cvc", "cvn", "csc", "ssn",
        "session", "sessid", "cookie", "setcookie", "csrf", "xsrf", "jwt",
        "otp", "totp", "hotp", "otpcode", "mfacode",
    }
)  # fmt: skip
_SECRET_SUFFIXES = (
    "token", "tokens", "secret", "secrets", "password", "passwords", "passwd", "passphrase",
    "pwd", "passcode", "pincode", "apikey", "apikeys", "privatekey", "secretkey", "accesskey",
    "accesskeyid", "encryptionkey", "signingkey", "masterkey", "authkey", "sessionkey",
    "sessionid", "sessid", "signature", "signatures", "credential", "credentials",
    "authorization", "cardnumber", "cardno", "ccnumber", "ccnum", "creditcard", "cvv", "cvc",
    "securitycode", "securityanswer", "secretanswer", "ssn", "socialsecuritynumber",
)  # fmt: skip
# Trailing qualifiers are dropped before the check, one after another:
# ``password_hash``, ``password_confirmation`` and ``password_hash_value`` are as
# secret as ``password`` (dropping only one kept ``password_hash_value``).
_QUALIFIERS = ("value", "hash", "digest", "confirmation", "confirm", "plaintext", "pem", "b64")


def normalise_name(name: str) -> str:
    return _NON_ALNUM.sub("", name.lower()).rstrip("0123456789")


def looks_secret_name(normalised: str) -> bool:
    """The built-in name rule, on a name already passed through ``normalise_name``."""
    if normalised in _SECRET_EXACT:
        return True
    while True:
        qualifier = next((q for q in _QUALIFIERS
                          if normalised.endswith(q) and len(normalised) > len(q)), None)
        if qualifier is None:
            return normalised in _SECRET_EXACT or normalised.endswith(_SECRET_SUFFIXES)
        normalised = normalised[: -len(qualifier)]


# --- values -----------------------------------------------------------------

_B64 = "A-Za-z0-9_-"
# Detectors run in this order, each as its own pass: a leading literal lets the
# regex engine skip ahead, so a pass over a kilobyte costs about a microsecond.
# Boundary checks are lookbehinds placed after that literal for the same reason.
VALUE_KINDS = {
    # PEM private keys, also when a truncated body cuts them short (then to the end).
    "private_key": r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
    r"(?s:.*?-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|.*)",
    # Authorization credentials, wherever they are quoted; before "jwt" so that
    # "Bearer eyJ..." is one bearer credential.
    "bearer": r"(?:Bearer|bearer|BEARER)(?<![A-Za-z0-9].{6})[ \t]+"
    r"(?P<credential>[A-Za-z0-9._~+/=-]{8,})",
    # Not followed by base64url or ".x": "Basic eyJ..." is a JWT's header, not a password.
    "basic": r"(?:Basic|basic|BASIC)(?<![A-Za-z0-9].{5})[ \t]+"
    r"(?P<credential>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=_-]|\.[A-Za-z0-9_-])",
    # JWS (three parts) and JWE (five); the header is always a JSON object.
    "jwt": rf"eyJ(?<![{_B64}]eyJ)[{_B64}]{{8,}}\.[{_B64}]{{2,}}\.[{_B64}]*(?:\.[{_B64}]+){{0,2}}",
    "aws_access_key": r"A(?:KIA|SIA|BIA|CCA|GPA|IDA|IPA|NPA|NVA|PKA|ROA)(?<![A-Za-z0-9].{4})"
    r"[A-Z0-9]{16}(?![A-Za-z0-9])",
    "google_api_key": rf"AIza(?<![{_B64}]AIza)[{_B64}]{{35}}(?![{_B64}])",
    "github_token": r"g(?<![A-Za-z0-9_]g)"
    r"(?:h[pousr]_[A-Za-z0-9]{36,255}|ithub_pat_[A-Za-z0-9_]{22,255})",
    "slack_token": r"xox(?<![A-Za-z0-9]xox)[abposr]-[A-Za-z0-9-]{10,}",
    "stripe_key": r"(?:sk_|rk_)(?<![A-Za-z0-9].{3})(?:live|test)_[A-Za-z0-9]{16,}",
    "card": r"[2-6](?<![\w.+-][2-6])(?:\d{12,18}|\d{3}(?P<separator>[ -])\d{3,6}"
    r"(?:(?P=separator)\d{1,6}){1,3})(?![\w-]|[.,]\d)",
}
_DETECTORS = tuple((kind, re.compile(regex)) for kind, regex in VALUE_KINDS.items())
# Cheap first look: when none of these literals occurs, only "card" can match.
_TRIGGER = re.compile(
    "PRIVATE KEY|Bearer|bearer|BEARER|Basic|basic|BASIC|eyJ|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA"
    "|ANPA|ANVA|APKA|AROA|AIza|gh|xox|sk_|rk_"
)
_NON_DIGIT = re.compile(r"\D")
_TOKEN_LIKE = re.compile(r"[0-9._~+/=-]|[a-z][A-Z]")


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _plausible(kind: str, match: re.Match) -> bool:
    if kind == "bearer":  # "Bearer authentication" is prose; tokens have digits or symbols
        return _TOKEN_LIKE.search(match.group("credential")) is not None
    # basic. RFC 7617: base64 of printable text, which English words are not.
    credential = match.group("credential")
    if len(credential) % 4:
        return False
    try:
        return base64.b64decode(credential, validate=True).decode("utf-8").isprintable()
    except (binascii.Error, UnicodeDecodeError):
        return False


def _replace_card(match: re.Match) -> str:
    """A card is the longest prefix of whole digit groups that passes Luhn, if any:
    "4111 1111 1111 1111 2" is a card followed by the number 2."""
    text = candidate = match.group()
    while True:
        digits = _NON_DIGIT.sub("", candidate)
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            return marker("card") + text[len(candidate) :]
        cut = max(candidate.rfind(" "), candidate.rfind("-"))
        if cut <= 0:
            return text
        candidate = candidate[:cut]


def _replacer(kind: str):
    if kind == "card":
        return _replace_card
    replacement = marker(kind)
    if kind not in ("bearer", "basic"):
        return replacement
    return lambda match: replacement if _plausible(kind, match) else match.group()


_PASSES = tuple((kind, pattern, _replacer(kind)) for kind, pattern in _DETECTORS)


class ValueScanner:
    """Replace secret-looking values inside any text with ``<redacted:KIND>``.

    ``patterns``: the user's extra ``(kind, regex)`` pairs, applied first.
    """

    def __init__(self, patterns: tuple[tuple[str, str], ...] = ()) -> None:
        self._extra = tuple((re.compile(regex), marker(kind)) for kind, regex in patterns)
        # Shorter text cannot hold a built-in secret; any length may match the user's.
        self.min_length = 0 if self._extra else _MIN_SECRET_LENGTH

    def scan(self, text: str) -> str:
        for pattern, replacement in self._extra:
            text = pattern.sub(replacement, text)
        if len(text) < _MIN_SECRET_LENGTH:
            return text
        if _TRIGGER.search(text) is None:
            _, card, replace_card = _PASSES[-1]
            return card.sub(replace_card, text)
        for _, pattern, replacement in _PASSES:
            text = pattern.sub(replacement, text)
        return text

    def marker_for(self, value: str) -> str:
        """The marker for a value known to be secret: its kind when the whole value has one."""
        if MARKER.fullmatch(value):
            return value
        scanned = self.scan(value.strip())
        return scanned if MARKER.fullmatch(scanned) else REDACTED


# --- name=value pairs inside text ---------------------------------------------

# ``name=value`` in URLs, form-like text and log lines; ``"name": value`` in
# JSON-like text (stringified JSON, a body that does not parse because it was
# truncated). The name decides, by the same rules as for fields.
_QUERY_NAME = re.compile(r"[A-Za-z_][\w.\-\[\]]{0,63}")
_BEFORE_NAME = re.compile(r"[?&#;,\s\"'(]")  # what may precede a name: searched backwards
_QUERY_VALUE = re.compile(r"[^&#\s\"'<>;,]+")
_JSON_PAIR = re.compile(
    r"\"(?P<name>[^\"\\\r\n]{1,64})\"\s*:\s*"
    r"(?P<value>\"[^\"\\]*(?:\\.[^\"\\]*)*(?:\"|\Z)|-?\d[\d.eE+-]*|true|false)"
)


def _name_before(text: str, start: int, equals: int) -> str | None:
    """The name of a ``name=`` ending at ``equals``: after a delimiter, or at the very start."""
    window = text[start:equals]
    delimiter = _BEFORE_NAME.search(window[::-1])  # the last one in the window
    if delimiter is not None:
        window = window[len(window) - delimiter.start() :]
    elif start != 0:
        return None
    return window if _QUERY_NAME.fullmatch(window) else None


def replace_named_pairs(
    text: str, is_secret: Callable[[str], bool], secret_string: Callable[[str], str]
) -> str:
    """``text`` with the values of secret-named pairs replaced, keeping their JSON type."""
    if '"' in text:

        def replace_json(match: re.Match) -> str:
            if not is_secret(match.group("name")):
                return match.group()
            head = match.group()[: match.start("value") - match.start()]
            value = match.group("value")
            if value.startswith('"'):
                inner = value[1:-1] if len(value) > 1 and value.endswith('"') else value[1:]
                return f'{head}"{secret_string(inner)}"'
            return head + ("false" if value in ("true", "false") else "0")

        text = _JSON_PAIR.sub(replace_json, text)
    pieces, done, equals = [], 0, text.find("=")
    while equals != -1:
        # 65: a name of up to 64 characters (_QUERY_NAME) and the delimiter before it
        # (64 left no room for the delimiter, so a 64-character name was never found)
        name = _name_before(text, max(done, equals - 65), equals)
        if name is not None and is_secret(name):
            value = _QUERY_VALUE.match(text, equals + 1)
            if value is not None:
                pieces += [text[done : equals + 1], secret_string(unquote_plus(value.group()))]
                done = value.end()
        equals = text.find("=", max(equals + 1, done))
    return "".join(pieces) + text[done:] if pieces else text
