"""The console script. Each verb lives in reconciler/commands/<verb>.py and returns an exit code."""

from __future__ import annotations

import sys

import click

from reconciler import __version__
from reconciler.commands import apply_cmd, codeowners_cmd, import_cmd, plan_cmd, validate_cmd
from reconciler.error_handler import error_handler


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Keep an MLflow Model Registry in line with models/*.yaml.

    The registry is MLFLOW_REGISTRY_URI, else MLFLOW_TRACKING_URI, else a local SQLite file
    (./mlflow.db). Credentials: MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN.
    """


for command in (validate_cmd.command, plan_cmd.command, apply_cmd.command, import_cmd.command, codeowners_cmd.command):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    with error_handler():
        code = cli.main(args=argv, prog_name="reconciler", standalone_mode=False)
    sys.exit(code or 0)
