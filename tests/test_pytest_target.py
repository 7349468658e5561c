"""Generated pytest fixtures for responses and respx, used by a real consumer test suite.

The demo shop is recorded through a real mitmproxy; the module generated from
that store is imported, checked with ruff, and loaded by tests/consumer, a
separate suite run in a subprocess with requests + responses and httpx + respx.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests
import responses

from freshmock.generators.model.infer import infer_endpoints
from freshmock.generators.model.publish import read_model
from freshmock.generators.model.tables import list_endpoints
from freshmock.generators.targets.pytest_fixtures import (
    python_literal,
    render_module,
    write_pytest_fixtures,
)
from freshmock.generators.targets.templating import environment
from freshmock.generators.workflows.demo.service import demo_requests
from freshmock.proxy.store import get_observation, insert_observations, open_store

from conftest import REPO
from golden_store import build_golden_store, golden_rows

CONSUMER_SUITE = Path(__file__).parent / "consumer"
ENDPOINT_NAMES = {
    "GET /health 200",
    "GET /orders/{order_id} 200",
    "GET /users 200",
    "GET /users/{user_id} 200",
    "GET /users/{user_id} 404",
    "GET /users/{user_id}/orders 200",
    "POST /users 201",
    "POST /users 422",
}


@pytest.fixture(scope="module")
def generated(recorded_store, tmp_path_factory):
    (written,) = write_pytest_fixtures(read_model(open_store(recorded_store)),
                                       tmp_path_factory.mktemp("stubs"))
    return written


def _import(written):
    spec = importlib.util.spec_from_file_location(written.module, written.path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _endpoint_name(entry) -> str:
    """``GET /users/{user_id} 200 #3`` (a route's third stub of it) → its endpoint's name."""
    return entry["name"].split(" #")[0]


@pytest.fixture(scope="module")
def stubs(generated):
    return _import(generated)


def test_one_importable_module_per_service_with_its_fixtures(generated, stubs):
    assert generated.path.name == "demo_shop_stubs.py" and generated.module == "demo_shop_stubs"
    assert generated.fixtures == ("demo_shop_base_url", "demo_shop_responses", "demo_shop_respx")
    for name in (*generated.fixtures, "register_responses", "register_respx", "find"):
        assert name in stubs.__all__ and callable(getattr(stubs, name))
    assert {_endpoint_name(entry) for entry in stubs.ENDPOINTS} == ENDPOINT_NAMES
    assert stubs.BASE_URL == "http://demo-shop"


def test_the_module_and_each_endpoint_say_when_and_how_often_it_was_observed(
    generated, stubs, recorded_store
):
    endpoints = list_endpoints(open_store(recorded_store))
    last_observed = max(e["last_seen"] for e in endpoints)
    samples = sum(e["observations"] for e in endpoints)
    assert samples == len(demo_requests())
    assert f"last observed at {last_observed}" in stubs.__doc__
    assert f"rest on\n{samples} recorded samples over 8 endpoints" in stubs.__doc__
    text = generated.path.read_text()
    by_name = {f"{e['method']} {e['path_template']} {e['status']}": e for e in endpoints}
    for entry in stubs.ENDPOINTS:
        endpoint = by_name[_endpoint_name(entry)]
        assert entry["last_observed"] == endpoint["last_seen"]
        assert entry["observations"] == endpoint["observations"]
        sample = "sample" if endpoint["observations"] == 1 else "samples"
        assert (f"    # {entry['name']}: last observed {endpoint['last_seen']}, "
                f"{endpoint['observations']} {sample}\n") in text


def test_responses_are_the_recorded_exemplars(stubs, recorded_store):
    db = open_store(recorded_store)
    by_name = {f"{e['method']} {e['path_template']} {e['status']}": e for e in list_endpoints(db)}
    for entry in stubs.ENDPOINTS:
        if entry["name"] != _endpoint_name(entry):
            continue  # another request's own answer, not the endpoint's exemplar
        exemplar = get_observation(db, by_name[entry["name"]]["exemplar_id"])
        assert entry["response"]["status"] == exemplar["status"]
        assert entry["response"]["json"] == json.loads(exemplar["response_body"])
        assert entry["response"]["content_type"] == "application/json; charset=utf-8"
        assert entry["request"]["path"] == exemplar["path"]
        assert "synthesized" not in entry


def test_exact_variants_answer_only_their_request_and_templates_every_path(stubs):
    def answer(method, path, body=None, base_url=stubs.BASE_URL):
        entry = stubs.find(method, base_url.rstrip("/") + path, body, base_url)
        return entry and _endpoint_name(entry)

    assert answer("GET", "/users/999") == "GET /users/{user_id} 404"
    assert answer("GET", "/users/998") == "GET /users/{user_id} 200"
    assert answer("GET", "/users/999?verbose=1") == "GET /users/{user_id} 404"
    assert answer("GET", "/users/7/orders") == "GET /users/{user_id}/orders 200"
    assert answer("POST", "/users", b'{"email": "nobody@example.test"}') == "POST /users 422"
    assert answer("POST", "/users", b'{"email":"nobody@example.test"}') == "POST /users 422"
    assert answer("POST", "/users", b'{"name": "Someone"}') == "POST /users 201"
    assert answer("POST", "/users", b"not json") == "POST /users 201"
    assert answer("GET", "/users/1/2/3") is None
    assert answer("DELETE", "/users/1") is None
    assert answer("GET", "/health", base_url="http://other.test/api") == "GET /health 200"
    assert stubs.find("GET", "http://other.test/health", None, "http://other.test/api") is None
    assert stubs.find("GET", "http://elsewhere/health") is None


