"""The workflow runner runs jobs as GitHub does: GitHub's evaluator for every expression, GitHub's
shells, file commands, step and job status rules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.github import events
from tests.github.actions import checkout, noop
from tests.github.expressions import Evaluator, ExpressionError, Status
from tests.github.fake import FakeGitHub
from tests.github.runner import UnknownAction, WorkflowRunner

WORKFLOWS = Path(__file__).parent / "testdata" / "workflows"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${{ contains(fromJSON('[\"Registry\",\"x\"]'), 'registry') }}", True),  # case-insensitive
        ("${{ contains('Hello World', 'WORLD') }}", True),
        ("${{ format('{0}-{{literal}}-{1}', 'a', 2) }}", "a-{literal}-2"),
        ('${{ fromJSON(\'{"a":{"b":[1,2,3]}}\').a.b[2] }}', 3),
        ("${{ toJSON(fromJSON('[1]')) }}", "[\n  1\n]"),
        ("n=${{ 1 == 1.0 }} s=${{ '01' == 1 }} z=${{ null == '' }}", "n=true s=true z=true"),  # null and '' are 0
        ("${{ github.missing.deep }}", None),  # a missing property is null, not an error
        ("${{ 'a' || 'b' }}${{ '' || 'c' }}${{ 0 && 'd' }}", "ac0"),
        ("${{ startsWith('refs/pull/7/merge', 'refs/pull/') && endsWith('x.yml', '.YML') }}", True),
        ("${{ join(fromJSON('[\"a\",\"b\"]'), ', ') }}", "a, b"),
    ],
)
def test_expressions_evaluate_as_githubs_evaluator_does(expression_evaluator: Evaluator, text: str, expected: object):
    assert expression_evaluator.template(text, {"github": {}}).value == expected


def test_conditions_follow_githubs_status_rules(expression_evaluator: Evaluator):
    failed = Status(success=False, failure=True)
    assert expression_evaluator.condition("!cancelled()", {}, failed).truthy
    assert not expression_evaluator.condition("true", {}, failed).truthy  # implicit success() &&
    assert expression_evaluator.condition("failure() && true", {}, failed).truthy
    assert expression_evaluator.condition("${{ false }} && true", {}).truthy  # a string, not an expression
    with pytest.raises(ExpressionError, match="hashFiles"):
        expression_evaluator.expression("hashFiles('x')", {})
    with pytest.raises(ExpressionError):
        expression_evaluator.expression("github.event ==", {})


@pytest.fixture
def pull_request_run(fake_github: FakeGitHub, tmp_path: Path, expression_evaluator: Evaluator) -> WorkflowRunner:
    fake_github.commit("main", {"models/churn.yaml": "name: churn\n"})
    fake_github.commit("change", {"models/churn.yaml": "name: churn\ndescription: x\n"}, author="alice")
    pr = fake_github.open_pull_request("change", author="alice", labels=["registry"])
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    return WorkflowRunner(
        WORKFLOWS / "sample.yml",
        events.pull_request(fake_github, pr.number, "opened"),
        workspace,
        expression_evaluator,
        actions={"actions/checkout": checkout(fake_github.git)},
        token=fake_github.actions_token,
        api_url=fake_github.url,
    )


def test_steps_pass_outputs_env_and_path_and_stop_at_a_failure(pull_request_run: WorkflowRunner):
    build = pull_request_run.run_job("build")
    step = build.step
    assert build.result == "failure"  # the `shell: bash` step failed on its pipe
    assert step("write").outputs == {"greeting": "hello from-job-pull_request", "letter": "Dear reviewer,\nline = two"}
    assert step("read").outputs == {
        "env": "set by a step|from-job|workflow",
        "tool": "tool-ran",
        "greeting": "hello from-job-pull_request",
        "has-token": "",  # GITHUB_TOKEN is not an environment variable unless a step maps it
        "contains": "true",
    }
    assert (step("never").outcome, step("soft").outcome, step("soft").conclusion) == ("skipped", "failure", "success")
    assert step("default-shell").outputs == {"survived": "yes"} and step("bash-shell").outcome == "failure"
    assert step("after").outcome == "skipped" and step("on-failure").outputs == {"ran": "yes"}
    assert step("not-cancelled").outputs == {"outcomes": "failure/success/skipped"}
    assert [(a.level, a.message) for a in build.annotations] == [("error", "bad file")]
    assert build.summary == "### Summary from build\n"
    assert build.outputs["letter"] == "Dear reviewer,\nline = two"
    assert build.permissions == {"contents": "read", "pull-requests": "write", "statuses": "write", "metadata": "read"}
    workspace = pull_request_run.run.workspace
    assert (workspace / "models" / "churn.yaml").read_text() == "name: churn\ndescription: x\n"  # the merge commit
    assert "extraheader" not in (workspace / ".git" / "config").read_text()  # persist-credentials: false


def test_jobs_run_in_needs_order_with_needs_outputs(pull_request_run: WorkflowRunner):
    jobs = pull_request_run.run_workflow(["deploy"])
    assert list(jobs) == ["build", "report", "deploy"]
    assert [jobs[j].result for j in jobs] == ["failure", "success", "skipped"]  # deploy: an ancestor failed
    assert jobs["report"].step("use").outputs == {
        "result": "failure",
        "greeting": "hello from-job-pull_request",
        "first-line": "Dear reviewer,",
        "parsed": "b",
    }
    assert pull_request_run.concurrency() == {"group": "sample-1", "cancel-in-progress": True}


def test_dispatch_inputs_secrets_masking_and_job_if(
    fake_github: FakeGitHub, tmp_path: Path, expression_evaluator: Evaluator
):
    fake_github.commit("main", {"README.md": "x\n"})
    minted: list[tuple[dict[str, str], bool]] = []

    def token(permissions: dict[str, str], read_only: bool) -> str:
        minted.append((permissions, read_only))
        return fake_github.actions_token(permissions, read_only=read_only)

    def run(event: events.Event) -> dict:
        runner = WorkflowRunner(
            WORKFLOWS / "dispatch.yml",
            event,
            tmp_path,
            expression_evaluator,
            secrets={"REGISTRY_PASSWORD": "s3cr3t-pw"},
            token=token,
        )
        return runner.run_workflow()

    staging = run(events.workflow_dispatch(fake_github, "dispatch.yml", {"dry-run": "false"}))
    production = run(events.workflow_dispatch(fake_github, "dispatch.yml", {"dry-run": "true", "target": "production"}))
    scheduled = run(events.schedule(fake_github, "17 * * * *"))

    plan = staging["plan"].step("mode")
    assert plan.outputs == {"mode": "false:staging:", "secret-length": "9"}
    assert "the secret is ***" in plan.log and "s3cr3t-pw" in plan.stdout and "target is ***" in plan.log
    assert (staging["apply"].result, production["apply"].result) == ("skipped", "success")
    assert scheduled["plan"].outputs == {"mode": "true:staging:17 * * * *"}
    assert minted[0] == ({"metadata": "read"}, False)  # `permissions: {}`


def test_a_fork_pull_request_gets_no_secrets_and_a_read_only_token(
    fake_github: FakeGitHub, tmp_path: Path, expression_evaluator: Evaluator
):
    fake_github.commit("main", {"README.md": "x\n"})
    fork = fake_github.fork("mallory")
    fake_github.commit("evil", {"README.md": "y\n"}, author="mallory")
    pr = fake_github.open_pull_request("evil", author="mallory", fork=fork)
    minted: list[bool] = []
    runner = WorkflowRunner(
        WORKFLOWS / "sample.yml",
        events.pull_request(fake_github, pr.number),
        tmp_path,
        expression_evaluator,
        actions={"actions/checkout": noop},
        secrets={"REGISTRY_PASSWORD": "s3cr3t"},
        token=lambda perms, read_only: (
            minted.append(read_only) or fake_github.actions_token(perms, read_only=read_only)
        ),
    )
    job = runner.run_job("build")
    assert job.secrets_withheld and minted == [True]


def test_an_action_without_a_handler_fails_loudly(pull_request_run: WorkflowRunner):
    pull_request_run.actions.clear()
    with pytest.raises(UnknownAction, match="actions/checkout@v4"):
        pull_request_run.run_job("build")


def test_the_sample_workflows_pass_actionlint():
    binary = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert binary, "actionlint is missing: install the dev extras (pip install -e '.[dev]')"
    done = subprocess.run(
        [binary, "-no-color", *map(str, sorted(WORKFLOWS.glob("*.yml")))], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
