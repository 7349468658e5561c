"""Publishing: clean JSON Schema from statistics, claims only past their thresholds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from datetime import datetime
from unittest.mock import patch
from urllib.parse import urlsplit

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from freshmock.generators.model.schema import observe, publish_document
from freshmock.generators.model.schema import publish as publish_module
from freshmock.generators.model.schema.formats import DETECTORS
from freshmock.generators.model.schema.publish import publish
from freshmock.generators.model.schema.thresholds import (
    ENUM_MAX_VALUES,
    ENUM_MIN_SAMPLES,
    FORMAT_MIN_SAMPLES,
    MAP_MAX_PROPERTIES,
    REQUIRED_MIN_SAMPLES,
)

SAMPLES = "x-freshmock-samples"


def schema_of(bodies) -> dict:
    node: dict = {}
    for body in bodies:
        observe(node, body)
    return publish(node)


# -- every observed body validates against the schema published from it --------


def _rfc3339(value: str) -> bool:
    """An oracle independent of the detector: the standard library's parser."""
    if not isinstance(value, str):
        return True  # formats constrain strings only
    upper = value.upper()
    if "T" not in upper:
        return False
    return datetime.fromisoformat(upper.replace("Z", "+00:00")).tzinfo is not None


def _absolute_uri(value: str) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc) and value.isascii() and value.isprintable() and (
        " " not in value
    )


FORMAT_CHECKER = FormatChecker()
FORMAT_CHECKER.checks("date-time", raises=ValueError)(_rfc3339)
FORMAT_CHECKER.checks("uri", raises=ValueError)(_absolute_uri)


def assert_all_valid(schema: dict, bodies) -> None:
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    for body in bodies:
        errors = list(validator.iter_errors(body))
        assert not errors, (body, errors[0].message, json.dumps(schema, indent=1))


FORMATTED = st.sampled_from(
    [
        "",
        "2026-11-03T10:00:00Z",
        "2026-11-03T23:59:59.999999999-08:00",
        "2026-11-03",
        "7b6f3c2e-4a1d-4c8e-9f00-1234567890ab",
        "ada@example.com",
        "https://api.example.com/v1/users?page=2#top",
        "http://[::1]:8080/",
        "10.0.0.1",
        "open",
        "closed",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
    | FORMATTED
)
KEYS = (
    st.sampled_from(["id", "name", "at", "tags", "meta"])
    | st.integers(0, 20).map(str)
    | st.uuids().map(str)
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=24,
)
BODIES = st.lists(JSON_VALUES, min_size=1, max_size=20)


@contextmanager
def claims_from_one_sample():
    """Every claim made as soon as possible, so the property covers each of them."""
    with (
        patch.object(publish_module, "REQUIRED_MIN_SAMPLES", 1),
        patch.object(publish_module, "FORMAT_MIN_SAMPLES", 1),
        patch.object(publish_module, "ENUM_MIN_SAMPLES", 1),
    ):
        yield


def _every_observed_body_validates_against_its_published_schema(bodies):
    node: dict = {}
    for body in bodies:
        observe(node, body)
    assert_all_valid(publish_document(node), bodies)
    with claims_from_one_sample():
        eager = publish_document(node)
    assert_all_valid(eager, bodies)
    text = json.dumps(eager)
    for keyword in ('"format"', '"enum"', '"required"', '"additionalProperties"', '"anyOf"'):
        event(f"claims {keyword}: {keyword in text}")


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(bodies=BODIES)
def test_every_observed_body_validates_against_its_published_schema(bodies):
    _every_observed_body_validates_against_its_published_schema(bodies=bodies)


# The same property in `make test` on fewer examples; `make test-slow` runs all of them.
@settings(max_examples=40, deadline=None)
@given(bodies=BODIES)
def test_every_observed_body_validates_against_its_published_schema_in_brief(bodies):
    _every_observed_body_validates_against_its_published_schema(bodies=bodies)


@settings(max_examples=300, deadline=None)
@given(
    value=st.from_regex(
        r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
        r"([Zz]|[+-][0-9]{2}:[0-9]{2}))?\Z"
    )
    | st.from_regex(r"\A[a-z]{1,5}://[a-zA-Z0-9.:%\[\]@ -]{0,12}(/[a-z0-9/?#%=&]{0,10})?\Z")
    | st.from_regex(r"\A[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\Z")
    | st.uuids().map(str)
    | st.emails()
    | st.text(max_size=40)
)
def test_detectors_never_accept_what_a_validator_rejects(value):
    """Near-misses included: a claimed format must hold under jsonschema's checks."""
    for name, detect in DETECTORS.items():
        if detect(value):
            assert FORMAT_CHECKER.conforms(value, name), (name, value)


# -- claims and their thresholds ------------------------------------------------


def test_format_needs_enough_values_all_matching():
    stamps = [f"2026-11-03T10:00:{second:02d}Z" for second in range(FORMAT_MIN_SAMPLES)]
    assert schema_of(stamps) == {"type": "string", "format": "date-time"}
    too_few = schema_of(stamps[:-1])
    assert "format" not in too_few and too_few[SAMPLES] == FORMAT_MIN_SAMPLES - 1
    assert schema_of([*stamps, "soon"]) == {"type": "string"}


def test_empty_strings_do_not_retract_a_format_and_still_validate():
    values = [f"user{n}@example.com" for n in range(FORMAT_MIN_SAMPLES)] + ["", ""]
    schema = schema_of(values)
    assert schema == {"type": "string", "anyOf": [{"format": "email"}, {"const": ""}]}
    assert_all_valid(schema, values)
    only_empty = schema_of([""] * FORMAT_MIN_SAMPLES)
    assert "format" not in only_empty and "anyOf" not in only_empty


def test_enum_only_for_few_values_over_many_observations():
    states = ["open", "closed", "merged"]
    many = [states[n % 3] for n in range(ENUM_MIN_SAMPLES)]
    assert schema_of(many) == {"type": "string", "enum": ["closed", "merged", "open"]}
    assert "enum" not in schema_of(many[:-1])
    varied = [f"v{n % (ENUM_MAX_VALUES + 1)}" for n in range(ENUM_MIN_SAMPLES)]
    assert "enum" not in schema_of(varied)
    nullable = schema_of([*many, None])
    assert nullable == {"type": ["string", "null"], "enum": ["closed", "merged", "open", None]}
    assert "enum" not in schema_of([*many, 7]), "a mixed-type field is no enumeration"


def test_formatted_values_are_data_not_an_enumeration():
    days = [f"2026-11-0{1 + n % 3}" for n in range(ENUM_MIN_SAMPLES)]
    assert schema_of(days) == {"type": "string", "format": "date"}


def test_required_only_past_the_threshold_with_the_sample_count_below_it():
    bodies = [{"id": n, "name": "x"} if n % 2 else {"id": n} for n in range(REQUIRED_MIN_SAMPLES)]
    schema = schema_of(bodies)
    assert schema["required"] == ["id"] and SAMPLES not in schema
    thin = schema_of(bodies[:10])
    assert "required" not in thin and thin[SAMPLES] == 10
    nested = schema_of([{"items": [{"sku": "a"}, {"sku": "b", "qty": 1}]}] * 150)
    item = nested["properties"]["items"]["items"]
    assert item["required"] == ["sku"], "300 nested objects were seen"


def test_id_keyed_objects_become_additional_properties():
    by_integer = schema_of([{"users": {"17": {"name": "a"}, "42": {"name": "b", "age": 3}}}])
    users = by_integer["properties"]["users"]
    assert set(users) == {"type", "additionalProperties"}
    assert users["additionalProperties"]["properties"].keys() == {"name", "age"}
    for keys in (
        ["7b6f3c2e-4a1d-4c8e-9f00-1234567890ab", "0b6f3c2e-4a1d-4c8e-9f00-1234567890ab"],
        ["5f2b9c0e1a3d", "deadbeef01"],
    ):
        assert "additionalProperties" in schema_of([{key: 1 for key in keys}])
    assert "properties" in schema_of([{"17": 1, "name": "x"}]), "one named key: a record"
    assert "properties" in schema_of([{"decade": 1, "face": 2}]), "hex-looking words"


def test_objects_with_very_many_distinct_keys_become_additional_properties():
    bodies = [{f"user-{n}-{m}": {"score": m} for m in range(3)} for n in range(MAP_MAX_PROPERTIES)]
    schema = schema_of(bodies)
    assert schema == {
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "properties": {"score": {"type": "integer"}},
            "required": ["score"],  # 3 * MAP_MAX_PROPERTIES objects were seen
        },
    }


