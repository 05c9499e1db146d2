"""reconciler github …: the commands GitHub Actions workflows run (one module per verb)."""

from __future__ import annotations

import click

from reconciler.commands import gh_apply, gh_check, gh_drift, gh_rollback


@click.group("github")
def command() -> None:
    """Run inside GitHub Actions: check a pull request, apply a merge, report drift.

    They read GitHub Actions' environment (GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_NAME,
    GITHUB_EVENT_PATH, GITHUB_SHA, GITHUB_TOKEN, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT).
    """


for verb in (gh_check.command, gh_apply.command, gh_drift.command, gh_rollback.command):
    command.add_command(verb)
