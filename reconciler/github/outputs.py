"""The job summary (GITHUB_STEP_SUMMARY) and step outputs (GITHUB_OUTPUT), as GitHub's file commands
define them. Outside Actions (paths unset) both are no-ops."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path

from reconciler.masking import mask

MAX_SUMMARY = 1024 * 1024  # GitHub's limit per step: 1 MiB


def summary(path: Path | None, markdown: str) -> None:
    if path is None:
        return
    markdown = mask(markdown)  # the job summary is as public as the log
    text = markdown if markdown.endswith("\n") else markdown + "\n"
    if len(text.encode()) > MAX_SUMMARY:
        cut = text.encode()[: MAX_SUMMARY - 200].decode(errors="ignore").rsplit("\n", 1)[0]
        text = cut + "\n\n… (cut at GitHub's 1 MiB summary limit; the whole plan is in the job log)\n"
    with path.open("a", encoding="utf-8") as f:
        f.write(text)


def set_outputs(path: Path | None, values: Mapping[str, str]) -> None:
    """`name=value` lines; a multi-line value in a heredoc whose delimiter cannot occur in it."""
    if path is None:
        return
    lines = []
    for name, value in ((n, mask(v)) for n, v in values.items()):
        if "\n" in value or "\r" in value:
            delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
            lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        else:
            lines.append(f"{name}={value}\n")
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(lines))


def annotate(level: str, message: str) -> None:
    """A workflow command (`::warning::…`) on stdout, escaped as GitHub reads it: one line."""
    text = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    print(f"::{level}::{text}", flush=True)
