"""One `run:` step, executed as GitHub's runner executes it: a script file, the shell's command line,
fresh GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH / GITHUB_STEP_SUMMARY files, and what they say after.
"""

from __future__ import annotations

import shlex
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .filecommands import Annotation, FileCommandError, read_pairs, read_path, workflow_commands

# GitHub's shell templates on Linux. An unspecified shell is `bash -e {0}` (no pipefail);
# `shell: bash` adds --noprofile --norc and pipefail.
SHELLS = {
    None: ("bash -e {0}", ".sh"),
    "bash": ("bash --noprofile --norc -eo pipefail {0}", ".sh"),
    "sh": ("sh -e {0}", ".sh"),
    "python": ("python {0}", ".py"),
    "pwsh": ("pwsh -command \". '{0}'\"", ".ps1"),
}


@dataclass
class StepRun:
    """What a step's process left behind."""

    exit_code: int
    stdout: str
    stderr: str
    outputs: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    summary: str = ""
    annotations: list[Annotation] = field(default_factory=list)
    masks: list[str] = field(default_factory=list)


def command_line(shell: str | None, script: Path) -> list[str]:
    template = SHELLS[shell][0] if shell in SHELLS else shell
    assert template is not None
    if "{0}" not in template:
        template += " {0}"
    return [part.replace("{0}", str(script)) for part in shlex.split(template)]


def script_suffix(shell: str | None) -> str:
    return SHELLS[shell][1] if shell in SHELLS else ""


def run_script(
    script: str, shell: str | None, cwd: Path, env: Mapping[str, str], temp: Path, timeout: float | None
) -> StepRun:
    files = temp / f"step-{uuid.uuid4().hex[:12]}"
    files.mkdir(parents=True)
    paths = {
        name: files / name.lower()
        for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY", "GITHUB_STATE")
    }
    for p in paths.values():
        p.write_text("")
    script_file = files / f"script{script_suffix(shell)}"
    script_file.write_text(script)
    full_env = {**env, **{k: str(v) for k, v in paths.items()}}
    if not cwd.is_dir():
        return StepRun(1, "", f"An error occurred trying to start process: working directory '{cwd}' does not exist")
    try:
        done = subprocess.run(
            command_line(shell, script_file), cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
        )
        run = StepRun(done.returncode, done.stdout, done.stderr)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else e.stdout or ""
        return StepRun(1, out, f"The action has timed out after {timeout} seconds.")
    return _collect(run, paths)


def _collect(run: StepRun, paths: Mapping[str, Path]) -> StepRun:
    try:
        run.outputs = read_pairs(paths["GITHUB_OUTPUT"])
        run.env = read_pairs(paths["GITHUB_ENV"])
    except FileCommandError as e:
        run.exit_code = run.exit_code or 1
        run.stderr += f"\n{e}"
    run.path = read_path(paths["GITHUB_PATH"])
    run.summary = paths["GITHUB_STEP_SUMMARY"].read_text()
    run.annotations, run.masks = workflow_commands(run.stdout)
    return run
