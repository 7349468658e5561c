"""JSON redaction at its edges, written to kill the mutants `make test-mutation` found
surviving in proxy/json_redaction.py (docs/mutation.md): values that sort before the
marker, bodies with nothing to redact, secrets as keys, at the top of an array, at
exactly the shortest detectable length, and short `name=value` strings.
"""

from __future__ import annotations

import json

import pytest

from freshmock.proxy.redaction import default_redactor

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWtleQ"


def redact(body: bytes) -> bytes:
    return default_redactor().redact_body("application/json", body)


def test_values_under_secret_names_are_replaced_whatever_they_compare_to():
    # "12345678" sorts before "<redacted>", -42 below 0: replaced all the same
    body = b'{"password": "12345678", "secret": -42, "otp": -1.5, "pin": true}'
    assert json.loads(redact(body)) == {"password": "<redacted>", "secret": 0, "otp": 0.0,
                                        "pin": False}


@pytest.mark.parametrize("body", [
    b'{ "id": 7, "name": "Ada", "tags": [ "x", "y" ], "nested": {"a": "b"} }',
    # keys long enough to be scanned (13+ characters) that hold nothing secret
    b'{"a_rather_long_field_name": 1, "created_at_timestamp": "2026-11-02"}',
    # under secret names, values that are already what redaction would write
    b'{ "pin": false, "secret": 0, "password": "" }',
    b'[ "plain", "strings", {"k": "v"} ]',
    b'"just a string"',
])
def test_a_body_with_nothing_to_redact_keeps_its_exact_bytes(body):
    assert redact(body) == body  # not even re-serialised: whitespace and order kept


def test_secret_looking_keys_are_renamed_and_ordinary_ones_kept():
    body = json.dumps({"owners": {JWT: {"n": 1}, "plain": {"n": 2}}}).encode()
    assert json.loads(redact(body)) == {"owners": {"<redacted:jwt>": {"n": 1},
                                                   "plain": {"n": 2}}}


def test_a_secret_at_the_top_of_an_array_is_redacted():
    assert json.loads(redact(json.dumps([JWT, "ok"]).encode())) == ["<redacted:jwt>", "ok"]


def test_a_secret_of_exactly_the_shortest_detectable_length_is_redacted():
    card = "4222222222222"  # 13 digits, Luhn-valid: the shortest value a detector matches
    assert len(card) == default_redactor()._values.min_length
    assert json.loads(redact(json.dumps({"ref": card}).encode())) == {"ref": "<redacted:card>"}
    assert json.loads(redact(json.dumps([card]).encode())) == ["<redacted:card>"]


@pytest.mark.parametrize("document", [["pwd=s3cret", "a"], "pwd=s3cret", {"note": "pwd=s3cret"},
                                      {"pwd=s3cret": 1}])
def test_a_short_name_value_pair_is_redacted_anywhere(document):
    redacted = json.loads(redact(json.dumps(document).encode()))
    assert "s3cret" not in json.dumps(redacted)
    assert "pwd=<redacted>" in json.dumps(redacted)


def test_a_secret_key_of_exactly_the_shortest_detectable_length_is_renamed():
    body = b'{"owners": {"4222222222222": 1}}'
    assert json.loads(redact(body)) == {"owners": {"<redacted:card>": 1}}


def test_a_redacted_body_with_a_lone_surrogate_escape_is_still_written():
    # "\ud800" parses to a lone surrogate that UTF-8 cannot encode: written as ASCII JSON
    body = b'{"password": "hunter22", "note": "\\ud800 x"}'
    assert redact(body) == b'{"password":"<redacted>","note":"\\ud800 x"}'
