"""Serve the MLflow server's Prometheus metrics to a scrape account that is not an MLflow user.

MLflow 3.17.2 with basic auth answers /metrics to admins only (its authorization fails closed on
routes without a validator, MLFLOW_BASIC_AUTH_FAIL_CLOSED), so Prometheus would need the admin
password. Instead, this sidecar reads the metric files the server writes (`--expose-prometheus DIR`
runs prometheus_client in multiprocess mode) and serves them on their own port, behind basic auth
with an account of its own. The NetworkPolicy lets only the monitoring namespace reach that port.

Environment: METRICS_DIR, METRICS_PORT, METRICS_USERNAME, METRICS_PASSWORD.
Stand-alone (prometheus_client only, which the server image has): the image does not contain
this repository. Run with `python -P` so nothing beside it shadows a module.
"""

from __future__ import annotations

import base64
import hmac
import os
import sys
from collections.abc import Callable, Iterable
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.multiprocess import MultiProcessCollector


def _authorized(header: str, username: str, password: str) -> bool:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given_user, _, given_password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    # Both compared, in constant time: the answer does not tell which one was wrong.
    user_ok = hmac.compare_digest(given_user.encode(), username.encode())
    return hmac.compare_digest(given_password.encode(), password.encode()) and user_ok


def app(metrics_dir: str, username: str, password: str) -> Callable:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=metrics_dir)
    metrics = make_wsgi_app(registry)

    def guarded(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if not _authorized(environ.get("HTTP_AUTHORIZATION", ""), username, password):
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="metrics"')])
            return [b"unauthorized\n"]
        return metrics(environ, start_response)

    return guarded


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # scrapes every 30 s: no access log
        pass


def main(env: dict[str, str]) -> int:
    missing = [k for k in ("METRICS_DIR", "METRICS_USERNAME", "METRICS_PASSWORD") if not env.get(k)]
    if missing:
        print(f"metrics exporter: {', '.join(missing)} not set", file=sys.stderr)
        return 1
    if not os.path.isdir(env["METRICS_DIR"]):  # a volume shared with the server: never created here
        print(
            f"metrics exporter: {env['METRICS_DIR']} does not exist (mount the server's metrics volume)",
            file=sys.stderr,
        )
        return 1
    port = int(env.get("METRICS_PORT", "9101"))
    handler = app(env["METRICS_DIR"], env["METRICS_USERNAME"], env["METRICS_PASSWORD"])
    server = make_server("0.0.0.0", port, handler, ThreadingWSGIServer, handler_class=_QuietHandler)
    print(f"metrics exporter: serving {env['METRICS_DIR']} on :{port}/metrics", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(dict(os.environ)))
