"""Path templating: typed identifier segments become named parameters."""

from __future__ import annotations

import pytest

from freshmock.generators.model.paths import PathRules, PathTemplater, path_template

from path_corpus import TEMPLATES, canonical, corpus


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/users/42", "/users/{user_id}"),
        ("/users/42/orders/7", "/users/{user_id}/orders/{order_id}"),
        ("/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6", "/orders/{order_id}"),
        ("/categories/5/items", "/categories/{category_id}/items"),
        ("/a/1/2", "/a/{a_id}/{id}"),
        ("/pairs/1/2/3", "/pairs/{pair_id}/{id}/{id2}"),
        ("/users/me", "/users/me"),
        ("/v2/users", "/v2/users"),
        ("/42", "/42"),  # the first segment names a collection: never a parameter
        ("/", "/"),
        ("", ""),
    ],
)
def test_path_template(path, template):
    assert path_template(path) == template


def test_parameter_names_are_unique_within_a_template():
    template = path_template("/users/1/users/2")
    assert template == "/users/{user_id}/users/{user_id2}"


# --- the learnt templates: a trie per service -------------------------------


def learn(paths, **kwargs) -> PathTemplater:
    templater = PathTemplater(**kwargs)
    for path in paths:
        templater.add(path)
    return templater


def precision_recall(size: int, seed: int = 7) -> tuple[float, float, float]:
    observations = corpus(size, seed)
    templater = learn(path for path, _ in observations)
    predicted = {canonical(templater.template(path)) for path, _ in observations}
    truth = {template for _, template in observations}
    hits = predicted & truth
    correct = sum(canonical(templater.template(p)) == t for p, t in observations)
    return len(hits) / len(predicted), len(hits) / len(truth), correct / len(observations)


@pytest.mark.parametrize("size", [300, 3_000, 30_000])
def test_templates_on_the_corpus_reach_095_precision_and_recall(size, figures):
    assert len(TEMPLATES) >= 15
    precision, recall, accuracy = precision_recall(size)
    figures(f"\npath templates, {len(TEMPLATES)}-template corpus, {size} observations: "
              f"precision {precision:.3f}, recall {recall:.3f}, "
              f"per-observation accuracy {accuracy:.3f}")
    assert precision >= 0.95 and recall >= 0.95


def test_typed_patterns_alone_fall_far_short_on_the_same_corpus():
    observations = corpus(3_000)
    predicted = {canonical(path_template(path)) for path, _ in observations}
    truth = {template for _, template in observations}
    assert len(predicted & truth) / len(predicted) < 0.1  # slugs and names explode


def test_slugs_merge_once_a_position_has_k_distinct_children():
    few = learn([f"/products/{name}" for name in ["lamp", "chair", "desk"]])
    assert few.template("/products/lamp") == "/products/lamp"
    many = learn([f"/products/item-{letter}" for letter in "abcdefghijk"])
    # named from the collection: a slug is the product itself, not its id
    assert many.template("/products/item-a") == "/products/{product}"


def test_merged_siblings_pool_their_subtrees():
    # No single owner has ten repositories, but together they do.
    paths = [f"/repos/owner{o}x/repo{o}{r}x" for o in "abcdefghijkl" for r in "pq"]
    templater = learn(paths)
    assert templater.template("/repos/ownerbx/repobqx") == "/repos/{owner}/{repo}"


def test_frequent_and_version_literals_stay_literal():
    paths = ["/users/me"] * 50 + [f"/users/{n}" for n in FIRST_NAMES]
    paths += [f"/api/{v}/status" for v in ["v1", "v2"]] + [f"/api/x{n}/status" for n in range(10)]
    templater = learn(paths)
    assert templater.template("/users/me") == "/users/me"
    assert templater.template("/users/alice") == "/users/{user}"
    assert templater.template("/api/v2/status") == "/api/v2/status"


FIRST_NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]


def test_k_is_configurable():
    paths = [f"/teams/{name}" for name in FIRST_NAMES[:4]]
    assert learn(paths).template("/teams/alice") == "/teams/alice"
    assert learn(paths, rules=PathRules(merge_threshold=3)).template("/teams/alice") == (
        "/teams/{team}"
    )


def test_pinned_templates_and_literals_win():
    rules = PathRules(pinned=("/repos/{owner}/{repo}",), literals=frozenset({"2026-01-01"}))
    templater = learn(["/repos/a/b", "/reports/2026-01-01"], rules=rules)
    assert templater.template("/repos/a/b") == "/repos/{owner}/{repo}"
    assert templater.template("/reports/2026-01-01") == "/reports/2026-01-01"
    assert templater.template("/reports/2026-01-02") == "/reports/{report_id}"


def test_a_locked_template_never_renames():
    locked = ["/users/{uid}"]
    templater = learn(["/users/7", "/users/8"], locked=locked)
    assert templater.template("/users/8") == "/users/{uid}"  # not renamed to {user_id}


def test_a_literal_the_trie_keeps_is_never_captured_by_a_parameterised_lock():
    templater = learn(["/users/me"] * 100 + ["/users/7"], locked=["/users/{user_id}"])
    assert templater.template("/users/me") == "/users/me"
    assert templater.template("/users/7") == "/users/{user_id}"
    # the issue's own example: no traffic to /users/me needed at all
    assert PathTemplater(locked=["/users/{user_id}"]).template("/users/me") == "/users/me"


def test_a_locked_literal_template_is_absorbed_by_a_new_parameter():
    templater = learn([f"/teams/{name}" for name in FIRST_NAMES], locked=["/teams/alice"])
    assert templater.template("/teams/alice") == "/teams/{team}"


def test_rules_come_from_the_paths_table_of_freshmock_toml(tmp_path):
    from freshmock.generators.model.paths import load_path_rules

    config = tmp_path / "freshmock.toml"
    config.write_text(
        '[paths]\nmerge_threshold = 4\ntemplates = ["/repos/{owner}/{repo}"]\nliterals = ["me"]\n'
    )
    rules = load_path_rules(config)
    assert rules == PathRules(4, ("/repos/{owner}/{repo}",), frozenset({"me"}))


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[paths]\nmerge_treshold = 4\n", "did you mean 'merge_threshold'"),
        ("[paths]\nmerge_threshold = 1\n", "merge_threshold must be an integer >= 2"),
        ('[paths]\ntemplates = "/a/{b}"\n', "templates must be a list of strings"),
        ('[paths]\ntemplates = ["a/{b}"]\n', "must start with '/'"),
        ("[paths\n", "freshmock.toml"),
    ],
)
def test_a_bad_rules_file_is_one_line_naming_file_and_key(tmp_path, text, complaint):
    import subprocess

    from freshmock.proxy.store import open_store

    from conftest import freshmock_command

    open_store(tmp_path / "s.db", must_exist=False).close()
    config = tmp_path / "freshmock.toml"
    config.write_text(text)
    result = subprocess.run(
        freshmock_command("infer", "--db", str(tmp_path / "s.db"), "--config", str(config)),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert complaint in result.stderr and str(config) in result.stderr
