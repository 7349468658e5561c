"""The one root of every error freshmock words for its user, and the exit codes.

A ``FreshmockError``'s message is one line meant for the user as is (it names
the value and the fix, never quotes traffic); ``exit_code`` is what the CLI
exits with. The CLI's command group (``freshmock.generators.cli.common``)
catches it once and words it once. It lives in ``proxy/`` because the capture
stage raises it too and never imports ``generators/``.

Exit codes, the same for every command (docs/cli.md repeats this table):

====  ==============================================================
 0    ok (also: the reader of stdout left early, ``| head``)
 1    the check failed: drift at or above --fail-on (diff), a stale
      stub (check), a mock finding at or above --fail-on (verify);
      and two stubs that would answer the same requests
      (``DuplicateStubError``: a bug of freshmock's, said loudly)
 2    usage or input error: a bad option value, a missing, corrupt,
      foreign or read-only store, a bad file, an unreachable or wrong
      server, a missing Python package
 3    nothing comparable or nothing to write: an empty store or
      window, a day with no observations (show --at), no mock that
      could be verified (verify)
 130  interrupted (Ctrl-C); output folders and stores are as before
      or complete, never half-written
====  ==============================================================
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1
    USAGE = 2
    NOTHING_COMPARABLE = 3
    INTERRUPTED = 130


USAGE = ExitCode.USAGE  # a bad option value, a missing/corrupt/foreign store, a bad file


class FreshmockError(Exception):
    """A user or environment problem; ``str(error)`` is the whole message.

    A subclass sets its ``exit_code``; ``FreshmockError(message, exit_code=3)``
    gives one error its own.
    """

    exit_code: int = ExitCode.USAGE

    def __init__(self, *args: object, exit_code: int | None = None) -> None:
        super().__init__(*args)
        if exit_code is not None:
            self.exit_code = exit_code


class NothingToDo(FreshmockError):
    """Nothing observed that the command could work from (an empty store or window)."""

    exit_code = ExitCode.NOTHING_COMPARABLE
