"""Path templates: ``/users/42/orders`` → ``/users/{user_id}/orders``.

A segment becomes a parameter when its value is typed like an identifier
(an integer or a UUID). Parameter names come from the literal segment before
them and are unique within a template.
"""

from __future__ import annotations

import re

_INTEGER = re.compile(r"^-?\d+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NAME_CHARS = re.compile(r"[^a-z0-9]+")


def is_identifier(segment: str) -> bool:
    return bool(_INTEGER.match(segment) or _UUID.match(segment))


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _parameter_name(previous_literal: str | None) -> str:
    if not previous_literal:
        return "id"
    base = _NAME_CHARS.sub("_", _singular(previous_literal.lower())).strip("_")
    return f"{base}_id" if base else "id"


def path_template(path: str) -> str:
    segments = path.split("/")
    used: set[str] = set()
    previous_literal: str | None = None
    out = []
    for index, segment in enumerate(segments):
        # Never template the first segment: it names a collection, not an item.
        if index > 1 and is_identifier(segment):
            name = _parameter_name(previous_literal)
            unique, n = name, 2
            while unique in used:
                unique, n = f"{name}{n}", n + 1
            used.add(unique)
            out.append("{" + unique + "}")
            previous_literal = None
        else:
            out.append(segment)
            previous_literal = segment or previous_literal
    return "/".join(out)
