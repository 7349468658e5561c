"""--templates DIR: a user's copy of a template wins; an undefined variable fails loudly."""

from __future__ import annotations

import json
import subprocess

from freshmock.generators.targets.templating import environment

from conftest import freshmock_command


def run(*args):
    return subprocess.run(freshmock_command(*args), capture_output=True, text=True, timeout=120)


def test_a_users_template_overrides_the_built_in_one_and_typos_fail(tmp_path):
    db = tmp_path / "s.db"
    assert run("demo", "--db", str(db), "--out", str(tmp_path / "wm")).returncode == 0
    built_in = environment().loader.get_source(environment(), "wiremock_mapping.json.j2")[0]

    mine = tmp_path / "templates"
    mine.mkdir()
    (mine / "wiremock_mapping.json.j2").write_text(
        built_in.replace('"priority": {{ priority }},', '"priority": {{ priority }},\n'
                         '  "name": {{ (method ~ " " ~ path_template) | json }},'))
    out = tmp_path / "out"
    result = run("generate", "--db", str(db), "--out", str(out), "--templates", str(mine))
    assert result.returncode == 0, result.stderr
    mapping = json.loads((out / "demo-shop" / "mappings" / "get-health-200.json").read_text())
    assert mapping["name"] == "GET /health"

    (mine / "wiremock_mapping.json.j2").write_text(built_in.replace("{{ priority }}",
                                                                    "{{ statuss }}"))
    broken = run("generate", "--db", str(db), "--out", str(tmp_path / "out2"),
                 "--templates", str(mine))
    assert broken.returncode == 2
    assert len(broken.stderr.splitlines()) == 1 and "statuss" in broken.stderr
