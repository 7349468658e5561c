"""``freshmock verify``: check the mocks a team already has against today's traffic.

Readers (one module per format) turn mock files into ``MockInteraction``s:
what each mocked exchange claims about the dependency (method, path, status,
media type, a claim node for the body). ``matching`` files each under the
endpoint the store observed, ``verdicts`` compares it with what the
dependency does today through the drift rules ``diff`` uses (breaking →
stale, risky/additive → incomplete), ``report`` renders the findings and
``fix`` rewrites the stale parts of WireMock mappings and VCR cassettes.
"""
