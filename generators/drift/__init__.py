"""Drift: what changed between a baseline and the current model, on evidence."""
