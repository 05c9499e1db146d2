"""The whole loop, one scenario (issue 16's "done when"): a model trained here is promoted by a
reviewed pull request (the check's smoke test, an approval, merge, apply), the Pulumi program
brought up after that apply pins the promoted version, production metrics logged through
reconciler.monitoring drop, `health.yml` sends ONE alert to a local receiver and opens ONE rollback
pull request with the evidence, and that pull request, reviewed and merged like any other, moves the
alias back and re-rolls what serves.

Every step against a real `mlflow server` (tests/health/conftest.py) over HTTP; GitHub through the
OpenAPI-checked fake; the workflows run as GitHub runs them (tests/github/runner.py), the PR check
and apply through test_governance_e2e's Flow; `pulumi/actions` `up` runs the Pulumi program under
mocks (tests/infra/harness.py) on the commit the `up` job checked out.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from infra.k8s.serving import VERSION_ANNOTATION, workload_name
from tests.github import events
from tests.github.expressions import Evaluator
from tests.github.fake import FakeGitHub
from tests.github.harness import Harness, PulumiCalls, log, ran
from tests.github.runner import ActionCall, ActionResult
from tests.health import models
from tests.health.conftest import Registry, registry, registry_server  # noqa: F401 (fixtures)
from tests.health.receiver import Receiver, receiver
from tests.health.test_health import FILE, _log
from tests.health.test_health_workflow import _run as run_health
from tests.infra.conftest import containers, named
from tests.infra.harness import Run, run_stack
from tests.integration.test_governance_e2e import Flow, audit
from tests.serving.conftest import IMAGE, image_packages  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration

NAME = "loop-diabetes"
WORKLOAD = workload_name(NAME)
POLICY = """\
owners: [platform-lead]
protected:
  aliases: [champion]
  approvals: 1
  from: [model-owners]
