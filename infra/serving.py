"""The served models of the stack: read from the model files, pinned, and their images checked.

Both targets call `served_workloads`: it resolves every `serving:` section to its version from the
file (reconciler/serving/resolve.py), picks the runtime image (the file's, or the stack's
servingImage), and checks the image's package list against the pinned version's requirements.txt
read from the tracking server. Any problem stops the program with one line before a resource exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pulumi

from infra import serving_image
from reconciler.errors import DesiredStateError
from reconciler.serving import Served, served_models

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PACKAGES = "infra/serving-image/requirements.txt"
DEFAULT_CREDENTIALS = "mlflow-serving-reader"  # a Secret with `username` and `password` keys
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
Fetch = Callable[[str, str, int], str]


class ServingConfigError(Exception):
    pass


@dataclass(frozen=True)
class ServingConfig:
    models_dir: Path
    image: str  # the default runtime image; Docker: empty builds infra/serving-image
    packages: Path  # its package list
    tracking_uri: str  # where the program reads requirements.txt (outside the cluster)
    credentials_secret: str  # Kubernetes: the read-only MLflow user's Secret
    port: int = 5100  # Docker: the first served model's loopback port

    @classmethod
    def load(cls, c: pulumi.Config, default_tracking_uri: str) -> ServingConfig:
        return cls(
            models_dir=REPO / (c.get("servingModelsDir") or "models"),
            image=c.get("servingImage") or "",
            packages=REPO / (c.get("servingImagePackages") or DEFAULT_PACKAGES),
            tracking_uri=c.get("servingTrackingUri") or default_tracking_uri,
            credentials_secret=c.get("servingCredentialsSecret") or DEFAULT_CREDENTIALS,
            port=c.get_int("servingPort") or 5100,
        )


@dataclass(frozen=True)
class Workload:
    served: Served
    image: str  # what the pods run: pinned by digest on Kubernetes; "" on Docker: the built default


def _image(s: Served, config: ServingConfig, pinned: bool) -> tuple[str, Path, str]:
    if s.image is not None:
        return s.image.ref, config.models_dir.parent / s.image.packages, s.image.packages
    if pinned and not _DIGEST.search(config.image):
        raise ServingConfigError(
            f"{s.source}: {s.model} serves with the stack's runtime image, and config servingImage is "
            f"{config.image or 'not set'}: set it to the image built from infra/serving-image, pinned by @sha256 digest"
        )
    shown = str(config.packages.relative_to(REPO)) if config.packages.is_relative_to(REPO) else str(config.packages)
    return config.image, config.packages, shown


def served_workloads(
    config: ServingConfig, pinned: bool, fetch: Fetch = serving_image.fetch_requirements
) -> list[Workload]:
    """Every served model with its image, checked; `pinned`: images must carry a digest (Kubernetes)."""
    try:
        served = served_models(config.models_dir)
    except DesiredStateError as error:
        raise ServingConfigError(str(error)) from None
    out = []
    for s in served:
        ref, packages, shown = _image(s, config, pinned)
        image = serving_image.read_packages(ref or "the local serving image", packages, shown)
        needed = fetch(config.tracking_uri, s.model, s.version)
        serving_image.check(s.model, s.version, s.source, needed, image)
        out.append(Workload(s, ref))
    return out
