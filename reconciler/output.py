"""Everything the process prints, logs or warns passes through reconciler/masking.py's `mask`: the
error handler (reconciler/error_handler.py) runs every command inside `masked_output()`.

- sys.stdout and sys.stderr are replaced by streams that mask each line before it is written, so
  whatever writes to them (click, Rich, print, MLflow's own `sys.stdout.write` and its logging
  stream, which looks sys.stderr up at every write) is masked; a line is written when it ends or
  the stream is flushed.
- Log records are masked when they are made (`logging.setLogRecordFactory`): message, arguments,
  traceback and stack. A filter on the root logger's handlers would miss MLflow's, alembic's and
  SQLAlchemy's lines: MLflow gives those loggers a handler of their own and `propagate = False`
  (mlflow/utils/logging_utils.py, `_configure_mlflow_loggers`), and a handler made before this
  context may hold the original stream.
- Warnings are formatted, masked and written to (masked) sys.stderr (`warnings.showwarning`).

Standard output that cannot be written (a full disk, a pipe closed early: `| head`) raises
`OutputLost` wherever the command is, in every format: the masked stream writes its bytes itself,
to the end, because a large write the pipe's reader stops taking is cut short without an error by
Python's text layer, and nothing written after would fail. The error handler turns it into exit 1.
"""

from __future__ import annotations

import codecs
import errno
import io
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TextIO

from reconciler.masking import mask


class OutputLost(BaseException):
    """Standard output cannot be written: `closed` (the reader went away: exit 1 silently, as when
    the output pipe closes early) or another error (a full disk). Not an Exception: no `except
    Exception` handler swallows it and goes on printing; the error handler reports it."""

    def __init__(self, error: OSError):
        self.closed = isinstance(error, BrokenPipeError)
        reason = error.strerror or str(error) or type(error).__name__
        full = error.errno in (errno.ENOSPC, errno.EDQUOT)
        what = "free some space or redirect it elsewhere" if full else "redirect it elsewhere"
        super().__init__(f"cannot write the output: {reason[:1].lower()}{reason[1:]}; {what}")


class MaskedStream(io.TextIOBase):
    """A text stream that masks what it passes on to `inner`, a line at a time. As standard output
    (`output`), it raises OutputLost when `inner` cannot take it all."""

    def __init__(self, inner: TextIO, output: bool = False):
        self.inner = inner
        self._pending = ""
        self._buffer = _MaskedBytes(self)
        self._output = output
        self._lost: OSError | None = None
        if output:
            with suppress(OSError, ValueError):
                inner.flush()  # what was written before goes first: this stream writes to inner's bytes

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            lines, _, self._pending = self._pending.rpartition("\n")
            self._send(mask(lines + "\n"))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            text, self._pending = self._pending, ""
            self._send(mask(text))
        self._guarded(self.inner.flush)

    def _send(self, text: str) -> None:
        binary = getattr(self.inner, "buffer", None) if self._output else None
        if binary is None:
            self._guarded(lambda: self.inner.write(text))
            return
        data = memoryview(text.encode(self.encoding, self.errors or "strict"))

        def write_all() -> None:
            rest = data
            while rest:  # a pipe's write may take part of it (its reader stopped): the next one fails
                n = binary.write(rest)
                if not n:
                    raise OSError(errno.EIO, "the output takes nothing")
                rest = rest[n:]
            if getattr(self.inner, "line_buffering", False):  # a terminal: each line as it comes
                binary.flush()

        self._guarded(write_all)

    def _guarded(self, write: Callable[[], object]) -> None:
        if not self._output:
            write()
            return
        if self._lost is not None:
            raise OutputLost(self._lost)
        try:
            write()
        except OSError as e:
            self._lost = e
            _discard(self.inner)
            raise OutputLost(e) from None

    @property
    def buffer(self) -> _MaskedBytes:
        return self._buffer

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.inner, "errors", None)

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    def writable(self) -> bool:
        return True


class _MaskedBytes(io.RawIOBase):
    """The `buffer` of a MaskedStream: bytes are decoded and masked with the text."""

    def __init__(self, text: MaskedStream):
        self._text = text
        self._decoder: codecs.IncrementalDecoder | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self._decoder is None:
            self._decoder = codecs.getincrementaldecoder(self._text.encoding)("surrogateescape")
        chunk = bytes(data)
        self._text.write(self._decoder.decode(chunk))
        return len(chunk)

    def flush(self) -> None:
        self._text.flush()


def _discard(stream: TextIO) -> None:
    """Point the lost output's descriptor at /dev/null: what its buffers still hold goes there when
    the interpreter flushes them at exit, not into a second error."""
    with suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)


def _masked_record_factory(make: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = make(*args, **kwargs)
        try:
            record.msg, record.args = mask(record.getMessage()), None
        except Exception:  # a malformed logging call: logging reports it; show nothing of its arguments
            record.msg, record.args = mask(str(record.msg)), None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return record

    return factory


def _show_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    text = mask(warnings.formatwarning(message, category, filename, lineno, line))
    (file or sys.stderr).write(text)


@contextmanager
def masked_output() -> Iterator[None]:
    """Mask everything printed, logged or warned until the block ends (then flush and restore)."""
    if isinstance(sys.stdout, MaskedStream):  # nested: the outer block masks already
        yield
        return
    saved = sys.stdout, sys.stderr, logging.getLogRecordFactory(), warnings.showwarning
    sys.stdout, sys.stderr = MaskedStream(saved[0], output=True), MaskedStream(saved[1])
    logging.setLogRecordFactory(_masked_record_factory(saved[2]))
    warnings.showwarning = _show_warning
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with suppress(OSError, ValueError, OutputLost):  # a closed pipe: nothing more can be shown anyway
                stream.flush()
        sys.stdout, sys.stderr = saved[0], saved[1]
        logging.setLogRecordFactory(saved[2])
        warnings.showwarning = saved[3]
