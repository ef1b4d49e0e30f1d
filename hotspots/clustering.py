"""Exact DBSCAN for projected points (metres), in O(N) memory.

Gives scikit-learn's ``DBSCAN(eps, min_samples, metric="euclidean")`` answer
without materialising every eps-neighbourhood (gigabytes on dense police
data). Points are binned into square cells of side just under eps/sqrt(2), so
any two points of one cell are within eps; a counting sort (an argsort when
the grid is far larger than the data) orders the points by cell, as row
indices only (coordinates are read through them: no sorted copies). (1) A cell
whose weight reaches ``min_samples`` makes all its points core; elsewhere
weight within eps is counted over the 5x5 block of cells around, pruned by
the cells' bounding boxes: a cell whose box lies within eps of the whole cell
(or, failing that, of the point) counts whole, the rest point by point with
scikit-learn's inclusive test ``dx*dx + dy*dy <= eps*eps``.
(2) Union-find joins all core points of a cell, and two cells at the first
pair of their core points within eps. (3) A border point joins the cluster of
its nearest core point within eps (ties: the earlier row; when every core
point in reach is in one cluster, any core point within eps); the rest are
noise.
On large inputs each step runs over two ranges of cells on two threads (the
union-find keeps each range's roots in the range; the pairs of cells astride
the split are joined after).
Pruning bounds (float32 boxes rounded outward, widened to float64) use the
same floating-point operations as the distances, so
core and noise sets and the clusters of core points equal scikit-learn's;
only border points within eps of two clusters may differ (there scikit-learn
picks by traversal order).

References
----------
Ester, M., Kriegel, H.-P., Sander, J. and Xu, X. (1996). A density-based
algorithm for discovering clusters in large spatial databases with noise. KDD.
Gunawan, A. (2013). A faster algorithm for DBSCAN. Master's thesis, TU Eindhoven.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from hotspots._dbscan import (
    _assign,
    _cell_boxes,
    _connect,
    _connect_across,
    _core_points,
    _distinct,
    _relabel,
    _roots,
    _scatter,
    _sort,
)
from hotspots.errors import ParameterError
from hotspots.grid import unique_points

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["dbscan", "dbscan_labels"]

_SIDE = 0.70710678  # cell side / eps: just under 1/sqrt(2) (>= 0.5, so neighbours are at most two cells away)
_DENSE = 4  # counting sort over the whole grid when it has at most this many cells per point, else argsort
_INT32 = 2**31 - 1  # index arrays are int32 up to this many points (half the memory of int64)
_FEW = 2  # cells of at most this many points are tested point by point, without their box
_TWO = 50_000  # above this many points the cells are split in two ranges, on two threads
_DEDUPE = 0.8  # cluster distinct points, weighted, when a sample has fewer distinct points than this fraction


def _check_params(eps_m, min_samples) -> tuple[float, int]:
    if isinstance(eps_m, bool) or not isinstance(eps_m, Real) or not math.isfinite(eps_m) or eps_m <= 0:
        raise ParameterError(f"eps_m must be a positive distance in metres (e.g. 100); got {eps_m!r}")
    if isinstance(min_samples, bool) or not isinstance(min_samples, Integral) or min_samples < 1:
        raise ParameterError(f"min_samples must be an integer >= 1 (e.g. 15); got {min_samples!r}")
    return float(eps_m), int(min_samples)


def dbscan_labels(
    x: np.ndarray, y: np.ndarray, *, eps_m: float, min_samples: int, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact DBSCAN cluster labels and core flags of projected points.

    Parameters
    ----------
    x, y : ndarray of float, shape (n,)
        Projected coordinates in metres (e.g. EPSG:27700 easting/northing).
    eps_m : float
        Neighbourhood radius in metres, inclusive (``distance <= eps_m``).
    min_samples : int
        Weight within ``eps_m`` (the point itself included) that makes a point core.
    sample_weight : ndarray of float, shape (n,), optional
        Non-negative weight per point, as scikit-learn's ``sample_weight``:
        a point of weight 3 counts as three stacked points. Default 1 each.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        Cluster 0..K-1 numbered in order of first point, -1 for noise.
    is_core : ndarray of bool, shape (n,)
        Whether each point is a core point.

    Raises
    ------
    ParameterError
        On a bad ``eps_m``/``min_samples``, arrays of different lengths,
        non-finite coordinates, or negative or non-finite weights.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.0, 100.0, 200.0, 300.0, 5000.0]) + 350000
    >>> labels, core = dbscan_labels(x, np.full(5, 150000.0), eps_m=100, min_samples=3)
    >>> labels.tolist(), core.tolist()
    ([0, 0, 0, 0, -1], [False, True, True, False, False])
    """
    eps_m, min_samples = _check_params(eps_m, min_samples)
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ParameterError(f"x and y must be 1-D arrays of the same length; got shapes {x.shape} and {y.shape}")
    n = len(x)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ParameterError("x/y contain NaN or infinite coordinates; drop those points first")
    w = None
    if sample_weight is not None:
        w = np.ascontiguousarray(sample_weight, dtype=np.float64)
        if w.shape != x.shape:
            raise ParameterError(f"sample_weight must have one value per point ({n}); got shape {w.shape}")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ParameterError("sample_weight must be finite and >= 0; fill missing weights and drop negatives")
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, bool)
    sample = min(n, 20_000)  # police.uk stacks crimes on map points: then cluster each distinct point once, weighted
    cap = 1 << (2 * sample).bit_length()
    if _distinct(x.view(np.int64), y.view(np.int64), sample, cap) < _DEDUPE * sample:
        codes, first = unique_points(x, y)
        wu = np.bincount(codes, weights=w, minlength=len(first)).astype(np.float64)
        lab_u, core_u = _dbscan(x[first], y[first], wu, eps_m, min_samples)
        return lab_u[codes], core_u[codes]
    return _dbscan(x, y, w, eps_m, min_samples)


