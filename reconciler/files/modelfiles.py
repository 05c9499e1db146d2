"""Which entries of models/ hold desired state, and where a model's file is: the one home of the
rule, for a directory on disk (`selection`) and a git tree (`select` on `Entry` values) alike.

A model file is a regular file directly in models/ named `*.yaml`/`*.yml` in any case, not starting
with `_` (settings: `_policy.yaml`, the review policy). Refused, one line each naming the path:
symbolic links, whatever they are called or point at (a link would let a model change through a
file that review of models/ never sees, or read a file outside the checkout); entries named like
model files that are not regular files (directories, FIFOs, devices); subdirectories holding YAML
files (they are not read: almost certainly a mistake); the policy file under another spelling;
names a Windows checkout cannot hold as they are (a device name such as `con.yaml`, a trailing
dot or space); two files that would be one file on macOS or Windows (`fold`, the one rule for
that, which `modelnames` applies to registry names too). Files are opened with O_NOFOLLOW
(`open_regular`), so a link swapped in after the listing is refused too.
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePath, PurePosixPath
from typing import BinaryIO

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.names import POLICY_FILE, SETTINGS_PREFIX

SUFFIXES = (".yaml", ".yml")  # in any case: .YAML and .Yml too
LINK_FIX = (
    "models/ holds regular files only, so that every change to a model is a change to a file in models/ "
    "that review sees: replace the link with the file itself"
)


class Kind(Enum):
    FILE = "a regular file"
    LINK = "a symbolic link"
    DIRECTORY = "a directory"
    OTHER = "not a regular file (a FIFO, socket, device or git submodule)"


@dataclass(frozen=True)
class Entry:
    """One entry directly in models/. `yaml_below`: for a directory, a YAML file somewhere in it."""

    name: str
    kind: Kind
    yaml_below: str | None = None


@dataclass(frozen=True)
class Selection:
    """What a models/ directory holds: its model files' names (sorted), whether it has the policy
    file, and every refused entry. The policy's own problems are kept apart: the policy loader
    reports them, the model loader the others, so that `validate` says each once."""

    models: tuple[str, ...] = ()
    policy: bool = False
    errors: tuple[DesiredStateError, ...] = ()
    policy_errors: tuple[DesiredStateError, ...] = ()


def yaml_named(name: str) -> bool:
    """`name` (a file name) ends in .yaml or .yml, in any case."""
    return PurePosixPath(name).suffix.lower() in SUFFIXES


def is_settings(name: str) -> bool:
    return name.startswith(SETTINGS_PREFIX)


# Windows reserves these names for devices, with any extension and in any case (`con.yaml`, `Nul.v2.yaml`):
# a checkout there cannot hold such a file. COM/LPT with superscript digits are devices too.
WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in [*"0123456789", "\u00b9", "\u00b2", "\u00b3"]}
)


def fold(text: str) -> str:
    """The one rule for names that are one file somewhere: two names fold alike when a file system
    that ignores case or Unicode normalization may take them for the same file. It is the union of
    what each does, erring on the side of a collision (a false one costs a rename, a missed one a
    broken checkout): canonical equivalence (macOS: an NFC and an NFD `café`), full case folding
    (`Churn`, `CHURN`, `ß`/`ss`, the Kelvin sign `K`/`k`), and Windows's simple upper-casing, which
    folds what case folding keeps apart (the dotless i U+0131 and `i` are both `I` on NTFS; the long s U+017F and `s`).
    Trailing dots and spaces, which Windows drops from a file name, are dropped too."""
    decomposed = unicodedata.normalize("NFD", text.rstrip(" ."))
    upper = "".join(u if len(u := ch.upper()) == 1 else ch for ch in decomposed)
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", upper.casefold()))


def windows_device(name: str) -> str | None:
    """The Windows device a file or model name stands for (`con.yaml` -> 'CON'), else None: its part
    before the first dot, without trailing spaces, in any case."""
    base = name.split(".", 1)[0].rstrip(" ").upper()
    return base if base in WINDOWS_DEVICES else None


def code_points(a: str, b: str) -> str:
    """Where two names that may look alike differ, as code points: `U+00E9 vs U+0065 U+0301`
    (`café` NFC and NFD), `U+0043 vs U+0063` (`Churn`, `churn`). The common start and end are left out."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[len(a) - 1 - end] == b[len(b) - 1 - end]:
        end += 1

    def shown(text: str) -> str:
        middle = text[start : len(text) - end]
        return " ".join(f"U+{ord(ch):04X}" for ch in middle) or "nothing"

    return f"{shown(a)} vs {shown(b)}"


