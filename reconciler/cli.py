"""The console script. Each verb lives in reconciler/commands/<verb>.py and returns an exit code."""

from __future__ import annotations

import gc
import importlib
import sys

import click

from reconciler import __version__, commandline, interrupt
from reconciler.commandline import INTERRUPTED
from reconciler.error_handler import error_handler

VERBS = {
    "validate": "validate",
    "plan": "plan",
    "apply": "apply",
    "import": "import_",
    "codeowners": "codeowners",
    "history": "history",
    "unlock": "unlock",
    "github": "github",
    "propose": "propose",
    "show": "show",
    "gates": "gates",
    "smoke": "smoke",
    "health": "health",
}


class _Verbs(click.Group):
    """Imports a verb's module only when it runs: `validate --offline` loads no registry client."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if not commandline.started_for(args):  # the console script started it for this command line
            commandline.start_early(args)
        return super().resolve_command(ctx, args)

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


# The cyclic collector's default (a young-generation pass every 700 allocations, a full one every
# 100 of those) walks the whole growing heap again and again while a plan builds 1,000 files' and
# 20,000 versions' objects, holding the GIL the registry read needs: 0.2 s of a 3.3 s no-op plan on
# 1,000 x 20 (bench/cli_bench.py). A command's objects live until it exits; cycles are still
# collected, just rarely.
GC_THRESHOLDS = (100_000, 50, 1_000)


def main(argv: list[str] | None = None) -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    with error_handler():
        code = cli.main(args=argv, prog_name="reconciler", standalone_mode=False)
    sys.exit(code or 0)
