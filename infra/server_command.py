"""The MLflow server's command line and environment: the one definition.

The Pulumi programs (Docker and Kubernetes) and the integration tests' server fixture all build
the server from `server_command()`, so the flags that are deployed are the flags tested against
a real server. Pure Python: no Pulumi import, so the tests can use it without Pulumi.

Secrets never appear in the command line: they travel as environment variables whose values are
`SecretRef`s (a Kubernetes Secret key, a Pulumi secret output, or a test's generated value).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.auth_bootstrap import auth_config_ini

__all__ = ["auth_config_ini"]  # its home is infra/auth_bootstrap.py, which writes it on Docker

MLFLOW_VERSION = "3.17.2"
# One uvicorn worker per container: with more, uvicorn's multi-process listener loses
# TCP_NODELAY and every kept-alive request stalls ~40 ms (uvicorn issue 3149). Scale by replicas.
WORKERS = 1
METRICS_DIR = "/tmp/mlflow-metrics"
AUTH_CONFIG_PATH = "/etc/mlflow/auth/basic_auth.ini"
# Where infra/Dockerfile puts infra/auth_bootstrap.py and infra/metrics_exporter.py.
AUTH_BOOTSTRAP_PATH = "/opt/mlflow-registry/auth_bootstrap.py"
METRICS_EXPORTER_PATH = "/opt/mlflow-registry/metrics_exporter.py"
METRICS_PORT = 9101  # the exporter sidecar's port (MLflow's own /metrics is for admins only)
# The SQLAlchemy URI scheme of every database URI deployed: psycopg (3) by name, so an install
# whose SQLAlchemy maps a bare postgresql:// to psycopg2 (not in the image) cannot pick it.
PG_SCHEME = "postgresql+psycopg"
_PG_ALIASES = ("postgresql://", "postgres://", f"{PG_SCHEME}://")


@dataclass(frozen=True)
class SecretRef:
    """A secret value held elsewhere: `secret` names the store (e.g. a Kubernetes Secret), `key` the entry."""

    secret: str
    key: str


EnvValue = str | SecretRef


@dataclass(frozen=True)
class ServerSettings:
    artifacts_destination: str  # s3://bucket/prefix: artifacts are proxied through the server
    port: int = 5000
    host: str = "0.0.0.0"
    allowed_hosts: tuple[str, ...] = ()
    s3_endpoint_url: str | None = None  # MinIO or another S3 API; None for AWS S3
    auth: bool = True
    auth_config_path: str = AUTH_CONFIG_PATH
    metrics_dir: str | None = METRICS_DIR
    workers: int = WORKERS  # keep 1 in deployments (see WORKERS); more only to measure the stall
    # MLflow's background job runner (huey consumers: GenAI evaluation jobs, periodic tasks) starts
    # ~6 extra processes of ~250 MB each per server; a model registry does not use it.
    job_execution: bool = False
    # Where each secret lives; the caller names the stores.
    backend_store_uri: SecretRef = SecretRef("mlflow-db", "uri")
    # None: no static keys; boto3 finds credentials itself (IRSA / workload identity, instance role).
    s3_access_key: SecretRef | None = SecretRef("mlflow-s3", "access-key")
    s3_secret_key: SecretRef | None = SecretRef("mlflow-s3", "secret-key")
    admin_password: SecretRef = SecretRef("mlflow-auth", "admin-password")
    flask_secret_key: SecretRef = SecretRef("mlflow-auth", "flask-secret-key")
    extra_env: dict[str, EnvValue] = field(default_factory=dict)
    # Each SQLAlchemy engine's pool (MLflow's MLFLOW_SQLALCHEMYSTORE_POOL_SIZE / _MAX_OVERFLOW);
    # None: SQLAlchemy's 5 + 10. See DatabasePools.
    pools: DatabasePools | None = None


# MLflow 3.17.2's server with --app-name basic-auth opens three engines on PostgreSQL, each with its
# own pool: the tracking store's and the model registry's (store/tracking/sqlalchemy_store.py and
# store/model_registry/sqlalchemy_store.py each keep a class-level _engine_map) and the auth store's
# (server/auth/sqlalchemy_store.py init_db), in the uvicorn worker that serves requests. The
# `mlflow server` process that starts it opened the same three at start-up and keeps them, idle,
# holding the connection each used then. tests/integration/test_server_flags.py counts both.
ENGINES_PER_SERVER = 3
STARTUP_CONNECTIONS = 3
# Besides the servers: PostgreSQL's superuser_reserved_connections (3), the migration Job's two
# engines (one connection each), and the operator's and exporter's sessions.
RESERVED_CONNECTIONS = 3 + 2 + 10


@dataclass(frozen=True)
class DatabasePools:
    """Per-engine pool sizes that keep every server pod's connections within max_connections."""

    size: int
    max_overflow: int

    @property
    def per_server(self) -> int:
        return ENGINES_PER_SERVER * (self.size + self.max_overflow) + STARTUP_CONNECTIONS

    @classmethod
    def within(cls, max_connections: int, servers: int) -> DatabasePools:
        """`servers`: the most server processes at once (replicas at their maximum plus a surge pod).
        MLflow ignores an overflow of 0 (store/db/utils.py create_sqlalchemy_engine passes it only
        when truthy, so SQLAlchemy's 10 applies): each engine needs at least 1 + 1."""
        per_server = (max_connections - RESERVED_CONNECTIONS) // servers
        per_engine = (per_server - STARTUP_CONNECTIONS) // ENGINES_PER_SERVER
        if per_engine < 2:
            raise ValueError(
                f"max_connections {max_connections} leaves under 2 connections per engine for {servers} server "
                f"pods ({ENGINES_PER_SERVER} engines each): raise postgresMaxConnections or lower maxReplicas"
            )
        overflow = per_engine // 2
        return cls(per_engine - overflow, overflow)


