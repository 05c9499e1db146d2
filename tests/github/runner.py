"""Runs a workflow's jobs as GitHub runs them, with every `${{ }}` evaluated by GitHub's evaluator.

    runner = WorkflowRunner(REPO / ".github/workflows/pr.yml", event, workspace, evaluator,
                            actions={"actions/checkout": checkout(gh), "actions/setup-python": noop},
                            secrets={"MLFLOW_TRACKING_URI": uri}, token=gh.actions_token, api_url=gh.url)
    job = runner.run_job("plan")
    job.result == "success"; job.step("plan").outputs["exit"] == "2"; "## Plan" in job.summary

A `uses:` step calls the handler registered for its action (`owner/name`, or `owner/name@ref` to
pin); an action without a handler raises `UnknownAction`. Matrix jobs, containers, services and
reusable workflows raise `UnsupportedWorkflow`: nothing is silently skipped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from . import contexts
from .events import Event
from .expressions import Evaluator, Status
from .filecommands import Annotation, mask
from .jobs import JobState, StepResult, job_status
from .steps import run_script


class UnknownAction(LookupError):
    pass


class UnsupportedWorkflow(ValueError):
    pass


@dataclass(frozen=True)
class ActionCall:
    """What a `uses:` handler gets: the action, its evaluated `with:`, the step's env, the workspace."""

    uses: str
    inputs: dict[str, str]
    env: dict[str, str]
    workspace: Path
    github: dict[str, Any]


@dataclass(frozen=True)
class ActionResult:
    outcome: str = "success"
    outputs: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # as if written to GITHUB_ENV
    path: list[str] = field(default_factory=list)  # as if written to GITHUB_PATH
    log: str = ""


ActionHandler = Callable[[ActionCall], ActionResult | None]
TokenFactory = Callable[..., str]  # (permissions: {scope: level}, read_only=bool) -> token


@dataclass(frozen=True)
class JobResult:
    job_id: str
    result: str  # success, failure, skipped
    steps: list[StepResult]
    outputs: dict[str, str]
    summary: str
    permissions: dict[str, str]
    concurrency: dict[str, Any] | None
    secrets_withheld: bool  # a pull request from a fork: only GITHUB_TOKEN (read-only) was given

    def step(self, key: str) -> StepResult:
        """The step with this `id:` (or, failing that, this name)."""
        found = [s for s in self.steps if s.id == key] or [s for s in self.steps if s.name == key]
        if not found:
            raise KeyError(f"job {self.job_id} has no step {key!r}: {[s.id or s.name for s in self.steps]}")
        return found[0]

    @property
    def annotations(self) -> list[Annotation]:
        return [a for s in self.steps for a in s.annotations]


