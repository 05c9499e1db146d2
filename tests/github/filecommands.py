"""The runner's file commands (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH) and stdout workflow commands.

File format, as GitHub's runner reads it: `name=value` lines, or a heredoc

    name<<DELIMITER
    line one
    line two
    DELIMITER

A heredoc without its closing delimiter fails the step, as it does on GitHub.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


class FileCommandError(ValueError):
    pass


@dataclass(frozen=True)
class Annotation:
    level: str  # error, warning, notice
    message: str
    properties: str  # "file=a.py,line=3" as written, unparsed


def read_pairs(path: Path) -> dict[str, str]:
    """The name/value pairs written to a GITHUB_OUTPUT or GITHUB_ENV file."""
    if not path.exists():
        return {}
    lines = path.read_text().split("\n")
    pairs: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r")
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = next((j for j in range(i, len(lines)) if lines[j].rstrip("\r") == delimiter), None)
            if end is None:
                raise FileCommandError(f"{path.name}: Matching delimiter not found '{delimiter}'")
            pairs[_name(name, path)] = "\n".join(x.rstrip("\r") for x in lines[i:end])
            i = end + 1
        elif "=" in line:
            name, value = line.split("=", 1)
            pairs[_name(name, path)] = value
        else:
            raise FileCommandError(f"{path.name}: Invalid format '{line}'")
    return pairs


def _name(name: str, path: Path) -> str:
    if not name:
        raise FileCommandError(f"{path.name}: Invalid format: a name is required")
    return name


def read_path(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


_COMMAND = re.compile(r"^::(error|warning|notice|add-mask)(?: ([^:]*))?::(.*)$")


def workflow_commands(stdout: str) -> tuple[list[Annotation], list[str]]:
    """Annotations (`::error file=x::msg`) and values to mask (`::add-mask::v`) printed by a step."""
    annotations, masks = [], []
    for line in stdout.splitlines():
        found = _COMMAND.match(line.strip())
        if not found:
            continue
        command, props, message = found.groups()
        message = message.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
        if command == "add-mask":
            masks.append(message)
        else:
            annotations.append(Annotation(command, message, props or ""))
    return annotations, masks


def mask(text: str, secrets: list[str]) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
