"""`reconciler github check` and `apply` case by case, in-process, on a local SQLite registry."""

from __future__ import annotations

import html
import json

import pytest

from tests.github import events
from tests.github.conftest import Registry
from tests.github.fake import FakeGitHub
from tests.github.gitrepo import Link
from tests.github.inproc import Step

MODEL = 'name: {name}\nowners: ["@acme/ml"]\ndescription: {description}\n'


def _models(names, description: str) -> dict[str, str]:
    return {f"models/{n}.yaml": MODEL.format(name=n, description=description) for n in names}


def _check(step: Step, gh: FakeGitHub, number: int, env: dict[str, str]):
    return step.run(["github", "check"], events.pull_request(gh, number, "synchronize"), env)


def test_the_check_makes_the_same_few_api_calls_for_1_or_30_models_and_1_or_20_reviews(
    fake_github: FakeGitHub, registry: Registry, step: Step
):
    names = [f"m{i:02d}" for i in range(30)]
    for n in names:
        registry.model(n, [0.9])
    fake_github.commit("main", _models(names, "old"))
    fake_github.add_team_member("acme", "ml", "olivia")
    members = fake_github.add_token("reconciler-app[bot]", {"members": "read"})
    env = {"RECONCILER_MEMBERS_TOKEN": members, "MLFLOW_TRACKING_URI": registry.uri}
    fake_github.commit("one", _models(names[:1], "new"), author="alice")
    fake_github.commit("all", _models(names, "new"), author="alice")
    small = fake_github.open_pull_request("one", author="alice")
    large = fake_github.open_pull_request("all", author="alice")
    fake_github.add_review(small.number, "olivia", "APPROVED")
    for i in range(19):
        fake_github.add_review(large.number, f"reviewer{i}", "COMMENTED" if i % 2 else "APPROVED")
    fake_github.add_review(large.number, "olivia", "APPROVED")

    counts = []
    for number in (small.number, large.number, small.number, large.number):
        fake_github.reset_calls()
        ran = _check(step, fake_github, number, env)
        assert ran.code == 0, ran.err
        counts.append(dict(fake_github.call_counts()))

    first = {
        "issues/list-comments": 1,
        "pulls/list-reviews": 1,
        "teams/list-members-in-org": 1,
        "issues/create-comment": 1,
        "repos/create-commit-status": 1,
    }
    again = {**{k: v for k, v in first.items() if k != "issues/create-comment"}, "issues/update-comment": 1}
    assert counts == [first, first, again, again]
    assert [s.state for s in fake_github.statuses_for(small.head_sha)] == ["success", "success"]
    assert [s.state for s in fake_github.statuses_for(large.head_sha)] == ["success", "success"]


POLICY = """\
owners: [platform-lead]
protected:
  aliases: [champion]
  approvals: 1
  from: [model-owners]
  gates:
    - {metric: accuracy, at_least: 0.9}
"""
# The registry's versions here have no model files (tests/github/conftest.py): the smoke test of
# protected moves is opted out of; tests/health/test_check_smoke.py runs it on real models.
CHURN = "name: churn\nowners: [olivia]\naliases: {{champion: {v}}}\nsmoke: {{enabled: false}}\n"


@pytest.fixture
def churn(fake_github: FakeGitHub, registry: Registry) -> dict[str, str]:
    """churn v1 (accuracy 0.92, champion), v2 (0.95), v3 (0.5), v4 (no metric); olivia owns it."""
    registry.model("churn", [0.92, 0.95, 0.5, None])
    registry.client.set_registered_model_alias("churn", "champion", "1")
    fake_github.commit("main", {"models/_policy.yaml": POLICY, "models/churn.yaml": CHURN.format(v=1)})
    return {"MLFLOW_TRACKING_URI": registry.uri}


def _open(gh: FakeGitHub, files: dict[str, str | None], author: str = "alice", branch: str = "promote") -> int:
    gh.commit(branch, files, author=author)
    return gh.open_pull_request(branch, author=author).number


def _status(gh: FakeGitHub, number: int) -> tuple[str, str]:
    latest = [s for s in gh.statuses_for(gh.state.pulls[number].head_sha) if s.context == "registry/policy"][-1]
    return latest.state, latest.description or ""


def _merge_and_apply(gh: FakeGitHub, step: Step, number: int, env: dict[str, str]):
    before = gh.git.tip("main")
    assert before is not None
    gh.merge_pull_request(number)
    from tests.github.inproc import APPLY_PERMISSIONS

    return step.run(["github", "apply"], events.push(gh, "main", before), env, APPLY_PERMISSIONS)


