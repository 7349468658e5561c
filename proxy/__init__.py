"""What runs in the sidecar: capture from mitmproxy, redaction, and the SQLite store.

Imported as ``freshmock.proxy``. Nothing here imports ``freshmock.generators``.
"""
