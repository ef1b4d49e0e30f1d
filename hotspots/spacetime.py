"""Hot spots over time: sfhotspot's persistent / emerging / former / intermittent classes and Mann-Kendall trends.

Both work on a cells x periods cube built from a long frame (one row per
cell and period, as :func:`hotspots.grid.events_to_cells` returns with
``by=["month"]``); a (cell, period) pair with no row counts as 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import ndtr
from scipy.stats import false_discovery_control

from hotspots.errors import ParameterError
from hotspots.getis_ord import _check_k, _gi_star_z, kring_weights, study_area_cells
from hotspots.grid import cells_to_int, cells_to_str

__all__ = ["classify_hotspots", "mann_kendall", "SFHOTSPOT_CLASSES"]

SFHOTSPOT_CLASSES = (
    "persistent hotspot",
    "emerging hotspot",
    "former hotspot",
    "intermittent hotspot",
    "persistent coldspot",
    "emerging coldspot",
    "former coldspot",
    "intermittent coldspot",
    "mixed hot/coldspot",
    "no pattern",
)


def _to_cube(frame, *, cell_col, period_col, value, periods):
    """Cells (first-appearance order), periods (sorted or as given) and the (cells, periods) value array."""
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"frame must be a pandas DataFrame with {cell_col!r}, {period_col!r}, {value!r} columns")
    missing = [c for c in (cell_col, period_col, value) if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"frame has no column(s) {', '.join(missing)}; available: {', '.join(map(str, frame.columns))}; "
            "set cell_col= / period_col= / value="
        )
    x = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(x).all():
        raise ParameterError(f"frame[{value!r}] has missing or non-numeric values; fill them (0 for no events)")
    cell_codes, cells = pd.factorize(frame[cell_col], sort=False)
    if periods is None:
        period_codes, period_index = pd.factorize(frame[period_col], sort=True)
        if (period_codes < 0).any():
            raise ParameterError(f"frame[{period_col!r}] has missing periods; drop or fill those rows")
    else:
        period_index = pd.Index(periods)
        if period_index.has_duplicates:
            raise ParameterError("periods repeats values; give each period once, in time order")
        period_codes = period_index.get_indexer(frame[period_col])
        if (period_codes < 0).any():
            bad = frame[period_col][period_codes < 0].iloc[0]
            raise ParameterError(f"frame[{period_col!r}] has period {bad!r} not in periods; add it or drop those rows")
    n, t = len(cells), len(period_index)
    flat = cell_codes.astype(np.int64) * t + period_codes
    if n and np.bincount(flat, minlength=n * t).max() > 1:
        raise ParameterError(
            f"frame repeats ({cell_col}, {period_col}) pairs; aggregate first, e.g. "
            f"frame.groupby([{cell_col!r}, {period_col!r}], as_index=False)[{value!r}].sum()"
        )
    cube = np.zeros((n, t))
    cube[cell_codes, period_codes] = x
    return np.asarray(cells, dtype=object), period_index, cube


def _holm_rows(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values along each row (R ``p.adjust(method="holm")``)."""
    t = p.shape[1]
    order = np.argsort(p, axis=1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=1) * (t - np.arange(t))
    adj = np.minimum(np.maximum.accumulate(ranked, axis=1), 1.0)
    out = np.empty_like(adj)
    np.put_along_axis(out, order, adj, axis=1)
    return out


