"""Read freshmock.toml: a missing, unreadable or malformed file is one line, no traceback."""

from __future__ import annotations

import tomllib
from pathlib import Path


def read_toml(path: str | Path, error: type[Exception]) -> dict:
    """The parsed document; ``error`` (the caller's user-facing exception) otherwise."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as problem:
        raise error(f"{path}: cannot read it ({problem.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as problem:
        raise error(f"{path}: not valid TOML ({problem})") from None
