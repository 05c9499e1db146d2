"""The MLflow server's settings on Kubernetes. Pure (no Pulumi): tests/integration starts a real
`mlflow server` with exactly these flags.

The Host rule: MLflow answers 403 to a Host header not in --allowed-hosts (health endpoints aside).
Clients come through the Ingress (the public host name) or the Service (its DNS names); Prometheus
scrapes each pod at its IP and sends `<pod IP>:<port>` as Host. The pod IP is known only when the
pod starts, so the flag names it as `$(POD_IP)`, which the kubelet expands in a container's command
from its env (POD_IP comes from the downward API: status.podIP).
"""

from __future__ import annotations

from infra.server_command import AUTH_CONFIG_PATH, METRICS_DIR, DatabasePools, ServerSettings

SERVICE = "mlflow"
PORT = 5000
POD_IP_ENV = "POD_IP"


def service_hosts(namespace: str) -> tuple[str, ...]:
    return (f"{SERVICE}.{namespace}.svc.cluster.local", f"{SERVICE}.{namespace}.svc", f"{SERVICE}.{namespace}", SERVICE)


def scrape_hosts(port: int = PORT) -> tuple[str, ...]:
    """What Prometheus sends as Host when it scrapes a pod: IPv4 `ip:port`, IPv6 `[ip]:port`."""
    return (f"$({POD_IP_ENV}):{port}", f"[$({POD_IP_ENV})]:{port}")


MAX_SURGE = 1  # the Deployment's rollingUpdate.maxSurge: one pod more than the autoscaler's maximum


def k8s_server_settings(
    namespace: str,
    hostname: str,
    bucket: str,
    s3_endpoint_url: str | None,
    static_s3_keys: bool,
    max_connections: int = 200,
    max_replicas: int = 6,
) -> ServerSettings:
    return ServerSettings(
        artifacts_destination=f"s3://{bucket}/artifacts",
        port=PORT,
        allowed_hosts=(hostname, *service_hosts(namespace), *scrape_hosts()),
        s3_endpoint_url=s3_endpoint_url,
        auth_config_path=AUTH_CONFIG_PATH,
        metrics_dir=METRICS_DIR,
        pools=DatabasePools.within(max_connections, max_replicas + MAX_SURGE),
        **({} if static_s3_keys else {"s3_access_key": None, "s3_secret_key": None}),
    )


def expand_pod_ip(args: tuple[str, ...], pod_ip: str) -> tuple[str, ...]:
    """What the kubelet does to the command: `$(POD_IP)` -> the pod's IP."""
    return tuple(a.replace(f"$({POD_IP_ENV})", pod_ip) for a in args)
