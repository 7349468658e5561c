"""Each benchmark owns one section of docs/performance.md, between two HTML comments."""

from __future__ import annotations

import re
from pathlib import Path


def replace_section(text: str, path: Path, start: str, end: str) -> None:
    """Put ``text`` (which begins with ``start`` and ends with ``end``) in place of
    the section between those markers in ``path``, or append it; keep the rest."""
    current = path.read_text() if path.exists() else "# Performance\n"
    if start in current and end in current:
        before, rest = current.split(start, 1)
        current = before + text.rstrip("\n") + rest.split(end, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + text
    path.write_text(current)


def show_and_save(text: str, out: Path | None, start: str, end: str) -> None:
    """Print a section without its markers; refresh it in ``out`` unless None (--quick)."""
    print(re.sub(r"<!--.*?-->\n?", "", text))
    if out is not None:
        replace_section(text, out, start, end)
        print(f"wrote {out}")
