"""Which version a section of a model file pins: the alias (or stage) it names, looked up in the
same file's `aliases` (or `versions`), never in the registry. `serving:` serves that version and
`monitoring:` judges it, so both follow a reviewed change of the file and nothing else. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import DesiredStateError
from reconciler.state import DesiredModel


class ServingError(DesiredStateError):
    """A section names an alias or stage its file does not set."""


def pin_problem(model: DesiredModel, section: str, doc: Mapping[str, Any]) -> str | None:
    """What is wrong with the alias or stage a schema-valid `section` names (None: it pins a version)."""
    at = model.origin.at
    if "alias" in doc:
        aliases = model.aliases or {}
        if doc["alias"] in aliases:
            return None
        known = ", ".join(sorted(aliases)) or "none"
        return (
            f"{at(section, 'alias')}: {section}.alias {doc['alias']!r} is not set in this file's aliases "
            f"(set: {known}); add it under aliases or name one of those"
        )
    holders = _stage_holders(model, doc["stage"])
    if len(holders) == 1:
        return None
    found = "no version" if not holders else "versions " + ", ".join(map(str, holders))
    return (
        f"{at(section, 'stage')}: {section}.stage {doc['stage']!r}: {found} of this file is in it; "
        "put exactly one version in that stage, or name an alias"
    )


def pinned_version(model: DesiredModel, doc: Mapping[str, Any], section: str = "serving") -> int:
    """The version a schema-valid `section` (`{alias: ...}` or `{stage: ...}`) names in `model`'s file."""
    problem = pin_problem(model, section, doc)
    if problem is not None:
        raise ServingError(problem)
    return int((model.aliases or {})[doc["alias"]]) if "alias" in doc else _stage_holders(model, doc["stage"])[0]


def _stage_holders(model: DesiredModel, stage: str) -> list[int]:
    return sorted(n for n, v in model.versions.items() if v.values.get("stage") == stage)
