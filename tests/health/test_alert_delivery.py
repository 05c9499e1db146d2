"""A failed alert delivery names the webhook by scheme and host only: an incoming webhook's path is its
credential (Slack, Teams, Discord), and requests' error text quotes the whole URL."""

from __future__ import annotations

import socket

import pytest

from reconciler.monitoring import alerts

SECRET = "T0001/B0001/SeCrEtWeBhOoKtOkEn"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_webhook_is_reported_without_its_path_query_or_userinfo() -> None:
    url = f"http://hook:pw0rd@127.0.0.1:{_closed_port()}/services/{SECRET}?token=QuErYsEcReT"
    alert = alerts.Alert("breach", "m", 1, "k", {"text": "m v1 breached"})
    delivery = alerts.deliver(url, alert, attempts=2, wait_max=0)
    assert not delivery.ok and delivery.attempts == 2
    assert delivery.error.startswith("ConnectionError reaching http://127.0.0.1:"), delivery.error
    for secret in ("SeCrEt", "services", "QuErYsEcReT", "pw0rd", "hook:"):
        assert secret not in delivery.error, delivery.error


@pytest.mark.parametrize(
    ("url", "named"),
    [
        (f"https://hooks.slack.com/services/{SECRET}", "https://hooks.slack.com/…"),
        ("https://u:p@example.com:8443/x?y=z", "https://example.com:8443/…"),
        ("not a url", "the webhook"),
        ("http://[::1", "the webhook"),  # urlsplit raises on it
    ],
)
def test_the_webhook_is_named_by_scheme_and_host(url: str, named: str) -> None:
    assert alerts.where(url) == named
