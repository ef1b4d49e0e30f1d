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
import pyarrow as pa
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.special import ndtr

from hotspots.errors import ParameterError, require_memory
from hotspots.grid import cells_resolution, cells_to_arrow, cells_to_int, cells_to_str, grid_disks

__all__ = ["kring_weights", "study_area_cells", "gi_star", "disk_size", "MAX_K"]

_BIN_LEVELS = ((0.01, 3), (0.05, 2), (0.10, 1))  # ArcGIS Gi_Bin: 99 %, 95 %, 90 % confidence
MAX_K = 50  # grid steps: at resolution 11 (~25 m edges) about 2 km, at 9 about 17 km; beyond any hot-spot scale
MAX_PERMUTATIONS = 10_000_000
_BYTES_PER_DISK_CELL = 24  # h3ronpy's disk (uint64) and the CSR index (int64), with headroom: 16 measured


def _check_k(k, *, name: str = "k", minimum: int = 1) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not minimum <= k <= MAX_K:
        raise ParameterError(
            f"{name} must be an integer >= {minimum} and <= {MAX_K} (grid steps: 1 = the six touching cells; for a "
            f"wider neighbourhood use a coarser resolution); got {k!r}"
        )
    return int(k)


def disk_size(k: int) -> int:
    """Cells within ``k`` grid steps of a hexagon, itself included: ``3k(k + 1) + 1``.

    Examples
    --------
    >>> [disk_size(k) for k in (0, 1, 2, 10)]
    [1, 7, 19, 331]
    """
    return 3 * k * (k + 1) + 1


def _require_disk_memory(n_cells: int, k: int, *, name: str) -> None:
    """Refuse up front k-ring disks of ``n_cells`` cells that would not fit the memory budget."""
    need = _BYTES_PER_DISK_CELL * n_cells * disk_size(k)
    require_memory(
        need,
        what=f"the {name}={k} neighbourhoods of {n_cells:,} H3 cells ({disk_size(k):,} cells each)",
        fix=f"use a smaller {name} or a coarser H3 resolution (each step coarser covers about 7 times the area)",
    )


def _one_resolution(ints: np.ndarray, *, name: str) -> np.ndarray:
    """The uint64 cells unchanged, after checking they share one H3 resolution."""
    if len(ints):
        res = cells_resolution(ints)
        if res.min() != res.max():
            found = sorted(set(np.unique(res).tolist()))
            raise ParameterError(f"{name} mixes H3 resolutions {found}; grid everything at one resolution")
    return ints


def _cell_ints(cells, *, name: str) -> np.ndarray:
    """uint64 ids of H3 cell strings at one resolution."""
    return _one_resolution(cells_to_int(np.asarray(cells, dtype=object)), name=name)


