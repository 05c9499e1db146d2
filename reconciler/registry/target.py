"""Which registry: MLflow's environment variables, or the embedded default (./mlflow.db)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit, urlunsplit

from reconciler.errors import RegistryError
from reconciler.masking import mask

DEFAULT_DB = "mlflow.db"
DATABASE_SERVERS = ("postgresql", "mysql", "mssql")  # URI schemes MLflow reaches through SQLAlchemy
DEMO_DB = ".demo/mlflow.db"
# The registries the reconciler reads and writes; MLflow knows more (databricks://, uc:), which
# failed deep inside it. A SQLAlchemy scheme may name its driver (postgresql+psycopg://).
SCHEMES = ("http", "https", "sqlite", "file", *DATABASE_SERVERS)


def is_http_uri(uri: str) -> bool:
    """A server's URI: http:// or https://, the scheme in any case (MLflow and urlsplit lower-case it)."""
    return uri[:8].lower().startswith(("http://", "https://"))


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
        if not is_http_uri(self.tracking_uri):
            return None
        parts = urlsplit(self.tracking_uri)
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/") + "/", "", "")) + fragment

    @property
    def is_http(self) -> bool:
        return is_http_uri(self.registry_uri)

    @property
    def is_sqlite(self) -> bool:
        return self.registry_uri.startswith("sqlite:")

    @property
    def concurrent_writes(self) -> bool:
        """A server, or a database server MLflow talks to directly (postgresql://, mysql://, mssql://),
        takes concurrent writes; a SQLite file takes one writer at a time."""
        return self.is_http or self.registry_uri.lower().startswith(DATABASE_SERVERS)

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
    if any(uri and is_http_uri(uri) for uri in (tracking, registry)):
        check_credentials()
    if tracking or registry:
        return Target(tracking or registry or "", registry or tracking or "", embedded=False)
    uri = embedded_uri(cwd)
    return Target(uri, uri, embedded=True)


def check_uri(variable: str, uri: str) -> None:
    """A URI the reconciler and MLflow can parse, or a one-line error naming the variable (a bad
    port or IPv6 host made Python's URL parser raise deep inside a command). The parser's own
    text is never quoted: it holds pieces of the URI (the port it could not read is the start of a
    password that holds an unencoded `/`), which no masking can tell from other words."""
    shown = mask(uri)
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise RegistryError(f"{variable} is not a URI ({shown}): its host cannot be read; correct it") from None
    if parts.netloc and "@" in "".join((parts.path, parts.query, parts.fragment)):
        # `http://bob:pass/word@host`: the parser ends the host at the `/` and reads the password as
        # host and port; the masking (reconciler/masking.py) takes all before the last `@` as userinfo.
        raise RegistryError(
            f"{variable} is not a URI ({shown}): it has an '@' after its host; percent-encode a '/', '?' or "
            "'#' in the user or password (%2F, %3F, %23), and an '@' in the path or query (%40)"
        )
    try:
        parts.port  # noqa: B018 (raises ValueError for a port that is no number)
    except ValueError:
        raise RegistryError(
            f"{variable} is not a URI ({shown}): its port is not a number from 0 to 65535; correct it"
        ) from None
    scheme = parts.scheme.lower().partition("+")[0]
    if parts.scheme and scheme not in SCHEMES and len(parts.scheme) > 1:  # `C:/path`: a drive letter
        raise RegistryError(
            f"{variable} {shown} is no registry the reconciler can use: its scheme is none of "
            f"{', '.join(s + '://' for s in SCHEMES)}; correct it"
        )
    host = parts.hostname or ""
    if scheme in ("http", "https") and (len(host) > 253 or any(len(label) > 63 for label in host.split("."))):
        raise RegistryError(
            f"{variable} is not a URI ({shown}): its host name is longer than DNS allows "
            "(63 characters a label, 253 in all); correct it"
        )
    if parts.scheme.lower() == "sqlite" and not uri.startswith("sqlite:///"):
        raise RegistryError(
            f"{variable} {shown} names no SQLite file: write sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db (no user, password or host)"
        )


CREDENTIAL_VARIABLES = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")
_ASCII_ONLY = (
    "MLflow's client (requests) sends basic-auth credentials and headers as Latin-1, which an MLflow "
    "server reads as UTF-8, so no character outside ASCII can reach it intact"
)


def check_credentials() -> None:
    """Credentials an HTTP registry can be sent, or a one-line error naming where they are, and
    never a character of them (requests raised UnicodeEncodeError quoting the character and its
    position). RFC 7617 allows UTF-8, but MLflow's client, which apply writes through, encodes
    Latin-1 (requests.auth._basic_auth_str), so the only safe answer is to refuse."""
    for variable in CREDENTIAL_VARIABLES:
        if not os.environ.get(variable, "").isascii():
            raise RegistryError(f"{variable} holds a character outside ASCII; {_ASCII_ONLY}: use an ASCII value")
    for variable in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        uri = os.environ.get(variable, "")
        if not is_http_uri(uri):
            continue
        userinfo = urlsplit(uri).netloc.rpartition("@")[0]
        if not unquote_to_bytes(userinfo).isascii():
            raise RegistryError(
                f"the user or password in {variable} holds a character outside ASCII (percent-encoded or not); "
                f"{_ASCII_ONLY}: use an ASCII value"
            )


def embedded_uri(cwd: Path | None = None) -> str:
    return f"sqlite:///{((cwd or Path.cwd()) / DEFAULT_DB).resolve()}"
