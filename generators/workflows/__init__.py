"""Workflows over the model, drift and targets: refresh, serve, pull, merge, check, verify."""
