"""Serving follows the file: the commands that serve a pinned version (`commands.py`) and a local
scoring server for demos (`local.py`). The `serving:` section and its schema live with the other
model-file readers in `files/serving.py`, the resolver that maps it (or `monitoring:`) to the
pinned version in `files/pins.py`; they are re-exported here for callers (infra/, health, smoke)."""

from reconciler.files.pins import ServingError, pinned_version
from reconciler.files.serving import RuntimeImage, Served, load_served, served_models

__all__ = ["RuntimeImage", "Served", "ServingError", "load_served", "pinned_version", "served_models"]
