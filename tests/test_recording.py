"""Real HTTP traffic through a real mitmproxy master with the recorder loaded."""

from __future__ import annotations

import http.client
import json
import sqlite3

from freshmock.generators.workflows.demo.run import drive
from freshmock.generators.workflows.demo.service import demo_requests
from freshmock.proxy.store import open_store


def test_every_request_through_the_proxy_lands_in_sqlite(recording_proxy, db_path):
    traffic = demo_requests()
    statuses = drive(recording_proxy.port, traffic)
    recording_proxy.stop()  # drain to the store now, then read

    rows = list(sqlite3.connect(db_path).execute(
        "select method, path, status, response_media_type, response_body from observations "
        "order by id"
    ))
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (method, path, status)
        for (method, path, _, _), status in zip(traffic, statuses, strict=True)
    ]
    assert all(r[3] == "application/json" for r in rows)
    user = json.loads(next(r[4] for r in rows if r[1] == "/users/3"))
    assert user["id"] == 3 and user["address"]["geo"]["lat"] > 0


def test_recorded_rows_carry_the_service_name_and_timings(recording_proxy, db_path):
    drive(recording_proxy.port, [("GET", "/users/1", None, {})])
    recording_proxy.stop()
    (row,) = open_store(db_path)["observations"].rows
    assert row["service"] == "demo-shop"
    assert row["observed_at"].endswith("Z") and row["duration_ms"] >= 0
    assert row["response_body_size"] == len(row["response_body"])


def test_credentials_are_redacted_before_they_reach_disk(recording_proxy, db_path):
    secrets = {
        "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJlLXZhbHVl",
        "Cookie": "session=cookie-secret-1234",
        "Proxy-Authorization": "Basic cHJveHktc2VjcmV0",
        "X-Api-Key": "api-key-secret-5678",
    }
    drive(recording_proxy.port, [("GET", "/users/2?access_token=query-secret-9999", None, secrets)])
    recording_proxy.stop()

    (row,) = open_store(db_path)["observations"].rows
    headers = {name: value for name, value in json.loads(row["request_headers"])}
    assert {name: headers[name] for name in secrets} == {
        "Authorization": "<redacted:bearer>",
        "Cookie": "session=<redacted>",  # cookie names stay: they are shape, not secret
        "Proxy-Authorization": "<redacted:basic>",
        "X-Api-Key": "<redacted>",
    }
    response_headers = dict(json.loads(row["response_headers"]))
    assert response_headers["Set-Cookie"] == "demo_session=<redacted>; HttpOnly"
    assert row["query"] == "access_token=<redacted>"

    on_disk = b"".join(
        path.read_bytes() for path in db_path.parent.iterdir() if path.name.startswith("store.db")
    )
    for value in [*secrets.values(), "query-secret-9999", "s3cr3t-session-value"]:
        assert value.encode() not in on_disk


def test_the_proxy_does_not_alter_what_the_client_receives(recording_proxy, demo_service):
    def fetch(port: int) -> tuple[int, str, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/users/4/orders", headers={"Accept-Encoding": "gzip"})
            response = connection.getresponse()
            return response.status, response.getheader("Content-Type"), response.read()
        finally:
            connection.close()

    direct_port = int(demo_service.url.rsplit(":", 1)[1])
    assert fetch(recording_proxy.port) == fetch(direct_port)


def test_failed_upstream_connections_are_recorded_as_errors(db_path):
    from freshmock.proxy.sidecar import SidecarConfig, SidecarThread

    from conftest import refused_port

    with refused_port() as port, SidecarThread(SidecarConfig(
            str(db_path), upstream=f"http://127.0.0.1:{port}", listen_port=0)) as sidecar:
        connection = http.client.HTTPConnection("127.0.0.1", sidecar.port, timeout=10)
        try:
            connection.request("GET", "/anything")
            status = connection.getresponse().status
        except http.client.RemoteDisconnected:
            status = None
        finally:
            connection.close()
    assert status == 502
    (row,) = open_store(db_path)["observations"].rows
    assert row["status"] is None and "connect call failed" in row["error"].lower()


def test_without_an_upstream_the_recorder_is_a_forward_proxy(demo_service, db_path):
    from freshmock.proxy.sidecar import SidecarConfig, SidecarThread

    with SidecarThread(SidecarConfig(str(db_path), upstream=None, listen_port=0)) as sidecar:
        connection = http.client.HTTPConnection("127.0.0.1", sidecar.port, timeout=10)
        try:
            # absolute-form request line, as an HTTP_PROXY-aware client sends it
            connection.request("GET", f"{demo_service.url}/users/6")
            response = connection.getresponse()
            assert response.status == 200 and json.loads(response.read())["id"] == 6
        finally:
            connection.close()
    (row,) = open_store(db_path)["observations"].rows
    host, port = demo_service.url.removeprefix("http://").split(":")
    assert (row["service"], row["path"], row["status"]) == (f"{host}:{port}", "/users/6", 200)
