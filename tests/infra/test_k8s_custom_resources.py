"""CloudNativePG (and Prometheus Operator) resources, checked against their published CRD schemas
(tests/infra/crds.py), and what makes the database durable: 3 instances, WAL archiving and base
backups to the object store, point-in-time recovery."""

from __future__ import annotations

import copy
import re

import pytest

from tests.infra import crds
from tests.infra.conftest import IN_CLUSTER_MINIO, named
from tests.infra.harness import Run, run_stack

pytestmark = pytest.mark.infra

PLUGIN = "barman-cloud.cloudnative-pg.io"
RECOVERY = {
    "postgresRecoverFrom": "mlflow-pg",
    "postgresRecoveryTime": "2026-11-30T12:00:00Z",
    "postgresServerName": "mlflow-pg-2",
}


@pytest.fixture(scope="module")
def recovered() -> Run:
    return run_stack("prod", extra=RECOVERY)


def custom(run: Run) -> list[dict]:
    return [o for o in run.k8s_objects() if (o["apiVersion"], o["kind"]) in crds.SCHEMAS]


def object_store_as_cluster(store: dict) -> dict:
    """The ObjectStore's `.spec.configuration` is barman-cloud's BarmanObjectStoreConfiguration,
    the type of the Cluster's in-tree `.spec.backup.barmanObjectStore`: checked through it."""
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": "object-store-configuration"},
        "spec": {
            "instances": 1,
            "storage": {"size": "1Gi"},
            "backup": {"barmanObjectStore": store["spec"]["configuration"]},
        },
    }


def object_store_rule_errors(store: dict) -> list[str]:
    """The rest of the plugin's ObjectStore CRD (cloudnative-pg/plugin-barman-cloud at 9967e2ca,
    api/v1/objectstore_types.go ObjectStoreSpec, its kubebuilder markers):
    `retentionPolicy` matches ^[1-9][0-9]*[dwm]$; CEL `!has(self.serverName)` on the configuration
    ("use the 'serverName' plugin parameter in the Cluster resource"); only known fields."""
    spec = store["spec"]
    errors = []
    if set(spec) - {"configuration", "retentionPolicy", "instanceSidecarConfiguration"}:
        errors.append(
            f"unknown fields {sorted(set(spec) - {'configuration', 'retentionPolicy', 'instanceSidecarConfiguration'})}"
        )
    if "retentionPolicy" in spec and not re.fullmatch(r"[1-9][0-9]*[dwm]", spec["retentionPolicy"]):
        errors.append("retentionPolicy")
    if "serverName" in spec.get("configuration", {}):
        errors.append("configuration.serverName")
    return errors


@pytest.mark.parametrize("variant", ["prod", "prod_minio", "recovered"])
def test_custom_resources_match_the_published_crd_schemas(request, variant):
    run: Run = request.getfixturevalue(variant)
    objects = custom(run)
    stores = run.k8s("ObjectStore")
    assert {o["kind"] for o in objects} >= {"Cluster", "Database", "ScheduledBackup"} and len(stores) == 1
    checked = objects + [object_store_as_cluster(s) for s in stores]
    for obj, errors in zip(checked, crds.validate(checked), strict=True):
        assert errors == [], f"{obj['kind']} {obj['metadata']['name']}: {errors}"
    assert object_store_rule_errors(stores[0]) == []


def test_the_schema_check_catches_typos_types_and_enums(prod):
    cluster = copy.deepcopy(named(prod, "Cluster", "mlflow-pg"))
    cluster["spec"]["storage"]["sise"] = "1Gi"  # a typo: the JSON Schema alone would accept it
    wrong_type = copy.deepcopy(named(prod, "Cluster", "mlflow-pg"))
    wrong_type["spec"]["instances"] = "3"
    bad_enum = copy.deepcopy(named(prod, "ScheduledBackup", "mlflow-pg-base-backup"))
    bad_enum["spec"]["method"] = "pluggin"
    store = copy.deepcopy(prod.k8s("ObjectStore")[0])
    store["spec"]["configuration"]["wal"]["compression"] = "zip"
    typo, typed, enum, compression = crds.validate([cluster, wrong_type, bad_enum, object_store_as_cluster(store)])
    assert any("'\"sise\"' does not exist" in e for e in typo), typo
    assert any("/spec/instances: type" in e for e in typed), typed
    assert any("/spec/method: enum" in e for e in enum), enum
    assert any("compression" in e for e in compression), compression
    store["spec"]["configuration"]["serverName"] = "mlflow-pg"
    store["spec"]["retentionPolicy"] = "30 days"
    assert object_store_rule_errors(store) == ["retentionPolicy", "configuration.serverName"]


