"""Does a runtime image carry what a model version needs? Its package list against the version's
requirements.txt (MLflow writes one beside every model), checked when the stack is built.

A mismatch stops the program with one line (model, version, package, what the image has, what is
needed), so a version whose requirements the image does not meet never reaches a pod. `packaging`
parses requirements and specifiers as pip does.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

IMAGE_PYTHON = "3.11"  # infra/images.py PYTHON_BASE: markers are evaluated for the image's Python


class ImageMismatch(Exception):
    """The image does not meet the version's requirements, or a list cannot be read."""


@dataclass(frozen=True)
class ImagePackages:
    ref: str
    source: str  # the package list's file, for messages
    versions: dict[str, Version]  # canonical name -> installed version


def read_packages(ref: str, path: Path, shown: str) -> ImagePackages:
    """A `pip freeze` list (name==version per line; comments and blank lines ignored)."""
    if not path.is_file():
        raise ImageMismatch(f"{shown}: the package list of {ref} is not there; commit the image's `pip freeze`")
    versions: dict[str, Version] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        try:
            versions[canonicalize_name(name.strip())] = Version(version.strip())
        except InvalidVersion:
            sep = ""
        if not sep:
            raise ImageMismatch(
                f"{shown}:{number}: {raw.strip()[:80]!r} is not name==version; list it as pip freeze does"
            )
    return ImagePackages(ref, shown, versions)


def _environment() -> dict[str, str]:
    env = default_environment()
    env.update(python_version=IMAGE_PYTHON, python_full_version=f"{IMAGE_PYTHON}.0", sys_platform="linux")
    env.update(platform_system="Linux", os_name="posix")
    return env


def requirements(text: str, shown: str) -> list[Requirement]:
    """The requirements that apply in the image (markers evaluated for it); options and URLs refused."""
    out = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            raise ImageMismatch(
                f"{shown}: {line[:80]!r} is not a requirement this check reads (pip options, paths)"
            ) from None
        if req.url:
            raise ImageMismatch(f"{shown}: {req.name} comes from a URL; build the image from it and pin it by version")
        if req.marker is None or req.marker.evaluate(_environment()):
            out.append(req)
    return out


def unmet(needed: list[Requirement], image: ImagePackages) -> list[str]:
    """What the image lacks, one phrase per requirement (empty: it meets them all)."""
    problems = []
    for req in needed:
        have = image.versions.get(canonicalize_name(req.name))
        if have is None:
            problems.append(f"{req.name}{req.specifier} is not in the image")
        elif not req.specifier.contains(have, prereleases=True):
            problems.append(f"{req.name}{req.specifier} needed, the image has {have}")
    return problems


def check(model: str, version: int, where: str, requirements_text: str, image: ImagePackages) -> None:
    """Raise a one-line ImageMismatch unless `image` meets the version's requirements.txt."""
    problems = unmet(requirements(requirements_text, f"models:/{model}/{version}/requirements.txt"), image)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ImageMismatch(
            f"{where}: {model} version {version}: {problems[0]}{more} ({image.ref}, {image.source}); "
            "rebuild the image from the version's requirements.txt, or serve a version it meets"
        )


def fetch_requirements(tracking_uri: str, model: str, version: int) -> str:
    """The version's requirements.txt from the registry (credentials: MLFLOW_TRACKING_USERNAME and
    MLFLOW_TRACKING_PASSWORD of the environment, a read-only user's)."""
    import mlflow.artifacts
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    uri = f"models:/{model}/{version}/requirements.txt"
    # A few quick retries, not MLflow's default minutes of backoff: `pulumi up` should fail fast.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    with tempfile.TemporaryDirectory() as into:
        try:
            client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
            location = client.get_model_version_download_uri(model, str(version)).rstrip("/")
            path = mlflow.artifacts.download_artifacts(
                artifact_uri=f"{location}/requirements.txt", dst_path=into, tracking_uri=tracking_uri
            )
        except (MlflowException, OSError) as error:
            first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
            raise ImageMismatch(
                f"{uri}: cannot read it from {tracking_uri} ({first}); check servingTrackingUri and the "
                "read-only user in MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD"
            ) from None
        return Path(path).read_text(encoding="utf-8")
