"""Serving follows the file: the commands that serve a pinned version (`commands.py`) and a local
scoring server for demos (`local.py`). The `serving:` section itself, its schema and the resolver
that maps it to the pinned version, live with the other model-file readers in `files/serving.py`;
they are re-exported here for callers (infra/, the health and smoke checks)."""

from reconciler.files.serving import RuntimeImage, Served, ServingError, load_served, pinned_version, served_models

__all__ = ["RuntimeImage", "Served", "ServingError", "load_served", "pinned_version", "served_models"]
