"""Secrets in 0 outputs: every secret the suite makes (database, admin and user passwords, signing
keys, tokens) is registered here when it is made, and every output the suite captures (each
subprocess's stdout and stderr, each test's captured output) is checked against those registered
so far. A leak fails the session with where it was found (never the secret itself)."""

from __future__ import annotations

import subprocess
import threading
from typing import Any

_SECRETS: set[str] = set()
_LEAKS: list[str] = []
_LOCK = threading.Lock()
MIN_LENGTH = 8  # shorter test values ("test") are not secrets and would match everywhere


def register(*values: str | None) -> None:
    with _LOCK:
        _SECRETS.update(v for v in values if v and len(v) >= MIN_LENGTH)


def check(where: str, text: Any) -> None:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str) or not text:
        return
    with _LOCK:
        found = [s for s in _SECRETS if s in text]
    if found:
        with _LOCK:
            _LEAKS.append(f"{where}: {len(found)} secret(s), e.g. one of {len(found[0])} characters")


def leaks() -> list[str]:
    return list(_LEAKS)


def _command(args: Any) -> str:
    parts = args if isinstance(args, (list, tuple)) else [args]
    return " ".join(str(a) for a in parts[:4])[:120]


def install() -> None:
    """Observe subprocess outputs (the CLI runs as a process in most tests)."""
    run, communicate = subprocess.run, subprocess.Popen.communicate

    def observed_run(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess:
        done = run(*args, **kwargs)
        where = f"output of {_command(done.args)}"
        check(where, done.stdout)
        check(where, done.stderr)
        return done

    def observed_communicate(self: subprocess.Popen, *args: Any, **kwargs: Any) -> Any:
        out, err = communicate(self, *args, **kwargs)
        where = f"output of {_command(self.args)}"
        check(where, out)
        check(where, err)
        return out, err

    subprocess.run = observed_run  # type: ignore[assignment]
    subprocess.Popen.communicate = observed_communicate  # type: ignore[method-assign]


def token(nbytes: int = 24) -> str:
    """A new random secret, registered."""
    import secrets

    value = secrets.token_urlsafe(nbytes)
    register(value)
    return value
