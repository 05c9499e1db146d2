"""Who may reach whom, under the NetworkPolicy semantics mirrored in tests/infra/netpol.py.

Pulumi's mocks create the policies without enforcing them; these tests put pods (from the pod
templates the programs render) on either side of every connection the registry needs, and of
some it must refuse."""

from __future__ import annotations

import copy
import zlib

import pytest

from tests.infra.conftest import migration_job, named
from tests.infra.harness import Run
from tests.infra.netpol import Pod, allowed, egress_allowed

pytestmark = pytest.mark.infra

PROMETHEUS = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
INGRESS = Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
OPERATOR = Pod("cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"})
STRANGER = Pod("default", {"app": "curious"})
CLIENT = Pod("training", {"app": "trainer"}, namespace_labels={"mlflow-registry/client": "true"})
NEIGHBOUR = Pod("mlflow", {"app": "debug-shell"})  # an unlabelled pod in the registry's namespace


def _pod(template: dict, ports: dict[str, int] | None = None) -> Pod:
    return Pod("mlflow", template["metadata"]["labels"], ports or {})


def server(run: Run) -> Pod:
    return _pod(named(run, "Deployment", "mlflow-server")["spec"]["template"], {"http": 5000})


def job(run: Run) -> Pod:
    return _pod(migration_job(run)["spec"]["template"])


def instance(run: Run) -> Pod:
    """A CloudNativePG instance pod: the operator labels it with its cluster, plus inheritedMetadata."""
    cluster = named(run, "Cluster", "mlflow-pg")["spec"]
    return Pod("mlflow", {"cnpg.io/cluster": "mlflow-pg", **cluster["inheritedMetadata"]["labels"]})


def statefulset(run: Run, name: str, port_name: str, port: int) -> Pod:
    return _pod(named(run, "StatefulSet", name)["spec"]["template"], {port_name: port})


def policies(run: Run) -> list[dict]:
    return run.k8s("NetworkPolicy")


def test_prometheus_reaches_the_server_and_nothing_it_does_not_scrape(prod):
    assert allowed(policies(prod), PROMETHEUS, server(prod), 5000)
    assert allowed(policies(prod), PROMETHEUS, instance(prod), 9187)  # CloudNativePG's exporter
    assert not allowed(policies(prod), PROMETHEUS, instance(prod), 5432)


def test_the_old_policy_dropped_prometheus(prod):
    old = copy.deepcopy(policies(prod))
    for policy in old:
        if policy["metadata"]["name"] == "mlflow-server-clients":
            rule = policy["spec"]["ingress"][0]
            rule["from"] = [p for p in rule["from"] if "monitoring" not in str(p)]
    assert not allowed(old, PROMETHEUS, server(prod), 5000)


def test_who_reaches_the_server(prod):
    for source in (INGRESS, CLIENT, NEIGHBOUR):
        assert allowed(policies(prod), source, server(prod), 5000), source
    assert not allowed(policies(prod), STRANGER, server(prod), 5000)


def test_only_the_server_and_its_job_reach_the_database(prod, small):
    for run, database in ((prod, instance(prod)), (small, statefulset(small, "postgres", "postgres", 5432))):
        for source in (server(run), job(run)):
            assert allowed(policies(run), source, database, 5432)
        for source in (STRANGER, NEIGHBOUR, PROMETHEUS, INGRESS):
            assert not allowed(policies(run), source, database, 5432), source


def test_instances_replicate_and_the_operator_manages_them(prod):
    assert allowed(policies(prod), instance(prod), instance(prod), 5432)  # streaming replication
    assert allowed(policies(prod), instance(prod), instance(prod), 8000)  # instance manager
    assert allowed(policies(prod), OPERATOR, instance(prod), 8000)
    assert not allowed(policies(prod), STRANGER, instance(prod), 8000)


def test_minio_takes_the_server_the_bucket_job_and_the_backups_only(prod_minio, small):
    for run in (prod_minio, small):
        minio = statefulset(run, "minio", "s3", 9000)
        bucket_job = next(o for o in run.k8s("Job") if o["metadata"]["name"].startswith("minio-bucket-"))
        assert allowed(policies(run), server(run), minio, 9000)
        assert allowed(policies(run), _pod(bucket_job["spec"]["template"]), minio, 9000)
        for source in (STRANGER, NEIGHBOUR, PROMETHEUS):
            assert not allowed(policies(run), source, minio, 9000)
    assert allowed(policies(prod_minio), instance(prod_minio), statefulset(prod_minio, "minio", "s3", 9000), 9000)


