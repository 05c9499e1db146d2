"""Serving follows the file: a model file's `serving:` section, resolved to a pinned version."""
