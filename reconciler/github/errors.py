"""Errors of the GitHub commands: one line, what happened and what to do."""

from __future__ import annotations

from reconciler.errors import GitHubError, ReconcilerError

__all__ = ["GitHubError", "Refused"]


class Refused(ReconcilerError):
    """The merge is not applied: no reviewed plan, missing approvals, or a plan that differs."""
