"""Where each value of a JSON text is: spans, so a fix edits only the bytes it must.

``parse_spans(text)`` returns a ``Span`` tree: every object member and array
item with its start and end offsets, the text itself untouched. ``--fix``
replaces or deletes spans and leaves every other byte (indentation, key
order, the user's spacing) as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from json.decoder import scanstring

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}


@dataclass
class Span:
    start: int
    end: int
    value: object = None
    members: dict[str, tuple[int, Span]] = field(default_factory=dict)  # key → (key start, value)
    items: list[Span] = field(default_factory=list)


def parse_spans(text: str) -> Span:
    span, end = _value(text, _skip(text, 0))
    if _skip(text, end) != len(text):
        raise ValueError(f"extra data at offset {end}")
    return span


def _skip(text: str, at: int) -> int:
    return _WHITESPACE.match(text, at).end()


def _value(text: str, at: int) -> tuple[Span, int]:
    char = text[at:at + 1]
    if char == "{":
        return _object(text, at)
    if char == "[":
        return _array(text, at)
    if char == '"':
        value, end = scanstring(text, at + 1)
        return Span(at, end, value), end
    for word, value in _LITERALS.items():
        if text.startswith(word, at):
            return Span(at, at + len(word), value), at + len(word)
    match = _NUMBER.match(text, at)
    if not match:
        raise ValueError(f"not JSON at offset {at}")
    return Span(at, match.end(), json.loads(match[0])), match.end()


def _object(text: str, at: int) -> tuple[Span, int]:
    span = Span(at, at, {})

    def member(at: int) -> int:
        if text[at:at + 1] != '"':
            raise ValueError(f"expected a key at offset {at}")
        key_start = at
        key, at = scanstring(text, at + 1)
        at = _skip(text, at)
        if text[at:at + 1] != ":":
            raise ValueError(f"expected ':' at offset {at}")
        child, at = _value(text, _skip(text, at + 1))
        span.members[key] = (key_start, child)
        span.value[key] = child.value
        return at

    return _elements(text, span, "}", member)


def _array(text: str, at: int) -> tuple[Span, int]:
    span = Span(at, at, [])

    def item(at: int) -> int:
        child, at = _value(text, at)
        span.items.append(child)
        span.value.append(child.value)
        return at

    return _elements(text, span, "]", item)


def _elements(text: str, span: Span, close: str,
              element: Callable[[int], int]) -> tuple[Span, int]:
    """Parse the comma-separated elements of the container opening at ``span.start``
    (``element`` reads one at an offset, returns where it ends) up to ``close``."""
    at = _skip(text, span.start + 1)
    if text[at:at + 1] == close:
        span.end = at + 1
        return span, span.end
    while True:
        at = _skip(text, element(at))
        if text[at:at + 1] == ",":
            at = _skip(text, at + 1)
            continue
        if text[at:at + 1] == close:
            span.end = at + 1
            return span, span.end
        raise ValueError(f"expected ',' or '{close}' at offset {at}")


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def member_deletion(text: str, parent: Span, key: str) -> tuple[int, int]:
    """The span to cut so ``key`` leaves ``parent`` and the rest stays valid and tidy.

    Cuts from the end of the previous member's value (taking its comma), or,
    for the first member, up to the next member's key.
    """
    keys = list(parent.members)
    index = keys.index(key)
    key_start, child = parent.members[key]
    if index > 0:
        return parent.members[keys[index - 1]][1].end, child.end
    if len(keys) > 1:
        return key_start, parent.members[keys[1]][0]
    return parent.start + 1, parent.end - 1


def apply_edits(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Replace each ``(start, end, new)`` of ``text``; spans must not overlap."""
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text