def acme_solver(namespace: str, domain: str, token: str) -> Pod:
    """An HTTP-01 solver pod as cert-manager builds it (cert-manager/cert-manager 2d0d7f7f,
    pkg/issuer/acme/http/pod.go buildDefaultPod and podLabels: adler32 of the domain and of the
    token, the solver label "true"; the container port "http" is acmeSolverListenPort, 8089, in
    http.go), in the namespace of the Challenge (the Ingress's)."""
    labels = {
        "acme.cert-manager.io/http-domain": str(zlib.adler32(domain.encode())),
        "acme.cert-manager.io/http-token": str(zlib.adler32(token.encode())),
        "acme.cert-manager.io/http01-solver": "true",
    }
    return Pod(namespace, labels, {"http": 8089})


@pytest.mark.parametrize(("domain", "token"), [("example.com", "token"), ("mlflow.example.com", "Zq3-9xT")])
def test_the_ingress_controller_reaches_cert_managers_http01_solver(prod, domain, token):
    """The first case is cert-manager's own (pod_test.go: DNSName example.com, token "token")."""
    solver = acme_solver("mlflow", domain, token)
    assert allowed(policies(prod), INGRESS, solver, 8089)
    for source in (STRANGER, NEIGHBOUR, PROMETHEUS):
        assert not allowed(policies(prod), source, solver, 8089), source
    assert not allowed(policies(prod), INGRESS, solver, 5000)


def _policy(ingress: list | None, selector: dict | None = None) -> dict:
    spec = {"podSelector": selector or {}, "policyTypes": ["Ingress"]}
    if ingress is not None:
        spec["ingress"] = ingress
    return {"metadata": {"namespace": "mlflow"}, "spec": spec}


def test_the_evaluator_follows_the_api_definition():
    """The definitions in k8s.io/api networking/v1 types.go (tests/infra/netpol.py)."""
    target = Pod("mlflow", {"app": "db"}, {"pg": 5432})
    frontend = Pod("mlflow", {"role": "frontend"})
    other_ns = Pod("team", {"role": "frontend"}, namespace_labels={"project": "a"})
    # A pod no policy selects accepts all traffic; an empty ingress list denies all.
    assert allowed([], STRANGER, target, 5432)
    assert not allowed([_policy([])], frontend, target, 5432)
    # An empty rule (no from, no ports) allows everything; policies are additive.
    assert allowed([_policy([]), _policy([{}])], STRANGER, target, 1)
    # podSelector alone: pods of the policy's namespace only.
    pods_only = _policy([{"from": [{"podSelector": {"matchLabels": {"role": "frontend"}}}]}])
    assert allowed([pods_only], frontend, target, 5432) and not allowed([pods_only], other_ns, target, 5432)
    # Both selectors in one peer: those pods in those namespaces; in two peers: either.
    both = {"namespaceSelector": {"matchLabels": {"project": "a"}}, "podSelector": {"matchLabels": {"role": "x"}}}
    assert not allowed([_policy([{"from": [both]}])], other_ns, target, 5432)
    either = [{"namespaceSelector": both["namespaceSelector"]}, {"podSelector": both["podSelector"]}]
    assert allowed([_policy([{"from": either}])], other_ns, target, 5432)
    # A named port is the destination's container port of that name.
    named_port = _policy([{"ports": [{"protocol": "TCP", "port": "pg"}]}])
    assert allowed([named_port], STRANGER, target, 5432) and not allowed([named_port], STRANGER, target, 5433)


@pytest.mark.parametrize("variant", ["prod", "small"])
def test_no_pod_reaches_the_node_metadata_service(request, variant):
    run = request.getfixturevalue(variant)
    for pod in (server(run), job(run)):
        assert not egress_allowed(policies(run), pod, "169.254.169.254", 80)
        assert not egress_allowed(policies(run), pod, "fd00:ec2::254", 80)
        assert egress_allowed(policies(run), pod, "52.95.1.1", 443)  # S3's (an external address)
        assert egress_allowed(policies(run), pod, "10.0.0.1", 443)  # the API server's, DNS
        assert egress_allowed(policies(run), pod, STRANGER, 53)  # pods in other namespaces
