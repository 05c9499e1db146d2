"""reconciler github check: the pull-request check (pull_request) and its re-count (pull_request_review)."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.commands import models_dir_option, out
from reconciler.commands.gh_options import bot_option, members_token_option, token_option


@click.command("check")
@models_dir_option
@token_option
@bot_option
@members_token_option
def command(models_dir: Path, token: str | None, bot: str, members_token: str | None) -> int:
    """Plan the pull request's model files, judge approvals and gates, post ONE comment and a status.

    On pull_request events it plans against the registry (read-only credentials); on
    pull_request_review events it counts the approvals again from the plan comment, without
    the registry. Needs `contents: read`, `pull-requests: write`, `statuses: write`.
    """
    from reconciler.github import check, context, review
    from reconciler.github.errors import GitHubError

    actions = context.from_env(token=token)
    pr = context.pull_request(actions)
    if pr.from_fork:
        raise GitHubError(
            f"pull request #{pr.number} comes from the fork {pr.head_repo}: GitHub gives its runs no secrets and a "
            "read-only token, so it gets offline validation only (reconciler validate --offline); run this command "
            "in a job that skips forks"
        )
    ctx = check.Context(actions, pr, check.Options(models_dir, bot, members_token))
    outcome = review.run(ctx) if actions.event_name == "pull_request_review" else check.run(ctx)
    out.print(f"{outcome.state}: {outcome.description}")
    return 0
