"""reconciler propose MODEL VERSION: the training pipeline's last step. Adds the version to
models/MODEL.yaml as the file's `propose:` rule says; with --open-pr, commits that on a branch and
opens or updates the model's one proposal pull request. Nothing is written to the registry."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.atomic import write_atomic
from reconciler.commands import models_dir_option, out
from reconciler.commands.gh_options import token_option
from reconciler.proposal import registry
from reconciler.proposal.local import Proposal, prepare
from reconciler.registry.target import resolve_target
from reconciler.text import printable


@click.command("propose")
@click.argument("model")
@click.argument("version", type=click.IntRange(min=1))
@models_dir_option
@click.option(
    "--open-pr", is_flag=True, help="Commit the edit on a branch and open or update the model's pull request."
)
@click.option("--base", default=None, help="Branch the pull request goes into (default: the repository's default).")
@click.option("--repository", envvar="GITHUB_REPOSITORY", show_envvar=True, help="owner/name on GitHub.")
@click.option("--api-url", envvar="GITHUB_API_URL", default="https://api.github.com", show_envvar=True)
@token_option
def command(
    model: str,
    version: int,
    models_dir: Path,
    open_pr: bool,
    base: str | None,
    repository: str | None,
    api_url: str,
    token: str | None,
) -> int:
    """Give VERSION of MODEL what models/MODEL.yaml's `propose:` rule says (the file only)."""
    if open_pr and not (repository and token):
        raise click.UsageError("--open-pr needs --repository (GITHUB_REPOSITORY) and --token (GITHUB_TOKEN)")
    target = resolve_target()
    target.require_existing()
    proposal = prepare(models_dir, model, version, target, registry.open_client(target))
    if not open_pr:
        _write(proposal)
        return 0
    from reconciler.github.proposals import ProposalClient, publish

    assert repository and token
    # GitHub first (the commit is made there from the edited text): when it fails or refuses, the
    # checkout's file is left as it was, so a developer's checkout never keeps a half-done proposal.
    outcome = publish(ProposalClient(api_url, token, repository), proposal, models_dir, base)
    if outcome.ok:
        _write(proposal)
    out.print(outcome.message)
    return 0 if outcome.ok else 1


def _write(p: Proposal) -> None:
    shown = printable(str(p.path))
    if not p.changed:
        out.print(f"unchanged {shown}: version {p.evidence.candidate} already has {p.rule.targets()}")
        return
    write_atomic(p.path, p.edit.text)
    was = f" (was v{p.edit.replaced})" if p.edit.replaced is not None else ""
    archived = f"; archived in the file: {', '.join(f'v{n}' for n in p.edit.archived)}" if p.edit.archived else ""
    out.print(f"wrote {shown}: version {p.evidence.candidate} gets {p.rule.targets()}{was}{archived}")
