"""The CLI stays thin: a command opens, calls one library function, words its result.

Measured with ``ast`` over ``generators/cli/``, so the rules hold for every
command added later, not only for the ones there today:

- a command's body (its statements after the docstring; the option
  declarations of its signature and its --help text are not counted) is at
  most ``MAX_COMMAND_LINES`` lines;
- no CLI module imports a private (``_name``) helper of another module: what
  is shared is public in its one home.
"""

from __future__ import annotations

import ast
import re

from freshmock.generators.cli import app

from conftest import REPO

CLI = REPO / "generators" / "cli"
MAX_COMMAND_LINES = 40
# Commands allowed past the limit, each with the reason it cannot reasonably
# be split; an entry here is a decision, written down.
LONG_COMMAND_EXCEPTIONS: dict[str, str] = {}  # command name -> why it may be longer


def _is_command(decorator: ast.expr) -> bool:
    """``@app.command(...)`` (or ``@app.command``): a typer command."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Attribute) and target.attr == "command"


def body_lines(function: ast.FunctionDef) -> int:
    """Lines from the first statement after the docstring to the function's end."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if not body:
        return 0
    return function.end_lineno - body[0].lineno + 1


def command_lengths(source: str) -> dict[str, int]:
    """Command function name -> body lines, for every typer command in ``source``."""
    return {node.name: body_lines(node) for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and any(_is_command(d) for d in node.decorator_list)}


def long_commands(source: str, limit: int = MAX_COMMAND_LINES) -> dict[str, int]:
    return {name: lines for name, lines in command_lengths(source).items()
            if lines > limit and name not in LONG_COMMAND_EXCEPTIONS}


def private_imports(source: str) -> list[str]:
    """``from freshmock.x import _helper`` lines: a private name taken from another module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("freshmock"):
            found += [f"{node.module}.{alias.name}" for alias in node.names
                      if alias.name.startswith("_")]
    return found


def _cli_sources() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(CLI.glob("*.py"))}


def test_every_command_body_is_at_most_40_lines():
    lengths = {f"{module}:{name}": lines for module, source in _cli_sources().items()
               for name, lines in command_lengths(source).items()}
    # every registered command was measured: a command defined some other way
    # (not by @app.command in generators/cli/) would escape the rule
    registered = {command.callback.__name__ for command in app.registered_commands}
    assert registered == {key.split(":")[1] for key in lengths}
    print(f"{len(lengths)} commands, longest {max(lengths.values())} lines: "
          + ", ".join(f"{k} {v}" for k, v in sorted(lengths.items(), key=lambda kv: -kv[1])[:5]))
    offenders = {key: lines for key, lines in lengths.items()
                 if lines > MAX_COMMAND_LINES and key.split(":")[1] not in LONG_COMMAND_EXCEPTIONS}
    assert not offenders, f"commands longer than {MAX_COMMAND_LINES} lines: {offenders}"


def test_a_planted_long_command_is_caught():
    planted = "\n".join(
        ["@app.command()", "def sprawling(db: Path = DEFAULT_DB) -> None:",
         '    """Help text is not counted."""']
        + [f"    step_{i} = {i}" for i in range(MAX_COMMAND_LINES + 1)]
        + ["", "def helper():"] + [f"    x_{i} = {i}" for i in range(60)]
        + ["", "@app.command()", "def short() -> None:", "    pass"])
    assert long_commands(planted) == {"sprawling": MAX_COMMAND_LINES + 1}
    assert command_lengths(planted)["short"] == 1


def test_no_cli_module_imports_a_private_helper():
    found = {module: names for module, source in _cli_sources().items()
             if (names := private_imports(source))}
    assert not found, f"private helpers imported across modules: {found}"
    assert private_imports("from freshmock.generators.cli.drift import _days") \
        == ["freshmock.generators.cli.drift._days"]


def _codes_in_docs_table() -> set[int]:
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    table = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(m[1]) for m in re.finditer(r"^\| (\d+) \|", table, re.MULTILINE)}


def _codes_in_errors_docstring() -> set[int]:
    from freshmock.proxy import errors

    return {int(m[1]) for m in re.finditer(r"^ (\d+) {2,}\S", errors.__doc__, re.MULTILINE)}


def test_exit_code_tables_agree_with_the_code():
    from freshmock.generators.cli import common
    from freshmock.proxy.errors import ExitCode, FreshmockError

    codes = {int(code) for code in ExitCode}
    assert _codes_in_docs_table() == codes == _codes_in_errors_docstring()
    assert common.ExitCode is ExitCode  # one table, re-exported, never a second copy
    assert "ExitCode" in common.__doc__ and "proxy/errors.py" in common.__doc__
    assert FreshmockError("x").exit_code == ExitCode.USAGE
    assert FreshmockError("x", exit_code=ExitCode.NOTHING_COMPARABLE).exit_code == 3
    # every error class that sets its own code sets one the table lists
    for path in [*(REPO / "proxy").rglob("*.py"), *(REPO / "generators").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for statement in node.body:
                    if isinstance(statement, ast.Assign) and any(
                            getattr(t, "id", None) == "exit_code" for t in statement.targets):
                        value = statement.value
                        code = (value.value if isinstance(value, ast.Constant)
                                else ExitCode[value.attr])
                        assert code in codes, f"{path}: {node.name}.exit_code = {code}"
