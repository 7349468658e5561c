"""Redact a parsed JSON document, keeping its shape and every value's type.

Under a secret name: a string becomes its marker (``<redacted>``,
``<redacted:jwt>`` ...), a number 0 (0.0 for a float), a boolean false; null
and an empty string stay as they are (they hide nothing). Objects and arrays
under a secret name keep their keys and lengths and are redacted at their
leaves, except under a name on the keep list. Everywhere else strings are
scanned for secret-looking values and numbers are left alone: big integers
are ids far more often than card numbers.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from freshmock.proxy.secret_patterns import Mode


def redact_document(
    document,
    field_mode: Callable[[str], Mode],
    scan: Callable[[str], str],
    scan_key: Callable[[str], str],
    secret_string: Callable[[str], str],
    min_scan_length: int = 0,
) -> tuple[object, bool]:
    """``(redacted, changed)``. Modifies ``document`` in place; it must be fresh from json.loads.

    ``min_scan_length``: strings shorter than this, without ``=`` or ``"``,
    cannot hold a secret value and are not scanned (a shortcut, nothing more).
    """
    changed = False
    normal, secret, keep = Mode.NORMAL, Mode.SECRET, Mode.KEEP
    shortest = min_scan_length

    def replaced(value, mode: Mode):
        """The replacement for a leaf under a secret or kept name, or the leaf itself."""
        nonlocal changed
        kind = type(value)
        if mode is keep or value is None or value == "":
            return value
        if kind is str:
            new = secret_string(value)
        else:
            new = False if kind is bool else 0 if kind is int else 0.0
        if new != value or type(new) is not kind:
            changed = True
            return new
        return value

    # The common case (a string under an ordinary name) is inlined: this loop
    # runs for every value of every recorded body.
    def walk(value, mode: Mode):
        nonlocal changed
        kind = type(value)
        if kind is dict:
            renamed = False
            for key, item in value.items():
                child = field_mode(key)
                if mode is secret and child is normal:
                    child = secret  # everything under a secret name, unless kept
                item_kind = type(item)
                if item_kind is str and child is normal:
                    if len(item) >= shortest or "=" in item or '"' in item:
                        new = scan(item)
                        if new != item:
                            value[key], changed = new, True
                elif item_kind is dict or item_kind is list:
                    value[key] = walk(item, child)
                elif child is not normal:
                    value[key] = replaced(item, child)
                if (len(key) >= shortest or "=" in key or '"' in key) and scan_key(key) != key:
                    renamed = True
            return rename_keys(value) if renamed else value
        if kind is list:
            for index, item in enumerate(value):
                value[index] = walk(item, mode)
            return value
        if mode is not normal:
            return replaced(value, mode)
        if kind is str and (len(value) >= shortest or "=" in value or '"' in value):
            new = scan(value)
            changed = changed or new != value
            return new
        return value

    def rename_keys(obj: dict) -> dict:
        """Secret-looking keys (a map keyed by card number); a clash gets a ``#N`` suffix."""
        nonlocal changed
        changed = True
        renamed = {}
        for key, item in obj.items():
            new_key = candidate = scan_key(key)
            suffix = 2
            while candidate in renamed:
                candidate, suffix = f"{new_key}#{suffix}", suffix + 1
            renamed[candidate] = item
        return renamed

    redacted = walk(document, normal)
    return redacted, changed


def compact_json(document) -> bytes:
    """Compact UTF-8 JSON, key order kept."""
    try:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from "\ud800"-style escapes
        return json.dumps(document, separators=(",", ":")).encode("ascii")
