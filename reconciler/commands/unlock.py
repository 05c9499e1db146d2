"""reconciler unlock [TICKET] [--force]: clear a stale registry lock ticket (reconciler/apply/unlock.py)."""

from __future__ import annotations

import getpass

import click

from reconciler import engine
from reconciler.apply import execute, unlock
from reconciler.apply.lock import LOCK_MODEL
from reconciler.commands import out
from reconciler.text import printable


@click.command("unlock")
@click.argument("ticket", required=False, type=click.IntRange(1))
@click.option(
    "--force",
    is_flag=True,
    help="Clear the ticket even though its holder heartbeat within its TTL (only when you know that apply is dead).",
)
@click.option("--actor", envvar="RECONCILER_ACTOR", help="Who clears it [env RECONCILER_ACTOR; default: the OS user].")
def command(ticket: int | None, force: bool, actor: str | None) -> int:
    """Clear the registry lock's TICKET (default: the holder's) when its holder is gone: it ran on this
    host and its process is gone, or its last heartbeat is older than its TTL. Recorded in the audit journal."""
    execute.lock_settings_from_env()  # the setting apply refuses is refused here too, before any read
    session = engine.Session.open()
    from reconciler.registry.clients import translate_errors

    where = session.target.describe()
    with translate_errors(session.target):
        cleared = unlock.unlock(session.clients.registry, actor or getpass.getuser(), where, ticket, force)
    if cleared is None:
        out.print(f"The registry lock on {where} is free: no live ticket of '{LOCK_MODEL}', nothing to clear.")
        return 0
    t = cleared.ticket
    out.print(
        printable(
            f"Cleared ticket {t.number} of '{LOCK_MODEL}' on {where}, held by {t.describe()}: {cleared.why}; "
            f"recorded in the audit journal (run {cleared.journal_run}). Run the apply again: it finishes what "
            "the cleared one left"
        )
    )
    return 0
