"""reconciler show MODEL VERSION: a version's lineage: its run (parameters, metrics, datasets,
artifacts), its lineage tags, and the applies (audit records) and commits that promoted it."""

from __future__ import annotations

import click

from reconciler.apply.journal import Journal
from reconciler.commands import out, status
from reconciler.proposal import lineage, registry
from reconciler.proposal.evidence import ModelView
from reconciler.registry.target import resolve_target
from reconciler.text import printable

MAX_APPLIES = 200


@click.command("show")
@click.argument("model")
@click.argument("version", type=click.IntRange(min=1))
def command(model: str, version: int) -> int:
    """Print VERSION of MODEL: run, params, metrics, artifacts, lineage tags, audit records, promoting commits."""
    target = resolve_target()
    target.require_existing()
    client = registry.open_client(target)
    with status(f"Reading {model!r} v{version} from {target.describe()}…"):
        view = registry.read_view(client, target, model, version, artifacts=True)
        from reconciler.registry.clients import translate_errors

        with translate_errors(target):
            entries = Journal(client).history(model, MAX_APPLIES)
    _print(view, version, lineage.promotions(entries, model, version))
    return 0


def _print(view: ModelView, number: int, applies: list[lineage.Promotion]) -> None:
    v = view.versions[number]
    aliases = sorted(a for a, n in view.aliases.items() if n == number)
    say = lambda text: out.print(printable(text))  # noqa: E731 - registry text, one line each
    say(f"{view.name} v{number}: {v.status}, stage {v.stage.value}, aliases {', '.join(aliases) or '(none)'}")
    if v.description:
        say(f"  description: {v.description}")
    if v.source:
        say(f"  source: {v.source}")
    say("  model files: " + (", ".join(v.artifacts) if v.artifacts else "(none listed)"))
    run = v.run
    if run is None:
        say("run: (none in this tracking server)")
    else:
        state = f"{run.status}, deleted: in the tracking server's trash" if run.deleted else run.status
        say(f"run: {run.run_id} ({state}) {run.link or ''}".rstrip())
        for title, values in (("params", run.params), ("metrics", run.metrics)):
            say(f"{title}:" + ("" if values else " (none)"))
            for k, val in sorted(values.items()):
                say(f"  {k} = {val}")
        say("datasets:" + ("" if run.datasets else " (none)"))
        for d in run.datasets:
            say(f"  {d}")
        say("run artifacts:" + ("" if run.artifacts else " (none)"))
        for a in run.artifacts:
            say(f"  {a}")
    tags = {**(lineage.lineage_tags(run.tags) if run else {}), **lineage.lineage_tags(v.tags)}
    say("lineage:" + ("" if tags else " (no lineage tags: registered outside the training pipeline)"))
    for k, val in sorted(tags.items()):
        say(f"  {k} = {val}")
    say("applies:" + ("" if applies else " (none: no merge has changed this version yet)"))
    for p in applies:
        who = f", approved by {', '.join(p.approvers)}" if p.approvers else ""
        say(f"  {p.applied_at} commit {p.commit or '(none)'} {p.pull_request or ''}{who}; applied by {p.actor or '?'}")
        for c in p.changes:
            say(f"    {c}")
    commits = list(dict.fromkeys(p.commit for p in applies if p.commit))
    say("promoted by commits: " + (", ".join(commits) if commits else "(none)"))