def test_the_consumer_suite_passes_with_requests_and_httpx(generated, tmp_path):
    suite = tmp_path / "consumer"
    shutil.copytree(CONSUMER_SUITE, suite, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=suite, capture_output=True, text=True, timeout=150,
        env={**os.environ, "PYTHONPATH": str(generated.path.parent),
             "PYTHONDONTWRITEBYTECODE": "1"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    # 34 stubs (8 endpoints, one per request with its own answer) and 9 client calls,
    # each over both libraries; 3 base-URL checks
    assert "89 passed" in result.stdout, output[-4000:]


def _run_python(code: str, folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=folder,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def test_the_module_works_with_only_one_of_the_two_libraries(generated):
    # None in sys.modules makes `import name` fail, as if it were not installed
    only_requests = """
        import sys
        sys.modules.update(httpx=None, respx=None)
        import demo_shop_stubs, requests, responses
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            demo_shop_stubs.register_responses(rsps)
            print(requests.get("http://demo-shop/users/999").status_code)
    """
    only_httpx = """
        import sys
        sys.modules.update(requests=None, responses=None)
        import demo_shop_stubs, httpx, respx
        with respx.mock(assert_all_called=False) as router:
            demo_shop_stubs.register_respx(router)
            print(httpx.get("http://demo-shop/users/999").status_code)
    """
    for code in (only_requests, only_httpx):
        result = _run_python(code, generated.path.parent)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "404\n"


def test_ruff_passes_on_the_generated_module(generated):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache",
         "--config", str(REPO / "pyproject.toml"), str(generated.path)],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_regenerating_from_an_unchanged_store_is_byte_identical(recorded_store, generated,
                                                                 tmp_path):
    db = open_store(recorded_store)
    (again,) = write_pytest_fixtures(read_model(db), tmp_path)
    (over_itself,) = write_pytest_fixtures(read_model(db), tmp_path)
    data = generated.path.read_bytes()
    assert again.path.read_bytes() == over_itself.path.read_bytes() == data
    assert data.endswith(b"\n") and b"\r\n" not in data


def test_one_changed_field_changes_only_the_lines_of_that_field(tmp_path):
    def generate(name: str, user_name: str) -> list[str]:
        db = build_golden_store(tmp_path / f"{name}.db", user_name=user_name)
        (written,) = write_pytest_fixtures(read_model(db), tmp_path / name)
        return written.path.read_text().splitlines()

    diff = difflib.unified_diff(generate("before", "Ada Lovelace"),
                                generate("after", "Ada King"), lineterm="", n=0)
    changed = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed and len(changed) <= 8, changed
    assert all('"name": "Ada' in line for line in changed), changed


def test_a_text_body_and_a_query_parameter_are_kept(tmp_path):
    golden = read_model(build_golden_store(tmp_path / "g.db"))
    (written,) = write_pytest_fixtures(golden, tmp_path / "out")
    text = written.path.read_text()
    assert '"text": "ok\\n",' in text  # GET /health answers text/plain
    assert '"limit": "2",' in text


def test_a_status_nothing_tells_apart_is_kept_as_a_record_but_never_answers(tmp_path):
    rows = golden_rows()
    health = next(row for row in rows if row["path"] == "/health")
    rows += [dict(health, observed_at="2026-11-20T11:00:00.000000Z"),
             dict(health, observed_at="2026-11-20T11:00:01.000000Z", status=503,
                  response_body=b"down\n", response_body_size=5)]
    db = open_store(tmp_path / "s.db", must_exist=False)
    insert_observations(db, rows)
    infer_endpoints(db)
    (written,) = write_pytest_fixtures(read_model(db), tmp_path / "out")
    stubs = _import(written)
    answers = {e["name"]: e["answers"] for e in stubs.ENDPOINTS}
    assert answers["GET /health 200"] == "template" and answers["GET /health 503"] == "none"
    assert stubs.ENDPOINTS[-1]["name"] == "GET /health 503"  # records come last
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        stubs.register_responses(rsps)
        assert len(rsps.registered()) == len(stubs.ENDPOINTS) - 1
        assert requests.get("http://shop-users/health", timeout=5).text == "ok\n"


def test_a_synthesized_body_is_said_to_be_made_up(tmp_path):
    env = environment()
    env.filters["python"] = python_literal
    entry = {"name": "GET /things 200", "method": "GET", "path_template": "/things",
             "path_regex": "^/things$", "answers": "template",
             "request": {"path": "/things", "query": {}},
             "response": {"status": 200, "json": {"n": 1}}, "synthesized": ["response"],
             "first_observed": "2026-11-20T10:00:00Z", "last_observed": "2026-11-20T10:00:00Z",
             "observations": 3}
    text = render_module(env, "things", [entry])
    assert "# (no response body was kept whole: this one is made up from the schema)" in text
    compile(text, "things_stubs.py", "exec")
