"""Rules the Kubernetes API server, kubelet, Prometheus and pulumi-kubernetes apply at `pulumi up`
or later in operation, which Pulumi's mocks do not, mirrored offline on the Kubernetes program."""

from __future__ import annotations

import re

import pytest
from mlflow.server.security_utils import is_allowed_host_header

from infra.k8s.common import CHECKSUM_ANNOTATION, mebibytes
from infra.server_command import ENGINES_PER_SERVER, STARTUP_CONNECTIONS
from tests.infra import kubelet, pulumi_rules
from tests.infra.conftest import containers, migration_job, named, server_container, workloads
from tests.infra.harness import REPO, SECRET_MARKER, Run, load_yaml, run_stack

pytestmark = pytest.mark.infra

EXTERNAL_DB = {
    "databaseUri": f"postgresql://u:{SECRET_MARKER}one@db.internal/mlflow",
    "authDatabaseUri": f"postgresql://u:{SECRET_MARKER}one@db.internal/mlflow_auth",
}
VARIANTS = ["prod", "prod_minio", "small"]


# --- Field ownership ----------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_autoscaled_deployment_sets_replicas(request, variant):
    """Server-side apply: once the HPA has written .spec.replicas, a manager that also sets it
    conflicts on the next update (pulumi-kubernetes issues 2491 and 2569)."""
    run: Run = request.getfixturevalue(variant)
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in run.k8s("HorizontalPodAutoscaler")}
    assert targets == {"mlflow-server"}
    for deployment in run.k8s("Deployment"):
        if deployment["metadata"]["name"] in targets:
            assert "replicas" not in deployment["spec"]


# --- Jobs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_job_is_replaced_when_unready(request, variant):
    """A failed Job stays failed; without this annotation the next `up` waits on it again."""
    for job in request.getfixturevalue(variant).k8s("Job"):
        assert job["metadata"]["annotations"]["pulumi.com/replaceUnready"] == "true", job["metadata"]["name"]


def test_a_job_gets_a_new_name_whenever_its_template_changes(prod):
    """A Job's pod template is immutable (kubernetes pkg/apis/batch/validation/validation.go
    ValidateJobSpecUpdate, 3989b185: "field is immutable"): an update that changes it is refused,
    so the template's content names the Job (a new name: Pulumi creates it, then deletes the old)."""
    same = migration_job(run_stack("prod", fresh=True))  # another process: nothing run-specific in the name
    assert same["metadata"]["name"] == migration_job(prod)["metadata"]["name"]  # no change, no new Job
    new_image = migration_job(run_stack("prod", extra={"mlflowImage": "ghcr.io/acme/mlflow-registry-server:3.17.2-2"}))
    assert new_image["spec"]["template"] != same["spec"]["template"]
    assert new_image["metadata"]["name"] != same["metadata"]["name"]
    one = run_stack("prod", extra={"externalDatabase": "true"}, secret=EXTERNAL_DB)
    rotated = {k: v.replace("one@", "two@") for k, v in EXTERNAL_DB.items()}
    two = run_stack("prod", extra={"externalDatabase": "true"}, secret=rotated)
    assert migration_job(one)["metadata"]["name"] != migration_job(two)["metadata"]["name"]


# --- Secrets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_pod_template_carries_the_checksum_of_its_secrets(request, variant):
    for obj in workloads(request.getfixturevalue(variant)):
        checksum = obj["spec"]["template"]["metadata"]["annotations"][CHECKSUM_ANNOTATION]
        assert re.fullmatch(r"[0-9a-f]{64}", checksum), obj["metadata"]["name"]


def test_a_changed_secret_restarts_the_server_pods():
    one = run_stack("prod", extra={"externalDatabase": "true"}, secret=EXTERNAL_DB)
    two = run_stack(
        "prod",
        extra={"externalDatabase": "true"},
        secret={k: v.replace("one@", "two@") for k, v in EXTERNAL_DB.items()},
    )
    annotations = [
        named(r, "Deployment", "mlflow-server")["spec"]["template"]["metadata"]["annotations"] for r in (one, two)
    ]
    assert annotations[0][CHECKSUM_ANNOTATION] != annotations[1][CHECKSUM_ANNOTATION]


