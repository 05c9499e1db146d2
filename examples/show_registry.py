"""Print the registry's models, aliases, versions and last audit record (the demo's last step)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from reconciler import api
from reconciler.apply import AUDIT_TAG


def main() -> None:
    live = api.Session.open().read()
    console = Console()
    for model in live.models.values():
        table = Table(title=f"{model.name}: {model.description.splitlines()[0] if model.description else ''}")
        for column in ("version", "stage", "aliases", "description", "last applied (commit, plan)"):
            table.add_column(column)
        for number, v in sorted(model.versions.items(), reverse=True):
            aliases = ", ".join(a for a, n in model.aliases.items() if n == number)
            audit = json.loads(v.tags.get(AUDIT_TAG, "{}"))
            applied = f"{audit.get('commit', '')} {audit.get('plan', '')[:15]}" if audit else ""
            table.add_row(str(number), v.stage.value, aliases, v.description, applied)
        console.print(table)


if __name__ == "__main__":
    main()