@pytest.mark.parametrize(("version", "why"), [(3, "0&#46;5"), (4, "has no metric")])
def test_a_failing_or_missing_metric_fails_the_status_whatever_the_approvals(
    fake_github: FakeGitHub, step: Step, churn: dict[str, str], version: int, why: str
):
    number = _open(fake_github, {"models/churn.yaml": CHURN.format(v=version)})
    fake_github.add_review(number, "olivia", "APPROVED")

    ran = step.run(["github", "check"], events.pull_request(fake_github, number), churn)

    assert ran.code == 0, ran.err
    state, description = _status(fake_github, number)
    assert state == "failure" and "gate" in description
    body = fake_github.comments_on(number)[-1].body
    assert "1 metric gate failed" in body and why in body and "❌ fail" in body
    assert "state=failure" in ran.outputs


def test_an_approval_on_an_older_commit_stops_counting_once_models_change(
    fake_github: FakeGitHub, step: Step, churn: dict[str, str]
):
    number = _open(fake_github, {"models/churn.yaml": CHURN.format(v=2)})
    fake_github.add_review(number, "olivia", "APPROVED")
    fake_github.push(number, {"README.md": "docs only\n"})  # nothing under models/: the approval stands
    assert step.run(["github", "check"], events.pull_request(fake_github, number, "synchronize"), churn).code == 0
    assert _status(fake_github, number)[0] == "success"

    fake_github.push(number, {"models/churn.yaml": CHURN.format(v=3).replace("3", "2") + "description: x\n"})
    assert step.run(["github", "check"], events.pull_request(fake_github, number, "synchronize"), churn).code == 0

    assert _status(fake_github, number)[0] == "failure"
    assert "approved an earlier commit, and models/ changed since" in html.unescape(
        fake_github.comments_on(number)[-1].body
    )


def test_files_that_do_not_validate_get_the_errors_in_the_comment(fake_github: FakeGitHub, step: Step, churn):
    number = _open(fake_github, {"models/churn.yaml": "name: churn\naliases: {champion: one}\n"})

    ran = step.run(["github", "check"], events.pull_request(fake_github, number), churn)

    assert ran.code == 1 and "models/churn.yaml:2" in ran.err
    body = fake_github.comments_on(number)[-1].body
    assert "do not validate" in body and "models&#47;churn&#46;yaml&#58;2" in body
    assert _status(fake_github, number)[0] == "failure"


def test_a_pull_request_that_changes_no_model_file_passes_without_a_comment(fake_github: FakeGitHub, step: Step, churn):
    number = _open(fake_github, {"README.md": "hello\n"})

    ran = step.run(["github", "check"], events.pull_request(fake_github, number), churn)

    assert ran.code == 0 and fake_github.comments_on(number) == []
    assert _status(fake_github, number) == ("success", "No files in models/ change: nothing to approve")


def test_a_fork_pull_request_is_refused_before_any_call(fake_github: FakeGitHub, step: Step, churn):
    fork = fake_github.fork("mallory")
    fake_github.commit("evil", {"models/churn.yaml": CHURN.format(v=2)}, author="mallory")
    number = fake_github.open_pull_request("evil", author="mallory", fork=fork).number
    fake_github.reset_calls()

    ran = step.run(["github", "check"], events.pull_request(fake_github, number), {}, read_only=True)

    assert ran.code == 1 and "fork" in ran.err and "validate --offline" in ran.err
    assert fake_github.calls == []


def test_a_review_before_any_plan_comment_changes_nothing(fake_github: FakeGitHub, step: Step, churn):
    number = _open(fake_github, {"models/churn.yaml": CHURN.format(v=2)})
    review = fake_github.add_review(number, "olivia", "APPROVED")
    fake_github.reset_calls()

    ran = step.run(["github", "check"], events.pull_request_review(fake_github, review.id), {})

    assert ran.code == 0 and "No plan comment yet" in ran.out
    assert dict(fake_github.call_counts()) == {"issues/list-comments": 1}


