"""Text-body redaction edges a mutation run found unguarded.

A body without a media type is sniffed: markup by its first `<` (after any leading
whitespace), so a secret under an XML element name is redacted there too, with or
without a `<?xml` declaration (sniffing only the declaration let
`<r><Password>hunter2</Password></r>` reach the store as it came). In text
that is not parseable JSON, a secret-named JSON pair keeps its quotes, and an empty
secret stays empty (nothing to hide), however the closing quote is found."""

from __future__ import annotations

from freshmock.proxy.redaction import Redactor

XML = b'<?xml version="1.0"?><r><SessionToken>short</SessionToken></r>'


def test_xml_without_a_media_type_is_redacted_as_xml():
    redactor = Redactor()
    assert redactor.redact_body("", b"\n " + XML) == (
        b'\n <?xml version="1.0"?><r><SessionToken>REDACTED</SessionToken></r>')
    assert redactor.redact_body("", XML) == (
        b'<?xml version="1.0"?><r><SessionToken>REDACTED</SessionToken></r>')


def test_a_declared_media_type_wins_over_sniffing():
    # plain text is scanned for secret-looking values only: "short" under a tag is kept
    assert Redactor().redact_body("text/plain", XML) == XML


def test_json_pairs_in_text_keep_their_quotes_and_an_empty_secret_stays_empty():
    redactor = Redactor()
    cut = b'{"password": "", "token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "x": 1'
    assert redactor.redact_body("text/plain", cut) == (
        b'{"password": "", "token": "<redacted:jwt>", "x": 1')
    assert redactor.redact_body("text/plain", b'say {"password": "hunter2"} end') == (
        b'say {"password": "<redacted>"} end')


JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


def test_an_undeclared_body_opening_like_json_is_redacted_as_json_and_text_as_text():
    body = b'{"password": "hunter2", "n": 1}'
    redactor = Redactor()
    # parsed and re-serialised compactly: JSON redaction decided it
    assert redactor.redact_body("", body) == b'{"password":"<redacted>","n":1}'
    assert redactor.redact_body("", b"  " + body) == b'{"password":"<redacted>","n":1}'
    # a declared text type is scanned as text: its spacing stays
    assert redactor.redact_body("text/plain", body) == b'{"password": "<redacted>", "n": 1}'


def test_a_document_too_deep_to_walk_is_redacted_as_text():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    body = f'{{"note": "bearer {JWT}"}}'.encode()
    redacted = Redactor().redact_body("application/json", body, document=deep)
    assert redacted == b'{"note": "<redacted:bearer>"}'  # scanned as text: spacing kept


def test_a_nameless_cookie_is_redacted_whole():
    (header,) = Redactor().redact_headers([(b"Cookie", b"theme=dark; s3cr3tsessionvalue")])
    assert header == ["Cookie", "theme=<redacted>; <redacted>"]


def test_a_bare_query_value_that_is_a_secret_is_redacted_whatever_it_starts_with():
    redactor = Redactor()
    assert redactor.redact_query("4111111111111111") == "<redacted:card>"
    assert redactor.redact_query(JWT) == "<redacted:jwt>"
    assert redactor.redact_query("plain") == "plain"


def test_every_query_pair_is_redacted_after_an_empty_or_kept_one():
    from freshmock.proxy.redaction_config import RedactionRules

    redactor = Redactor(RedactionRules(keep=frozenset({"trace"})))
    assert redactor.redact_query("a=&token=abc123&b=2") == "a=&token=<redacted>&b=2"
    # a kept name keeps its value, even one that looks like a token; the next is read
    assert redactor.redact_query(f"trace={JWT}&token=abc123") == f"trace={JWT}&token=<redacted>"


def test_is_secret_name_says_which_field_names_are_secret():
    from freshmock.proxy.redaction import is_secret_name

    assert is_secret_name("password") and is_secret_name("X-Api-Key")
    assert not is_secret_name("name") and not is_secret_name("created_at")


