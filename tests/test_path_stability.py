"""One set of path rules, kept with the store: every command publishes the same endpoints.

Through the CLI as a user runs it: ``infer``, ``generate``, ``infer`` again with
no new data gives the same endpoints, byte for byte; ``infer --config`` then
``generate`` without it keeps the configured templates.
"""

from __future__ import annotations

import json
import random
import subprocess

from freshmock.proxy.store import insert_observations, open_store

from conftest import freshmock_command
from path_corpus import corpus
from store_kit import observation


def run(*args: str) -> str:
    result = subprocess.run(freshmock_command(*args), capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    return result.stdout


def endpoints(db) -> str:
    return run("endpoints", "--db", str(db), "--json")


def github_like_store(path) -> None:
    """The synthetic corpus, plus the issue's case: /gists/{id} beside /gists/public."""
    rng = random.Random(5)
    paths = [p for p, _ in corpus(1500, seed=11)]
    paths += [f"/gists/{rng.getrandbits(128):032x}" for _ in range(30)]
    paths += ["/gists/public", "/gists/starred"] * 6
    db = open_store(path, must_exist=False)
    insert_observations(db, [
        observation(p, 1.79e9 + n * 60, {"path": p.split("/")[1], "n": n % 3})
        for n, p in enumerate(paths)])
    db.close()


def test_infer_generate_infer_gives_identical_endpoints(tmp_path):
    db = tmp_path / "s.db"
    github_like_store(db)
    run("infer", "--db", str(db))
    first = endpoints(db)
    run("generate", "--db", str(db), "--target", "wiremock", "--out", str(tmp_path / "stubs"),
        "--window", "all")
    after_generate = endpoints(db)
    run("infer", "--db", str(db))
    assert endpoints(db) == after_generate == first
    templates = {e["path_template"] for e in json.loads(first)}
    assert {"/gists/public", "/gists/starred"} <= templates  # not captured by the gist lock
    assert any(t.startswith("/gists/{") for t in templates)


def test_infer_with_config_then_generate_without_it_keeps_the_rules(tmp_path):
    db = tmp_path / "s.db"
    store = open_store(db, must_exist=False)
    slugs = ["lamp", "chair", "desk", "sofa", "rug", "shelf", "stool", "bench", "crate",
             "vase", "clock", "mirror"]
    insert_observations(store, [observation(f"/products/{s}", 1.79e9 + n, {"slug": s})
                                for n, s in enumerate(slugs)])
    store.close()
    config = tmp_path / "freshmock.toml"
    config.write_text('[paths]\nmerge_threshold = 20\nliterals = ["mirror"]\n')
    run("infer", "--db", str(db), "--config", str(config))
    configured = endpoints(db)
    assert len(json.loads(configured)) == len(slugs)  # K = 20: nothing merged
    out = tmp_path / "stubs"
    run("generate", "--db", str(db), "--target", "wiremock", "--out", str(out), "--window", "all")
    assert endpoints(db) == configured
    assert len(list(out.rglob("mappings/*.json"))) == len(slugs)
    # diff without --config keeps them too; a new --config replaces them
    subprocess.run(freshmock_command("diff", "--db", str(db)), capture_output=True, timeout=180)
    run("infer", "--db", str(db))
    assert endpoints(db) == configured
    config.write_text('[paths]\nliterals = ["mirror"]\n')
    run("infer", "--db", str(db), "--config", str(config))
    assert {e["path_template"] for e in json.loads(endpoints(db))} == {
        "/products/{product}", "/products/mirror"}


def test_endpoints_shows_the_values_each_parameter_merged(tmp_path):
    db = tmp_path / "s.db"
    store = open_store(db, must_exist=False)
    slugs = ["lamp", "chair", "desk", "sofa", "rug", "shelf", "stool", "bench", "crate",
             "vase", "clock"]
    insert_observations(store, [observation(f"/products/{s}", 1.79e9 + n, {"slug": s})
                                for n, s in enumerate(slugs)]
                        + [observation(f"/users/{n}", 1.79e9 + n, {"id": n}) for n in range(3)])
    store.close()
    run("infer", "--db", str(db))
    text = run("endpoints", "--db", str(db))
    assert "    {product}: 11 values: bench, chair, clock, crate, desk, ..." in text
    assert "    {user_id}: typed identifiers" in text
    (product,) = [e for e in json.loads(endpoints(db))
                  if e["path_template"] == "/products/{product}"]
    assert product["merged"] == [{"parameter": "{product}", "typed": False, "distinct": 11,
                                  "values": ["bench", "chair", "clock", "crate", "desk"]}]