def test_unions_the_openapi_3_1_way():
    assert schema_of(["a", None]) == {"type": ["string", "null"]}
    assert schema_of([None]) == {"type": "null"}
    assert schema_of([1, 2.5, True]) == {"type": ["boolean", "number"]}
    assert schema_of([[1], None]) == {"type": ["array", "null"], "items": {"type": "integer"}}
    assert schema_of([{}, None]) == {"type": ["object", "null"]}
    assert schema_of([{"a": 1}, [1], None, "x"]) == {
        "anyOf": [
            {"type": ["string", "null"]},
            {"type": "array", "items": {"type": "integer"}},
            {"type": "object", "properties": {"a": {"type": "integer"}}, SAMPLES: 1},
        ]
    }
    assert schema_of([{}, [], None]) == {
        "anyOf": [{"type": "array"}, {"type": "object"}, {"type": "null"}]
    }
    assert schema_of([]) == {}


@settings(max_examples=100, deadline=None)
@given(bodies=BODIES, data=st.data())
def test_publishing_ignores_arrival_order(bodies, data):
    shuffled = data.draw(st.permutations(bodies))
    with claims_from_one_sample():
        assert json.dumps(schema_of(bodies)) == json.dumps(schema_of(shuffled))


def test_published_bytes_do_not_depend_on_the_hash_seed():
    program = (
        "import json\n"
        "from freshmock.generators.model.schema import observe, publish_document\n"
        "from freshmock.generators.model.schema import publish as p\n"
        "p.ENUM_MIN_SAMPLES = p.REQUIRED_MIN_SAMPLES = 1\n"
        "node = {}\n"
        "for n in range(40):\n"
        "    observe(node, {'k%d' % (n * 7 % 13): 's%d' % (n % 9), 'z': n % 3 or None,\n"
        "                   'mixed': [{'a': 1}, 'x', [n]][n % 3], 'mid': n})\n"
        "print(json.dumps(publish_document(node)))\n"  # no sort_keys: our own order counts
    )
    outputs = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
    schema = json.loads(outputs.pop())
    assert list(schema["properties"]) == sorted(schema["properties"])
    assert schema["properties"]["k0"]["enum"] == sorted(schema["properties"]["k0"]["enum"])
