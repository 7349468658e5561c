"""The layout promises: two stages under one namespace, data flowing one way."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib import resources
from pathlib import Path

from conftest import REPO


def test_stages_are_only_importable_under_the_freshmock_namespace(tmp_path):
    probe = (
        "import importlib.util as u, freshmock.proxy.store, freshmock.generators.cli;"
        "print(u.find_spec('proxy'), u.find_spec('generators'))"
    )
    # Run from an unrelated folder so the checkout itself is not on sys.path.
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "None"]


def _module_name(path: Path, root: Path, package: str) -> str:
    """``proxy/worker.py`` under ``freshmock.proxy`` is ``freshmock.proxy.worker``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _imports_of(source: str, module: str, is_package: bool = False) -> list[str]:
    """Every module ``module``'s source imports, relative imports resolved to absolute
    names (``from ..generators import x`` in ``freshmock.proxy.a`` is
    ``freshmock.generators``), and ``from P import name`` also as ``P.name`` (which
    may be a module)."""
    names = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            names.append(origin)
            names += [f"{origin}.{alias.name}" for alias in node.names]
    return names


def _package_imports(folder: str, package: str) -> dict[str, list[str]]:
    root = REPO / folder
    return {
        _module_name(path, root, package): _imports_of(
            path.read_text(), _module_name(path, root, package), path.name == "__init__.py")
        for path in sorted(root.rglob("*.py"))
    }