def test_statefulset_postgres_applies_its_password_on_every_start(small):
    (c,) = containers(named(small, "StatefulSet", "postgres"))
    hook = c["lifecycle"]["postStart"]["exec"]["command"]
    assert hook[:2] == ["sh", "-c"] and "ALTER ROLE mlflow WITH PASSWORD :'pw'" in hook[2]
    env = {e["name"]: e for e in c["env"]}
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "postgres-credentials", "key": "password"}


def test_cloudnative_pg_keeps_the_role_password_equal_to_its_secret(prod):
    secret = named(prod, "Secret", "mlflow-pg-app")
    assert secret["type"] == "kubernetes.io/basic-auth" and secret["metadata"]["labels"]["cnpg.io/reload"] == "true"
    (role,) = named(prod, "Cluster", "mlflow-pg")["spec"]["managed"]["roles"]
    assert role == {"name": "mlflow", "ensure": "present", "login": True, "passwordSecret": {"name": "mlflow-pg-app"}}


# --- The kubelet --------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variable_in_a_command_is_defined_in_the_container(request, variant):
    """The kubelet expands $(NAME) in command and args from the container's env; an undefined
    name stays literally `$(NAME)` (MLflow would then allow a host called "$(POD_IP):5000"), and
    `$$` becomes `$` (a script's `$$` would lose its meaning). tests/infra/kubelet.py expand."""
    for obj in workloads(request.getfixturevalue(variant)):
        for c in containers(obj):
            defined = {e["name"]: f"<{e['name']}>" for e in c.get("env", [])}
            for arg in [*c.get("command", []), *c.get("args", [])]:
                expanded = kubelet.expand(arg, defined)
                assert "$(" not in expanded.replace("$((", ""), f"{obj['metadata']['name']}/{c['name']}: {arg[:80]}"
                assert "$$" not in arg, f"{obj['metadata']['name']}/{c['name']}: $$ is an escaped $"
    c = server_container(request.getfixturevalue(variant))
    (pod_ip,) = [e for e in c["env"] if e["name"] == "POD_IP"]
    assert pod_ip["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}


EXPANSION = {"VAR_A": "A", "VAR_B": "B", "VAR_C": "C", "VAR_REF": "$(VAR_A)", "VAR_EMPTY": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [  # kubernetes third_party/forked/golang/expansion/expand_test.go (490ffa43) doExpansionTest
        ("$(VAR_A)", "A"),
        ("$(VAR_A)-$(VAR_A)", "A-A"),
        ("___$(VAR_B)___", "___B___"),
        ("$(VAR_A)_$(VAR_B)_$(VAR_C)", "A_B_C"),
        ("$$(VAR_B)_$(VAR_A)", "$(VAR_B)_A"),
        ("$$(VAR_A)_$$(VAR_B)", "$(VAR_A)_$(VAR_B)"),
        ("f000-$$VAR_A", "f000-$VAR_A"),
        ("foo\\$(VAR_C)bar", "foo\\Cbar"),
        ("$(VAR_A$(VAR_B))", "$(VAR_A$(VAR_B))"),
        ("$(VAR_A$(VAR_B)", "$(VAR_A$(VAR_B)"),
        ("$(VAR_REF)", "$(VAR_A)"),
        ("foo$(VAR_EMPTY)bar", "foobar"),
        ("foo$(VAR_Awhoops!", "foo$(VAR_Awhoops!"),
        ("$?_boo_$!", "$?_boo_$!"),
        ("$VAR_A", "$VAR_A"),
        ("$(VAR_DNE)", "$(VAR_DNE)"),
        ("$$$$$$(BIG_MONEY)", "$$$(BIG_MONEY)"),
        ("$$$$$$$(GOOD_ODDS)", "$$$$(GOOD_ODDS)"),
        ("$$$$$$$(VAR_A)", "$$$A"),
        ("${VAR_A}", "${VAR_A}"),
        ("$(VAR_B)_______$(A", "B_______$(A"),
        ("$(VAR_C)_______$(", "C_______$("),
        ("$(VAR_A)foobarzab$", "Afoobarzab$"),
        ("--$($($($($--", "--$($($($($--"),
        ("$(foo$$var)", "$(foo$$var)"),
    ],
)
def test_the_expansion_mirror_answers_as_upstreams_tests(text, expected):
    assert kubelet.expand(text, EXPANSION) == expected


def _expanded_hosts(run: Run, pod_ip: str) -> list[str]:
    args = [a.replace("$(POD_IP)", pod_ip) for a in server_container(run)["command"]]
    return args[args.index("--allowed-hosts") + 1].split(",")


@pytest.mark.parametrize(
    ("pod_ip", "host"), [("10.244.3.17", "10.244.3.17:5000"), ("fd00:10:244::3", "[fd00:10:244::3]:5000")]
)
def test_the_pod_ip_is_an_allowed_host(prod_minio, pod_ip, host):
    """A client that reaches a pod at its IP (Prometheus' kubernetes_sd targets, e.g. scraping
    MLflow's own /metrics with admin credentials) sends `<pod IP>:<port>` as Host. Checked with
    MLflow's own matcher on the flags after the kubelet's expansion."""
    hosts = _expanded_hosts(prod_minio, pod_ip)
    assert is_allowed_host_header(hosts, host)
    assert is_allowed_host_header(hosts, "mlflow.example.com") and is_allowed_host_header(hosts, "mlflow.mlflow.svc")
    assert not is_allowed_host_header(hosts, "10.244.3.18:5000")  # another pod's address
    assert not is_allowed_host_header(hosts, "attacker.example")


def test_prometheus_scrapes_the_sidecar_with_the_scrape_account(prod_minio):
    """MLflow answers /metrics to admins only, so Prometheus scrapes the metrics sidecar: the pod
    annotations and the ServiceMonitor both point at its port, with its own account."""
    deployment = named(prod_minio, "Deployment", "mlflow-server")
    sidecar = next(c for c in containers(deployment) if c["name"] == "metrics")
    ports = {p["name"]: p["containerPort"] for p in sidecar["ports"]}
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    (monitor,) = prod_minio.k8s("ServiceMonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    service_ports = {p["name"]: p["targetPort"] for p in named(prod_minio, "Service", "mlflow")["spec"]["ports"]}
    assert ports["metrics"] == 9101
    # No annotation points annotation-based scrapers (no credentials) at a port that answers 401.
    assert not [k for k in annotations if k.startswith("prometheus.io/")]
    assert service_ports[endpoint["port"]] == "metrics"
    assert endpoint["basicAuth"] == {
        "username": {"name": "mlflow-auth", "key": "metrics-username"},
        "password": {"name": "mlflow-auth", "key": "metrics-password"},
    }
    data = named(prod_minio, "Secret", "mlflow-auth")["stringData"]
    assert data["metrics-username"] == "metrics" and data["metrics-password"] != data["admin-password"]
    env = {e["name"]: e for e in sidecar["env"]}
    assert env["METRICS_PASSWORD"]["valueFrom"]["secretKeyRef"] == endpoint["basicAuth"]["password"]
    assert env["METRICS_DIR"]["value"] == "/tmp/mlflow-metrics"
    assert sidecar["volumeMounts"] == [{"name": "metrics", "mountPath": "/tmp/mlflow-metrics", "readOnly": True}]
    args = server_container(prod_minio)["command"]
    assert args[args.index("--expose-prometheus") + 1] == env["METRICS_DIR"]["value"]


def ephemeral_problems(obj: dict) -> list[str]:
    """Kubelet eviction (kubernetes pkg/kubelet/eviction/eviction_manager.go, 5ff739ee:
    localStorageEviction -> emptyDirLimitEviction and podEphemeralStorageLimitEviction): a
    disk-backed emptyDir past its sizeLimit evicts the pod, and so does the
    pod's ephemeral use (emptyDirs + container logs + writable layers) past the sum of its
    containers' ephemeral-storage limits. The scheduler places pods by their requests. So: every
    disk emptyDir has a sizeLimit, and every container requests and limits ephemeral-storage with
    room for the emptyDirs to fill up to their limits."""
    spec = obj["spec"]["template"]["spec"]
    problems = []
    scratch = 0
    for volume in spec.get("volumes", []):
        empty = volume.get("emptyDir")
        if empty is None or empty.get("medium") == "Memory":
            continue
        if "sizeLimit" not in empty:
            problems.append(f"emptyDir {volume['name']} has no sizeLimit")
            continue
        scratch += mebibytes(empty["sizeLimit"])
    limits = requests = 0
    for c in containers(obj):
        for kind in ("requests", "limits"):
            if "ephemeral-storage" not in c["resources"].get(kind, {}):
                problems.append(f"{c['name']} has no ephemeral-storage {kind}")
        limits += mebibytes(c["resources"].get("limits", {}).get("ephemeral-storage", "0Mi"))
        requests += mebibytes(c["resources"].get("requests", {}).get("ephemeral-storage", "0Mi"))
    if limits < scratch + 256 or requests < scratch:
        problems.append(f"ephemeral-storage requests {requests}Mi / limits {limits}Mi for {scratch}Mi of emptyDir")
    return problems


@pytest.mark.parametrize("variant", VARIANTS)
def test_scratch_space_cannot_evict_a_pod_before_its_volume_is_full(request, variant):
    for obj in workloads(request.getfixturevalue(variant)):
        assert ephemeral_problems(obj) == [], obj["metadata"]["name"]


def test_the_rule_flags_the_old_server_pod(prod):
    old = named(prod, "Deployment", "mlflow-server")
    old = {**old, "spec": {**old["spec"], "template": {**old["spec"]["template"]}}}
    spec = dict(old["spec"]["template"]["spec"])
    spec["volumes"] = [{"name": "tmp", "emptyDir": {"sizeLimit": "4Gi"}}]
    spec["containers"] = [{**spec["containers"][0], "resources": {"requests": {"cpu": "500m"}, "limits": {"cpu": "2"}}}]
    old["spec"]["template"]["spec"] = spec
    assert "mlflow has no ephemeral-storage requests" in ephemeral_problems(old)


def test_server_tmp_is_the_configured_size():
    run = run_stack("prod", extra={"mlflowTmpSize": "64Gi"})
    deployment = named(run, "Deployment", "mlflow-server")
    (tmp,) = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "tmp"]
    assert tmp["emptyDir"]["sizeLimit"] == "64Gi"
    assert containers(deployment)[0]["resources"]["requests"]["ephemeral-storage"] == f"{64 * 1024 + 64 + 512}Mi"


# --- pulumi-kubernetes' await logic (tests/infra/pulumi_rules.py) -------------------------------


@pytest.mark.parametrize(
    ("custom", "annotations", "expected"),
    [  # provider/pkg/metadata/overrides_test.go TestTimeoutSeconds
        (0, {}, None),
        (0, {"pulumi.com/timeoutSeconds": "15"}, 15),
        (0, {"pulumi.com/timeoutSeconds": "0"}, 0),
        (0, {"pulumi.com/timeoutSeconds": "foo"}, None),
        (600, {"pulumi.com/timeoutSeconds": "15"}, 600),
    ],
)
def test_the_timeout_mirror_answers_as_upstreams_tests(custom, annotations, expected):
    assert pulumi_rules.timeout_duration(custom, annotations) == expected


@pytest.mark.parametrize(
    ("expr", "error"),
    [  # provider/pkg/jsonpath/jsonpath_test.go TestParse
        ("", "non-empty"),
        ("{.foo}", "jsonpath="),
        ("jsonpath='{.status.phase}'=Running", "omit shell quotes"),
        ("jsonpath={.metadata.name}=", "{.metadata.name}= requires a value"),
        ("jsonpath={.metadata.name}='test=wrong'", "format should be {.path}=value or {.path}"),
        ("jsonpath={.foo}", None),
        ("jsonpath={.foo}=bar", None),
        ("jsonpath={$.foo}=bar", None),
        ("jsonpath={ .webhooks[*].clientConfig.caBundle }", None),
    ],
)
def test_the_wait_for_mirror_parses_as_upstreams_tests(expr, error):
    if error is None:
        pulumi_rules.parse_jsonpath(expr)
    else:
        with pytest.raises(pulumi_rules.WaitForError, match=re.escape(error)):
            pulumi_rules.parse_jsonpath(expr)


def _resource(run: Run, typ: str, prefix: str = "") -> dict:
    (found,) = [
        r for r in run.resources if r["type"] == typ and str(r["inputs"]["metadata"]["name"]).startswith(prefix)
    ]
    return found


def test_pulumi_waits_for_the_migration_longer_than_it_may_run(prod, small):
    """When Pulumi stops waiting, the Job has finished (its activeDeadlineSeconds has passed), so the
    next `up`'s replaceUnready replaces a failed Job, never a running one."""
    for run in (prod, small):
        resource = _resource(run, "kubernetes:batch/v1:Job", "mlflow-db-migrate-")
        job = migration_job(run)
        wait = pulumi_rules.await_seconds("Job", resource["options"]["customTimeouts"]["create"], {})
        assert wait > job["spec"]["activeDeadlineSeconds"] >= 60 * 60
    running = {"startTime": "2026-12-01T00:00:00Z", "active": 1}
    annotations = migration_job(prod)["metadata"]["annotations"]
    assert pulumi_rules.replace_unready_replaces(annotations, running)  # why the order matters
    done = {**running, "conditions": [{"type": "Complete", "status": "True"}]}
    assert not pulumi_rules.replace_unready_replaces(annotations, done)


def test_the_migration_starts_after_a_completed_backup(prod):
    """CloudNativePG: an on-demand Backup named after the Job, which Pulumi waits for until its
    phase is `completed` (api/v1/backup_types.go BackupPhaseCompleted); the Job depends on it."""
    backup_resource = _resource(prod, "kubernetes:postgresql.cnpg.io/v1:Backup")
    (backup,) = prod.k8s("Backup")
    job = migration_job(prod)
    assert backup["metadata"]["name"].removeprefix("mlflow-pg-pre-migration-") == job["metadata"]["name"].removeprefix(
        "mlflow-db-migrate-"
    )
    wait_for = backup["metadata"]["annotations"]["pulumi.com/waitFor"]
    assert pulumi_rules.wait_for_satisfied(wait_for, {"status": {"phase": "completed"}})
    for phase in ("pending", "running", "failed", "walArchivingFailing"):
        assert not pulumi_rules.wait_for_satisfied(wait_for, {"status": {"phase": phase}})
    job_resource = _resource(prod, "kubernetes:batch/v1:Job", "mlflow-db-migrate-")
    backup_urn = next(
        d for d in job_resource["options"]["dependencies"] if d.endswith("::postgres-pre-migration-backup")
    )
    assert backup_urn
    backup_wait = pulumi_rules.await_seconds("Backup", backup_resource["options"]["customTimeouts"]["create"],
                                             backup["metadata"]["annotations"])  # fmt: skip
    assert backup_wait >= 60 * 60
    assert backup["spec"] == {"cluster": {"name": "mlflow-pg"}, "method": "plugin",
                              "pluginConfiguration": {"name": "barman-cloud.cloudnative-pg.io"}}  # fmt: skip


def test_the_workflow_outlasts_every_wait_of_an_up(prod):
    """.github/workflows/infra.yml's `up` job is killed at timeout-minutes: it must outlast the
    backup's wait, the migration's wait and the Deployment's rollout (10 minutes by default)."""
    workflow = load_yaml(REPO / ".github" / "workflows" / "infra.yml")
    limit = workflow["jobs"]["up"]["timeout-minutes"] * 60
    job = _resource(prod, "kubernetes:batch/v1:Job", "mlflow-db-migrate-")["options"]["customTimeouts"]["create"]
    backup = _resource(prod, "kubernetes:postgresql.cnpg.io/v1:Backup")["options"]["customTimeouts"]["create"]
    waits = [
        pulumi_rules.await_seconds("Backup", backup, {"pulumi.com/waitFor": "x"}),
        pulumi_rules.await_seconds("Job", job, {}),
        pulumi_rules.await_seconds("Deployment", "", {}),
    ]
    assert limit > sum(waits)


# --- PostgreSQL connections ---------------------------------------------------------------------

SUPERUSER_RESERVED = 3  # PostgreSQL's superuser_reserved_connections default (guc_tables.c)


def _max_connections(run: Run) -> int:
    clusters = run.k8s("Cluster")
    if clusters:
        return int(clusters[0]["spec"]["postgresql"]["parameters"]["max_connections"])
    (c,) = containers(named(run, "StatefulSet", "postgres"))
    return int(c["args"][c["args"].index("-c") + 1].split("=")[1])


def mlflow_pool(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """The pool MLflow itself builds under `env` (store/db/utils.py create_sqlalchemy_engine)."""
    from mlflow.store.db.utils import create_sqlalchemy_engine

    for key in ("MLFLOW_SQLALCHEMYSTORE_POOL_SIZE", "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW"):
        monkeypatch.delenv(key, raising=False)
        if key in env:
            monkeypatch.setenv(key, env[key])
    engine = create_sqlalchemy_engine("postgresql+psycopg://u:p@db.invalid/mlflow")
    try:
        return engine.pool.size(), engine.pool._max_overflow
    finally:
        engine.dispose()


def _connections(run: Run, env: dict[str, str], monkeypatch) -> int:
    (hpa,) = run.k8s("HorizontalPodAutoscaler")
    surge = named(run, "Deployment", "mlflow-server")["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    size, overflow = mlflow_pool(env, monkeypatch)
    per_pod = ENGINES_PER_SERVER * (size + overflow) + STARTUP_CONNECTIONS
    return (hpa["spec"]["maxReplicas"] + surge) * per_pod + 2  # + the migration Job's two engines


@pytest.mark.parametrize("variant", ["prod", "small"])
def test_every_server_pods_connections_fit_in_max_connections(request, variant, monkeypatch):
    """At the autoscaler's maximum plus the rollout's surge pod, every pool full, the servers and
    the migration Job stay within max_connections minus the superusers' reserve."""
    run: Run = request.getfixturevalue(variant)
    env = {e["name"]: e["value"] for e in server_container(run)["env"] if "value" in e}
    assert _connections(run, env, monkeypatch) <= _max_connections(run) - SUPERUSER_RESERVED
    # The previous deployment, with MLflow's defaults (5 + 10 per engine), did not fit.
    assert _connections(run, {}, monkeypatch) > _max_connections(run) - SUPERUSER_RESERVED


def test_mlflow_ignores_an_overflow_of_zero(monkeypatch):
    """Why each engine gets at least 1 + 1: MLflow passes the overflow only when it is truthy."""
    assert mlflow_pool({"MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": "2", "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": "0"},
                       monkeypatch) == (2, 10)  # fmt: skip


def test_too_many_replicas_for_the_connections_are_refused():
    failed = run_stack("prod", extra={"maxReplicas": "40"}, expect_failure=True)
    assert "config postgresMaxConnections: max_connections 200 leaves under 2 connections per engine" in failed.error


def test_a_draining_pod_keeps_serving_while_endpoints_go(prod):
    """preStop: the kubelet runs it before SIGTERM, while endpoints controllers and ingress
    controllers drop the pod; the grace period then leaves transfers in flight time to finish."""
    pod = named(prod, "Deployment", "mlflow-server")["spec"]["template"]["spec"]
    assert server_container(prod)["lifecycle"]["preStop"] == {"sleep": {"seconds": 10}}
    assert pod["terminationGracePeriodSeconds"] >= 300


def test_database_instances_spread_over_zones(prod):
    (spread,) = named(prod, "Cluster", "mlflow-pg")["spec"]["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone" and spread["maxSkew"] == 1
    assert spread["labelSelector"] == {"matchLabels": {"cnpg.io/cluster": "mlflow-pg"}}
