"""`reconciler health`'s operation: read (read.py), judge (evaluate.py), alert (alerts.py). The
registry is only written when alerting: the alert bookkeeping tags on the versions alerted."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from reconciler.apply.journal import Journal
from reconciler.monitoring import alerts, read, served
from reconciler.monitoring.evaluate import HOUR_MS, ModelHealth, Monitored, evaluate
from reconciler.state import DesiredModel

MIN_LOOKBACK_HOURS = 24.0


@dataclass(frozen=True)
class Report:
    results: tuple[ModelHealth, ...]
    deliveries: tuple[alerts.Delivery, ...] = ()
    calls: int = 0
    promotions: dict[str, served.Promotion] = field(default_factory=dict)


def monitored(models: Sequence[DesiredModel]) -> list[Monitored]:
    out = []
    for m in models:
        version = served.served_version(m)
        if m.monitoring is not None and version is not None:
            out.append(Monitored(m.name, m.source, m.monitoring, version))
    return out


def lookback_hours(models: Sequence[Monitored]) -> float:
    """Twice the longest time window (the replaced version's window lies before the promotion)."""
    longest = max((m.spec.window_hours or 0.0 for m in models), default=0.0)
    return max(MIN_LOOKBACK_HOURS, 2 * longest)


def run(models: Sequence[DesiredModel], client: Any, now: datetime, lookback: float | None = None) -> Report:
    counted = read.Counted(client)
    found = monitored(models)
    if not found:
        return Report(())
    now_ms = int(now.timestamp() * 1000)
    hours = lookback if lookback is not None else lookback_hours(found)
    runs = read.production_runs(counted, now_ms - int(hours * HOUR_MS))
    wanted = {m.name: (m.spec.alias, m.served) for m in found}
    promoted = served.promotions(Journal(counted).recent(), wanted)
    results = []
    for m in found:
        replaced = promoted[m.name].previous if m.name in promoted else None
        m = Monitored(m.name, m.source, m.spec, m.served, replaced)
        by_version = {v: r for (name, v), r in runs.items() if name == m.name}
        results.append(evaluate(m, by_version, now_ms))
    deliveries = _alert(counted, results, now) if os.environ.get(alerts.WEBHOOK_ENV) else ()
    return Report(tuple(results), tuple(deliveries), counted.calls, promoted)


def _alert(client: Any, results: Sequence[ModelHealth], now: datetime) -> list[alerts.Delivery]:
    url = os.environ[alerts.WEBHOOK_ENV]
    out = []
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for alert in alerts.decide(results, read.open_alerts(client)):
        delivery = alerts.deliver(url, alert)
        out.append(_remember(client, delivery, stamp) if delivery.ok else delivery)
    return out


def _remember(client: Any, delivery: alerts.Delivery, stamp: str) -> alerts.Delivery:
    """The alert's tags written after it was sent; a registry that refuses the write is reported on
    this delivery (the alert goes out again next run), and the other models' alerts still go out."""
    from mlflow.exceptions import MlflowException

    try:
        alerts.record(client, delivery, stamp)
    except MlflowException as e:
        why = (str(e.message).strip().splitlines() or [""])[0][:200]
        error = (
            f"sent, but not remembered on the version ({why}); it is sent again next run until the "
            "health user may tag model versions (EDIT on the model)"
        )
        return replace(delivery, remembered=False, error=error)
    return delivery
