"""[redaction] of freshmock.toml reaches the recorder: user rules apply before disk."""

from __future__ import annotations

import json
import subprocess

from freshmock.generators.workflows.demo.run import drive
from freshmock.proxy.sidecar import SidecarConfig, SidecarThread
from freshmock.proxy.store import open_store

from conftest import freshmock_command

CONFIG = """
[redaction]
fields = ["internal_ref"]
patterns = { ticket = "TCK-[0-9]{6}" }
keep = ["session_hint"]
"""


def test_user_fields_and_patterns_are_redacted_on_disk(demo_service, tmp_path):
    config = tmp_path / "freshmock.toml"
    config.write_text(CONFIG)
    db = tmp_path / "store.db"
    sidecar_config = SidecarConfig(str(db), upstream=demo_service.url, listen_port=0,
                                   recorder_options={"config": str(config)})
    payload = {"name": "Ada TCK-204817", "internal_ref": "ref-9f8e7d", "session_hint": "dark"}
    with SidecarThread(sidecar_config) as sidecar:
        drive(sidecar.port, [("POST", "/users", payload, {})])
    (row,) = open_store(db)["observations"].rows
    stored_request = json.loads(row["request_body"])
    assert stored_request == {
        "name": "Ada <redacted:ticket>",
        "internal_ref": "<redacted>",
        "session_hint": "dark",  # kept although "session" looks secret
    }
    assert json.loads(row["response_body"])["name"] == "Ada <redacted:ticket>"
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("store.db"))
    assert b"TCK-204817" not in on_disk and b"ref-9f8e7d" not in on_disk


def test_a_bad_rule_stops_record_with_one_line(demo_service, tmp_path):
    config = tmp_path / "freshmock.toml"
    config.write_text('[redaction]\npatterns = { broken = "([unclosed" }\n')
    result = subprocess.run(
        freshmock_command("record", "--upstream", demo_service.url, "--listen-port", "0",
                          "--db", str(tmp_path / "s.db"), "--config", str(config)),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "patterns.broken" in result.stderr and "([unclosed" not in result.stderr
    assert not (tmp_path / "s.db").exists()
