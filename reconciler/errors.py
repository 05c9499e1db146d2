"""One error hierarchy. Every user-facing error is one line: where, what, what to do."""

from __future__ import annotations

EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_CHANGES = 2  # plan --detailed-exitcode: there are changes
EXIT_INTERNAL = 3


class ReconcilerError(Exception):
    """A problem the user can fix. The message names the place and says what to do."""


class DesiredStateError(ReconcilerError):
    """A models/*.yaml file is malformed, violates the schema or contradicts itself."""


# What str.splitlines() breaks a line at, each shown as its escape.
_LINE_BREAKS = str.maketrans({c: ascii(c)[1:-1] for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


def one_line(text: str) -> str:
    """`text` with its line breaks escaped: a file name may hold one, and a problem is one line."""
    return text.translate(_LINE_BREAKS)


class ValidationErrors(DesiredStateError):
    """Several files are wrong; all are reported, one line each (a line break in a file name or a
    value the message quotes is shown escaped)."""

    def __init__(self, errors: list[DesiredStateError]):
        self.errors = errors
        super().__init__("\n".join(one_line(str(e)) for e in errors))


class PlanFileError(ReconcilerError):
    """A saved plan cannot be read."""


class RegistryError(ReconcilerError):
    """The registry is unreachable, refuses our credentials, or answered unexpectedly."""


class StalePlanError(ReconcilerError):
    """The registry changed since the saved plan was made."""


class ApplyFailed(ReconcilerError):
    """Some changes failed to apply; the others were applied and audited."""


class LockError(ReconcilerError):
    """The registry lock (reconciler/apply/lock.py) could not be taken, kept or released."""


class LockTimeout(LockError):
    """Another apply holds the registry lock and did not release it in time."""


class WritesStopped(ReconcilerError):
    """This apply must not write again: it lost the registry lock, or the process was interrupted."""


class LockLost(LockError, WritesStopped):
    """This apply no longer holds the registry lock: it must not write again."""


class GitHubError(ReconcilerError):
    """GitHub refused a request, or the Actions environment (or its git checkout) lacks what a command needs.

    Declared here, not in reconciler/github/, so that plain git access (reconciler/git.py) raises it
    without importing the GitHub package."""
