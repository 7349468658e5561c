"""A body without a media type is sniffed: XML by its `<?xml` declaration (after any
leading whitespace), so a secret under an XML element name is redacted there too.

A mutation run found the sniff unguarded (comparing six bytes instead of five never
matched and nothing failed)."""

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
