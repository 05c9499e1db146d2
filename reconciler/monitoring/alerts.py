"""Webhook alerts for `reconciler health`: a Slack-compatible JSON payload (`text` and `blocks`)
posted to the URL in RECONCILER_ALERT_WEBHOOK (a secret), once per breach: what was sent is kept
in tags on the version (read.ALERT_FLAG, read.ALERT_STATE), so the next run sends nothing new until
the breach changes or clears ("resolved"). A failed delivery is retried (tenacity) and reported;
the tags are only written after a delivery, so the next run tries again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from reconciler.masking import mask
from reconciler.monitoring.evaluate import Health, ModelHealth
from reconciler.monitoring.read import ALERT_FLAG, ALERT_STATE

WEBHOOK_ENV = "RECONCILER_ALERT_WEBHOOK"
ATTEMPTS = 4
TIMEOUT = 10.0


@dataclass(frozen=True)
class Alert:
    kind: str  # "breach" or "resolved"
    model: str
    version: int
    key: str  # what the breach is (the version and the metrics breached): a new key is a new alert
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Delivery:
    alert: Alert
    ok: bool
    attempts: int
    error: str = ""
    remembered: bool = True  # False: sent, but the version's tags could not be written (sent again next run)


def breach_key(h: ModelHealth) -> str:
    metrics = sorted({r.threshold.metric for r in h.breached()})
    return hashlib.sha256(json.dumps([h.model, h.version, metrics]).encode()).hexdigest()[:16]


def decide(results: Sequence[ModelHealth], open_: Mapping[tuple[str, int], Mapping[str, str]]) -> list[Alert]:
    """Pure: a breach not alerted yet (or a different one) -> "breach"; an open alert whose version
    is healthy now, or no longer served -> "resolved". Unknown sends nothing and clears nothing."""
    out = []
    served = {(h.model, h.version): h for h in results}
    for h in results:
        sent = _sent_key(open_.get((h.model, h.version)))
        if h.state is Health.BREACH and sent != breach_key(h):
            out.append(Alert("breach", h.model, h.version, breach_key(h), payload(h, "breach")))
        elif h.state is Health.HEALTHY and sent is not None:
            out.append(Alert("resolved", h.model, h.version, sent, payload(h, "resolved")))
    monitored = {h.model for h in results}
    for (model, version), tags in sorted(open_.items()):
        if model in monitored and (model, version) not in served:
            text = f"Resolved: {_slack(model)} v{version} is no longer served"
            out.append(Alert("resolved", model, version, _sent_key(tags) or "", {"text": text}))
    return out


def _sent_key(tags: Mapping[str, str] | None) -> str | None:
    if not tags or tags.get(ALERT_FLAG) != "1":
        return None
    try:
        return str(json.loads(tags.get(ALERT_STATE, "{}")).get("key", ""))
    except ValueError:
        return ""


def _slack(text: str) -> str:
    """Slack's mrkdwn escapes: no value can open a link, a mention or formatting."""
    return mask(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(h: ModelHealth, kind: str) -> dict[str, Any]:
    name = f"{_slack(h.model)} v{h.version}"
    if kind == "resolved":
        head = f":white_check_mark: Resolved: {name} is healthy again ({h.window})"
    else:
        head = f":rotating_light: Breach: {name} ({h.window}, {h.samples:g} samples)"
    lines = [
        f"• `{_slack(r.threshold.metric)}` = {r.value:.4g} (rule {_slack(r.rule())})"
        + (f": {_slack(r.reason)}" if r.reason and r.passed is False else "")
        for r in h.results
        if r.value is not None
    ]
    text = "\n".join([head, *lines])
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}]}


class Refused(Exception):
    """The receiver answered 5xx or 429: tried again."""


def where(url: str) -> str:
    """The webhook as messages name it: scheme and host only. The path of an incoming webhook (Slack,
    Teams, Discord) is its credential, and userinfo or a query may hold one too."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the webhook"
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}/…" if parts.scheme and host else "the webhook"


def _failure(cause: BaseException | None, url: str) -> str:
    """Why a delivery failed: the error's kind, not its text (requests' messages quote the URL)."""
    if isinstance(cause, Refused):
        return str(cause)
    return f"{type(cause).__name__ if cause else 'no answer'} reaching {where(url)}"


def deliver(url: str, alert: Alert, attempts: int = ATTEMPTS, wait_max: float = 4.0) -> Delivery:
    import requests
    from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

    tried = 0
    try:
        for attempt in Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=0.25, max=wait_max),
            retry=retry_if_exception_type((requests.RequestException, Refused)),
        ):
            with attempt:
                tried += 1
                response = requests.post(url, json=dict(alert.payload), timeout=TIMEOUT)
                if response.status_code >= 500 or response.status_code == 429:
                    raise Refused(f"HTTP {response.status_code}")
                if response.status_code >= 300:
                    return Delivery(alert, False, tried, f"HTTP {response.status_code} (not retried)")
    except RetryError as e:
        return Delivery(alert, False, tried, mask(_failure(e.last_attempt.exception(), url)))
    return Delivery(alert, True, tried)


def record(client: Any, delivery: Delivery, now: str) -> None:
    """After a delivery: open the alert on the version, or close it."""
    a = delivery.alert
    if a.kind == "breach":
        client.set_model_version_tag(a.model, str(a.version), ALERT_STATE, json.dumps({"key": a.key, "sent_at": now}))
        client.set_model_version_tag(a.model, str(a.version), ALERT_FLAG, "1")
    else:
        client.delete_model_version_tag(a.model, str(a.version), ALERT_FLAG)
        client.delete_model_version_tag(a.model, str(a.version), ALERT_STATE)
