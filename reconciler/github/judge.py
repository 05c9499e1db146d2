"""The policy half (reconciler/governance/: pure) fed with what git and GitHub give: the base
branch's rules read from git, the reviews GitHub lists, the freshness of reviewed commits from git,
team members from GitHub. The one place the GitHub commands call into reconciler.governance.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.files import modelfiles
from reconciler.git import GitAccess
from reconciler.github import client as gh
from reconciler.github.files import model_paths
from reconciler.governance import approvals, gates, report, rules
from reconciler.governance.approvals import clip
from reconciler.governance.policy import POLICY_FILE
from reconciler.governance.repository import Base, load_base
from reconciler.plan.values import Plan
from reconciler.registry.target import Target
from reconciler.smoke import report as smoke_report
from reconciler.smoke.result import SmokeResult
from reconciler.state import DesiredModel, LiveState
from reconciler.text import printable

STATUS_CONTEXT = report.STATUS_CONTEXT


@dataclass(frozen=True)
class Judgement:
    requirements: tuple[rules.Requirement, ...]
    verdict: approvals.Verdict
    gates: tuple[gates.GateResult, ...]
    gates_ok: bool  # the gates and the smoke tests passed (a review event reads it from the plan comment)
    warnings: tuple[str, ...] = ()
    smoke: tuple[SmokeResult, ...] = ()

    @property
    def ok(self) -> bool:
        return self.verdict.ok and self.gates_ok and smoke_report.passed(self.smoke)

    def status(self) -> tuple[str, str]:
        """("success" | "failure", description of at most 140 characters)."""
        state, description = report.status(self.verdict, self.gates)
        failed = smoke_report.status(self.smoke)
        if failed:
            return "failure", clip(printable(failed + ("; " + description if state == "failure" else "")), 140)
        if state == "success" and not self.gates_ok:  # judged in an earlier run (a review event)
            return "failure", "A metric gate or smoke test failed (see the plan comment)"
        return state, description

    def approvers(self) -> tuple[str, ...]:
        return self.verdict.approvers


def base_rules(git: GitAccess, sha: str, models_dir: str, changed: Sequence[str]) -> Base:
    """The policy and the changed model files as they are at `sha` (the base branch), never the pull
    request's: only those, since the rules of the models it does not touch do not come into it."""
    prefix = PurePosixPath(models_dir)
    wanted = sorted({*model_paths(changed, models_dir), str(prefix / POLICY_FILE)})
    refused = _refused_at_base(git, sha, prefix, wanted)
    files = git.files(sha, wanted)
    with tempfile.TemporaryDirectory(prefix="reconciler-base-") as tmp:
        root = Path(tmp) / prefix.name
        root.mkdir()
        for path, data in files.items():
            (root / PurePosixPath(path).name).write_bytes(data)
        where = f"{prefix}@{sha[:12]}"
        try:
            base = load_base(root)
        except ValidationErrors as e:
            raise ValidationErrors([DesiredStateError(str(x).replace(str(root), where)) for x in e.errors]) from None
        except DesiredStateError as e:
            raise DesiredStateError(
                f"{str(e).replace(str(root), where)} (the base branch's file: fix it there first)"
            ) from None
    skipped = tuple(s.replace(str(root), where) for s in base.skipped)
    return Base(base.policy, base.models, (*refused, *skipped))


def _refused_at_base(git: GitAccess, sha: str, prefix: PurePosixPath, wanted: Sequence[str]) -> tuple[str, ...]:
    """The base branch's entries among `wanted` that are not regular files, judged by the selection
    rule (modelfiles.select) and never read: a refused model file counts as absent (its changes need
    the policy's owners, as a new file's do); a refused policy judges nothing. Regular files are
    loaded and checked by load_base."""
    entries = [e for e in git.entries(sha, wanted) if e.kind is not modelfiles.Kind.FILE]
    found = modelfiles.select(entries, PurePosixPath(f"{prefix}@{sha[:12]}"))
    if found.policy_errors:
        raise DesiredStateError(f"{found.policy_errors[0]} (the base branch's file: fix it there first)")
    as_new = "(on the base branch: not read, so the pull request is judged as if it added the file)"
    return tuple(f"{e} {as_new}" for e in found.errors)


def reviews(listed: Iterable[gh.Review]) -> list[approvals.Review]:
    known = {s.value for s in approvals.State}
    return [
        approvals.Review(r.user, approvals.State(r.state), r.commit_id, r.submitted_at)
        for r in listed
        if r.state in known and r.user
    ]


def requirements(plan: Plan, base: Base, changed: Sequence[str], models_dir: str) -> tuple[rules.Requirement, ...]:
    return rules.requirements(plan, base.models, base.policy, changed, models_dir)


def gate_runs(plan: Plan, live: LiveState, base: Base) -> frozenset[str]:
    return gates.gate_run_ids(plan, live, base.models, base.policy) - frozenset(live.runs)


def evaluate_gates(plan: Plan, live: LiveState, base: Base) -> tuple[gates.GateResult, ...]:
    return gates.evaluate_gates(plan, live, base.models, base.policy)


def smoke_tests(
    plan: Plan,
    live: LiveState,
    base: Base,
    head_models: Sequence[DesiredModel],
    target: Target,
    root: Path,
    models_dir: str = "models",
) -> tuple[SmokeResult, ...]:
    """The smoke test of every version a protected move promotes (reconciler/smoke/), read only."""
    from reconciler.smoke.batch import run_all
    from reconciler.smoke.candidates import candidates

    found = candidates(plan, live, base.models, base.policy, head_models, models_dir)
    return run_all(found, target, root, base.policy.require_example) if found else ()


def judge(
    reqs: Sequence[rules.Requirement],
    listed: Sequence[gh.Review],
    author: str,
    head: str,
    git: GitAccess,
    models_dir: str,
    members: Callable[[str], frozenset[str]],
    gate_results: Sequence[gates.GateResult] = (),
    gates_ok: bool | None = None,
) -> Judgement:
    """`members("@org/team")`: the team's logins (raises GitHubError when it cannot be read)."""
    given = reviews(listed)
    commits = approvals.commits_to_check(given, author, head)
    gone = git.ensure({*commits, head}) if commits else set()  # one fetch for all the checkout lacks
    fresh = {c for c in commits if head not in gone and c not in gone and git.unchanged_since(c, head, models_dir)}
    teams, warnings = _teams(reqs, given, author, members)
    verdict = approvals.evaluate(reqs, given, author, head, fresh, teams)
    ok = gates.passed(tuple(gate_results)) if gates_ok is None else gates_ok
    return Judgement(tuple(reqs), verdict, tuple(gate_results), ok, warnings)


def _teams(
    reqs: Sequence[rules.Requirement],
    given: Sequence[approvals.Review],
    author: str,
    members: Callable[[str], frozenset[str]],
) -> tuple[Mapping[str, frozenset[str]], tuple[str, ...]]:
    """Members of the teams the requirements name, read only when someone but the author reviewed
    (with no reviewer, membership changes nothing). A team that cannot be read counts nobody, with a warning."""
    if not any(r.user.lower() != author.lower() for r in given):
        return {team: frozenset() for team in approvals.teams_needed(reqs)}, ()  # nobody reviewed: nobody counts
    found: dict[str, frozenset[str]] = {}
    warnings = []
    from reconciler.github.errors import GitHubError

    for team in sorted(approvals.teams_needed(reqs)):
        try:
            found[team] = members(team)
        except GitHubError as e:
            warnings.append(str(e))
    return found, tuple(warnings)