@dataclass(frozen=True)
class ServerCommand:
    args: tuple[str, ...]
    env: dict[str, EnvValue]

    def resolved_env(self, secrets: dict[SecretRef, str]) -> dict[str, str]:
        """Plain environment for a process started directly (tests, Docker)."""
        return {k: (secrets[v] if isinstance(v, SecretRef) else v) for k, v in self.env.items()}


def server_command(s: ServerSettings) -> ServerCommand:
    args = ["mlflow", "server", "--host", s.host, "--port", str(s.port), "--workers", str(s.workers)]
    args += ["--serve-artifacts", "--artifacts-destination", s.artifacts_destination]
    if s.allowed_hosts:
        args += ["--allowed-hosts", ",".join(s.allowed_hosts)]
    if s.metrics_dir:
        args += ["--expose-prometheus", s.metrics_dir]
    if s.auth:
        args += ["--app-name", "basic-auth"]
    return ServerCommand(tuple(args), _server_env(s))


def _server_env(s: ServerSettings) -> dict[str, EnvValue]:
    env: dict[str, EnvValue] = {
        # Read by `mlflow server` (click envvar): keeps the database password off the command line.
        "MLFLOW_BACKEND_STORE_URI": s.backend_store_uri,
        "PYTHONUNBUFFERED": "1",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "true" if s.job_execution else "false",
    }
    if s.s3_access_key and s.s3_secret_key:
        env["AWS_ACCESS_KEY_ID"] = s.s3_access_key
        env["AWS_SECRET_ACCESS_KEY"] = s.s3_secret_key
    if s.s3_endpoint_url:
        env["MLFLOW_S3_ENDPOINT_URL"] = s.s3_endpoint_url
    if s.pools:
        env["MLFLOW_SQLALCHEMYSTORE_POOL_SIZE"] = str(s.pools.size)
        env["MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW"] = str(s.pools.max_overflow)
    if s.auth:
        env["MLFLOW_AUTH_CONFIG_PATH"] = s.auth_config_path
        env["MLFLOW_AUTH_ADMIN_USERNAME"] = "admin"
        env["MLFLOW_AUTH_ADMIN_PASSWORD"] = s.admin_password
        env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = s.flask_secret_key  # the same on every replica (CSRF)
    env.update(s.extra_env)
    return env


