"""The redaction engine: every place a secret travels, every kind, the user's rules.

End to end through the real proxy: tests/test_secret_corpus.py.
"""

from __future__ import annotations

import json
import pickle
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from freshmock.generators.workflows.demo.service import ORDERS, USERS
from freshmock.proxy.redaction import (
    REDACTED,
    RedactionConfigError,
    RedactionRules,
    Redactor,
    count_redacted,
    default_rules,
    is_redacted,
    load_rules,
    redact_body,
    redact_headers,
    redact_query,
)
from freshmock.proxy.secret_patterns import looks_secret_name, luhn_ok, normalise_name

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
    ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"
    "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm\n"
    "-----END RSA PRIVATE KEY-----"
)
BASIC = "Basic YWxhZGRpbjpvcGVuc2VzYW1l"  # aladdin:opensesame
BEARER = "Bearer 0b79bab50daca910b000d4f1a2b675d604257e42"
CARDS = {
    "visa": "4111111111111111",
    "visa spaced": "4111 1111 1111 1111",
    "mastercard dashed": "5555-5555-5555-4444",
    "amex grouped": "3782 822463 10005",
    "amex": "378282246310005",
    "discover": "6011111111111117",
    "19 digits": "6011000990139424124",
}
# Values that look like data a schema depends on, never like secrets.
SURVIVORS = {
    "uuid": "550e8400-e29b-41d4-a716-446655440000",
    "digit-only uuid": "22345678-2234-2234-2234-223456789012",
    "iso timestamp": "2026-03-14T09:26:53.589793Z",
    "offset timestamp": "2026-03-14T09:26:53+01:00",
    "epoch ms string": "1700000000012",  # passes Luhn, but starts with 1
    "snowflake id": "1234567890123456789",
    "price": "1234.56",
    "big price": "4111111111111.11",
    "order id": "ORD-2026-000123",
    "short digits": "424242",
    "12 digits": "411111111111",
    "luhn-failing 16 digits": "4111111111111112",
    "phone": "+4915112345679",
    "sku": "SKU-4111-1111",
    "date range": "2026-01-15/2026-02-15",
    "prose": "Basic information about Bearer authentication",
    "token_type value": "Bearer",
    "base64 image prefix": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB",
    "email": "alice@example.test",
}


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor()


def body(redactor: Redactor, document, media_type: str = "application/json"):
    return json.loads(redactor.redact_body(media_type, json.dumps(document).encode()))


# --- names ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "password", "Password", "new_password", "passwordConfirmation", "password_hash",
        "passwd", "secret", "client_secret", "clientSecret", "CLIENT-SECRET", "token",
        "access_token", "accessToken", "refresh_token", "id_token", "api_key", "apiKey",
        "API-KEY", "x-api-key", "private_key", "privateKey", "aws_secret_access_key", "ssn",
        "card_number", "cardNumber", "credit_card", "cvv", "CVV2", "cvc", "pin", "session",
        "session_id", "sessionId", "x-hub-signature-256", "credentials", "user[password]",
        "X-Auth-Token", "x-csrf-token", "otp",
    ],
)  # fmt: skip
def test_secret_names_are_recognised_in_any_spelling(name):
    assert looks_secret_name(normalise_name(name))


@pytest.mark.parametrize(
    "name",
    [
        # Metadata about a secret is not the secret: OAuth's token_type ("Bearer")
        # and expires_in, timestamps and policies keep their real values.
        "token_type", "tokenType", "expires_in", "token_expires_at", "password_changed_at",
        "password_policy", "secret_question", "id", "user_id", "author", "authority",
        "session_count", "sessions", "key", "monkey", "keyboard", "description", "tokenizer",
        "signature_algorithm", "passenger", "compass", "spinner", "pinned", "company",
        "Content-Type", "Sec-WebSocket-Key", "WWW-Authenticate",
    ],
)  # fmt: skip
def test_names_that_only_describe_a_secret_are_not_secret(name):
    assert not looks_secret_name(normalise_name(name))


# --- headers ----------------------------------------------------------------


