"""Smoke results shown: a rich table for the terminal, a Markdown table for the pull request's
comment (every value through reconciler.text.md_code)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from reconciler.smoke.result import Outcome, SmokeResult
from reconciler.text import md_code, plural, printable

MARK = {Outcome.PASSED: "✅", Outcome.FAILED: "❌", Outcome.NOT_TESTED: "⚠️", Outcome.SKIPPED: "⏭️"}


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} ms"


def _rows(value: int | None) -> str:
    return "" if value is None else str(value)


def table(results: Sequence[SmokeResult]) -> Table:
    t = Table(title="Smoke test")
    for column in ("model", "version", "input", "rows", "result", "latency", "why"):
        t.add_column(column)
    for r in results:
        t.add_row(
            printable(r.model), f"v{r.version}", printable(r.input), _rows(r.rows), r.outcome.value,
            _ms(r.latency_ms), printable(r.reason()),
        )  # fmt: skip
    return t


def markdown(results: Sequence[SmokeResult]) -> str:
    """The comment's "Smoke test" section; "" when no protected move was smoke-tested."""
    if not results:
        return ""
    failed = sum(1 for r in results if not r.ok)
    untested = sum(1 for r in results if r.outcome is Outcome.NOT_TESTED)
    skipped = sum(1 for r in results if r.outcome is Outcome.SKIPPED)
    if failed:
        head = f"❌ {plural(failed, 'smoke test')} did not pass."
    elif untested or skipped:  # "passes" only when every candidate was tested
        parts = [f"{plural(untested, 'candidate')} not tested (no input example)"] if untested else []
        parts += [f"{plural(skipped, 'candidate')} skipped (the model file opts out)"] if skipped else []
        head = f"⚠️ {'; '.join(parts)}; nothing failed."
    else:
        head = "✅ Every candidate passes its smoke test."
    out = ["### Smoke test", "", f"**{head}**", ""]
    out += ["| model | version | input | rows | result | latency | why |", "|---" * 7 + "|"]
    for r in results:
        cells = [
            md_code(r.model),
            f"v{r.version}",
            md_code(r.input),
            _rows(r.rows),
            f"{MARK[r.outcome]} {r.outcome.value}",
            _ms(r.latency_ms),
            md_code(r.reason()),
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def passed(results: Sequence[SmokeResult]) -> bool:
    return all(r.ok for r in results)


def status(results: Sequence[SmokeResult]) -> str:
    """The commit status's words for failed smoke tests; "" when none failed."""
    failed = [r for r in results if not r.ok]
    if not failed:
        return ""
    return f"{plural(len(failed), 'smoke test')} failed: {failed[0].model} v{failed[0].version}"
