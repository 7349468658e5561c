"""Replay fidelity: real clients, recorded through `freshmock record`, replayed by every target.

A boto3 workload against moto and a GraphQL workload against strawberry are
recorded through a real sidecar (`freshmock record --config`, one listener
per dependency), then `freshmock generate` writes each target, and the same
workloads run again against a real WireMock, vcrpy playing the cassette, and
the generated pytest fixtures (responses and respx). The default suite runs the
recording, WireMock on the AWS workload, VCR.py and respx on both; WireMock
on GraphQL and responses are marked slow (same code paths). Each test prints its
fidelity — calls whose client-visible outcome equals the recorded one ÷ calls
— and asserts at least 95%, with every other call refused as "no stub",
never answered wrongly.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from graphql_service import graphql_app
from replay_kit import (
    NoStub,
    Outcome,
    aws_workload,
    botocore_over,
    chain,
    fidelity,
    graphql_transport,
    graphql_workload,
    httpx_sender,
    requests_sender,
    run_calls,
    websocket_subscribe,
)
from rpc_servers import graphql_server, moto_server

from conftest import REPO, freshmock_command, recording_with_config, running_peer

WIREMOCK = REPO / ".peers" / "node_modules" / ".bin" / "wiremock"
MIN_FIDELITY = 0.95
SERVICES = ("aws", "graphql")


@dataclass
class Recording:
    db: Path
    folder: Path
    live: dict[str, list[Outcome]]


@pytest.fixture(scope="module", autouse=True)
def aws_environment():
    saved = dict(os.environ)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        os.environ.pop(name, None)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="module")
def recording(tmp_path_factory, aws_environment) -> Recording:
    """Both workloads through one `freshmock record --config` with two dependencies."""
    folder = tmp_path_factory.mktemp("replay")
    db = folder / "store.db"
    with moto_server() as aws_url, graphql_server(graphql_app()) as graphql_url:
        config = folder / "freshmock.toml"
        config.write_text(
            f'[record]\ndb = "{db}"\n'
            f'[[dependencies]]\nname = "aws"\nupstream = "{aws_url}"\n'
            f'listen_host = "127.0.0.2"\nlisten_port = 0\nkeep_host_header = true\n'
            f'[[dependencies]]\nname = "graphql"\nupstream = "{graphql_url}"\n'
            f'listen_host = "127.0.0.3"\nlisten_port = 0\n')
        # each listener binds port 0 on its own loopback address (mitmproxy refuses
        # two listeners on one host's port 0) and the test reads the port back
        with recording_with_config(config) as run:
            ports = {service: run.port(f"{service}: reverse proxy") for service in SERVICES}
            import httpx

            live = {"aws": run_calls(aws_workload(f"http://127.0.0.2:{ports['aws']}"))}
            with httpx.Client(timeout=30) as client:
                post, get = graphql_transport(client)
                live["graphql"] = run_calls(graphql_workload(
                    f"http://127.0.0.3:{ports['graphql']}", post, get, websocket_subscribe))
    for service, outcomes in live.items():
        raised = [o for o in outcomes if isinstance(o.value, tuple) and o.value[0] == "raised"]
        assert not raised, f"{service} failed live, through the sidecar: {raised}"
    return Recording(db, folder, live)


def generate(recording: Recording, target: str) -> Path:
    out = recording.folder / target
    result = subprocess.run(freshmock_command("generate", "--target", target, "--db",
                                              str(recording.db), "--out", str(out),
                                              "--window", "all"),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return out


def check(target: str, service: str, live: list[Outcome], replayed: list[Outcome]) -> None:
    result = fidelity(f"{target} {service}", live, replayed)
    print(result.report())
    assert not result.wrong, result.report()
    assert result.ratio >= MIN_FIDELITY, result.report()


# --- WireMock ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wiremock_mappings(recording) -> Path:
    return generate(recording, "wiremock")


def _wiremock_unmatched(port: int):
    import httpx

    def count() -> int:
        response = httpx.get(f"http://127.0.0.1:{port}/__admin/requests/unmatched", timeout=30)
        return len(response.json()["requests"])
    return count


def replay_on_wiremock(root: Path, service: str) -> list[Outcome]:
    assert WIREMOCK.exists(), f"{WIREMOCK} is missing: `make peers` installs WireMock from npm"
    with running_peer([str(WIREMOCK), "--port", "0", "--bind-address", "127.0.0.1",
                       "--root-dir", str(root / service)],
                      r"\bport:\s+(\d+)", "/__admin/mappings", "WireMock") as port:
        url = f"http://127.0.0.1:{port}"
        unmatched = _wiremock_unmatched(port)
        if service == "aws":
            return run_calls(aws_workload(url), unmatched=unmatched)
        import httpx

        with httpx.Client(timeout=30) as client:
            post, get = graphql_transport(client)
            return run_calls(graphql_workload(url, post, get, websocket_subscribe),
                             unmatched=unmatched)


@pytest.mark.parametrize("service", [
    "aws", pytest.param("graphql", marks=pytest.mark.slow)])
def test_wiremock_replays_the_workload(recording, wiremock_mappings, service):
    check("wiremock", service, recording.live[service],
          replay_on_wiremock(wiremock_mappings, service))


# --- VCR.py -----------------------------------------------------------------------------


def _vcr_refused(error: BaseException) -> str | None:
    from vcr.errors import CannotOverwriteExistingCassetteException

    for cause in chain(error):
        if isinstance(cause, CannotOverwriteExistingCassetteException):
            return "vcrpy: no interaction in the cassette matches"
    return None


def _no_websocket(target: str):
    def subscribe(url, query, variables):
        raise NoStub(f"{target} replays HTTP only: the WebSocket handshake is on record, "
                     "not replayable")
    return subscribe


@pytest.mark.parametrize("service", SERVICES)
def test_vcr_cassette_replays_the_workload(recording, service):
    from freshmock.generators.targets.vcr import replay_vcr

    cassette = generate(recording, "vcr") / f"{service}.yaml"
    base_url = f"http://{service}"
    with replay_vcr().use_cassette(str(cassette), allow_playback_repeats=True):
        if service == "aws":
            replayed = run_calls(aws_workload(base_url), no_stub=_vcr_refused)
        else:
            import httpx

            with httpx.Client(timeout=30) as client:
                post, get = graphql_transport(client)
                replayed = run_calls(graphql_workload(base_url, post, get,
                                                      _no_websocket("vcrpy")),
                                     no_stub=_vcr_refused)
    check("vcr", service, recording.live[service], replayed)


# --- pytest fixtures: responses and respx ---------------------------------------------


def _import_stubs(folder: Path, service: str):
    path = folder / f"{service}_stubs.py"
    spec = importlib.util.spec_from_file_location(f"replay_{service}_stubs", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _fixture_refused(error: BaseException) -> str | None:
    from respx.models import AllMockedAssertionError

    for cause in chain(error):
        if isinstance(cause, AllMockedAssertionError):
            return "respx: not mocked"
        if "Connection refused by Responses" in str(cause):
            return "responses: no registered mock matches"
    return None


@pytest.fixture(scope="module")
def pytest_stubs(recording) -> Path:
    return generate(recording, "pytest")


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("library", [pytest.param("responses", marks=pytest.mark.slow), "respx"])
def test_pytest_fixtures_replay_the_workload(recording, pytest_stubs, service, library):
    import httpx
    import requests
    import responses
    import respx

    stubs = _import_stubs(pytest_stubs, service)
    base_url = stubs.BASE_URL
    if library == "responses":
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock, \
                requests.Session() as session:
            stubs.register_responses(mock, base_url)
            replayed = _replay_fixture(service, base_url, requests_sender(session),
                                       graphql_transport(session), library)
    else:
        with respx.mock(assert_all_called=False) as router, httpx.Client(timeout=30) as client:
            stubs.register_respx(router, base_url)
            replayed = _replay_fixture(service, base_url, httpx_sender(client),
                                       graphql_transport(client), library)
    check(f"pytest-{library}", service, recording.live[service], replayed)


def _replay_fixture(service, base_url, send, transport, library) -> list[Outcome]:
    if service == "aws":
        return run_calls(aws_workload(base_url, botocore_over(send)),
                         no_stub=_fixture_refused)
    post, get = transport
    return run_calls(graphql_workload(base_url, post, get, _no_websocket(library)),
                     no_stub=_fixture_refused)


def test_the_recording_saw_every_kind_of_answer(recording):
    """The workloads exercise what the issue names: binary, ranges, errors, upgrades."""
    import sqlite3

    with sqlite3.connect(recording.db) as connection:
        statuses = {row[0] for row in connection.execute(
            "select distinct status from observations")}
        media = {row[0] for row in connection.execute(
            "select distinct response_media_type from observations")}
        binary = connection.execute(
            "select count(*) from observations where response_media_type = "
            "'application/octet-stream' and length(response_body) > 1000").fetchone()[0]
    assert {101, 200, 204, 206, 304, 400, 404} <= statuses
    assert {"application/x-amz-json-1.0", "application/json"} <= media
    assert binary >= 4
    assert json.dumps  # the module's imports stay used


def test_requests_never_recorded_never_get_a_recorded_error(recording, pytest_stubs):
    """An error variant answers only its own request: a route with no recorded success
    says "no stub"; one with a success answers with its default, never the error."""
    import httpx
    import respx

    stubs = _import_stubs(pytest_stubs, "aws")
    with respx.mock(assert_all_called=False) as router, httpx.Client(timeout=30) as client:
        stubs.register_respx(router, stubs.BASE_URL)
        from replay_kit import aws_clients

        clients = aws_clients(stubs.BASE_URL, botocore_over(httpx_sender(client)))
        novel = run_calls([
            ("get_item unrecorded", lambda: clients["dynamodb"].get_item(
                TableName="fm-table", Key={"pk": {"S": "user#9"}, "sk": {"N": "42"}})),
            ("describe_table other", lambda: clients["dynamodb"].describe_table(
                TableName="other-table")),
            # /fm-bucket/missing.txt recorded only a 404: a key beside it has no route
            ("get_object unrecorded key", lambda: clients["s3"].get_object(
                Bucket="fm-bucket", Key="missing-too.txt")),
            # four blobs made /fm-bucket/blobs/{blob} a route, with a recorded success
            ("get_object unrecorded blob", lambda: clients["s3"].get_object(
                Bucket="fm-bucket", Key="blobs/b9.bin")),
        ], no_stub=_fixture_refused)
    graphql = _import_stubs(pytest_stubs, "graphql")
    with respx.mock(assert_all_called=False) as router, httpx.Client(timeout=30) as client:
        graphql.register_respx(router, graphql.BASE_URL)
        post, _ = graphql_transport(client)
        novel += run_calls([("GetUser 42", lambda: post(
            graphql.BASE_URL + "/graphql",
            {"query": "query GetUser($id: ID!) { user(id: $id) { id name email } }",
             "operationName": "GetUser", "variables": {"id": "42"}}))],
            no_stub=_fixture_refused)
    by_name = {o.name: o for o in novel}
    # no success recorded for these: nothing answers them, least of all a recorded error
    assert by_name["describe_table other"].no_stub == "respx: not mocked", novel
    assert by_name["get_object unrecorded key"].no_stub == "respx: not mocked", novel
    # the route's default is its most common success, never the recorded error
    assert "Item" in by_name["get_item unrecorded"].value, novel
    blob = by_name["get_object unrecorded blob"].value
    assert blob["ResponseMetadata"]["HTTPStatusCode"] == 200 and "Body" in blob, novel
    status, _, body = by_name["GetUser 42"].value
    assert status == 200 and "errors" not in json.loads(body), novel


def test_the_openapi_document_lists_each_rpc_operation(recording):
    from openapi_spec_validator import validate

    out = generate(recording, "openapi")
    aws = json.loads((out / "aws.openapi.json").read_text())
    validate(aws)
    names = {o["operation"]: o["discriminator"]
             for o in aws["paths"]["/"]["post"]["x-freshmock-operations"]}
    assert names["DynamoDB_20120810.GetItem"] == "header:X-Amz-Target"
    assert names["GetCallerIdentity"] == "form:Action"
    graphql = json.loads((out / "graphql.openapi.json").read_text())
    examples = graphql["paths"]["/graphql"]["post"]["requestBody"]["content"][
        "application/json"]["examples"]
    assert {"GetUser", "AddUser", "ListUsers"} <= set(examples)
