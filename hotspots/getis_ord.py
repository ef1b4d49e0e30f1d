"""Getis-Ord Gi* hot spots on H3 cells: k-ring weights, analytical z, linear-time permutations.

Gi* is computed with binary weights that include the cell itself (``w_ii = 1``),
which is what ArcGIS *Hot Spot Analysis* and PySAL
``esda.G_Local(y, w, transform="B", star=True)`` compute. With ``n`` cells,
mean ``xbar``, population standard deviation ``s`` (``ddof=0``) and
``W_i = sum_j w_ij``::

    z_i = (sum_j w_ij x_j - xbar W_i) / (s sqrt((n W_i - W_i^2) / (n - 1)))

Gi* is relative to the study area, so the cells it is computed over matter as
much as the counts: see :func:`study_area_cells`.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.special import ndtr
from scipy.stats import false_discovery_control

from hotspots.errors import ParameterError
from hotspots.grid import _cells_to_str, cells_to_int

__all__ = ["kring_weights", "study_area_cells", "gi_star"]

_BIN_LEVELS = ((0.01, 3), (0.05, 2), (0.10, 1))  # ArcGIS Gi_Bin: 99 %, 95 %, 90 % confidence


def _check_k(k, *, name: str = "k", minimum: int = 1) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < minimum:
        raise ParameterError(
            f"{name} must be an integer >= {minimum} (grid steps: 1 = the six touching cells); got {k!r}"
        )
    return int(k)


def _one_resolution(ints: np.ndarray, *, name: str) -> np.ndarray:
    """The uint64 cells unchanged, after checking they share one H3 resolution."""
    from h3ronpy import cells_resolution

    if len(ints):
        res = np.asarray(cells_resolution(ints))
        if res.min() != res.max():
            found = sorted(set(np.unique(res).tolist()))
            raise ParameterError(f"{name} mixes H3 resolutions {found}; grid everything at one resolution")
    return ints


def _cell_ints(cells, *, name: str) -> np.ndarray:
    """uint64 ids of H3 cell strings at one resolution."""
    return _one_resolution(cells_to_int(np.asarray(cells, dtype=object)), name=name)


def kring_weights(cells: ArrayLike, *, k: int = 1) -> sp.csr_matrix:
    """Binary k-ring weights over H3 cells, self included (the Gi* convention).

    Parameters
    ----------
    cells : array-like of str, shape (n,)
        Distinct H3 cell ids, all at one resolution. Row and column ``i`` of
        the result is ``cells[i]``.
    k : int, default 1
        Grid distance: ``w_ij = 1`` when cell ``j`` is at most ``k`` steps from
        cell ``i`` (``k=1``: itself and its 6 touching cells). Neighbours that
        are not in ``cells`` are dropped.

    Returns
    -------
    scipy.sparse.csr_matrix of float64, shape (n, n)
        Symmetric, ones on the diagonal, sorted column indices.

    Raises
    ------
    ParameterError
        On an invalid or repeated cell id, mixed resolutions, or ``k < 0``.

    Examples
    --------
    >>> import h3
    >>> cells = sorted(h3.grid_disk(h3.latlng_to_cell(51.38, -2.36, 9), 1))
    >>> w = kring_weights(cells, k=1)
    >>> w.shape, w.diagonal().tolist() == [1.0] * 7
    ((7, 7), True)
    >>> sorted(w.sum(axis=1).A1.astype(int).tolist())  # the centre sees all 7, each edge cell 4
    [4, 4, 4, 4, 4, 4, 7]
    """
    return _kring_weights_int(_cell_ints(cells, name="cells"), k=_check_k(k, minimum=0))


def _kring_weights_int(ints: np.ndarray, *, k: int) -> sp.csr_matrix:
    import pyarrow as pa
    from h3ronpy import grid_disk

    n = len(ints)
    index = pd.Index(np.ascontiguousarray(ints).view(np.int64))
    if not index.is_unique:
        raise ParameterError("cells has repeated ids; pass each cell once (e.g. np.unique(cells))")
    if not n:
        return sp.csr_matrix((0, 0), dtype=np.float64)
    disks = pa.array(grid_disk(np.ascontiguousarray(ints), k))  # one disk (unique cells) per row, in row order
    lengths = disks.value_lengths().to_numpy(zero_copy_only=False).astype(np.int64)
    neighbours = disks.flatten().to_numpy(zero_copy_only=False).astype(np.uint64, copy=False)
    col_of = index.get_indexer(neighbours.view(np.int64))  # hash lookup, -1 outside the cell set
    found = col_of >= 0
    rows = np.repeat(np.arange(n, dtype=np.int64), lengths)[found]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    w = sp.csr_matrix((np.ones(len(rows)), col_of[found], indptr), shape=(n, n))
    w.sort_indices()
    return w


def study_area_cells(occupied_cells: ArrayLike, *, mode: str | ArrayLike = "ring:1") -> np.ndarray:
    """The cells to compute Gi* over: occupied cells plus the empty cells around or between them.

    Gi* compares each neighbourhood with the mean of the study area, so
    leaving out empty cells makes low-count areas look hot, and a study area
    that is mostly empty makes every occupied cell look hot. Clip events to
    the area the data covers before counting.

    Parameters
    ----------
    occupied_cells : array-like of str
        H3 cells that have events (repeats allowed).
    mode : {"ring:K", "occupied"} or array-like of str, default "ring:1"
        ``"ring:K"`` adds every cell within ``K`` grid steps of an occupied
        cell (count 0), the neighbourhood PySAL and sfhotspot users get by
        default; ``"occupied"`` uses the cells as given (the frame already
        holds every study-area cell, zeros included); an array of cells, for
        example ``hotspots.grid.boundary_to_cells(force_boundary)``, is every
        cell of the force area, the recommended study area. Occupied cells
        outside that array are kept so no event is lost; clip events to the
        boundary first to drop them.

    Returns
    -------
    ndarray of str
        Sorted, unique H3 cell ids.

    Raises
    ------
    ParameterError
        On an unknown mode, a bad ring size, invalid ids or mixed resolutions.

    Examples
    --------
    >>> import h3
    >>> c = h3.latlng_to_cell(51.38, -2.36, 9)
    >>> len(study_area_cells([c], mode="ring:1")), len(study_area_cells([c], mode="ring:2"))
    (7, 19)
    >>> study_area_cells([c, c], mode="occupied").tolist() == [c]
    True
    """
    ints = np.unique(_cell_ints(occupied_cells, name="occupied_cells"))
    return _cells_to_str(_study_area_ints(ints, mode)).astype(object)


def _study_area_ints(ints: np.ndarray, mode) -> np.ndarray:
    """Study-area cells as sorted unique uint64 (``ints``: unique occupied cells)."""
    from h3ronpy import grid_disk

    if isinstance(mode, str):
        ring = mode[5:] if mode.startswith("ring:") else ""
        if mode == "occupied":
            out = ints
        elif ring.isdigit() and int(ring) >= 1:
            disks = np.asarray(grid_disk(ints, int(ring), flatten=True)) if len(ints) else ints
            out = np.unique(disks.astype(np.uint64, copy=False))
        else:
            raise ParameterError(
                "mode must be 'ring:K' with K >= 1 (e.g. 'ring:1'), 'occupied' or an array of study-area "
                f"cells (boundary_to_cells(boundary)); got {mode!r}"
            )
    else:
        area = _cell_ints(mode, name="mode (study-area cells)")
        if not len(area):
            raise ParameterError("mode is an empty array of cells; pass boundary_to_cells(boundary) or 'ring:1'")
        out = _one_resolution(np.union1d(area, ints), name="study-area cells and occupied_cells together")
    return out


def _gi_star_z(values: np.ndarray, weights) -> np.ndarray:
    """Analytical Gi* z-scores for binary weights with self included.

    ``values`` is (n,) or (n, t) (one column per period); ``weights`` a sparse
    or dense (n, n) binary matrix with ones on the diagonal. A column with no
    spread (all values equal) gets z = 0, as does a cell whose neighbourhood
    is the whole study area (0/0).
    """
    x = np.asarray(values, dtype=np.float64)
    n = x.shape[0]
    wi = np.asarray(weights.sum(axis=1), dtype=np.float64).reshape(n)
    lag = np.asarray(weights @ x, dtype=np.float64).reshape(x.shape)
    xbar = x.mean(axis=0)
    s = x.std(axis=0)
    s = np.where(s <= 1e-12 * np.abs(x).max(axis=0, initial=0.0), 0.0, s)
    if x.ndim == 2:
        wi = wi[:, None]
    num = lag - xbar * wi
    den = s * np.sqrt(np.maximum(n * wi - wi**2, 0.0) / (n - 1))
    z = np.zeros(np.broadcast_shapes(num.shape, den.shape))
    np.divide(num, den, out=z, where=den > 0)
    return z


@nb.njit(cache=True, nogil=True, parallel=True)
def _folded_exceedances(x, indptr, indices, permutations, seed):  # pragma: no cover - numba
    """Per cell: permutations whose Gi* lag is at least as far from its null mean as the observed one.

    Conditional randomisation (Anselin 1995): cell i keeps its own value and
    its ``m_i`` neighbours are replaced by ``m_i`` values drawn without
    replacement from the other ``n - 1`` cells (Floyd's algorithm), so the
    cost is O(n * permutations * m^2), linear in the number of cells. Each
    cell reseeds the generator with ``seed + i``, so results do not depend on
    the number of threads.
    """
    n = len(x)
    total = x.sum()
    out = np.zeros(n, dtype=np.int64)
    for i in nb.prange(n):
        np.random.seed((seed + i) % 4294967296)
        obs = 0.0
        m = 0
        own = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            obs += x[j]
            if j == i:
                own = x[i]
            else:
                m += 1
        mu = own + m * (total - x[i]) / (n - 1)
        dev = abs(obs - mu)
        tol = 1e-9 * (abs(obs) + abs(mu) + 1.0)
        chosen = np.empty(m, dtype=np.int64)
        count = 0
        for _ in range(permutations):
            s = own
            c = 0
            for t in range(n - 1 - m, n - 1):
                v = np.random.randint(0, t + 1)
                for q in range(c):
                    if chosen[q] == v:
                        v = t
                        break
                chosen[c] = v
                c += 1
                s += x[v] if v < i else x[v + 1]
            if abs(s - mu) >= dev - tol:
                count += 1
        out[i] = count
    return out


def _gi_star_p_sim(values: np.ndarray, weights, *, permutations: int, seed=None) -> np.ndarray:
    """Folded (two-sided) pseudo p-values ``(extreme + 1) / (permutations + 1)``, reproducible by seed."""
    w = sp.csr_matrix(weights)
    rng_seed = int(np.random.default_rng(seed).integers(0, 2**31 - 1))
    extreme = _folded_exceedances(
        np.ascontiguousarray(values, dtype=np.float64),
        w.indptr.astype(np.int64),
        w.indices.astype(np.int64),
        int(permutations),
        rng_seed,
    )
    return (extreme + 1.0) / (permutations + 1.0)


def _gi_bins(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """ArcGIS Gi_Bin: +-3 / +-2 / +-1 for p < 0.01 / 0.05 / 0.10, signed by z; 0 otherwise."""
    level = np.zeros(len(z), dtype=np.int64)
    for cut, lvl in reversed(_BIN_LEVELS):
        level[p < cut] = lvl
    return (np.sign(z).astype(np.int64) * level).astype(np.int8)


def gi_star(
    frame: pd.DataFrame,
    *,
    value: str = "count",
    cell_col: str = "h3_cell",
    study_area: str | ArrayLike = "ring:1",
    k: int = 1,
    permutations: int = 0,
    alpha: float = 0.05,
    fdr: bool = True,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Getis-Ord Gi* hot and cold spots over H3 cells, with ArcGIS-style confidence bins.

    Parameters
    ----------
    frame : DataFrame
        One row per cell: ``cell_col`` (H3 id) and ``value`` (count, harm
        weight, ...). Repeated cells are refused: aggregate first.
    value : str, default "count"
        Numeric column to test.
    cell_col : str, default "h3_cell"
        Column of H3 cell ids.
    study_area : {"ring:K", "occupied"} or array-like of str, default "ring:1"
        Cells to compute over, see :func:`study_area_cells`; cells added to
        the frame's get value 0.
    k : int, default 1
        Neighbourhood in grid steps (see :func:`kring_weights`).
    permutations : int, default 0
        When > 0, also compute pseudo p-values by conditional randomisation
        (``gi_p_sim``) and use them instead of ``gi_p``.
    alpha : float, default 0.05
        Significance level for ``gi_significant``.
    fdr : bool, default True
        Judge significance and bins on Benjamini-Hochberg adjusted p-values,
        as ArcGIS *Optimized Hot Spot Analysis* does by default.
    seed : int or numpy.random.Generator, optional
        Seed for the permutations; the same seed gives the same ``gi_p_sim``.

    Returns
    -------
    DataFrame
        A new frame: the frame's cells in their order, then the added cells
        (sorted), with columns

        - ``cell_col`` and ``value`` (0 for added cells);
        - ``gi_z``: Gi* z-score (0 where every value is equal);
        - ``gi_p``: two-sided normal p-value ``2 * (1 - Phi(|z|))`` (esda's
          ``p_norm`` is the one-sided half of this);
        - ``gi_p_sim`` (only when ``permutations > 0``): folded two-sided
          pseudo p-value ``(extreme + 1) / (permutations + 1)``, counting
          permutations whose neighbourhood sum is at least as far from its
          exact null mean ``x_i + (W_i - 1)(sum(x) - x_i)/(n - 1)`` as the
          observed one (esda's ``alternative="folded"``, folded on the exact
          rather than the simulated mean). The statistic and the null are
          esda's ``G_Local(star=True, transform="B")``: the cell keeps its own
          value and ``W_i - 1`` neighbours are drawn without replacement from
          the other ``n - 1`` cells. esda's default ``p_sim`` is instead
          *directed* (one tail, roughly half of this);
        - ``gi_p_fdr``: Benjamini-Hochberg adjusted ``gi_p_sim`` when
          permuting, else of ``gi_p``;
        - ``gi_significant``: ``gi_p_fdr < alpha`` when ``fdr`` else the
          unadjusted p-value ``< alpha``;
        - ``gi_bin`` (int8): ArcGIS ``Gi_Bin``, +-3 / +-2 / +-1 for p below
          0.01 / 0.05 / 0.10 (99 / 95 / 90 % confidence), signed by z, 0
          otherwise. With ``fdr`` the bins use ``gi_p_fdr``: a cell gets a
          bin when BH at that level rejects it, which is ArcGIS's FDR rule.

    Raises
    ------
    ParameterError
        On a missing column, non-numeric or missing values, repeated cells,
        fewer than 3 study-area cells, or an option out of range.

    References
    ----------
    Getis, A. and Ord, J. K. (1992). The analysis of spatial association by use
    of distance statistics. *Geographical Analysis* 24(3), 189-206.
    Ord, J. K. and Getis, A. (1995). Local spatial autocorrelation statistics:
    distributional issues and an application. *Geographical Analysis* 27(4).
    Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate.
    *JRSS B* 57(1), 289-300.

    Examples
    --------
    >>> import h3, pandas as pd
    >>> centre = h3.latlng_to_cell(51.38, -2.36, 9)
    >>> cells = sorted(h3.grid_disk(centre, 4))
    >>> counts = [20 if h3.grid_distance(centre, c) <= 1 else 1 for c in cells]
    >>> out = gi_star(pd.DataFrame({"h3_cell": cells, "count": counts}), study_area="occupied")
    >>> out.loc[out["h3_cell"] == centre, ["gi_bin", "gi_significant"]].values.tolist()
    [[3, True]]
    """
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"frame must be a pandas DataFrame with {cell_col!r} and {value!r} columns")
    missing = [c for c in (cell_col, value) if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"frame has no column(s) {', '.join(missing)}; available: {', '.join(map(str, frame.columns))}; "
            "set cell_col= / value="
        )
    k = _check_k(k)
    if isinstance(permutations, bool) or not isinstance(permutations, int | np.integer) or permutations < 0:
        raise ParameterError(f"permutations must be an integer >= 0 (999 is usual); got {permutations!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ParameterError(f"alpha must be between 0 and 1 (e.g. 0.05); got {alpha!r}")
    x_in = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(x_in).all():
        raise ParameterError(f"frame[{value!r}] has missing or non-numeric values; fill them (0 for no events)")
    ints_in = _cell_ints(frame[cell_col].to_numpy(dtype=object), name=f"frame[{cell_col!r}]")
    if pd.Index(ints_in).has_duplicates:
        raise ParameterError(
            f"frame[{cell_col!r}] repeats cells; aggregate first, e.g. "
            f"frame.groupby({cell_col!r}, as_index=False)[{value!r}].sum()"
        )
    area = _study_area_ints(np.sort(ints_in), study_area)  # ints_in has no repeats (checked above)
    added = np.setdiff1d(area, ints_in, assume_unique=True)
    cells_out = np.concatenate([frame[cell_col].to_numpy(dtype=object), _cells_to_str(added).astype(object)])
    x = np.concatenate([x_in, np.zeros(len(added))])
    n = len(x)
    if n < 3:
        raise ParameterError(f"Gi* needs at least 3 study-area cells; got {n}: widen study_area or use a finer grid")
    w = _kring_weights_int(np.concatenate([ints_in, added]), k=k)
    z = _gi_star_z(x, w)
    p = np.minimum(2.0 * ndtr(-np.abs(z)), 1.0)
    keep_int = frame[value].dtype.kind in "iu"
    out = pd.DataFrame({cell_col: cells_out, value: x.astype(frame[value].dtype) if keep_int else x})
    out["gi_z"] = z
    out["gi_p"] = p
    if permutations:
        p = _gi_star_p_sim(x, w, permutations=permutations, seed=seed)
        out["gi_p_sim"] = p
    p_fdr = false_discovery_control(p, method="bh")
    out["gi_p_fdr"] = p_fdr
    p_used = p_fdr if fdr else p
    out["gi_significant"] = p_used < alpha
    out["gi_bin"] = _gi_bins(z, p_used)
    return out
