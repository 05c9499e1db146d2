"""Approvals evaluation and the requirements behind it: the edges the golden cases do not spell out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from reconciler.governance.approvals import (
    STATUS_MAX,
    Review,
    State,
    commits_to_check,
    evaluate,
    latest_reviews,
    teams_needed,
    touches_models,
)
from reconciler.governance.policy import ReviewPolicy, Tier, load_policy
from reconciler.governance.report import approvals_markdown, status
from reconciler.governance.rules import Kind, Requirement, model_file_paths, requirements
from reconciler.plan.values import Plan

T0 = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)


def review(user: str, state: str, commit: str = "head", minutes: int = 0) -> Review:
    return Review(user, State(state), commit, T0 + timedelta(minutes=minutes))


def req(approvals: int = 1, *groups: str) -> Requirement:
    return Requirement("models/churn.yaml", Kind.MODEL, approvals, groups or ("alice", "bob"), "changes the model file")


def test_latest_review_is_by_submission_time_and_ties_keep_the_order_given():
    reviews = [
        review("alice", "APPROVED", minutes=5),
        review("alice", "CHANGES_REQUESTED", minutes=1),
        review("bob", "CHANGES_REQUESTED", minutes=3),
        review("BOB", "APPROVED", minutes=3),
        Review("carol", State.APPROVED, "head", None),  # pending reviews have no time: ignored
        review("dave", "APPROVED", minutes=1),
        review("dave", "COMMENTED", minutes=9),
        review("erin", "PENDING", minutes=9),
    ]
    latest = latest_reviews(reviews)
    assert {k: v.state.value for k, v in latest.items()} == {"alice": "APPROVED", "bob": "APPROVED", "dave": "APPROVED"}


def test_logins_and_teams_match_in_any_case_and_with_or_without_at():
    verdict = evaluate(
        [req(2, "@Alice", "@ACME/Leads")],
        [review("ALICE", "APPROVED"), review("Erin", "APPROVED")],
        "dana",
        "head",
        (),
        {"@acme/leads": ["erin"]},
    )
    assert verdict.ok and verdict.approvers == ("ALICE", "Erin")


def test_the_author_never_counts_in_any_spelling():
    for author in ("alice", "ALICE", "@alice"):
        verdict = evaluate([req(1)], [review("Alice", "APPROVED")], author, "head", (), {})
        assert not verdict.ok and verdict.results[0].not_counted[0].reason == "the pull request's author"


def test_an_author_request_for_changes_does_not_block():
    reviews = [review("alice", "CHANGES_REQUESTED"), review("bob", "APPROVED")]
    verdict = evaluate([req(1)], reviews, "alice", "head", (), {})
    assert verdict.ok


def test_freshness_is_asked_once_per_commit_and_only_for_older_approvals():
    asked: list[str] = []

    def fresh(commit: str) -> bool:
        asked.append(commit)
        return commit == "c2"

    reviews = [review(u, "APPROVED", c) for u, c in (("alice", "c1"), ("bob", "c2"), ("carol", "c2"), ("erin", "head"))]
    reqs = [req(4, "alice", "bob", "carol", "erin"), req(1, "bob")]
    verdict = evaluate(reqs, reviews, "dana", "head", fresh, {})
    assert sorted(asked) == ["c1", "c2"]
    assert verdict.results[0].counted == ("bob", "carol", "erin") and verdict.results[1].ok
    assert commits_to_check([*reviews, review("dana", "APPROVED", "c0")], "dana", "head") == {"c1", "c2"}


def test_zero_approvals_pass_unless_an_eligible_reviewer_requests_changes():
    assert evaluate([req(0)], [], "dana", "head", (), {}).ok
    blocked = evaluate([req(0)], [review("bob", "CHANGES_REQUESTED")], "dana", "head", (), {})
    assert not blocked.ok and blocked.results[0].message() == "changes requested by bob"


def test_teams_needed_are_the_requirements_teams_in_lower_case():
    reqs = [req(1, "alice", "@Acme/Leads"), req(1, "acme/ops", "@acme/leads")]
    assert teams_needed(reqs) == {"@acme/leads", "@acme/ops"}


def test_unreadable_team_members_are_said_and_never_guessed():
    verdict = evaluate([req(1, "@acme/leads")], [review("erin", "APPROVED")], "dana", "head", (), {})
    (r,) = verdict.results
    assert not r.ok and r.unresolved_teams == ("@acme/leads",)
    assert "could not be read" in approvals_markdown(verdict)


def test_the_status_description_fits_githubs_limit_and_shows_no_control_characters():
    hostile = "x\u202e\n" * 200
    verdict = evaluate([req(1, hostile)], [review(hostile, "CHANGES_REQUESTED")], "dana", "head", (), {})
    state, description = status(verdict, ())
    assert state == "failure" and len(description) <= STATUS_MAX
    assert description.isprintable() and "\\u202e" in description


def test_status_with_approvals_and_no_requirements():
    assert status(evaluate([], [], "dana", "head", (), {}), ()) == ("success", "No approvals needed")


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["./models/a.yaml", "models/b.yml", "models/C.YAML"], ["models/C.YAML", "models/a.yaml", "models/b.yml"]),
        (["models/sub/x.yaml", "models/README.md", "other/models/x.yaml", "x.yaml"], []),
        (["models/_policy.yaml", "models/_policy.yaml"], ["models/_policy.yaml"]),
    ],
)
def test_which_changed_paths_are_model_or_settings_files(paths, expected):
    assert [str(p) for p in model_file_paths(paths)] == expected


def empty_plan() -> Plan:
    return Plan(changes=())


def test_a_settings_file_other_than_the_policy_needs_the_policy_owners():
    policy = load_policy("owners: [ops]\nchanges: {approvals: 0}\n")
    (r,) = requirements(empty_plan(), {}, policy, ["models/_notes.yaml"])
    assert r.kind is Kind.POLICY and r.approvals == 1 and r.groups == ("ops",) and "settings file" in r.why


def test_another_models_directory():
    policy = ReviewPolicy(owners=("ops",), changes=Tier(2, ("model-owners",)))
    (r,) = requirements(empty_plan(), {}, policy, ["config/models/new.yaml", "models/ignored.yaml"], "config/models")
    assert (r.subject, r.kind, r.approvals, r.groups) == ("config/models/new.yaml", Kind.NEW_MODEL, 2, ("ops",))


def test_which_compared_files_make_an_approval_stale():
    assert touches_models(["README.md", "models/sub/x.txt"]) and touches_models(["./models/a.yaml"])
    assert not touches_models(["README.md", "modelsx/a.yaml", "infra/models/a.yaml"])
    assert touches_models(["config/models/a.yaml"], "config/models")


def test_a_reviewer_name_github_would_never_give_matches_nobody():
    reviews = [review("@alice", "APPROVED"), review("alice ", "APPROVED"), review("bob\u200b", "APPROVED")]
    verdict = evaluate([req(1)], reviews, "dana", "head", (), {})
    assert not verdict.ok and [n.reason for n in verdict.results[0].not_counted] == ["not an approver of this"] * 3
