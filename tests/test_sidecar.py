"""Pins what the lean sidecar master relies on in mitmproxy's internals.

``proxy/sidecar.py`` builds a ``Master`` with a hand-picked addon list instead of
``mitmdump``'s thirty; that list, the hooks and options the recorder uses, and
the version range in pyproject.toml must move together. If mitmproxy changes
any of them, one of these fails before a user finds out.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import mitmproxy.hooks
import mitmproxy.proxy.layers.http  # noqa: F401 - registers the HTTP hooks
import mitmproxy.proxy.layers.websocket  # noqa: F401 - registers the WebSocket hooks
from mitmproxy.version import VERSION
from packaging.requirements import Requirement
from packaging.version import Version

from freshmock.generators.workflows.demo.run import drive
from freshmock.proxy.recorder import Recorder
from freshmock.proxy.store import open_store

from conftest import REPO

LEAN_ADDONS = [
    "Core", "Proxyserver", "NextLayer", "TlsConfig", "Block", "DisableH2C", "UpdateAltSvc",
    "Recorder", "_StartupWatch",
]


def _pinned_mitmproxy() -> Requirement:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    (spec,) = [d for d in project["dependencies"] if d.startswith("mitmproxy")]
    return Requirement(spec)


def test_the_installed_mitmproxy_is_in_the_pinned_range():
    requirement = _pinned_mitmproxy()
    assert Version(VERSION) in requirement.specifier
    assert str(requirement.specifier) == "<13,>=12.2", "widening the pin needs this file's review"


def test_every_hook_the_recorder_implements_is_one_mitmproxy_calls():
    implemented = {name for name in dir(Recorder) if not name.startswith("_")}
    hooks = implemented & set(mitmproxy.hooks.all_hooks)
    assert hooks == {
        "load", "configure", "running", "done", "responseheaders", "response", "error",
        "websocket_message",
    }


def test_the_exact_addon_list_starts_and_serves_reverse_mode_traffic(recording_proxy, db_path,
                                                                     demo_service):
    master = recording_proxy.sidecar.master
    assert [type(addon).__name__ for addon in master.addons.chain] == LEAN_ADDONS
    options = master.options
    # reverse mode to the demo service (the address comes from listen_host/listen_port)
    assert options.mode == [f"reverse:{demo_service.url}"]
    assert options.connection_strategy == "lazy" and options.websocket is True
    # Never set: a body over body_size_limit becomes a 502 for the client, and a
    # streamed large body is not stored (streams go through the recorder's tee).
    assert options.body_size_limit is None and options.stream_large_bodies is None

    statuses = drive(recording_proxy.port, [("GET", "/users/1", None, {}),
                                            ("POST", "/users", {"name": "Ada"}, {})])
    assert statuses == [200, 201]
    recording_proxy.stop()
    rows = list(open_store(db_path)["observations"].rows)
    assert [(r["method"], r["path"], r["status"]) for r in rows] == [
        ("GET", "/users/1", 200), ("POST", "/users", 201)
    ]


def _imported_after(statement: str, tmp_path) -> dict:
    probe = (f"{statement}\nimport json, sys\n"
             "addons = sys.modules['mitmproxy.addons']\n"
             "print(json.dumps({'flask': 'flask' in sys.modules, 'ldap3': 'ldap3' in sys.modules,"
             " 'default_addons': hasattr(addons, 'default_addons')}))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_sidecar_imports_only_the_addons_it_runs(tmp_path):
    """proxy/lean_addons.py: mitmproxy's addons/__init__ (onboarding's flask, proxyauth's
    ldap3, ~10 MB of RSS) is skipped by the sidecar, and used as is when already loaded."""
    assert _imported_after("import freshmock.proxy.sidecar", tmp_path) == {
        "flask": False, "ldap3": False, "default_addons": False}
    assert _imported_after("import mitmproxy.addons\nimport freshmock.proxy.sidecar",
                           tmp_path) == {"flask": True, "ldap3": True, "default_addons": True}
