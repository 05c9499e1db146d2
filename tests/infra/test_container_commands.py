"""Every script a container of the programs runs, executed as its manifest gives it: the command,
the environment (Secrets resolved as the kubelet resolves them, Docker's `envs`), the user, the
read-only root and the volumes, read from the Pulumi resources under mocks (tests/infra/kubelet.py,
tests/infra/docker_engine.py, tests/support/sandbox.py). Where no real binary can run here, a recording stub
stands in (`mc`, tests/infra/stubs/mc) and its calls are checked. The MLflow and PostgreSQL
commands run against real servers in tests/integration/test_docker_stack.py (the Docker stack),
test_server_flags.py (the Kubernetes Jobs and server pod) and test_rotation.py (the StatefulSet's
hooks and probes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import minio_setup
from tests.infra import docker_engine, image_layers, kubelet
from tests.infra.conftest import named
from tests.infra.harness import Run

pytestmark = pytest.mark.infra


def mc_calls(stderr: str) -> list[dict]:
    return [json.loads(line.split(": ", 1)[1]) for line in stderr.splitlines() if line.startswith("mc-stub: ")]


def bucket_job(run: Run) -> dict:
    (job,) = [o for o in run.k8s("Job") if o["metadata"]["name"].startswith("minio-bucket-")]
    return job


def run_bucket_job(run: Run, tmp_path: Path):
    pod = bucket_job(run)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    volumes = kubelet.pod_volumes(run, pod, tmp_path)
    return kubelet.sandboxed(
        run, pod, container, image_layers.MINIO, volumes, entrypoint=image_layers.MINIO_ENTRYPOINT
    ).run()


def granted(calls: list[dict]) -> dict[str, dict]:
    """bucket -> {user, secret, policy} from the script's mc calls."""
    out, policies, secrets = {}, {}, {}
    for call in calls:
        if call["cmd"] == "admin policy create":
            policies[call["name"]] = call["policy"]
        elif call["cmd"] == "admin user add":
            secrets[call["access_key"]] = call["secret_key"]
        elif call["cmd"] == "admin policy attach":
            (policy,) = call["policies"]
            statements = policies[policy]["Statement"]
            buckets = {r.split(":::")[1].split("/")[0] for s in statements for r in s["Resource"]}
            (bucket,) = buckets
            out[bucket] = {"user": call["user"], "secret": secrets[call["user"]], "policy": policies[policy]}
    return out


@pytest.mark.parametrize("variant", ["prod_minio", "small"])
def test_the_bucket_job_runs_with_its_manifest_environment(request, variant, tmp_path):
    run: Run = request.getfixturevalue(variant)
    done = run_bucket_job(run, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    calls = mc_calls(done.stderr)
    (alias,) = [c for c in calls if c["cmd"] == "alias set"]
    root = kubelet.secret_data(run)
    assert alias["access_key"] == root[("minio-root", "user")]
    users = granted(calls)
    s3 = kubelet.secret_data(run)
    artifacts = users.pop("acme-mlflow-artifacts")
    assert artifacts["user"] == s3[("mlflow-s3", "access-key")]
    assert artifacts["secret"] == s3[("mlflow-s3", "secret-key")]  # what the server signs with
    assert artifacts["policy"] == minio_setup.policy("acme-mlflow-artifacts")
    if variant == "prod_minio":  # the backups' user: what CloudNativePG's ObjectStore reads
        store = named(run, "ObjectStore", "mlflow-pg-backups")["spec"]["configuration"]["s3Credentials"]
        backups = users.pop("acme-mlflow-postgres-backups")
        for field, ref in (("user", store["accessKeyId"]), ("secret", store["secretAccessKey"])):
            assert backups[field] == s3[(ref["name"], ref["key"])]
    assert users == {}


def test_the_docker_bucket_container_runs_with_its_environment(local, tmp_path):
    c = local.containers()["mlflow-minio-bucket"]
    done = docker_engine.sandboxed(c, image_layers.MINIO, {}, entrypoint=image_layers.MINIO_ENTRYPOINT).run()
    assert done.returncode == 0, done.stderr[-2000:]
    (artifacts,) = granted(mc_calls(done.stderr)).values()
    server_env = dict(e.split("=", 1) for e in local.containers()["mlflow-server"]["envs"])
    assert artifacts["user"] == server_env["AWS_ACCESS_KEY_ID"]
    assert artifacts["secret"] == server_env["AWS_SECRET_ACCESS_KEY"]
