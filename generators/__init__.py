"""What runs after capture: inference, emitters with their templates, and the CLI.

Imported as ``freshmock.generators``; reads the store through ``freshmock.proxy.store``.
"""
