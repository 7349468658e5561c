"""The pieces of verify that need no store: JSON spans for --fix, claims, path spellings."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from freshmock.generators.drift.shapes import compare_nodes
from freshmock.generators.model.schema import observe
from freshmock.generators.workflows.verify.claims import claim_from_schema, claim_from_value, fit_to
from freshmock.generators.workflows.verify.drift_calls import canonical_path
from freshmock.generators.workflows.verify.json_spans import (
    apply_edits,
    member_deletion,
    parse_spans,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=12)


@settings(max_examples=60)
@given(json_values, st.sampled_from([None, 2, 4]))
def test_spans_cover_exactly_each_value(value, indent):
    text = json.dumps(value, indent=indent)
    span = parse_spans(text)
    assert span.value == value
    assert text[span.start:span.end] == text.strip()
    for _, (key_start, child) in span.members.items():
        assert json.loads(text[child.start:child.end]) == child.value
        assert text[key_start] == '"'


@settings(max_examples=60)
@given(st.dictionaries(st.text(min_size=1, max_size=4), st.integers(), min_size=1, max_size=5),
       st.data(), st.sampled_from([None, 2]))
def test_cutting_any_member_leaves_valid_json_without_it(value, data, indent):
    text = json.dumps(value, indent=indent)
    key = data.draw(st.sampled_from(sorted(value)))
    span = parse_spans(text)
    start, end = member_deletion(text, span, key)
    after = json.loads(apply_edits(text, [(start, end, "")]))
    assert after == {k: v for k, v in value.items() if k != key}


def test_parse_spans_rejects_what_json_rejects():
    for bad in ('{"a": 1,}', '{"a" 1}', "[1 2]", '{"a": 1} x'):
        with pytest.raises(ValueError):
            parse_spans(bad)


@pytest.mark.parametrize(("path", "canonical"), [
    ("$.a.b", "$.a.b"), ("$.items[].sku", "$.items[].sku"), ("-", "-"), (None, "-"),
    ("", "$"), ("/customer/email", "$.customer.email"), ("/items/*/sku", "$.items[].sku"),
    ("/a~1b/~0c", "$.a/b.~c"),
])
def test_paths_of_either_drift_spelling_read_the_same(path, canonical):
    assert canonical_path(path) == canonical


def _objects(values, n=40):
    node: dict = {}
    for i in range(n):
        observe(node, values(i))
    return node


def test_a_nullable_optional_schema_field_absent_today_is_not_removed():
    schema = {"type": "object", "required": ["id"],
              "properties": {"id": {"type": "integer"},
                             "email": {"type": ["string", "null"]}}}
    today = _objects(lambda i: {"id": i})
    claim = fit_to(claim_from_schema(schema, resolve=lambda ref: {}), today)
    assert compare_nodes(claim, today) == []


def test_a_required_field_absent_today_is_removed_and_a_shown_one_never_seen_is_added():
    today = _objects(lambda i: {"id": i, "new": "x"})
    kinds = {(c.kind, canonical_path(c.path)) for c in compare_nodes(
        claim_from_value({"id": 1, "old": "y"}), today)}
    assert kinds == {("property-removed", "$.old"), ("property-added", "$.new")}


def test_a_mock_value_is_never_an_enumeration():
    today = _objects(lambda i: {"state": ["a", "b", "c"][i % 3]}, n=300)
    assert compare_nodes(claim_from_value({"state": "a"}), today) == []
