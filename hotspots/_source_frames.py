"""Checks and reshapes of per-source grid frames (``h3_cell``, ``source``, a value), shared by the fusion modules."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hotspots.errors import ParameterError

__all__ = ["pivot", "require", "single_band"]


def require(frame: pd.DataFrame, columns: Sequence[str], *, name: str) -> None:
    """Raise ParameterError naming the ``columns`` that ``frame`` (called ``name``) lacks and the ones it has."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"{name} has no column(s) {', '.join(missing)}; available: {', '.join(map(str, frame.columns))}"
        )


def single_band(grids: pd.DataFrame, *, name: str) -> None:
    """Raise ParameterError when ``grids`` holds more than one time band."""
    if "band" in grids.columns and grids["band"].nunique(dropna=False) > 1:
        bands = sorted(map(str, grids["band"].unique()))
        raise ParameterError(
            f"{name} mixes time bands {bands}; pass one band, e.g. {name}[{name}['band'] == 'nte']"
        )


def pivot(grids: pd.DataFrame, sources: Sequence[str], value: str) -> tuple[np.ndarray, np.ndarray]:
    """Cells (str, sorted) and a dense (cells, sources) matrix of ``value``, repeats summed."""
    keep = grids["source"].isin(sources).to_numpy()
    cells, cell_values = pd.factorize(grids["h3_cell"].to_numpy()[keep], sort=True)
    src = pd.Index(list(sources)).get_indexer(pd.Index(grids["source"].to_numpy()[keep]))
    vals = pd.to_numeric(grids[value], errors="coerce").to_numpy(dtype=np.float64)[keep]
    if not np.isfinite(vals).all() or (vals < 0).any():
        raise ParameterError(f"grids[{value!r}] must be finite and non-negative; rebuild it with source_grids")
    k = len(sources)
    mat = np.bincount(cells * k + src, weights=vals, minlength=len(cell_values) * k).reshape(len(cell_values), k)
    return np.asarray(cell_values, dtype=object), mat
