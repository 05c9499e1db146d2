"""A schema-valid model document <-> typed DesiredModel, driven by the field declarations; and the
contradictions a schema cannot express. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.fields import Field, Level, at
from reconciler.files.monitoring_section import check as monitoring_check
from reconciler.files.monitoring_section import monitoring, monitoring_document
from reconciler.files.review import review_block, review_document
from reconciler.files.smoke_section import smoke_document, smoke_settings
from reconciler.pointer import pointer
from reconciler.state import DesiredModel, DesiredVersion, Origin, Policy, Prune, Stage, frozen_map


def _values(fields: tuple[Field, ...], doc: Mapping[str, Any]) -> Mapping[str, Any]:
    return frozen_map({f.file_key: f.typed(doc[f.file_key]) for f in fields if f.file_key in doc})


def from_document(doc: Mapping[str, Any], origin: Origin) -> DesiredModel:
    """A schema-valid document (plain values; version keys as strings) -> DesiredModel."""
    version_fields = at(Level.VERSION)
    versions = {
        int(k): DesiredVersion(int(k), _values(version_fields, v or {})) for k, v in doc.get("versions", {}).items()
    }
    return DesiredModel(
        name=doc["name"],
        origin=origin,
        values=_values(at(Level.MODEL), doc),
        versions=frozen_map(versions),
        owners=tuple(doc.get("owners", ())),
        policy=_policy(doc.get("policy", {})),
        review=review_block(doc.get("review", {}), lambda *p: _where(origin, p)),
        smoke=smoke_settings(doc.get("smoke", {})),
        monitoring=monitoring(doc.get("monitoring")),
    )


def _where(origin: Origin, path: tuple[Any, ...]) -> str:
    return f"{origin.at(*path)}: {pointer(path)}"


def _policy(d: Mapping[str, Any]) -> Policy:
    return Policy(
        exclusive_stages=frozenset(Stage(s) for s in d.get("exclusive_stages", ())),
        keep_latest=d.get("keep_latest"),
        stage_aliases=frozen_map({Stage(s): a for s, a in d.get("stage_aliases", {}).items()}),
        prune=Prune(frozenset(flag for flag, on in d.get("prune", {}).items() if on)),
    )


def to_document(m: DesiredModel) -> dict[str, Any]:
    """DesiredModel -> the file format (plain values), omitting what the model leaves alone."""
    doc: dict[str, Any] = {"name": m.name}
    if m.owners:
        doc["owners"] = list(m.owners)
    doc.update({f.file_key: f.document(m.values[f.file_key]) for f in at(Level.MODEL) if f.file_key in m.values})
    if m.versions:
        doc["versions"] = {
            str(n): {f.file_key: f.document(v.values[f.file_key]) for f in at(Level.VERSION) if f.file_key in v.values}
            for n, v in m.versions.items()
        }
    policy = _policy_doc(m.policy)
    if policy:
        doc["policy"] = policy
    review = review_document(m.review)
    if review:
        doc["review"] = review
    smoke = smoke_document(m.smoke)
    if smoke:
        doc["smoke"] = smoke
    if m.monitoring is not None:
        doc["monitoring"] = monitoring_document(m.monitoring)
    return doc


def _policy_doc(p: Policy) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if p.exclusive_stages:
        doc["exclusive_stages"] = sorted(s.value for s in p.exclusive_stages)
    if p.keep_latest is not None:
        doc["keep_latest"] = p.keep_latest
    if p.stage_aliases:
        doc["stage_aliases"] = {s.value: a for s, a in p.stage_aliases.items()}
    if p.prune.flags:
        doc["prune"] = {flag: True for flag in sorted(p.prune.flags)}
    return doc


def check_semantics(m: DesiredModel) -> None:
    """Contradictions the schema cannot express; every check's problem is raised, one line each."""
    found = [
        e
        for check in (_exclusive_holders, _stage_alias_holders, _one_alias_per_stage, monitoring_check)
        if (e := check(m))
    ]
    raise_all(found)


def raise_all(messages: list[str]) -> None:
    """One problem: a DesiredStateError; several: ValidationErrors, one line each."""
    if len(messages) == 1:
        raise DesiredStateError(messages[0])
    if messages:
        raise ValidationErrors([DesiredStateError(m) for m in messages])


def _holders(m: DesiredModel, stage: Stage) -> list[int]:
    return sorted(n for n, v in m.versions.items() if v.stage is stage)


def _exclusive_holders(m: DesiredModel) -> str | None:
    for stage in sorted(m.policy.exclusive_stages):
        holders = _holders(m, stage)
        if len(holders) > 1:
            return (
                f"{m.origin.at('versions', str(holders[1]), 'stage')}: versions {holders} are all {stage.value}, "
                "but policy.exclusive_stages says one at a time; keep one"
            )
    return None


def _stage_alias_holders(m: DesiredModel) -> str | None:
    for stage, alias in sorted(m.policy.stage_aliases.items()):
        holders = _holders(m, stage)
        if len(holders) > 1:
            where = m.origin.at("policy", "stage_aliases", stage.value)  # only errors pay for lines
            return (
                f"{where}: alias {alias!r} follows {stage.value}, which versions {holders} all hold; "
                "put one version in that stage or drop the mapping"
            )
        explicit = (m.aliases or {}).get(alias)
        if holders and explicit is not None and explicit != holders[0]:
            where = m.origin.at("policy", "stage_aliases", stage.value)
            return (
                f"{where}: alias {alias!r} follows {stage.value} (version {holders[0]}) but aliases sets it "
                f"to {explicit}; remove one of the two"
            )
    return None


def _one_alias_per_stage(m: DesiredModel) -> str | None:
    """One alias cannot follow two stages: it would move back and forth between their holders."""
    seen: dict[str, Stage] = {}
    for stage, alias in sorted(m.policy.stage_aliases.items()):
        if alias in seen:
            return (
                f"{m.origin.at('policy', 'stage_aliases', stage.value)}: alias {alias!r} already follows "
                f"{seen[alias].value}; give each stage its own alias"
            )
        seen[alias] = stage
    return None
