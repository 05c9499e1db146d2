"""The console script. Each verb lives in reconciler/commands/<verb>.py and returns an exit code."""

from __future__ import annotations

import gc
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
    "unlock": "unlock",
    "github": "github",
    "propose": "propose",
    "show": "show",
    "gates": "gates",
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
    "propose": "the registry was not changed; the model file is written whole or not at all",
    "smoke": "nothing was changed (a smoke test only reads the registry)",
    "unlock": "the lock ticket is cleared only after its clearing is recorded in the audit journal: run unlock again",
    "github": "what GitHub shows (comment, status, issue) may be this run's or the last one's: run the job again",
}


# Options of `apply` that take a value: what follows them is not its PLAN_FILE (tests/cli/test_early_read.py
# compares this with the command's own options).
APPLY_VALUE_OPTIONS = frozenset(
    {"--models-dir", "--commit", "--pull-request", "--approvers", "--actor", "--concurrency", "--lock-timeout"}
)


def reads_registry_first(args: list[str]) -> bool:
    """Does this command line begin by reading the whole registry, whatever the files say? Then the
    read starts before the verb's imports and the file load (reconciler/registry/early_read.py). Not for
    `apply PLAN_FILE`: its read happens under the registry lock."""
    if not args or "-h" in args or "--help" in args:
        return False
    verb, rest = args[0], args[1:]
    if verb in ("plan", "import"):
        return True
    if verb == "github":
        return bool(rest) and rest[0] in ("check", "drift")
    if verb == "apply":
        return not _positional(rest, APPLY_VALUE_OPTIONS)
    return False


def _positional(args: list[str], value_options: frozenset[str]) -> bool:
    after_value = False
    for i, a in enumerate(args):
        if a == "--":
            return i + 1 < len(args)
        if after_value:
            after_value = False
        elif a.startswith("-"):
            after_value = a in value_options  # --opt=value carries its own
        else:
            return True
    return False


class _Verbs(click.Group):
    """Imports a verb's module only when it runs: `validate --offline` loads no registry client."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        started = sys.modules.get("reconciler.registry.early_read")
        if started is not None:  # a command before this one in the same process (tests run them so)
            started.forget()
        if args:  # said before the early read starts: a signal may come as soon as the server answers
            interrupt.leaves(interrupt.WRITES, INTERRUPTED.get(args[0]))
        if reads_registry_first(args):
            from reconciler.registry import early_read

            early_read.start()
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
