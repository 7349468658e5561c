"""Sampling: per-endpoint hourly budgets that always keep a body of a new shape."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from mitmproxy.test import tflow

from freshmock.proxy.capture import capture_flow
from freshmock.proxy.sampling import Sampler, body_shape, endpoint_key, json_paths, shape_digest
from freshmock.proxy.worker import Worker, WorkerSettings

from capture_kit import Upstream, counters_detail, http_exchange, recording, rows

HOUR = 3600.0


def test_endpoint_keys_collapse_ids_but_not_words():
    key = endpoint_key("svc", "GET", "/users/42/orders/0b7a1f9e-2c4d-4e5f-8a9b-1c2d3e4f5a6b?x=1")
    assert key == "svc GET /users/{n}/orders/{uuid}"
    assert endpoint_key("svc", "GET", "/users/me") == "svc GET /users/me"
    assert endpoint_key("svc", "GET", "/blobs/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b") == (
        "svc GET /blobs/{hex}"
    )
    assert endpoint_key("svc", "POST", "/users/42") != endpoint_key("svc", "GET", "/users/42")


def test_json_paths_are_key_paths_with_types_arrays_merged_and_id_keys_collapsed():
    document = {"id": 1, "tags": ["a", "b"], "by_id": {"17": {"n": 1.5}, "18": {"n": 2.5}},
                "owner": None}
    assert json_paths(document) == {
        "$:object", "$.id:integer", "$.tags:array", "$.tags[]:string", "$.owner:null",
        "$.by_id:object", "$.by_id.{n}:object", "$.by_id.{n}.n:number",
    }


def test_shapes_ignore_values_but_see_new_fields_and_types():
    def shape(document):
        return body_shape("application/json", json.dumps(document).encode(), False)

    assert shape({"id": 1, "name": "a"}) == shape({"name": "zzz", "id": 99})
    assert shape({"id": 1}) != shape({"id": 1, "name": "a"})
    assert shape({"id": 1}) != shape({"id": "1"})


def test_the_budget_caps_bodies_per_endpoint_per_hour():
    sampler = Sampler(budget=3)
    same = shape_digest("same")
    kept = [sampler.keep("svc GET /a", same, 10 * HOUR + n) for n in range(10)]
    assert kept == [True] * 3 + [False] * 7
    assert sampler.keep("svc GET /b", same, 10 * HOUR)  # another endpoint, its own budget
    assert sampler.keep("svc GET /a", same, 11 * HOUR)  # the next hour, a fresh budget


def test_a_new_shape_is_always_kept_even_over_budget():
    sampler = Sampler(budget=1)
    assert sampler.keep("e", shape_digest(1), 0)
    assert not sampler.keep("e", shape_digest(1), 1)
    assert sampler.keep("e", shape_digest(2), 2)
    assert not sampler.keep("e", shape_digest(2), 3)


def test_a_zero_budget_keeps_everything():
    sampler = Sampler(budget=0)
    assert all(sampler.keep("e", shape_digest(1), n) for n in range(100))


def test_sampler_memory_is_bounded():
    sampler = Sampler(budget=1, max_endpoints=50, max_shapes=20)
    for n in range(1000):
        sampler.keep(f"e{n % 200}", shape_digest(n), 0)
    assert len(sampler._endpoints) == 50
    assert all(len(state.shapes) <= 20 for state in sampler._endpoints.values())


def _item_capture(n: int, at: float, wide: bool = False):
    """A real mitmproxy flow for GET /items/N, copied as the recorder does, at time ``at``."""
    flow = tflow.tflow(resp=True)
    flow.request.path = f"/items/{n}"
    item = {"id": n, "name": f"item {n}"} | ({"extra": {"colour": "red"}} if wide else {})
    flow.response.headers["content-type"] = "application/json"
    flow.response.raw_content = json.dumps(item).encode()
    return capture_flow(flow, "svc")._replace(started_at=at, ended_at=at + 0.002)


def test_the_budget_starts_again_at_the_hour_in_the_worker(tmp_path):
    """Time is the captures' own (injected), so the hour boundary is where the test puts
    it, not wherever the wall clock happens to be: 10:59:57 ... 11:00:02 UTC."""
    db = tmp_path / "store.db"
    eleven = 11 * HOUR
    times = [eleven - 3, eleven - 2, eleven - 1, eleven, eleven + 1, eleven + 2]
    batch = [_item_capture(n, at) for n, at in enumerate(times)]
    batch.insert(3, _item_capture(99, eleven - 0.5, wide=True))  # a new shape, over budget
    worker = Worker(WorkerSettings(str(db), "run", 0.0, 1, body_budget=2))
    worker.process(batch, {"seen": len(batch)})
    worker.finish({"seen": len(batch)})
    found = rows(db, "select path, sampled_out, response_body is not null, response_body_size, "
                     "response_body_sha256 is not null from observations order by id")
    assert [(path, sampled_out, kept) for path, sampled_out, kept, *_ in found] == [
        ("/items/0", 0, 1), ("/items/1", 0, 1), ("/items/2", 1, 0),  # 10:59: budget 2
        ("/items/99", 0, 1),  # a new shape is kept over budget
        ("/items/3", 0, 1), ("/items/4", 0, 1), ("/items/5", 1, 0),  # 11:00: budget 2 again
    ]
    # size always kept; a hash only for kept bodies (sampled-out ones are never redacted)
    assert all(size > 0 and hashed == (not sampled_out)
               for _, sampled_out, _, size, hashed in found)
    assert worker.counters["sampled_out"] == 2


def test_over_budget_observations_keep_their_metadata_but_not_their_bodies(tmp_path):
    db = tmp_path / "store.db"
    with Upstream() as upstream, recording(db, upstream.url, body_budget=2) as proxy:
        for n in range(6):
            assert http_exchange(proxy.port, "GET", f"/items/{n}")[0] == 200
        assert http_exchange(proxy.port, "GET", "/items/7?variant=wide")[0] == 200  # new shape
        assert http_exchange(proxy.port, "GET", "/items/8")[0] == 200
        assert http_exchange(proxy.port, "GET", "/gzip")[0] == 200  # another endpoint
    found = rows(
        db, "select path, sampled_out, response_body is not null, response_body_size, "
        "response_body_sha256 is not null, status, duration_ms is not null, "
        "substr(observed_at, 1, 13) from observations order by id"
    )
    # a kept body is hashed; a sampled-out one was never redacted, so never hashed either
    assert all(size > 0 and hashed == (not sampled_out) and status == 200 and timed
               for _, sampled_out, _, size, hashed, status, timed, _ in found)
    detail = counters_detail(db)
    sampled = [path for path, sampled_out, *_ in found if sampled_out]
    assert (detail["seen"], detail["recorded"], detail["sampled_out"]) == (9, 9, len(sampled))
    kept = {path for path, sampled_out, has_body, *_ in found if has_body and not sampled_out}
    assert {"/items/0", "/items/7", "/gzip"} <= kept  # first of an endpoint, a new shape
    if len({hour for *_, hour in found}) == 1:
        assert sampled == ["/items/2", "/items/3", "/items/4", "/items/5", "/items/8"]
    else:  # the traffic crossed hh:00 (the budget restarts there; exact rows: the test above)
        assert len(sampled) >= 3  # 7 bodies of one shape, at most 2 kept in each of 2 hours


def _naive_paths(value, path="$") -> set[str]:
    """Every value visited on its own: the definition json_paths must match."""
    from freshmock.proxy.sampling import _SUFFIX, collapse_segment

    found = {path + _SUFFIX.get(type(value), ":object")}
    if isinstance(value, dict):
        for name, child in value.items():
            found |= _naive_paths(child, f"{path}.{collapse_segment(str(name))}")
    elif isinstance(value, list):
        for item in value:
            found |= _naive_paths(item, path + "[]")
    return found


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["a", "b", "17", "18", "id"]), children, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_json_paths_is_exactly_the_paths_of_every_value(value):
    assert json_paths(value) == _naive_paths(value)
