"""Every image is pinned: third-party ones by digest (infra/images.py says where each digest comes
from), the ones built here from pinned bases and pinned upstream commits."""

from __future__ import annotations

import re

import pytest

from infra import images
from tests.infra.conftest import containers, workloads
from tests.infra.harness import REPO, Run

pytestmark = pytest.mark.infra

DIGEST = re.compile(r"^[a-z0-9./_-]+(:[\w.-]+)?@sha256:[0-9a-f]{64}$")
# Built from this repository and pushed by the operator; the config check refuses them unpinned.
OPERATOR_BUILT = ("ghcr.io/acme/mlflow-registry-server:", "ghcr.io/acme/mlflow-registry-minio:")


def _from_lines(dockerfile: str) -> list[str]:
    return re.findall(r"^FROM (\S+)", (REPO / dockerfile).read_text(), re.M)


def test_pinned_constants_are_digests():
    for name in ("POSTGRES", "CNPG_POSTGRES", "PYTHON_BASE", "GOLANG_BASE", "DEBIAN_BASE"):
        assert DIGEST.match(getattr(images, name)), name
    assert images.POSTGRES.startswith(f"postgres:{images.POSTGRES_MAJOR}.")
    assert images.CNPG_POSTGRES.split(":")[1].startswith(f"{images.POSTGRES_MAJOR}.")
    for commit in (images.MINIO_COMMIT, images.MC_COMMIT):
        assert re.fullmatch(r"[0-9a-f]{40}", commit)


def test_dockerfiles_build_on_the_pinned_bases():
    assert _from_lines("infra/Dockerfile") == [images.PYTHON_BASE]
    assert _from_lines("infra/minio/Dockerfile") == [images.GOLANG_BASE, images.DEBIAN_BASE]
    minio = (REPO / "infra/minio/Dockerfile").read_text()
    assert f"ARG MINIO_COMMIT={images.MINIO_COMMIT}" in minio and f"ARG MC_COMMIT={images.MC_COMMIT}" in minio
    assert 'test "$(git -C "/src/$1" rev-parse HEAD)" = "$2"' in minio  # the build fails on any other commit


def test_server_requirements_are_pinned():
    requirements = [
        line
        for line in (REPO / "infra" / "server-requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert requirements and all("==" in line for line in requirements)
    assert "mlflow[auth]==3.17.2" in requirements


def _k8s_images(run: Run) -> set[str]:
    found = {c["image"] for obj in workloads(run) for c in containers(obj)}
    found |= {o["spec"]["imageName"] for o in run.k8s("Cluster")}
    return found


@pytest.mark.parametrize("variant", ["prod", "prod_minio", "small"])
def test_every_kubernetes_image_is_pinned(request, variant):
    for image in _k8s_images(request.getfixturevalue(variant)):
        assert DIGEST.match(image) or image.startswith(OPERATOR_BUILT), image


def test_every_docker_image_is_pinned_or_built_here(local):
    for remote in local.of_type("docker:index/remoteImage:RemoteImage"):
        assert DIGEST.match(remote["inputs"]["name"])
    built = {i["inputs"]["imageName"] for i in local.of_type("docker:index/image:Image")}
    assert built == {"mlflow-registry-server:3.17.2", f"mlflow-registry-minio:{images.MINIO_IMAGE_TAG}"}
    assert images.MINIO_IMAGE_TAG.endswith(images.MINIO_COMMIT[:7])
