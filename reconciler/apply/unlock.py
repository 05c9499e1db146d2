"""`reconciler unlock`: clear a stale registry lock ticket by hand, safely and on the record.

A ticket may be cleared without `--force` only when its holder is provably gone or stale:
- it ran on this host and no process has its pid (`lock.holder_is_dead_here`), or
- its last heartbeat is older than its TTL (`lock.judged_ttl`) by the registry's own clock: the
  age is the creation timestamp of a probe version registered now (stamped by the same clock that
  stamped the holder's heartbeats: the server's, or the database client's), minus the ticket's
  `last_updated_timestamp`. Never this machine's clock against the registry's.
Anything else (a holder that heartbeat within its TTL) is refused unless `--force`: it may be
alive on another runner. Every clearing is recorded first in the audit journal (a run of
`gitops.audit` saying who cleared which ticket of whom, and why); nothing is cleared when that
record cannot be written. The ticket is tagged `expired` and `cleared_by`, not deleted, so the
registry keeps the trace too; a live holder whose ticket was cleared finds it at its next
heartbeat and stops before its next write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.apply.journal import Journal
from reconciler.apply.lock import LOCK_MODEL, holder_is_dead_here, judged_ttl
from reconciler.apply.tickets import CLEARED_BY_TAG, EXPIRED, RELEASED, SOURCE, STATE_TAG, TAG, Ticket, Tickets, iso
from reconciler.errors import LockError, ReconcilerError


@dataclass(frozen=True)
class Cleared:
    ticket: Ticket
    why: str
    forced: bool
    journal_run: str


def unlock(
    client: Any, actor: str, where: str, number: int | None = None, force: bool = False, model: str = LOCK_MODEL
) -> Cleared | None:
    """Clear ticket `number` (default: the holder, the lowest live ticket); None when no ticket is
    live. Raises LockError when the ticket may belong to a live holder and `force` is not given."""
    tickets = Tickets(client, model, where)
    live = sorted(tickets.live(), key=lambda t: t.number)
    if not live:
        if number is not None:
            raise ReconcilerError(f"ticket {number} of '{model}' on {where} is not live: nothing to clear")
        return None
    chosen = live[0] if number is None else next((t for t in live if t.number == number), None)
    if chosen is None:
        shown = ", ".join(str(t.number) for t in live)
        raise ReconcilerError(
            f"ticket {number} of '{model}' on {where} is not live: nothing to clear (live tickets: {shown})"
        )
    why = _stale(chosen, _registry_now_ms(tickets))
    if why is None and not force:
        raise LockError(
            f"ticket {chosen.number} of '{model}' on {where} is held by {chosen.describe()}, last heartbeat "
            f"{iso(chosen.updated_ms)}, within its TTL of {judged_ttl(chosen):g} s: its holder may be alive, so it "
            "was not cleared. Wait for it to finish (or to lapse by itself), or, only if you know that apply is "
            f"dead, run 'reconciler unlock --force {chosen.number}'"
        )
    reason = why or "forced (--force): its holder heartbeat within its TTL"
    run = Journal(client).record_unlock(model, chosen.number, chosen.owner.label(), actor, reason, force)
    client.set_model_version_tag(model, str(chosen.number), CLEARED_BY_TAG, actor[:200])
    client.set_model_version_tag(model, str(chosen.number), STATE_TAG, EXPIRED)
    return Cleared(chosen, reason, why is None, run)


def _registry_now_ms(tickets: Tickets) -> int:
    """Now, on the clock that stamps the tickets: a probe version, registered not live (no waiter
    ever sees it in the queue) and retired at once."""
    probe = tickets.client.create_model_version(
        tickets.model,
        SOURCE,
        tags={STATE_TAG: RELEASED, TAG + "probe": "reconciler unlock: reads the registry's clock"},
        description="Written by 'reconciler unlock' to read the registry's clock; never a ticket.",
        await_creation_for=0,
    )
    tickets.retire_quietly(int(probe.version), RELEASED)
    return int(probe.creation_timestamp or 0)


def _stale(t: Ticket, registry_now_ms: int) -> str | None:
    """Why `t`'s holder is gone or stale; None when it may be alive."""
    if holder_is_dead_here(t):
        return f"its process is gone (host {t.owner.host} is this host, and no process {t.owner.pid} runs here)"
    age = (registry_now_ms - t.updated_ms) / 1000
    if registry_now_ms and t.updated_ms and age >= judged_ttl(t):
        return f"its last heartbeat was {age:.0f} s ago by the registry's clock, past its TTL of {judged_ttl(t):g} s"
    return None