"""


def model_file(champion: int) -> str:
    """test_health's monitored file (champion, a 6-hour window, three thresholds, rollback: true),
    served by the alias it monitors."""
    return FILE.format(name=NAME, v=champion) + "serving:\n  alias: champion\n"


@dataclass(frozen=True)
class OpenRegistry:
    """The health registry (no auth) in the shape Flow asks of a Stack: each job gets its URI."""

    uri: str

    def env(self, user: str) -> dict[str, str]:
        return {"MLFLOW_TRACKING_URI": self.uri, "MLFLOW_TRACKING_USERNAME": "", "MLFLOW_TRACKING_PASSWORD": ""}


@dataclass
class PulumiUp(PulumiCalls):
    """`pulumi/actions`: recorded; an `up` also runs the Pulumi program under mocks, serving the
    model files of the commit the job checked out (the workspace)."""

    config: dict[str, str] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)

    def __call__(self, call: ActionCall) -> ActionResult:
        recorded = super().__call__(call)
        if call.inputs.get("command") != "up":
            return recorded
        extra = {**self.config, "servingModelsDir": str(call.workspace / "models")}
        try:
            self.runs.append(run_stack(call.inputs["stack-name"], extra=extra))
        except AssertionError as e:
            return ActionResult("failure", log=str(e))
        return ActionResult(log="pulumi up: the program ran under mocks")


@dataclass
class Loop:
    flow: Flow
    health: Harness
    infra: Harness
    pulumi: PulumiUp
    hook: Receiver
    base: datetime  # hour h of production is the hour ending at base + h

    def production(self, version: int, hours: range, degrade: float = 0.0) -> None:
        """Production windows logged through reconciler.monitoring (test_health's 100 samples an hour)."""
        _log(NAME, version, hours, degrade=degrade, base=self.base)

    def health_run(self) -> dict[str, Any]:
        """health.yml's hourly run: `health`, then `rollback` with its result."""
        return run_health(self.health, events.schedule(self.gh, "41 * * * *"))

    @property
    def gh(self) -> FakeGitHub:
        return self.flow.gh

    def bring_up(self, merged: str) -> Run:
        """infra.yml, as the registry apply's workflow_run triggers it; returns what the program built."""
        event = events.workflow_run(self.gh, "registry-apply.yml", "registry apply", merged, "success")
        jobs = self.infra.run("infra.yml", event)
        assert ran(jobs) == {"preview": "skipped", "up": "success"}, log(jobs["up"])
        assert jobs["up"].steps[0].outputs["commit"] == merged
        return self.pulumi.runs[-1]

    def promote(self, number: int, approver: str) -> tuple[str, Run]:
        """The reviewed path of a pull request: check, approve, merge, apply, bring up."""
        self.flow.check(number, "opened")
        blocked = self.flow.status(number)
        assert blocked[0] == "failure" and "approv" in blocked[1], blocked  # waiting for the review only
        plan = html.unescape(self.flow.plan_comment(number))
        self.flow.review(number, approver)
        assert self.flow.status(number)[0] == "success", self.flow.status(number)
        merged = self.flow.merge(number)
        applied = self.flow.apply(number)
        assert applied.result == "success", log(applied)
        return plan, self.bring_up(merged)


def pod_template(run: Run) -> dict[str, Any]:
    return named(run, "Deployment", WORKLOAD)["spec"]["template"]


def served(run: Run) -> tuple[Any, str, list[str]]:
    """What the stack serves: its output, the pod template's annotation, the model fetched."""
    (fetch,) = [c for c in containers(named(run, "Deployment", WORKLOAD)) if c["name"] == "fetch-model"]
    annotation = pod_template(run)["metadata"]["annotations"][VERSION_ANNOTATION]
    return run.outputs["served_versions"], annotation, [a for a in fetch["command"] if a.startswith("models:/")]


@pytest.fixture
def loop(
    registry: Registry,  # noqa: F811
    fake_github: FakeGitHub,
    expression_evaluator: Evaluator,
    image_packages: Path,  # noqa: F811
    tmp_path: Path,
) -> Iterator[Loop]:
    """v1 and v2 trained and registered; v1 holds champion (the state before adopting GitOps) and
    served production for six hours; main holds the policy and the model file at v1."""
    from mlflow import MlflowClient

    assert [models.register_sklearn(NAME), models.register_sklearn(NAME)] == [1, 2]
    MlflowClient().set_registered_model_alias(NAME, "champion", "1")
    # Not rounded to the hour: the test crossing one moves no window out of `last 6 h`.
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=12)
    _log(NAME, 1, range(1, 7), base=base)  # v1 served hours 1-6, ending 6 h ago
    fake_github.commit("main", {"models/_policy.yaml": POLICY, f"models/{NAME}.yaml": model_file(1)}, "Adopt GitOps")
    members = fake_github.add_token("registry-governance[bot]", {"members": "read"})
    flow = Flow(fake_github, OpenRegistry(registry.uri), tmp_path, expression_evaluator, members)  # type: ignore[arg-type]
    config = {
        "servingImage": IMAGE,
        "servingImagePackages": str(image_packages),
        "servingTrackingUri": registry.uri,
    }
    pulumi = PulumiUp(config=config)
    infra = Harness(fake_github, tmp_path / "runs-infra", expression_evaluator, pulumi=pulumi)
    infra.secrets["PULUMI_ACCESS_TOKEN"] = "pul-loop-token"
    with receiver() as hook:
        secrets = {"MLFLOW_TRACKING_URI": registry.uri, "RECONCILER_ALERT_WEBHOOK": hook.url}
        health = Harness(fake_github, tmp_path / "runs-health", expression_evaluator, secrets=secrets)
        yield Loop(flow, health, infra, pulumi, hook, base)


