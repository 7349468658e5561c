"""The CLI as a user meets it: bad input is one clear line and a non-zero exit."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from freshmock.generators.workflows.demo.service import demo_requests

from conftest import freshmock_command, refused_port


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        freshmock_command(*args), capture_output=True, text=True, timeout=timeout
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("freshmock: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("command", ["infer", "endpoints", "generate"])
def test_missing_store_is_one_line(command, tmp_path):
    missing = tmp_path / "nothing-here.db"
    assert_one_line_error(run(command, "--db", str(missing)), "no store at", str(missing))
    assert not missing.exists()  # reading commands never create a store


@pytest.mark.parametrize("command", ["infer", "endpoints", "generate"])
def test_a_file_that_is_not_sqlite_is_one_line_and_left_untouched(command, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("these are my notes, not a database\n")
    assert_one_line_error(run(command, "--db", str(notes)), "not an SQLite database")
    assert notes.read_text() == "these are my notes, not a database\n"


def test_the_store_path_can_come_from_the_environment(tmp_path):
    missing = tmp_path / "from-env.db"
    result = subprocess.run(
        freshmock_command("infer"), capture_output=True, text=True, timeout=60,
        env={**__import__("os").environ, "FRESHMOCK_DB": str(missing)},
    )
    assert_one_line_error(result, str(missing))


def test_record_refuses_an_upstream_that_refuses_connections(tmp_path):
    db = tmp_path / "store.db"
    with refused_port() as port:
        dead = f"http://127.0.0.1:{port}"
        result = run("record", "--upstream", dead, "--listen-port", "0", "--db", str(db))
    assert_one_line_error(result, dead, "does not accept connections")


def test_record_reports_a_port_in_use(tmp_path, demo_service):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(
            "record", "--upstream", demo_service.url, "--listen-port", str(port),
            "--db", str(tmp_path / "store.db"),
        )
    assert_one_line_error(result, f"127.0.0.1:{port}", "address already in use")


@pytest.mark.parametrize("upstream", ["ftp://example.test", "localhost:8080", "http://"])
def test_record_rejects_a_malformed_upstream(upstream, tmp_path):
    result = run("record", "--upstream", upstream, "--db", str(tmp_path / "s.db"))
    assert_one_line_error(result, "--upstream")


def test_record_into_a_folder_that_does_not_exist(tmp_path, demo_service):
    db = tmp_path / "no" / "such" / "folder" / "store.db"
    result = run("record", "--upstream", demo_service.url, "--listen-port", "0", "--db", str(db))
    assert_one_line_error(result, "does not exist")


def test_unknown_target_is_a_usage_error(tmp_path):
    result = run("generate", "--target", "nonsense", "--db", str(tmp_path / "s.db"))
    assert result.returncode == 2
    assert "wiremock" in result.stderr  # typer lists the valid choices


def test_endpoints_json_is_machine_readable(tmp_path):
    result = run("demo", "--db", str(tmp_path / "s.db"), "--out", str(tmp_path / "stubs"))
    assert result.returncode == 0, result.stderr
    listed = json.loads(run("endpoints", "--db", str(tmp_path / "s.db"), "--json").stdout)
    assert {(e["method"], e["path_template"], e["status"]) for e in listed} == {
        ("GET", "/health", 200), ("GET", "/orders/{order_id}", 200), ("GET", "/users", 200),
        ("GET", "/users/{user_id}", 200), ("GET", "/users/{user_id}", 404),
        ("GET", "/users/{user_id}/orders", 200), ("POST", "/users", 201),
        ("POST", "/users", 422),
    }
    assert all(e["observations"] >= 1 and e["last_seen"].endswith("Z") for e in listed)
    assert sum(e["observations"] for e in listed) == len(demo_requests())  # each one request


def test_help_explains_every_command():
    result = run("--help")
    assert result.returncode == 0
    for command in ("record", "infer", "endpoints", "generate", "demo"):
        assert command in result.stdout
