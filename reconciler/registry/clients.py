"""MLflow's client, for writes and for database URIs, and what its exceptions mean to a user.

Importing MLflow costs about a second, so only the paths that need it (apply, a database URI)
come here; plans and validation against an HTTP registry read through reconciler/registry/rest.py.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.errors import RegistryError
from reconciler.fields.seams import Answer
from reconciler.registry.http import install_quickack
from reconciler.registry.rest import Rest, first_line, use_write_defaults
from reconciler.registry.target import DATABASE_SERVERS, Target

if TYPE_CHECKING:
    from mlflow import MlflowClient  # typed (py.typed); imported at run time only on first use


@dataclass(frozen=True)
class Clients:
    """What field writes call: `registry` is an mlflow.MlflowClient; `rest` MLflow's REST API on an
    HTTP registry (reconciler/registry/rest.py), for what MlflowClient does not cover."""

    registry: MlflowClient  # a RegistryWriter (reconciler/fields/seams.py) and what apply/ calls
    rest: Rest | None = None

    @staticmethod
    def raise_write_error(answer: Answer, endpoint: str, denied: str) -> None:
        """A REST write's error answer raises as MlflowClient's would (MLflow's own conversion), so
        the applier reports it like any other failed write; `denied` is the message for HTTP 403."""
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import PERMISSION_DENIED
        from mlflow.utils.rest_utils import verify_rest_response

        if answer.status_code == 403:
            raise MlflowException(denied, error_code=PERMISSION_DENIED)
        verify_rest_response(answer, endpoint)


def mlflow_client(target: Target) -> MlflowClient:
    use_write_defaults()
    install_quickack()
    # MLflow prints "View run … at: <tracking URI>/#/…" when a run ends (set_terminated ->
    # TrackingServiceClient._log_url in mlflow/tracking/_tracking_service/client.py), the URI with
    # its password; it skips that when MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT is true. apply links
    # the journal's run itself, without credentials (reconciler/commands/apply.py).
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    # Stages are deprecated in MLflow but this tool supports them on purpose; the README says so.
    warnings.filterwarnings("ignore", message=".*transition_model_version_stage.*", category=FutureWarning)
    from mlflow import MlflowClient

    with translate_errors(target), _one_opener(target):
        if target.registry_uri.startswith(DATABASE_SERVERS):
            _probe_database(target.registry_uri)
        client = MlflowClient(tracking_uri=target.tracking_uri, registry_uri=target.registry_uri)
        if target.sqlite_path() is not None:
            client.search_registered_models(max_results=1)  # opens the registry's store (and its migrations) now
        return client


@contextmanager
def _one_opener(target: Target) -> Iterator[None]:
    """MLflow creates a new SQLite file's tables, and migrates an old one's, when it first opens its
    stores; two processes doing it at once both run the migrations, and one fails (`duplicate column
    name: step`). The first to open the file holds an OS lock on a file beside it (`mlflow.db.lock`)
    until both stores are open; the others wait, then find the tables made. Where that file cannot
    be made (a read-only directory, a symlink there), neither can the database: no lock."""
    path = target.sqlite_path()
    if path is None:
        yield
        return
    import fcntl

    try:
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # Ctrl-C and SIGTERM still end the wait (PEP 475: the handler runs)
        yield
    finally:
        os.close(fd)  # and with it the lock


def _probe_database(uri: str) -> None:
    """One quick connection first: MLflow itself retries an unreachable database for ~100 s."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(uri, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


@contextmanager
def translate_errors(target: Target) -> Iterator[None]:
    """MLflow and network exceptions -> one-line RegistryError saying what to do."""
    try:
        yield
    except RegistryError:
        raise
    except Exception as e:  # classified below; anything unrecognised is re-raised as is
        error = classify(e, target)
        if error is None:
            raise
        raise error from e


def classify(e: BaseException, target: Target) -> RegistryError | None:
    import requests
    import sqlalchemy.exc
    from mlflow.exceptions import ERROR_CODE_TO_HTTP_STATUS, MlflowException

    where = f"registry {target.describe()}"
    text = str(e)
    if isinstance(e, ModuleNotFoundError):  # SQLAlchemy imports a database URI's driver on first use
        return RegistryError(
            f"cannot use the {where}: its database driver ({e.name}) is not installed here; install it into "
            "the reconciler's environment, or use a postgresql:// or http(s):// registry"
        )
    if isinstance(e, requests.exceptions.ConnectionError) or "Max retries exceeded" in text:
        return RegistryError(f"cannot reach the {where}; check MLFLOW_TRACKING_URI and that the server is up")
    if isinstance(e, sqlalchemy.exc.ArgumentError):  # a database URI SQLAlchemy cannot read
        return RegistryError(f"the {where} is no database URI SQLAlchemy can read: {first_line(text)}; correct it")
    if isinstance(e, sqlalchemy.exc.DBAPIError):  # a database URI: the driver's reason, never the URI
        # OperationalError (unreachable, refused login) and ProgrammingError (a bad connection option
        # in the URI's query, `connect_timeout=x`) alike.
        return RegistryError(
            f"cannot use the {where}: {first_line(str(e.orig))}; check MLFLOW_TRACKING_URI and that the database is up"
        )
    if isinstance(e, MlflowException):
        status = ERROR_CODE_TO_HTTP_STATUS.get(e.error_code, 500)  # MlflowException.get_http_status_code, typed
        if status == 401 or "401" in text.split("\n", 1)[0]:
            return RegistryError(
                f"the {where} refused the credentials (HTTP 401); set "
                "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)"
            )
        if "Invalid Host header" in text:
            return RegistryError(
                f"the {where} rejected the Host header (HTTP 403): its --allowed-hosts does not "
                "include this address; use the host name the server allows, or add this one"
            )
        if status == 403 or e.error_code == "PERMISSION_DENIED":
            return RegistryError(
                f"the {where} denied permission (HTTP 403): {first_line(e.message)}; "
                "ask an admin for EDIT (or MANAGE) permission on the model"
            )
        return RegistryError(f"the {where} answered {e.error_code}: {first_line(e.message)}")
    return None
