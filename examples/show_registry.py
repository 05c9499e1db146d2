"""Print the registry's models, aliases, versions and the audit record of each (the demo's last step)."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from reconciler import engine
from reconciler.apply.audit import AUDIT_TAG, read_record


def main() -> None:
    live = engine.Session.open().read()
    console = Console(markup=False)
    for model in live.models.values():
        description = model.values.get("description", "")
        table = Table(title=f"{model.name}: {description.splitlines()[0] if description else ''}")
        for column in ("version", "stage", "aliases", "description", "last applied (commit, approvers, plan)"):
            table.add_column(column)
        for number, v in sorted(model.versions.items(), reverse=True):
            aliases = ", ".join(a for a, n in model.aliases.items() if n == number)
            record = read_record(v.reserved_tags.get(AUDIT_TAG)) or {}
            approvers = ",".join(record.get("approved_by", []))
            applied = f"{record.get('commit', '')} {approvers} {record.get('plan', '')[:15]}" if record else ""
            table.add_row(str(number), v.stage.value, aliases, v.values.get("description", ""), applied)
        console.print(table)


if __name__ == "__main__":
    main()
