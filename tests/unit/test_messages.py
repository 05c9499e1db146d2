"""What users read when something is wrong: whole, on one line, without markup or raw patterns."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.apply.execute import Report
from reconciler.apply.writer import Outcome, Result
from reconciler.commands import apply
from reconciler.errors import ApplyFailed, ValidationErrors
from reconciler.files.desired import load_models
from reconciler.plan.values import Action, Address, Change, Plan
from reconciler.registry.target import Target


def one_error(tmp_path: Path, text: str) -> str:
    (tmp_path / "m.yaml").write_text(text)
    with pytest.raises(ValidationErrors) as info:
        load_models(tmp_path)
    (error,) = info.value.errors
    return str(error)


def test_failure_lines_print_brackets_as_they_are(capsys):
    """Rich markup once swallowed `[team/]` in `failed: m tag[team/]: ...`."""
    change = Change(Address("m", None, "tag", "team/"), Action.CREATE, None, "x")
    report = Report(Plan((change,)), (Result(change, Outcome.FAILED, "refused [bold]as is[/bold]"),))
    with pytest.raises(ApplyFailed):
        apply._report(report, None, Target("sqlite:///m.db", "sqlite:///m.db", embedded=False))
    err = capsys.readouterr().err
    assert "failed: m tag[team/]: refused [bold]as is[/bold]" in err


def test_a_huge_value_is_not_echoed_in_its_error(tmp_path):
    message = one_error(tmp_path, f"name: m\ntags:\n  team: '{'x' * 100_000}'\n")
    assert "100,000 characters, more than the 5,000" in message and len(message) < 400


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name: m\naliases: {v1: 1}\n", "is not allowed here. Alias: letters, digits, _ and -"),
        ("name: m\nversions: {'01': {}}\n", "is not allowed here. A version number as MLflow gives it"),
        ("name: m\ntags: {'a/../b': x}\n", "is not allowed here. Tag key:"),
    ],
)
def test_rule_errors_say_the_rule_not_the_regular_expression(tmp_path, text, words):
    message = one_error(tmp_path, text)
    assert words in message and "(?!" not in message and "^[" not in message, message
