"""The ``freshmock`` command: a thin typer layer over the library.

Each stage's commands live in a module of their own; importing one registers
its commands on the one typer app, in this order (which --help follows).
"""

from __future__ import annotations

import sys
from importlib import import_module

from freshmock.generators.cli.common import app

COMMAND_MODULES = ("capture", "model", "drift", "stubs", "verify")
# Imported up front, not lazily by the commands that use it, because the worker
# process runs this code: a package missing there would otherwise surface as
# a worker that dies on every start while the proxy records nothing.
WORKER_MODULE = "freshmock.proxy.rows"


def register_commands() -> None:
    for module in COMMAND_MODULES:
        import_module(f"freshmock.generators.cli.{module}")


def missing_package_line(error: ImportError) -> str:
    name = error.name or str(error)
    return (
        f"freshmock: the Python package {name!r} is not installed, and freshmock needs it; "
        "reinstall freshmock with its dependencies (pip install --force-reinstall freshmock, "
        "or `make install` in a clone)"
    )


# Registered on import (tests and the docs check read the app); a package
# missing here is kept and worded by main(), never a traceback.
try:
    import_module(WORKER_MODULE)
    register_commands()
    _MISSING: ImportError | None = None
except ImportError as error:
    _MISSING = error


def main() -> None:
    if _MISSING is not None:
        print(missing_package_line(_MISSING), file=sys.stderr)
        raise SystemExit(2)
    try:
        app()
    except ImportError as error:  # a command's own lazy import
        print(missing_package_line(error), file=sys.stderr)
        raise SystemExit(2) from None
