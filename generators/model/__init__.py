"""The published model: path templates, inference, schemas, exemplars, windows."""
