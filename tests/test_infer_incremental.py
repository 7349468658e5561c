"""Incremental inference on real SQLite stores: watermark, per-day partials, windows."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from freshmock.generators.model import infer as infer_module
from freshmock.generators.model.exemplar_choice import still_fits
from freshmock.generators.model.infer import (
    PARTIALS_VERSION,
    WATERMARK,
    infer_endpoints,
    publish_endpoints,
    update_partials,
)
from freshmock.generators.model.publish import read_model
from freshmock.generators.model.schema import dumps as dumps_stats
from freshmock.generators.model.schema import loads
from freshmock.generators.model.tables import (
    ENDPOINT_COLUMNS,
    iter_partials,
    list_endpoints,
    read_watermark,
    run_in_write_transaction,
    write_watermark,
)
from freshmock.proxy.store import OBSERVATION_COLUMNS, insert_observations

from store_kit import new_store, users_observation


def test_endpoints_keep_their_columns_and_hold_published_schemas(tmp_path):
    db = new_store(tmp_path / "store.db")
    insert_observations(
        db,
        [
            users_observation(1, {"id": 7, "email": "ada@example.com"}, second=1),
            users_observation(2, {"id": 8, "email": None}, path="/users/8", second=2),
            users_observation(2, {"id": 8}, method="PUT", request={"email": "x@y.io"}, second=3),
        ],
    )
    rows = infer_endpoints(db)
    assert rows == list_endpoints(db)
    assert [set(row) for row in rows] == [set(ENDPOINT_COLUMNS)] * 2
    get, put = rows
    assert (get["method"], get["path_template"], get["observations"]) == (
        "GET",
        "/users/{user_id}",
        2,
    )
    assert (get["first_seen"], get["last_seen"], get["exemplar_id"]) == (
        "2026-11-01T10:00:01.000000Z",
        "2026-11-02T10:00:02.000000Z",
        1,  # two shapes seen once each: the more complete body (email not null)
    )
    assert get["request_schema"] is None
    assert json.loads(get["response_schema"]) == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            # one email seen: too few to claim `format`, so the count is published
            "email": {"type": ["string", "null"], "x-freshmock-samples": 1},
            "id": {"type": "integer"},
        },
        "x-freshmock-samples": 2,
    }
    assert json.loads(put["request_schema"])["properties"] == {
        "email": {"type": "string", "x-freshmock-samples": 1}
    }


def test_each_run_reads_only_observations_past_its_watermark(tmp_path):
    db = new_store(tmp_path / "store.db")
    insert_observations(db, [users_observation(1, {"id": n}, second=n) for n in range(3)])
    assert update_partials(db) == 3
    assert read_watermark(db, WATERMARK)[0] == 3
    assert read_watermark(db, WATERMARK)[1].startswith(PARTIALS_VERSION)
    assert update_partials(db) == 0
    insert_observations(db, [users_observation(2, {"id": n}, second=n) for n in range(2)])
    assert update_partials(db) == 2
    assert read_watermark(db, WATERMARK)[0] == 5
    assert [row["observations"] for row in publish_endpoints(db)] == [5]


def test_partials_are_kept_per_endpoint_per_day_as_round_tripping_json(tmp_path):
    db = new_store(tmp_path / "store.db")
    insert_observations(
        db,
        [
            users_observation(1, {"id": 1}),
            users_observation(1, {"id": 2}, second=5),
            users_observation(3, {"id": 3}),
            users_observation(3, {"error": "gone"}, status=404),
        ],
    )
    infer_endpoints(db)
    partials = list(iter_partials(db))
    assert [(p["status"], p["day"], p["observations"]) for p in partials] == [
        (200, "2026-11-01", 2),
        (200, "2026-11-03", 1),
        (404, "2026-11-03", 1),
    ]
    stats = partials[0]["response_stats"]
    assert dumps_stats(loads(stats)) == stats
    assert loads(stats)["object"]["properties"]["id"]["integer"] == {"n": 2, "min": 1, "max": 2}


def test_a_window_publishes_only_its_days(tmp_path):
    db = new_store(tmp_path / "store.db")
    insert_observations(
        db,
        [
            users_observation(1, {"id": 1}),
            users_observation(2, {"id": 2}),
            users_observation(3, {"id": 3, "avatar": "https://cdn.example.com/3.png"}),
        ],
    )
    everything = infer_endpoints(db)
    assert "avatar" in json.loads(everything[0]["response_schema"])["properties"]
    (early,) = infer_endpoints(db, since="2026-11-01", until="2026-11-02")
    assert early["observations"] == 2 and early["last_seen"].startswith("2026-11-02")
    assert "avatar" not in json.loads(early["response_schema"])["properties"]
    assert list_endpoints(db) == [early]
    (late,) = publish_endpoints(db, since="2026-11-03")
    assert late["observations"] == 1 and late["exemplar_id"] == 3


def test_partials_of_another_format_are_rebuilt_not_merged(tmp_path):
    db = new_store(tmp_path / "store.db")
    insert_observations(db, [users_observation(1, {"id": n}) for n in range(4)])
    infer_endpoints(db)
    run_in_write_transaction(db, lambda: write_watermark(db, WATERMARK, 4, "stats-v0"))
    assert update_partials(db) == 4
    assert [row["observations"] for row in publish_endpoints(db)] == [4]
    assert update_partials(db, rebuild=True) == 4
    assert [row["observations"] for row in publish_endpoints(db)] == [4]


def test_unfinished_and_non_json_observations(tmp_path):
    db = new_store(tmp_path / "store.db")
    insert_observations(
        db,
        [
            users_observation(1, {"id": 1}, status=None),  # connection failed: no status
            users_observation(1, None, raw=b'{"ratio": NaN}'),  # Python parses it; JSON does not
            users_observation(1, None, raw=b'{"ratio": 0.5}'),
        ],
    )
    (row,) = infer_endpoints(db)
    assert row["observations"] == 2
    assert json.loads(row["response_schema"])["properties"] == {"ratio": {"type": "number"}}
    assert read_watermark(db, WATERMARK)[0] == 3


def test_an_observation_whose_bodies_were_sampled_out_is_never_the_exemplar(tmp_path):
    # a store without the column would make this test meaningless: that is a failure
    assert "sampled_out" in OBSERVATION_COLUMNS, "the store lost its sampled_out column"
    db = new_store(tmp_path / "store.db")
    insert_observations(db, [users_observation(1, {"id": 1, "name": "ada"})])
    assert infer_endpoints(db)[0]["exemplar_id"] == 1
    sampled = {**users_observation(3, None), "response_body": None, "sampled_out": 1}
    insert_observations(db, [sampled])
    (row,) = infer_endpoints(db)
    assert (row["exemplar_id"], row["observations"]) == (1, 2)
    assert row["last_seen"].startswith("2026-11-03")


def test_rows_without_a_media_type_are_merged_not_duplicated(tmp_path):
    db = new_store(tmp_path / "store.db")
    bare = {"response_media_type": None, "response_body": b"", "response_body_size": 0}
    insert_observations(db, [{**users_observation(1, None), **bare}])
    infer_endpoints(db)
    insert_observations(db, [{**users_observation(1, None), **bare}])
    (row,) = infer_endpoints(db)
    # no body: the media type is "" (an empty answer has no media type contract)
    assert (row["media_type"], row["observations"], row["response_schema"]) == ("", 2, None)
    assert len(list(iter_partials(db))) == 1


def test_a_run_that_loses_a_race_merges_on_top_of_the_winner(tmp_path, monkeypatch):
    """Another run moves the watermark while this one parses: nothing is counted twice."""
    path = tmp_path / "store.db"
    db = new_store(path)
    insert_observations(db, [users_observation(1, {"id": n}, second=n) for n in range(3)])
    read_between = infer_module.iter_observations_between
    raced = []

    def racing(db_, after, upto):
        if not raced:
            raced.append(True)
            other = new_store(path)
            insert_observations(other, [users_observation(2, {"id": 9})])
            update_partials(other)
            other.close()
        yield from read_between(db_, after, upto)

    monkeypatch.setattr(infer_module, "iter_observations_between", racing)
    update_partials(db)
    assert read_watermark(db, WATERMARK)[0] == 4
    assert [row["observations"] for row in publish_endpoints(db)] == [4]


def test_stubs_are_written_from_incrementally_inferred_endpoints(tmp_path):
    from freshmock.generators.targets.wiremock import write_wiremock

    db = new_store(tmp_path / "store.db")
    insert_observations(db, [users_observation(1, {"id": 1, "name": "ada"})])
    infer_endpoints(db)
    insert_observations(db, [users_observation(2, {"id": 2, "name": None})])
    infer_endpoints(db)
    written = write_wiremock(read_model(db), tmp_path / "stubs")
    mappings = [json.loads(stub.path.read_text()) for stub in written]
    (mapping,) = [m for m in mappings if m["metadata"]["freshmock"]["stub"] == "default"]
    # the first exemplar still fits the widened schema: the stub keeps replaying it
    assert mapping["response"]["jsonBody"] == {"id": 1, "name": "ada"}
    schema = mapping["metadata"]["freshmock"]["response_schema"]
    assert schema["properties"]["name"] == {"type": ["string", "null"]}


BODY = st.fixed_dictionaries(
    {"id": st.integers(0, 10**6)},
    optional={
        "name": st.none() | st.text(max_size=6),
        "at": st.sampled_from(["2026-11-03T10:00:00Z", "2026-11-04", ""]),
        "tags": st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
        "scores": st.dictionaries(st.integers(1, 99).map(str), st.integers(), max_size=3),
    },
)
ROW = st.tuples(st.integers(1, 4), st.sampled_from(["/users/1", "/users/2", "/teams/3"]), BODY)


def _runs_after_every_batch_equal_one_run_over_everything(rows, data):
    cuts = sorted(data.draw(st.sets(st.integers(1, len(rows)), max_size=4), label="cuts"))
    observations = [
        users_observation(day, body, path=path, second=index)
        for index, (day, path, body) in enumerate(rows)
    ]
    with tempfile.TemporaryDirectory() as folder:
        batched, once = new_store(Path(folder) / "batched.db"), new_store(Path(folder) / "once.db")
        start = 0
        for cut in [*cuts, len(rows)]:
            if cut > start:
                insert_observations(batched, observations[start:cut])
                infer_endpoints(batched)
                start = cut
        insert_observations(once, observations)
        infer_endpoints(once)
        # Exemplars may differ: a batched run keeps an earlier choice while it fits.
        chosen = [row.pop("exemplar_id") for row in list_endpoints(batched)]
        assert [{**row, "exemplar_id": None} for row in list_endpoints(batched)] == [
            {**row, "exemplar_id": None} for row in list_endpoints(once)
        ]
        for observation_id, row in zip(chosen, list_endpoints(batched), strict=True):
            assert still_fits(batched, observation_id, row)
        assert list(iter_partials(batched)) == list(iter_partials(once))
        batched.close()
        once.close()


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(rows=st.lists(ROW, min_size=1, max_size=30), data=st.data())
def test_runs_after_every_batch_equal_one_run_over_everything(rows, data):
    _runs_after_every_batch_equal_one_run_over_everything(rows=rows, data=data)


# The same property in `make test` on fewer examples; `make test-slow` runs all of them.
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(rows=st.lists(ROW, min_size=1, max_size=30), data=st.data())
def test_runs_after_every_batch_equal_one_run_over_everything_in_brief(rows, data):
    _runs_after_every_batch_equal_one_run_over_everything(rows=rows, data=data)