def test_credential_headers_are_replaced_keeping_order_repeats_and_kind(redactor):
    fields = (
        (b"Host", b"api.example.test"),
        (b"Authorization", f"Bearer {JWT}".encode()),
        (b"Proxy-Authorization", BASIC.encode()),
        (b"X-Api-Key", b"k-0123456789"),
        (b"X-Trace", b"a"),
        (b"X-Trace", b"b"),
        (b"Access-Control-Allow-Credentials", b"true"),
    )
    assert redactor.redact_headers(fields) == [
        ["Host", "api.example.test"],
        ["Authorization", "<redacted:bearer>"],
        ["Proxy-Authorization", "<redacted:basic>"],
        ["X-Api-Key", REDACTED],
        ["X-Trace", "a"],
        ["X-Trace", "b"],
        ["Access-Control-Allow-Credentials", "true"],
    ]


def test_cookies_keep_their_names_and_attributes(redactor):
    fields = (
        (b"Cookie", b"sid=s3cr3t-cookie; theme=dark;  cart=42"),
        (
            b"Set-Cookie",
            b"sid=s3cr3t-cookie; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly",
        ),
        (b"Set-Cookie", b"empty=; Max-Age=0"),
    )
    assert redactor.redact_headers(fields) == [
        ["Cookie", "sid=<redacted>; theme=<redacted>;  cart=<redacted>"],
        ["Set-Cookie", "sid=<redacted>; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly"],
        ["Set-Cookie", "empty=; Max-Age=0"],
    ]


def test_secret_values_in_ordinary_headers_are_replaced(redactor):
    fields = (
        (b"X-Forwarded-Jwt", JWT.encode()),
        (b"X-Note", b"card 4111 1111 1111 1111, key " + AWS_KEY.encode()),
        (b"Location", b"https://app.example.test/cb?state=xyz#access_token=opaque123&x=1"),
        (b"Date", b"Wed, 21 Oct 2026 07:28:00 GMT"),
        (b"X-Request-Id", SURVIVORS["uuid"].encode()),
    )
    assert [value for _, value in redactor.redact_headers(fields)] == [
        "<redacted:jwt>",
        "card <redacted:card>, key <redacted:aws_access_key>",
        "https://app.example.test/cb?state=xyz#access_token=<redacted>&x=1",
        "Wed, 21 Oct 2026 07:28:00 GMT",
        SURVIVORS["uuid"],
    ]


def test_module_level_functions_still_work():
    assert redact_headers([(b"Authorization", b"secret-ish")]) == [["Authorization", REDACTED]]
    assert redact_query("access_token=query-secret-9999") == "access_token=<redacted>"
    assert redact_body("application/json", b'{"password":"x1"}') == b'{"password":"<redacted>"}'


# --- query ------------------------------------------------------------------


def test_query_values_under_secret_names_are_replaced_and_other_bytes_kept(redactor):
    query = "q=caf%C3%A9+au+lait&apiKey=k1&API-KEY=k2&api_key=k3&page=2&empty=&flag"
    assert redactor.redact_query(query) == (
        "q=caf%C3%A9+au+lait&apiKey=<redacted>&API-KEY=<redacted>&api_key=<redacted>"
        "&page=2&empty=&flag"
    )


def test_query_values_that_look_secret_are_replaced_under_any_name(redactor):
    query = f"id_hint={JWT}&next=https%3A%2F%2Fx.test%2F%3Ftoken%3Dabc&{JWT}&n={CARDS['visa']}"
    redacted = redactor.redact_query(query)
    assert dict(parse_qsl(redacted, keep_blank_values=True)) == {
        "id_hint": "<redacted:jwt>",
        "next": "https://x.test/?token=<redacted>",
        "<redacted:jwt>": "",
        "n": "<redacted:card>",
    }
    assert is_redacted(redacted) and not is_redacted("page=2")
    assert count_redacted(redacted) == 4 and count_redacted("a <redacted x") == 0


def test_a_query_without_secrets_is_returned_unchanged(redactor):
    query = "since=2026-03-14T09%3A26%3A53Z&order=ORD-2026-000123&price=1234.56&limit=50"
    assert redactor.redact_query(query) == query
    assert redactor.redact_query("") == ""


# --- bodies: JSON -------------------------------------------------------------


