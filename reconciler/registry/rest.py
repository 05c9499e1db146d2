"""MLflow's REST API over `requests`, for reads: no MLflow import (it costs about a second), no
protobuf parsing (20,000 versions cost more to parse than to serve).

Credentials, TLS and retry settings come from the environment variables MLflow's own client
reads, with the same meaning: MLFLOW_TRACKING_USERNAME/PASSWORD (basic auth) or
MLFLOW_TRACKING_TOKEN (bearer), MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_TRACKING_SERVER_CERT_PATH,
MLFLOW_TRACKING_CLIENT_CERT_PATH, MLFLOW_HTTP_REQUEST_TIMEOUT, MLFLOW_HTTP_REQUEST_MAX_RETRIES and
MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR. Our defaults fail in seconds where MLflow's (7 retries,
backoff factor 2, 120 s timeout) make an unreachable registry hang for minutes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from reconciler.errors import RegistryError
from reconciler.masking import clip
from reconciler.registry.http import install_quickack
from reconciler.registry.target import Target

HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
# MLflow's client, for writes: one retry and 8 s, so a write that hangs ends (about 17 s at worst)
# before the registry lock's margin (20 s) runs out; reconciler/apply/writer.py retries transient errors
# itself, checking the lease before every attempt.
WRITE_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",  # MLflow reads it as an integer
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "8",
}
_SET_BY_US: set[str] = set()
RETRY_STATUS = (429, 500, 502, 503, 504)


# What each setting accepts: MLflow's client reads all three as integers (mlflow/environment_variables.py),
# and requests refuses a timeout of 0. (least, most, what it is)
HTTP_RANGES = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": (0, 100, "retries"),
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": (0, 120, "seconds (the first retry's backoff)"),
    "MLFLOW_HTTP_REQUEST_TIMEOUT": (1, 3600, "seconds"),
}


def setting(name: str) -> int:
    """The user's value of one of MLflow's HTTP settings, else ours for reads; a RegistryError naming
    the variable when it is not a whole number in range (MLflow's client would fail on it mid-command)."""
    raw = (os.environ.get(name) if name not in _SET_BY_US else None) or HTTP_DEFAULTS[name]
    least, most, unit = HTTP_RANGES[name]
    try:
        value = int(raw.strip())
    except ValueError:
        value = None
    if value is None or not least <= value <= most:
        raise RegistryError(
            f"{name}={clip(raw, 40)!r}: expected a whole number of {unit} from {least} to {most}; "
            f"set one, or unset it for the default ({HTTP_DEFAULTS[name]})"
        )
    return value


def check_settings() -> None:
    """Every HTTP setting the user gave, checked before a command reaches the registry."""
    for name in HTTP_RANGES:
        setting(name)


def use_write_defaults() -> None:
    """Give MLflow's own client (it reads the process environment) our write defaults, unless the
    user set them; reads here keep theirs."""
    check_settings()
    for key, value in WRITE_DEFAULTS.items():
        if key not in os.environ:
            os.environ[key] = value
            _SET_BY_US.add(key)


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


class Rest:
    """One kept-alive session to the server; thread-safe for concurrent GETs."""

    def __init__(self, target: Target, pool: int = 16):
        install_quickack()
        self.target = target
        self.base = target.registry_uri.rstrip("/")
        self.session = requests.Session()
        retry = Retry(
            total=setting("MLFLOW_HTTP_REQUEST_MAX_RETRIES"),
            backoff_factor=setting("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"),
            status_forcelist=RETRY_STATUS,
            allowed_methods=None,  # the reads here are all safe to repeat
            raise_on_status=False,
        )
        adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool, max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._credentials()
        self.timeout = float(setting("MLFLOW_HTTP_REQUEST_TIMEOUT"))

    def _credentials(self) -> None:
        user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        if user and password:
            self.session.auth = (user, password)
        elif token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        if _truthy("MLFLOW_TRACKING_INSECURE_TLS"):
            self.session.verify = False
        elif os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH"):
            self.session.verify = os.environ["MLFLOW_TRACKING_SERVER_CERT_PATH"]
        if os.environ.get("MLFLOW_TRACKING_CLIENT_CERT_PATH"):
            self.session.cert = os.environ["MLFLOW_TRACKING_CLIENT_CERT_PATH"]

    def get(self, endpoint: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("GET", endpoint, params=params)

    def post(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("POST", endpoint, json=body)

    def _call(self, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.session.request(method, self.base + endpoint, timeout=self.timeout, **kwargs)
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as e:
            # urllib3's LocationParseError (a host it cannot encode) is no RequestException.
            raise RegistryError(
                f"cannot reach the registry {self.target.describe()} ({type(e).__name__}); "
                "check MLFLOW_TRACKING_URI and that the server is up"
            ) from None
        if response.status_code != 200:
            raise http_error(self.target, response.status_code, response.text)
        try:
            data: dict[str, Any] = response.json()
            return data
        except ValueError:
            raise RegistryError(
                f"the registry {self.target.describe()} answered {endpoint} with something that is not JSON; "
                "is MLFLOW_TRACKING_URI an MLflow server?"
            ) from None


def http_error(target: Target, status: int, body: str) -> RegistryError:
    """An MLflow server's error answer -> one line that says what to do."""
    where = f"registry {target.describe()}"
    message, code = _error_fields(body)
    if status == 401:
        return RegistryError(
            f"the {where} refused the credentials (HTTP 401); set MLFLOW_TRACKING_USERNAME and "
            "MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)"
        )
    if status == 403 and "Invalid Host header" in body:
        return RegistryError(
            f"the {where} rejected the Host header (HTTP 403): its --allowed-hosts does not include this "
            "address; use the host name the server allows, or add this one"
        )
    if status == 403:
        return RegistryError(
            f"the {where} denied permission (HTTP 403): {message}; ask an admin for READ on the models"
        )
    return RegistryError(f"the {where} answered HTTP {status} {code}: {message}")


def _error_fields(body: str) -> tuple[str, str]:
    import json

    try:
        data = json.loads(body)
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    message = str(data.get("message") or body.strip() or "(no message)")
    return first_line(message), str(data.get("error_code") or "")


def first_line(text: str) -> str:
    """The first line of another library's message, masked (reconciler/masking.py) and then cut."""
    text = text.strip()
    return clip(text.splitlines()[0], 300) if text else "(no message)"
