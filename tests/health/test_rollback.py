"""The rollback proposal's pure half: the file edited with the round-trip writer (comments and
layout kept, the result valid), and the body's evidence with hostile values escaped."""

from __future__ import annotations

import pytest

from reconciler.apply.audit import Audit
from reconciler.apply.journal import Entry
from reconciler.errors import DesiredStateError
from reconciler.monitoring.evaluate import HOUR_MS, Health, Monitored, ProductionRun, evaluate
from reconciler.monitoring.rollback import MARKER, body, branch, no_previous, rolled_back, title
from reconciler.monitoring.served import Promotion, promotions
from reconciler.plan.values import Action, Address, Change
from reconciler.state import HealthRule, Monitoring, Threshold

FILE = """\
# yaml-language-server: $schema=../schemas/model.schema.json
name: churn
owners: [olivia]   # who approves
aliases:
  champion: 4      # promoted in #7
  challenger: 3
monitoring:
  alias: champion
  window: {hours: 6}
  metrics:
    - {metric: accuracy, at_least: 0.8}
"""
SPEC = Monitoring("champion", (Threshold("accuracy", HealthRule.AT_LEAST, 0.8),), window_hours=6.0)


def _health(name: str = "churn") -> object:
    runs = {
        4: [ProductionRun(name, 4, h * HOUR_MS, {"samples": 10, "accuracy": 0.9 - h / 100}) for h in range(90, 100)]
    }
    return evaluate(Monitored(name, "models/churn.yaml", SPEC, 4, 2), runs, 100 * HOUR_MS)


def test_the_file_points_the_alias_back_and_keeps_comments_and_layout() -> None:
    out = rolled_back(FILE, "models/churn.yaml", "champion", 2)
    assert out == FILE.replace("champion: 4      # promoted in #7", "champion: 2      # promoted in #7")


def test_quoting_and_long_values_stay_as_written() -> None:
    """The writer training's proposals use (files/importer.round_trip_yaml): 'olivia' stays quoted,
    a digest longer than the line width stays on its key's line."""
    digest = "sha256:" + "ab" * 60
    text = FILE.replace("owners: [olivia]", "owners: ['olivia']").replace(
        "aliases:", f"versions:\n  4: {{tags: {{image: {digest}}}}}\naliases:"
    )
    out = rolled_back(text, "models/churn.yaml", "champion", 2)
    assert out == text.replace("champion: 4      # promoted in #7", "champion: 2      # promoted in #7")


def test_an_alias_the_file_does_not_set_is_refused() -> None:
    with pytest.raises(DesiredStateError, match="sets no alias 'prod' to roll back"):
        rolled_back(FILE, "models/churn.yaml", "prod", 2)


def test_the_previous_holder_comes_from_the_newest_applied_promotion() -> None:
    def entry(run: str, before: int | None, after: int) -> Entry:
        change = Change(Address("churn", None, "alias", "champion"), Action.UPDATE, before, after)
        return Entry(
            run,
            Audit("sha256:x", "c" * 40, "#7", ("lead",), "ci", "2026-11-01T00:00:00Z"),
            "r",
            "applied",
            (change,),
            {0: "applied"},
        )

    found = promotions([entry("new", 2, 4), entry("old", 1, 4)], {"churn": ("champion", 4)})
    assert (found["churn"].previous, found["churn"].run_id) == (2, "new")
    assert promotions([entry("first", None, 4)], {"churn": ("champion", 4)})["churn"].previous is None


def test_the_body_holds_the_table_the_chart_the_versions_and_the_audit_record() -> None:
    h = _health()
    assert h.state is Health.BREACH
    p = Promotion(
        "churn", "champion", 4, 2, "run123", Audit("sha256:x", "c" * 40, "#7", ("lead",), "ci", "2026-11-01T00:00:00Z")
    )
    text = body(h, p)
    assert text.startswith(MARKER) and "```mermaid\nxychart-beta\n" in text
    assert "    line [0.8, 0.8," in text and "❌ breach" in text and "v4 (breached)" in text and "proposed: v2" in text
    assert "run123" in text and "&#35;7" in text and title(h, p) == "Roll back churn champion: v4 -> v2"
    assert branch("churn") == branch("churn") != branch("churn2")


def test_a_chart_of_a_rule_relative_to_the_replaced_version_draws_that_limit() -> None:
    """mae <= replaced + 5: the second line is v2's mae plus 5, and the caption says so (it said
    "the threshold" over a chart that drew none)."""
    spec = Monitoring("champion", (Threshold("mae", HealthRule.NO_WORSE_THAN_REPLACED_BY, 5, True),), 6.0)
    served = [ProductionRun("churn", 4, h * HOUR_MS, {"samples": 10, "mae": 40.0}) for h in range(95, 100)]
    replaced = [ProductionRun("churn", 2, h * HOUR_MS, {"samples": 10, "mae": 30.0}) for h in range(80, 85)]
    p = Promotion("churn", "champion", 4, 2, "r", Audit("sha256:x"))
    h = evaluate(Monitored("churn", "models/churn.yaml", spec, 4, 2), {4: served, 2: replaced}, 100 * HOUR_MS)
    assert h.state is Health.BREACH
    text = body(h, p)
    assert "    line [40, 40, 40, 40, 40]\n    line [35, 35, 35, 35, 35]\n" in text
    assert "the first line is the value per window, the second the threshold (v2's 30 + 5)." in text


def test_hostile_names_cannot_break_out_of_the_body() -> None:
    name = "x<!-- --> @everyone ```"
    h = _health(name)
    p = Promotion(name, "champion", 4, 2, "r", Audit("sha256:x", None, "<script>", ("@org/team",), "ci", "t"))
    text = body(h, p)
    assert "<!-- -->" not in text and "@everyone" not in text and "<script>" not in text and "@org/team" not in text
    assert text.count("```") == 2  # the chart's fence only


def test_nothing_to_roll_back_to_is_said() -> None:
    h = _health()
    assert "no apply that gave the alias to v4" in no_previous(h, None)
    p = Promotion("churn", "champion", 4, None, "r", Audit("sha256:x"))
    assert no_previous(h, p) == "churn: v4 was the first holder of 'champion'; there is no version to roll back to"


def test_a_crlf_file_keeps_its_line_endings_and_a_mixed_one_is_refused(tmp_path) -> None:
    """The third writer of a user's model file kept CR on comment lines only (and the file was read
    with CRLF made LF): the pull request rewrote every line. The rule is import's and propose's."""
    from reconciler.files.desired import load_file
    from reconciler.monitoring.rollback import FileEdit, plan

    crlf = FILE.replace("  metrics:", "  rollback: true\n  metrics:").replace("\n", "\r\n")
    out = rolled_back(crlf, "models/churn.yaml", "champion", 2)
    assert out == crlf.replace("champion: 4      # promoted in #7", "champion: 2      # promoted in #7")
    path = tmp_path / "models" / "churn.yaml"
    path.parent.mkdir()
    path.write_bytes(crlf.encode())
    audit = Audit("sha256:x", "c" * 40, "#7", ("lead",), "ci", "2026-11-01T00:00:00Z")
    edit = plan(_health(), load_file(path), Promotion("churn", "champion", 4, 2, "r", audit), tmp_path)
    assert isinstance(edit, FileEdit) and (edit.before, edit.after) == (crlf, out)
    with pytest.raises(DesiredStateError, match=r"models/churn.yaml:3: the file mixes CRLF and LF line endings"):
        rolled_back(crlf.replace("approves\r\n", "approves\n"), "models/churn.yaml", "champion", 2)
