"""``freshmock generate``: publish the window, run one target's writer, all or nothing.

The writers (``targets/``) take the ``Model`` ``publish`` returns; this module
is the one place that turns what a writer can raise into a user's error:
a broken override template (exit 2) or two stubs that would shadow each
other (``DuplicateStubError``, exit 1, a bug of ours said loudly).
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from freshmock.generators.model.endpoint import Model
from freshmock.generators.model.publish import publish, window_of
from freshmock.generators.targets import TARGETS
from freshmock.generators.workflows.atomic_output import staged_folder
from freshmock.proxy.errors import ExitCode, FreshmockError


class NothingWritten(FreshmockError):
    """The window holds no endpoint the target writes a stub for."""

    exit_code = ExitCode.NOTHING_COMPARABLE  # nothing observed to work from


class TemplateFailed(FreshmockError):
    """A user's override template failed to render; the message names the error."""

    exit_code = ExitCode.USAGE  # the user's template, not freshmock


def write_target(model: Model, target: str, out_dir: Path, service: str | None = None,
                 templates_dir: Path | None = None) -> list:
    """Run ``target``'s writer on ``model``; what it wrote (maybe nothing)."""
    from jinja2 import TemplateError

    try:
        return TARGETS[target].writer()(model, out_dir, service=service,
                                        templates_dir=templates_dir)
    except TemplateError as error:  # a user's override template: name it, no traceback
        raise TemplateFailed(f"template error: {type(error).__name__}: {error}") from None


def generate_stubs(db: sqlite_utils.Database, target: str, out_dir: Path, days: int | None,
                   service: str | None = None, templates_dir: Path | None = None) -> list:
    """Publish the last ``days`` days and write ``target`` under ``out_dir``, all or nothing.

    Raises ``NothingWritten`` (``out_dir`` left as it was) when no stub came out.
    """
    model = publish(db, window_of(db, days))
    with staged_folder(out_dir) as staging:
        written = write_target(model, target, staging, service, templates_dir)
        if not written:
            raise NothingWritten("no stub to write")
    return written


def truncated_count(written: list) -> int:
    """How many written stubs replay a body cut at the capture's size cap."""
    return sum(getattr(item, "truncated", 0) for item in written)
