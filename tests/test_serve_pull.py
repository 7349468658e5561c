"""`freshmock serve` and `freshmock pull` over real HTTP on 127.0.0.1.

The server runs as the CLI a user starts (its own process group, killed at
the end); every pull is the CLI too. A round trip must give, byte for byte,
the stubs `freshmock generate` writes on the server's store.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from freshmock.generators.targets import TARGETS
from freshmock.generators.workflows.export import EXEMPLAR_COLUMNS
from freshmock.generators.workflows.pull import fetch_export
from freshmock.proxy.store import count_observations, insert_observations, open_store

from conftest import refused_port
from golden_store import build_golden_store, golden_rows
from serve_kit import FRESHMOCK, Server, scrubbed_env

TOKEN = "test-token-0123456789abcdef"


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([FRESHMOCK, *map(str, args)], capture_output=True, text=True,
                          timeout=60, env=scrubbed_env(), cwd=cwd)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """The golden store, plus a second service and an endpoint seen only long ago.

    The extra rows are not inferred yet: the server must fold them in.
    """
    path = tmp_path_factory.mktemp("served") / "store.db"
    db = build_golden_store(path)
    billing = [dict(row, service="billing", host="billing.internal") for row in golden_rows()[:2]]
    legacy = dict(golden_rows()[1], path="/legacy/report",
                  observed_at="2026-09-01T10:00:00.000000Z")
    insert_observations(db, [*billing, legacy])
    db.conn.close()
    return path


@pytest.fixture(scope="module")
def token_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def server(store, token_file):
    running = Server(store, token_file)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def generated(store, tmp_path_factory):
    """``freshmock generate`` on the server's own store, once per target and service."""
    trees: dict[tuple, dict[str, bytes]] = {}

    def tree(target: str, service: str | None = None) -> dict[str, bytes]:
        if (target, service) not in trees:
            out = tmp_path_factory.mktemp("generated") / target
            args = ["generate", "--db", store, "--target", target, "--out", out]
            result = _cli(*args, *(["--service", service] if service else []))
            assert result.returncode == 0, result.stderr
            trees[(target, service)] = _tree(out)
        return trees[(target, service)]

    return tree


def _auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_only_healthz_answers_without_the_token(server):
    with httpx.Client(base_url=server.url, trust_env=False) as client:
        assert client.get("/healthz").text == "ok\n"
        missing = client.get("/v1/export")
        assert missing.status_code == 401
        assert missing.headers["WWW-Authenticate"].startswith("Bearer")
        wrong = client.get("/v1/services", headers=_auth("not-the-token"))
        assert wrong.status_code == 401 and "invalid_token" in wrong.headers["WWW-Authenticate"]
        assert client.get("/nothing-here").status_code == 401  # no token, no map of the API
        assert client.get("/nothing-here", headers=_auth()).status_code == 404
        assert client.post("/v1/export", headers=_auth()).status_code == 405
        services = client.get("/v1/services", headers=_auth()).json()
    assert [s["service"] for s in services["services"]] == ["billing", "shop-users"]
    assert services["window"] == {"days": 28, "since": "2026-10-24"}
    assert TOKEN not in "".join(server.log)


def test_the_export_holds_the_observations_stubs_replay_only(server, store):
    """Each endpoint's exemplar and each request with an answer of its own (variants)."""
    from freshmock.generators.model.publish import read_model
    from freshmock.generators.targets.variants import service_stubs

    response = httpx.get(f"{server.url}/v1/export", headers=_auth(), trust_env=False)
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    export = response.json()
    exemplar_ids = {e["exemplar_id"] for e in export["endpoints"]}
    observation_ids = [row["id"] for row in export["exemplars"]]
    assert len(observation_ids) == len(set(observation_ids))
    db = open_store(store)
    model = read_model(db)
    replayed = {stub.observation_id for _, endpoints in model.by_service()
                for stub in service_stubs(model, endpoints)}
    assert exemplar_ids <= set(observation_ids) == replayed | exemplar_ids
    assert len(observation_ids) < count_observations(db)
    db.conn.close()
    assert all(set(row) <= set(EXEMPLAR_COLUMNS) for row in export["exemplars"])
    assert all("host" not in row and "duration_ms" not in row for row in export["exemplars"])
    assert "/legacy/report" not in response.text  # observed outside the 28-day window
    assert {e["service"] for e in export["endpoints"]} == {"billing", "shop-users"}


@pytest.mark.parametrize("token", [None, "the-wrong-token-0123456789"])
def test_a_pull_without_the_right_token_is_refused_and_writes_nothing(server, tmp_path, token):
    args = ["pull", server.url, "--target", "wiremock", "--out", tmp_path / "out"]
    if token is not None:
        (tmp_path / "token").write_text(token)
        args += ["--token-file", tmp_path / "token"]
    result = _cli(*args)
    assert result.returncode == 2
    expected = "requires a token" if token is None else "token refused"
    assert result.stderr.startswith("freshmock: error: ") and expected in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_a_round_trip_writes_the_stubs_generate_writes(server, token_file, generated, tmp_path,
                                                       target):
    result = _cli("pull", server.url, "--target", target, "--out", tmp_path / "pulled",
                  "--token-file", token_file)
    assert result.returncode == 0, result.stderr
    assert "pulled" in result.stdout and "2 services" in result.stdout
    pulled = _tree(tmp_path / "pulled")
    assert pulled and pulled == generated(target)


def test_a_local_store_works_in_place_of_a_url(store, generated, tmp_path):
    result = _cli("pull", store, "--target", "wiremock", "--out", tmp_path / "pulled")
    assert result.returncode == 0, result.stderr
    assert _tree(tmp_path / "pulled") == generated("wiremock")


def test_service_limits_the_pull_to_one_dependency(server, token_file, generated, tmp_path):
    result = _cli("pull", server.url, "--service", "billing", "--target", "wiremock",
                  "--out", tmp_path / "pulled", "--token-file", token_file)
    assert result.returncode == 0, result.stderr
    pulled = _tree(tmp_path / "pulled")
    assert pulled and all(name.startswith("billing/") for name in pulled)
    assert pulled == generated("wiremock", "billing")
    unknown = _cli("pull", server.url, "--service", "nope", "--target", "wiremock",
                   "--out", tmp_path / "none", "--token-file", token_file)
    assert unknown.returncode == 2
    assert "no endpoints of service 'nope'" in unknown.stderr and "billing" in unknown.stderr
    assert not (tmp_path / "none").exists()


def test_fetch_reports_progress_up_to_the_whole_answer(server):
    seen: list[tuple[int, int | None]] = []
    document = fetch_export(server.url, TOKEN, on_progress=lambda done, total: seen.append(
        (done, total)))
    assert document["endpoints"]
    assert seen and seen[-1][0] == seen[-1][1]  # Content-Length known, all of it read


def test_a_pull_from_nowhere_is_one_line(tmp_path):
    with refused_port() as port:
        result = _cli("pull", f"http://127.0.0.1:{port}", "--target", "openapi",
                      "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "connection refused" in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(("content", "reason"), [("\n", "is empty"), ("short", "at least 16")])
def test_serve_refuses_an_unusable_token(store, tmp_path, content, reason):
    (tmp_path / "token").write_text(content)
    result = _cli("serve", "--db", store, "--port", "0", "--token-file", tmp_path / "token")
    assert result.returncode == 2 and reason in result.stderr


def test_serve_stops_cleanly_on_sigterm(store, token_file):
    running = Server(store, token_file)
    assert running.stop(signal.SIGTERM) == 0
    assert "stopped" in "".join(running.log)
