"""A few fault trials in the suite (bench/fault_trials.py runs 100 on 300 versions): the MLflow server
or PostgreSQL killed with SIGKILL during an apply of 60+ changes (in the changes, and in the audit
records after them); see tests/support/faults.py for what is checked."""

from __future__ import annotations

import random

import pytest

from tests.support.faults import Trials, populate
from tests.support.services import mlflow_server, postgres, s3_server

VERSIONS = 60

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def trials(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("faults")
    with postgres() as pg, s3_server(workdir) as s3, mlflow_server(workdir, pg, s3) as server:
        populate(server.env["MLFLOW_BACKEND_STORE_URI"], VERSIONS)
        env = {
            "MLFLOW_TRACKING_URI": server.uri,
            "MLFLOW_TRACKING_USERNAME": "admin",
            "MLFLOW_TRACKING_PASSWORD": server.admin_password,
        }
        import os

        base = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECONCILER_"))}
        yield Trials(workdir, server.process, pg, {**base, **env}, VERSIONS)


@pytest.mark.parametrize(("trial", "victim", "at"), [(1, "server", 30), (2, "postgres", 16), (3, "server", 85)])
def test_killed_mid_apply_then_rerun_converges_truthfully(trials, trial, victim, at):
    outcome = trials.run(trial, victim, at, random.Random(trial))
    assert not outcome.problems, outcome
    assert outcome.killed_at is not None and outcome.killed_at >= at  # it died mid-apply
    assert outcome.first_exit == 1  # and the first apply said it did not finish
