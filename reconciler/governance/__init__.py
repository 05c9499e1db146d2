"""Governance by pull request, the pure half: review policy, rules, approvals, gates, CODEOWNERS.

No GitHub and no MLflow calls here: inputs are typed values, outputs typed verdicts. The GitHub
commands (reconciler/github/) fetch what these functions take. The interface, by module:

policy (models/_policy.yaml; a model file's `review:` may only tighten it)
    load_policy(path_or_text: Path | str, source: str | None = None) -> ReviewPolicy
        A Path is read (1 MiB at most); a str is the file's text (e.g. `git show base:models/_policy.yaml`).
        Same YAML reader and schema check as model files: DesiredStateError "file:line: /pointer: what; what to do".
    load_repository_policy(models_dir) -> ReviewPolicy      the file, or the defaults when absent
    ReviewPolicy(owners, changes: Tier, protected: Tier, aliases, stages, source)
    Tier(approvals, from_, gates: tuple[Gate, ...])          Gate/GateRule live in reconciler.state
    effective(policy, model) -> ModelRules                   raises ValidationErrors if `review:` loosens
    combined(policy, model | None, name="") -> ModelRules    never raises: the stricter of both (base files)
    ModelRules(model, owners, changes, protected, aliases, stages); .protects(change); .approvers(tier)

repository
    load_checked(models_dir) -> (ReviewPolicy, list[DesiredModel])   what validate/plan/apply load (api.load)
    load_base(models_dir) -> Base(policy, models: {name: DesiredModel}, skipped: tuple[str, ...])
        The base branch's checkout. A model file that does not load is skipped (its changes then need the
        policy's owners); a policy file that does not load raises.

rules
    requirements(plan, base_models, base_policy, changed_paths, models_dir="models") -> tuple[Requirement, ...]
        `plan`: the PR head's files planned against the registry. `changed_paths`: the PR's files, repo-relative.
    Requirement(subject, kind: Kind, approvals, groups, why, model, changes); .protected; .targets
        Kind: POLICY, NEW_MODEL, MODEL (the `changes` tier), PROTECTED (added on top), REGISTRY (the plan
        changes a model whose file the PR leaves alone: drift, keep_latest).

approvals
    Review(user, state: State, commit_id, submitted_at: datetime | None)   State("APPROVED"), ...
    commits_to_check(reviews, author, head_sha) -> frozenset[str]   compare each with the head, once
    touches_models(compare_files, models_dir="models") -> bool       True: approvals on that commit are stale
    teams_needed(requirements) -> frozenset[str]                     "@org/team", lower case
    evaluate(requirements, reviews, author, head_sha, fresh, members) -> Verdict
        fresh: Callable[[commit], bool] (asked once per commit) or a collection of fresh commits.
        members: {"@org/team": logins}; a team left out is reported as unreadable, never guessed.
    Verdict.ok, .results (RequirementVerdict: counted, not_counted, blocked_by, unresolved_teams, missing,
        ok, message()), .approvers (for reconciler.apply.audit.Audit), .status_description() (<= 140 chars)

gates
    gate_run_ids(plan, live, base_models, base_policy) -> frozenset[str]
        The candidates' and current holders' training runs: read them into LiveState.runs first.
    evaluate_gates(plan, live, base_models, base_policy) -> tuple[GateResult, ...]
    GateResult(move: Move(model, target, candidate, current), gate, candidate, current, passed, reason)
    passed(results) -> bool

report (every value through reconciler.text.md_code)
    approvals_markdown(verdict) -> str;  gates_markdown(results) -> str ("" without gated moves)
    status(verdict, gates) -> ("success" | "failure", description <= 140 chars);  STATUS_CONTEXT

codeowners (and `reconciler codeowners [--check]`, reconciler/commands/codeowners.py)
    block(models, policy, models_dir="models") -> list[str];  render(existing, lines, source) -> str
"""
