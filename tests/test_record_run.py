"""proxy/recording.py: what `freshmock record` hands the sidecar, and the lines it words.

The run itself (real mitmproxy, real traffic, SIGINT) is exercised through the
command in test_cli.py, test_processes.py and test_multi_listener.py; these
check the decisions taken before anything listens.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from freshmock.proxy.errors import ExitCode, FreshmockError
from freshmock.proxy.recording import (
    RecordRequest,
    listener_failure,
    record_until_signalled,
    sidecar_config,
)
from freshmock.proxy.store import DEFAULT_DB

TWO_DEPENDENCIES = """
[record]
db = "{db}"
listen_host = "127.0.0.2"

[[dependencies]]
name = "users"
upstream = "http://127.0.0.1:9001"
listen_port = 9101

[[dependencies]]
name = "payments"
upstream = "http://127.0.0.1:9002"
listen_port = 9102
"""


def _config(tmp_path: Path, db: Path) -> Path:
    path = tmp_path / "freshmock.toml"
    path.write_text(TWO_DEPENDENCIES.format(db=db), encoding="utf-8")
    return path


def test_the_config_fills_what_the_command_line_left_at_its_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "from-config.db"
    config = sidecar_config(RecordRequest(config=_config(tmp_path, db), keep_host_header=True))
    assert config.db_path == str(db) and config.listen_host == "127.0.0.2"
    assert [(x.name, x.listen_port) for x in config.listeners] == [("users", 9101),
                                                                  ("payments", 9102)]
    assert all(x.keep_host_header for x in config.listeners)  # the flag holds for each
    assert not DEFAULT_DB.parent.exists()  # the default store's folder was never needed


def test_the_command_line_wins_over_the_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "mine.db"
    config = sidecar_config(RecordRequest(db=mine, listen_host="127.0.0.3",
                                          config=_config(tmp_path, tmp_path / "other.db")))
    assert config.db_path == str(mine) and config.listen_host == "127.0.0.3"
    assert not config.listeners[0].keep_host_header


def test_an_upstream_given_twice_is_refused_before_any_store_is_made(tmp_path):
    db = tmp_path / "never.db"
    with pytest.raises(FreshmockError) as raised:
        sidecar_config(RecordRequest(upstream="http://127.0.0.1:9000",
                                     config=_config(tmp_path, db)))
    assert raised.value.exit_code == ExitCode.USAGE
    assert str(raised.value) == (f"--upstream and [[dependencies]] in {tmp_path / 'freshmock.toml'}"
                                 " both name upstreams; use one")
    assert not db.exists()


def test_an_upstream_that_refuses_connections_stops_the_run_before_it_listens(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on (bound, never accepting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        said: list[str] = []
        with pytest.raises(FreshmockError) as raised:
            record_until_signalled(RecordRequest(db=tmp_path / "s.db",
                                                 upstream=f"http://127.0.0.1:{port}",
                                                 listen_port=0), said.append)
    assert f"upstream http://127.0.0.1:{port} does not accept connections" in str(raised.value)
    assert said == []  # nothing claimed to be listening


@pytest.mark.parametrize(("message", "single", "line"), [
    ("[Errno 98] address already in use", "127.0.0.1:8080",
     "cannot listen on 127.0.0.1:8080: address already in use (choose another --listen-port)"),
    ("Failed to listen on 127.0.0.1:9101 with reverse:http://a: address already in use\nhint",
     None,
     "cannot listen on 127.0.0.1:9101: address already in use (choose another listen_port "
     "in the config)"),
    ("permission denied\nsecond line", None, "permission denied"),
    ("", None, "the recording proxy failed to start"),
])
def test_a_listener_failure_is_one_line_in_freshmock_words(message, single, line):
    assert listener_failure(message, single) == line