def _imports(path):
    """Absolute import names of one file (relative ones left out): for the bare-name rule."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def _proxy_importing_generators(imports: dict[str, list[str]]) -> dict[str, list[str]]:
    return {module: sorted({name for name in names if name.startswith("freshmock.generators")
                            or name.split(".")[0] == "generators"})
            for module, names in imports.items()
            if any(name.startswith("freshmock.generators") or name.split(".")[0] == "generators"
                   for name in names)}


def test_proxy_never_imports_generators():
    """docs/architecture.md: `proxy/` (what runs in the sidecar) never imports `generators/`."""
    imports = _package_imports("proxy", "freshmock.proxy")
    assert len(imports) >= 20  # every module of proxy/ was read
    assert _proxy_importing_generators(imports) == {}


def test_the_import_check_sees_absolute_relative_and_from_imports():
    """The checks above fail on a planted violation of each form."""
    planted = {
        "freshmock.proxy.a": "import freshmock.generators.infer",
        "freshmock.proxy.b": "from freshmock.generators import diff",
        "freshmock.proxy.c": "from ..generators import diff",
        "freshmock.proxy.d": "from ..generators.paths import template_for",
        "freshmock.proxy.e": "def later():\n    from freshmock.generators.cli import main\n",
        "freshmock.proxy.f": "from . import store\nimport json",
    }
    imports = {module: _imports_of(source, module) for module, source in planted.items()}
    assert sorted(m[-1] for m in _proxy_importing_generators(imports)) == list("abcde")
    assert "freshmock.proxy.store" in imports["freshmock.proxy.f"]
    assert _mitmproxy_imports({"freshmock.proxy.worker": ["freshmock.proxy.rows"],
                               "freshmock.proxy.rows": ["mitmproxy.http"]},
                              "freshmock.proxy.worker") == {
        "freshmock.proxy.rows": ["mitmproxy.http"]}


def _mitmproxy_imports(imports: dict[str, list[str]], start: str) -> dict[str, list[str]]:
    """Modules of freshmock reachable by import from ``start`` that import mitmproxy."""
    seen, todo, offenders = set(), [start], {}
    while todo:
        module = todo.pop()
        if module in seen or module not in imports:
            continue
        seen.add(module)
        names = imports[module]
        if found := sorted({n for n in names if n.split(".")[0] == "mitmproxy"}):
            offenders[module] = found
        todo += [n for n in names if n in imports]
    return offenders


def test_the_worker_never_imports_mitmproxy_in_its_source():
    """docs/architecture.md: the worker process never imports mitmproxy (a writer
    sharing the proxy's libraries would bring its import cost and, forked, its
    event loop); checked over every freshmock module the worker reaches by import."""
    imports = _package_imports("proxy", "freshmock.proxy")
    assert "freshmock.proxy.rows" in imports
    assert _mitmproxy_imports(imports, "freshmock.proxy.worker") == {}


def test_the_worker_process_has_no_mitmproxy_module_loaded(tmp_path):
    """The same rule at run time, as the sidecar starts it (``-m freshmock.proxy.worker``
    imports the module and its dependencies before ``main`` reads its socket): whatever
    an import pulls in indirectly (a third-party package importing mitmproxy) shows."""
    probe = (
        "import sys, freshmock.proxy.worker; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mitmproxy')); "
        "print('freshmock.proxy.worker' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "True"]


# The stages of docs/architecture.md's diagram, in data-flow order: a module may import
# its own stage and earlier ones, never a later one. proxy/ (capture, store) is first and
# checked above; modules not listed orchestrate several stages (the CLI, refresh, serve,
# pull, export, merge, check, show, window, demo) and may import any.
STAGES = {
    "infer": {"infer", "history", "paths", "exemplar_choice", "json_bodies", "schema",
              "schema.builder", "schema.formats", "schema.publish", "schema.stats",
              "schema.thresholds", "media_types"},
    "diff": {"diff", "drift", "drift_rules", "drift_report", "drift_evidence", "stub_baseline"},
    "generate": {"targets", "wiremock", "openapi", "pytest_fixtures", "vcr", "schema_files",
                 "exemplars", "synthesis", "emit", "templating", "stub_headers", "variants"},
}
# diff and generate both read infer's output; neither imports the other
MAY_IMPORT = {"infer": {"infer"}, "diff": {"infer", "diff"}, "generate": {"infer", "generate"}}


def _stage_of(module: str) -> str | None:
    short = module.removeprefix("freshmock.generators.")
    return next((stage for stage, members in STAGES.items() if short in members), None)


def _later_stage_imports(imports: dict[str, list[str]]) -> dict[str, list[str]]:
    offenders = {}
    for module, names in imports.items():
        stage = _stage_of(module)
        if stage is None:
            continue
        bad = sorted({name for name in names if name in imports and _stage_of(name) != stage
                      and _stage_of(name) not in MAY_IMPORT[stage]})
        if bad:
            offenders[module] = bad
    return offenders


def test_each_stage_imports_only_itself_and_earlier_stages():
    imports = _package_imports("generators", "freshmock.generators")
    staged = {m.removeprefix("freshmock.generators.") for m in imports if _stage_of(m)}
    assert staged == set().union(*STAGES.values()), "a module listed in STAGES is gone"
    assert _later_stage_imports(imports) == {}


def test_the_stage_check_fails_on_a_planted_later_stage_import():
    planted = {
        "freshmock.generators.infer": ["freshmock.generators.diff"],  # infer -> diff
        "freshmock.generators.diff": ["freshmock.generators.infer"],  # fine
        "freshmock.generators.wiremock": ["freshmock.generators.drift"],  # generate -> diff
        "freshmock.generators.paths": ["freshmock.generators.cli"],  # infer -> the CLI
        "freshmock.generators.cli": ["freshmock.generators.wiremock"],  # fine
        "freshmock.generators.drift": [],
    }
    assert _later_stage_imports(planted) == {
        "freshmock.generators.infer": ["freshmock.generators.diff"],
        "freshmock.generators.wiremock": ["freshmock.generators.drift"],
        "freshmock.generators.paths": ["freshmock.generators.cli"],
    }


def test_no_module_imports_the_bare_folder_names():
    offenders = {
        str(path.relative_to(REPO)): name
        for folder in ("proxy", "generators", "tests")
        for path in (REPO / folder).rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in ("proxy", "generators")
    }
    assert offenders == {}


def test_templates_ship_as_package_data():
    templates = resources.files("freshmock.generators") / "templates"
    assert (templates / "wiremock_mapping.json.j2").is_file()
