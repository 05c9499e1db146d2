"""Which registered model names the reconciler keeps for itself, which can have a file in models/,
and the command that writes one: the one home of these rules, for the reader, the planner's
notes and `import`.

Reserved (`reserved`): the registered models the reconciler itself owns (its lock, `gitops.lock`):
never read as models, planned or reported. Every other registered model is read; one without a
file is reported in the plan, with the command that writes its file when one can
(`import_command`), or why no file can hold it (`unmanageable`): a name the model schema refuses
(`_` starts a settings file, the `gitops.` namespace is the reconciler's, `*`, `/`, invisible
characters...), a file name longer than file systems allow, or another model whose file would be
the same file on a case-insensitive checkout (`twins`).
"""

from __future__ import annotations

import shlex
import unicodedata
from collections.abc import Iterable, Mapping

from reconciler.files import modelfiles, schemacheck
from reconciler.names import GITOPS_PREFIX, SETTINGS_PREFIX, reserved_model

NAME_MAX = 255  # bytes in a file name (ext4, APFS, NTFS)
RENAME = "rename it in the registry to manage it"


def reserved(name: str) -> bool:
    """A registered model the reconciler keeps for itself (its lock): never planned or reported."""
    return reserved_model(name)


def unmanageable(name: str) -> str | None:
    """Why no model file can hold the registered model `name` (None: one can)."""
    if name.startswith(SETTINGS_PREFIX):
        prefix = SETTINGS_PREFIX
        return f"a file name starting with '{prefix}' is a settings file, so this model cannot have one; {RENAME}"
    if name.startswith(GITOPS_PREFIX):
        return f"the '{GITOPS_PREFIX}' namespace is the reconciler's own, so no model file may name it; {RENAME}"
    size = len(f"{name}.yaml".encode("utf-8", "surrogatepass"))
    if size > NAME_MAX:
        return f"its file would have a name of {size} bytes, over the {NAME_MAX} file systems allow; {RENAME}"
    if (device := modelfiles.windows_device(name)) is not None:
        return f"'{device}' is a device name on Windows, so no checkout there can hold its file; {RENAME}"
    if not schemacheck.is_valid({"name": name}):
        return (
            'a model file cannot hold this name (no / \\ : * ? " < > |, control or invisible characters, '
            f"leading or trailing spaces, '.' or '..': see schemas/model.schema.json); {RENAME}"
        )
    return None


def twins(names: Iterable[str]) -> Mapping[str, tuple[str, ...]]:
    """Each name whose file would be the same file as another's on a case-insensitive, normalizing
    checkout (macOS, Windows: `Churn` and `churn`, an NFC and an NFD `café`, a dotless and a dotted i: the one
    rule, `modelfiles.fold`) -> those others."""
    groups: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        groups.setdefault(modelfiles.fold(name), []).append(name)
    return {n: tuple(o for o in group if o != n) for group in groups.values() if len(group) > 1 for n in group}


def twin_problem(name: str, others: Iterable[str]) -> str:
    shown = "; ".join(modelfiles.one_file(o, name) for o in others)
    return f"its file would be the same file as that of another model: {shown}; rename one of them in the registry"


def import_command(name: str) -> str:
    """`reconciler import NAME` to paste into a shell: `--` before a name starting with '-', the name
    quoted; in ANSI-C quoting ($'...', bash and zsh) when a terminal would not show it as it is."""
    sep = "-- " if name.startswith("-") else ""
    if name.isprintable() and unicodedata.is_normalized("NFC", name):
        return f"reconciler import {sep}{shlex.quote(name)}"
    return f"reconciler import {sep}$'{''.join(_ansi_c(ch) for ch in name)}'"


def _ansi_c(ch: str) -> str:
    if ch in "\\'":
        return "\\" + ch
    if ch.isascii() and ch.isprintable():
        return ch
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"
