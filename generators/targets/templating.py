"""The jinja2 environment every emitter renders with.

Users may put their own copy of any template in a folder and pass it first;
undefined variables fail loudly instead of rendering as empty strings.
"""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined


def to_json(value, level: int = 0) -> str:
    """Deterministic JSON (sorted keys, two-space indent) nested ``level`` deep."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return text.replace("\n", "\n" + "  " * level)


def environment(override_dir: Path | None = None) -> Environment:
    loaders = [PackageLoader("freshmock.generators.targets", "templates")]
    if override_dir is not None:
        loaders.insert(0, FileSystemLoader(str(override_dir)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["json"] = to_json
    return env
