"""The Kubernetes serving workloads, from model files against a real registry, under Pulumi's mocks:
strict Kubernetes schemas, the restricted Pod Security Standard, the engine-rule mirrors of
tests/infra (kubelet expansion, ephemeral storage, NetworkPolicy semantics), the pin moving with the
file, and the image checked against the pinned version's requirements.txt when the stack is built."""

from __future__ import annotations

import kubernetes_validate
import pytest

from infra.k8s.serving import workload_name
from reconciler.serving.commands import serve_command
from tests.infra import kubelet, netpol
from tests.infra.conftest import containers, named
from tests.infra.test_k8s_api_rules import ephemeral_problems
from tests.infra.test_pulumi_programs import K8S_VERSIONS
from tests.serving.conftest import IMAGE, MODEL, model_file, serving_stack

pytestmark = [pytest.mark.infra, pytest.mark.integration]
NAME = "serve-iris"
SERVING = "serving:\n  alias: champion\n  replicas: 3\n  ingress_namespaces: [apps]\n  latency_budget_ms: 300"


@pytest.fixture(scope="module")
def champion_1(registry, image_packages, tmp_path_factory):
    models = tmp_path_factory.mktemp("champion-1") / "models"
    model_file(models, 1, SERVING)
    return serving_stack(registry, models, image_packages)


@pytest.fixture(scope="module")
def champion_2(registry, image_packages, tmp_path_factory):
    models = tmp_path_factory.mktemp("champion-2") / "models"
    model_file(models, 2, SERVING)
    return serving_stack(registry, models, image_packages)


def pod(run) -> dict:
    return named(run, "Deployment", NAME)["spec"]["template"]


def container(run, name: str) -> dict:
    (c,) = [c for c in containers(named(run, "Deployment", NAME)) if c["name"] == name]
    return c


def test_one_deployment_service_budget_and_policies_per_served_model(champion_1):
    names = {(o["kind"], o["metadata"]["name"]) for o in champion_1.k8s_objects()}
    assert {
        ("Deployment", NAME),
        ("Service", NAME),
        ("PodDisruptionBudget", NAME),
        ("NetworkPolicy", f"{NAME}-ingress"),
        ("NetworkPolicy", f"{NAME}-egress"),
    } <= names
    assert champion_1.outputs["served_versions"] == {MODEL: 1}
    assert named(champion_1, "PodDisruptionBudget", NAME)["spec"]["minAvailable"] == 1
    assert (
        named(champion_1, "Service", NAME)["spec"]["selector"]
        == named(champion_1, "Deployment", NAME)["spec"]["selector"]["matchLabels"]
    )


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_the_serving_objects_are_schema_valid_in_strict_mode(champion_1, version):
    objects = [o for o in champion_1.k8s_objects() if o["metadata"]["name"].startswith(NAME)]
    assert len(objects) == 5
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)


def test_every_replica_serves_the_pinned_version_never_an_alias(champion_1):
    deployment = named(champion_1, "Deployment", NAME)
    assert deployment["spec"]["replicas"] == 3  # one template for all: the same version everywhere
    fetch, scoring = container(champion_1, "fetch-model"), container(champion_1, "scoring")
    assert fetch["command"] == [
        "mlflow", "artifacts", "download", "--artifact-uri", "models:/iris/1", "--dst-path", "/models"
    ]  # fmt: skip
    assert scoring["command"] == serve_command("/models")
    assert all("@" not in arg for c in (fetch, scoring) for arg in c["command"])
    assert pod(champion_1)["metadata"]["annotations"]["mlflow-registry/served-version"] == "1"
    assert scoring["readinessProbe"]["httpGet"] == {"path": "/ping", "port": "http"}
    assert scoring["resources"]["limits"]["cpu"] == "500m" and scoring["resources"]["limits"]["memory"] == "1Gi"


def test_moving_the_champion_changes_the_pod_template(champion_1, champion_2):
    assert pod(champion_1) != pod(champion_2)  # a new template: the Deployment rolls
    assert "models:/iris/2" in container(champion_2, "fetch-model")["command"]
    assert champion_2.outputs["served_versions"] == {MODEL: 2}
    one, two = named(champion_1, "Deployment", NAME), named(champion_2, "Deployment", NAME)
    assert one["spec"]["selector"] == two["spec"]["selector"]  # the same Deployment, updated in place


