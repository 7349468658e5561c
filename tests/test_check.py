"""`freshmock check DIR --max-age`: the gate a consumer's CI runs before trusting mocks."""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from freshmock.generators.model.endpoint import Endpoint
from freshmock.generators.model.publish import read_model
from freshmock.generators.model.tables import list_endpoints
from freshmock.generators.targets import TARGETS
from freshmock.generators.targets.stamp import cassette_stamp, interaction_stamp, read_stamps
from freshmock.generators.targets.templating import environment
from freshmock.generators.targets.vcr import yaml_comment
from freshmock.generators.workflows.check import parse_timestamp, stub_ages, stub_freshness

from conftest import freshmock_command
from golden_store import build_golden_store


def run_check(folder, *args):
    return subprocess.run(freshmock_command("check", str(folder), *args),
                          capture_output=True, text=True, timeout=60)


def test_fresh_stubs_pass(tmp_path):
    out = tmp_path / "stubs"
    result = subprocess.run(freshmock_command("demo", "--db", str(tmp_path / "s.db"),
                                              "--out", str(out)),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    checked = run_check(out, "--max-age", "1h")
    assert checked.returncode == 0, checked.stdout
    assert "34 of 34 stubs observed within 1h" in checked.stdout  # one per distinct demo request


def test_each_stale_stub_is_named_with_its_age(tmp_path):
    out = tmp_path / "stubs"
    subprocess.run(freshmock_command("demo", "--db", str(tmp_path / "s.db"), "--out", str(out)),
                   capture_output=True, text=True, timeout=120, check=True)
    mapping = out / "demo-shop" / "mappings" / "get-health-200.json"
    document = json.loads(mapping.read_text())
    old = (datetime.now(UTC) - timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    document["metadata"]["freshmock"]["last_observed"] = old
    mapping.write_text(json.dumps(document))

    checked = run_check(out, "--max-age", "7d")
    assert checked.returncode == 1
    stale = [line for line in checked.stdout.splitlines() if line.startswith("stale:")]
    assert len(stale) == 1
    assert "get-health-200.json" in stale[0] and "GET /health" in stale[0]
    assert "9.0 days ago" in stale[0]
    assert run_check(out, "--max-age", "2w").returncode == 0


def test_usage_errors_exit_2(tmp_path):
    assert run_check(tmp_path, "--max-age", "7d").returncode == 2  # no stubs there
    assert run_check(tmp_path / "missing").returncode == 2
    (tmp_path / "x.json").write_text("{}")
    assert run_check(tmp_path, "--max-age", "soon").returncode == 2


def _route(endpoint: str) -> str:
    """"svc GET /users/{user_id} 404" -> "svc GET /users/{user_id}" (OpenAPI has no status)."""
    head, _, last = endpoint.rpartition(" ")
    return head if last.isdigit() else endpoint


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_target_states_its_freshness_and_check_reads_it(target, tmp_path):
    db = build_golden_store(tmp_path / "store.db")
    out = tmp_path / target
    TARGETS[target].writer()(read_model(db), out)
    # The golden store was last observed on 2026-11-20: days ago, but not years.
    stale = run_check(out, "--max-age", "1d")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert any("GET /orders/{order_id}" in line for line in stale.stdout.splitlines())
    fresh = run_check(out, "--max-age", "3650d")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr

    observed: dict[str, set] = defaultdict(set)
    for e in list_endpoints(db):
        if target == "jsonschema" and not e["response_schema"]:
            continue  # a text/plain health check has no schema file
        observed[f"{e['service']} {e['method']} {e['path_template']}"].add(
            parse_timestamp(e["last_seen"]))
    ages = stub_ages(out, datetime(2026, 11, 21, tzinfo=UTC))
    assert {_route(a.endpoint) for a in ages} == set(observed)
    for age in ages:
        stamps = observed[_route(age.endpoint)]
        # an OpenAPI operation states the latest of its statuses
        assert age.last_observed in stamps if target != "openapi" else (
            age.last_observed == max(stamps))


def _reworded(template: str, replacements: list[tuple[str, str]]) -> str:
    source = environment().loader.get_source(environment(), template)[0]
    for old, new in replacements:
        assert old in source, f"the built-in {template} no longer has {old!r}"
        source = source.replace(old, new)
    return source


# Overrides that move and reword everything around the stamps (the header
# comments, the prose docstring, the per-entry comments), keeping the stamps.
_OVERRIDES = {
    "vcr": ("vcr_cassette.yaml.j2", [
        ("{{ stamp }}\n", ""),
        ("# freshmock: last observed", "# our mocks, copied from {{ service }} on"),
        ("interactions:\n", "{{ stamp }}\n# (see docs/mocks.md)\ninteractions:\n"),
        ("{{ interaction.stamp }}\n{% for note in interaction.notes %}\n"
         "# freshmock: {{ note | yaml_comment }}\n{% endfor %}\n",
         "{% for note in interaction.notes %}\n# note: {{ note | yaml_comment }}\n{% endfor %}\n"
         "# --\n{{ interaction.stamp }}\n"),
    ]),
    "pytest": ("pytest_fixtures.py.j2", [
        ("as freshmock last observed it; regenerate, do not edit.",
         "maintained by the platform team."),
        ("was last observed at", "was seen at"),
        ("    # {{ entry.name }}: last observed {{ entry.last_observed }}, ", "    # "),
    ]),
}


@pytest.mark.parametrize("target", sorted(_OVERRIDES))
def test_an_override_that_rearranges_the_stamps_neighbourhood_still_checks(target, tmp_path):
    db = build_golden_store(tmp_path / "store.db")
    TARGETS[target].writer()(read_model(db), tmp_path / "built-in")
    template, replacements = _OVERRIDES[target]
    mine = tmp_path / "templates"
    mine.mkdir()
    (mine / template).write_text(_reworded(template, replacements))
    TARGETS[target].writer()(read_model(db), tmp_path / "mine", templates_dir=mine)
    (written,) = [p for p in (tmp_path / "mine").rglob("*") if p.is_file()]
    assert "last observed" not in written.read_text().splitlines()[1]  # reworded

    now = datetime(2026, 11, 21, tzinfo=UTC)
    built_in, overridden = (stub_freshness(tmp_path / name, now) for name in ("built-in", "mine"))
    assert overridden.unstamped == [] and len(overridden.ages) >= 9
    assert [(a.endpoint, a.last_observed) for a in overridden.ages] == [
        (a.endpoint, a.last_observed) for a in built_in.ages]
    assert run_check(tmp_path / "mine", "--max-age", "3650d").returncode == 0
    assert run_check(tmp_path / "mine", "--max-age", "1d").returncode == 1


def test_a_stub_without_its_stamp_is_reported_not_fresh(tmp_path):
    db = build_golden_store(tmp_path / "store.db")
    out = tmp_path / "vcr"
    mine = tmp_path / "templates"
    mine.mkdir()
    # a careless override: drops the interactions' freshness lines
    (mine / "vcr_cassette.yaml.j2").write_text(_reworded(
        "vcr_cassette.yaml.j2", [("{{ interaction.stamp }}\n", "")]))
    TARGETS["vcr"].writer()(read_model(db), out, templates_dir=mine)
    mapping_dir = tmp_path / "wiremock"
    TARGETS["wiremock"].writer()(read_model(db), mapping_dir)
    mapping = next(mapping_dir.rglob("*.json"))
    document = json.loads(mapping.read_text())
    del document["metadata"]["freshmock"]["last_observed"]
    mapping.write_text(json.dumps(document))

    for folder, why in ((out, "interactions have no freshness line"),
                        (mapping_dir, "no last_observed")):
        freshness = stub_freshness(folder, datetime(2026, 11, 21, tzinfo=UTC))
        assert [u.why for u in freshness.unstamped if why in u.why], freshness.unstamped
        checked = run_check(folder, "--max-age", "3650d")  # every age read is fresh
        assert checked.returncode == 1, checked.stdout
        assert any(line.startswith("unstamped:") and why in line
                   for line in checked.stdout.splitlines()), checked.stdout


@pytest.mark.parametrize(("media_type", "observations"), [
    (None, 1), ("application/json; charset=utf-8", 2), ("text/plain", 31)])
def test_a_cassette_stamp_line_reads_back_as_written(media_type, observations, tmp_path):
    line = yaml_comment(interaction_stamp(Endpoint(
        service="svc", method="GET", path_template="/files/{file_id}", operation="",
        status=206, media_type=media_type, observations=observations,
        first_seen="2026-11-01T00:00:00.000000Z", last_seen="2026-11-20T10:00:09.000000Z")))
    cassette = tmp_path / "svc.yaml"
    cassette.write_text(f"{yaml_comment(cassette_stamp('svc'))}\ninteractions:\n{line}\n"
                        "- request: {}\n  response: {}\nversion: 1\n")
    stamps = read_stamps(cassette)
    assert stamps.missing == []
    assert stamps.stamps == [("svc GET /files/{file_id} 206", "2026-11-20T10:00:09.000000Z")]
