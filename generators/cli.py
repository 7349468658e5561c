"""The ``freshmock`` command: a thin typer layer over the library.

Each stage's commands live in a module of their own; importing one registers
its commands on the one typer app, in this order (which --help follows).
"""

from __future__ import annotations

from importlib import import_module

from freshmock.generators.cli_common import app

COMMAND_MODULES = ("cli_capture", "cli_model", "cli_drift", "cli_stubs", "cli_verify")
for _module in COMMAND_MODULES:
    import_module(f"freshmock.generators.{_module}")


def main() -> None:
    app()