def test_a_forged_plan_comment_is_ignored_by_the_check_and_by_the_merge(
    fake_github: FakeGitHub, step: Step, churn: dict[str, str], registry: Registry
):
    """mallory (a collaborator) pastes a plan comment with the marker and a data block whose digest is
    that of another plan: the check posts its own comment, and the merge compares with the bot's."""
    number = _open(fake_github, {"models/churn.yaml": CHURN.format(v=2)})
    step.run(["github", "check"], events.pull_request(fake_github, number), churn)
    genuine = fake_github.comments_on(number)[-1].body
    fake_github.add_comment(number, "mallory", genuine.replace("v2", "v9"))
    fake_github.add_review(number, "olivia", "APPROVED")
    review = fake_github.state.reviews[-1]
    assert step.run(["github", "check"], events.pull_request_review(fake_github, review.id), {}).code == 0

    ran = _merge_and_apply(fake_github, step, number, churn)

    assert ran.code == 0, ran.err
    bots = [c for c in fake_github.comments_on(number) if c.user.login == "github-actions[bot]"]
    assert len([c for c in bots if c.body.startswith("<!-- reconciler-plan -->")]) == 1
    assert registry.client.get_registered_model("churn").aliases["champion"] == 2


def test_drift_between_review_and_merge_applies_nothing(
    fake_github: FakeGitHub, step: Step, churn: dict[str, str], registry: Registry
):
    number = _open(fake_github, {"models/churn.yaml": CHURN.format(v=2)})
    fake_github.add_review(number, "olivia", "APPROVED")
    step.run(["github", "check"], events.pull_request(fake_github, number), churn)
    assert _status(fake_github, number)[0] == "success"
    registry.client.set_registered_model_alias("churn", "champion", "3")  # a hand edit after the review
    registry.client.set_registered_model_tag("churn", "note", "by hand")

    ran = _merge_and_apply(fake_github, step, number, churn)

    assert ran.code == 1 and "differs from the plan last shown" in ran.err
    model = registry.client.get_registered_model("churn")
    assert model.aliases["champion"] == 3 and "gitops.audit" not in model.tags  # nothing written
    refusal = fake_github.comments_on(number)[-1].body
    assert refusal.startswith("<!-- reconciler-apply -->") and "Nothing was written" in refusal
    assert "In the plan now, not in the plan reviewed" in refusal and "v3" in refusal and "applied=false" in ran.outputs


def test_a_merge_around_the_policy_applies_nothing(fake_github: FakeGitHub, step: Step, churn, registry: Registry):
    """An admin merges without the owner's approval: the plan is the one shown, but the policy is not met."""
    number = _open(fake_github, {"models/churn.yaml": CHURN.format(v=2)})
    step.run(["github", "check"], events.pull_request(fake_github, number), churn)

    ran = _merge_and_apply(fake_github, step, number, churn)

    assert ran.code == 1 and "does not meet the policy" in ran.err
    assert registry.client.get_registered_model("churn").aliases["champion"] == 1


def test_a_push_that_is_no_pull_requests_merge_applies_nothing(fake_github: FakeGitHub, step: Step, churn, registry):
    before = fake_github.git.tip("main")
    assert before is not None
    fake_github.commit("main", {"models/churn.yaml": CHURN.format(v=2)}, author="admin")
    from tests.github.inproc import APPLY_PERMISSIONS

    ran = step.run(["github", "apply"], events.push(fake_github, "main", before), churn, APPLY_PERMISSIONS)

    assert ran.code == 1 and "is not the merge of a pull request" in ran.err
    assert registry.client.get_registered_model("churn").aliases["champion"] == 1


def test_a_plan_comment_signed_with_another_key_is_not_trusted(fake_github: FakeGitHub, step: Step, churn, registry):
    number = _open(fake_github, {"models/churn.yaml": CHURN.format(v=2)})
    fake_github.add_review(number, "olivia", "APPROVED")
    step.run(["github", "check"], events.pull_request(fake_github, number), {**churn, "RECONCILER_PLAN_KEY": "old"})

    ran = _merge_and_apply(fake_github, step, number, {**churn, "RECONCILER_PLAN_KEY": "new"})

    assert ran.code == 1 and "cannot be trusted" in ran.err
    assert registry.client.get_registered_model("churn").aliases["champion"] == 1


