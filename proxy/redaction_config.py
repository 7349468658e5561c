"""The user's redaction rules: section ``[redaction]`` of ``freshmock.toml``.

```toml
[redaction]
headers = ["X-Tenant-Key"]            # extra header names whose values are secret
fields = ["customer_ref", "iban"]     # extra JSON / form field and query names
patterns = { stripe = "sk_live_[0-9A-Za-z]{24}" }   # values → <redacted:stripe>
keep = ["next_page_token"]            # names never redacted, even if they look secret
```

Names are compared the way the built-in rules compare them (see
``freshmock.proxy.secret_patterns.normalise_name``). Every mistake is a
``RedactionConfigError`` whose one-line message names the file, the key and
the problem, and never quotes a pattern (it may itself be secret).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from freshmock.proxy.errors import FreshmockError
from freshmock.proxy.secret_patterns import PATTERN_NAME
from freshmock.proxy.toml_file import read_toml

KEYS = ("fields", "headers", "keep", "patterns")


class RedactionConfigError(FreshmockError):
    """The redaction rules cannot be used; the message is meant for the user as is."""


class _Problem(Exception):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")


def _names(key: str, value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise _Problem(key, f"must be a list of names, got {type(value).__name__}")
    names = list(value)
    for name in names:
        if not isinstance(name, str):
            raise _Problem(key, f"must be a list of names, found a {type(name).__name__} in it")
        if not re.search(r"[A-Za-z]", name):
            raise _Problem(key, f"{name!r} is not a name (it needs at least one letter)")
    return frozenset(names)


def _patterns(value: object) -> tuple[tuple[str, str], ...]:
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, tuple | list):
        pairs = list(value)
    else:
        got = type(value).__name__
        raise _Problem("patterns", f'must be a table of name = "regex", got {got}')
    checked = []
    for pair in pairs:
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise _Problem("patterns", 'must be a table of name = "regex"')
        kind, regex = pair
        if not isinstance(kind, str) or not PATTERN_NAME.fullmatch(kind):
            raise _Problem("patterns", f"{kind!r} is not a usable name (letters, digits, _ or -)")
        key = f"patterns.{kind}"
        if not isinstance(regex, str):
            raise _Problem(key, f"must be a regex string, got {type(regex).__name__}")
        try:
            compiled = re.compile(regex)
        except re.error as error:
            raise _Problem(key, f"regex does not compile ({error})") from None
        if compiled.fullmatch(""):
            raise _Problem(key, "regex matches the empty string, so it would redact everywhere")
        checked.append((kind, regex))
    return tuple(checked)


@dataclass(frozen=True)
class RedactionRules:
    """Extensions of the built-in rules; the built-ins always apply.

    Lists may be given as any iterable of names; ``patterns`` as a mapping or
    ``(name, regex)`` pairs. Invalid values raise ``RedactionConfigError``.
    """

    headers: frozenset[str] = field(default_factory=frozenset)
    fields: frozenset[str] = field(default_factory=frozenset)
    patterns: tuple[tuple[str, str], ...] = ()
    keep: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        try:
            for key in ("headers", "fields", "keep"):
                object.__setattr__(self, key, _names(key, getattr(self, key)))
            object.__setattr__(self, "patterns", _patterns(self.patterns))
        except _Problem as problem:
            raise RedactionConfigError(f"[redaction] {problem}") from None


DEFAULT_RULES = RedactionRules()


def default_rules() -> RedactionRules:
    return DEFAULT_RULES


def rules_from_table(table: Mapping[str, object]) -> RedactionRules:
    """Rules from a parsed ``[redaction]`` table; unknown keys are errors."""
    for key in table:
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(KEYS)}"
            raise RedactionConfigError(f"[redaction] unknown key {key!r}; {hint}")
    return RedactionRules(**table)


def load_rules(path: str | Path) -> RedactionRules:
    """Read ``[redaction]`` of a freshmock.toml; no such section gives the defaults."""
    path = Path(path)
    document = read_toml(path, RedactionConfigError)
    table = document.get("redaction")
    if table is None:
        return DEFAULT_RULES
    if not isinstance(table, dict):
        raise RedactionConfigError(f"{path}: redaction must be a [redaction] table")
    try:
        return rules_from_table(table)
    except RedactionConfigError as error:
        raise RedactionConfigError(f"{path}: {error}") from None
