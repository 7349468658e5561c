"""Text-body redaction edges a mutation run found unguarded.

A body without a media type is sniffed: XML by its `<?xml` declaration (after any
leading whitespace), so a secret under an XML element name is redacted there too
(comparing six bytes instead of five never matched, and nothing failed). In text
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
