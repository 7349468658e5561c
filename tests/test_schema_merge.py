"""Mergeable statistics: shards merge to exactly what one pass over all bodies gives.

The tracking caps are lowered inside the property tests so that value-set
overflow and map folding happen in almost every example, not once in a while.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from unittest.mock import patch

import pytest
from genson import SchemaBuilder
from hypothesis import event, given, settings
from hypothesis import strategies as st

from freshmock.generators.model.schema import StatsBuilder, dumps, loads, merge, merge_into, observe
from freshmock.generators.model.schema import publish as publish_module
from freshmock.generators.model.schema import stats as stats_module

FORMATTED = st.sampled_from(
    [
        "",
        "2026-11-03T10:00:00Z",
        "2026-11-03T10:00:00.123+02:00",
        "2026-11-03",
        "7b6f3c2e-4a1d-4c8e-9f00-1234567890ab",
        "ada@example.com",
        "https://api.example.com/v1/users?page=2",
        "10.0.0.1",
        "open",
        "closed",
        "pending",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | FORMATTED
    | st.sampled_from("abcdefg")  # short: they overflow the value cap at merge time
)
KEYS = st.sampled_from(["id", "name", "status", "at", "tags", "meta", "a", "b"]) | st.integers(
    0, 30
).map(str)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=24,
)
BODIES = st.lists(JSON_VALUES, min_size=1, max_size=16)


@contextmanager
def small_caps():
    """Caps small enough that every example crosses them."""
    with (
        patch.object(stats_module, "MAP_MAX_PROPERTIES", 4),
        patch.object(stats_module, "ENUM_MAX_VALUES", 3),
        patch.object(stats_module, "ENUM_MAX_LENGTH", 6),
    ):
        yield


def infer_all(bodies) -> dict:
    node: dict = {}
    for body in bodies:
        observe(node, body)
    return node


def shards_of(data, bodies) -> list[list]:
    """Bodies dealt into 1-5 shards by a random assignment (some may be empty)."""
    count = data.draw(st.integers(1, 5), label="shards")
    owners = data.draw(
        st.lists(st.integers(0, count - 1), min_size=len(bodies), max_size=len(bodies)),
        label="owners",
    )
    shards: list[list] = [[] for _ in range(count)]
    for body, owner in zip(bodies, owners, strict=True):
        shards[owner].append(body)
    return shards


@pytest.mark.slow  # issue 14: >20 s on 2 shared cores; `make test-slow` runs it
@settings(max_examples=400, deadline=None)
@given(bodies=BODIES, data=st.data())
def test_merged_shards_equal_one_pass_over_all_bodies(bodies, data):
    with small_caps():
        whole = infer_all(bodies)
        shards = [infer_all(shard) for shard in shards_of(data, bodies)]
        order = data.draw(st.permutations(range(len(shards))), label="merge order")
        merged = merge(*(shards[index] for index in order))
    text = dumps(whole)
    event(f"an object folded into a map: {'additional' in text}")
    event(f"a value set overflowed its cap: {'"values":null' in text}")
    assert merged == whole
    assert dumps(merged) == dumps(whole)
    assert publish_module.publish(merged) == publish_module.publish(whole)


def _merge_is_associative_and_commutative(a, b, c):
    with small_caps():
        x, y, z = infer_all(a), infer_all(b), infer_all(c)
        left = merge(merge(x, y), z)
        right = merge(x, merge(y, z))
        assert dumps(left) == dumps(right)
        assert dumps(merge(x, y)) == dumps(merge(y, x))
        assert dumps(merge(x, {})) == dumps(x)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(a=BODIES, b=BODIES, c=BODIES)
def test_merge_is_associative_and_commutative(a, b, c):
    _merge_is_associative_and_commutative(a=a, b=b, c=c)


# The same property in `make test` on fewer examples; `make test-slow` runs all of them.
@settings(max_examples=30, deadline=None)
@given(a=BODIES, b=BODIES, c=BODIES)
def test_merge_is_associative_and_commutative_in_brief(a, b, c):
    _merge_is_associative_and_commutative(a=a, b=b, c=c)


@pytest.mark.slow  # issue 14: >20 s on 2 shared cores; `make test-slow` runs it
@settings(max_examples=200, deadline=None)
@given(a=BODIES, b=BODIES)
def test_merge_leaves_its_sources_untouched(a, b):
    with small_caps():
        x, y = infer_all(a), infer_all(b)
        before_x, before_y = dumps(x), dumps(y)
        merged = merge(x, y)
        observe(merged, {"id": "later", "tags": [1, 2]})
        merge_into(merged, y)
    assert (dumps(x), dumps(y)) == (before_x, before_y)


@settings(max_examples=300, deadline=None)
@given(bodies=BODIES)
def test_state_round_trips_through_json_exactly(bodies):
    with small_caps():
        node = infer_all(bodies)
    text = dumps(node)
    assert loads(text) == node
    assert dumps(loads(text)) == text
    # and what is stored is plain JSON any parser reads back the same
    assert json.loads(text) == loads(text)


@settings(max_examples=200, deadline=None)
@given(bodies=BODIES, data=st.data())
def test_genson_builders_merge_exactly_through_add_schema(bodies, data):
    whole = StatsBuilder()
    for body in bodies:
        whole.add_object(body)
    merged = StatsBuilder()
    for shard in shards_of(data, bodies):
        builder = StatsBuilder()
        for body in shard:
            builder.add_object(body)
        # alternately merge the builder itself and its partial after a trip through JSON
        if data.draw(st.booleans(), label="via JSON"):
            merged.add_schema(json.loads(json.dumps(builder.to_partial())))
        else:
            merged.add_schema(builder)
    assert merged == whole
    assert merged.to_schema() == whole.to_schema()
    assert len(merged) == len(bodies)


def test_plain_genson_loses_optional_fields_on_merge_and_this_does_not():
    """genson issues #25/#78: an empty ``required`` is dropped, so merging revives it."""
    first, second = [{"a": 1}, {"b": 1}], [{"a": 2}]

    def genson(bodies):
        builder = SchemaBuilder()
        for body in bodies:
            builder.add_object(body)
        return builder

    merged = SchemaBuilder()
    merged.add_schema(genson(first).to_schema())
    merged.add_schema(genson(second).to_schema())
    assert merged.to_schema().get("required") == ["a"]  # wrong: "a" is missing from {"b": 1}
    assert genson(first + second).to_schema().get("required") is None

    ours = merge(infer_all(first), infer_all(second))
    assert ours == infer_all(first + second)
    properties = ours["object"]["properties"]
    assert (stats_module.count(properties["a"]), stats_module.count(properties["b"])) == (2, 1)


