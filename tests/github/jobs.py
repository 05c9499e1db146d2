"""A job's state while it runs, the contexts its expressions see, and what each step left."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .expressions import Status
from .filecommands import Annotation

if TYPE_CHECKING:
    from .runner import JobResult


@dataclass(frozen=True)
class StepResult:
    index: int
    id: str | None
    name: str
    outcome: str  # success, failure, skipped: before continue-on-error
    conclusion: str  # after continue-on-error
    outputs: dict[str, str]
    exit_code: int | None  # None for `uses:` and skipped steps
    stdout: str
    stderr: str
    log: str  # stdout + stderr with secrets and ::add-mask:: values replaced by ***, as GitHub shows it
    annotations: list[Annotation]


@dataclass
class JobState:
    job_id: str
    github: dict[str, Any]
    runner: dict[str, Any]
    inputs: dict[str, Any]
    permissions: dict[str, str]
    token: str
    needs: dict[str, JobResult]
    secrets: dict[str, str]
    status: str = "success"
    ancestors_failed: bool = False
    env: dict[str, str] = field(default_factory=dict)  # GITHUB_* and RUNNER_* defaults
    env_context: dict[str, str] = field(default_factory=dict)  # workflow + job env, then GITHUB_ENV
    path: list[str] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    summary: str = ""
    masks: list[str] = field(default_factory=list)
    vars: dict[str, str] = field(default_factory=dict)

    def context(self, env: Mapping[str, str] | None = None) -> dict[str, Any]:
        return {
            "github": self.github,
            "env": dict(env if env is not None else self.env_context),
            "vars": self.vars,
            "secrets": self.secrets,
            "inputs": self.inputs,
            "steps": {
                s.id: {"outputs": s.outputs, "outcome": s.outcome, "conclusion": s.conclusion}
                for s in self.steps
                if s.id
            },
            "needs": {k: {"result": r.result, "outputs": r.outputs} for k, r in self.needs.items()},
            "runner": self.runner,
            "job": {"status": self.status},
            "matrix": {},
            "strategy": {},
        }


def job_status(state: JobState) -> Status:
    return Status(success=state.status == "success", failure=state.status == "failure")
