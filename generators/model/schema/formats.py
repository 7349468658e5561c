"""String format detectors: does this value look like a date-time, a uuid, ...?

Each detector is stricter than the JSON Schema format it names (a claimed
format must hold for every value a validator checks: no leap seconds, an
RFC 3339 offset required, URIs only with ``scheme://``), and starts with a cheap
length or character test so the common "no" costs a comparison, not a regex.
``FORMATS`` fixes the order in which formats are kept and published.
"""

from __future__ import annotations

import re
from datetime import date

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATE_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"
    r"([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)
UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID = re.compile(UUID_PATTERN)
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}", re.ASCII)
# An absolute URI with a non-empty authority (``scheme://host...``), RFC 3986
# characters only. ``scheme:rest`` is left out ("key:value" strings would pass),
# and so is ``file:///path``.
_URI_CHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})"
_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*://"
    r"(?:(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*@)?"
    r"(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)"
    r"(?::\d*)?"
    rf"(?:/{_URI_CHAR}*)?(?:\?(?:{_URI_CHAR}|\?)*)?(?:#(?:{_URI_CHAR}|\?)*)?",
    re.ASCII,
)


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def is_date_time(value: str) -> bool:
    if len(value) < 20 or value[4] != "-":
        return False
    match = _DATE_TIME.fullmatch(value)
    return match is not None and _valid_date(match.group(1))


def is_date(value: str) -> bool:
    if len(value) != 10 or value[4] != "-":
        return False
    return _DATE.fullmatch(value) is not None and _valid_date(value)


def is_uuid(value: str) -> bool:
    return len(value) == 36 and value[8] == "-" and _UUID.fullmatch(value) is not None


def is_email(value: str) -> bool:
    return "@" in value and _EMAIL.fullmatch(value) is not None


def is_uri(value: str) -> bool:
    return "://" in value and _URI.fullmatch(value) is not None


def is_ipv4(value: str) -> bool:
    return 7 <= len(value) <= 15 and value[0].isdigit() and _IPV4.fullmatch(value) is not None


# Publishing order when more than one format is still possible.
DETECTORS = {
    "date-time": is_date_time,
    "date": is_date,
    "uuid": is_uuid,
    "email": is_email,
    "uri": is_uri,
    "ipv4": is_ipv4,
}
FORMATS = tuple(DETECTORS)


def still_possible(candidates: list[str], value: str) -> list[str]:
    """The candidates ``value`` (non-empty) matches, in ``FORMATS`` order."""
    return [name for name in candidates if DETECTORS[name](value)]


# Values that are data, not members of a closed set: hex colours, hex digests
# (7+ hex characters with a digit: a short git hash), ids and counters (more
# digits than anything else), long tokens without a space. Enum members are
# words and codes: "paid", "in_progress", "OPEN", "v2", "tls1_3".
# Bare hex without "#" and without a digit is English ("decade", "facade").
_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})",
                         re.ASCII)
_HEX_DIGEST = re.compile(r"(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{7,}", re.ASCII)
_PATTERN_MIN_LENGTH = 24


def _pattern_like(value: str) -> bool:
    return bool(
        _HEX_COLOUR.fullmatch(value)
        or _HEX_DIGEST.fullmatch(value)
        or sum(ch.isdigit() for ch in value) * 2 > len(value)
        or (len(value) >= _PATTERN_MIN_LENGTH and " " not in value)
    )


def is_pattern_like(values) -> bool:
    """Whether a set of string values looks like data (ids, hashes, colours), not an enum.

    True when most non-empty values are pattern-like, so "v1"/"v2" style codes
    beside words still pass as labels only when words dominate.
    """
    non_empty = [v for v in values if v]
    if not non_empty:
        return True
    return sum(map(_pattern_like, non_empty)) * 2 > len(non_empty)