def _sfhotspot_classes(hot, cold, *, hotspot_prop, persistent_prop, recent_prop):
    """Class (sfhotspot rules) of each row of boolean (cells, periods) hot / cold significance arrays."""
    t = hot.shape[1]
    recent = int(np.floor(recent_prop * t))
    if t < 2:
        raise ParameterError(f"need at least 2 periods (one recent, one earlier); got {t}: use shorter periods")
    if recent < 1 or t - recent < 1:
        warnings.warn(
            f"recent_prop={recent_prop} of {t} periods is zero periods; the final period is treated as recent. "
            "Raise recent_prop or use more periods",
            UserWarning,
            stacklevel=3,
        )
        recent = 1

    def label(sig, kind):
        prop = sig.sum(axis=1) / t
        # sfhotspot sums R columns (t - recent):t, i.e. the last recent + 1 periods, over `recent`
        recent_share = sig[:, t - recent - 1 :].sum(axis=1) / recent
        older_share = sig[:, : t - recent].sum(axis=1) / (t - recent)
        return np.select(
            [
                prop >= persistent_prop,
                (older_share < hotspot_prop) & (recent_share >= recent_prop),
                (older_share >= hotspot_prop) & (recent_share < hotspot_prop),
                prop >= hotspot_prop,
            ],
            [f"persistent {kind}", f"emerging {kind}", f"former {kind}", f"intermittent {kind}"],
            default="no pattern",
        )

    cat_h, cat_c = label(hot, "hotspot"), label(cold, "coldspot")
    mixed = (cat_h != "no pattern") & (cat_c != "no pattern")
    return np.where(mixed, "mixed hot/coldspot", np.where(cat_h != "no pattern", cat_h, cat_c))


def _check_prop(name, v):
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < 1:
        raise ParameterError(f"{name} must be a number between 0 and 1 (exclusive); got {v!r}")


