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
"""

from __future__ import annotations

import codecs
import io
import logging
import sys
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, TextIO

from reconciler.masking import mask


class MaskedStream(io.TextIOBase):
    """A text stream that masks what it passes on to `inner`, a line at a time."""

    def __init__(self, inner: TextIO):
        self.inner = inner
        self._pending = ""
        self._buffer = _MaskedBytes(self)

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            lines, _, self._pending = self._pending.rpartition("\n")
            self.inner.write(mask(lines + "\n"))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            text, self._pending = self._pending, ""
            self.inner.write(mask(text))
        self.inner.flush()

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
    sys.stdout, sys.stderr = MaskedStream(saved[0]), MaskedStream(saved[1])
    logging.setLogRecordFactory(_masked_record_factory(saved[2]))
    warnings.showwarning = _show_warning
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with suppress(OSError, ValueError):  # a closed pipe: nothing more can be shown anyway
                stream.flush()
        sys.stdout, sys.stderr = saved[0], saved[1]
        logging.setLogRecordFactory(saved[2])
        warnings.showwarning = saved[3]
