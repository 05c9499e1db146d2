"""Which files in models/ hold desired state, and where a model's file is."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from reconciler.errors import DesiredStateError, ValidationErrors

SUFFIXES = (".yaml", ".yml")  # in any case: .YAML and .Yml too
RESERVED_PREFIX = "_"  # _policy.yaml and the like: repository settings, not models


def model_files(models_dir: Path) -> list[Path]:
    """The desired-state files in `models_dir`, sorted: `*.yaml`/`*.yml` in any case, not starting
    with `_`. Refuses two files that name the same model on a case-insensitive checkout."""
    if not models_dir.is_dir():
        raise DesiredStateError(f"{models_dir}: no such directory; create it or pass --models-dir")
    entries = sorted(models_dir.iterdir())
    files = [p for p in entries if _is_model_file(p)]
    clashes = _same_model(files) + _misnamed_policy(entries)
    if clashes:
        raise ValidationErrors(clashes)
    return files


def model_path(models_dir: Path, name: str) -> Path:
    """The file that holds (or would hold) model `name`: an existing `<name>.yaml`/`.yml` in any
    suffix case, else `<name>.yaml`. Refuses when another file's name differs only in case."""
    files = model_files(models_dir) if models_dir.is_dir() else []
    for p in files:
        if p.stem == name:
            return p
    for p in files:
        if _fold(p.stem) == _fold(name):
            raise DesiredStateError(
                f"{p}: a model named {name!r} would need {name}.yaml, which names the same file on a "
                "case-insensitive checkout (macOS, Windows); rename one of the two models"
            )
    return models_dir / f"{name}.yaml"


def _is_model_file(p: Path) -> bool:
    return p.suffix.lower() in SUFFIXES and not p.name.startswith(RESERVED_PREFIX) and p.is_file()


POLICY = "_policy.yaml"


def _misnamed_policy(entries: list[Path]) -> list[DesiredStateError]:
    """`_policy.yml` or `_Policy.YAML` would be skipped as a settings file nobody reads, and the
    default policy (looser than the file) would judge pull requests: refuse it instead."""
    return [
        DesiredStateError(f"{p}: the review policy is read from {POLICY} only; rename this file to {POLICY}")
        for p in entries
        if p.name != POLICY and _fold(p.stem) == "_policy" and p.suffix.lower() in SUFFIXES
    ]


def _fold(stem: str) -> str:
    return unicodedata.normalize("NFC", stem).casefold()


def _same_model(files: list[Path]) -> list[DesiredStateError]:
    seen: dict[str, Path] = {}
    errors = []
    for p in files:
        first = seen.setdefault(_fold(p.stem), p)
        if first is not p:
            errors.append(
                DesiredStateError(
                    f"{p}: the model is also declared in {first.name} (file names that differ only in case or "
                    "suffix are one file on case-insensitive checkouts); keep one file per model"
                )
            )
    return errors