_POOL = None  # worker thread for the second half of the cells (kernels release the GIL)


def _on_halves(kernel, args, halves, grid):
    """Run ``kernel(*args, c_lo, c_hi, *grid)`` over each cell range in ``halves``, on two threads if two."""
    if len(halves) == 1:
        kernel(*args, *halves[0], *grid)
        return
    global _POOL
    if _POOL is None:  # one pool for the process: starting threads on every call costs more than small runs
        _POOL = ThreadPoolExecutor(1, thread_name_prefix="dbscan")
    other = _POOL.submit(kernel, *args, *halves[1], *grid)
    kernel(*args, *halves[0], *grid)  # this thread takes the first half
    other.result()


def _dbscan(x, y, w, eps_m, min_samples):
    """Labels and core flags of distinct-or-not points; ``w`` is None (weight 1 each) or one weight per point."""
    n = len(x)
    side = eps_m * _SIDE
    x0, y0 = x.min(), y.min()
    with np.errstate(over="ignore"):
        span_x, span_y = (x.max() - x0) / side, (y.max() - y0) / side  # inf when eps_m is subnormal
    if not (math.isfinite(span_x) and math.isfinite(span_y)) or (span_x + 1.0) * (span_y + 1.0) >= 2.0**62:
        raise ParameterError(
            f"eps_m={eps_m!r} is too small for points spanning {max(x.max() - x0, y.max() - y0):.0f} m; give eps_m "
            "in metres (e.g. 100)"
        )
    ncx, ncy = math.floor(span_x) + 1, math.floor(span_y) + 1
    w = np.zeros(0) if w is None else w
    order = np.empty(n, np.int32 if n <= _INT32 else np.int64)  # sorted position -> row
    key_type = np.empty(0, np.int32 if ncx * ncy <= _INT32 else np.int64)  # occupied cells' grid keys
    keys = np.zeros(0, np.int64)  # none: a counting sort over the whole grid
    if ncx * ncy > _DENSE * n + 1024:  # a sparse grid (points spread far apart): sort the occupied cells' keys
        keys = np.floor((y - y0) / side).astype(np.int64) * ncx + np.floor((x - x0) / side).astype(np.int64)
        order[:] = np.argsort(keys)  # results do not depend on the order within a cell
    ckeys, starts, rank = _sort(x, y, x0, y0, side, ncx, ncy, order, key_type, keys)
    del keys
    eps2 = eps_m * eps_m
    n_cells = len(ckeys)
    split = min(int(np.searchsorted(starts, n // 2)), n_cells)  # two halves with about as many points each
    halves = [(0, split), (split, n_cells)] if n > _TWO else [(0, n_cells)]
    box = np.empty((n_cells, 4), np.float32)
    wsum = np.empty(n_cells if len(w) else 0)
    compact = np.empty(n_cells, np.bool_)
    _on_halves(_cell_boxes, (x, y, w, order, box, wsum, compact, eps2), halves, (starts,))
    grid = (ckeys, rank, starts, box, ncx, ncy, eps2)

    core_s = np.zeros(n, np.bool_)
    _on_halves(_core_points, (x, y, w, order, wsum, compact, float(min_samples), _FEW, core_s), halves, grid)
    del wsum
    parent = np.empty(n, order.dtype)
    first_core = np.empty(n_cells, order.dtype)
    near = np.zeros(n_cells, np.bool_)
    args = (x, y, order, core_s, compact, parent, first_core, near)
    _on_halves(_connect, args, halves, grid)
    _connect_across(*args, halves[-1][0] if len(halves) > 1 else n_cells, *grid)
    _on_halves(_roots, (parent, core_s, starts), halves, ())
    _on_halves(_assign, (x, y, order, core_s, parent, first_core, near, compact), halves, grid)
    del first_core, near, compact, box, ckeys, rank, starts, grid  # before the outputs: a lower peak
    labels = np.empty(n, np.int64)
    core = np.empty(n, np.bool_)
    _scatter(order, parent, core_s, labels, core)
    del order, core_s
    _relabel(labels, parent)  # 0..K-1 in order of first point
    return labels, core


def _numeric(points: pd.DataFrame, col: str, what: str) -> np.ndarray:
    """Column ``col`` (named by argument ``what``) as finite float64, or a ParameterError saying the fix."""
    if col not in points.columns:
        available = ", ".join(map(str, points.columns))
        raise ParameterError(f"points has no column {col!r} (available: {available}); pass the right {what}=")
    series = points[col]
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise ParameterError(
            f"column {col!r} ({what}) is not numeric (dtype {series.dtype}); convert it with pd.to_numeric"
        )
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = int((~np.isfinite(values)).sum())
    if bad:
        raise ParameterError(f"column {col!r} ({what}) has {bad:,} missing or infinite values; fill or drop those rows")
    return values


def _hull_candidates(lab, xy, lo, hi):
    """Points that may be hull vertices: all but those well inside their cluster's extreme-point quadrilateral.

    ``lab`` is sorted and holds every cluster; ``lo``/``hi`` are each cluster's coordinate minima/maxima.
    """
    extremes = []
    for d, bound in ((0, lo), (1, lo), (0, hi), (1, hi)):  # leftmost, lowest, rightmost, highest: anticlockwise
        hit = np.flatnonzero(xy[:, d] == bound[lab, d])
        extremes.append(xy[hit[np.unique(lab[hit], return_index=True)[1]]][lab] - lo[lab])
    rel = xy - lo[lab]
    margin = 1e-9 * ((hi - lo).max(axis=1) ** 2)[lab]  # keep points within rounding of an edge
    inside = np.ones(len(lab), bool)
    for a, b in zip(extremes, extremes[1:] + extremes[:1], strict=True):
        cross = (b[:, 0] - a[:, 0]) * (rel[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (rel[:, 0] - a[:, 0])
        inside &= cross > margin
    return ~inside


def dbscan(
    points: pd.DataFrame,
    *,
    eps_m: float,
    min_samples: int,
    weight: str | None = None,
    x_col: str = "x",
    y_col: str = "y",
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """DBSCAN clusters of projected points: labelled rows and one polygon per cluster.

    Parameters
    ----------
    points : DataFrame or GeoDataFrame
        One row per point (or per stacked map point, see ``weight``), in a
        projected CRS in metres. Coordinates come from ``x_col``/``y_col``;
        a GeoDataFrame without those columns uses its point geometries.
    eps_m : float
        Neighbourhood radius in metres, inclusive.
    min_samples : int
        Weight within ``eps_m`` (the point itself included) that makes a point core.
    weight : str, optional
        Column of non-negative counts or weights (scikit-learn's
        ``sample_weight``): pass police.uk crimes stacked on one snap point
        as one row with their count. Default: every row weighs 1.
    x_col, y_col : str, default "x", "y"
        Coordinate columns (metres, e.g. EPSG:27700).

    Returns
    -------
    labelled : DataFrame or GeoDataFrame
        A copy of ``points`` with ``dbscan_cluster`` (int64, -1 noise,
        clusters 0..K-1 in order of first row) and ``dbscan_core`` (bool).
    clusters : GeoDataFrame
        One row per cluster: ``dbscan_cluster``, ``n_points`` (rows),
        ``weighted_size`` (sum of weights), ``centroid_x``/``centroid_y``
        (weighted mean, metres), ``extent_m`` (longer side of the bounding
        box), ``area_m2`` (convex hull) and ``geometry`` (the convex hull: a
        Point or LineString when the cluster's points are one or collinear).
        CRS copied from ``points`` (None for a plain DataFrame).

    Raises
    ------
    ParameterError
        On a missing or non-numeric column, missing coordinates, a bad
        ``eps_m``/``min_samples``/weight, a geographic CRS, or coordinates that
        look like degrees with no CRS.

    See Also
    --------
    dbscan_labels : the array kernel.

    Examples
    --------
    >>> import pandas as pd
    >>> pts = pd.DataFrame({"x": [350000.0, 350060, 350030, 359000], "y": [150000.0, 150000, 150040, 150000],
    ...                     "crimes": [4, 1, 2, 1]})
    >>> labelled, clusters = dbscan(pts, eps_m=100, min_samples=5, weight="crimes")
    >>> labelled["dbscan_cluster"].tolist()
    [0, 0, 0, -1]
    >>> clusters[["n_points", "weighted_size", "extent_m", "area_m2"]].to_numpy().tolist()
    [[3.0, 7.0, 60.0, 1200.0]]
    """
    import geopandas as gpd
    if not isinstance(points, pd.DataFrame):
        raise ParameterError(f"points must be a DataFrame or GeoDataFrame; got {type(points).__name__}")
    crs = getattr(points, "crs", None) if isinstance(points, gpd.GeoDataFrame) else None
    if crs is not None and crs.is_geographic:
        raise ParameterError(
            f"points are in a geographic CRS ({crs.to_string()}, degrees) but eps_m is metres; "
            "project first: points.to_crs('EPSG:27700')"
        )
    use_geometry = isinstance(points, gpd.GeoDataFrame) and not {x_col, y_col} <= set(points.columns)
    if use_geometry:
        geoms = points.geometry.to_numpy()
        if len(geoms) and not (shapely.get_type_id(geoms) == 0).all():
            raise ParameterError("points geometry must be all Points; pass x_col/y_col or use .centroid")
        x, y = shapely.get_x(geoms), shapely.get_y(geoms)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ParameterError("points has empty or missing geometries; drop those rows")
    else:
        x, y = _numeric(points, x_col, "x_col"), _numeric(points, y_col, "y_col")
    if crs is None and len(x) and np.abs(x).max() <= 180 and np.abs(y).max() <= 90:
        raise ParameterError(
            "coordinates look like degrees (all |x| <= 180, |y| <= 90) and there is no CRS; project to metres "
            "(gpd.points_from_xy(lng, lat, crs='EPSG:4326') then .to_crs('EPSG:27700')), or if these are metres "
            "pass a GeoDataFrame with its projected CRS"
        )
    w = np.ones(len(x)) if weight is None else _numeric(points, weight, "weight")
    if (w < 0).any():
        raise ParameterError(f"weight column {weight!r} has negative values; weights are counts, use >= 0")
    labels, core = dbscan_labels(x, y, eps_m=eps_m, min_samples=min_samples, sample_weight=w)
    labelled = points.assign(dbscan_cluster=labels, dbscan_core=core)

    members = np.flatnonzero(labels >= 0)
    order = members[np.argsort(labels[members], kind="stable")]
    lab, xy, ws = labels[order], np.column_stack([x, y])[order], w[order]
    k = int(labels.max()) + 1 if len(members) else 0
    firsts = np.searchsorted(lab, np.arange(k))
    lo, hi = np.minimum.reduceat(xy, firsts), np.maximum.reduceat(xy, firsts)
    size = np.bincount(lab, weights=ws, minlength=k)
    ws = np.where(size[lab] > 0, ws, 1.0)  # a cluster weighing 0 takes the plain mean
    offset = np.column_stack([np.bincount(lab, weights=ws * (xy[:, d] - lo[lab, d]), minlength=k) for d in (0, 1)])
    centroid = lo + offset / np.bincount(lab, weights=ws, minlength=k)[:, None]
    keep = _hull_candidates(lab, xy, lo, hi)  # building shapely points dominates: pass only possible vertices
    hulls = shapely.convex_hull(shapely.multipoints(xy[keep], indices=lab[keep]))
    table = {
        "dbscan_cluster": np.arange(k, dtype=np.int64),
        "n_points": np.bincount(lab, minlength=k).astype(np.int64),
        "weighted_size": size,
        "centroid_x": centroid[:, 0],
        "centroid_y": centroid[:, 1],
        "extent_m": (hi - lo).max(axis=1),
        "area_m2": shapely.area(hulls),
    }
    clusters = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(hulls, crs=crs), crs=crs)
    return labelled, clusters
