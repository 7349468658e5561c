"""The embedded demo: a small JSON dependency, and the traffic that exercises it."""
