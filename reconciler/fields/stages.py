"""The stage field: a version's model-registry stage (deprecated in MLflow since 2.9, still supported)."""

from __future__ import annotations

from typing import Any

from reconciler.fields import writes
from reconciler.fields.base import Field, Kind, Level
from reconciler.fields.fragments import STAGE
from reconciler.state import Stage


def _json(stage: Stage) -> dict[str, Any]:
    return {"current_stage": Stage(stage).value}


_TEXT = {s: s.value for s in Stage}  # a dict lookup: dumped for every version of a plan's fingerprint

STAGE_FIELD = Field(
    name="stage",
    file_key="stage",
    level=Level.VERSION,
    kind=Kind.SCALAR,
    schema={
        **STAGE,
        "description": "Model-registry stage (deprecated in MLflow since 2.9, still supported). "
        "Omit to leave it alone.",
    },
    read=lambda raw: Stage(raw.get("current_stage") or "None"),
    write=writes.stage,
    parse=Stage,
    dump=_TEXT.__getitem__,
    show=lambda s: repr(Stage(s).value),
    empty=Stage.NONE,
    demotes=lambda s: Stage(s) is Stage.ARCHIVED,
    import_always=True,
    read_entity=lambda v: Stage(v.current_stage or "None"),
    to_json=_json,
    guard="stages",
)