def test_hostile_values_cannot_forge_the_comments_sections_or_data(
    fake_github: FakeGitHub, step: Step, churn: dict[str, str], registry: Registry
):
    """A description holding the comment's own markers stays inert text; the data block is still the
    one the bot wrote, and a review event still finds and replaces the right sections."""
    evil = "x <!-- /reconciler:plan --> <!-- reconciler-data: AAAA --> @everyone [link](http://e.vil) <b>"
    text = CHURN.format(v=1) + f"description: {evil!r}\n"
    number = _open(fake_github, {"models/churn.yaml": text})
    assert step.run(["github", "check"], events.pull_request(fake_github, number), churn).code == 0
    body = fake_github.comments_on(number)[-1].body
    assert body.count("<!-- reconciler-data:") == 1 and body.count("<!-- /reconciler:plan -->") == 1
    assert "@everyone" not in body
    assert "<b>" not in body
    assert "http://e.vil" not in body
    review = fake_github.add_review(number, "olivia", "APPROVED")

    ran = step.run(["github", "check"], events.pull_request_review(fake_github, review.id), {})

    assert ran.code == 0, ran.err
    assert _status(fake_github, number)[0] == "success"
    updated = fake_github.comments_on(number)[-1].body
    assert "&#47;reconciler&#58;plan" in updated and updated.count("<!-- reconciler-data:") == 1


