"""The repository's review policy (models/_policy.yaml) and a model's effective rules.

The policy file loads like a model file (the same YAML reader and schema check, one-line errors
`file:line: /pointer: what; what to do`). A model file's `review:` block may only tighten it:
`effective()` refuses a block that loosens it, naming the model file's line; `combined()` is the
same without refusing (the stricter of the two wins), for judging base-branch files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.fields import Field, Kind
from reconciler.files import desired, modelfiles
from reconciler.files import review as values
from reconciler.files.review import MODEL_OWNERS
from reconciler.governance.policyschema import build
from reconciler.governance.principals import expand, principal
from reconciler.names import POLICY_FILE
from reconciler.plan.values import MODEL, Change
from reconciler.pointer import pointer
from reconciler.reviewblock import Gate, TierTightening
from reconciler.state import DesiredModel, Origin, Stage

SCHEMA_FILE = "policy.schema.json"
SCHEMA_HEADER = "# yaml-language-server: $schema=../schemas/policy.schema.json"
EXPECTED = f"a mapping with at least 'owners:'; see schemas/{SCHEMA_FILE}"


@dataclass(frozen=True)
class Tier:
    """`approvals` approvals from different reviewers, each in one of `from_`; and, for the protected
    tier, the gates a candidate version must pass."""

    approvals: int
    from_: tuple[str, ...]
    gates: tuple[Gate, ...] = ()


DEFAULT_TIER = Tier(1, (MODEL_OWNERS,))


@dataclass(frozen=True)
class ReviewPolicy:
    """No file: every change to a model file needs 1 approval from its owners; nothing is protected."""

    owners: tuple[str, ...] = ()
    changes: Tier = DEFAULT_TIER
    protected: Tier = DEFAULT_TIER
    aliases: frozenset[str] = frozenset()
    stages: frozenset[Stage] = frozenset()
    source: str = ""  # the file it was read from; "" for the defaults
    require_example: bool = False  # smoke.require_example: a protected move's version must have one


@dataclass(frozen=True)
class ModelRules:
    """What a change to one model needs: the repository policy with the model's `review:` applied.
    `owners` is who "model-owners" means: the model's owners, or the policy's when it has none."""

    model: str
    owners: tuple[str, ...]
    changes: Tier
    protected: Tier
    aliases: frozenset[str]
    stages: frozenset[Stage]

    def protects(self, change: Change) -> bool:
        """A move of a protected map entry (an alias: create, update, delete), or of a version into or
        out of a protected value (a stage). Which fields governance may protect, and by which of the
        policy's `protected:` lists, their declarations say (`Field.guard`)."""
        f = guarded(change)
        if f is None:
            return False
        names = self.protected_names(f)
        if f.kind is Kind.MAP:
            return change.address.key in names
        return any(plain(f, v) in names for v in (change.before, change.after))

    def protected_names(self, f: Field) -> frozenset[str]:
        """What the policy protects of a guarded field: the names in its `protected:` list."""
        lists: dict[str, frozenset[str]] = {"aliases": self.aliases, "stages": frozenset(s.value for s in self.stages)}
        return lists[f.guard] if f.guard is not None else frozenset()

    def approvers(self, tier: Tier) -> tuple[str, ...]:
        return expand(tier.from_, self.owners)


def plain(f: Field, value: Any) -> Any:
    """A change's value as the file writes it (a stage's name), or None when it is not one."""
    try:
        return None if value is None else f.dump(f.parse(value))
    except (TypeError, ValueError):
        return None


def guarded(change: Change) -> Field | None:
    """The declaration of the field a change is to, if governance may protect it."""
    a = change.address
    if a.field == MODEL:
        return None
    try:
        f = a.declaration()
    except KeyError:  # the reconciler's own audit tag, which no declaration has
        return None
    return f if f.guard is not None else None


@lru_cache(maxsize=1)
def _validator() -> dict[str, Any]:
    return build()


def load_repository_policy(models_dir: Path) -> ReviewPolicy:
    """models/_policy.yaml, or the defaults when the file does not exist; refused when it is not a
    regular file (a symbolic link, a directory: modelfiles says which entries are files)."""
    path = modelfiles.policy_file(models_dir)
    return load_policy(path) if path is not None else ReviewPolicy()


def load_policy(path_or_text: Path | str, source: str | None = None) -> ReviewPolicy:
    """A policy file (a Path) or its text (a str, e.g. from `git show base:models/_policy.yaml`)."""
    if isinstance(path_or_text, Path):
        source = source or str(path_or_text)
        text = _read(path_or_text, source)
    else:
        source, text = source or POLICY_FILE, path_or_text
    if len(text.encode("utf-8", "surrogatepass")) > desired.MAX_FILE_BYTES:
        raise _too_large(source)
    doc = desired.parse_yaml(text, source, EXPECTED)
    desired.check_schema(doc, _validator(), SCHEMA_FILE)
    return from_document(doc.data, desired.origin_for(doc))


