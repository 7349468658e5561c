"""One sidecar, several dependencies: freshmock.toml [[dependencies]], one listener each."""

from __future__ import annotations

import http.client
import socket
import subprocess

import pytest

from freshmock.generators.workflows.demo.service import DemoService
from freshmock.proxy.record_config import RecordConfigError, parse_record_config
from freshmock.proxy.sidecar import SidecarError, parse_upstream
from freshmock.proxy.store import open_store

from conftest import freshmock_command, recording_with_config


def _parse(text: str):
    import tomllib

    return parse_record_config(tomllib.loads(text), parse_upstream)


def test_a_config_names_the_store_limits_and_one_listener_per_dependency():
    config = _parse("""
        [record]
        db = "recordings/staging.db"
        body_budget = 0
        forward_port = 3128
        [[dependencies]]
        name = "users-api"
        upstream = "http://users.internal:8080"
        listen_port = 9001
        [[dependencies]]
        name = "payments"
        upstream = "https://payments.example.com"
        listen_port = 9002
        listen_host = "0.0.0.0"
    """)
    assert config.db == "recordings/staging.db"
    assert config.recorder_options == {"body_budget": 0}
    assert [(x.name, x.upstream, x.listen_port, x.listen_host) for x in config.listeners] == [
        ("", None, 3128, None),
        ("users-api", "http://users.internal:8080", 9001, None),
        ("payments", "https://payments.example.com", 9002, "0.0.0.0"),
    ]


@pytest.mark.parametrize(("text", "message"), [
    ("[record]\nbody_buget = 3", "unknown key 'body_buget'; did you mean 'body_budget'?"),
    ("[record]\nmax_body = -1", "[record] max_body must be a whole number"),
    ("[[dependencies]]\nname = 'a'\nlisten_port = 1", "#1 needs 'upstream'"),
    ("[[dependencies]]\nname = 'a'\nupstream = 'ftp://x'\nlisten_port = 1",
     "#1 (a) upstream: --upstream must look like"),
    ("[[dependencies]]\nname = 'a'\nupstream = 'http://x'\nlisten_port = 70000",
     "(a) listen_port must be a port number"),
    ("[[dependencies]]\nname = 'a'\nupstream = 'http://x'\nlisten_port = 1\n"
     "[[dependencies]]\nname = 'a'\nupstream = 'http://y'\nlisten_port = 2", "'a' is used twice"),
    ("[[dependencies]]\nname = 'a'\nupstream = 'https://x'\nlisten_port = 1\nhttp2 = 'yes'",
     "(a) http2 must be true or false"),
    ("[record]\nforward_port = 5\n[[dependencies]]\nname = 'a'\nupstream = 'http://x'\n"
     "listen_port = 5", "port 5 is given to more than one listener"),
])
def test_every_mistake_is_one_line_naming_the_key(text, message):
    with pytest.raises(RecordConfigError) as raised:
        _parse(text)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def _get(port: int, path: str, proxy_to: str | None = None, host: str = "127.0.0.1") -> int:
    connection = http.client.HTTPConnection(host, port, timeout=15)
    try:
        connection.request("GET", f"{proxy_to}{path}" if proxy_to else path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_one_process_records_each_dependency_under_its_own_name(tmp_path):
    db = tmp_path / "store.db"
    with DemoService() as users, DemoService() as orders:
        config = tmp_path / "freshmock.toml"
        config.write_text(f"""
[record]
db = "{db}"
forward_port = 0

[[dependencies]]
name = "users-api"
upstream = "{users.url}"
listen_port = 0
listen_host = "127.0.0.2"

[[dependencies]]
name = "orders-api"
upstream = "{orders.url}"
listen_port = 0
listen_host = "127.0.0.3"
""")
        with recording_with_config(config) as run:
            # every listener asks for port 0 and prints the one it got; mitmproxy
            # refuses two servers on one address, 127.0.0.1:0 included, so each
            # listener has its own loopback address
            users_port = run.port("users-api: reverse proxy")
            orders_port = run.port("orders-api: reverse proxy")
            forward_port = run.port("forward proxy")
            assert [_get(users_port, "/users/1", host="127.0.0.2") for _ in range(3)] == [200] * 3
            assert [_get(orders_port, "/users/2/orders", host="127.0.0.3")
                    for _ in range(2)] == [200] * 2
            assert _get(forward_port, "/health", proxy_to=orders.url) == 200
    assert run.process.returncode == 0, run.output()
    rows = open_store(db).execute(
        "select service, path, count(*) from observations group by service, path "
        "order by service, path").fetchall()
    forward_name = orders.url.removeprefix("http://")
    assert rows == [(forward_name, "/health", 1), ("orders-api", "/users/2/orders", 2),
                    ("users-api", "/users/1", 3)]


def test_upstream_and_dependencies_together_is_refused(tmp_path):
    config = tmp_path / "freshmock.toml"
    config.write_text("[[dependencies]]\nname = 'a'\nupstream = 'http://127.0.0.1:9'\n"
                      "listen_port = 9\n")
    result = subprocess.run(freshmock_command("record", "--config", str(config), "--upstream",
                                              "http://127.0.0.1:9", "--db",
                                              str(tmp_path / "x.db")),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "use one" in result.stderr and "Traceback" not in result.stderr


def test_a_missing_ca_bundle_is_a_startup_error(tmp_path):
    config = tmp_path / "freshmock.toml"
    config.write_text("[record]\nca_bundle = 'nowhere/ca.pem'\n")
    result = subprocess.run(freshmock_command("record", "--config", str(config), "--db",
                                              str(tmp_path / "x.db"), "--no-check-upstream"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "ca_bundle nowhere/ca.pem is not a file" in result.stderr


def test_sidecar_error_type_is_what_parse_upstream_raises():
    with pytest.raises(SidecarError):
        parse_upstream("gopher://x")


def test_a_taken_port_is_one_line_naming_the_config(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "freshmock.toml"
        config.write_text(f"[[dependencies]]\nname = 'a'\nupstream = 'http://127.0.0.1:9'\n"
                          f"listen_port = {port}\n")
        result = subprocess.run(freshmock_command("record", "--config", str(config), "--db",
                                                  str(tmp_path / "x.db"), "--no-check-upstream"),
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "address already in use" in result.stderr.lower()
    assert "choose another listen_port in the config" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
