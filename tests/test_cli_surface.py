"""What a person sees: plain-text help, --version, -h, progress on a terminal, WireMock."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import typer.main
from cli_cases import run

from freshmock.generators.cli import app

from conftest import REPO, ProcessOutput, freshmock_command
from golden_store import build_golden_store


def _help(*argv: str) -> str:
    result = run([*argv, "-h"], Path.cwd())
    assert result["code"] == 0 and result["exception"] is None, result
    return result["stdout"]


def test_help_is_plain_text_with_its_own_words():
    assert "[redaction]" in _help("infer") and "[paths]" in _help("infer")
    assert "[[dependencies]]" in _help("record") and "[record]" in _help("record")
    commands = typer.main.get_command(app).commands
    for name in commands:
        text = _help(name)
        # typer's type names: <bool>, <int>, <path>, <list[Path]>
        assert not re.search(r"<(bool|int|str|float|path|list\[[^\]]*\])>", text), (name, text)
        assert not re.search(r"\{[A-Za-z_]+\}", text.split("\n\n")[0]), (name, text)  # {FILE}
        assert "\x1b[" not in text
    assert "OUT STORE..." in _help("merge")
    assert "--quiet" in _help("generate") and "-q" in _help("generate")


def test_version_and_short_help():
    result = run(["--version"], Path.cwd())
    assert result["code"] == 0 and re.match(r"^freshmock \S+\n$", result["stdout"]), result
    assert "Usage: " in _help()
    assert "exit codes" in _help().lower()


def _run_on_a_terminal(argv: list[str], cwd: Path) -> tuple[int, bytes]:
    """Run with stderr on a pseudo-terminal (stdout a pipe); returns (exit code, stderr bytes)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(freshmock_command(*argv), cwd=cwd, stdout=subprocess.PIPE,
                               stderr=terminal, stdin=subprocess.DEVNULL)
    os.close(terminal)
    seen = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            seen += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=120)
    process.stdout.close()
    os.close(controller)
    return process.returncode, seen


def test_progress_shows_on_a_terminal_only(tmp_path):
    store = tmp_path / "s.db"
    build_golden_store(store).close()
    code, shown = _run_on_a_terminal(["generate", "--db", str(store), "--out",
                                      str(tmp_path / "a")], tmp_path)
    assert code == 0 and b"generating" in shown, shown[:500]
    code, quiet = _run_on_a_terminal(["generate", "-q", "--db", str(store), "--out",
                                      str(tmp_path / "b")], tmp_path)
    assert code == 0 and quiet == b"", quiet[:500]
    piped = subprocess.run(freshmock_command("generate", "--db", str(store), "--out",
                                             str(tmp_path / "c")),
                           capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr == "", piped.stderr


WIREMOCK = REPO / ".peers" / "node_modules" / ".bin" / "wiremock"


@pytest.mark.slow  # a JVM start: ~30 s here
def test_the_generated_stubs_run_under_freshmock_wiremock(tmp_path):
    if not WIREMOCK.exists():
        pytest.skip("WireMock is not installed: run `make peers`")
    store = tmp_path / "s.db"
    build_golden_store(store).close()
    assert run(["generate", "--db", str(store), "--out", str(tmp_path / "stubs")],
               tmp_path)["code"] == 0
    process = subprocess.Popen(freshmock_command("wiremock", str(tmp_path / "stubs"),
                                                 "--port", "0"),
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    output = ProcessOutput(process)
    try:
        port = output.wait_for_port(r"\bport:\s+(\d+)", "WireMock under freshmock wiremock")
        deadline = time.monotonic() + 90
        mappings = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                mappings = httpx.get(f"http://127.0.0.1:{port}/__admin/mappings",
                                     trust_env=False).json()
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert mappings is not None, output.text()
        written = list((tmp_path / "stubs").rglob("mappings/*.json"))
        assert mappings["meta"]["total"] == len(written) > 0
        answer = httpx.get(f"http://127.0.0.1:{port}/users/2", trust_env=False)
        assert answer.status_code == 200 and answer.json()["name"]  # a recorded exemplar
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    err = output.finish().decode(errors="replace")
    assert process.returncode == 130 and err.strip().endswith("freshmock: interrupted"), err


def test_java_or_wiremock_missing_is_one_line(tmp_path):
    (tmp_path / "svc" / "mappings").mkdir(parents=True)
    launcher = tmp_path / "wiremock"
    launcher.write_text("#!/bin/sh\nexit 0\n")
    launcher.chmod(0o755)
    for env, expected in [({"PATH": "/nonexistent"}, "WireMock is not installed"),
                          ({"PATH": "/nonexistent", "FRESHMOCK_WIREMOCK": str(launcher)},
                           "Java is missing")]:
        result = subprocess.run(freshmock_command("wiremock", str(tmp_path / "svc")),
                                cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 2, result
        assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr


def test_record_says_which_service_name_it_records_under(demo_service, tmp_path):
    log = tmp_path / "record.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(freshmock_command("record", "--upstream", demo_service.url,
                                                     "--listen-port", "0", "--db",
                                                     str(tmp_path / "s.db")),
                                   stdout=sink, stderr=sink, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
    host_port = demo_service.url.removeprefix("http://")
    assert f"as service '{host_port}'" in log.read_text(), log.read_text()
    assert process.returncode == 0, log.read_text()
