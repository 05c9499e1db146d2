"""MLflow's model-version stages (deprecated in MLflow since 2.9, still supported), the one enum
every layer uses; reconciler.state re-exports it."""

from __future__ import annotations

from enum import Enum


class Stage(str, Enum):
    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"