def _column_cells(col: pd.Series, *, name: str):
    """uint64 ids of a column of H3 cell strings at one resolution, and the column as an Arrow string array.

    A column pandas already holds in Arrow (the ``str`` dtype of pandas 3) is
    parsed without making a Python string per cell.
    """
    try:
        cells = pa.array(col, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        cells = None
    text = cells is not None and (pa.types.is_string(cells.type) or pa.types.is_large_string(cells.type))
    if not text or not len(cells) or cells.null_count:
        ints = _cell_ints(col.to_numpy(dtype=object), name=name)  # cells_to_int's checks and messages
        return ints, pa.array(col.to_numpy(dtype=object))
    try:
        ints = cells_to_int(cells)
    except ParameterError:
        ints = _cell_ints(col.to_numpy(dtype=object), name=name)  # raises cells_to_int's message
    return _one_resolution(ints, name=name), cells


def _cells_column(cells, added: np.ndarray):
    """The output cell column: ``cells`` (Arrow strings) then the ``added`` uint64 cells as strings.

    Its dtype is the one pandas infers for Python strings (``str`` in pandas 3, object before).
    """
    parts = [cells.cast(pa.large_string())]
    if len(added):
        parts.append(cells_to_arrow(added).cast(pa.large_string()))
    dtype = pd.Series(np.array([""], dtype=object)).dtype
    return pd.array(pa.concat_arrays(parts), dtype=dtype)


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
    ints = _cell_ints(cells, name="cells")
    k = _check_k(k, minimum=0)
    _require_disk_memory(len(ints), k, name="k")
    return _kring_weights_int(ints, k=k)


@nb.njit(cache=True, nogil=True, inline="always")
def _mix64(key):  # pragma: no cover - numba
    """MurmurHash3's 64-bit finaliser: H3 ids differ only in a few digit bits, so spread them first."""
    key ^= key >> np.uint64(33)
    key *= np.uint64(0xFF51AFD7ED558CCD)
    key ^= key >> np.uint64(33)
    key *= np.uint64(0xC4CEB9FE1A85EC53)
    key ^= key >> np.uint64(33)
    return key


@nb.njit(cache=True, nogil=True)
def _hash_index(keys):  # pragma: no cover - numba
    """Open-addressing (linear probing) hash table from each uint64 key to its position in ``keys``.

    Returns ``(table, repeated)``: ``table[slot] = (key as int64, position)``,
    position -1 for an empty slot, at most half full; ``repeated`` is the
    position of the first key seen twice, -1 when all are distinct.
    """
    size = 16
    while size < 2 * len(keys):
        size *= 2
    table = np.empty((size, 2), dtype=np.int64)
    table[:, 1] = -1
    mask = np.uint64(size - 1)
    for i in range(len(keys)):
        key = keys[i]
        slot = np.int64(_mix64(key) & mask)
        while table[slot, 1] >= 0:
            if table[slot, 0] == np.int64(key):
                return table, i
            slot = (slot + 1) & (size - 1)
        table[slot, 0] = np.int64(key)
        table[slot, 1] = i
    return table, -1


@nb.njit(cache=True, nogil=True, inline="always")
def _hash_find(table, key):  # pragma: no cover - numba
    """Position of uint64 ``key`` in a :func:`_hash_index` table, -1 if absent."""
    size = len(table)
    slot = np.int64(_mix64(key) & np.uint64(size - 1))
    while table[slot, 1] >= 0:
        if table[slot, 0] == np.int64(key):
            return table[slot, 1]
        slot = (slot + 1) & (size - 1)
    return -1


@nb.njit(cache=True, nogil=True)
def _disks_to_csr(table, ints, offsets, neighbours):  # pragma: no cover - numba
    """CSR ``(indptr, indices)``: row ``i`` holds the positions of disk ``i``'s cells that are in the table, sorted.

    ``ints[i]`` is the cell of disk ``i`` (at position ``i``), found without a lookup.
    """
    n = len(offsets) - 1
    indptr = np.zeros(n + 1, dtype=np.int64)
    indices = np.empty(len(neighbours), dtype=np.int64)
    p = 0
    for i in range(n):
        start = p
        for q in range(offsets[i], offsets[i + 1]):
            key = neighbours[q]
            j = i if key == ints[i] else _hash_find(table, key)
            if j < 0:
                continue
            r = p  # insertion sort: a k=1 disk has at most 7 cells
            while r > start and indices[r - 1] > j:
                indices[r] = indices[r - 1]
                r -= 1
            indices[r] = j
            p += 1
        indptr[i + 1] = p
    return indptr, indices[:p]


@nb.njit(cache=True, nogil=True)
def _not_in_table(table, keys):  # pragma: no cover - numba
    """The uint64 keys that are not in the table (repeats kept, input order)."""
    out = np.empty(len(keys), dtype=np.uint64)
    c = 0
    for q in range(len(keys)):
        if _hash_find(table, keys[q]) < 0:
            out[c] = keys[q]
            c += 1
    return out[:c]


def _sorted_unique(ints: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique`` without its hashing overhead)."""
    s = np.sort(ints)
    return s[np.concatenate([[True], s[1:] != s[:-1]])] if len(s) else s


def _hash_cells(ints: np.ndarray):
    """:func:`_hash_index` of distinct cells; raises on a repeated id."""
    table, repeated = _hash_index(np.ascontiguousarray(ints, dtype=np.uint64))
    if repeated >= 0:
        raise ParameterError("cells has repeated ids; pass each cell once (e.g. np.unique(cells))")
    return table


def _kring_csr(ints: np.ndarray, *, k: int, head=None) -> tuple[np.ndarray, np.ndarray]:
    """Binary k-ring weights as CSR ``(indptr, indices)``, self included, columns sorted in each row.

    ``head``, the ``(offsets, cells)`` :func:`hotspots.grid.grid_disks` of the first cells of
    ``ints`` at this ``k`` when already computed, is reused.
    """
    table = _hash_cells(ints)
    if head is None:
        offsets, cells = grid_disks(ints, k)
    else:
        tail_offsets, tail_cells = grid_disks(ints[len(head[0]) - 1 :], k)
        offsets = np.concatenate([head[0], head[0][-1] + tail_offsets[1:]])
        cells = np.concatenate([head[1], tail_cells])
    return _disks_to_csr(table, np.ascontiguousarray(ints, dtype=np.uint64), offsets, cells)


def _kring_weights_int(ints: np.ndarray, *, k: int) -> sp.csr_matrix:
    n = len(ints)
    indptr, indices = _kring_csr(ints, k=k)
    return sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(n, n))


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
    return cells_to_str(_study_area_ints(ints, mode)).astype(object)


def _study_area_ints(ints: np.ndarray, mode) -> np.ndarray:
    """Study-area cells as sorted unique uint64 (``ints``: unique occupied cells)."""
    added, _ = _study_area_added(ints, mode)
    return np.sort(np.concatenate([ints, added]))


def _study_area_added(ints: np.ndarray, mode) -> tuple[np.ndarray, tuple[int, tuple] | None]:
    """Study-area cells that are not in ``ints`` (unique occupied cells, any order), sorted uint64.

    The second item is ``(K, disks)`` for a ``"ring:K"`` mode: the
    :func:`hotspots.grid.grid_disks` of ``ints`` at ``K``, for the weights to reuse; else None.
    """
    if isinstance(mode, str):
        ring = mode[5:] if mode.startswith("ring:") else ""
        if mode == "occupied":
            return np.zeros(0, dtype=np.uint64), None
        if ring.isdigit() and 1 <= int(ring) <= MAX_K:
            _require_disk_memory(len(ints), int(ring), name="ring:K K")
            disks = grid_disks(ints, int(ring))
            outside = _not_in_table(_hash_cells(ints), disks[1])
            return _sorted_unique(outside), (int(ring), disks)
        raise ParameterError(
            f"mode must be 'ring:K' with K >= 1 and <= {MAX_K} (e.g. 'ring:1'), 'occupied' or an array of study-area "
            f"cells (boundary_to_cells(boundary)); got {mode!r}"
        )
    area = _cell_ints(mode, name="mode (study-area cells)")
    if not len(area):
        raise ParameterError("mode is an empty array of cells; pass boundary_to_cells(boundary) or 'ring:1'")
    area = _one_resolution(np.union1d(area, ints), name="study-area cells and occupied_cells together")
    return np.setdiff1d(area, ints), None


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
    return _z_from_lag(x, lag, wi)


@nb.njit(cache=True, nogil=True)
def _csr_row_sums(x, indptr, indices):  # pragma: no cover - numba
    """``W @ x`` for binary CSR weights, summed in column order like scipy's sparse product."""
    n = len(indptr) - 1
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s += x[indices[p]]
        out[i] = s
    return out


def _gi_star_z_csr(x: np.ndarray, indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """:func:`_gi_star_z` of a float64 (n,) vector for binary CSR weights, without building the matrix."""
    return _z_from_lag(x, _csr_row_sums(x, indptr, indices), np.diff(indptr).astype(np.float64))


def _z_from_lag(x: np.ndarray, lag: np.ndarray, wi: np.ndarray) -> np.ndarray:
    """Gi* z from the values, their neighbourhood sums ``W @ x`` and the neighbourhood sizes ``W_i``."""
    n = x.shape[0]
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


def _bh_adjust(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values of a 1-d array, as ``scipy.stats.false_discovery_control(p)``.

    One sort instead of scipy's two (it sorts again to restore the order).
    """
    m = len(p)
    if m <= 1:
        return np.array(p, dtype=np.float64)
    order = np.argsort(p)
    ps = p[order] * (m / np.arange(1, m + 1, dtype=np.float64))
    np.minimum.accumulate(ps[::-1], out=ps[::-1])
    out = np.empty(m, dtype=np.float64)
    out[order] = np.clip(ps, 0.0, 1.0)
    return out


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
    return _gi_star_p_sim_csr(values, w.indptr, w.indices, permutations=permutations, seed=seed)


def _gi_star_p_sim_csr(values, indptr, indices, *, permutations: int, seed=None) -> np.ndarray:
    """:func:`_gi_star_p_sim` for binary CSR weights given as ``(indptr, indices)``."""
    rng_seed = int(np.random.default_rng(seed).integers(0, 2**31 - 1))
    extreme = _folded_exceedances(
        np.ascontiguousarray(values, dtype=np.float64),
        np.asarray(indptr, dtype=np.int64),
        np.asarray(indices, dtype=np.int64),
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
    if (
        isinstance(permutations, bool)
        or not isinstance(permutations, int | np.integer)
        or not 0 <= permutations <= MAX_PERMUTATIONS
    ):
        raise ParameterError(
            f"permutations must be an integer >= 0 and <= {MAX_PERMUTATIONS:,} (999 is usual); got {permutations!r}"
        )
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.floating) or not 0 < alpha < 1:
        raise ParameterError(f"alpha must be between 0 and 1 (e.g. 0.05); got {alpha!r}")
    x_in = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(x_in).all():
        raise ParameterError(f"frame[{value!r}] has missing or non-numeric values; fill them (0 for no events)")
    ints_in, cells_in = _column_cells(frame[cell_col], name=f"frame[{cell_col!r}]")
    if _hash_index(ints_in)[1] >= 0:
        raise ParameterError(
            f"frame[{cell_col!r}] repeats cells; aggregate first, e.g. "
            f"frame.groupby({cell_col!r}, as_index=False)[{value!r}].sum()"
        )
    added, ring = _study_area_added(ints_in, study_area)  # ints_in has no repeats (checked above)
    x = np.concatenate([x_in, np.zeros(len(added))])
    n = len(x)
    if n < 3:
        raise ParameterError(f"Gi* needs at least 3 study-area cells; got {n}: widen study_area or use a finer grid")
    head = ring[1] if ring is not None and ring[0] == k else None  # the study area's disks are the weights' too
    if head is None:
        _require_disk_memory(n, k, name="k")
    indptr, indices = _kring_csr(np.concatenate([ints_in, added]), k=k, head=head)
    z = _gi_star_z_csr(x, indptr, indices)
    p = np.minimum(2.0 * ndtr(-np.abs(z)), 1.0)
    keep_int = frame[value].dtype.kind in "iu"
    out = pd.DataFrame(
        {cell_col: _cells_column(cells_in, added), value: pd.Series(x).astype(frame[value].dtype) if keep_int else x}
    )
    out["gi_z"] = z
    out["gi_p"] = p
    if permutations:
        p = _gi_star_p_sim_csr(x, indptr, indices, permutations=permutations, seed=seed)
        out["gi_p_sim"] = p
    p_fdr = _bh_adjust(p)
    out["gi_p_fdr"] = p_fdr
    p_used = p_fdr if fdr else p
    out["gi_significant"] = p_used < alpha
    out["gi_bin"] = _gi_bins(z, p_used)
    return out
