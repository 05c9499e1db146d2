"""One apply converges against a real `mlflow server` too (the planner's property test, with fewer
examples): for generated registry states and files, apply, then plan again: nothing to do; and the
registry holds exactly what tests/support/simulate.py predicts from the plan."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings

from reconciler import engine
from reconciler.apply import execute
from reconciler.apply.audit import Audit
from reconciler.errors import DesiredStateError
from reconciler.files.convert import check_semantics, from_document
from reconciler.registry.live import model_json
from reconciler.registry.session import Session
from reconciler.registry.target import Target
from reconciler.state import Origin, Stage
from tests.support.simulate import apply as simulate
from tests.unit.test_convergence import cases

pytestmark = pytest.mark.integration
NAMES = itertools.count(1)


def materialize(client, name: str, live_model) -> None:
    """The generated live model, made real on the server."""
    client.create_registered_model(name)
    for n, v in sorted(live_model.versions.items()):
        client.create_model_version(name, source=f"s3://mlflow/artifacts/convergence/{name}/{n}")
        if v.stage is not Stage.NONE:
            client.transition_model_version_stage(name, str(n), v.stage.value, archive_existing_versions=False)
    for alias, n in live_model.aliases.items():
        client.set_registered_model_alias(name, alias, str(n))
    for key, value in live_model.values["tags"].items():
        client.set_registered_model_tag(name, key, value)


@pytest.fixture(scope="module")
def session(live_stack):
    env = live_stack.env("reconciler")
    with pytest.MonkeyPatch.context() as mp:
        for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            mp.setenv(key, env[key])
        yield Session.open(Target(live_stack.server.uri, live_stack.server.uri, embedded=False), write=True)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases())
def test_apply_then_plan_is_empty_on_a_real_server(session, case):
    doc, generated = case
    name = f"conv-{next(NAMES)}"
    doc = {k: v for k, v in doc.items() if k != "permissions"}  # grants: tests/integration/test_permissions.py
    doc["name"] = name
    try:
        model = from_document(doc, Origin(f"models/{name}.yaml"))
        check_semantics(model)
    except DesiredStateError:
        return
    materialize(session.clients.registry, name, generated.models["m"])
    plan, before = engine.plan_and_live(session, [model])
    report = execute.apply(session, plan, Audit(plan.plan_hash, actor="property-test"), execute.ApplyOptions())
    assert not report.failed() and not report.unrecorded(), report
    after_plan, after = engine.plan_and_live(session, [model])
    assert not after_plan.has_changes(), [str(c.address) for c in after_plan.changes]
    assert model_json(after.models[name]) == model_json(simulate(plan, before).models[name])