def test_secret_fields_at_any_depth_keep_their_json_type(redactor):
    document = {
        "user": {
            "id": 7,
            "password": "hunter2",
            "pin": 1234,
            "api_key": 3.5,
            "mfa_secret": True,
            "session": None,
            "token": "",
            "devices": [{"name": "phone", "refreshToken": "r-123"}, {"name": "tablet"}],
        },
        "credentials": {"user": "svc", "scopes": ["a", "b"], "nested": {"n": 5, "ok": True}},
        "tokens": [["t1", 2], {"kind": "x"}],
    }
    assert body(redactor, document) == {
        "user": {
            "id": 7,
            "password": "<redacted>",
            "pin": 0,
            "api_key": 0.0,
            "mfa_secret": False,
            "session": None,
            "token": "",
            "devices": [{"name": "phone", "refreshToken": "<redacted>"}, {"name": "tablet"}],
        },
        "credentials": {
            "user": "<redacted>",
            "scopes": ["<redacted>", "<redacted>"],
            "nested": {"n": 0, "ok": False},
        },
        "tokens": [["<redacted>", 0], {"kind": "<redacted>"}],
    }
    redacted = redactor.redact_body("application/json", json.dumps(document).encode())
    assert isinstance(json.loads(redacted)["credentials"]["nested"]["n"], int)
    assert isinstance(json.loads(redacted)["user"]["api_key"], float)


def test_secret_values_are_replaced_by_their_kind_wherever_they_are(redactor):
    document = {
        "note": f"forwarded {BEARER} today",
        "id_hint": JWT,
        "ssh": PEM,
        "deploy": [AWS_KEY, {"header": BASIC}],
        "cards": list(CARDS.values()),
        "access_token": JWT,
    }
    assert body(redactor, document) == {
        "note": "forwarded <redacted:bearer> today",
        "id_hint": "<redacted:jwt>",
        "ssh": "<redacted:private_key>",
        "deploy": ["<redacted:aws_access_key>", {"header": "<redacted:basic>"}],
        "cards": ["<redacted:card>"] * len(CARDS),
        "access_token": "<redacted:jwt>",
    }


def test_oauth_token_response_keeps_its_metadata(redactor):
    response = {
        "access_token": JWT,
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": "tGzv3JOkF0XG5Qx2TlKWIA",
        "scope": "read write",
    }
    assert body(redactor, response) == {
        "access_token": "<redacted:jwt>",
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": "<redacted>",
        "scope": "read write",
    }


def test_redacted_json_is_compact_and_keeps_key_order(redactor):
    data = b'{ "z": 1,\n  "password": "x",\n  "a": [1, 2],\n  "m": "caf\\u00e9" }'
    assert redactor.redact_body("application/json", data) == (
        '{"z":1,"password":"<redacted>","a":[1,2],"m":"café"}'.encode()
    )


def test_json_without_secrets_is_returned_byte_for_byte(redactor):
    data = json.dumps({"users": list(USERS.values()), "orders": list(ORDERS.values())}).encode()
    assert redactor.redact_body("application/json", data) is data


def test_vendor_json_types_and_top_level_arrays_are_redacted(redactor):
    data = json.dumps([{"client_secret": "s1"}, JWT]).encode()
    expected = [{"client_secret": "<redacted>"}, "<redacted:jwt>"]
    for media_type in ("application/json", "application/vnd.api+json", "application/problem+json"):
        assert json.loads(redactor.redact_body(media_type, data)) == expected


def test_a_map_keyed_by_secrets_is_renamed_without_losing_entries(redactor):
    document = {CARDS["visa"]: {"limit": 1}, CARDS["amex"]: {"limit": 2}, "<redacted:card>": 3}
    assert body(redactor, document) == {
        "<redacted:card>": {"limit": 1},
        "<redacted:card>#2": {"limit": 2},
        "<redacted:card>#3": 3,
    }


def test_json_that_does_not_parse_is_scanned_as_text(redactor):
    truncated = f'{{"password": "hunter2", "pin": 1234, "next": "/x?token=abc&p=2", "id": "{JWT}'
    assert redactor.redact_body("application/json", truncated.encode()).decode() == (
        '{"password": "<redacted>", "pin": 0, "next": "/x?token=<redacted>&p=2", '
        '"id": "<redacted:jwt>'
    )


