"""Edges of body sampling (proxy/sampling.py) a mutation run found unguarded.

Each documented bound is probed on both sides: the length at which a hex or token
segment collapses, the cut at MAX_SHAPE_PATHS, the LRU bounds on endpoints and shapes,
the hour boundary, and what counts against the budget.
"""

from __future__ import annotations

import json

import pytest

from freshmock.proxy.json_text import INVALID
from freshmock.proxy.sampling import (
    MAX_SHAPE_PATHS,
    Sampler,
    body_shape,
    collapse_segment,
    endpoint_key,
    json_paths,
    shape_digest,
)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(("segment", "collapsed"), [
    ("42", "{n}"), ("0", "{n}"), ("v2", "v2"), ("me", "me"), ("", ""),
    ("0b7a1f9e-2c4d-4e5f-8a9b-1c2d3e4f5a6b", "{uuid}"),
    ("0b7a1f9e2c4d4e5f8a9b1c2d3e4f5a6b", "{uuid}"),  # hyphens are optional
    ("0b7a1f9e-2c4d-4e5f-8a9b-1c2d3e4f5a6", "{token}"),  # one digit short: not a UUID
    ("9f86d081884c7d65", "{hex}"),  # 16 hex digits: collapsed
    ("9f86d081884c7d6", "9f86d081884c7d6"),  # 15: kept
    ("abcdefghij0123456789ABCD", "{token}"),  # 24 token characters with a digit
    ("abcdefghij0123456789ABC", "abcdefghij0123456789ABC"),  # 23: kept
    ("abcdefghij_klmnopqrst-uvwxyz", "abcdefghij_klmnopqrst-uvwxyz"),  # no digit: a word
])
def test_segments_collapse_at_their_documented_lengths(segment, collapsed):
    assert collapse_segment(segment) == collapsed


def test_the_endpoint_key_ignores_the_query_only():
    assert endpoint_key("svc", "GET", "/a/7?b=8/9") == "svc GET /a/{n}"
    assert endpoint_key("svc", "GET", "/a/7/") == "svc GET /a/{n}/"
    assert endpoint_key("other", "GET", "/a/7") == "other GET /a/{n}"


def test_json_paths_of_mixed_types_nested_arrays_and_scalars():
    assert json_paths([1, "a", None, True, 1.5]) == {
        "$:array", "$[]:integer", "$[]:string", "$[]:null", "$[]:boolean", "$[]:number"}
    assert json_paths([[1], [[2]]]) == {"$:array", "$[]:array", "$[][]:integer",
                                        "$[][]:array", "$[][][]:integer"}
    assert json_paths("x") == {"$:string"}
    assert json_paths([]) == {"$:array"}
    assert json_paths({}) == {"$:object"}


def test_json_paths_merge_the_children_of_every_object_at_one_path():
    document = [{"a": 1}, {"a": "x", "b": {"c": 2}}, {"b": {"d": [3]}}]
    assert json_paths(document) == {
        "$:array", "$[]:object", "$[].a:integer", "$[].a:string", "$[].b:object",
        "$[].b.c:integer", "$[].b.d:array", "$[].b.d[]:integer"}
    # a key seen once holding a container is walked, not taken for a leaf
    assert json_paths({"only": {"x": [1]}}) == {
        "$:object", "$.only:object", "$.only.x:array", "$.only.x[]:integer"}
    # objects mixed with scalars at one path: the objects' children are still walked
    assert json_paths([{"a": 1}, 2]) == {"$:array", "$[]:object", "$[]:integer",
                                         "$[].a:integer"}


def test_a_wide_body_is_cut_at_max_shape_paths_exactly():
    assert MAX_SHAPE_PATHS == 2000  # the documented cut (docs/sidecar.md)
    wide = {f"field_{k}": k for k in range(MAX_SHAPE_PATHS + 500)}
    assert len(json_paths(wide)) == 2000
    assert json_paths(wide) == json_paths(dict(wide))  # deterministic
    nested = {f"field_{k}": {"x": k} for k in range(MAX_SHAPE_PATHS)}
    assert len(json_paths(nested)) == MAX_SHAPE_PATHS
    narrow = {f"field_{k}": k for k in range(MAX_SHAPE_PATHS - 2)}
    assert len(json_paths(narrow)) == MAX_SHAPE_PATHS - 1  # every field and the body


def test_a_body_whose_paths_grow_several_at_a_time_is_still_cut_near_the_bound():
    # the body, then 4 paths a field (its array, then 3 item types at once): 1998 after
    # 499 fields, 2001 after 500; the count steps over 2000 and the walk stops there
    mixed = {f"field_{k}": [1, "a", None] for k in range(MAX_SHAPE_PATHS)}
    assert len(json_paths(mixed)) == 2001
    # items of two types, one an object: the 2 paths at once step from 1999 to 2001, and
    # the walk stops there, before the object's own fields
    objects = {"first": 1, **{f"field_{k}": [{"a": 1}, 1] for k in range(MAX_SHAPE_PATHS)}}
    assert len(json_paths(objects)) == 2001


@pytest.mark.parametrize("media_type", ["application/xml", "application/octet-stream",
                                        "text/plain", "multipart/form-data"])