class WorkflowRunner:
    def __init__(
        self,
        workflow: Path,
        event: Event,
        workspace: Path,
        evaluator: Evaluator,
        *,
        actions: Mapping[str, ActionHandler] | None = None,
        secrets: Mapping[str, str] | None = None,
        vars: Mapping[str, str] | None = None,
        token: str | TokenFactory | None = None,
        api_url: str = "https://api.github.com",
        base_env: Mapping[str, str] | None = None,
        temp: Path | None = None,
    ) -> None:
        self.doc: dict[str, Any] = YAML(typ="safe").load(workflow.read_text())
        self.event, self.evaluator = event, evaluator
        self.actions = dict(actions or {})
        self.fork = contexts.from_fork(event)
        self.secrets = {} if self.fork else dict(secrets or {})
        self.vars, self.token = dict(vars or {}), token
        self.base_env = dict(base_env if base_env is not None else _minimal_env())
        repo = event.payload.get("repository") or {}
        temp = temp or workspace.parent / f"{workspace.name}-runner-temp"
        self.run = contexts.RunInfo(
            workflow_path=f".github/workflows/{workflow.name}",
            workflow_name=str(self.doc.get("name") or f".github/workflows/{workflow.name}"),
            repository=repo.get("full_name", "acme/registry"),
            repository_id=int(repo.get("id", 1)),
            workspace=workspace,
            temp=temp,
            api_url=api_url,
        )

    # -- jobs -------------------------------------------------------------------------------------
    def run_workflow(self, jobs: Iterable[str] | None = None) -> dict[str, JobResult]:
        """Run `jobs` (default: all) in `needs` order; a job whose needs did not succeed is skipped."""
        wanted = list(jobs or self.doc["jobs"])
        done: dict[str, JobResult] = {}
        for job_id in _needs_order(self.doc["jobs"], wanted):
            done[job_id] = self.run_job(job_id, done)
        return done

    def run_job(self, job_id: str, needs: Mapping[str, JobResult] | None = None) -> JobResult:
        job = self.doc["jobs"][job_id]
        _refuse_unsupported(job_id, job)
        needed = _as_list(job.get("needs"))
        results = dict(needs or {})
        missing = [n for n in needed if n not in results]
        if missing:
            raise ValueError(f"job {job_id} needs {missing}: run them first (run_workflow does)")
        state = self._job_state(job_id, job, {n: results[n] for n in needed}, results)
        if not self._job_if(job, state):
            return JobResult(job_id, "skipped", [], {}, "", state.permissions, None, self.fork)
        concurrency = self._concurrency(job.get("concurrency"), state)
        for index, step in enumerate(job.get("steps") or []):
            state.steps.append(self._step(index, step, job, state))
        outputs = {k: self._template(str(v), state).string for k, v in (job.get("outputs") or {}).items()}
        return JobResult(
            job_id, state.status, state.steps, outputs, state.summary, state.permissions, concurrency, self.fork
        )

    def _job_state(
        self, job_id: str, job: Mapping[str, Any], needs: Mapping[str, JobResult], every: Mapping[str, JobResult]
    ) -> JobState:
        perms = contexts.permissions(job.get("permissions", self.doc.get("permissions")))
        token = self._token(perms)
        event_path = self.run.temp / "_github_workflow" / "event.json"
        event_path.parent.mkdir(parents=True, exist_ok=True)
        event_path.write_text(json.dumps(self.event.payload))
        github = contexts.github_context(self.event, self.run, job_id, token, event_path)
        runner = contexts.runner_context(self.run)
        triggers = self.doc.get("on", self.doc.get(True))
        dispatch = (triggers.get("workflow_dispatch") or {}) if isinstance(triggers, dict) else {}
        inputs = contexts.inputs_context(dispatch.get("inputs"), self.event.payload.get("inputs") or {})
        state = JobState(
            job_id, github, runner, inputs, perms, token, dict(needs), self.secrets | {"GITHUB_TOKEN": token}
        )
        state.vars = dict(self.vars)
        state.ancestors_failed = any(
            r.result == "failure" for r in every.values() if r.job_id in _ancestors(self.doc["jobs"], job_id)
        )
        state.env = contexts.default_env(github, runner)
        for key, value in {**(self.doc.get("env") or {}), **(job.get("env") or {})}.items():
            state.env_context[str(key)] = self._template(str(value), state).string
        return state

    def concurrency(self) -> dict[str, Any] | None:
        """The workflow-level `concurrency:` of this run (group and cancel-in-progress), evaluated."""
        state = self._job_state("", {}, {}, {})
        return self._concurrency(self.doc.get("concurrency"), state)

    def _token(self, perms: dict[str, str]) -> str:
        if callable(self.token):
            return self.token(perms, read_only=self.fork)
        return self.token or ""

    def _job_if(self, job: Mapping[str, Any], state: JobState) -> bool:
        needs_ok = all(r.result == "success" for r in state.needs.values())
        status = Status(success=needs_ok and not state.ancestors_failed, failure=state.ancestors_failed)
        return self.evaluator.condition(str(job.get("if", "success()")), state.context(), status).truthy

    def _concurrency(self, spec: Any, state: JobState) -> dict[str, Any] | None:
        if spec is None:
            return None
        spec = spec if isinstance(spec, dict) else {"group": spec}
        group = self._template(str(spec["group"]), state).string
        cancel = spec.get("cancel-in-progress", False)
        cancel = self._template(cancel, state).truthy if isinstance(cancel, str) else bool(cancel)
        return {"group": group, "cancel-in-progress": cancel}

    # -- steps ------------------------------------------------------------------------------------
    def _step(self, index: int, step: Mapping[str, Any], job: Mapping[str, Any], state: JobState) -> StepResult:
        step_id = str(step["id"]) if "id" in step else None
        blank = StepResult(index, step_id, str(step.get("name", "")), "skipped", "skipped", {}, None, "", "", "", [])
        condition = str(step.get("if", "success()"))
        if not self.evaluator.condition(condition, state.context(), job_status(state)).truthy:
            return blank
        name = (
            self._template(str(step["name"]), state).string
            if "name" in step
            else str(step.get("uses") or step.get("run", ""))
        )
        env = dict(state.env_context)
        for key, value in (step.get("env") or {}).items():
            env[str(key)] = self._template(value, state, env).string
        if "uses" in step:
            result = self._uses(index, step_id, name, step, env, state)
        else:
            result = self._run(index, step_id, name, step, job, env, state)
        return self._conclude(result, step, state)

    def _conclude(self, result: StepResult, step: Mapping[str, Any], state: JobState) -> StepResult:
        soft = step.get("continue-on-error", False)
        soft = self._template(soft, state).truthy if isinstance(soft, str) else bool(soft)
        conclusion = "success" if result.outcome == "failure" and soft else result.outcome
        if conclusion == "failure":
            state.status = "failure"
        return replace(result, conclusion=conclusion)

    def _run(
        self,
        index: int,
        step_id: str | None,
        name: str,
        step: Mapping[str, Any],
        job: Mapping[str, Any],
        env: dict[str, str],
        state: JobState,
    ) -> StepResult:
        defaults = {
            **((self.doc.get("defaults") or {}).get("run") or {}),
            **((job.get("defaults") or {}).get("run") or {}),
        }
        script = self._template(str(step["run"]), state, env).string
        shell = step.get("shell", defaults.get("shell"))
        workdir = step.get("working-directory", defaults.get("working-directory"))
        cwd = self.run.workspace / self._template(str(workdir), state, env).string if workdir else self.run.workspace
        timeout = float(step["timeout-minutes"]) * 60 if "timeout-minutes" in step else None
        process_env = {**self.base_env, **state.env, **env}
        process_env["PATH"] = ":".join([*reversed(state.path), process_env.get("PATH", "")])
        done = run_script(script, shell, cwd, process_env, self.run.temp, timeout)
        state.env_context.update(done.env)
        state.path.extend(done.path)
        state.summary += done.summary
        state.masks.extend(done.masks)
        log = mask(done.stdout + done.stderr, [*state.masks, *state.secrets.values()])
        outcome = "success" if done.exit_code == 0 else "failure"
        return StepResult(
            index,
            step_id,
            name,
            outcome,
            outcome,
            done.outputs,
            done.exit_code,
            done.stdout,
            done.stderr,
            log,
            done.annotations,
        )

    def _uses(
        self, index: int, step_id: str | None, name: str, step: Mapping[str, Any], env: dict[str, str], state: JobState
    ) -> StepResult:
        uses = str(step["uses"])
        handler = self.actions.get(uses) or self.actions.get(uses.split("@", 1)[0])
        if handler is None:
            raise UnknownAction(
                f"step {index} uses {uses!r}: pass a handler for it in actions= (known: {sorted(self.actions)})"
            )
        inputs = {str(k): self._template(v, state, env).string for k, v in (step.get("with") or {}).items()}
        result = handler(ActionCall(uses, inputs, env, self.run.workspace, state.github)) or ActionResult()
        state.env_context.update(result.env)
        state.path.extend(result.path)
        return StepResult(
            index,
            step_id,
            name,
            result.outcome,
            result.outcome,
            dict(result.outputs),
            None,
            result.log,
            "",
            result.log,
            [],
        )

    def _template(self, text: Any, state: JobState, env: Mapping[str, str] | None = None) -> Any:
        """A YAML value as GitHub reads it: booleans are `true`/`false`, everything else its text."""
        raw = ("true" if text else "false") if isinstance(text, bool) else str(text)
        return self.evaluator.template(raw, state.context(env), job_status(state))


def _minimal_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")
    return {k: os.environ[k] for k in keep if k in os.environ}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def _ancestors(jobs: Mapping[str, Any], job_id: str) -> set[str]:
    found: set[str] = set()
    pending = _as_list((jobs.get(job_id) or {}).get("needs"))
    while pending:
        current = pending.pop()
        if current not in found:
            found.add(current)
            pending += _as_list(jobs[current].get("needs"))
    return found


def _needs_order(jobs: Mapping[str, Any], wanted: list[str]) -> list[str]:
    """`wanted` and everything they need, each after its needs."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(job_id: str) -> None:
        if job_id in order:
            return
        if job_id in visiting or job_id not in jobs:
            raise ValueError(f"job {job_id!r}: its needs form a cycle or name no job")
        visiting.add(job_id)
        for dep in _as_list(jobs[job_id].get("needs")):
            visit(dep)
        order.append(job_id)

    for job_id in wanted:
        visit(job_id)
    return order


def _refuse_unsupported(job_id: str, job: Mapping[str, Any]) -> None:
    for key in ("strategy", "container", "services", "uses"):
        if key in job:
            raise UnsupportedWorkflow(f"job {job_id}: `{key}:` is not supported by the test runner")
