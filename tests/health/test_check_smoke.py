"""The pull-request check smoke-tests every version a protected move promotes, against a real
mlflow server and the OpenAPI-checked fake GitHub: a version that raises fails the policy status as
a failing gate does; one without an input example is "not tested" (failed when the policy requires
one); a model that opts out in its base file is shown as skipped; a review event keeps the failure."""

from __future__ import annotations

import html
from typing import Any

import pytest

from tests.github import events
from tests.github.fake import FakeGitHub
from tests.health import models
from tests.health.conftest import Registry

pytestmark = pytest.mark.integration

NAME = "pr-smoke"
POLICY = "owners: [platform-lead]\nprotected:\n  aliases: [champion]\n  approvals: 1\n  from: [model-owners]\n{extra}"
MODEL = "name: pr-smoke\nowners: [olivia]\naliases: {{champion: {v}}}\n{extra}"


@pytest.fixture(scope="module")
def versions(registry: Registry) -> dict[str, int]:
    """v1 good (champion), v2 raises, v3 no input example, v4 good."""
    from mlflow import MlflowClient

    found = {
        "good": models.register_sklearn(NAME),
        "raises": models.register_pyfunc(NAME, models.Raises()),
        "bare": models.register_sklearn(NAME, example=False),
        "good2": models.register_sklearn(NAME),
    }
    MlflowClient().set_registered_model_alias(NAME, "champion", str(found["good"]))
    return found


def _open(gh: FakeGitHub, version: int, policy_extra: str = "", base_extra: str = "") -> int:
    gh.commit(
        "main",
        {
            "models/_policy.yaml": POLICY.format(extra=policy_extra),
            "models/pr-smoke.yaml": MODEL.format(v=1, extra=base_extra),
        },
    )
    gh.commit("promote", {"models/pr-smoke.yaml": MODEL.format(v=version, extra=base_extra)}, author="alice")
    number = gh.open_pull_request("promote", author="alice").number
    gh.add_review(number, "olivia", "APPROVED")
    return number


def _check(gh: FakeGitHub, step: Any, number: int, registry: Registry, event: Any = None) -> tuple[str, str, str]:
    ran = step.run(["github", "check"], event or events.pull_request(gh, number), {"MLFLOW_TRACKING_URI": registry.uri})
    assert ran.code == 0, ran.err
    status = [s for s in gh.statuses_for(gh.state.pulls[number].head_sha) if s.context == "registry/policy"][-1]
    return status.state, status.description or "", html.unescape(gh.comments_on(number)[-1].body)


def test_a_version_that_raises_fails_the_status_and_a_review_keeps_it_failed(
    fake_github: FakeGitHub, step: Any, registry: Registry, versions: dict[str, int]
) -> None:
    number = _open(fake_github, versions["raises"])
    state, description, body = _check(fake_github, step, number, registry)
    assert (state, description) == ("failure", f"1 smoke test failed: {NAME} v{versions['raises']}")
    assert "### Smoke test" in body and "1 smoke test did not pass" in body and "1 smoke test failed" in body
    assert "feature store unreachable" in body and "serving_input_example.json" in body

    review = fake_github.add_review(number, "platform-lead", "APPROVED")
    state, description, _ = _check(
        fake_github, step, number, registry, events.pull_request_review(fake_github, review.id)
    )
    assert (state, description) == ("failure", "A metric gate or smoke test failed (see the plan comment)")


def test_a_good_version_passes_with_its_row_shown(
    fake_github: FakeGitHub, step: Any, registry: Registry, versions: dict[str, int]
) -> None:
    number = _open(fake_github, versions["good2"])
    state, _, body = _check(fake_github, step, number, registry)
    assert state == "success" and "Every candidate passes its smoke test" in body
    assert f"| v{versions['good2']} | <code>serving_input_example.json</code> | 5 | ✅ passed |" in html.unescape(
        body.replace("&#95;", "_").replace("&#46;", ".")
    )


def test_no_example_is_not_tested_unless_the_policy_requires_one(
    fake_github: FakeGitHub, step: Any, registry: Registry, versions: dict[str, int]
) -> None:
    number = _open(fake_github, versions["bare"])
    state, _, body = _check(fake_github, step, number, registry)
    assert "not tested" in body and "input_example=" in body, body
    assert state == "success", (state, _, body)

    fake_github.commit("main", {"models/_policy.yaml": POLICY.format(extra="smoke: {require_example: true}\n")})
    number = _open(fake_github, versions["bare"], policy_extra="smoke: {require_example: true}\n")
    state, description, body = _check(fake_github, step, number, registry)
    assert state == "failure" and description.startswith("1 smoke test failed")
    assert "the review policy requires an input example (smoke.require_example)" in body


def test_an_opt_out_in_the_base_file_is_shown_and_nothing_is_scored(
    fake_github: FakeGitHub, step: Any, registry: Registry, versions: dict[str, int]
) -> None:
    number = _open(fake_github, versions["raises"], base_extra="smoke: {enabled: false}\n")
    state, _, body = _check(fake_github, step, number, registry)
    assert (
        state == "success" and "skipped" in body and "opted out in models/pr-smoke.yaml (smoke: enabled: false)" in body
    )
    # Not "✅ Every candidate passes": the only candidate was not tested.
    assert "**⚠️ 1 candidate skipped (the model file opts out); nothing failed.**" in body, body
    assert "Every candidate passes" not in body


def test_an_opt_out_added_by_the_pull_request_itself_does_not_count(
    fake_github: FakeGitHub, step: Any, registry: Registry, versions: dict[str, int]
) -> None:
    fake_github.commit(
        "main", {"models/_policy.yaml": POLICY.format(extra=""), "models/pr-smoke.yaml": MODEL.format(v=1, extra="")}
    )
    fake_github.commit(
        "sneaky",
        {"models/pr-smoke.yaml": MODEL.format(v=versions["raises"], extra="smoke: {enabled: false}\n")},
        author="alice",
    )
    number = fake_github.open_pull_request("sneaky", author="alice").number
    fake_github.add_review(number, "olivia", "APPROVED")
    state, _, body = _check(fake_github, step, number, registry)
    assert state == "failure" and "feature store unreachable" in body
