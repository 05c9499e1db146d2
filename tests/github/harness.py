"""Runs this repository's workflows as GitHub would (tests/github/runner.py) against the fake GitHub
API: the `run:` steps in bash with the job's env, `${{ }}` and `if:` by GitHub's own evaluator.

`uses: ./` (the root action.yml, which installs the reconciler) is handled like actions/setup-python
in the runner's own tests: the test's virtualenv already has it, and its bin is on PATH. The action's
own steps are tested in tests/github/test_action_yml.py.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

from tests.github.actions import checkout
from tests.github.events import Event
from tests.github.expressions import Evaluator
from tests.github.fake import FakeGitHub
from tests.github.runner import ActionCall, ActionResult, JobResult, WorkflowRunner

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
VENV_BIN = Path(sys.executable).parent
ACTION_INPUTS = set(YAML(typ="safe").load((REPO / "action.yml").read_text())["inputs"])


def install(call: ActionCall) -> ActionResult:
    """`uses: ./`: the reconciler is installed in the test's virtualenv already; refuse unknown inputs."""
    unknown = set(call.inputs) - ACTION_INPUTS
    if unknown:
        return ActionResult("failure", log=f"action.yml has no inputs {sorted(unknown)}")
    return ActionResult(log="reconciler: installed in the test's virtualenv")


@dataclass
class PulumiCalls:
    """pulumi/actions: no Pulumi CLI here; the call (command, stack, inputs, env) is recorded."""

    calls: list[ActionCall] = field(default_factory=list)

    def __call__(self, call: ActionCall) -> ActionResult:
        self.calls.append(call)
        return ActionResult(log=f"pulumi {call.inputs.get('command')} (recorded, not run)")


@dataclass
class Harness:
    gh: FakeGitHub
    root: Path
    evaluator: Evaluator
    secrets: dict[str, str] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    pulumi: PulumiCalls = field(default_factory=PulumiCalls)
    runs: int = 0

    def env(self) -> dict[str, str]:
        home = self.root / "home"
        home.mkdir(exist_ok=True)
        return {
            "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "XDG_CACHE_HOME": str(self.root / "cache"),
            "GIT_CONFIG_NOSYSTEM": "1",
        }

    def runner(self, workflow: str, event: Event, extra_secrets: Mapping[str, str] | None = None) -> WorkflowRunner:
        self.runs += 1
        workspace = self.root / f"run-{self.runs}" / "workspace"
        workspace.mkdir(parents=True)
        return WorkflowRunner(
            WORKFLOWS / workflow,
            event,
            workspace,
            self.evaluator,
            actions={"actions/checkout": checkout(self.gh.git), "./": install, "pulumi/actions": self.pulumi},
            secrets={**self.secrets, **(extra_secrets or {})},
            vars=self.vars,
            token=self.gh.actions_token,
            api_url=self.gh.url,
            base_env=self.env(),
        )

    def run(self, workflow: str, event: Event, jobs: Iterable[str] | None = None) -> dict[str, JobResult]:
        return self.runner(workflow, event).run_workflow(jobs)


def ran(jobs: Mapping[str, JobResult]) -> dict[str, str]:
    return {name: job.result for name, job in jobs.items()}


def log(job: JobResult) -> str:
    return "\n".join(f"--- {s.name}: {s.outcome}\n{s.log}" for s in job.steps)
