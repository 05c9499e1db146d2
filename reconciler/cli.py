"""The console script. Each verb lives in reconciler/commands/<verb>.py and returns an exit code."""

from __future__ import annotations

import importlib
import sys

import click

from reconciler import __version__, interrupt
from reconciler.error_handler import error_handler

VERBS = {
    "validate": "validate",
    "plan": "plan",
    "apply": "apply",
    "import": "import_",
    "codeowners": "codeowners",
    "history": "history",
    "github": "github",
    "smoke": "smoke",
    "health": "health",
}

# What a verb leaves behind when SIGTERM or Ctrl-C stops it before it says more (reconciler/interrupt.py;
# apply says more as it goes: reconciler/apply/execute.py). Files are written whole or not at all
# (reconciler/atomic.py).
INTERRUPTED = {
    "plan": "nothing was changed (a plan file is written whole or not at all)",
    "import": "the registry was not changed; each model file is written whole or not at all",
    "codeowners": "CODEOWNERS is written whole or not at all",
    "smoke": "nothing was changed (a smoke test only reads the registry)",
    "github": "what GitHub shows (comment, status, issue) may be this run's or the last one's: run the job again",
}


class _Verbs(click.Group):
    """Imports a verb's module only when it runs: `validate --offline` loads no registry client."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = VERBS.get(cmd_name)
        interrupt.leaves(interrupt.WRITES, INTERRUPTED.get(cmd_name))
        return importlib.import_module(f"reconciler.commands.{module}").command if module else None


@click.group(cls=_Verbs, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Keep an MLflow Model Registry in line with models/*.yaml.

    The registry is MLFLOW_REGISTRY_URI, else MLFLOW_TRACKING_URI, else a local SQLite file
    (./mlflow.db). Credentials: MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN.
    """


def main(argv: list[str] | None = None) -> None:
    with error_handler():
        code = cli.main(args=argv, prog_name="reconciler", standalone_mode=False)
    sys.exit(code or 0)