def test_service_monitor_matches_its_crd(prod_minio):
    (monitor,) = prod_minio.k8s("ServiceMonitor")
    assert crds.validate([monitor]) == [[]]


def test_three_instances_spread_over_nodes_on_a_pinned_image(prod):
    spec = named(prod, "Cluster", "mlflow-pg")["spec"]
    assert spec["instances"] == 3
    assert spec["affinity"] == {"enablePodAntiAffinity": True, "topologyKey": "kubernetes.io/hostname"}
    assert re.fullmatch(
        r"ghcr\.io/cloudnative-pg/postgresql:16\.\d+-\d+-standard-bookworm@sha256:[0-9a-f]{64}", spec["imageName"]
    )
    assert spec["storage"] == {"size": "50Gi"}
    assert named(prod, "Cluster", "mlflow-pg")["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"


def test_wal_is_archived_and_base_backups_taken_to_the_object_store(prod, prod_minio):
    for run in (prod, prod_minio):
        (plugin,) = named(run, "Cluster", "mlflow-pg")["spec"]["plugins"]
        assert plugin == {
            "name": PLUGIN,
            "isWALArchiver": True,
            "parameters": {"barmanObjectName": "mlflow-pg-backups", "serverName": run.outputs["postgres_server_name"]},
        }
        assert re.fullmatch(r"mlflow-pg-[a-z0-9]{6}", run.outputs["postgres_server_name"])
        backup = named(run, "ScheduledBackup", "mlflow-pg-base-backup")["spec"]
        assert backup["method"] == "plugin" and backup["pluginConfiguration"] == {"name": PLUGIN}
        assert backup["cluster"] == {"name": "mlflow-pg"} and backup["immediate"] is True
        assert len(backup["schedule"].split()) == 6
        store = named(run, "ObjectStore", "mlflow-pg-backups")["spec"]
        assert (
            store["configuration"]["destinationPath"] == "s3://acme-mlflow-postgres-backups/"
            and store["retentionPolicy"] == "30d"
        )


def test_backup_credentials_per_object_store(prod, prod_minio):
    irsa = named(prod, "ObjectStore", "mlflow-pg-backups")["spec"]["configuration"]
    assert irsa["s3Credentials"] == {"inheritFromIAMRole": True} and "endpointURL" not in irsa
    annotations = named(prod, "Cluster", "mlflow-pg")["spec"]["serviceAccountTemplate"]["metadata"]["annotations"]
    assert annotations == {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/mlflow-postgres-backups"}
    minio = named(prod_minio, "ObjectStore", "mlflow-pg-backups")["spec"]["configuration"]
    assert minio["endpointURL"] == "http://minio.mlflow.svc.cluster.local:9000"
    assert minio["s3Credentials"]["accessKeyId"] == {"name": "minio-backup-user", "key": "access-key"}
    bucket_job = next(o for o in prod_minio.k8s("Job") if o["metadata"]["name"].startswith("minio-bucket-"))
    env = {e["name"]: e for e in bucket_job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["BACKUP_BUCKET"]["value"] == "acme-mlflow-postgres-backups"
    static = run_stack(
        "prod",
        secret={
            "s3AccessKey": "AKIAEXAMPLE",
            "s3SecretKey": "MOCKSECRETs3MOCKSECRET",
            "backupS3AccessKey": "AKIABACKUPS",
            "backupS3SecretKey": "MOCKSECRETbackupMOCKSECRET",
        },
    )
    keys = named(static, "ObjectStore", "mlflow-pg-backups")["spec"]["configuration"]["s3Credentials"]
    assert keys["accessKeyId"] == {"name": "postgres-backup-s3", "key": "access-key"}
    # The backups' own key pair, never the artifacts'.
    assert named(static, "Secret", "postgres-backup-s3")["stringData"]["access-key"] == "AKIABACKUPS"
    assert named(static, "Secret", "mlflow-s3")["stringData"]["access-key"] == "AKIAEXAMPLE"


def test_new_cluster_starts_empty_with_both_databases(prod):
    spec = named(prod, "Cluster", "mlflow-pg")["spec"]
    assert spec["bootstrap"] == {
        "initdb": {"database": "mlflow", "owner": "mlflow", "secret": {"name": "mlflow-pg-app"}, "encoding": "UTF8"}
    }
    assert "externalClusters" not in spec
    database = named(prod, "Database", "mlflow-auth")["spec"]
    assert database == {"cluster": {"name": "mlflow-pg"}, "name": "mlflow_auth", "owner": "mlflow", "ensure": "present"}


def test_point_in_time_recovery_from_the_archive(recovered):
    spec = named(recovered, "Cluster", "mlflow-pg")["spec"]
    assert spec["bootstrap"]["recovery"] == {
        "database": "mlflow",
        "owner": "mlflow",
        "secret": {"name": "mlflow-pg-app"},
        "source": "origin",
        "recoveryTarget": {"targetTime": "2026-11-30T12:00:00Z"},
    }
    (origin,) = spec["externalClusters"]
    assert origin == {
        "name": "origin",
        "plugin": {"name": PLUGIN, "parameters": {"barmanObjectName": "mlflow-pg-backups", "serverName": "mlflow-pg"}},
    }
    # The recovered cluster archives to a new folder: CloudNativePG refuses a non-empty archive.
    assert spec["plugins"][0]["parameters"]["serverName"] == "mlflow-pg-2"
    # `pulumi up --replace` of a Cluster with a fixed name: the old one must go first.
    (resource,) = [r for r in recovered.resources if r["type"] == "kubernetes:postgresql.cnpg.io/v1:Cluster"]
    assert resource["options"]["deleteBeforeReplace"] is True


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"postgresRecoveryTime": "2026-11-30T12:00:00Z"}, "set postgresRecoverFrom too"),
        (
            {"postgresRecoverFrom": "mlflow-pg-abc123", "postgresServerName": "mlflow-pg-abc123"},
            "must archive under a new name, not 'mlflow-pg-abc123'",
        ),
        ({**RECOVERY, "postgresRecoveryTime": "yesterday"}, "'yesterday' is not an RFC 3339 time"),
        ({**RECOVERY, "postgresRecoveryTime": "2026-11-30T12:00:00"}, "is not an RFC 3339 time with a zone"),
    ],
)
def test_bad_recovery_config_is_refused(extra, message):
    assert message in run_stack("prod", extra=extra, expect_failure=True).error


