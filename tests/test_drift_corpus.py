"""Drift accuracy on real traffic of a public API at two releases.

The corpus (tests/corpus/blockfrost-drift.json.gz, rebuilt by
tests/corpus/build_drift_corpus.py) is what a real ``freshmock record`` proxy
recorded from real Prism serving two releases of Blockfrost's published
OpenAPI description: 30 calls per GET operation per release. Replayed into a
store (release 1 on one day, release 2 four weeks later), ``freshmock diff``
must find every change the bodies themselves show, in the right class, and
nothing else.

The ground truth is computed here from the recorded bodies alone (which fields
are present, absent, of which types, per endpoint and status, in each
release), not with freshmock's drift code. It uses freshmock's path
templates only to know which concrete paths one endpoint covers.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from freshmock.proxy.store import insert_observations, open_store

from conftest import freshmock_command
from store_kit import observation_row

CORPUS = Path(__file__).parent / "corpus" / "blockfrost-drift.json.gz"
DAYS = ("2026-10-05", "2026-11-02")
CLASSES = ("breaking", "risky", "additive")
NEARLY_ALWAYS = 0.95  # the line between "nearly always present" and optional
_ID_KEY = re.compile(r"-?\d+|(?=[0-9a-fA-F-]*\d)[0-9a-fA-F-]{8,}")


def _rows(corpus: dict) -> list[dict]:
    rows = []
    for day, release in zip(DAYS, sorted(corpus["releases"], key=_version), strict=True):
        second = 0
        for exchange in corpus["releases"][release]:
            body = exchange["body"].encode()
            for _ in range(exchange["calls"]):
                rows.append(observation_row(
                    observed_at=f"{day}T{second // 3600:02d}:{second // 60 % 60:02d}:"
                                f"{second % 60:02d}.000000Z",
                    service="blockfrost", method=exchange["method"], host="127.0.0.1",
                    port=4010, path=exchange["path"], status=exchange["status"], body=body,
                    media_type=exchange["media_type"], duration_ms=2.0,
                    response_body_sha256=hashlib.sha256(body).hexdigest()))
                second += 1
    return rows


def _version(release: str) -> tuple:
    return tuple(int(part) for part in release.split("."))


# ---- ground truth, from the bodies -------------------------------------------------------

def _type(value) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "object"}[type(value)]


def _escape(key: str) -> str:
    token = key.replace("~", "~0").replace("/", "~1")
    return "~2" if token == "*" else token


class Shape:
    """Types per pointer, objects per pointer and how many of them carry each key."""

    def __init__(self) -> None:
        self.types: dict[str, Counter] = defaultdict(Counter)
        self.objects: Counter = Counter()
        self.keys: dict[str, Counter] = defaultdict(Counter)
        self.items: set[str] = set()  # pointers that are an array's items

    def visit(self, value, pointer: str, weight: int) -> None:
        kind = _type(value)
        self.types[pointer][kind] += weight
        if kind == "object":
            if value and all(_ID_KEY.fullmatch(k) for k in value):  # a map keyed by ids
                for child in value.values():
                    self.visit(child, f"{pointer}/*", weight)
                return
            self.objects[pointer] += weight
            for key, child in value.items():
                self.keys[pointer][key] += weight
                self.visit(child, f"{pointer}/{_escape(key)}", weight)
        elif kind == "array":
            self.items.add(f"{pointer}/*")
            for item in value:
                self.visit(item, f"{pointer}/*", weight)


def _body_truth(a: Shape, b: Shape) -> set[tuple[str, str]]:
    """(pointer, class) of every shape change between two releases of one endpoint."""
    truth = set()
    for pointer in a.objects.keys() & b.objects.keys():
        for key in a.keys[pointer].keys() | b.keys[pointer].keys():
            child = f"{pointer}/{_escape(key)}"
            before = a.keys[pointer][key] / a.objects[pointer]
            after = b.keys[pointer][key] / b.objects[pointer]
            if before and not after:
                truth.add((child, "breaking" if before >= NEARLY_ALWAYS else "risky"))
            elif after and not before:
                truth.add((child, "additive"))
            elif before == 1 and after < 1:
                truth.add((child, "breaking"))
    for pointer in a.types.keys() & b.types.keys():
        old, new = set(a.types[pointer]), set(b.types[pointer])
        added, removed = new - old, old - new
        if not added and not removed:
            continue
        int_to_number = removed == {"integer"} and "number" in added
        if pointer in a.items and pointer in b.items:  # array items: a widening is a risk
            truth.add((pointer, "breaking" if added and removed and not int_to_number
                       else "risky"))
        else:  # a new type (or null) breaks a consumer; one that stops coming does not
            truth.add((pointer, "breaking" if added else "risky"))
    return truth


def _template_of(path: str, templates: list[str]) -> str:
    def matches(template: str) -> bool:
        t, p = template.split("/"), path.split("/")
        if len(t) != len(p):
            return False
        return all(x == y or x.startswith("{") for x, y in zip(t, p, strict=True))

    candidates = [t for t in templates if matches(t)]
    return min(candidates, key=lambda t: t.count("{"))


def ground_truth(corpus: dict, templates: list[str]) -> set[tuple]:
    """Every change the bodies show: (endpoint, status or None, pointer or None, class)."""
    releases = sorted(corpus["releases"], key=_version)
    calls: list[dict] = [defaultdict(Counter), defaultdict(Counter)]  # endpoint -> status
    media: list[dict] = [defaultdict(set), defaultdict(set)]  # (endpoint, status) -> types
    shapes: list[dict] = [defaultdict(Shape), defaultdict(Shape)]
    for side, release in enumerate(releases):
        for e in corpus["releases"][release]:
            endpoint = f"{e['method']} {_template_of(e['path'], templates)}"
            calls[side][endpoint][e["status"]] += e["calls"]
            if e["body"]:
                media[side][(endpoint, e["status"])].add(e["media_type"])
            if e["media_type"].endswith("json") and e["body"]:
                shapes[side][(endpoint, e["status"])].visit(json.loads(e["body"]), "",
                                                            e["calls"])
    truth = set()
    old, new = calls
    for endpoint in old.keys() - new.keys():
        truth.add((endpoint, None, None, "breaking"))
    for endpoint in new.keys() - old.keys():
        truth.add((endpoint, None, None, "additive"))
    for endpoint in old.keys() & new.keys():
        before, after = old[endpoint], new[endpoint]
        success_gone = [s for s in before.keys() - after.keys() if 200 <= s < 300]
        for status in success_gone:
            truth.add((endpoint, status, None, "breaking"))
        succeeded = any(200 <= s < 300 for s in before)
        for status in after.keys() - before.keys():
            if status >= 400 and success_gone:
                continue  # told once, on the success status gone
            client_error = 400 <= status < 500 and succeeded
            truth.add((endpoint, status, None, "breaking" if client_error else "additive"))
        for status in before.keys() & after.keys():
            was, now = media[0][(endpoint, status)], media[1][(endpoint, status)]
            if was and now and not was & now:
                truth.add((endpoint, status, None, "breaking"))
                continue
            if (endpoint, status) in shapes[0] and (endpoint, status) in shapes[1]:
                for pointer, cls in _body_truth(shapes[0][(endpoint, status)],
                                                shapes[1][(endpoint, status)]):
                    truth.add((endpoint, status, pointer, cls))
    return truth


# ---- the test -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus() -> dict:
    return json.loads(gzip.decompress(CORPUS.read_bytes()))


def _pairs(corpus: dict) -> list[dict]:
    """Each release with the next one: the two sides of one upgrade."""
    releases = sorted(corpus["releases"], key=_version)
    return [{"releases": {a: corpus["releases"][a], b: corpus["releases"][b]}}
            for a, b in zip(releases, releases[1:], strict=False)]


def _store(path: Path, pair: dict) -> Path:
    db = open_store(path, must_exist=False)
    insert_observations(db, _rows(pair))
    db.close()
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(freshmock_command(*args), capture_output=True, text=True,
                          timeout=300)


def _diff_json(db: Path, fail_on: str = "never") -> tuple[int, dict]:
    result = _run("diff", "--db", str(db), "--since", "7d", "--baseline-window", "35d",
                  "--format", "json", "--fail-on", fail_on)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_drift_on_real_traffic_matches_the_bodies(corpus, tmp_path, figures):
    truth, found, lines = set(), set(), [""]
    for pair in _pairs(corpus):
        names = " -> ".join(sorted(pair["releases"], key=_version))
        db = _store(tmp_path / f"{names.replace(' -> ', '_')}.db", pair)
        _, report = _diff_json(db)
        inferred = _run("infer", "--db", str(db))
        assert inferred.returncode == 0, inferred.stderr
        listed = _run("endpoints", "--db", str(db), "--json")
        assert listed.returncode == 0, listed.stderr
        templates = sorted({row["path_template"] for row in json.loads(listed.stdout)})
        truth |= {(names, *t) for t in ground_truth(pair, templates)}
        found |= {
            (names, f"{e['method']} {e['path_template']}", e["status"], c["path"],
             c["severity"])
            for e in report["endpoints"] for c in e["changes"]
        }
        lines.append(f"drift accuracy, {CORPUS.name} {names}: "
                     f"{report['observed']['baseline']['observations']} + "
                     f"{report['observed']['current']['observations']} observations, "
                     f"coverage {report['coverage']['summary']}")
    scores = {}
    for cls in CLASSES:
        expected = {t for t in truth if t[-1] == cls}
        got = {f for f in found if f[-1] == cls}
        hit = expected & got
        precision = len(hit) / len(got) if got else 1.0
        recall = len(hit) / len(expected) if expected else 1.0
        scores[cls] = (expected, got, hit)
        lines.append(f"  {cls:<8} truth {len(expected):>3}  reported {len(got):>3}  "
                     f"precision {precision:6.1%}  recall {recall:6.1%}")
        lines += [f"    missed: {m}" for m in sorted(expected - got, key=str)[:10]]
        lines += [f"    false:  {f}" for f in sorted(got - expected, key=str)[:10]]
    figures("\n".join(lines))
    breaking, risky, additive = (scores[c] for c in CLASSES)
    assert breaking[0], "the corpus must hold breaking changes, or this test proves nothing"
    assert additive[0], "the corpus must hold additions, or this test proves nothing"
    assert breaking[0] <= breaking[1], "breaking recall must be 100%"
    assert breaking[1] <= breaking[0], "no false breaking"
    assert len(additive[2]) >= 0.95 * len(additive[0]), "additive recall below 95%"
    assert risky[1] <= risky[0], "no risky false alarms"


@pytest.mark.slow  # issue 14: >20 s on 2 shared cores; `make test-slow` runs it
def test_an_unchanged_release_against_itself_is_silent(corpus, tmp_path):
    """Each release replayed on both days: nothing may be reported, nothing is vacuous."""
    for release, exchanges in corpus["releases"].items():
        same = {"releases": {"0.0.1": exchanges, "0.0.2": exchanges}}
        code, report = _diff_json(_store(tmp_path / f"{release}.db", same), "any")
        assert code == 0, report["endpoints"][:3]
        assert report["summary"] == {"breaking": 0, "risky": 0, "additive": 0}
        assert report["problems"] == []
        assert report["coverage"]["summary"]["compared"] > 50


def test_generated_values_of_one_release_are_not_drift(corpus, tmp_path, figures):
    """One release recorded twice in Prism's dynamic mode: values, optional and undeclared
    properties and nulls vary at random from call to call; the contract does not."""
    runs = corpus["dynamic"]["runs"]
    pair = {"releases": {"0.0.1": runs[0], "0.0.2": runs[1]}}
    code, report = _diff_json(_store(tmp_path / "dynamic.db", pair), "any")
    changes = [(e["method"], e["path_template"], e["status"], c["kind"], c["path"])
               for e in report["endpoints"] for c in e["changes"]]
    figures(f"\ndrift on generated values ({corpus['dynamic']['release']} twice, "
              f"{report['observed']['baseline']['observations']} + "
              f"{report['observed']['current']['observations']} observations, "
              f"coverage {report['coverage']['summary']}): {len(changes)} changes reported"
              + "".join(f"\n    false: {c}" for c in changes[:10]))
    assert changes == []
    assert code == 0
    assert report["coverage"]["summary"]["compared"] >= 10
