"""The one error of importing capture files (proxy/importer.py and its readers).

Its message is one line for the user, as is: the file, where in it (``entry
17``, ``flow 3``) and what is wrong. It names fields and positions, never a
value: a capture file is full of credentials.
"""

from __future__ import annotations

from pathlib import Path

from freshmock.proxy.errors import FreshmockError


class CaptureFileError(FreshmockError):
    """A capture file cannot be imported; nothing from any file was written."""

    def __init__(self, path: Path | str, problem: str, where: str | None = None) -> None:
        self.path = Path(path)
        self.where = where
        self.problem = problem
        located = f"{self.path}: {where}" if where else str(self.path)
        super().__init__(f"{located}: {problem}")
