"""Both Pulumi targets, run offline under Pulumi's mocks with the config the example stack files hold.

No Pulumi CLI, Docker engine or cluster exists here: these tests check the resource graph, every
Kubernetes object against the Kubernetes schemas in strict mode, and the security properties.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest

from infra.server_command import ServerSettings, migrate_command, server_command
from tests.infra.harness import REPO, SECRET_MARKER, plain, run_stack, secret_wrapped

pytestmark = pytest.mark.infra

# The Kubernetes versions the manifests are checked against: the oldest we support and the newest
# schema kubernetes-validate ships.
K8S_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")


@pytest.fixture(scope="module")
def local():
    return run_stack("local")


def containers(obj: dict) -> list[dict]:
    spec = obj["spec"]["template"]["spec"] if obj["kind"] != "Pod" else obj["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def workloads(run) -> list[dict]:
    return [o for o in run.k8s_objects() if o["kind"] in ("Deployment", "StatefulSet", "Job")]


# --- Kubernetes -------------------------------------------------------------------------------


def test_k8s_resource_graph(prod):
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in prod.k8s_objects())
    for expected in [
        ("Namespace", "mlflow"),
        ("NetworkPolicy", "default-deny-ingress"),
        ("StatefulSet", "postgres"),
        ("StatefulSet", "minio"),
        ("Job", "minio-bucket"),
        ("Deployment", "mlflow-server"),
        ("Service", "mlflow"),
        ("Ingress", "mlflow"),
        ("PodDisruptionBudget", "mlflow-server"),
        ("HorizontalPodAutoscaler", "mlflow-server"),
        ("NetworkPolicy", "postgres-from-mlflow"),
        ("NetworkPolicy", "minio-from-mlflow"),
        ("NetworkPolicy", "mlflow-server-clients"),
        ("Secret", "mlflow-auth"),
    ]:
        assert expected in kinds
    components = {r["type"] for r in prod.resources if r["type"].startswith("mlflow-registry:")}
    assert components == {
        "mlflow-registry:k8s:Postgres",
        "mlflow-registry:k8s:ObjectStore",
        "mlflow-registry:k8s:MlflowServer",
    }
    assert any(
        o["kind"] == "Job" and o["metadata"]["name"].startswith("mlflow-db-migrate-") for o in prod.k8s_objects()
    )


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_k8s_object_is_schema_valid_in_strict_mode(prod, version):
    objects = prod.k8s_objects()
    assert len(objects) >= 20
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)


def test_no_secret_value_outside_secrets(prod):
    for obj in prod.k8s_objects():
        if obj["kind"] != "Secret":
            assert SECRET_MARKER not in json.dumps(obj), f"{obj['kind']} {obj['metadata']['name']} holds a secret"
    raw_secrets = [r["inputs"] for r in prod.resources if r["type"] == "kubernetes:core/v1:Secret"]
    assert raw_secrets and all(secret_wrapped(s["stringData"]) for s in raw_secrets)  # encrypted in state


def test_every_password_is_generated(prod):
    generated = {r["name"] for r in prod.of_type("random:index/randomPassword:RandomPassword")}
    assert generated == {
        "postgres-password",
        "minio-root-password",
        "minio-mlflow-secret-key",
        "mlflow-admin-password",
        "mlflow-flask-secret-key",
    }
    for obj in workloads(prod):
        for c in containers(obj):
            for e in c.get("env", []):
                if re.search(r"PASSWORD|SECRET|_URI$|KEY", e["name"]) and e["name"] != "MLFLOW_AUTH_CONFIG_PATH":
                    assert "valueFrom" in e, f"{obj['metadata']['name']}/{c['name']}: {e['name']} is not from a Secret"


def test_images_are_pinned(prod):
    for obj in workloads(prod):
        for c in containers(obj):
            image = c["image"]
            assert "@sha256:" in image or (":" in image.split("/")[-1] and not image.endswith(":latest")), image


def test_every_container_is_restricted_with_requests_and_limits(prod):
    for obj in workloads(prod):
        pod = obj["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
        for c in containers(obj):
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"]
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert set(c["resources"]) == {"requests", "limits"}


def test_mlflow_deployment_is_highly_available_with_probes(prod):
    (deployment,) = prod.k8s("Deployment")
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    (c,) = containers(deployment)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] == "/health"
    (pdb,) = prod.k8s("PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    (hpa,) = prod.k8s("HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] == deployment["spec"]["replicas"] and hpa["spec"]["maxReplicas"] >= 2


def test_deployed_command_is_the_tested_command(prod):
    (deployment,) = prod.k8s("Deployment")
    (c,) = containers(deployment)
    args = c["command"]
    hosts = "mlflow.example.com,mlflow.mlflow.svc.cluster.local,mlflow.mlflow.svc,mlflow.mlflow,mlflow"
    expected = server_command(
        ServerSettings(
            artifacts_destination="s3://mlflow/artifacts",
            allowed_hosts=tuple(hosts.split(",")),
            s3_endpoint_url="http://minio.mlflow.svc.cluster.local:9000",
        )
    )
    assert args == list(expected.args)
    assert args[args.index("--workers") + 1] == "1"  # one worker per pod: scale by replicas
    assert "--app-name" in args and "basic-auth" in args and "--expose-prometheus" in args
    env = {e["name"]: e for e in c["env"]}
    assert set(expected.env) <= set(env)
    assert env["MLFLOW_BACKEND_STORE_URI"]["valueFrom"]["secretKeyRef"] == {"name": "mlflow-db", "key": "uri"}
    (migrate,) = [o for o in prod.k8s("Job") if o["metadata"]["name"].startswith("mlflow-db-migrate-")]
    (m,) = containers(migrate)
    assert m["command"] == list(migrate_command()) and m["image"] == c["image"]


def test_auth_database_is_postgres_and_admin_password_from_secret(prod):
    (auth,) = [s for s in prod.k8s("Secret") if s["metadata"]["name"] == "mlflow-auth"]
    ini = auth["stringData"]["basic_auth.ini"]
    assert "database_uri = postgresql://mlflow:" in ini and "/mlflow_auth" in ini
    assert "admin_password" not in ini  # it comes from MLFLOW_AUTH_ADMIN_PASSWORD
    (deployment,) = prod.k8s("Deployment")
    env = {e["name"]: e for e in containers(deployment)[0]["env"]}
    assert env["MLFLOW_AUTH_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "mlflow-auth"


def test_network_policies_let_only_mlflow_pods_reach_database_and_store(prod):
    policies = {p["metadata"]["name"]: p for p in prod.k8s("NetworkPolicy")}
    assert policies["default-deny-ingress"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    for name, label in (
        ("postgres-from-mlflow", "mlflow-registry/db-client"),
        ("minio-from-mlflow", "mlflow-registry/s3-client"),
    ):
        (rule,) = policies[name]["spec"]["ingress"]
        assert rule["from"] == [{"podSelector": {"matchLabels": {label: "true"}}}]
        holders = sorted(
            o["metadata"]["name"]
            for o in workloads(prod)
            if o["spec"]["template"]["metadata"]["labels"].get(label) == "true"
        )
        assert all(h.startswith(("mlflow-server", "mlflow-db-migrate", "minio-bucket")) for h in holders), holders


def test_ingress_has_tls(prod):
    (ingress,) = prod.k8s("Ingress")
    assert ingress["spec"]["tls"] == [{"hosts": ["mlflow.example.com"], "secretName": "mlflow-tls"}]
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"


def test_k8s_outputs(prod):
    assert prod.outputs["tracking_uri"] == "https://mlflow.example.com"
    assert prod.outputs["in_cluster_tracking_uri"] == "http://mlflow.mlflow.svc.cluster.local"


def test_external_database_and_bucket_come_from_secret_config():
    run = run_stack(
        "prod",
        extra={"externalDatabase": "true", "externalS3": "true", "s3EndpointUrl": "https://s3.eu-west-1.amazonaws.com"},
        secret={
            "databaseUri": f"postgresql://u:{SECRET_MARKER}db@db.internal/mlflow",
            "authDatabaseUri": f"postgresql://u:{SECRET_MARKER}db@db.internal/mlflow_auth",
            "s3AccessKey": "AKIAEXAMPLE",
            "s3SecretKey": f"{SECRET_MARKER}s3",
        },
    )
    names = {(o["kind"], o["metadata"]["name"]) for o in run.k8s_objects()}
    assert ("StatefulSet", "postgres") not in names and ("StatefulSet", "minio") not in names
    (db,) = [s for s in run.k8s("Secret") if s["metadata"]["name"] == "mlflow-db"]
    assert db["stringData"]["uri"] == f"postgresql://u:{SECRET_MARKER}db@db.internal/mlflow"
    for obj in run.k8s_objects():
        if obj["kind"] != "Secret":
            assert SECRET_MARKER not in json.dumps(obj)


def test_workload_identity_and_scheduling_options():
    run = run_stack(
        "prod",
        extra={
            "externalS3": "true",
            "serviceAccountAnnotations": json.dumps(
                {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/mlflow"}
            ),
            "podAnnotations": json.dumps({"team": "ml-platform"}),
            "serviceAnnotations": json.dumps({"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}),
            "nodeSelector": json.dumps({"kubernetes.io/arch": "amd64"}),
            "tolerations": json.dumps([{"key": "ml", "operator": "Exists", "effect": "NoSchedule"}]),
            "mlflowResources": json.dumps(
                {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "4", "memory": "4Gi"}}
            ),
        },
    )
    for obj in run.k8s_objects():
        kubernetes_validate.validate(obj, K8S_VERSIONS[-1], strict=True)
    (sa,) = run.k8s("ServiceAccount")
    assert sa["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/mlflow"}
    (deployment,) = run.k8s("Deployment")
    pod = deployment["spec"]["template"]
    assert pod["metadata"]["annotations"]["team"] == "ml-platform"
    assert (
        pod["spec"]["nodeSelector"] == {"kubernetes.io/arch": "amd64"} and pod["spec"]["tolerations"][0]["key"] == "ml"
    )
    (c,) = containers(deployment)
    assert c["resources"]["limits"] == {"cpu": "4", "memory": "4Gi"}
    names = {e["name"] for e in c["env"]}
    assert "AWS_ACCESS_KEY_ID" not in names and "AWS_SECRET_ACCESS_KEY" not in names  # the pod's identity instead
    assert "mlflow-s3" not in {s["metadata"]["name"] for s in run.k8s("Secret")}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"mlflowImage": "ghcr.io/acme/mlflow:latest"}, "pinned by a version tag"),
        ({"replicas": "1"}, "at least 2"),
        ({"target": "nomad"}, "is not 'docker' or 'kubernetes'"),
    ],
)
def test_bad_stack_config_is_refused(extra, message):
    with pytest.raises(AssertionError, match=message):
        run_stack("prod", extra=extra)


# --- Docker -----------------------------------------------------------------------------------


def test_docker_resource_graph(local):
    containers_by_name = {
        r["inputs"]["name"]: plain(r["inputs"]) for r in local.of_type("docker:index/container:Container")
    }
    assert set(containers_by_name) == {
        "mlflow-postgres",
        "mlflow-minio",
        "mlflow-minio-bucket",
        "mlflow-db-migrate",
        "mlflow-server",
    }
    assert len(local.of_type("docker:index/volume:Volume")) == 2
    (network,) = local.of_type("docker:index/network:Network")
    for name, c in containers_by_name.items():
        assert c["networksAdvanced"][0]["name"] == network["inputs"]["name"], name
    (image,) = local.of_type("docker:index/image:Image")
    assert image["inputs"]["build"]["dockerfile"].endswith("infra/Dockerfile") and image["inputs"]["skipPush"]
    for remote in local.of_type("docker:index/remoteImage:RemoteImage"):
        assert re.search(r":(\d|RELEASE)", remote["inputs"]["name"]) and not remote["inputs"]["name"].endswith(
            ":latest"
        )


def test_docker_services_are_healthy_restarting_and_local_only(local):
    by_name = {r["inputs"]["name"]: plain(r["inputs"]) for r in local.of_type("docker:index/container:Container")}
    for name in ("mlflow-postgres", "mlflow-minio", "mlflow-server"):
        assert by_name[name]["restart"] == "unless-stopped" and by_name[name]["healthcheck"]["tests"][0] == "CMD"
    server = by_name["mlflow-server"]
    assert server["ports"] == [{"internal": 5000, "external": 5000, "ip": "127.0.0.1"}]
    assert all("ports" not in by_name[n] for n in ("mlflow-postgres", "mlflow-minio"))  # not published
    assert server["readOnly"] is True and server["user"] == "10001:10001"


def test_docker_command_is_the_tested_command_and_secrets_stay_in_env(local):
    by_name = {r["inputs"]["name"]: plain(r["inputs"]) for r in local.of_type("docker:index/container:Container")}
    server = by_name["mlflow-server"]
    expected = server_command(
        ServerSettings(
            artifacts_destination="s3://mlflow/artifacts",
            port=5000,
            allowed_hosts=("localhost:5000", "127.0.0.1:5000", "mlflow:5000"),
            s3_endpoint_url="http://minio:9000",
        )
    )
    assert server["command"] == list(expected.args)
    assert by_name["mlflow-db-migrate"]["command"] == list(migrate_command())
    for c in by_name.values():
        visible = {k: v for k, v in c.items() if k not in ("envs", "uploads")}
        assert SECRET_MARKER not in json.dumps(visible), c["name"]
    assert local.outputs["tracking_uri"] == "http://localhost:5000"


# --- The repository -----------------------------------------------------------------------------


def test_server_image_pins_everything():
    dockerfile = (REPO / "infra" / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", dockerfile, re.M).group(1)
    assert re.search(r":\d+\.\d+\.\d+", base)
    requirements = [
        line
        for line in (REPO / "infra" / "server-requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert requirements and all("==" in line for line in requirements)
    assert "mlflow[auth]==3.17.2" in requirements


def test_no_hard_coded_credentials_in_the_repository():
    guide_defaults = [
        "mlflow" + "123",
        "minio" + "123",
        "secure" + "_password",
        "ds" + "_password",
        "ml" + "_password",
        "ops" + "_password",
        "admin" + "123",
        "password" + "1234",
    ]
    assignment = re.compile(r"(password|secret)[\w-]*\s*[:=]\s*[\"'][^\"'${}<>\s]{4,}[\"']", re.I)
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        path = Path(REPO, name)
        if not path.is_file() or path.suffix in (".png", ".db"):
            continue
        text = path.read_text(errors="ignore")
        for default in guide_defaults:
            assert default not in text, f"{name} contains the guide's default credential {default!r}"
        if name.startswith(("infra/", "Pulumi", ".github/", "reconciler/", "examples/")):
            assert not assignment.search(text), f"{name}: {assignment.search(text).group(0)}"


def test_project_file_declares_config_as_pulumi_accepts_and_stacks_match_it():
    """Pulumi types project config as string, integer, boolean or array (arrays need `items`) and
    checks stack values against those types; a violation stops `pulumi up` before it starts."""
    from ruamel.yaml import YAML

    project = YAML(typ="safe").load((REPO / "Pulumi.yaml").read_text())
    assert project["runtime"]["name"] == "python" and project["main"] == "infra/"
    python_types = {"string": str, "integer": int, "boolean": bool, "array": list}
    declared = project["config"]
    for key, decl in declared.items():
        assert set(decl) <= {"type", "items", "description", "secret", "default"}, key
        assert decl["type"] in python_types, f"{key}: type {decl['type']!r} is not one Pulumi accepts"
        assert decl["type"] != "array" or "items" in decl, key
        if "default" in decl:
            assert isinstance(decl["default"], python_types[decl["type"]]), key
    for stack in ("local", "prod"):
        values = YAML(typ="safe").load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
        for full_key, value in values.items():
            key = full_key.split(":", 1)[1]
            if key in declared:
                expected = python_types[declared[key]["type"]]
                assert isinstance(value, expected) and not (expected is int and isinstance(value, bool)), (
                    f"Pulumi.{stack}.yaml {full_key}: {value!r} is not {declared[key]['type']}"
                )
