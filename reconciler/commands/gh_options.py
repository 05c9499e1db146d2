"""Options the `reconciler github` verbs share."""

from __future__ import annotations

import click

token_option = click.option(
    "--token",
    envvar="GITHUB_TOKEN",
    show_envvar=True,
    help="GitHub token (in a workflow: ${{ github.token }}, with the job's permissions).",
)
bot_option = click.option(
    "--bot",
    envvar="RECONCILER_BOT_LOGIN",
    default="github-actions[bot]",
    show_default=True,
    show_envvar=True,
    help="The login the token comments as: only its plan comment is trusted.",
)
members_token_option = click.option(
    "--members-token",
    envvar="RECONCILER_MEMBERS_TOKEN",
    show_envvar=True,
    help="A token that may read team membership (GitHub App or fine-grained token with members: read); "
    "needed when the policy names teams.",
)