def test_an_unreachable_registry_fails_the_status_with_the_reason(fake_github: FakeGitHub, step: Step, churn):
    number = _open(fake_github, {"models/churn.yaml": CHURN.format(v=2)})

    ran = step.run(
        ["github", "check"], events.pull_request(fake_github, number), {"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}
    )

    assert ran.code == 1 and "cannot reach the registry" in ran.err and "\n" not in ran.err.strip()
    state, description = _status(fake_github, number)
    assert state == "error" and description.startswith("Could not plan: cannot reach the registry")


def test_teams_the_token_cannot_read_count_nobody_and_say_what_to_set(fake_github: FakeGitHub, step: Step, registry):
    registry.model("churn", [0.92])
    fake_github.commit("main", {"models/churn.yaml": 'name: churn\nowners: ["@acme/ml"]\n'})
    fake_github.add_team_member("acme", "ml", "olivia")
    number = _open(fake_github, {"models/churn.yaml": 'name: churn\nowners: ["@acme/ml"]\ndescription: x\n'})
    fake_github.add_review(number, "olivia", "APPROVED")

    ran = step.run(["github", "check"], events.pull_request(fake_github, number), {"MLFLOW_TRACKING_URI": registry.uri})

    assert ran.code == 0 and "::warning::cannot read the members of @acme/ml" in ran.out
    assert "RECONCILER_MEMBERS_TOKEN" in ran.out and _status(fake_github, number)[0] == "failure"
    assert "could not be read" in html.unescape(fake_github.comments_on(number)[-1].body)


def test_a_rerun_of_an_apply_finishes_what_is_left_and_a_rerun_after_that_does_nothing(
    fake_github: FakeGitHub, step: Step, churn: dict[str, str], registry: Registry
):
    text = CHURN.format(v=2) + "tags: {team: churn}\n"
    number = _open(fake_github, {"models/churn.yaml": text})
    fake_github.add_review(number, "olivia", "APPROVED")
    step.run(["github", "check"], events.pull_request(fake_github, number), churn)
    registry.client.set_registered_model_tag("churn", "team", "churn")  # part of the plan, as a first run left it
    before = fake_github.git.tip("main")
    fake_github.merge_pull_request(number)
    from tests.github.inproc import APPLY_PERMISSIONS

    push = events.push(fake_github, "main", before or "")
    first = step.run(["github", "apply"], push, churn, APPLY_PERMISSIONS)
    again = step.run(["github", "apply"], push, churn, APPLY_PERMISSIONS)

    assert first.code == 0, first.err
    plan_comment, applied = (c.body for c in fake_github.comments_on(number))  # the re-run adds no comment
    assert applied.startswith("<!-- reconciler-apply -->") and plan_comment.startswith("<!-- reconciler-plan -->")
    assert "1 change applied of 1 (1 of the 2 reviewed were in the registry already)" in applied
    assert registry.client.get_registered_model("churn").aliases["champion"] == 2
    assert again.code == 0 and "nothing to apply" in again.out


def test_a_review_of_a_head_whose_plan_is_not_shown_yet_changes_nothing(fake_github: FakeGitHub, step: Step, churn):
    number = _open(fake_github, {"models/churn.yaml": CHURN.format(v=2)})
    step.run(["github", "check"], events.pull_request(fake_github, number), churn)
    first_head = fake_github.state.pulls[number].head_sha
    fake_github.push(number, {"models/churn.yaml": CHURN.format(v=3)})  # its check has not run yet
    review = fake_github.add_review(number, "olivia", "APPROVED")
    fake_github.reset_calls()

    ran = step.run(["github", "check"], events.pull_request_review(fake_github, review.id), {})

    assert ran.code == 0 and "its own check counts then" in ran.out
    assert dict(fake_github.call_counts()) == {"issues/list-comments": 1}
    assert fake_github.statuses_for(fake_github.state.pulls[number].head_sha) == []
    assert [s.state for s in fake_github.statuses_for(first_head)] == ["failure"]


def test_two_applies_at_once_both_apply_one_after_the_other(fake_github: FakeGitHub, step: Step, registry: Registry):
    """If two apply jobs ever run at once (a queue misconfigured, a re-run), the registry lock in
    reconciler.apply.execute.apply serializes them: both merges are applied and recorded."""
    for name in ("churn", "fraud"):
        registry.model(name, [0.9])
    fake_github.commit("main", {f"models/{n}.yaml": f"name: {n}\nowners: [olivia]\n" for n in ("churn", "fraud")})
    env = {"MLFLOW_TRACKING_URI": registry.uri}
    pushes = []
    for name in ("churn", "fraud"):
        number = _open(
            fake_github, {f"models/{name}.yaml": f"name: {name}\nowners: [olivia]\ntags: {{t: x}}\n"}, branch=name
        )
        fake_github.add_review(number, "olivia", "APPROVED")
        assert step.run(["github", "check"], events.pull_request(fake_github, number), env).code == 0
        before = fake_github.git.tip("main") or ""
        fake_github.merge_pull_request(number)
        pushes.append(events.push(fake_github, "main", before))
    from tests.github.inproc import APPLY_PERMISSIONS

    procs = [step.start(["github", "apply"], push, env, APPLY_PERMISSIONS) for push in pushes]
    results = [(*p.communicate(timeout=300), p.returncode) for p in procs]

    assert [code for _, _, code in results] == [0, 0], results
    for name in ("churn", "fraud"):
        model = registry.client.get_registered_model(name)
        assert model.tags["t"] == "x" and json.loads(model.tags["gitops.audit"])["approved_by"] == ["olivia"]


def test_a_version_the_registry_lacks_is_shown_on_the_pull_request(fake_github: FakeGitHub, step: Step, churn):
    number = _open(fake_github, {"models/churn.yaml": CHURN.format(v=9)})

    ran = step.run(["github", "check"], events.pull_request(fake_github, number), churn)

    assert ran.code == 1 and "has no version 9 in the registry" in ran.err
    assert "has no version 9 in the registry" in html.unescape(fake_github.comments_on(number)[-1].body)
    assert _status(fake_github, number)[0] == "failure"


def test_a_review_when_the_comment_shows_no_plan_changes_nothing(fake_github: FakeGitHub, step: Step, churn):
    number = _open(fake_github, {"models/churn.yaml": "name: churn\naliases: {champion: one}\n"})
    assert step.run(["github", "check"], events.pull_request(fake_github, number), churn).code == 1
    review = fake_github.add_review(number, "olivia", "APPROVED")

    ran = step.run(["github", "check"], events.pull_request_review(fake_github, review.id), {})

    assert ran.code == 0 and "holds no plan" in ran.out
    assert _status(fake_github, number)[0] == "failure"


def test_a_squash_merge_applies_with_an_approval_given_before_a_docs_only_push(
    fake_github: FakeGitHub, step: Step, churn: dict[str, str], registry: Registry
):
    """Squashed, the pull request's head is no parent of the merge: it is fetched to judge the approval."""
    number = _open(fake_github, {"models/churn.yaml": CHURN.format(v=2)})
    fake_github.add_review(number, "olivia", "APPROVED")
    fake_github.push(number, {"README.md": "docs\n"})
    step.run(["github", "check"], events.pull_request(fake_github, number, "synchronize"), churn)
    assert _status(fake_github, number)[0] == "success"
    before = fake_github.git.tip("main") or ""
    fake_github.merge_pull_request(number, method="squash")
    from tests.github.inproc import APPLY_PERMISSIONS

    ran = step.run(["github", "apply"], events.push(fake_github, "main", before), churn, APPLY_PERMISSIONS)

    assert ran.code == 0, ran.err
    assert registry.client.get_registered_model("churn").aliases["champion"] == 2


def test_a_link_in_models_on_the_base_branch_fails_a_pull_request_that_changes_its_target(
    fake_github: FakeGitHub, step: Step, churn: dict[str, str]
):
    """main had models/churn.yaml -> ../config/churn.yaml: a pull request changing config/churn.yaml
    only got "No files in models/ change: nothing to approve", and the drift job then asked an admin
    to apply the unreviewed content."""
    fake_github.commit(
        "main", {"config/churn.yaml": CHURN.format(v=1), "models/churn.yaml": Link("../config/churn.yaml")}
    )
    number = _open(fake_github, {"config/churn.yaml": CHURN.format(v=2)})

    ran = step.run(["github", "check"], events.pull_request(fake_github, number), churn)

    assert ran.code == 1 and "models/churn.yaml: a symbolic link" in ran.err
    assert _status(fake_github, number) == ("failure", "1 problem(s) in the files; see the plan comment")
    body = html.unescape(fake_github.comments_on(number)[-1].body)
    assert "models/churn.yaml: a symbolic link; models/ holds regular files only" in body


def test_a_link_added_to_models_is_refused_without_reading_its_target(
    fake_github: FakeGitHub, step: Step, churn: dict[str, str], tmp_path
):
    """An absolute link to a file on the runner made the check quote that file's keys in the public comment."""
    secret = tmp_path / "runner-secret.yaml"
    secret.write_text("AKIA_EXAMPLE_KEY: hunter2\n")
    number = _open(fake_github, {"models/x.yaml": Link(str(secret))})

    ran = step.run(["github", "check"], events.pull_request(fake_github, number), churn)

    assert ran.code == 1 and "models/x.yaml: a symbolic link" in ran.err
    assert _status(fake_github, number)[0] == "failure"
    body = fake_github.comments_on(number)[-1].body
    assert "AKIA" not in body + ran.err + ran.out + ran.summary and "hunter2" not in body


def test_a_pull_request_replacing_a_base_link_with_the_file_is_judged_as_a_new_file(
    fake_github: FakeGitHub, step: Step, churn: dict[str, str]
):
    """The fix itself passes the gate; the link on the base branch is never read as the base's rules."""
    fake_github.commit(
        "main", {"config/churn.yaml": CHURN.format(v=1), "models/churn.yaml": Link("../config/churn.yaml")}
    )
    number = _open(fake_github, {"models/churn.yaml": CHURN.format(v=1)})

    ran = step.run(["github", "check"], events.pull_request(fake_github, number), churn)

    assert ran.code == 0, ran.err
    body = html.unescape(fake_github.comments_on(number)[-1].body)
    assert "adds a model file: the base policy's owners approve new models" in body
    assert "churn.yaml: a symbolic link; models/ holds regular files only" in ran.out
    assert "(on the base branch: not read, so the pull request is judged as if it added the file)" in ran.out


def test_a_linked_policy_on_the_base_branch_judges_nothing(fake_github: FakeGitHub, step: Step, churn: dict[str, str]):
    """The policy a pull request is judged by is the base branch's: a link there is not followed,
    and the check fails as for a base policy that does not load."""
    fake_github.commit("main", {"config/policy.yaml": POLICY, "models/_policy.yaml": Link("../config/policy.yaml")})
    number = _open(fake_github, {"models/_policy.yaml": POLICY, "models/churn.yaml": CHURN.format(v=2)})

    ran = step.run(["github", "check"], events.pull_request(fake_github, number), churn)

    assert ran.code == 1
    assert "_policy.yaml: a symbolic link" in ran.err and "(the base branch's file: fix it there first)" in ran.err


def test_a_registry_error_that_quotes_the_uri_reaches_neither_the_status_nor_the_log_with_its_password(
    fake_github: FakeGitHub, step: Step, churn
):
    """MLflow quotes a mistyped URI in its error; the status once carried it (cut at 140 characters,
    which can also cut a URI before its `@`, where it no longer looks like one)."""
    from tests.support import secrets_scan

    secret = secrets_scan.token(16)
    number = _open(fake_github, {"models/churn.yaml": CHURN.format(v=2)})
    for uri in (f"http:/bob:{secret}@127.0.0.1:1/db", f"http://bob:{'x' * 80}{secret}@127.0.0.1:1/"):
        ran = step.run(["github", "check"], events.pull_request(fake_github, number), {"MLFLOW_TRACKING_URI": uri})
        state, description = _status(fake_github, number)
        assert ran.code == 1 and state == "error" and "bob:***" in description, (ran.err, description)
        assert secret not in description + ran.err + ran.out and secret[:4] not in description