def classify_hotspots(
    frame: pd.DataFrame,
    *,
    period_col: str = "month",
    value: str = "count",
    cell_col: str = "h3_cell",
    periods: Sequence | None = None,
    study_area: str | ArrayLike = "ring:1",
    k: int = 1,
    hotspot_prop: float = 0.1,
    persistent_prop: float = 0.8,
    recent_prop: float = 0.2,
    critical_p: float = 0.05,
    period_adjust: str = "holm",
) -> pd.DataFrame:
    """Classify cells as persistent, emerging, former or intermittent hot or cold spots (sfhotspot rules).

    Reproduces ``sfhotspot::hotspot_classify`` (R) on H3 cells. For each
    period, Gi* z-scores are computed over the same study area (binary k-ring
    weights with self, as :func:`hotspots.getis_ord.gi_star`) with two-sided
    normal p-values, not adjusted across cells (sfhotspot's default). Each
    cell's p-values are then adjusted across its periods (``period_adjust``;
    sfhotspot passes ``p_adjust_method = NULL`` to ``p.adjust``, which means
    Holm). A period is *hot* for a cell when ``p < critical_p`` and ``z > 0``,
    *cold* when ``p < critical_p`` and ``z <= 0``. With ``T`` periods and
    ``r = floor(recent_prop * T)`` (1, with a warning, if that is 0 or
    ``T``), per cell and separately for hot and cold:

    - ``prop`` = share of all ``T`` periods significant;
    - ``older`` = share of the first ``T - r`` periods significant;
    - ``recent`` = significant periods among the last ``r + 1``, divided by
      ``r`` (sfhotspot's R index ``(T - r):T``; period ``T - r`` is in both
      windows, so ``recent`` can exceed 1).

    The first rule that holds gives the class: persistent if ``prop >=
    persistent_prop``; emerging if ``older < hotspot_prop`` and ``recent >=
    recent_prop``; former if ``older >= hotspot_prop`` and ``recent <
    hotspot_prop``; intermittent if ``prop >= hotspot_prop``; else "no
    pattern". A cell with both a hot and a cold class is "mixed hot/coldspot".

    Parameters
    ----------
    frame : DataFrame
        Long counts: ``cell_col``, ``period_col``, ``value``; one row per
        (cell, period) at most, missing pairs count as 0.
    period_col : str, default "month"
        Period column; sorted values give the time order.
    value : str, default "count"
        Numeric column.
    cell_col : str, default "h3_cell"
        H3 cell column.
    periods : sequence, optional
        Every period in time order, including any with no events (which
        then count as not significant everywhere). Default: the sorted
        distinct values of ``period_col``.
    study_area : {"ring:K", "occupied"} or array-like of str, default "ring:1"
        Cells, the same in every period; see :func:`hotspots.getis_ord.study_area_cells`.
    k : int, default 1
        Gi* neighbourhood in grid steps.
    hotspot_prop, persistent_prop, recent_prop, critical_p : float
        sfhotspot's ``hotspot_classify_params()`` with its defaults
        (0.1, 0.8, 0.2, 0.05); each between 0 and 1.
    period_adjust : {"holm", "bh", "none"}, default "holm"
        Adjustment of each cell's p-values across periods.

    Returns
    -------
    DataFrame
        One row per study-area cell (frame cells first, then added cells):
        ``cell_col``, ``st_class`` (one of :data:`SFHOTSPOT_CLASSES`),
        ``st_hot_periods`` and ``st_cold_periods`` (number of significant
        hot / cold periods) and ``st_periods`` (T).

    Raises
    ------
    ParameterError
        On missing columns, bad values, repeated (cell, period) pairs, fewer
        than 2 periods, or options out of range.

    References
    ----------
    Ashby, M. P. J. sfhotspot: Hot-Spot Analysis with Simple Features (R
    package), ``hotspot_classify()``. Chainey, S. (2020). *Understanding
    Crime: Analyzing the Geography of Crime*. Esri Press.

    Examples
    --------
    >>> import h3, pandas as pd
    >>> centre = h3.latlng_to_cell(51.38, -2.36, 9)
    >>> cells = sorted(h3.grid_disk(centre, 4))
    >>> rows = [(c, m, 30 if h3.grid_distance(centre, c) <= 1 else 1) for c in cells for m in range(10)]
    >>> frame = pd.DataFrame(rows, columns=["h3_cell", "month", "count"])
    >>> out = classify_hotspots(frame, study_area="occupied")
    >>> out.loc[out["h3_cell"] == centre, "st_class"].item()
    'persistent hotspot'
    """
    for name, v in (
        ("hotspot_prop", hotspot_prop),
        ("persistent_prop", persistent_prop),
        ("recent_prop", recent_prop),
        ("critical_p", critical_p),
    ):
        _check_prop(name, v)
    k = _check_k(k)
    if period_adjust not in ("holm", "bh", "none"):
        raise ParameterError(f"period_adjust must be 'holm' (sfhotspot), 'bh' or 'none'; got {period_adjust!r}")
    cells, period_index, cube = _to_cube(frame, cell_col=cell_col, period_col=period_col, value=value, periods=periods)
    area = study_area_cells(cells, mode=study_area)
    added = cells_to_str(np.setdiff1d(cells_to_int(area), cells_to_int(cells))).astype(object)
    cells = np.concatenate([cells, added])
    cube = np.concatenate([cube, np.zeros((len(added), cube.shape[1]))])
    if len(cells) < 3:
        raise ParameterError(f"Gi* needs at least 3 study-area cells; got {len(cells)}: widen study_area")
    empty = period_index[(cube == 0).all(axis=0)]
    if len(empty):
        warnings.warn(
            f"{len(empty)} period(s) have no events ({', '.join(map(str, empty[:3]))}...); they count as not "
            "significant for every cell",
            UserWarning,
            stacklevel=2,
        )
    z = _gi_star_z(cube, kring_weights(cells, k=k))
    p = np.minimum(2.0 * ndtr(-np.abs(z)), 1.0)
    if period_adjust == "holm":
        p = _holm_rows(p)
    elif period_adjust == "bh":
        p = false_discovery_control(p, axis=1, method="bh")
    sig = p < critical_p
    hot, cold = sig & (z > 0), sig & (z <= 0)
    classes = _sfhotspot_classes(
        hot, cold, hotspot_prop=hotspot_prop, persistent_prop=persistent_prop, recent_prop=recent_prop
    )
    return pd.DataFrame(
        {
            cell_col: cells,
            "st_class": classes,
            "st_hot_periods": hot.sum(axis=1),
            "st_cold_periods": cold.sum(axis=1),
            "st_periods": np.full(len(cells), cube.shape[1]),
        }
    )