def test_statefulset_engine_has_no_operator_resources():
    run = run_stack("prod", extra={**IN_CLUSTER_MINIO, "postgresEngine": "statefulset"})
    assert custom(run) == [] and run.k8s("ObjectStore") == []


GATEWAY = {"route": "httproute", "gatewayName": "public", "gatewayNamespace": "gateways"}


@pytest.fixture(scope="module")
def gateway() -> Run:
    return run_stack("prod", extra=GATEWAY)


def test_the_gateway_api_route_matches_its_schema_and_reaches_the_service(gateway):
    (route,) = gateway.k8s("HTTPRoute")
    assert crds.validate([route]) == [[]]
    assert gateway.k8s("Ingress") == []
    (rule,) = route["spec"]["rules"]
    (backend,) = rule["backendRefs"]
    service = named(gateway, "Service", backend["name"])
    assert backend["port"] in {p["port"] for p in service["spec"]["ports"]}
    assert route["spec"]["hostnames"] == ["mlflow.example.com"]
    assert route["spec"]["parentRefs"] == [{"name": "public", "namespace": "gateways"}]
    assert rule["timeouts"] == {"request": "0s"}  # no request timeout on long uploads and downloads
    bad = copy.deepcopy(route)
    bad["spec"]["rules"][0]["timeouts"]["request"] = "forever"
    bad["spec"]["rules"][0]["backendRefs"][0]["prot"] = 80
    (errors,) = crds.validate([bad])
    assert any("timeouts/request: pattern" in e for e in errors) and any("prot" in e for e in errors), errors


def test_the_ingress_streams_uploads_through_ingress_nginx(prod):
    annotations = named(prod, "Ingress", "mlflow")["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "0"


def test_an_httproute_needs_its_gateway():
    failed = run_stack("prod", extra={"route": "httproute"}, expect_failure=True)
    assert "config gatewayName: set the Gateway the HTTPRoute attaches to" in failed.error


def test_a_stack_created_again_archives_into_a_new_folder(prod):
    """The plugin refuses to archive into a non-empty folder (plugin-barman-cloud 9967e2ca,
    internal/cnpgi/common/wal.go Archive -> CheckBackupDestination, on the operator's first-archive
    marker): a new stack (its random values generated anew) gets a new server name."""
    again = run_stack("prod", secret_salt="again")
    assert again.outputs["postgres_server_name"] != prod.outputs["postgres_server_name"]


def test_the_backups_never_reuse_the_artifacts_keys():
    """With externalS3 and static keys for the artifacts, the backups need an identity or keys of
    their own (before, they silently took the artifacts' key pair)."""
    failed = run_stack(
        "prod",
        extra={"postgresServiceAccountAnnotations": "{}"},
        secret={"s3AccessKey": "AKIAEXAMPLE", "s3SecretKey": "MOCKSECRETs3MOCKSECRET"},
        expect_failure=True,
    )
    assert "the database backups need credentials of their own" in failed.error
