"""Judge a scoring answer against the version's output signature. Pure: plain JSON values in,
problems (one sentence each) out; run.py turns MLflow's signature into an `Expected`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_PROBLEMS = 5


@dataclass(frozen=True)
class Column:
    name: str | None  # None: an unnamed column (a bare array output)
    type: str  # MLflow's DataType name: double, float, long, integer, boolean, string, binary, datetime


@dataclass(frozen=True)
class Expected:
    """The output signature: columns (a column-based schema) or a tensor shape; neither: no signature."""

    columns: tuple[Column, ...] = ()
    tensor_shape: tuple[int, ...] | None = None

    @property
    def declared(self) -> bool:
        return bool(self.columns) or self.tensor_shape is not None


def payload_rows(payload: Mapping[str, Any]) -> int | None:
    """Rows in a scoring-server request (dataframe_split, dataframe_records, instances, inputs)."""
    if "dataframe_split" in payload:
        return len(payload["dataframe_split"].get("data", []))
    for key in ("dataframe_records", "instances", "inputs"):
        value = payload.get(key)
        if isinstance(value, list):
            return len(value)
        if isinstance(value, Mapping) and value:
            first = next(iter(value.values()))
            return len(first) if isinstance(first, list) else 1
    return None


def rows_of(predictions: Any) -> list[Any]:
    """The answer's rows: a list as it is; a mapping of columns turned into records."""
    if isinstance(predictions, list):
        return predictions
    if isinstance(predictions, Mapping):
        columns = {k: v if isinstance(v, list) else [v] for k, v in predictions.items()}
        n = max((len(v) for v in columns.values()), default=0)
        return [{k: v[i] if i < len(v) else None for k, v in columns.items()} for i in range(n)]
    return [predictions]


def problems(answer: Mapping[str, Any], expected: Expected, rows_in: int | None) -> tuple[str, ...]:
    if "predictions" not in answer:
        return ("the answer has no 'predictions' key",)
    rows = rows_of(answer["predictions"])
    found: list[str] = []
    if rows_in is not None and len(rows) != rows_in:
        found.append(f"{len(rows)} rows returned for {rows_in} input rows")
    if expected.tensor_shape is not None:
        found += _tensor(rows, expected.tensor_shape)
    elif expected.columns:
        found += _columns(rows, expected.columns)
    return tuple(dict.fromkeys(found))[:MAX_PROBLEMS]


def _columns(rows: Sequence[Any], columns: tuple[Column, ...]) -> list[str]:
    named = [c.name for c in columns if c.name is not None]
    out = []
    for i, row in enumerate(rows):
        cells = _cells(row, columns, named)
        if isinstance(cells, str):
            out.append(f"row {i}: {cells}")
            continue
        for column, value in zip(columns, cells, strict=True):
            if not type_ok(value, column.type):
                label = repr(column.name) if column.name is not None else "the output"
                out.append(f"row {i}: {label} is {_kind(value)}, the signature says {column.type}")
    return out


def _cells(row: Any, columns: tuple[Column, ...], named: list[str]) -> list[Any] | str:
    """The row's values in signature order, or what is wrong with its shape."""
    if named and isinstance(row, Mapping):
        if set(row) != set(named):
            return f"columns {sorted(map(str, row))}, the signature says {sorted(named)}"
        return [row[n] for n in named]
    values = list(row.values()) if isinstance(row, Mapping) else row if isinstance(row, list) else [row]
    if len(values) != len(columns):
        return f"{len(values)} output columns, the signature says {len(columns)}"
    return values


def _tensor(rows: Sequence[Any], shape: tuple[int, ...]) -> list[str]:
    inner = shape[1:]
    out = []
    for i, row in enumerate(rows):
        if isinstance(row, Mapping):  # a DataFrame answer: its columns are the row's values
            row = list(row.values()) if inner else (list(row.values()) if len(row) != 1 else next(iter(row.values())))
        if not inner and isinstance(row, list):
            out.append(f"row {i}: {len(row)} output columns, the signature says 1")
            continue
        got = _shape(row)
        if len(got) != len(inner) or any(w not in (-1, g) for w, g in zip(inner, got, strict=False)):
            out.append(f"row {i}: shape {list(got)}, the signature says {list(inner)} per row")
    return out


def _shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, list):
        return (len(value), *(_shape(value[0]) if value else ()))
    return ()


def type_ok(value: Any, type_name: str) -> bool:
    if value is None:
        return True  # MLflow's schemas allow missing values unless `required`; the scoring server sends null
    if type_name in ("double", "float"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_name in ("long", "integer"):
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name in ("string", "binary", "datetime"):
        return isinstance(value, str)
    return True  # object, array, map types: not judged here


def _kind(value: Any) -> str:
    return {bool: "boolean", int: "an integer", float: "a number", str: "a string"}.get(
        type(value), type(value).__name__
    )
