"""Exemplar candidates at their edges, written to kill the mutants `make test-mutation`
found surviving in generators/model/exemplar_choice.py (docs/mutation.md): the memory bounds
on shapes, the id tie-break between identical bodies, the window's last day."""

from __future__ import annotations

import json

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


def test_sixteen_shapes_are_kept_per_endpoint_and_day():
    assert MAX_SHAPES == 16
    candidates = {f"shape-{n:02d}": [n + 1, 1, f"{n:064x}", n] for n in range(20)}
    merge_candidates(candidates, {})
    assert len(candidates) == 16


def test_a_day_holds_at_most_four_times_the_bound_before_it_is_pruned():
    candidates: dict[str, list] = {}
    for n in range(4 * 16):
        add_candidate(candidates, f"s-{n:03d}", [1, 1, f"{n:064x}", n])
    assert len(candidates) == 64  # at the bound: not yet pruned
    add_candidate(candidates, "s-late", [1, 1, "f" * 64, 999])
    assert len(candidates) == 16


def test_pruning_ranks_shapes_by_how_often_they_were_seen_not_by_row():
    # the most common shapes have the oldest rows: kept for their counts
    candidates = {f"shape-{n:02d}": [20 - n, 1, f"{n:064x}", n] for n in range(20)}
    merge_candidates(candidates, {})
    assert sorted(candidates) == [f"shape-{n:02d}" for n in range(16)]


def test_completeness_counts_every_non_null_value_objects_and_arrays_included():
    from freshmock.generators.model.exemplar_choice import shape_and_fill

    # the object 1, a 1, b (null) 0, the array 1, its items 1 + 0 + 1 (an empty object)
    _, fill = shape_and_fill({"a": 1, "b": None, "c": [1, None, {}]})
    assert fill == 5
    assert shape_and_fill(None) == ("z", 0) and shape_and_fill("x") == ("s", 1)


def _stored(tmp_path, row: dict):
    db = open_store(tmp_path / "store.db", must_exist=False)
    insert_observations(db, [row])
    infer_endpoints(db)
    (endpoint,) = list_endpoints(db)
    return db, endpoint


def test_an_exemplar_cut_at_the_cap_no_longer_fits(tmp_path):
    db, endpoint = _stored(tmp_path, observation("/items/1", 1_700_000_000, {"id": 1}))
    assert still_fits(db, endpoint["exemplar_id"], endpoint)
    db["observations"].update(endpoint["exemplar_id"], {"response_body_truncated": 1})
    assert not still_fits(db, endpoint["exemplar_id"], endpoint)

    # a body without a schema (text) cut at the cap: no longer whole, so no longer fit
    from store_kit import observation_row

    folder = tmp_path / "text"
    folder.mkdir()
    db, endpoint = _stored(folder, observation_row(
        observed_at="2026-11-20T10:00:00.000000Z", body=b"ok\n", media_type="text/plain"))
    assert endpoint["response_schema"] is None
    assert still_fits(db, endpoint["exemplar_id"], endpoint)
    db["observations"].update(endpoint["exemplar_id"], {"response_body_truncated": 1})
    assert not still_fits(db, endpoint["exemplar_id"], endpoint)


def test_an_exemplar_from_any_day_inside_the_window_fits(tmp_path):
    db, endpoint = _stored(tmp_path, observation("/items/1", 1_700_000_000, {"id": 1}))
    # observed 2023-11-14: inside a window from the 10th to the 20th, at neither end
    assert still_fits(db, endpoint["exemplar_id"], endpoint, since="2023-11-10",
                      until="2023-11-20")


def test_an_exemplar_fits_while_its_bodies_match_the_schemas_each_part_alone(tmp_path):
    from store_kit import observation_row

    row = observation_row(observed_at="2026-11-20T10:00:00.000000Z", method="POST",
                          path="/items", status=204, body=None, media_type="",
                          request={"name": "a"})
    db, endpoint = _stored(tmp_path, row)
    assert endpoint["response_schema"] is None and endpoint["request_schema"]
    assert still_fits(db, endpoint["exemplar_id"], endpoint)
    # the request no longer fits (the response has no schema to check): not this one
    wants_number = {**endpoint, "request_schema": json.dumps(
        {"type": "object", "properties": {"name": {"type": "integer"}}})}
    assert not still_fits(db, endpoint["exemplar_id"], wants_number)
    # a response schema this bodyless exemplar cannot show: not this one either
    wants_body = {**endpoint, "response_schema": json.dumps({"type": "object"})}
    assert not still_fits(db, endpoint["exemplar_id"], wants_body)
    # a request schema for an exemplar whose request had no body: the request is not judged
    db["observations"].update(endpoint["exemplar_id"], {"request_body": None})
    assert still_fits(db, endpoint["exemplar_id"], endpoint)


def test_a_body_cut_at_the_cap_is_never_a_candidate():
    from freshmock.generators.model.exemplar_choice import candidate

    row = {"id": 1, "sampled_out": 0, "response_body_truncated": 0, "response_body": b"{}",
           "response_media_type": "application/json", "response_body_sha256": "a" * 64}
    assert candidate(row, {}) is not None
    assert candidate({**row, "response_body_truncated": 1}, {}) is None
    assert candidate({**row, "sampled_out": 1}, {}) is None


def test_numeric_keys_are_one_shape_and_named_keys_their_own():
    from freshmock.generators.model.exemplar_choice import shape_and_fill

    assert shape_and_fill({"17": 1})[0] == shape_and_fill({"42": 1})[0]
    assert shape_and_fill({"a": 1})[0] != shape_and_fill({"b": 1})[0]


def test_an_exemplar_of_another_method_or_status_does_not_fit(tmp_path):
    db, endpoint = _stored(tmp_path, observation("/items/1", 1_700_000_000, {"id": 1}))
    assert still_fits(db, endpoint["exemplar_id"], endpoint)
    for other in ({"status": 199}, {"status": 201}, {"method": "DELETE"}, {"method": "PUT"},
                  {"service": "a-other"}, {"service": "z-other"}):
        assert not still_fits(db, endpoint["exemplar_id"], {**endpoint, **other}), other
