"""Path templates inside inference: learnt across runs, locked once published."""

from __future__ import annotations

from freshmock.generators.model.infer import infer_endpoints
from freshmock.generators.model.paths import PathRules
from freshmock.proxy.store import insert_observations, open_store

from store_kit import observation

SLUGS = ["lamp", "chair", "desk", "sofa", "rug", "shelf", "stool", "bench", "crate", "vase",
         "clock", "mirror"]


def templates(db) -> dict[str, int]:
    return {row["path_template"]: row["observations"] for row in infer_endpoints(db)}


def test_earlier_literal_endpoints_fold_into_a_parameter_learnt_later(tmp_path):
    db = open_store(tmp_path / "s.db", must_exist=False)
    insert_observations(db, [observation(f"/products/{s}", 1e9 + i, {"slug": s})
                             for i, s in enumerate(SLUGS[:4])])
    assert templates(db) == {f"/products/{s}": 1 for s in SLUGS[:4]}

    insert_observations(db, [observation(f"/products/{s}", 1.1e9 + i, {"slug": s})
                             for i, s in enumerate(SLUGS[4:])])
    assert templates(db) == {"/products/{product}": len(SLUGS)}


def test_a_published_template_is_locked_but_never_captures_a_kept_literal(tmp_path):
    db = open_store(tmp_path / "s.db", must_exist=False)
    insert_observations(db, [observation(f"/users/{n}", 1e9 + n, {"id": n}) for n in range(5)])
    assert templates(db) == {"/users/{user_id}": 5}
    insert_observations(db, [observation("/users/me", 1.1e9 + n, {"id": 0}) for n in range(50)])
    # the same as on a fresh store: the lock does not swallow /users/me
    fresh = open_store(tmp_path / "fresh.db", must_exist=False)
    insert_observations(fresh, [dict(r, id=None) for r in db["observations"].rows])
    assert templates(db) == templates(fresh) == {"/users/{user_id}": 5, "/users/me": 50}


def test_rules_pin_templates(tmp_path):
    db = open_store(tmp_path / "s.db", must_exist=False)
    insert_observations(db, [observation("/repos/a/b", 1e9, {"x": 1})])
    rules = PathRules(pinned=("/repos/{owner}/{repo}",))
    assert {r["path_template"] for r in infer_endpoints(db, path_rules=rules)} == {
        "/repos/{owner}/{repo}"
    }
