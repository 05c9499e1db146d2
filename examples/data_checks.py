"""Column and range rules of the training data, declared beside the training code (pandera).

The pipeline's first step (`python examples/train.py validate MODEL`) checks the data against
these before anything is trained; a frame that breaks a rule stops the job, naming the column,
the rule and the failing values.
"""

from __future__ import annotations

import pandera.pandas as pa

_MEASURE = pa.Column(float, [pa.Check.gt(0), pa.Check.lt(30)], nullable=False)

IRIS = pa.DataFrameSchema(
    {
        "sepal length (cm)": _MEASURE,
        "sepal width (cm)": _MEASURE,
        "petal length (cm)": _MEASURE,
        "petal width (cm)": _MEASURE,
        "target": pa.Column(int, pa.Check.isin([0, 1, 2]), nullable=False),
    },
    checks=[pa.Check(lambda df: len(df) >= 100, error="at least 100 rows")],
    strict=True,
    name="iris",
)

_SCALED = pa.Column(float, pa.Check.in_range(-1.0, 1.0), nullable=False)
DIABETES = pa.DataFrameSchema(
    {
        **{c: _SCALED for c in ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")},
        "target": pa.Column(float, pa.Check.in_range(0, 400), nullable=False),
    },
    checks=[pa.Check(lambda df: len(df) >= 300, error="at least 300 rows")],
    strict=True,
    name="diabetes",
)