def test_stringified_json_inside_a_string_is_redacted(redactor):
    document = {"payload": json.dumps({"password": "hunter2", "ok": True})}
    assert body(redactor, document) == {"payload": '{"password": "<redacted>", "ok": true}'}


# --- bodies: form, text, others ---------------------------------------------


def test_form_bodies_redact_secret_fields_and_keep_other_bytes(redactor):
    data = b"grant_type=password&username=alice&password=p%40ss&client_secret=s3&note=a+b%21"
    assert redactor.redact_body("application/x-www-form-urlencoded", data) == (
        b"grant_type=password&username=alice&password=<redacted>&client_secret=<redacted>"
        b"&note=a+b%21"
    )


@pytest.mark.parametrize(
    "media_type", ["text/plain", "text/html", "application/x-ndjson", ""]
)
def test_text_bodies_are_scanned_for_secret_values_and_pairs(redactor, media_type):
    text = (
        f"login ok\nAuthorization: {BASIC}\n{PEM}\njwt={JWT} password=hunter2 card {CARDS['visa']}."
    )
    assert redactor.redact_body(media_type, text.encode()).decode() == (
        "login ok\nAuthorization: <redacted:basic>\n<redacted:private_key>\n"
        "jwt=<redacted:jwt> password=<redacted> card <redacted:card>."
    )


@pytest.mark.parametrize("media_type", ["application/xml", "text/xml", "application/soap+xml"])
def test_xml_bodies_stay_well_formed_with_markers_in_text_and_attributes(redactor, media_type):
    """A marker inside XML is text, never markup: ``<redacted:jwt>`` would be an element
    with an unbound prefix, and a parser (boto3's, for STS) would refuse the whole body."""
    from xml.etree import ElementTree

    document = (
        '<?xml version="1.0"?><r:Result xmlns:r="urn:x"><r:Credentials>'
        f'<r:AccessKeyId>AKIAIOSFODNN7EXAMPLE</r:AccessKeyId>'
        '<r:SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</r:SecretAccessKey>'
        f'<r:SessionToken>short</r:SessionToken></r:Credentials>'
        f'<r:Note auth="{JWT}">note: password=hunter2 and {BASIC}</r:Note>'
        '<r:Account>123456789012</r:Account></r:Result>'
    )
    redacted = redactor.redact_body(media_type, document.encode()).decode()
    root = ElementTree.fromstring(redacted)  # raises if markup was broken
    ns = {"r": "urn:x"}
    assert root.find("r:Credentials/r:AccessKeyId", ns).text == "REDACTED-aws_access_key"
    assert root.find("r:Credentials/r:SecretAccessKey", ns).text == "REDACTED"
    assert root.find("r:Credentials/r:SessionToken", ns).text == "REDACTED"
    note = root.find("r:Note", ns)
    assert note.get("auth") == "REDACTED-jwt"
    assert note.text == "note: password=REDACTED and REDACTED-basic"
    assert root.find("r:Account", ns).text == "123456789012"  # not a secret: kept
    assert "<redacted" not in redacted and count_redacted(redacted) == 6
    assert is_redacted("REDACTED-aws_access_key") and not is_redacted("UNREDACTEDX")


def test_form_bodies_stay_decodable_after_redaction(redactor):
    from urllib.parse import parse_qsl

    data = b"Action=AssumeRole&Version=2011-06-15&Token=s3cr3t&RoleArn=arn%3Aaws%3Aiam"
    pairs = dict(parse_qsl(redactor.redact_body("application/x-www-form-urlencoded",
                                                data).decode(), strict_parsing=True))
    assert pairs == {"Action": "AssumeRole", "Version": "2011-06-15", "Token": "<redacted>",
                     "RoleArn": "arn:aws:iam"}


def test_other_media_types_and_empty_bodies_are_returned_unchanged(redactor):
    png = b"\x89PNG\r\n\x1a\n" + JWT.encode()
    assert redactor.redact_body("image/png", png) is png
    assert redactor.redact_body("application/octet-stream", png) is png
    assert redactor.redact_body("application/json", None) is None
    assert redactor.redact_body("application/json", b"") == b""


