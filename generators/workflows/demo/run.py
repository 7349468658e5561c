"""``freshmock demo``: the whole loop on the embedded demo dependency.

Start the demo service, record real traffic through mitmproxy in reverse
mode, infer schemas, write WireMock mappings.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from freshmock.generators.model.publish import publish
from freshmock.generators.targets.wiremock import WrittenStub, write_wiremock
from freshmock.generators.workflows.demo.service import DemoService, demo_requests
from freshmock.proxy.sidecar import SidecarConfig, SidecarThread
from freshmock.proxy.store import count_observations, open_store

DEMO_SERVICE_NAME = "demo-shop"


@dataclass
class DemoResult:
    requests_sent: int
    observations_in_store: int
    endpoints: list[dict]
    stubs: list[WrittenStub]
    counters: dict


def drive(port: int, traffic) -> list[int]:
    """Send the traffic through the proxy on one keep-alive connection."""
    statuses = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for method, path, payload, headers in traffic:
            body = None
            headers = dict(headers)
            if payload is not None:
                body = json.dumps(payload).encode()
                headers["Content-Type"] = "application/json"
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        connection.close()
    return statuses


def run_demo(db_path: Path, out_dir: Path, say: Callable[[str], None] = print) -> DemoResult:
    traffic = demo_requests()
    with DemoService() as service:
        say(f"demo dependency '{DEMO_SERVICE_NAME}' serving on {service.url}")
        config = SidecarConfig(
            db_path=str(db_path), upstream=service.url, listen_port=0, service=DEMO_SERVICE_NAME
        )
        with SidecarThread(config) as sidecar:
            say(f"recording proxy (mitmproxy, reverse mode) on http://127.0.0.1:{sidecar.port}")
            drive(sidecar.port, traffic)
            say(f"sent {len(traffic)} requests through the proxy; stopping and draining")
        counters = dict(sidecar.sidecar.recorder.counters)
    db = open_store(db_path)
    try:
        model = publish(db)
        endpoints = [endpoint.row() for endpoint in model.endpoints]
        stubs = write_wiremock(model, out_dir, service=DEMO_SERVICE_NAME)
        observations = count_observations(db)
    finally:
        db.close()
    return DemoResult(len(traffic), observations, endpoints, stubs, counters)