def test_objects_with_too_many_keys_fold_into_one_node_however_they_arrive():
    with small_caps():
        one_by_one = infer_all([{"a": 1, "b": 2}, {"c": "x"}, {"d": None, "e": 3}])
        assert "properties" not in one_by_one["object"]
        assert one_by_one["object"]["additional"] == infer_all([1, 2, "x", None, 3])
        split = merge(infer_all([{"a": 1, "b": 2}]), infer_all([{"c": "x"}, {"d": None, "e": 3}]))
    assert split == one_by_one


def test_value_tracking_stops_past_the_cap_and_for_long_strings():
    with small_caps():
        assert infer_all(["a", "b", "a"])["string"]["values"] == {"a": 2, "b": 1}
        assert infer_all(["a", "b", "c", "d"])["string"]["values"] is None
        assert infer_all(["a", "far too long"])["string"]["values"] is None
        assert merge(infer_all(["a", "b"]), infer_all(["c", "d"]))["string"]["values"] is None


def test_negative_zero_is_stored_one_way_whatever_arrives_first():
    assert dumps(infer_all([-0.0, 0.0])) == dumps(infer_all([0.0, -0.0]))


def test_non_json_values_are_refused():
    try:
        observe({}, {"when": object()})
    except TypeError as error:
        assert "not a JSON value" in str(error)
    else:
        raise AssertionError("an object() was observed")


def test_a_partial_that_starts_with_a_repeat_adds_no_value_evidence():
    # A day's second inference run whose first body repeats one the first run
    # folded in: merged, the two runs must equal one run over both bodies.
    from freshmock.generators.model.schema.builder import StatsBuilder

    body = {"users": [{"name": "User 1"}, {"name": "User 2"}], "colour": "red"}
    one_run = StatsBuilder()
    one_run.add_object(body)
    one_run.add_object(body, repeat=True)
    first, second = StatsBuilder(), StatsBuilder()
    first.add_object(body)
    second.add_object(body, repeat=True)
    first.add_schema(second)
    assert first.to_partial() == one_run.to_partial()
