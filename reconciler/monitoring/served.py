"""Which version a model file serves, and which it replaced. The served version is the one the
alias `monitoring.alias` names in the file, resolved as `serving:` resolves it (reconciler.serving:
pinned_version), never from the registry: what merged is what serves.
`promotions` is pure: the audit journal's entries in, the last applied move of each alias out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.apply.audit import Audit
from reconciler.apply.journal import Entry
from reconciler.serving import pinned_version
from reconciler.state import DesiredModel


def served_version(model: DesiredModel) -> int | None:
    if model.monitoring is None:
        return None
    return pinned_version(model, {"alias": model.monitoring.alias}, "monitoring")


@dataclass(frozen=True)
class Promotion:
    """The applied change that gave `alias` to `version`; `previous` held it before (None: nobody)."""

    model: str
    alias: str
    version: int
    previous: int | None
    run_id: str  # the journal run of that apply
    audit: Audit


def promotions(entries: Iterable[Entry], wanted: Mapping[str, tuple[str, int]]) -> dict[str, Promotion]:
    """`wanted`: model -> (alias, version served). Entries newest first; the newest match wins."""
    found: dict[str, Promotion] = {}
    for entry in entries:
        for c in entry.applied():
            a = c.address
            want = wanted.get(a.model)
            if want is None or a.model in found or a.field != "alias" or a.key != want[0]:
                continue
            if c.after is not None and int(c.after) == want[1]:
                previous = int(c.before) if c.before is not None else None
                found[a.model] = Promotion(a.model, want[0], want[1], previous, entry.run_id, entry.audit)
    return found
