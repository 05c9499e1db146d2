"""Run one smoke test: download the version's model (read only), load it as a pyfunc, score its
logged serving input example (or a declared sample file) through the scoring server's own
`invocations` (what `/invocations` runs, with the same payload parsing, schema enforcement and
JSON encoding) and judge the answer (check.py). The job's Python is the environment (MLflow's
env_manager `local`): the check runs where the version's requirements are installed.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.registry.clients import classify, mlflow_client, translate_errors
from reconciler.registry.target import Target
from reconciler.smoke import check
from reconciler.smoke.result import NO_EXAMPLE_FIX, Outcome, SmokeResult

SERVING_EXAMPLE = "serving_input_example.json"
CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class Request:
    model: str
    version: int
    sample: Path | None = None  # a scoring-server JSON payload; None: the logged example
    latency_budget_ms: float | None = None


def smoke(request: Request, target: Target, clock: Callable[[], float] = time.perf_counter) -> SmokeResult:
    """One version's smoke test. Raises RegistryError when the registry cannot be read or has no such version."""
    with tempfile.TemporaryDirectory(prefix="reconciler-smoke-") as tmp:
        started = clock()
        local = _download(request, target, Path(tmp))
        payload, source = _payload(request, local)
        if payload is None:
            return SmokeResult(request.model, request.version, Outcome.NOT_TESTED, reasons=(NO_EXAMPLE_FIX,))
        model, load_problem = _load(local)
        load_ms = (clock() - started) * 1000
        if model is None:
            return _failed(request, source, None, None, load_ms, (load_problem,))
        return _score(request, model, payload, source, load_ms, clock)


def _failed(
    r: Request, source: str, rows: int | None, latency: float | None, load_ms: float | None, why: tuple[str, ...]
) -> SmokeResult:
    return SmokeResult(r.model, r.version, Outcome.FAILED, source, rows, latency, load_ms, why)


def _download(request: Request, target: Target, into: Path) -> Path:
    """The version's files, through a client of `target` (never MLflow's process-wide URIs: the
    check runs inside `reconciler github check`, and a `models:/` URI would read the global registry)."""
    import mlflow.artifacts

    client = mlflow_client(target)
    with translate_errors(target):
        try:
            where = client.get_model_version_download_uri(request.model, str(request.version))
            return Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=where, dst_path=str(into), tracking_uri=target.tracking_uri
                )
            )
        except Exception as e:  # classified: a missing version, the registry (translate_errors), the artifacts
            if "RESOURCE_DOES_NOT_EXIST" in str(e):
                raise ReconcilerError(
                    f"{request.model} v{request.version}: no such model version in the registry; "
                    "check the name and number"
                ) from None
            if classify(e, target) is not None:
                raise
            raise ReconcilerError(
                f"{request.model} v{request.version}: cannot download the model's files "
                f"({type(e).__name__}: {_first(str(e))}); check the version's source and the artifact store"
            ) from None


def _payload(request: Request, local: Path) -> tuple[str | None, str]:
    if request.sample is not None:
        try:
            return request.sample.read_text(encoding="utf-8"), str(request.sample)
        except (OSError, UnicodeDecodeError) as e:
            raise ReconcilerError(f"{request.sample}: cannot read the smoke sample ({e}); check the path") from None
    example = local / SERVING_EXAMPLE
    return (example.read_text(encoding="utf-8"), SERVING_EXAMPLE) if example.is_file() else (None, "")


def _load(local: Path) -> tuple[Any, str]:
    import mlflow.pyfunc

    try:
        return mlflow.pyfunc.load_model(str(local)), ""
    except Exception as e:  # any failure to load is the version's problem, reported as its result
        return None, f"the model does not load: {type(e).__name__}: {_first(str(e))}"


def _score(
    r: Request, model: Any, payload: str, source: str, load_ms: float, clock: Callable[[], float]
) -> SmokeResult:
    from mlflow.pyfunc import scoring_server

    try:
        rows_in = check.payload_rows(json.loads(payload))
    except (ValueError, AttributeError) as e:
        return _failed(r, source, None, None, load_ms, (f"the input is not a scoring-server JSON payload: {e}",))
    started = clock()
    try:
        answer = scoring_server.invocations(payload, CONTENT_TYPE, model, model.metadata.get_input_schema())
    except Exception as e:  # the scoring server answers these with HTTP 400/500: the version fails
        return _failed(r, source, rows_in, None, load_ms, (f"scoring raised: {_message(e)}",))
    latency = (clock() - started) * 1000
    if answer.status != 200:
        return _failed(
            r, source, rows_in, latency, load_ms, (f"scoring answered HTTP {answer.status}: {_first(answer.response)}",)
        )
    why = check.problems(json.loads(answer.response), expected(model.metadata.signature), rows_in)
    if r.latency_budget_ms is not None and latency > r.latency_budget_ms:
        why = (*why, f"took {latency:.1f} ms, over the {r.latency_budget_ms:g} ms budget")
    outcome = Outcome.FAILED if why else Outcome.PASSED
    return SmokeResult(r.model, r.version, outcome, source, rows_in, latency, load_ms, why)


def expected(signature: Any) -> check.Expected:
    """MLflow's ModelSignature -> check.Expected (nothing expected without an output schema)."""
    outputs = getattr(signature, "outputs", None)
    if outputs is None:
        return check.Expected()
    if outputs.is_tensor_spec():
        spec = outputs.inputs[0]
        return check.Expected(tensor_shape=tuple(spec.shape))
    return check.Expected(columns=tuple(check.Column(c.name, _type_name(c.type)) for c in outputs.inputs))


def _type_name(t: Any) -> str:
    return str(getattr(t, "name", t))


def _message(e: BaseException) -> str:
    """The scoring server wraps the model's own exception in a generic MlflowException: name the model's."""
    text = _first(getattr(e, "message", None) or str(e))
    cause = e.__cause__ or e.__context__
    return f"{text} ({type(cause).__name__}: {_first(str(cause))})" if cause is not None else text


def _first(text: str, limit: int = 300) -> str:
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