def _mann_kendall(x: np.ndarray, *, continuity: bool = True):
    """Mann-Kendall S, tie-corrected variance, z, two-sided p and tau-b for each row of a (cells, periods) array."""
    x = np.asarray(x, dtype=np.float64)
    m, t = x.shape
    s = np.zeros(m)
    for lag in range(1, t):  # loop over lags (periods), vectorised over cells
        s += np.sign(x[:, lag:] - x[:, :-lag]).sum(axis=1)
    ordered = np.sort(x, axis=1)
    new_run = np.ones((m, t), dtype=bool)
    new_run[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    run_id = np.cumsum(new_run, axis=1) - 1 + (np.arange(m) * t)[:, None]
    sizes = np.bincount(run_id.ravel(), minlength=m * t).reshape(m, t).astype(np.float64)
    ties = (sizes * (sizes - 1) * (2 * sizes + 5)).sum(axis=1)
    var = (t * (t - 1) * (2 * t + 5) - ties) / 18.0
    num = s - np.sign(s) if continuity else s
    z = np.zeros(m)
    np.divide(num, np.sqrt(var), out=z, where=var > 0)
    p = np.minimum(2.0 * ndtr(-np.abs(z)), 1.0)
    pairs = t * (t - 1) / 2.0
    tied_pairs = (sizes * (sizes - 1) / 2.0).sum(axis=1)
    tau = np.zeros(m)
    np.divide(s, np.sqrt(pairs * (pairs - tied_pairs)), out=tau, where=pairs > tied_pairs)
    return s, var, z, p, tau


def mann_kendall(
    frame: pd.DataFrame,
    *,
    period_col: str = "month",
    value: str = "count",
    cell_col: str = "h3_cell",
    periods: Sequence | None = None,
    continuity: bool = True,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Mann-Kendall trend test per cell over periods (the trend half of ArcGIS Emerging Hot Spot Analysis).

    ``S = sum_{i<j} sign(x_j - x_i)`` over each cell's series in time order;
    ``Var(S) = [T(T-1)(2T+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18`` with ``t_g``
    the sizes of groups of tied values; ``z = (S - sign(S)) / sqrt(Var(S))``
    (without the continuity correction ``z = S / sqrt(Var(S))``, which equals
    Kendall's tau-b test against the time index, ``scipy.stats.kendalltau(...,
    method="asymptotic")``); two-sided ``p = 2 (1 - Phi(|z|))``. A constant
    series has z = 0 and p = 1.

    Parameters
    ----------
    frame : DataFrame
        Long values: ``cell_col``, ``period_col``, ``value`` (counts, or
        ``gi_z`` per period for the ArcGIS-style trend in hot-spot
        intensity); missing (cell, period) pairs count as 0.
    period_col, value, cell_col : str
        Column names.
    periods : sequence, optional
        Every period in time order; default the sorted distinct values.
    continuity : bool, default True
        Apply the continuity correction (standard Mann-Kendall).
    alpha : float, default 0.05
        Level for ``mk_trend``.

    Returns
    -------
    DataFrame
        One row per cell (first-appearance order): ``cell_col``, ``mk_s``,
        ``mk_var``, ``mk_z``, ``mk_p``, ``mk_tau`` (Kendall's tau-b) and
        ``mk_trend`` ("increasing", "decreasing" or "no trend" at ``alpha``).

    Raises
    ------
    ParameterError
        On missing columns, bad values, repeated (cell, period) pairs or
        fewer than 3 periods.

    References
    ----------
    Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13,
    245-259. Kendall, M. G. (1975). *Rank Correlation Methods*. Griffin.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"h3_cell": "89195823077ffff", "month": range(5), "count": [1, 2, 3, 4, 5]})
    >>> row = mann_kendall(frame).iloc[0]
    >>> int(row.mk_s), round(float(row.mk_var), 4), round(float(row.mk_z), 4), round(float(row.mk_p), 4), row.mk_trend
    (10, 16.6667, 2.2045, 0.0275, 'increasing')
    """
    _check_prop("alpha", alpha)
    cells, period_index, cube = _to_cube(frame, cell_col=cell_col, period_col=period_col, value=value, periods=periods)
    if cube.shape[1] < 3:
        raise ParameterError(f"Mann-Kendall needs at least 3 periods; got {cube.shape[1]}: use shorter periods")
    s, var, z, p, tau = _mann_kendall(cube, continuity=continuity)
    trend = np.where(p < alpha, np.where(s > 0, "increasing", "decreasing"), "no trend")
    return pd.DataFrame(
        {
            cell_col: cells,
            "mk_s": s.astype(np.int64),
            "mk_var": var,
            "mk_z": z,
            "mk_p": p,
            "mk_tau": tau,
            "mk_trend": trend,
        }
    )
