"""Which registry: MLflow's environment variables, or the embedded default (./mlflow.db)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from reconciler.errors import RegistryError
from reconciler.masking import mask

DEFAULT_DB = "mlflow.db"
DATABASE_SERVERS = ("postgresql", "mysql", "mssql")  # URI schemes MLflow reaches through SQLAlchemy
DEMO_DB = ".demo/mlflow.db"


@dataclass(frozen=True)
class Target:
    tracking_uri: str
    registry_uri: str
    embedded: bool

    def describe(self) -> str:
        """The registry URI for messages and logs, with any password in it masked."""
        uri = mask(self.registry_uri)
        return f"{uri} (embedded default)" if self.embedded else uri

    @property
    def identity(self) -> str:
        """What a saved plan records: the registry URI without credentials or query (a SQLite file
        by its absolute path)."""
        path = self.sqlite_path()
        if path is not None:
            return f"sqlite:///{path.resolve()}"
        parts = urlsplit(self.registry_uri)
        host = parts.netloc.rsplit("@", 1)[-1].lower()
        return urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/") or "", "", ""))

    def web_link(self, fragment: str) -> str | None:
        """A page of the tracking server's UI (`#/experiments/1/runs/…`), without credentials or
        query; None when the tracking store is no server (a database has no UI)."""
        if not self.tracking_uri.startswith(("http://", "https://")):
            return None
        parts = urlsplit(self.tracking_uri)
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, host, parts.path.rstrip("/") + "/", "", "")) + fragment

    @property
    def is_http(self) -> bool:
        return self.registry_uri.startswith(("http://", "https://"))

    @property
    def is_sqlite(self) -> bool:
        return self.registry_uri.startswith("sqlite:")

    @property
    def concurrent_writes(self) -> bool:
        """A server, or a database server MLflow talks to directly (postgresql://, mysql://, mssql://),
        takes concurrent writes; a SQLite file takes one writer at a time."""
        return self.is_http or self.registry_uri.startswith(DATABASE_SERVERS)

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite:///"  # SQLAlchemy: what follows is the file name (absolute when it starts with /)
        if not self.registry_uri.startswith(prefix):
            return None
        return Path(unquote(self.registry_uri[len(prefix) :].split("?", 1)[0]))

    def require_existing(self) -> None:
        """Read-only commands never create a registry: a SQLite file that is not there is an error
        (MLflow would create it, and its directories, and report every version missing)."""
        path = self.sqlite_path()
        if path is None or path.is_file():
            return
        hint = (
            f"the demo's registry is {DEMO_DB}: export MLFLOW_TRACKING_URI=sqlite:///$PWD/{DEMO_DB}"
            if Path(DEMO_DB).is_file()
            else "run 'reconciler apply' to create it, or set MLFLOW_TRACKING_URI to your registry"
        )
        raise RegistryError(f"no registry at {path} ({self.describe()}); {hint}")

    def require_creatable(self) -> None:
        """apply may create the embedded SQLite file, never the directories of a mistyped path."""
        path = self.sqlite_path()
        if path is not None and not path.parent.is_dir():
            raise RegistryError(
                f"no directory {path.parent} for the registry {self.describe()}; check MLFLOW_TRACKING_URI"
            )


def resolve_target(cwd: Path | None = None) -> Target:
    """MLFLOW_TRACKING_URI / MLFLOW_REGISTRY_URI as MLflow users expect; else a local SQLite file."""
    tracking = os.environ.get("MLFLOW_TRACKING_URI")
    registry = os.environ.get("MLFLOW_REGISTRY_URI")
    for variable, uri in (("MLFLOW_TRACKING_URI", tracking), ("MLFLOW_REGISTRY_URI", registry)):
        if uri:
            check_uri(variable, uri)
    if tracking or registry:
        return Target(tracking or registry or "", registry or tracking or "", embedded=False)
    uri = embedded_uri(cwd)
    return Target(uri, uri, embedded=True)


def check_uri(variable: str, uri: str) -> None:
    """A URI the reconciler and MLflow can parse, or a one-line error naming the variable (a bad
    port or IPv6 host made Python's URL parser raise deep inside a command)."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises ValueError for a port that is no number)
    except ValueError as e:
        raise RegistryError(f"{variable} is not a URI ({mask(uri)}: {e}); correct it") from None
    if parts.scheme.lower() == "sqlite" and not uri.startswith("sqlite:///"):
        raise RegistryError(
            f"{variable} {mask(uri)} names no SQLite file: write sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db (no user, password or host)"
        )


def embedded_uri(cwd: Path | None = None) -> str:
    return f"sqlite:///{((cwd or Path.cwd()) / DEFAULT_DB).resolve()}"
