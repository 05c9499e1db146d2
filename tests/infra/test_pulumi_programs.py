"""Both Pulumi targets, run offline under Pulumi's mocks with the config the example stack files hold.

No Pulumi CLI, Docker engine or cluster exists here: these tests check the resource graph, every
Kubernetes object against the Kubernetes schemas in strict mode, and the security properties.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import kubernetes_validate
import pytest

from infra.k8s.server_settings import k8s_server_settings
from infra.server_command import (
    AUTH_BOOTSTRAP_PATH,
    CONNECTION_OPTIONS,
    ServerSettings,
    migrate_command,
    server_command,
)
from tests.infra import crds
from tests.infra.conftest import containers, migration_job, named, server_container, workloads
from tests.infra.harness import REPO, SECRET_MARKER, run_stack, secret_wrapped

pytestmark = pytest.mark.infra

# The Kubernetes versions the manifests are checked against: the oldest we support and the newest
# schema kubernetes-validate ships.
K8S_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


# --- Kubernetes -------------------------------------------------------------------------------


def _names(run) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in run.k8s_objects()}


def test_prod_graph_is_cloudnative_pg_with_s3(prod):
    names = _names(prod)
    for expected in [
        ("Namespace", "mlflow"),
        ("NetworkPolicy", "default-deny-ingress"),
        ("Cluster", "mlflow-pg"),
        ("Database", "mlflow-auth"),
        ("ObjectStore", "mlflow-pg-backups"),
        ("ScheduledBackup", "mlflow-pg-base-backup"),
        ("NetworkPolicy", "mlflow-pg-ingress"),
        ("Deployment", "mlflow-server"),
        ("Service", "mlflow"),
        ("Ingress", "mlflow"),
        ("PodDisruptionBudget", "mlflow-server"),
        ("HorizontalPodAutoscaler", "mlflow-server"),
        ("NetworkPolicy", "mlflow-server-clients"),
        ("Secret", "mlflow-auth"),
    ]:
        assert expected in names
    assert not {k for k, _ in names} & {"StatefulSet"}  # no single-pod database, no MinIO
    components = {r["type"] for r in prod.resources if r["type"].startswith("mlflow-registry:")}
    assert components == {"mlflow-registry:k8s:CloudNativePg", "mlflow-registry:k8s:MlflowServer"}
    assert migration_job(prod)["metadata"]["annotations"]["pulumi.com/replaceUnready"] == "true"


def test_small_setup_graph(small):
    names = _names(small)
    assert {("StatefulSet", "postgres"), ("StatefulSet", "minio"), ("NetworkPolicy", "postgres-from-mlflow")} <= names
    assert any(k == "Job" and n.startswith("minio-bucket-") for k, n in names)
    assert not any(k == "Cluster" for k, _ in names)


def _builtin(obj: dict) -> bool:
    """A kind the API server itself defines (core, apps, batch, networking.k8s.io, ...)."""
    group = obj["apiVersion"].rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("variant", ["prod", "prod_minio", "small"])
def test_every_builtin_object_is_schema_valid_in_strict_mode(request, variant, version):
    objects = [o for o in request.getfixturevalue(variant).k8s_objects() if _builtin(o)]
    assert len(objects) >= 12
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)


@pytest.mark.parametrize("variant", ["prod", "prod_minio", "small"])
def test_every_object_is_checked_by_one_schema(request, variant):
    for obj in request.getfixturevalue(variant).k8s_objects():
        custom = (obj["apiVersion"], obj["kind"]) in crds.SCHEMAS or obj["kind"] == "ObjectStore"
        assert _builtin(obj) != custom, f"{obj['kind']} {obj['metadata']['name']}"


@pytest.mark.parametrize("variant", ["prod", "prod_minio", "small"])
def test_no_secret_value_outside_secrets(request, variant):
    run = request.getfixturevalue(variant)
    for obj in run.k8s_objects():
        if obj["kind"] != "Secret":
            assert SECRET_MARKER not in json.dumps(obj), f"{obj['kind']} {obj['metadata']['name']} holds a secret"
    raw_secrets = [r["inputs"] for r in run.resources if r["type"] == "kubernetes:core/v1:Secret"]
    assert raw_secrets and all(secret_wrapped(s["stringData"]) for s in raw_secrets)  # encrypted in state


def test_every_password_is_generated(prod, small, prod_minio):
    generated = {r["name"] for r in prod.of_type("random:index/randomPassword:RandomPassword")}
    assert generated == {
        "postgres-password",
        "mlflow-admin-password",
        "mlflow-metrics-password",
        "mlflow-flask-secret-key",
    }
    generated = {r["name"] for r in prod_minio.of_type("random:index/randomPassword:RandomPassword")}
    assert {"minio-root-password", "minio-mlflow-secret-key", "minio-backup-secret-key"} <= generated
    for run in (prod, small, prod_minio):
        for obj in workloads(run):
            for c in containers(obj):
                for e in c.get("env", []):
                    if re.search(r"PASSWORD|SECRET|_URI$|KEY", e["name"]) and e["name"] != "MLFLOW_AUTH_CONFIG_PATH":
                        assert "valueFrom" in e, (
                            f"{obj['metadata']['name']}/{c['name']}: {e['name']} is not from a Secret"
                        )


def test_every_container_is_restricted_with_requests_and_limits(prod, small):
    for obj in workloads(prod) + workloads(small):
        pod = obj["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
        for c in containers(obj):
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"]
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert set(c["resources"]) == {"requests", "limits"}


def test_mlflow_deployment_is_highly_available_with_probes(prod):
    (deployment,) = prod.k8s("Deployment")
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    c = server_container(prod)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] == "/health"
    (pdb,) = prod.k8s("PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    (hpa,) = prod.k8s("HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] == 2 and hpa["spec"]["maxReplicas"] == 6


def test_deployed_command_is_the_tested_command(prod, prod_minio):
    c = server_container(prod)
    expected = server_command(k8s_server_settings("mlflow", "mlflow.example.com", "acme-mlflow-artifacts", None, False))
    assert c["command"] == list(expected.args)
    args = c["command"]
    assert args[args.index("--workers") + 1] == "1"  # one worker per pod: scale by replicas
    assert "--app-name" in args and "basic-auth" in args and "--expose-prometheus" in args
    hosts = args[args.index("--allowed-hosts") + 1].split(",")
    assert hosts[0] == "mlflow.example.com" and "$(POD_IP):5000" in hosts
    env = {e["name"]: e for e in c["env"]}
    assert set(expected.env) <= set(env)
    assert env["MLFLOW_BACKEND_STORE_URI"]["valueFrom"]["secretKeyRef"] == {"name": "mlflow-db", "key": "uri"}
    assert "AWS_ACCESS_KEY_ID" not in env  # S3 through the pod's identity
    m = containers(migration_job(prod))[0]
    assert m["command"] == list(migrate_command(AUTH_BOOTSTRAP_PATH)) and m["image"] == c["image"]
    c = server_container(prod_minio)
    minio = server_command(
        k8s_server_settings(
            "mlflow", "mlflow.example.com", "acme-mlflow-artifacts", "http://minio.mlflow.svc.cluster.local:9000", True
        )
    )
    assert c["command"] == list(minio.args)


def test_auth_database_is_postgres_and_admin_password_from_secret(prod):
    auth = named(prod, "Secret", "mlflow-auth")
    ini = auth["stringData"]["basic_auth.ini"]
    assert "database_uri = postgresql+psycopg://mlflow:" in ini and "/mlflow_auth" in ini
    assert "mlflow-pg-rw.mlflow.svc.cluster.local:5432" in ini
    assert "admin_password" not in ini  # it comes from MLFLOW_AUTH_ADMIN_PASSWORD
    env = {e["name"]: e for e in server_container(prod)["env"]}
    assert env["MLFLOW_AUTH_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "mlflow-auth"
    job_env = {e["name"]: e for e in containers(migration_job(prod))[0]["env"]}
    assert job_env["MLFLOW_AUTH_DATABASE_URI"]["valueFrom"]["secretKeyRef"] == {
        "name": "mlflow-auth",
        "key": "database-uri",
    }
    assert not any(name.startswith("MLFLOW_METRICS") for name in job_env)  # the scrape account is no MLflow user


def test_every_database_uri_names_the_psycopg_driver_and_gives_up_on_a_lost_server(prod, small, local):
    """connect_timeout and TCP keepalives (libpq options): a lost node or a failover breaks the
    connections to it instead of hanging the requests on them."""
    uris = [
        (f"{o['metadata']['name']}/{k}", v)
        for run in (prod, small)
        for o in run.k8s("Secret")
        for k, v in o.get("stringData", {}).items()
        if "postgres" in v and "://" in v and k != "basic_auth.ini"
    ]
    docker = local.containers()
    uris += [
        (n, e.split("=", 1)[1])
        for n, c in docker.items()
        for e in c["envs"]
        if e.split("=", 1)[1].startswith("postgres")
    ]
    assert len(uris) >= 6
    for where, uri in uris:
        assert uri.startswith("postgresql+psycopg://"), where
        query = dict(parse_qsl(urlsplit(uri).query))
        assert query.items() >= CONNECTION_OPTIONS.items(), where


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
        extra={"externalDatabase": "true", "s3EndpointUrl": "https://s3.eu-west-1.amazonaws.com"},
        secret={
            "databaseUri": f"postgresql://u:{SECRET_MARKER}db@db.internal/mlflow",
            "authDatabaseUri": f"postgres://u:{SECRET_MARKER}db@db.internal/mlflow_auth",
            "s3AccessKey": "AKIAEXAMPLE",
            "s3SecretKey": f"{SECRET_MARKER}s3",
        },
    )
    kinds = {o["kind"] for o in run.k8s_objects()}
    assert not kinds & {"StatefulSet", "Cluster", "ScheduledBackup"}
    db = named(run, "Secret", "mlflow-db")
    assert db["stringData"]["uri"].startswith(f"postgresql+psycopg://u:{SECRET_MARKER}db@db.internal/mlflow?")
    assert named(run, "Secret", "mlflow-s3")["stringData"]["access-key"] == "AKIAEXAMPLE"
    for obj in run.k8s_objects():
        if obj["kind"] != "Secret":
            assert SECRET_MARKER not in json.dumps(obj)


def test_external_database_with_another_driver_is_refused():
    failed = run_stack(
        "prod",
        extra={"externalDatabase": "true"},
        secret={"databaseUri": "mysql://u:p@db/mlflow", "authDatabaseUri": "postgresql://u:p@db/mlflow_auth"},
        expect_failure=True,
    )
    assert "database URI scheme 'mysql': use postgresql:// or postgresql+psycopg://" in failed.error


def test_workload_identity_and_scheduling_options():
    run = run_stack(
        "prod",
        extra={
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
        if _builtin(obj):
            kubernetes_validate.validate(obj, K8S_VERSIONS[-1], strict=True)
    (sa,) = run.k8s("ServiceAccount")
    assert sa["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/mlflow-artifacts"
    }
    (deployment,) = run.k8s("Deployment")
    pod = deployment["spec"]["template"]
    assert pod["metadata"]["annotations"]["team"] == "ml-platform"
    assert (
        pod["spec"]["nodeSelector"] == {"kubernetes.io/arch": "amd64"} and pod["spec"]["tolerations"][0]["key"] == "ml"
    )
    c = server_container(run)
    assert c["resources"]["limits"]["cpu"] == "4" and c["resources"]["limits"]["memory"] == "4Gi"
    assert c["resources"]["limits"]["ephemeral-storage"] == "16960Mi"  # kept: sized to /tmp and the metric files
    names = {e["name"] for e in c["env"]}
    assert "AWS_ACCESS_KEY_ID" not in names and "AWS_SECRET_ACCESS_KEY" not in names  # the pod's identity instead
    assert "mlflow-s3" not in {s["metadata"]["name"] for s in run.k8s("Secret")}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"mlflowImage": "ghcr.io/acme/mlflow:latest"}, "config mlflowImage: set the image you pushed"),
        ({"mlflowImage": ""}, "config mlflowImage: set the image you pushed"),
        ({"externalS3": "false"}, "config minioImage: set the image you pushed"),
        ({"replicas": "1"}, "at least 2"),
        ({"hostname": ""}, "config hostname: set the public host name"),
        ({"target": "nomad"}, "is not 'docker' or 'kubernetes'"),
        ({"postgresEngine": "mysql"}, "config postgresEngine: 'mysql' is not one of cloudnative-pg, statefulset"),
        ({"postgresInstances": "2"}, "config postgresInstances: at least 3"),
        ({"postgresBackupRetention": "30 days"}, "config postgresBackupRetention: '30 days' is not"),
        ({"postgresBackupSchedule": "0 3 * * *"}, "six cron fields"),
        ({"mlflowTmpSize": "16G"}, "config mlflowTmpSize: '16G' is not a size"),
        ({"postgresServiceAccountAnnotations": "{}"}, "config postgresServiceAccountAnnotations:"),
    ],
)
def test_bad_stack_config_is_refused(extra, message):
    failed = run_stack("prod", extra=extra, expect_failure=True)
    assert message in failed.error


# --- Docker -----------------------------------------------------------------------------------


def test_docker_resource_graph(local):
    by_name = local.containers()
    assert set(by_name) == {
        "mlflow-postgres",
        "mlflow-postgres-password",
        "mlflow-minio",
        "mlflow-minio-bucket",
        "mlflow-db-migrate",
        "mlflow-server",
    }
    assert {v["inputs"]["name"] for v in local.of_type("docker:index/volume:Volume")} == {
        "mlflow-postgres-data",
        "mlflow-postgres-socket",
        "mlflow-minio-data",
        "mlflow-server-tmp",
        "mlflow-server-auth-config",
    }
    (network,) = local.of_type("docker:index/network:Network")
    for name, c in by_name.items():
        if name != "mlflow-postgres-password":  # the socket only: no network at all
            assert c["networksAdvanced"][0]["name"] == network["inputs"]["name"], name
    assert by_name["mlflow-postgres-password"]["networkMode"] == "none"
    builds = {i["inputs"]["imageName"]: i["inputs"] for i in local.of_type("docker:index/image:Image")}
    assert builds["mlflow-registry-server:3.17.2"]["build"]["dockerfile"].endswith("infra/Dockerfile")
    assert builds["mlflow-registry-minio:2026-02-11-7aac2a2"]["build"]["dockerfile"].endswith("infra/minio/Dockerfile")
    assert all(b["skipPush"] for b in builds.values())
    (remote,) = local.of_type("docker:index/remoteImage:RemoteImage")
    assert re.fullmatch(r"postgres:16\.\d+-bookworm@sha256:[0-9a-f]{64}", remote["inputs"]["name"])


def test_docker_services_are_healthy_restarting_and_local_only(local):
    by_name = local.containers()
    for name in ("mlflow-postgres", "mlflow-minio", "mlflow-server"):
        assert by_name[name]["restart"] == "unless-stopped" and by_name[name]["healthcheck"]["tests"][0] == "CMD"
    server = by_name["mlflow-server"]
    assert server["ports"] == [{"internal": 5000, "external": 5000, "ip": "127.0.0.1"}]
    assert all("ports" not in by_name[n] for n in ("mlflow-postgres", "mlflow-minio"))  # not published
    assert server["readOnly"] is True and server["user"] == "10001:10001"


def test_docker_command_is_the_tested_command_and_secrets_stay_in_env(local):
    by_name = local.containers()
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
    assert by_name["mlflow-db-migrate"]["command"] == list(migrate_command(AUTH_BOOTSTRAP_PATH))
    env = dict(e.split("=", 1) for e in server["envs"])
    assert env["MLFLOW_BACKEND_STORE_URI"].startswith("postgresql+psycopg://mlflow:")
    for c in by_name.values():
        visible = {k: v for k, v in c.items() if k not in ("envs", "uploads")}
        assert SECRET_MARKER not in json.dumps(visible), c["name"]
    assert local.outputs["tracking_uri"] == "http://localhost:5000"


# --- The repository -----------------------------------------------------------------------------


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


STATEFUL = {
    "prod": {"namespace", "postgres-cluster"},
    "small": {"namespace", "postgres-statefulset", "minio-statefulset"},
    "local": {"postgres-data", "minio-data"},
}


@pytest.mark.parametrize("variant", sorted(STATEFUL))
def test_what_holds_data_is_protected(request, variant):
    """`pulumi destroy` (or a replacement) of these deletes data: the namespace takes every claim in
    it, the Cluster and the StatefulSets their volumes. Protected unless `protect: false`."""
    run = request.getfixturevalue(variant)
    assert {r["name"] for r in run.resources if r["options"]["protect"]} == STATEFUL[variant]


def test_protection_can_be_lifted_for_a_deliberate_destroy():
    run = run_stack("prod", extra={"protect": "false"})
    assert not [r["name"] for r in run.resources if r["options"]["protect"]]


def test_the_service_monitor_takes_the_labels_prometheus_selects():
    labels = json.dumps({"release": "kube-prometheus-stack"})
    run = run_stack("prod", extra={"serviceMonitor": "true", "serviceMonitorLabels": labels})
    (monitor,) = run.k8s("ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert crds.validate([monitor]) == [[]]
