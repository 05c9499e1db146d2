"""Root fixtures: the GitHub test infrastructure's fixtures, and the scan of every captured output
for the secrets the suite uses (tests/support/secrets_scan.py)."""

from __future__ import annotations

import pytest

from tests.support import secrets_scan

pytest_plugins = ["tests.github.fixtures"]

secrets_scan.install()


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
