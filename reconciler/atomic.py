"""Write a file whole or not at all: a temporary file beside it, then a rename over it.

Every output path of the CLI (`plan --out`, `import`, `codeowners`) is written here, so the rules
are one: the target must be a regular file or not exist. A symbolic link is refused rather than
replaced (the rename would swap the link for a file and leave its target unwritten) or written
through (its target may be anywhere, and a link in a checkout is exactly what a hostile pull request
can add; `models/` refuses links too). A FIFO, a device, a socket or a directory is refused: it is
not a file that a rename may replace (`--out /dev/full` as root would replace the device node).
`-` is refused too: it reads as standard output, and would make a file named `-`.
The result keeps an existing file's permission bits (and, as root, its owner); a new file gets
what the umask gives (0666 & ~umask), like any file the user creates.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from reconciler.errors import ReconcilerError

_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """`a named pipe (FIFO)`, `a directory`, ...: what a file that is not a regular one is."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


class OutputError(ReconcilerError):
    """An output path that cannot be written as a regular file."""


def check_target(path: Path) -> os.stat_result | None:
    """The target's status (None when it does not exist yet); OutputError unless it is a regular file."""
    if str(path) == "-":  # the usual spelling of standard output: never a file named '-' by surprise
        raise OutputError(
            "'-': writing to standard output is not supported here; give a file name (a file named '-' is ./-)"
        )
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise OutputError(f"{path}: cannot write it ({e.strerror}); check the path and its permissions") from None
    if stat.S_ISREG(st.st_mode):
        return st
    kind = file_kind(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        raise OutputError(
            f"{path}: is {kind} (to {os.readlink(path)}); refusing to replace or write through it: "
            "give the path of a regular file (the link's target itself, if that is what you mean)"
        )
    raise OutputError(f"{path}: is {kind}, not a regular file; refusing to replace it: give the path of a file")


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` (a regular file, or nothing) with `text`, or leave it as it was."""
    existing = check_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_beside(path)
    except OSError as e:
        raise OutputError(
            f"{path}: cannot write it ({e.strerror or e}); check the directory and its permissions"
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            if existing is not None:
                _keep_mode(f.fileno(), existing)
            f.write(text)
        check_target(path)  # it may have changed while we wrote: refuse rather than replace it
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):  # the rename happened, or the file was never made
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise OutputError(f"{path}: cannot write it ({e.strerror or e}); nothing was changed") from None
        raise


def _create_beside(path: Path) -> tuple[int, str]:
    """A new file in the target's directory, created with 0666 so that the umask applies
    (tempfile.mkstemp makes 0600, whatever the umask)."""
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def _keep_mode(fd: int, existing: os.stat_result) -> None:
    os.fchmod(fd, stat.S_IMODE(existing.st_mode))
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # only root may give a file to someone else
        os.fchown(fd, existing.st_uid, existing.st_gid)


class Unreadable(Exception):
    """Why `read_regular` refused a path: `kind` (what it is, when not a regular file), `too_big`, or
    the OSError's `strerror`; each caller words its own one-line error."""

    def __init__(self, kind: str | None = None, too_big: bool = False, strerror: str | None = None):
        super().__init__(kind or strerror or "too big")
        self.kind, self.too_big, self.strerror = kind, too_big, strerror


def read_regular(path: Path, limit: int) -> bytes:
    """`path` read whole if it is a regular file of at most `limit` bytes. Opened without blocking (a
    FIFO does not wait for a writer); read at most one byte past the limit (a file that grows while
    it is read is still bounded). FileNotFoundError passes through; Unreadable for anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as e:
        raise Unreadable(strerror=e.strerror) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable(kind=file_kind(st.st_mode))
        raw = _read_at_most(fd, limit + 1) if st.st_size <= limit else b""
    except OSError as e:
        raise Unreadable(strerror=e.strerror) from None
    finally:
        os.close(fd)
    if st.st_size > limit or len(raw) > limit:
        raise Unreadable(too_big=True)
    return raw


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit and (chunk := os.read(fd, min(limit - size, 2**20))):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
