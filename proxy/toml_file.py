"""Read freshmock.toml: a missing, unreadable or malformed file is one line, no traceback."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path

# Every top-level table of freshmock.toml and who reads it. A table not listed
# here is a mistake (``[recrod]``, ``[[dependency]]``) that would otherwise be
# ignored: every reader refuses it, naming the closest known one.
KNOWN_TABLES = {
    "record": "proxy/record_config.py",
    "dependencies": "proxy/record_config.py",
    "redaction": "proxy/redaction_config.py",
    "paths": "generators/model/paths.py",
}


def unknown_key_hint(key: str, known) -> str:
    """``did you mean 'x'?`` for the closest known name, else the list of known names."""
    known = sorted(known)
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"


def read_toml(path: str | Path, error: type[Exception]) -> dict:
    """The parsed document; ``error`` (the caller's user-facing exception) otherwise.

    A top-level table freshmock does not know is an ``error`` too.
    """
    path = Path(path)
    document = _parse(path, error)
    for key in document:
        if key not in KNOWN_TABLES:
            kind = "table" if isinstance(document[key], dict | list) else "key"
            raise error(f"{path}: unknown top-level {kind} {key!r}; "
                        f"{unknown_key_hint(key, KNOWN_TABLES)}")
    return document


def _parse(path: Path, error: type[Exception]) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as problem:
        raise error(f"{path}: cannot read it ({problem.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as problem:
        raise error(f"{path}: not valid TOML ({problem})") from None