def test_the_pods_are_restricted_pinned_and_hold_only_a_readers_credentials(champion_1):
    spec = pod(champion_1)["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["automountServiceAccountToken"] is False
    for c in containers(named(champion_1, "Deployment", NAME)):
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"]
        assert sc["capabilities"]["drop"] == ["ALL"] and sc["seccompProfile"] == {"type": "RuntimeDefault"}
        assert set(c["resources"]) == {"requests", "limits"} and c["image"] == IMAGE
    env = {e["name"]: e for e in container(champion_1, "fetch-model")["env"]}
    for key, field in (("MLFLOW_TRACKING_USERNAME", "username"), ("MLFLOW_TRACKING_PASSWORD", "password")):
        assert env[key]["valueFrom"]["secretKeyRef"] == {"name": "mlflow-serving-reader", "key": field}
    assert env["MLFLOW_TRACKING_URI"]["value"] == "http://mlflow.mlflow.svc.cluster.local"
    assert not [e for e in container(champion_1, "scoring")["env"] if e["name"].startswith("MLFLOW_")]


def test_the_engine_rule_mirrors_hold_for_the_serving_pods(champion_1):
    deployment = named(champion_1, "Deployment", NAME)
    assert ephemeral_problems(deployment) == []
    for c in containers(deployment):
        defined = {e["name"]: "x" for e in c.get("env", [])}
        assert all("$(" not in kubelet.expand(a, defined) and "$$" not in a for a in c["command"])


def _scoring_pod(run) -> netpol.Pod:
    return netpol.Pod("mlflow", pod(run)["metadata"]["labels"], {"http": 8080})


def test_only_the_allowed_namespaces_reach_the_scoring_port(champion_1):
    policies = champion_1.k8s("NetworkPolicy")
    target = _scoring_pod(champion_1)
    assert netpol.allowed(policies, netpol.Pod("apps", {}), target, 8080)
    assert not netpol.allowed(policies, netpol.Pod("other", {}), target, 8080)
    assert not netpol.allowed(policies, netpol.Pod("mlflow", {"app.kubernetes.io/name": "x"}), target, 8080)


def test_the_scoring_pods_reach_the_tracking_server_and_dns_only(champion_1):
    policies = champion_1.k8s("NetworkPolicy")
    source = _scoring_pod(champion_1)
    server_labels = named(champion_1, "Deployment", "mlflow-server")["spec"]["template"]["metadata"]["labels"]
    tracking = netpol.Pod("mlflow", server_labels)
    dns = netpol.Pod("kube-system", {"k8s-app": "kube-dns"})
    assert netpol.egress_allowed(policies, source, tracking, 5000)
    assert netpol.egress_allowed(policies, source, dns, 53)
    assert not netpol.egress_allowed(policies, source, "169.254.169.254", 80)  # the node's metadata service
    assert not netpol.egress_allowed(policies, source, "52.1.2.3", 443)  # the internet, the bucket
    assert not netpol.egress_allowed(policies, source, netpol.Pod("mlflow", {"cnpg.io/cluster": "mlflow-pg"}), 5432)
    assert not netpol.egress_allowed(policies, source, tracking, 9101)
    assert netpol.egress_allowed(policies, tracking, "52.1.2.3", 443)  # the server keeps its egress (S3)
    assert not netpol.egress_allowed(policies, tracking, "169.254.169.254", 80)


def test_a_version_the_image_does_not_meet_fails_the_build_in_one_line(registry, image_packages, tmp_path):
    packages = tmp_path / "packages.txt"
    packages.write_text(
        "".join(
            "scikit-learn==0.24.2\n" if line.lower().startswith("scikit-learn==") else line + "\n"
            for line in image_packages.read_text().splitlines()
        )
    )
    path = model_file(tmp_path / "models", 2)
    failed = serving_stack(registry, tmp_path / "models", packages, expect_failure=True)
    (line,) = [li for li in failed.error.splitlines() if "needed, the image has 0.24.2" in li]
    assert f"{path}:7: iris version 2: scikit-learn==" in line and IMAGE in line
    assert "rebuild the image from the version's requirements.txt" in line
    assert not failed.k8s("Deployment")  # nothing was built


def test_a_missing_package_is_named(registry, image_packages, tmp_path):
    packages = tmp_path / "packages.txt"
    packages.write_text("".join(li + "\n" for li in image_packages.read_text().splitlines() if "skops" not in li))
    model_file(tmp_path / "models", 1)
    failed = serving_stack(registry, tmp_path / "models", packages, expect_failure=True)
    assert "iris version 1: skops==" in failed.error and "is not in the image" in failed.error


def test_an_alias_the_file_does_not_set_fails_naming_file_and_line(registry, image_packages, tmp_path):
    path = model_file(tmp_path / "models", 1, "serving:\n  alias: gold")
    failed = serving_stack(registry, tmp_path / "models", image_packages, expect_failure=True)
    assert f"{path}:8: serving.alias 'gold' is not set in this file's aliases (set: champion)" in failed.error


def test_an_unpinned_default_image_is_refused(registry, image_packages, tmp_path):
    model_file(tmp_path / "models", 1)
    failed = serving_stack(
        registry, tmp_path / "models", image_packages, expect_failure=True, servingImage="ghcr.io/acme/serve:1"
    )
    assert "config servingImage is ghcr.io/acme/serve:1: set it to the image built from infra/serving-image" in (
        failed.error
    )


def test_a_registry_that_refuses_the_reader_fails_in_one_line(registry, image_packages, tmp_path):
    model_file(tmp_path / "models", 1)
    failed = serving_stack(
        registry, tmp_path / "models", image_packages, expect_failure=True, servingTrackingUri="http://127.0.0.1:9"
    )
    assert "models:/iris/1/requirements.txt: cannot read it from http://127.0.0.1:9" in failed.error


@pytest.mark.parametrize(
    ("model", "name"),
    [("iris", "serve-iris"), ("Fraud Detector.v2", "serve-fraud-detector-v2-"), ("___", "serve-")],
)
def test_workload_names_are_dns_labels(model, name):
    got = workload_name(model)
    assert got.startswith(name) and len(got) <= 63
    assert got == got.lower() and got.replace("-", "").isalnum()
