"""freshmock's generation benchmark: every stub target for a store of 1,000 endpoints.

    make bench-generation          # refreshes the generation section of docs/performance.md
    .venv/bin/python bench/generation.py --quick    # 200 endpoints, prints only

A store with 1,000 endpoints (4 services x 250 routes, three quarters with a
200 and a quarter also with a 404, about 1 KB JSON bodies, 3 observations
each) is inferred once; then each target is generated into an empty folder,
then again over its own output (the nightly case), timed in one process.
Finally ``freshmock generate`` runs once per target as a user would run it
(a fresh process each: import, infer check, write), and the sum is the
figure compared with the target of 10 s.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from doc_section import show_and_save

from freshmock.generators.model.infer import infer_endpoints
from freshmock.generators.model.publish import read_model
from freshmock.generators.model.tables import list_endpoints
from freshmock.generators.targets import TARGETS
from freshmock.proxy.store import insert_observations, open_store

REPO = Path(__file__).resolve().parent.parent
START, END = "<!-- generation benchmark: start -->", "<!-- generation benchmark: end -->"
TARGET_SECONDS = 10.0
SERVICES = 4


_SYLLABLES = ("ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu", "na", "pe", "qui",
              "ro", "su", "ta", "ve", "wi", "xo", "yu", "za")


def resource_name(route: int) -> str:
    """A distinct word per route ("bace", "badi", ...): real APIs name their collections;
    ``/r17``-style names are value-like, and the templater rightly folds 250 siblings
    with one response shape into one template (issue 13), leaving 8 endpoints."""
    word, n = "", route + len(_SYLLABLES)
    while n:
        n, digit = divmod(n, len(_SYLLABLES))
        word = _SYLLABLES[digit] + word
    return word


def _body(rng: random.Random, route: int, n: int) -> dict:
    return {
        "id": n,
        "kind": f"resource-{route}",
        # each resource has a shape of its own, as different collections of one API do
        f"{resource_name(route)}_ref": f"{resource_name(route)}-{n}",
        "name": f"Item {n} of route {route}",
        "created_at": f"2026-11-{rng.randint(1, 20):02d}T{rng.randint(0, 23):02d}:00:00Z",
        "active": rng.random() < 0.7,
        "price": round(rng.uniform(1, 500), 2),
        "tags": rng.sample(["a", "b", "sale", "new", "eu", "us"], rng.randint(0, 3)),
        "owner": {"id": rng.randint(1, 10_000), "email": f"owner{n}@example.test",
                  "address": {"city": rng.choice(["Oslo", "Lyon", "Porto"]),
                              "postcode": f"{rng.randint(1000, 9999)}"}},
        "lines": [{"sku": f"SKU-{rng.randint(1, 999)}", "quantity": rng.randint(1, 5)}
                  for _ in range(rng.randint(1, 4))],
        "note": rng.choice([None, "fragile", "gift"]),
    }


def _row(service: str, path: str, status: int, body: dict, second: int) -> dict:
    data = json.dumps(body).encode()
    return {
        "observed_at": f"2026-11-20T{second // 3600 % 24:02d}:{second // 60 % 60:02d}:"
                       f"{second % 60:02d}.000000Z",
        "service": service, "method": "GET", "scheme": "http", "host": service, "port": 80,
        "path": path, "query": "", "request_headers": "[]", "request_media_type": "",
        "request_body": None, "request_body_size": 0, "request_body_truncated": 0,
        "status": status, "response_headers": json.dumps([["content-type", "application/json"]]),
        "response_media_type": "application/json", "response_body": data,
        "response_body_size": len(data), "response_body_truncated": 0, "duration_ms": 1.0,
        "error": None,
    }


def build_store(path: Path, endpoints: int) -> tuple[int, int]:
    """A store with ``endpoints`` endpoints; returns (endpoints, observations)."""
    rng = random.Random(6)
    rows, second, made = [], 0, 0
    routes_per_service = endpoints * 4 // 5 // SERVICES  # 4 in 5 routes; 1 in 4 gets a 404
    for service_index in range(SERVICES):
        service = f"dependency-{service_index}"
        for route in range(routes_per_service):
            statuses = [200, 404] if route % 4 == 0 else [200]
            for status in statuses:
                if made == endpoints:
                    break
                made += 1
                for n in range(3):
                    second += 1
                    body = (_body(rng, route, n) if status == 200
                            else {"error": "not found", "id": 900 + n})
                    url_path = f"/{resource_name(route)}/{(900 if status == 404 else 1) + n}"
                    rows.append(_row(service, url_path, status, body, second))
    db = open_store(path, must_exist=False)
    insert_observations(db, rows)
    infer_endpoints(db)
    count = len(list_endpoints(db))
    db.close()
    return count, len(rows)


def _timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def measure(endpoints: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="freshmock-bench-generation-"))
    db_path = folder / "store.db"
    start = time.perf_counter()
    count, observations = build_store(db_path, endpoints)
    build_s = time.perf_counter() - start
    db = open_store(db_path)
    infer_s = _timed(infer_endpoints, db)
    rows = []
    for name, target in sorted(TARGETS.items()):
        write = target.writer()
        out = folder / "in-process" / name
        # reading the published model is part of a write, as it was of a writer over the db
        first = _timed(lambda out=out, write=write: write(read_model(db), out))
        files = sum(1 for p in out.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        again = _timed(lambda out=out, write=write: write(read_model(db), out))
        command = [str(REPO / ".venv" / "bin" / "freshmock"), "generate", "--target", name,
                   "--db", str(db_path), "--out", str(folder / "cli" / name)]
        cli_start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        cli_s = time.perf_counter() - cli_start
        rows.append({"target": name, "first_s": first, "again_s": again, "cli_s": cli_s,
                     "files": files, "megabytes": size / 1e6})
    return {"endpoints": count, "observations": observations, "build_s": build_s,
            "infer_s": infer_s, "targets": rows}


def render(result: dict, quick: bool) -> str:
    total_in_process = sum(r["first_s"] for r in result["targets"])
    total_cli = sum(r["cli_s"] for r in result["targets"])
    lines = [
        START,
        "## Generation",
        "",
        f"Refreshed {time.strftime('%Y-%m-%d')} with `make bench-generation`"
        + (" (--quick)" if quick else "")
        + f"; Python {sys.version.split()[0]}. A store of {result['endpoints']:,} endpoints "
        f"({result['observations']:,} observations, ~1 KB JSON bodies, {SERVICES} services). "
        f"`infer` with nothing new to fold in: {result['infer_s']:.2f} s.",
        "",
        "| target | files | MB | first write | rewrite over own output | `freshmock generate` "
        "(own process, incl. start-up) |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["targets"]:
        lines.append(f"| {r['target']} | {r['files']:,} | {r['megabytes']:.1f} | "
                     f"{r['first_s']:.2f} s | {r['again_s']:.2f} s | {r['cli_s']:.2f} s |")
    lines += [
        f"| **all targets** | | | {total_in_process:.2f} s | "
        f"{sum(r['again_s'] for r in result['targets']):.2f} s | {total_cli:.2f} s |",
        "",
        f"Target: every target for 1,000 endpoints under {TARGET_SECONDS:.0f} s, counted as "
        f"the sum of the `freshmock generate` runs: {total_cli:.2f} s, "
        + ("met." if total_cli < TARGET_SECONDS and result["endpoints"] >= 1000
           else "**missed**." if result["endpoints"] >= 1000 else "not measured at 1,000."),
        END,
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 endpoints; prints only")
    parser.add_argument("--out", type=Path, help="markdown file to refresh "
                        "(default: docs/performance.md, unless --quick)")
    args = parser.parse_args(argv)
    result = measure(200 if args.quick else 1000)
    text = render(result, args.quick)
    out = args.out or (None if args.quick else REPO / "docs" / "performance.md")
    show_and_save(text, out, START, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