def select(entries: Iterable[Entry], where: PurePath) -> Selection:
    """The rule itself, on listed entries (from a directory or a git tree); `where` names the
    directory in messages."""
    models: list[str] = []
    errors: list[DesiredStateError] = []
    policy_errors: list[DesiredStateError] = []
    policy = False
    for e in sorted(entries, key=lambda e: e.name):
        problem = _refused(e, where / e.name)
        if problem is not None:
            (policy_errors if e.name == POLICY_FILE else errors).append(problem)
        elif e.kind is Kind.FILE and yaml_named(e.name):
            policy = policy or e.name == POLICY_FILE
            if _misnamed_policy(e.name):
                errors.append(
                    DesiredStateError(
                        f"{where / e.name}: the review policy is read from {POLICY_FILE} only; "
                        f"rename this file to {POLICY_FILE}"
                    )
                )
            elif not is_settings(e.name):
                models.append(e.name)
    errors += _same_model(models, where)
    return Selection(tuple(models), policy, tuple(errors), tuple(policy_errors))


def _misnamed_policy(name: str) -> bool:
    """`_policy.yml` or `_Policy.YAML` would be skipped as a settings file nobody reads, and the
    default policy (looser than the file) would judge pull requests: refused instead."""
    return name != POLICY_FILE and fold(PurePosixPath(name).stem) == fold(PurePosixPath(POLICY_FILE).stem)


def _refused(e: Entry, path: PurePath) -> DesiredStateError | None:
    if e.kind is Kind.LINK:
        return DesiredStateError(f"{path}: a symbolic link; {LINK_FIX}")
    if e.kind is Kind.DIRECTORY and yaml_named(e.name):
        return DesiredStateError(f"{path}: a directory named like a model file; models are files: rename or remove it")
    if e.kind is Kind.OTHER and yaml_named(e.name):
        return DesiredStateError(f"{path}: {e.kind.value}; model files are regular files: remove it")
    if e.kind is Kind.DIRECTORY and e.yaml_below is not None:
        return DesiredStateError(
            f"{path}: a subdirectory holding YAML files ({e.yaml_below}), which are never read: models are "
            "read from the files directly in models/; move them there or out of models/"
        )
    if e.name != e.name.rstrip(" .") and yaml_named(e.name.rstrip(" .")):
        return DesiredStateError(
            f"{path}: a name ending in '.' or ' ', which Windows drops (there it is the model file "
            f"{e.name.rstrip(' .')!r}); rename it"
        )
    if yaml_named(e.name) and not is_settings(e.name) and (device := windows_device(e.name)) is not None:
        return DesiredStateError(
            f"{path}: '{device}' is a device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with any "
            "extension), so no checkout there can hold this file; rename the model"
        )
    return None


def _same_model(names: Sequence[str], where: PurePath) -> list[DesiredStateError]:
    seen: dict[str, str] = {}
    errors = []
    for name in names:
        stem = PurePosixPath(name).stem
        first = seen.setdefault(fold(stem), name)
        if first != name:
            other = PurePosixPath(first).stem
            why = "the same model under another suffix" if other == stem else f"{one_file(other, stem)}"
            errors.append(
                DesiredStateError(
                    f"{where / name}: the model is also declared in {where / first} ({why}); keep one file per model"
                )
            )
    return errors


def one_file(a: str, b: str) -> str:
    """Why names `a` and `b` are one file, the code points they differ in shown."""
    return (
        f"{a!a} and {b!a} are one file on a case-insensitive or normalizing checkout (macOS, Windows): "
        f"they differ only in {code_points(a, b)}, which those file systems ignore"
    )


