"""The pure half of the smoke test: an answer judged against the output signature."""

from __future__ import annotations

import pytest

from reconciler.smoke.check import Column, Expected, payload_rows, problems

NAMED = Expected(columns=(Column("label", "string"), Column("score", "double")))
ONE = Expected(columns=(Column(None, "double"),))
VECTOR = Expected(tensor_shape=(-1, 3))


@pytest.mark.parametrize(
    ("payload", "rows"),
    [
        ({"dataframe_split": {"columns": ["a"], "data": [[1], [2]]}}, 2),
        ({"dataframe_records": [{"a": 1}]}, 1),
        ({"instances": [[1, 2], [3, 4], [5, 6]]}, 3),
        ({"inputs": {"a": [1, 2, 3, 4]}}, 4),
        ({"something": 1}, None),
    ],
)
def test_payload_rows(payload: dict, rows: int | None) -> None:
    assert payload_rows(payload) == rows


@pytest.mark.parametrize(
    ("answer", "expected", "rows_in", "found"),
    [
        ({"predictions": [{"label": "a", "score": 0.5}]}, NAMED, 1, ()),
        ({"predictions": {"label": ["a"], "score": [1]}}, NAMED, 1, ()),  # columns; an integer is a double
        (
            {"predictions": [{"label": "a"}]},
            NAMED,
            1,
            ("row 0: columns ['label'], the signature says ['label', 'score']",),
        ),
        (
            {"predictions": [{"label": 3, "score": 0.5}]},
            NAMED,
            1,
            ("row 0: 'label' is an integer, the signature says string",),
        ),
        ({"predictions": [1.5, 2.5]}, ONE, 2, ()),
        ({"predictions": [1.5]}, ONE, 2, ("1 rows returned for 2 input rows",)),
        ({"predictions": ["x"]}, ONE, 1, ("row 0: the output is a string, the signature says double",)),
        ({"predictions": [[1.0, 2.0]]}, ONE, 1, ("row 0: 2 output columns, the signature says 1",)),
        ({"predictions": [True]}, ONE, 1, ("row 0: the output is boolean, the signature says double",)),
        ({"predictions": [[1, 2, 3]]}, VECTOR, 1, ()),
        ({"predictions": [[1, 2]]}, VECTOR, 1, ("row 0: shape [2], the signature says [3] per row",)),
        (
            {"predictions": [{"a": 0, "b": 1}]},
            Expected(tensor_shape=(-1,)),
            1,
            ("row 0: 2 output columns, the signature says 1",),
        ),
        ({"predictions": [None]}, ONE, 1, ()),  # a missing value is allowed
        ({"nothing": []}, ONE, 1, ("the answer has no 'predictions' key",)),
        ({"predictions": [1, 2]}, Expected(), 2, ()),  # no output signature: rows only
    ],
)
def test_problems(answer: dict, expected: Expected, rows_in: int, found: tuple[str, ...]) -> None:
    assert problems(answer, expected, rows_in) == found


def test_problems_are_capped() -> None:
    found = problems({"predictions": ["x"] * 50}, ONE, 50)
    assert len(found) == 5 and found[0] == "row 0: the output is a string, the signature says double"
