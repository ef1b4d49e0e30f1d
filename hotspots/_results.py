"""Small frozen results with a JSON-safe ``to_dict()``, and the checks their functions share."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import fields

import numpy as np
import pandas as pd

from hotspots.errors import ParameterError

__all__ = ["Result", "jsonable", "p_text", "require_columns"]


def jsonable(v):
    """``v`` as JSON-safe Python values: numpy scalars to int/float, NaN/inf to None, tuples/arrays to lists.

    Examples
    --------
    >>> jsonable((np.int64(3), float("nan"), {1: np.float32(0.5)}))
    [3, None, {'1': 0.5}]
    """
    if isinstance(v, tuple | list | np.ndarray):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if not math.isfinite(v) else float(v)
    return v


class Result:
    """Base of the frozen result dataclasses: adds ``to_dict()``."""

    def to_dict(self) -> dict:
        """All fields as JSON-safe Python values (NaN becomes ``None``, tuples become lists)."""
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


def p_text(p: float) -> str:
    """A p-value as it is written in a finding.

    Examples
    --------
    >>> p_text(0.0004), p_text(0.0234), p_text(float("nan"))
    ('p < 0.001', 'p = 0.023', 'p not computable')
    """
    if not math.isfinite(p):
        return "p not computable"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def require_columns(frame: pd.DataFrame, cols: Sequence[str], *, name: str, fix: str) -> None:
    """Raise ParameterError naming the columns of ``cols`` that ``frame`` lacks, what it has, and ``fix``."""
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"{name} has no column(s) {', '.join(map(repr, missing))} (has {', '.join(map(str, frame.columns))}); {fix}"
        )