def test_promote_serve_degrade_alert_roll_back_and_re_roll(loop: Loop) -> None:
    from mlflow import MlflowClient

    lp, gh, client = loop, loop.gh, MlflowClient()

    # 1. The promotion: a pull request moves champion to v2; the check smoke-tests v2 and blocks
    #    until an owner approves; merged, applied with the approver recorded, brought up pinned at v2.
    gh.commit("promote", {f"models/{NAME}.yaml": model_file(2)}, "Promote v2", "alice")
    promotion = gh.open_pull_request("promote", author="alice", title=f"Promote {NAME} v2").number
    plan, up = lp.promote(promotion, "olivia")
    assert "### Smoke test" in plan and "Every candidate passes its smoke test" in plan
    assert "| v2 | <code>serving_input_example.json</code> | 5 | ✅ passed |" in _plain(plan), plan
    assert client.get_registered_model(NAME).aliases["champion"] == "2"
    promoted = audit(client.get_registered_model(NAME))
    assert (promoted["approved_by"], promoted["pull_request"]) == (["olivia"], str(promotion))
    assert served(up) == ({NAME: 2}, "2", [f"models:/{NAME}/2"])
    v2_template = pod_template(up)

    # 2. Production: v2 healthy for three hours, health judges it so: no alert, no rollback job.
    lp.production(2, range(7, 10))
    healthy = lp.health_run()
    assert ran(healthy) == {"health": "success", "rollback": "skipped"}, log(healthy["health"])
    assert lp.hook.bodies == []

    # 3. The simulated drop (drifted inputs, larger errors): ONE alert, ONE rollback pull request.
    lp.production(2, range(10, 13), degrade=1.0)
    breach = lp.health_run()
    assert ran(breach) == {"health": "failure", "rollback": "success"}, log(breach["health"]) + log(breach["rollback"])
    (alert,) = lp.hook.bodies
    assert alert["text"].startswith(f":rotating_light: Breach: {NAME} v2 (last 6 h, 600 samples)"), alert
    assert "`psi_max`" in alert["text"] and "`r2`" in alert["text"]
    (rollback,) = [p for p in gh.state.pulls.values() if p.number != promotion]
    assert rollback.title == f"Roll back {NAME} champion: v2 -> v1" and rollback.state == "open"
    assert gh.git.read(rollback.head_sha, f"models/{NAME}.yaml") == model_file(1)  # comments and layout kept
    evidence = html.unescape(rollback.body or "")
    assert "```mermaid\nxychart-beta" in evidence and "❌ breach" in evidence and "proposed: v1" in evidence
    assert "<code>mae</code>: the first line is the value per window, the second the threshold (v1's" in evidence
    reverts = f"- commit: <code>{promoted['commit']}</code>; pull request: <code>{promotion}</code>\n"
    assert reverts in evidence and "- approved by: <code>olivia</code>" in evidence  # the promotion it reverts

    # 4. The rollback, reviewed and merged like any other change: the check smoke-tests v1, the
    #    apply moves the alias back, the program re-rolls the Deployment to v1's pod template.
    plan, up = lp.promote(rollback.number, "olivia")
    assert "| v1 | <code>serving_input_example.json</code> | 5 | ✅ passed |" in _plain(plan), plan
    assert client.get_registered_model(NAME).aliases["champion"] == "1"
    reverted = audit(client.get_registered_model(NAME))
    assert (reverted["approved_by"], reverted["pull_request"]) == (["olivia"], str(rollback.number))
    assert served(up) == ({NAME: 1}, "1", [f"models:/{NAME}/1"])
    assert pod_template(up) != v2_template  # a new template: the Deployment rolls back
    assert [c.inputs["command"] for c in lp.pulumi.calls] == ["up", "up"]

    # 5. The next run: v1 serves (no production runs of it in the window yet: not judged, a warning),
    #    v2's alert is resolved as no longer served; no second breach alert, no new pull request.
    after = lp.health_run()
    assert ran(after) == {"health": "success", "rollback": "skipped"}, log(after["health"])
    assert [a.level for a in after["health"].annotations if "could not be judged" in a.message] == ["warning"]
    assert [b["text"] for b in lp.hook.bodies[1:]] == [f"Resolved: {NAME} v2 is no longer served"]
    assert len(gh.state.pulls) == 2


def _plain(body: str) -> str:
    """The plan comment's escapes of `_` and `.` (so no value renders as Markdown) undone."""
    return body.replace("&#95;", "_").replace("&#46;", ".")
