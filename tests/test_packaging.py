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
        "freshmock.proxy.a": "import freshmock.generators.model.infer",
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


# docs/architecture.md's import rule, cli → workflows → drift, targets → model →
# freshmock.proxy: each package of generators/ is a layer and imports only its own
# layer and the layers below; drift and targets share a level, and neither imports
# the other (both read the model). The package's own __init__ and __main__ sit on top.
LAYERS = {"model": 0, "drift": 1, "targets": 1, "workflows": 2, "cli": 3}
SIBLINGS_APART = {frozenset({"drift", "targets"})}


def _layer_of(module: str) -> str | None:
    """``freshmock.generators.model.schema.stats`` is in ``model``; the package itself
    (and ``__main__``) in none."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[2] in LAYERS else None


def _layer_violations(imports: dict[str, list[str]]) -> dict[str, list[str]]:
    offenders = {}
    for module, names in imports.items():
        layer = _layer_of(module)
        if layer is None:
            continue
        bad = sorted({
            name for name in names
            if name.startswith("freshmock.generators") and name.count(".") >= 1
            and (target := _layer_of(name)) != layer
            # the entry point, or a module outside every layer
            and (target is None and name in imports
                 or target is not None and (LAYERS[target] > LAYERS[layer]
                                            or frozenset({layer, target}) in SIBLINGS_APART))
        })
        if bad:
            offenders[module] = bad
    return offenders


def test_every_generators_module_lives_in_a_layer():
    imports = _package_imports("generators", "freshmock.generators")
    outside = sorted(m for m in imports if _layer_of(m) is None)
    assert outside == ["freshmock.generators", "freshmock.generators.__main__"]
    assert {_layer_of(m) for m in imports} - {None} == set(LAYERS)


def test_each_layer_imports_only_itself_and_the_layers_below():
    imports = _package_imports("generators", "freshmock.generators")
    assert len(imports) >= 60  # every module of generators/ was read
    assert _layer_violations(imports) == {}


def test_the_layer_check_fails_on_a_planted_violation():
    """A planted import against each direction of the rule is caught; allowed ones are not."""
    g = "freshmock.generators."
    planted = {
        g + "model.infer": [g + "drift.windows"],           # model -> drift: up
        g + "model.paths": [g + "cli"],                     # model -> cli: up
        g + "targets.wiremock": [g + "drift.shapes"],       # targets -> drift: sibling
        g + "drift.rules": [g + "targets.emit"],            # drift -> targets: sibling
        g + "workflows.refresh": [g + "cli.common"],        # workflows -> cli: up
        g + "drift.windows": [g + "model.infer", "freshmock.proxy.store"],  # down: fine
        g + "cli.stubs": [g + "workflows.pull", g + "targets.wiremock", g + "model"],  # fine
        g + "targets.emit": [g + "targets.templating"],     # own layer: fine
        g + "cli": [], g + "drift.shapes": [], g + "targets.templating": [], g + "model": [],
        g + "model.infer2": [g + "__main__"], g + "__main__": [],  # nothing imports the entry
    }
    assert _layer_violations(planted) == {
        g + "model.infer": [g + "drift.windows"],
        g + "model.paths": [g + "cli"],
        g + "targets.wiremock": [g + "drift.shapes"],
        g + "drift.rules": [g + "targets.emit"],
        g + "workflows.refresh": [g + "cli.common"],
        g + "model.infer2": [g + "__main__"],
    }


def test_pyproject_lists_every_package_folder():
    """A subpackage missing from [tool.setuptools] packages is left out of a wheel
    (pip install . then fails on import), while the editable install still finds it."""
    import tomllib
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    stages = (("proxy", "freshmock.proxy"), ("generators", "freshmock.generators"))
    folders = {_module_name(path, REPO / folder, package)
               for folder, package in stages for path in (REPO / folder).rglob("__init__.py")}
    assert set(setuptools["packages"]) == folders


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
    templates = resources.files("freshmock.generators.targets") / "templates"
    assert (templates / "wiremock_mapping.json.j2").is_file()


def _test_modules_imported(sources: dict[str, str]) -> dict[str, list[str]]:
    """The ``test_*`` modules each of ``sources`` (name -> text) imports.

    A test module is what pytest collects, not a library: importing one runs
    its module-level fixtures and tests' setup twice and ties two test files
    together; what both need belongs in a kit (``tests/*_kit.py``).
    """
    found = {}
    for name, source in sources.items():
        tops = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                tops |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                tops.add(node.module.split(".")[0])
        imported = sorted(t for t in tops if t.startswith("test_") and t != name)
        if imported:
            found[name] = imported
    return found


def test_no_test_module_imports_another():
    sources = {path.stem: path.read_text() for path in sorted((REPO / "tests").rglob("*.py"))}
    assert len([n for n in sources if n.startswith("test_")]) >= 60  # the suite was read
    assert _test_modules_imported(sources) == {}


def test_the_test_import_check_fails_on_a_planted_import():
    planted = {
        "test_a": "from test_b import helper\n",
        "verify_kit": "import json\nimport test_c as c\n",
        "test_d": "def f():\n    from test_e.sub import x\n",  # inside a function too
        "test_f": "from store_kit import observation_row\nimport testing\nfrom . import test_g\n",
        "test_h": "from x import test_helper\n",  # a name called test_*, not a module
    }
    assert _test_modules_imported(planted) == {
        "test_a": ["test_b"], "verify_kit": ["test_c"], "test_d": ["test_e"]}
