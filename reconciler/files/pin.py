"""The version a model file's `serving:` section pins, from the file alone: the alias (or stage) it
names, looked up in the same file. Checked with every file (desired.load_file) and used by the
stack (serving.py). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import DesiredStateError
from reconciler.state import DesiredModel


class ServingError(DesiredStateError):
    """A `serving:` section names something its file does not set."""


def pinned_version(model: DesiredModel, serving: Mapping[str, Any]) -> int:
    """The version a schema-valid `serving:` section names in `model`'s file."""
    at = model.origin.at
    if "alias" in serving:
        alias = serving["alias"]
        aliases = model.aliases or {}
        if alias not in aliases:
            known = ", ".join(sorted(aliases)) or "none"
            raise ServingError(
                f"{at('serving', 'alias')}: serving.alias {alias!r} is not set in this file's aliases "
                f"(set: {known}); add it under aliases or serve one of those"
            )
        return int(aliases[alias])
    stage = serving["stage"]
    holders = sorted(n for n, v in model.versions.items() if v.values.get("stage") == stage)
    if len(holders) != 1:
        found = "no version" if not holders else "versions " + ", ".join(map(str, holders))
        raise ServingError(
            f"{at('serving', 'stage')}: serving.stage {stage!r}: {found} of this file is in it; "
            "put exactly one version in that stage, or serve an alias"
        )
    return holders[0]
