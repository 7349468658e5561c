"""All-or-nothing output: build in a staging place beside the destination, move it in at the end.

A writer interrupted (Ctrl-C, a crash, a full disk) leaves the destination as
it was; the staging folder (``.NAME.freshmock-*``, beside it) is removed on the
way out, and one a killed process leaves behind is removed by the next run.
The final move is two renames per folder (destination aside, staging in) with
SIGINT held back meanwhile, so a Ctrl-C lands before or after them, never
between: the destination is then either as before or complete.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_STAGING = ".freshmock-staging-"
_ASIDE = ".freshmock-old-"


def _leftovers(destination: Path) -> list[Path]:
    parent = destination.absolute().parent
    prefixes = (f".{destination.name}{_STAGING}", f".{destination.name}{_ASIDE}")
    if not parent.is_dir():
        return []
    return [p for p in parent.iterdir() if p.name.startswith(prefixes)]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back for a few renames; they are delivered right after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class StagedFolders:
    """Several destination folders staged together and moved in together at the end."""

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []  # (staging, destination)
        self._files: list[tuple[Path, Path]] = []

    def folder(self, destination: Path) -> Path:
        """A staging copy of ``destination`` (its current files included) to write into."""
        destination = Path(os.path.abspath(destination))  # "." has no name to stage beside
        for leftover in _leftovers(destination):
            _remove(leftover)
        staging = destination.absolute().parent / f".{destination.name}{_STAGING}{os.getpid()}"
        destination.absolute().parent.mkdir(parents=True, exist_ok=True)
        if destination.is_dir():
            # a copy, so writers that keep files they did not write (and drop
            # stale ones of their own) see the folder as it is
            shutil.copytree(destination, staging, symlinks=True)
        else:
            staging.mkdir()
        self._staged.append((staging, destination))
        return staging

    def file(self, destination: Path) -> Path:
        """A staging name beside ``destination`` to write into (its folder is made if missing)."""
        destination = Path(os.path.abspath(destination))
        destination.absolute().parent.mkdir(parents=True, exist_ok=True)
        staging = destination.absolute().parent / f".{destination.name}{_STAGING}{os.getpid()}"
        self._files.append((staging, destination))
        return staging

    def discard(self) -> None:
        for staging, _ in self._staged + self._files:
            _remove(staging)
        for staging, _ in self._files:  # a staged SQLite store's side files
            for side in ("-wal", "-shm", "-journal"):
                _remove(staging.with_name(staging.name + side))

    def commit(self) -> None:
        with signals_held():
            for staging, destination in self._staged:
                aside = destination.absolute().parent / f".{destination.name}{_ASIDE}{os.getpid()}"
                if destination.exists():
                    os.rename(destination, aside)
                os.rename(staging, destination)
            for staging, destination in self._files:
                if staging.exists():
                    os.replace(staging, destination)
        for _, destination in self._staged:
            for leftover in _leftovers(destination):
                _remove(leftover)


@contextmanager
def staged() -> Iterator[StagedFolders]:
    """``with staged() as stage: write into stage.folder(out)``: moved in only if the block ends."""
    stage = StagedFolders()
    try:
        yield stage
    except BaseException:
        stage.discard()
        raise
    stage.commit()


@contextmanager
def staged_folder(destination: Path) -> Iterator[Path]:
    with staged() as stage:
        yield stage.folder(destination)
