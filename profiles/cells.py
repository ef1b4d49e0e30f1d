"""Counting on H3 cells that were computed once (``h3`` uint64 columns of :mod:`profiles.sources`).

No point is indexed here: events carry their cell from :func:`profiles.sources.load_sources`
(through :mod:`hotspots.grid`, the one H3 adapter); these helpers only count and name cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspots.grid import cells_to_int

__all__ = ["cells_to_strings", "StudyArea", "CellGroups", "str_values"]


def cells_to_strings(cells: np.ndarray) -> np.ndarray:
    """uint64 H3 cells as their 15-hex-digit strings (object array).

    Examples
    --------
    >>> cells_to_strings(np.array([617439010317926399], dtype=np.uint64)).tolist()
    ['89195823077ffff']
    """
    return np.array([format(c, "x") for c in np.asarray(cells, dtype=np.uint64).tolist()], dtype=object)


def str_values(col: pd.Series) -> np.ndarray:
    """``col.astype(str)`` as an object array, converting only the distinct values (missing become "nan").

    Examples
    --------
    >>> str_values(pd.Series(["a", None, "a"], dtype="category")).tolist()
    ['a', 'nan', 'a']
    """
    codes, uniques = pd.factorize(col, use_na_sentinel=False)
    names = np.asarray([str(v) for v in np.asarray(uniques, dtype=object)], dtype=object)
    return names[codes] if len(names) else np.zeros(0, dtype=object)


class StudyArea:
    """Every cell of the force area, as strings and sorted uint64, for counting events on it.

    Hex strings of one resolution sort like their integers, so position ``i``
    is the same cell in both forms.

    Examples
    --------
    >>> s = StudyArea(np.array(["89195823073ffff", "89195823077ffff"], dtype=object))
    >>> s.counts(np.array([617439010317926399, 617439010317926399], dtype=np.uint64)).tolist()
    [0, 2]
    """

    def __init__(self, cells: np.ndarray) -> None:
        ints = cells_to_int(cells)
        order = np.argsort(ints, kind="stable")
        self.ints: np.ndarray = ints[order]
        self.cells: np.ndarray = np.asarray(cells, dtype=object)[order]

    def __len__(self) -> int:
        return len(self.ints)

    def positions(self, h3: np.ndarray) -> np.ndarray:
        """Position of each cell in the study area, -1 for cells outside it."""
        h3 = np.asarray(h3, dtype=np.uint64)
        pos = np.searchsorted(self.ints, h3)
        pos = np.minimum(pos, max(len(self.ints) - 1, 0))
        found = (self.ints[pos] == h3) if len(self.ints) else np.zeros(len(h3), bool)
        return np.where(found, pos, -1)

    def counts(self, h3: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Events (or summed weights) per study cell, in study order; events outside are left out."""
        pos = self.positions(h3)
        ok = pos >= 0
        w = None if weights is None else np.asarray(weights, dtype=np.float64)[ok]
        out = np.bincount(pos[ok], weights=w, minlength=len(self.ints))
        return out if weights is not None else out.astype(np.int64)

    def frame(self, h3: np.ndarray) -> pd.DataFrame:
        """``h3_cell``, ``count`` over every study cell (zeros included), in cell order."""
        return pd.DataFrame({"h3_cell": self.cells, "count": self.counts(h3)})


class CellGroups:
    """Rows grouped by (cell, key...), groups sorted by cell then by each key's sorted values.

    ``cells`` (uint64) and ``keys`` hold one value per group; :meth:`count` and
    :meth:`sum` give one number per group. A key may be a Series (factorized
    without converting each row to a Python object).

    Examples
    --------
    >>> g = CellGroups(np.array([5, 3, 5], dtype=np.uint64), np.array(["b", "a", "b"], dtype=object))
    >>> g.cells.tolist(), g.keys[0].tolist(), g.count().tolist(), g.sum(np.array([1.0, 2.0, 0.5])).tolist()
    ([3, 5], ['a', 'b'], [1, 2], [2.0, 1.5])
    """

    def __init__(self, h3: np.ndarray, *keys: np.ndarray | pd.Series) -> None:
        cell_codes, cell_values = pd.factorize(np.asarray(h3, dtype=np.uint64), sort=True)
        combined = cell_codes.astype(np.int64)
        levels = []
        for k in keys:
            c, v = pd.factorize(k if isinstance(k, pd.Series) else np.asarray(k), sort=True)
            combined = combined * max(len(v), 1) + c
            values_k = np.asarray(v)
            levels.append(values_k if np.issubdtype(values_k.dtype, np.number) else np.asarray(v, dtype=object))
        groups, inverse = np.unique(combined, return_inverse=True)
        values = []
        rest = groups
        for v in reversed(levels):
            rest, code = np.divmod(rest, max(len(v), 1))
            values.append(v[code])
        self.cells: np.ndarray = np.asarray(cell_values, dtype=np.uint64)[rest]
        self.keys: list[np.ndarray] = list(reversed(values))
        self._inverse = inverse.ravel()
        self._n = len(groups)

    def count(self) -> np.ndarray:
        """Rows per group (int64)."""
        return np.bincount(self._inverse, minlength=self._n).astype(np.int64)

    def sum(self, weights: np.ndarray) -> np.ndarray:
        """Sum of ``weights`` per group (float64; NaN weights count as 0)."""
        w = np.nan_to_num(np.asarray(weights, dtype=np.float64), nan=0.0)
        return np.bincount(self._inverse, weights=w, minlength=self._n)
