"""GitHub Actions expressions, evaluated by GitHub's evaluator (@actions/expressions) in one Node process.

    with Evaluator() as ev:
        ev.template("v${{ 1 + 1 }}", {})                      -> Result(value="v2", ...)
        ev.condition("failure()", ctx, Status(success=False, failure=True)).truthy -> True

A lone `${{ x }}` keeps x's type (a boolean `continue-on-error`, an object `fromJSON`); anything else
is a string. `condition` applies GitHub's rule that an `if:` without a status function means
`success() && (...)`.
"""

from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from .npm import JS_DIR, ensure_node_modules, node_binary


class ExpressionError(ValueError):
    """GitHub would refuse this expression (syntax, unknown function or context) or fail evaluating it."""


@dataclass(frozen=True)
class Status:
    """What the status functions answer at this point of the job."""

    success: bool = True
    failure: bool = False
    cancelled: bool = False


@dataclass(frozen=True)
class Result:
    value: Any  # JSON: what the expression evaluated to
    string: str  # its string form, as GitHub writes it into a `run:` script or an env var
    truthy: bool


class Evaluator:
    def __init__(self) -> None:
        ensure_node_modules()
        self._proc = subprocess.Popen(
            [node_binary(), str(JS_DIR / "evaluate.mjs")],
            cwd=JS_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lock = threading.Lock()
        self._next = 0

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._proc.wait(timeout=10)

    def template(self, text: str, context: dict[str, Any], status: Status | None = None) -> Result:
        return self._ask("template", text, context, status or Status())

    def condition(self, text: str, context: dict[str, Any], status: Status | None = None) -> Result:
        return self._ask("condition", text, context, status or Status())

    def expression(self, text: str, context: dict[str, Any], status: Status | None = None) -> Result:
        return self._ask("expression", text, context, status or Status())

    def _ask(self, kind: str, text: str, context: dict[str, Any], status: Status) -> Result:
        with self._lock:
            self._next += 1
            request = {"id": self._next, "kind": kind, "text": text, "context": context, "status": status.__dict__}
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        if not line:
            raise ExpressionError(f"the expression evaluator exited (code {self._proc.poll()})")
        reply = json.loads(line)
        if not reply["ok"]:
            raise ExpressionError(f"{text!r}: {reply['error']}")
        return Result(reply["value"], reply["string"], reply["truthy"])
