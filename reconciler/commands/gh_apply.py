"""reconciler github apply: apply a merged pull request's reviewed plan (push to the default branch)."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.commands import models_dir_option, out
from reconciler.commands.gh_options import bot_option, members_token_option, token_option


@click.command("apply")
@models_dir_option
@token_option
@bot_option
@members_token_option
def command(models_dir: Path, token: str | None, bot: str, members_token: str | None) -> int:
    """Apply the merged pull request's plan if it is the one reviewed and the policy is met; else nothing.

    Needs the registry's writing credentials (a protected environment), `contents: read` and
    `pull-requests: write`. Refuses a push that is not a pull request's merge.
    """
    from reconciler.github import check, context, merge_apply

    actions = context.from_env(token=token)
    push = context.push(actions)
    outcome = merge_apply.run(merge_apply.Applying(actions, push, check.Options(models_dir, bot, members_token)))
    out.print(f"{outcome.action}: merge {push.after[:12]}")
    return 0