# libpq options on every database URI deployed: fail a connection attempt after 10 s instead of
# the kernel's minutes, and probe idle connections, so a lost node (or a failover) breaks the
# connections to it within about a minute instead of hanging the requests on them.
CONNECTION_OPTIONS = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}


def with_connection_options(uri: str) -> str:
    """`uri` with CONNECTION_OPTIONS added to its query, where it does not set them itself."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(uri)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    merged = {**CONNECTION_OPTIONS, **query}
    return urlunsplit(parts._replace(query=urlencode(merged)))


def database_uri(user: str, password: str, host: str, database: str) -> str:
    """The URI of a database the programs create (host with its port)."""
    return with_connection_options(f"{PG_SCHEME}://{user}:{password}@{host}/{database}")


def with_psycopg_driver(uri: str) -> str:
    """`postgresql://...` (or `postgres://`) as `postgresql+psycopg://...`; other schemes are refused."""
    for alias in _PG_ALIASES:
        if uri.startswith(alias):
            return f"{PG_SCHEME}://" + uri[len(alias) :]
    scheme = uri.split("://", 1)[0] if "://" in uri else "(none)"
    raise ValueError(
        f"database URI scheme {scheme!r}: use postgresql:// or {PG_SCHEME}:// (the server image has psycopg 3 only)"
    )


def migrate_command(auth_bootstrap: str | None = None) -> tuple[str, ...]:
    """Schema migrations, run before a new server version serves. `mlflow db upgrade` takes the
    URI as a positional argument; the shell expands it from the environment, not the manifest.

    `auth_bootstrap`: the path of infra/auth_bootstrap.py, run next: the auth database's migrations
    and its admin account (deployments pass AUTH_BOOTSTRAP_PATH). `-P`: the script's
    directory is not put on sys.path (in this repository, infra/secrets.py would shadow `secrets`)."""
    script = 'mlflow db upgrade "$MLFLOW_BACKEND_STORE_URI"'
    if auth_bootstrap is None:
        return ("sh", "-c", f"exec {script}")
    return ("sh", "-c", f'{script} && exec python -P "{auth_bootstrap}"')


def migrate_env(
    s: ServerSettings, auth_database_uri: SecretRef, write_auth_config: bool = False
) -> dict[str, EnvValue]:
    """Environment of migrate_command(auth_bootstrap=...): every value a SecretRef but the user name.

    `write_auth_config`: the bootstrap also writes basic_auth.ini at the server's
    MLFLOW_AUTH_CONFIG_PATH (Docker: into the volume the server mounts read-only; Kubernetes mounts
    it from the mlflow-auth Secret instead)."""
    env: dict[str, EnvValue] = {
        "MLFLOW_BACKEND_STORE_URI": s.backend_store_uri,
        "MLFLOW_AUTH_DATABASE_URI": auth_database_uri,
        "MLFLOW_AUTH_ADMIN_USERNAME": "admin",
        "MLFLOW_AUTH_ADMIN_PASSWORD": s.admin_password,
        "PYTHONUNBUFFERED": "1",
    }
    if write_auth_config:
        env["MLFLOW_AUTH_CONFIG_PATH"] = s.auth_config_path
    return env


@dataclass(frozen=True)
class MetricsAccount:
    """The account Prometheus scrapes with: the exporter sidecar's own, not an MLflow user (MLflow
    answers /metrics to admins only, and a scrape needs no access to the registry)."""

    username: str = "metrics"
    password: SecretRef = SecretRef("mlflow-auth", "metrics-password")


def metrics_exporter_command(exporter: str = METRICS_EXPORTER_PATH) -> tuple[str, ...]:
    return ("python", "-P", exporter)


def metrics_exporter_env(s: ServerSettings, account: MetricsAccount, port: int = METRICS_PORT) -> dict[str, EnvValue]:
    if not s.metrics_dir:
        raise ValueError("the metrics exporter needs the server's --expose-prometheus directory")
    return {
        "METRICS_DIR": s.metrics_dir,
        "METRICS_PORT": str(port),
        "METRICS_USERNAME": account.username,
        "METRICS_PASSWORD": account.password,
        "PYTHONUNBUFFERED": "1",
    }
