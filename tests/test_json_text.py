"""parse_json (msgspec first) gives exactly what json.loads gives, or fails the same way."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from freshmock.proxy.json_text import INVALID, parse_json, parse_or_invalid


def same(a, b) -> bool:
    """Equal values of equal types all the way down (1 != 1.0 here; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) ==
                                                      math.copysign(1, b))
    return a == b


json_values = st.recursive(
    st.none() | st.booleans() | st.text()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_every_document_parses_as_json_loads_parses_it(value, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        expected = json.loads(text)
    except ValueError:
        assert parse_or_invalid(text) is INVALID
        return
    assert same(parse_json(text), expected)


@pytest.mark.parametrize("text", [
    b"18446744073709551616", b"-9223372036854775809", b"123456789012345678901234567890",
    b'{"a": 1, "a": 2, "b": 3}', b"1E400", b"-1e400", b"NaN", b"[Infinity, -Infinity]",
    b"-0", b"-0.0", b'"\\ud800"', b'"\\ud83d\\ude00"', b"\xef\xbb\xbf{}",
    '{"k": "v"}'.encode("utf-16"), b"1e-400", b"0.1e1", b" [1] \n",
])
def test_edge_cases_agree(text):
    assert same(parse_json(text), json.loads(text))


@pytest.mark.parametrize("text", [b"[1,]", b'{"a":1}x', b'"\x01"', b"", b"\xff", b"[" * 5000])
def test_what_json_loads_refuses_is_invalid(text):
    assert parse_or_invalid(text) is INVALID