def test_a_truncated_private_key_is_redacted_to_the_end(redactor):
    cut = "key:\n" + PEM[:80]
    assert redactor.redact_body("text/plain", cut.encode()) == b"key:\n<redacted:private_key>"


def test_bodies_that_are_not_utf8_survive_byte_for_byte(redactor):
    data = b"caf\xe9 \xff\xfe " + CARDS["visa"].encode() + b" \x80"
    assert redactor.redact_body("text/plain", data) == b"caf\xe9 \xff\xfe <redacted:card> \x80"


# --- false positives ----------------------------------------------------------


@pytest.mark.parametrize("label", SURVIVORS)
def test_ordinary_values_survive(redactor, label):
    value = SURVIVORS[label]
    assert body(redactor, {"value": value, "list": [value]}) == {"value": value, "list": [value]}
    assert redactor.redact_query(f"value={value}") == f"value={value}"


def test_numbers_are_never_taken_for_card_numbers(redactor):
    document = {"id": 4111111111111111, "ts": 1700000000012, "amount": 5555555555554444.0}
    assert body(redactor, document) == document


def test_the_demo_service_data_survives_untouched(redactor):
    for document in [*USERS.values(), *ORDERS.values()]:
        data = json.dumps(document).encode()
        assert redactor.redact_body("application/json", data) is data


def test_card_rule_is_13_to_19_digits_starting_2_to_6_passing_luhn(redactor):
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert body(redactor, ["4222222222222"]) == ["<redacted:card>"]  # 13 digits, Luhn ok
    assert body(redactor, ["1111111111111117"]) == ["1111111111111117"]  # leading 1
    assert body(redactor, ["41111111111111111111"]) == ["41111111111111111111"]  # 20 digits
    assert body(redactor, ["4111 1111 1111 1111 2 items"]) == ["<redacted:card> 2 items"]


# --- the user's rules -----------------------------------------------------------


def write_config(tmp_path, text: str):
    path = tmp_path / "freshmock.toml"
    path.write_text(text)
    return path


def test_a_config_without_a_redaction_section_gives_the_defaults(tmp_path):
    path = write_config(tmp_path, '[record]\nservice = "users-api"\n')
    assert load_rules(path) == default_rules() == RedactionRules()


def test_config_extends_headers_fields_and_patterns_and_keep_wins(tmp_path):
    path = write_config(
        tmp_path,
        """
[redaction]
headers = ["X-Tenant-Key"]
fields = ["customer_ref", "IBAN"]
patterns = { stripe_ish = "sk_live_[0-9A-Za-z]{8,}", internal = "INT-[0-9]{6}" }
keep = ["next_page_token", "order_id", "theme"]
""",
    )
    redactor = Redactor(load_rules(path))
    assert redactor.redact_headers(
        [(b"x-tenant-key", b"t-1"), (b"Cookie", b"theme=dark; s=1")]
    ) == [
        ["x-tenant-key", REDACTED],
        ["Cookie", "theme=dark; s=<redacted>"],
    ]
    document = {
        "customerRef": "C-77",
        "iban": "DE89370400440532013000",
        "next_page_token": "opaque-cursor-1",
        "order_id": CARDS["visa"],  # an order id that happens to pass Luhn: the user keeps it
        "note": "charged with sk_live_abcdefgh12 ref INT-123456",
    }
    assert body(redactor, document) == {
        "customerRef": REDACTED,
        "iban": REDACTED,
        "next_page_token": "opaque-cursor-1",
        "order_id": CARDS["visa"],
        "note": "charged with <redacted:stripe_ish> ref <redacted:internal>",
    }
    assert redactor.redact_query("customer-ref=C-77&nextPageToken=abc") == (
        "customer-ref=<redacted>&nextPageToken=abc"
    )


