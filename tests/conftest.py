"""Root fixtures: the GitHub test infrastructure's fixtures, the scan of every captured output for
the secrets the suite uses (tests/support/secrets_scan.py), and the cost marks of tests that start
processes or wait on timers (`slow`; `integration` and `infra` are marked in their modules)."""

from __future__ import annotations

import pytest

from tests.support import secrets_scan

pytest_plugins = ["tests.github.fixtures"]

secrets_scan.install()

# Tests that take seconds each without a service: the CLI as a process per call (MLflow's import
# is about a second of CPU each time), lock contenders waiting out TTLs, the workflow runner.
# `make test-fast` leaves them out (-m "not integration and not infra and not slow"). A path, or
# path::test for one test of a module that is otherwise fast.
SLOW = (
    "tests/cli/",
    "tests/lock/test_lock_sqlite.py",
    "tests/github/test_workflow_runs.py",
    "tests/github/test_action_yml.py",
    "tests/github/test_train_workflow.py",  # trains models, then the workflow runner
    "tests/proposal/test_propose_",  # train a model, CLI processes
    "tests/proposal/test_pipeline_steps.py",
    "tests/github/test_check.py::test_two_applies_at_once_both_apply_one_after_the_other",
    "tests/github/test_check.py::test_the_check_makes_the_same_few_api_calls_for_1_or_30_models_and_1_or_20_reviews",
    "tests/github/test_check.py::test_a_registry_error_that_quotes_the_uri_reaches_neither_the_status_nor_the_log",
    "tests/github/test_check.py::test_an_unreachable_registry_fails_the_status_with_the_reason",
)


COST_ORDER = ("integration", "slow", "infra")  # the costliest modules first


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks the slow tests, then runs the costliest modules first (each module kept whole, in its
    own order): with `-n 2 --dist loadfile` the long ones start at once and the short ones fill in
    around them, instead of a long module starting last and running alone."""
    for item in items:
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
    rank: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        costs = [i for i, name in enumerate(COST_ORDER) if item.get_closest_marker(name)]
        rank[module] = min([rank.get(module, len(COST_ORDER)), *costs])
    items.sort(key=lambda item: rank[item.nodeid.split("::", 1)[0]])  # stable: modules stay whole


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, text in report.sections:
        secrets_scan.check(f"{report.nodeid} ({name})", text)
    if report.longreprtext:
        secrets_scan.check(f"{report.nodeid} (failure report)", report.longreprtext)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = secrets_scan.leaks()
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["secrets found in outputs the suite captured:", *leaks[:50]]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
