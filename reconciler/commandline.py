"""What a command line asks, known before click or the verb's imports load (reconciler/__main__.py
starts the registry read from it at once; reconciler/cli.py, for a command run in-process).
Imports nothing heavy: the early read's own modules, and those only when the verb reads first."""

from __future__ import annotations

import sys

from reconciler import interrupt

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


_started_for: list[str] | None = None


def start_early(args: list[str]) -> None:
    """Say what an interrupt leaves behind, then start the registry read if the command reads the
    whole registry first. A read no command took (an earlier command in the same process) is dropped."""
    global _started_for
    started = sys.modules.get("reconciler.registry.early_read")
    if started is not None:
        started.forget()
    if args:  # said before the early read starts: a signal may come as soon as the server answers
        interrupt.leaves(interrupt.WRITES, INTERRUPTED.get(args[0]))
    _started_for = list(args)
    if reads_registry_first(args):
        from reconciler.registry import early_read

        early_read.start()


def started_for(args: list[str]) -> bool:
    """Was the read started for exactly this command line (once: the next command starts its own)?"""
    global _started_for
    same, _started_for = _started_for == list(args), None
    return same