def test_keep_applies_to_a_field_not_to_the_secrets_nested_below_it(tmp_path):
    redactor = Redactor(RedactionRules(keep=["metadata"]))
    document = {"metadata": {"token": "t-1", "labels": ["a"]}, "token": "t-2"}
    assert body(redactor, document) == {
        "metadata": {"token": REDACTED, "labels": ["a"]},
        "token": REDACTED,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[redaction]\npatterns = { broken = "sk_(live" }\n',
            "patterns.broken: regex does not compile",
        ),
        (
            '[redaction]\npatterns = { every = "x*" }\n',
            "patterns.every: regex matches the empty string",
        ),
        ("[redaction]\npatterns = { n = 3 }\n", "patterns.n: must be a regex string, got int"),
        ('[redaction]\npatterns = ["a"]\n', "patterns: must be a table"),
        ('[redaction]\nheader = ["X-Key"]\n', "unknown key 'header'; did you mean 'headers'?"),
        ("[redaction]\nscrub = true\n", "unknown key 'scrub'; known keys: fields, headers, keep"),
        ('[redaction]\nheaders = "X-Key"\n', "headers: must be a list of names, got str"),
        ("[redaction]\nfields = [1]\n", "fields: must be a list of names, found a int"),
        ("redaction = 3\n", "redaction must be a [redaction] table"),
        ("[redaction\n", "not valid TOML"),
    ],
)
def test_config_mistakes_are_one_line_errors_naming_file_and_key(tmp_path, text, expected):
    path = write_config(tmp_path, text)
    with pytest.raises(RedactionConfigError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message
    assert caught.value.__cause__ is None


def test_a_bad_pattern_is_never_quoted_in_the_error(tmp_path):
    path = write_config(tmp_path, '[redaction]\npatterns = { leaked = "sk_live_REALKEY(" }\n')
    with pytest.raises(RedactionConfigError) as caught:
        load_rules(path)
    assert "REALKEY" not in str(caught.value)


def test_a_missing_config_file_is_a_config_error(tmp_path):
    with pytest.raises(RedactionConfigError, match="no such file"):
        load_rules(tmp_path / "absent.toml")


def test_rules_built_in_code_are_validated_too():
    with pytest.raises(RedactionConfigError, match=r"^\[redaction\] patterns.x: regex does not"):
        RedactionRules(patterns={"x": "("})
    rules = RedactionRules(fields=["a"], patterns=[("k", "K-[0-9]+")])
    assert rules.fields == frozenset({"a"}) and rules.patterns == (("k", "K-[0-9]+"),)


def test_a_redactor_pickles_as_its_rules():
    redactor = Redactor(RedactionRules(fields=["customer_ref"]))
    copy = pickle.loads(pickle.dumps(redactor))
    assert copy.rules == redactor.rules
    assert copy.redact_query("customer_ref=1") == "customer_ref=<redacted>"


# --- properties -----------------------------------------------------------------

SECRET_VALUES = [JWT, AWS_KEY, PEM, BASIC, BEARER, *CARDS.values()]
NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
KEYS = st.sampled_from(
    ["password", "token", "apiKey", "card_number", "token_type", "id", "name", "items"]
) | st.text(alphabet=NAME_CHARS, max_size=12)  # too short to look like a secret value
STRINGS = (
    st.text()
    | st.sampled_from(SECRET_VALUES)
    | st.builds(
        lambda a, s, b: f"{a} {s} {b}", st.text(), st.sampled_from(SECRET_VALUES), st.text()
    )
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | STRINGS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=30,
)


def same_structure(before, after) -> bool:
    if isinstance(before, dict):
        return (
            isinstance(after, dict)
            and list(before) == list(after)
            and all(same_structure(before[key], after[key]) for key in before)
        )
    if isinstance(before, list):
        return (
            isinstance(after, list)
            and len(before) == len(after)
            and all(same_structure(b, a) for b, a in zip(before, after, strict=True))
        )
    return type(before) is type(after)


SHARED = Redactor()


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_redacting_any_json_keeps_its_structure_and_leaks_no_secret(document):
    data = json.dumps(document).encode()
    redacted = SHARED.redact_body("application/json", data)
    assert same_structure(document, json.loads(redacted))
    for secret in SECRET_VALUES:
        assert json.dumps(secret)[1:-1].encode() not in redacted


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]),
    st.binary(max_size=300) | STRINGS.map(str.encode),
)
def test_redacting_any_bytes_never_raises(media_type, data):
    assert isinstance(SHARED.redact_body(media_type, data), bytes)