def selection(models_dir: Path) -> Selection:
    """The rule applied to a directory on disk (listed without following any link)."""
    if models_dir.is_symlink():
        return Selection(errors=(DesiredStateError(f"{models_dir}: a symbolic link; {LINK_FIX}"),))
    if not models_dir.is_dir():
        raise DesiredStateError(f"{models_dir}: no such directory; create it or pass --models-dir")
    return select(on_disk(models_dir), models_dir)


def on_disk(models_dir: Path) -> list[Entry]:
    with os.scandir(models_dir) as listing:
        return [_entry(e) for e in listing]


def _entry(e: os.DirEntry[str]) -> Entry:
    if e.is_symlink():
        return Entry(e.name, Kind.LINK)
    if e.is_dir(follow_symlinks=False):
        return Entry(e.name, Kind.DIRECTORY, _yaml_below(Path(e.path)))
    return Entry(e.name, Kind.FILE if e.is_file(follow_symlinks=False) else Kind.OTHER)


def _yaml_below(directory: Path) -> str | None:
    for root, dirs, names in os.walk(directory):  # never into links (followlinks=False)
        found = next((n for n in sorted([*names, *dirs]) if yaml_named(n)), None)
        if found is not None:
            return (Path(root) / found).relative_to(directory.parent).as_posix()
    return None


def model_files(models_dir: Path) -> list[Path]:
    """The desired-state files in `models_dir`, sorted; every refused entry reported (one line
    each) before failing. The policy file's own problems are the policy loader's to report."""
    found = selection(models_dir)
    if found.errors:
        raise ValidationErrors(list(found.errors))
    return [models_dir / name for name in found.models]


def policy_file(models_dir: Path) -> Path | None:
    """models/_policy.yaml when it is there (a regular file), None when it is not; its refusal otherwise."""
    if not models_dir.is_dir() or models_dir.is_symlink():
        return None
    found = selection(models_dir)
    if found.policy_errors:
        raise found.policy_errors[0]
    return models_dir / POLICY_FILE if found.policy else None


def changed_paths(changed: Iterable[str], prefix: str) -> list[str]:
    """The changed paths (repository-relative, '/'-separated) directly in `prefix` that are named
    like model or settings files, sorted: what a pull request changes of models/."""
    root = PurePosixPath(prefix.strip("/") or ".")
    return sorted({p for p in changed if PurePosixPath(p).parent == root and yaml_named(PurePosixPath(p).name)})


def model_path(models_dir: Path, name: str) -> Path:
    """The file that holds (or would hold) model `name`: an existing `<name>.yaml`/`.yml` in any
    suffix case, else `<name>.yaml`. Refuses when another file's name differs only in case."""
    files = model_files(models_dir) if models_dir.is_dir() or models_dir.is_symlink() else []
    for p in files:
        if p.stem == name:
            return p
    for p in files:
        if fold(p.stem) == fold(name):
            raise DesiredStateError(
                f"{p}: a model named {name!r} would need {name}.yaml, the same file ({one_file(p.stem, name)}); "
                "rename one of the two models"
            )
    return models_dir / f"{name}.yaml"


def open_regular(path: Path) -> tuple[BinaryIO, int]:
    """`path` opened for reading, and its size; refused unless it is a regular file: never through a
    symbolic link (O_NOFOLLOW: a link swapped in after the listing is refused too), never blocking
    on a FIFO."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW met a link (Linux, macOS: ELOOP; FreeBSD: EMLINK)
            raise DesiredStateError(f"{path}: {Kind.LINK.value}; {LINK_FIX}") from None
        raise DesiredStateError(f"{path}: cannot read the file ({e.strerror}); check it exists and is readable") from e
    found = os.fstat(fd)
    if not stat.S_ISREG(found.st_mode):
        os.close(fd)
        kind = Kind.DIRECTORY if stat.S_ISDIR(found.st_mode) else Kind.OTHER
        raise DesiredStateError(f"{path}: {kind.value}; model files are regular files: remove it")
    return os.fdopen(fd, "rb"), found.st_size