def test_only_a_form_body_is_read_as_a_form(media_type):
    assert body_shape(media_type, b"a=1&b=2", False) == (media_type,)


def test_body_shapes_of_each_kind_of_body():
    assert body_shape(JSON, b"", False) == (JSON, "empty")
    assert body_shape(JSON, None, False) == (JSON, "empty")
    assert body_shape(JSON, b'{"a": 1}', True) == (JSON, "truncated")
    assert body_shape(JSON, b"{not json", False) == (JSON, "invalid")
    assert body_shape(JSON, b'{"b": 1, "a": [2]}', False) == (
        JSON, "$.a:array", "$.a[]:integer", "$.b:integer", "$:object")
    assert body_shape(FORM, b"z=1&a=2&a=3&17=x", False) == (FORM, "a", "z", "{n}")
    assert body_shape(FORM, b"a=\xff\xfe", False) == (FORM, "invalid")
    assert body_shape("text/plain", b"hello", False) == ("text/plain",)


def test_a_body_already_parsed_is_not_parsed_again():
    assert body_shape(JSON, b'{"a": 1}', False, document={"b": "x"}) == (
        JSON, "$.b:string", "$:object")
    assert body_shape(JSON, b'{"a": 1}', False, document=INVALID) == (JSON, "invalid")


def test_a_body_nested_past_the_recursion_limit_has_the_invalid_shape():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    assert body_shape(JSON, b"[]", False, document=deep) == (JSON, "invalid")


def test_shape_digests_differ_with_their_parts():
    assert shape_digest(JSON, "$:object") == shape_digest(JSON, "$:object")
    assert shape_digest(JSON, "$:object") != shape_digest(JSON, "$:array")
    assert len(shape_digest("x")) == 16


def test_a_new_shape_counts_against_the_budget():
    sampler = Sampler(budget=2)
    a, b = shape_digest("a"), shape_digest("b")
    assert sampler.keep("e", a, 0) and sampler.keep("e", b, 1)
    assert not sampler.keep("e", a, 2)  # two kept this hour: the budget is spent


def test_the_hour_turns_at_a_multiple_of_3600_seconds():
    sampler = Sampler(budget=1)
    same = shape_digest("same")
    assert sampler.keep("e", same, 7199.9)
    assert not sampler.keep("e", same, 7199.99)
    assert sampler.keep("e", same, 7200.0)
    assert not sampler.keep("e", same, 7200.5)


def test_the_least_recently_seen_endpoint_is_forgotten_first():
    sampler = Sampler(budget=1, max_endpoints=2)
    same = shape_digest("same")
    assert sampler.keep("a", same, 0) and sampler.keep("b", same, 0)
    assert not sampler.keep("a", same, 1)  # a is now the most recently seen
    assert sampler.keep("c", same, 1)  # over the bound: b is forgotten, not a
    assert list(sampler._endpoints) == ["a", "c"]
    assert not sampler.keep("a", same, 2)  # a's budget and shapes are remembered
    assert sampler.keep("b", same, 2)  # b starts again: a new shape to it


def test_endpoints_up_to_the_bound_are_all_remembered():
    sampler = Sampler(budget=1, max_endpoints=3)
    same = shape_digest("same")
    for name in "abc":
        sampler.keep(name, same, 0)
    assert list(sampler._endpoints) == ["a", "b", "c"]
    assert not any(sampler.keep(name, same, 1) for name in "abc")


def test_the_oldest_shape_is_forgotten_first_and_up_to_the_bound_all_are_kept():
    sampler = Sampler(budget=1, max_shapes=2)
    s1, s2, s3 = shape_digest(1), shape_digest(2), shape_digest(3)
    for n, shape in enumerate((s1, s2)):
        assert sampler.keep("e", shape, n)
    assert not sampler.keep("e", s1, 2) and not sampler.keep("e", s2, 3)  # both remembered
    assert sampler.keep("e", s3, 4)  # new: kept over budget, s1 forgotten
    assert not sampler.keep("e", s3, 5)
    assert sampler.keep("e", s1, 6)  # forgotten: new again


def test_the_default_bounds():
    sampler = Sampler(budget=1)
    assert (sampler.max_endpoints, sampler.max_shapes) == (10_000, 1024)
    same = shape_digest("same")
    for n in range(10_000):
        sampler.keep(f"e{n}", same, 0)
    assert len(sampler._endpoints) == 10_000
    sampler.keep("one more", same, 0)
    assert len(sampler._endpoints) == 10_000 and "e0" not in sampler._endpoints


def test_a_body_shape_survives_a_round_trip_through_json_text():
    document = {"id": 5, "items": [{"sku": "A"}]}
    data = json.dumps(document).encode()
    assert body_shape(JSON, data, False) == body_shape(JSON, data, False, document=document)


def test_a_change_of_hour_either_way_starts_a_new_count():
    # flows finish out of order around hh:00: an earlier hour is another hour too
    sampler = Sampler(budget=1)
    same = shape_digest("same")
    assert sampler.keep("e", same, 7300)
    assert not sampler.keep("e", same, 7301)
    assert sampler.keep("e", same, 7100)  # hour 1 after hour 2: counted afresh
