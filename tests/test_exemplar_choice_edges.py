"""Exemplar candidates at their edges, written to kill the mutants `make test-mutation`
found surviving in generators/model/exemplar_choice.py (docs/mutation.md): the memory bounds
on shapes, the id tie-break between identical bodies, the window's last day."""

from __future__ import annotations

from freshmock.generators.model.exemplar_choice import (
    MAX_SHAPES,
    add_candidate,
    best_candidate,
    merge_candidates,
    still_fits,
)
from freshmock.generators.model.infer import infer_endpoints
from freshmock.generators.model.tables import list_endpoints
from freshmock.proxy.store import insert_observations, open_store

from store_kit import observation


def test_merging_keeps_exactly_the_most_common_shapes():
    candidates: dict[str, list] = {}
    other = {f"shape-{n:02d}": [n + 1, 1, f"{n:064x}", n] for n in range(MAX_SHAPES + 4)}
    merge_candidates(candidates, other)
    assert sorted(candidates) == [f"shape-{n:02d}" for n in range(4, MAX_SHAPES + 4)]


def test_within_a_day_shapes_are_pruned_only_past_four_times_the_bound():
    """Early pruning would forget a shape seen once before a burst of one-offs and let a
    less common one win the day."""
    candidates: dict[str, list] = {}
    add_candidate(candidates, "zz-late", [1, 1, "c" * 64, 1])
    add_candidate(candidates, "aa-rival", [2, 9, "b" * 64, 2])
    for n in range(3 * MAX_SHAPES):
        add_candidate(candidates, f"mm-{n:03d}", [1, 1, f"{n:064x}", 100 + n])
    assert len(candidates) == 2 + 3 * MAX_SHAPES  # under 4 x MAX_SHAPES: nothing pruned
    add_candidate(candidates, "zz-late", [2, 1, "d" * 64, 3])
    assert candidates["zz-late"][0] == 3
    assert best_candidate(candidates) == 1  # 3 of zz-late beat 2 of the more complete rival


def test_identical_bodies_keep_the_lowest_id_whatever_the_order():
    candidates: dict[str, list] = {}
    add_candidate(candidates, "s", [1, 5, "a" * 64, 9])
    add_candidate(candidates, "s", [1, 5, "a" * 64, 3])
    add_candidate(candidates, "s", [1, 5, "a" * 64, 7])
    assert candidates["s"] == [3, 5, "a" * 64, 3]


def test_an_exemplar_observed_on_the_windows_last_day_still_fits(tmp_path):
    db = open_store(tmp_path / "store.db", must_exist=False)
    insert_observations(db, [observation("/items/1", 1_700_000_000, {"id": 1, "name": "a"})])
    infer_endpoints(db)
    (endpoint,) = list_endpoints(db)
    day = "2023-11-14"  # 1_700_000_000 is 2023-11-14T22:13:20Z
    assert still_fits(db, endpoint["exemplar_id"], endpoint, since=day, until=day)
    assert not still_fits(db, endpoint["exemplar_id"], endpoint, until="2023-11-13")
    assert not still_fits(db, endpoint["exemplar_id"], endpoint, since="2023-11-15")
