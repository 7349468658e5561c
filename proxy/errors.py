"""The one root of every error freshmock words for its user.

A ``FreshmockError``'s message is one line meant for the user as is (it names
the value and the fix, never quotes traffic); ``exit_code`` is what the CLI
exits with (the table is in ``freshmock.generators.cli.common``). It lives in
``proxy/`` because the capture stage raises it too and never imports
``generators/``.
"""

from __future__ import annotations

USAGE = 2  # a bad option value, a missing/corrupt/foreign store, a bad file


class FreshmockError(Exception):
    """A user or environment problem; ``str(error)`` is the whole message."""

    exit_code = USAGE