def _read(path: Path, source: str) -> str:
    try:
        f, _ = modelfiles.open_regular(path)
        with f:
            raw = f.read(desired.MAX_FILE_BYTES + 1)
        if len(raw) > desired.MAX_FILE_BYTES:
            raise _too_large(source)
        return raw.decode("utf-8", errors="strict").replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads
    except UnicodeDecodeError as e:
        raise DesiredStateError(f"{source}: not UTF-8 text ({e.reason}); save it as UTF-8") from e
    except OSError as e:
        raise DesiredStateError(f"{source}: cannot read the file ({e.strerror}); check it exists") from e


def _too_large(source: str) -> DesiredStateError:
    return DesiredStateError(
        f"{source}: file is larger than {desired.MAX_FILE_BYTES // 1024} KiB; a review policy should be small: trim it"
    )


def from_document(doc: Mapping[str, Any], origin: Origin) -> ReviewPolicy:
    """A schema-valid policy document (plain values) -> ReviewPolicy."""

    def where(*path: Any) -> str:
        return f"{origin.at(*path)}: {pointer(path)}"

    changes = doc.get("changes", {})
    protected = doc.get("protected", {})
    changes_tier = Tier(changes.get("approvals", 1), tuple(changes.get("from", (MODEL_OWNERS,))))
    return ReviewPolicy(
        owners=tuple(doc["owners"]),
        changes=changes_tier,
        protected=Tier(
            protected.get("approvals", max(1, changes_tier.approvals)),
            tuple(protected.get("from", changes_tier.from_)),
            values.gates(protected.get("gates", ()), where, ("protected", "gates")),
        ),
        aliases=frozenset(protected.get("aliases", ())),
        stages=frozenset(Stage(s) for s in protected.get("stages", ())),
        source=origin.source,
        require_example=bool(doc.get("smoke", {}).get("require_example", False)),
    )


def effective(policy: ReviewPolicy, model: DesiredModel) -> ModelRules:
    """The model's rules; a `review:` block that loosens the policy is refused (every problem, one line each)."""
    errors = loosening(policy, model)
    if errors:
        raise ValidationErrors(errors)
    return combined(policy, model)


def combined(policy: ReviewPolicy, model: DesiredModel | None, name: str = "") -> ModelRules:
    """The stricter of the policy and the model's `review:` at every point; never refuses.
    `model` None: a model file the base branch does not have (its owners: the policy's)."""
    if model is None:
        return ModelRules(name, policy.owners, policy.changes, policy.protected, policy.aliases, policy.stages)
    r = model.review
    return ModelRules(
        model=model.name,
        owners=model.owners or policy.owners,
        changes=_tighten(policy.changes, r.changes, ()),
        protected=_tighten(policy.protected, r.protected, r.gates),
        aliases=policy.aliases | r.aliases,
        stages=policy.stages | r.stages,
    )


def _tighten(tier: Tier, t: TierTightening, gates: Sequence[Gate]) -> Tier:
    approvals = max(tier.approvals, t.approvals or 0)
    allowed = {principal(e) if e != MODEL_OWNERS else MODEL_OWNERS for e in tier.from_}
    narrowed = tuple(e for e in (t.from_ or ()) if _key(e) in allowed)
    return replace(tier, approvals=approvals, from_=narrowed or tier.from_, gates=_unique((*tier.gates, *gates)))


def _key(entry: str) -> str:
    return MODEL_OWNERS if entry == MODEL_OWNERS else principal(entry)


def _unique(gates: Iterable[Gate]) -> tuple[Gate, ...]:
    return tuple(dict.fromkeys(gates))


def loosening(policy: ReviewPolicy, model: DesiredModel) -> list[DesiredStateError]:
    """Every way the model's `review:` would loosen the repository policy, one error each."""
    where = policy.source or "the default policy (no models/_policy.yaml)"
    errors = []
    for tier_name, tier, t in (
        ("changes", policy.changes, model.review.changes),
        ("protected", policy.protected, model.review.protected),
    ):
        at = ("review", tier_name)
        if t.approvals is not None and t.approvals < tier.approvals:
            errors.append(
                DesiredStateError(
                    f"{model.origin.at(*at, 'approvals')}: /review/{tier_name}/approvals: {t.approvals} is fewer "
                    f"than the {tier.approvals} that {where} requires ({tier_name}.approvals); a model file may "
                    f"only tighten the policy: set {tier.approvals} or more, or remove it"
                )
            )
        allowed = {_key(e) for e in tier.from_}
        extra = [e for e in (t.from_ or ()) if _key(e) not in allowed]
        if extra:
            errors.append(
                DesiredStateError(
                    f"{model.origin.at(*at, 'from')}: /review/{tier_name}/from: {', '.join(map(repr, extra))} "
                    f"may not approve under {where} ({tier_name}.from: {', '.join(tier.from_)}); a model file may "
                    "only narrow who approves: remove them, or change the policy in its own pull request"
                )
            )
    return errors


def check_models(policy: ReviewPolicy, models: Iterable[DesiredModel]) -> list[DesiredStateError]:
    return [e for m in models for e in loosening(policy, m)]
