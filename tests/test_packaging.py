"""The layout promises: two stages under one namespace, data flowing one way."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib import resources

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


def _imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_proxy_never_imports_generators():
    offenders = {
        str(path.relative_to(REPO)): name
        for path in (REPO / "proxy").rglob("*.py")
        for name in _imports(path)
        if name.startswith(("freshmock.generators", "generators"))
    }
    assert offenders == {}


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