def test_undeclared_xml_without_a_declaration_is_redacted_by_element_names():
    redactor = Redactor()
    for body in (b"<r><Password>hunter2</Password></r>",
                 b"  <!-- a comment --><r><Password>hunter2</Password></r>",
                 b"<r><Password>hunter2</Password>"):  # cut at the cap
        assert b"hunter2" not in redactor.redact_body("", body)
    html = b'<!DOCTYPE html><html><body><p>Password</p><input value="x"><br></body></html>'
    assert redactor.redact_body("", html) == html  # nothing secret: the same bytes
    assert redactor.redact_body("", b"plain <b>text</b>") == b"plain <b>text</b>"


def test_a_name_of_up_to_64_characters_is_read_before_an_equals_sign():
    from freshmock.proxy.secret_patterns import replace_named_pairs

    def replaced(text: str) -> str:
        return replace_named_pairs(text, lambda name: True, lambda value: "S")

    assert replaced("&" + "n" * 64 + "=1") == "&" + "n" * 64 + "=S"
    assert replaced("n" * 64 + "=1") == "n" * 64 + "=S"  # at the very start
    assert replaced("&" + "n" * 63 + "=1") == "&" + "n" * 63 + "=S"
    # longer is no name (_QUERY_NAME), and a run with no delimiter within reach is none
    assert replaced("&" + "n" * 65 + "=1") == "&" + "n" * 65 + "=1"
    assert replaced("x" * 70 + "id=5") == "x" * 70 + "id=5"


def test_an_unterminated_secret_json_string_keeps_its_kind():
    # a body cut at the cap: the closing quote is gone, every character is the secret's
    body = f'{{"token": "{JWT}'.encode()
    assert Redactor().redact_body("text/plain", body) == b'{"token": "<redacted:jwt>"'


def test_a_basic_credential_of_letters_only_is_redacted_by_its_base64():
    body = b"Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l"  # aladdin:opensesame
    assert Redactor().redact_body("text/plain", body) == b"Authorization: <redacted:basic>"
    assert Redactor().redact_body("text/plain", b"Basic authentication") == (
        b"Basic authentication")
    # 16 characters (user:passwrd): base64 comes in fours, not threes
    assert Redactor().redact_body("text/plain", b"Authorization: Basic dXNlcjpwYXNzd3Jk") == (
        b"Authorization: <redacted:basic>")


def test_a_card_number_has_13_to_19_digits():
    from freshmock.proxy.secret_patterns import luhn_ok

    assert luhn_ok("411111111109")  # 12 digits that pass Luhn: an order number, not a card
    assert Redactor().redact_body("text/plain", b"order 4111 1111 1109") == (
        b"order 4111 1111 1109")
    assert Redactor().redact_body("text/plain", b"card 4111 1111 1111 1111") == (
        b"card <redacted:card>")
    # 20 digits that pass Luhn, whose 16-digit prefix does not: too long for a card
    assert luhn_ok("41111111111111120009") and not luhn_ok("4111111111111112")
    assert Redactor().redact_body("text/plain", b"ref 4111 1111 1111 1112 0009") == (
        b"ref 4111 1111 1111 1112 0009")


def test_only_a_whole_marker_counts_as_redacted():
    from freshmock.proxy.secret_patterns import is_redacted

    assert is_redacted("<redacted>") and is_redacted("Bearer <redacted:jwt>")
    assert not is_redacted("<redactedX") and not is_redacted("a <redacted")


def test_trailing_qualifiers_are_dropped_one_after_another():
    from freshmock.proxy.redaction import is_secret_name

    for name in ("password_hash", "password_hash_value", "token_value_hash", "pin_hash",
                 "passwordConfirmation"):
        assert is_secret_name(name), name
    for name in ("hash", "value", "name_value", "user_name"):  # a qualifier alone is no secret
        assert not is_secret_name(name), name
    assert Redactor().redact_body("application/json", b'{"password_hash_value": "x1"}') == (
        b'{"password_hash_value":"<redacted>"}')


def test_a_basic_credential_that_is_not_utf8_is_left_as_it_is():
    body = b"Basic //79/Pv6"  # base64 of six bytes that are not UTF-8: no password text
    assert Redactor().redact_body("text/plain", body) == body


def test_an_undeclared_text_body_keeps_angle_markers_and_markup_gets_xml_ones():
    assert Redactor().redact_body("", f"1 {JWT}".encode()) == b"1 <redacted:jwt>"
    assert Redactor().redact_body("", f"<a>{JWT}</a>".encode()) == b"<a>REDACTED-jwt</a>"
