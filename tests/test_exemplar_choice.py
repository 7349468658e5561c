"""Which recorded body each stub replays: representative, stable night to night."""

from __future__ import annotations

import hashlib
import json

import jsonschema

from freshmock.generators.model.exemplar_choice import still_fits
from freshmock.generators.model.exemplars import load_exemplar
from freshmock.generators.model.infer import infer_endpoints
from freshmock.generators.model.synthesis import synthesize
from freshmock.generators.model.tables import list_endpoints
from freshmock.proxy.store import insert_observations

from store_kit import new_store, users_observation


def _exemplar_body(db) -> dict:
    (endpoint,) = list_endpoints(db)
    return load_exemplar(db, endpoint).response_json


def test_the_most_complete_body_of_the_most_common_shape_is_chosen(tmp_path):
    db = new_store(tmp_path / "store.db")
    insert_observations(db, [
        # the rare shape is the most complete body of all: not chosen
        users_observation(1, {"id": 1, "name": "ada", "team": {"id": 9, "name": "core"}}),
        users_observation(1, {"id": 2, "name": None}, second=1),
        users_observation(1, {"id": 3, "name": "grace"}, second=2),
        users_observation(1, {"id": 4, "name": "linus"}, second=3),
    ])
    infer_endpoints(db)
    # ids 3 and 4 fill as many values; the lower SHA-256 of the body wins
    bodies = {n: json.dumps({"id": n, "name": name}).encode()
              for n, name in ((3, "grace"), (4, "linus"))}
    expected = min(bodies, key=lambda n: hashlib.sha256(bodies[n]).hexdigest())
    assert _exemplar_body(db)["id"] == expected


def test_the_choice_does_not_depend_on_arrival_order(tmp_path):
    rows = [users_observation(1, {"id": n, "tags": ["a"] * (n % 3)}, second=n) for n in range(12)]
    chosen = []
    for name, ordered in (("forward", rows), ("backward", rows[::-1])):
        db = new_store(tmp_path / f"{name}.db")
        insert_observations(db, ordered)
        infer_endpoints(db)
        chosen.append(_exemplar_body(db))
    assert chosen[0] == chosen[1]


def test_last_nights_exemplar_stays_while_it_still_fits(tmp_path):
    db = new_store(tmp_path / "store.db")
    insert_observations(db, [users_observation(1, {"id": 1, "name": "ada"})])
    infer_endpoints(db)
    first = list_endpoints(db)[0]["exemplar_id"]
    # more common, more complete bodies arrive: the stub keeps its body anyway
    insert_observations(db, [
        users_observation(2, {"id": n, "name": "bo", "email": f"b{n}@example.com"}, second=n)
        for n in range(2, 8)
    ])
    infer_endpoints(db)
    assert list_endpoints(db)[0]["exemplar_id"] == first


def test_an_exemplar_that_left_the_window_is_replaced(tmp_path):
    db = new_store(tmp_path / "store.db")
    insert_observations(db, [users_observation(1, {"id": 1, "name": "ada"})])
    infer_endpoints(db)
    insert_observations(db, [users_observation(5, {"id": 2, "name": "bo"})])
    (row,) = infer_endpoints(db, since="2026-11-05")
    assert load_exemplar(db, row).response_json == {"id": 2, "name": "bo"}


def test_an_exemplar_that_no_longer_validates_does_not_fit(tmp_path):
    db = new_store(tmp_path / "store.db")
    insert_observations(db, [users_observation(1, {"id": 1})])
    (row,) = infer_endpoints(db)
    assert still_fits(db, row["exemplar_id"], row)
    stricter = {"type": "object", "properties": {"id": {"type": "string"}}}
    assert not still_fits(db, row["exemplar_id"], {**row, "response_schema": json.dumps(stricter)})
    other_status = {**row, "status": 404}
    assert not still_fits(db, row["exemplar_id"], other_status)
    assert not still_fits(db, 999, row)


def test_a_body_never_kept_is_synthesised_from_the_schema_the_same_way_every_time(tmp_path):
    db = new_store(tmp_path / "store.db")
    insert_observations(db, [users_observation(1, {"id": 1, "at": "2026-11-01T10:00:00Z"})])
    (row,) = infer_endpoints(db)
    db.execute("delete from observations")  # e.g. pruned by retention
    first, again = load_exemplar(db, row), load_exemplar(db, row)
    assert first.synthesized == ("response",)
    assert first.response_json == again.response_json
    jsonschema.validate(first.response_json, json.loads(row["response_schema"]))
    kept = load_exemplar(db, {**row, "exemplar_id": None})
    assert kept.response_json == first.response_json


def test_synthesis_is_seeded_per_json_path():
    schema = {"type": "object", "properties": {
        "a": {"type": "string"}, "b": {"type": "integer"}, "c": {"type": "string"}}}
    changed = json.loads(json.dumps(schema))
    changed["properties"]["b"] = {"type": "string", "format": "uuid"}
    one, two = synthesize(schema, "seed"), synthesize(changed, "seed")
    assert one["a"] == two["a"] and one["c"] == two["c"] and one["b"] != two["b"]
    jsonschema.validate(two, changed)
    jsonschema.validate(two["b"], {"format": "uuid"},
                        format_checker=jsonschema.FormatChecker())
