"""`freshmock merge`: stores from several sidecars combine into one."""

from __future__ import annotations

import subprocess

import pytest

from freshmock.generators.model.infer import infer_endpoints
from freshmock.generators.model.tables import list_endpoints
from freshmock.generators.workflows.demo.run import drive
from freshmock.generators.workflows.demo.service import DemoService, demo_requests
from freshmock.generators.workflows.merge import merge_stores, observation_identity
from freshmock.proxy.sidecar import SidecarConfig, SidecarThread
from freshmock.proxy.store import OBSERVATIONS, get_observation, insert_observations, open_store

from conftest import freshmock_command


@pytest.fixture(scope="module")
def two_sidecar_stores(tmp_path_factory):
    """Two sidecars in front of one dependency, each seeing part of the traffic."""
    folder = tmp_path_factory.mktemp("sidecars")
    traffic = demo_requests()
    paths = [folder / "a.db", folder / "b.db"]
    with DemoService() as service:
        for index, path in enumerate(paths):
            config = SidecarConfig(str(path), upstream=service.url, listen_port=0, service="shop")
            with SidecarThread(config) as sidecar:
                drive(sidecar.port, traffic[index::2])
    return paths


def inferred(path) -> list[dict]:
    db = open_store(path)
    infer_endpoints(db)
    rows = []
    for endpoint in list_endpoints(db):
        exemplar = get_observation(db, endpoint.pop("exemplar_id"))
        rows.append({**endpoint, "exemplar": observation_identity(exemplar)})
    return rows


def test_inference_on_a_merged_store_equals_one_store_with_all_traffic(
    two_sidecar_stores, tmp_path
):
    a, b = two_sidecar_stores
    merged = tmp_path / "merged.db"
    merge_stores(merged, [a])
    inferred(merged)  # an earlier inference on part of the traffic must not matter
    merge_stores(merged, [b])

    everything = tmp_path / "all.db"
    db = open_store(everything, must_exist=False)
    rows = [row for path in (a, b) for row in open_store(path)[OBSERVATIONS].rows]
    for row in rows:
        row.pop("id")
    insert_observations(db, sorted(rows, key=lambda r: r["observed_at"]))

    assert inferred(merged) == inferred(everything)
    assert len(inferred(merged)) == 8


def test_merge_is_idempotent(two_sidecar_stores, tmp_path):
    merged = tmp_path / "merged.db"
    first = merge_stores(merged, two_sidecar_stores)
    assert sum(r.added for r in first) == len(demo_requests())
    before = inferred(merged)
    again = merge_stores(merged, [*two_sidecar_stores, merged])
    assert [r.added for r in again] == [0, 0, 0]
    assert open_store(merged)[OBSERVATIONS].count == len(demo_requests())
    assert inferred(merged) == before


def test_merge_command(two_sidecar_stores, tmp_path):
    out = tmp_path / "out.db"
    result = subprocess.run(
        freshmock_command("merge", str(out), *map(str, two_sidecar_stores)),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"{len(demo_requests())} observations added" in result.stdout


def test_merge_refuses_a_missing_input_without_touching_the_output(tmp_path):
    out = tmp_path / "out.db"
    result = subprocess.run(
        freshmock_command("merge", str(out), str(tmp_path / "missing.db")),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "missing.db" in result.stderr and len(result.stderr.splitlines()) == 1
    assert not out.exists()
