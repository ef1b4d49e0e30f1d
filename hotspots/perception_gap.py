"""The perception gap: where people report feeling unsafe against where crime is recorded.

With ``p`` the StreetSafe share and ``r`` the recorded-crime share of a pixel
(:func:`perception_gap`, two KDE surfaces) or an H3 cell
(:func:`perception_gap_cells`, source grids from
:func:`hotspots.fusion.source_grids`), each surface divided by its own total,
and ``m`` the number of pixels or cells where either is non-zero::

    gap_ratio = (p + prior / m) / (r + prior / m)
    gap_log2  = log2(gap_ratio)

1 means "as many reports as expected from the crime"; the smoothing term
``prior / m`` is ``prior`` times the average share, so empty or nearly empty
places tend to 1 instead of dividing by zero. Classes:
``"felt unsafe, little recorded"`` where ``gap_ratio >= threshold`` and the
StreetSafe level is above its floor; ``"recorded, not reported as unsafe"``
where ``gap_ratio <= 1 / threshold`` and the recorded level is above its
floor; otherwise ``"no clear gap"``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hotspots._source_frames import pivot, require, single_band
from hotspots.errors import ParameterError
from hotspots.kde import Grid, kde_array, qgis_grid

__all__ = [
    "eb_ratio", "GAP_FELT", "GAP_NONE", "GAP_RECORDED", "PerceptionGap", "perception_gap", "perception_gap_cells",
]

GAP_FELT = "felt unsafe, little recorded"
GAP_RECORDED = "recorded, not reported as unsafe"
GAP_NONE = "no clear gap"
_GAP_LABELS = np.array([GAP_RECORDED, GAP_NONE, GAP_FELT], dtype=object)  # code -1, 0, 1


def _check_gap_options(prior: float, threshold: float) -> None:
    if not (isinstance(prior, (int, float)) and math.isfinite(prior) and prior > 0):
        raise ParameterError(f"prior must be a positive number (1 = add the average share); got {prior!r}")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold > 1):
        raise ParameterError(f"threshold must be a ratio above 1 (2 = twice as many reports as expected); got "
                             f"{threshold!r}")


def _gap(p_val: np.ndarray, r_val: np.ndarray, *, prior: float, threshold: float, p_floor, r_floor):
    """Shares, ratio, log2 ratio and class code (-1, 0, 1) of two non-negative arrays of one shape."""
    reached = (p_val > 0) | (r_val > 0)
    m = max(int(reached.sum()), 1)
    p = p_val / p_val.sum()
    r = r_val / r_val.sum()
    eps = prior / m
    ratio = (p + eps) / (r + eps)
    log2 = np.log2(ratio)
    code = np.zeros(p.shape, dtype=np.int8)
    code[(ratio >= threshold) & p_floor(p_val, p, m)] = 1
    code[(ratio <= 1.0 / threshold) & r_floor(r_val, r, m)] = -1
    return p, r, ratio, log2, code, m


@dataclass(frozen=True)
class PerceptionGap:
    """StreetSafe vs recorded crime on one raster grid (see :func:`perception_gap`).

    Attributes
    ----------
    perception_share, recorded_share : ndarray of float64, shape (rows, cols)
        Each KDE surface divided by its own total (each sums to 1).
    gap_ratio, gap_log2 : ndarray of float64, shape (rows, cols)
        Smoothed ratio of the shares and its base-2 logarithm.
    gap_code : ndarray of int8, shape (rows, cols)
        1 = "felt unsafe, little recorded", -1 = "recorded, not reported as
        unsafe", 0 = no clear gap.
    grid : Grid
    params : dict
        Radius, pixel, prior, threshold, floor, the number of reached
        pixels ``m`` and the smoothing term ``prior / m``.
    """

    perception_share: np.ndarray
    recorded_share: np.ndarray
    gap_ratio: np.ndarray
    gap_log2: np.ndarray
    gap_code: np.ndarray
    grid: Grid
    params: dict = field(default_factory=dict)

    @property
    def gap_class(self) -> np.ndarray:
        """Class labels (str) per pixel."""
        return _GAP_LABELS[self.gap_code.astype(np.int64) + 1]

    def to_frame(self, *, reached_only: bool = True) -> pd.DataFrame:
        """One row per pixel: ``x``, ``y`` (pixel centre, metres), the shares, ratio, log2 and class.

        Parameters
        ----------
        reached_only : bool, default True
            Keep only pixels where either surface is non-zero.

        Returns
        -------
        DataFrame
            ``x``, ``y``, ``perception_share``, ``recorded_share``,
            ``gap_ratio``, ``gap_log2``, ``gap_class``.
        """
        g = self.grid
        rows, cols = np.indices((g.rows, g.cols))
        keep = ((self.perception_share > 0) | (self.recorded_share > 0)) if reached_only else np.ones_like(rows, bool)
        return pd.DataFrame({
            "x": g.x0 + (cols[keep] + 0.5) * g.pixel_m,
            "y": g.y_top - (rows[keep] + 0.5) * g.pixel_m,
            "perception_share": self.perception_share[keep],
            "recorded_share": self.recorded_share[keep],
            "gap_ratio": self.gap_ratio[keep],
            "gap_log2": self.gap_log2[keep],
            "gap_class": self.gap_class[keep],
        })


def _xy(frame: pd.DataFrame, *, name: str) -> tuple[np.ndarray, np.ndarray]:
    require(frame, ["x", "y"], name=name)
    x = frame["x"].to_numpy(dtype=np.float64)
    y = frame["y"].to_numpy(dtype=np.float64)
    if not len(x):
        raise ParameterError(f"{name} has no rows; the perception gap needs both StreetSafe reports and crimes")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ParameterError(f"{name} x/y contain NaN or infinite values; drop rows without coordinates first")
    return x, y


def perception_gap(
    streetsafe: pd.DataFrame,
    crime: pd.DataFrame,
    *,
    radius_m: float,
    pixel_m: float,
    grid: Grid | None = None,
    prior: float = 1.0,
    threshold: float = 2.0,
    floor: float = 1.0,
) -> PerceptionGap:
    """Places where StreetSafe reports outweigh recorded crime, and the reverse, on one KDE grid.

    Both point sets are smoothed with the same quartic KDE onto one grid;
    each surface is divided by its own total (``p``: StreetSafe,
    ``r``: crime), and with ``m`` the number of pixels either surface
    reaches::

        gap_ratio = (p + prior / m) / (r + prior / m)

    1 means "as expected". ``prior / m`` is ``prior`` times the average
    pixel share: it keeps the ratio finite where crime is absent and pulls
    sparse pixels towards 1.

    Parameters
    ----------
    streetsafe, crime : DataFrame
        Points with ``x``/``y`` in metres (EPSG:27700).
    radius_m : float
        Kernel radius, metres (the same for both surfaces).
    pixel_m : float
        Pixel size, metres.
    grid : Grid, optional
        Default: QGIS's grid around both point sets together.
    prior : float, default 1.0
        Smoothing, in units of the average pixel share (see above).
    threshold : float, default 2.0
        Ratio for the classes: ``gap_ratio >= threshold`` and
        ``p >= floor / m`` is ``"felt unsafe, little recorded"``;
        ``gap_ratio <= 1 / threshold`` and ``r >= floor / m`` is
        ``"recorded, not reported as unsafe"``.
    floor : float, default 1.0
        Minimum share for a class, in units of the average pixel share
        (1: the surface must be at least average there).

    Returns
    -------
    PerceptionGap
        Arrays on the grid, and ``to_frame()`` for a pixel table.

    Raises
    ------
    ParameterError
        On missing or non-finite x/y, an empty input, or bad options.

    Examples
    --------
    Reports in one place, crimes 1 km away:

    >>> import pandas as pd
    >>> ss = pd.DataFrame({"x": [375000.0] * 5, "y": [164800.0] * 5})
    >>> cr = pd.DataFrame({"x": [376000.0] * 5, "y": [164800.0] * 5})
    >>> gap = perception_gap(ss, cr, radius_m=200, pixel_m=50)
    >>> t = gap.to_frame()
    >>> top, bottom = t.loc[t["gap_log2"].idxmax()], t.loc[t["gap_log2"].idxmin()]
    >>> bool(abs(top["x"] - 375000) < 50), top["gap_class"]
    (True, 'felt unsafe, little recorded')
    >>> bool(abs(bottom["x"] - 376000) < 50), bottom["gap_class"]
    (True, 'recorded, not reported as unsafe')
    """
    sx, sy = _xy(streetsafe, name="streetsafe")
    cx, cy = _xy(crime, name="crime")
    _check_gap_options(prior, threshold)
    if not (isinstance(floor, (int, float)) and math.isfinite(floor) and floor >= 0):
        raise ParameterError(f"floor must be >= 0 (in average pixel shares; 1 = at least average); got {floor!r}")
    for name, v in (("radius_m", radius_m), ("pixel_m", pixel_m)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ParameterError(f"{name} must be a positive number of metres; got {v!r}")
    if grid is None:
        grid = qgis_grid(np.concatenate([sx, cx]), np.concatenate([sy, cy]), radius_m=radius_m, pixel_m=pixel_m)
    dens = []
    for x, y in ((sx, sy), (cx, cy)):
        res = kde_array(x, y, radius_m=radius_m, pixel_m=pixel_m, grid=grid)
        d = res.density.astype(np.float64)
        dens.append(np.where(d == res.nodata, 0.0, d))
    if dens[0].sum() <= 0 or dens[1].sum() <= 0:
        raise ParameterError("streetsafe or crime has no points on the grid; pass a grid that covers both")

    def above(_val, share, m):
        return share >= floor / m

    p, r, ratio, log2, code, m = _gap(dens[0], dens[1], prior=prior, threshold=threshold, p_floor=above,
                                      r_floor=above)
    params = {
        "radius_m": float(radius_m), "pixel_m": float(pixel_m), "kernel": "quartic", "prior": float(prior),
        "threshold": float(threshold), "floor": float(floor), "reached_pixels": m, "smoothing": prior / m,
        "n_streetsafe": int(len(sx)), "n_crime": int(len(cx)),
    }
    return PerceptionGap(p, r, ratio, log2, code, grid, params)


def eb_ratio(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Empirical-Bayes smoothed ratios of observed to expected counts (Marshall 1991, global method of moments).

    Each raw ratio ``r_i = O_i / E_i`` is pulled towards the overall ratio ``m = sum O / sum E`` by
    ``C_i = A / (A + m / E_i)``, where ``A = s2 - m / mean(E)`` (floored at 0) is the between-area variance
    estimated from ``s2 = sum E_i (r_i - m)^2 / sum E``: a ratio resting on a small expected count moves
    furthest, one resting on a large expected count hardly moves. Every smoothed ratio lies between its
    raw ratio and ``m``.

    Examples
    --------
    Three areas, each expecting 10, 10 and 1 events, observing 20, 5 and 4 (by hand: m = 29/21,
    s2 = (10 (2 - m)^2 + 10 (0.5 - m)^2 + 1 (4 - m)^2) / 21, A = s2 - m / 7):

    >>> np.round(eb_ratio(np.array([20.0, 5.0, 4.0]), np.array([10.0, 10.0, 1.0])), 3).tolist()
    [1.896, 0.648, 2.246]

    References
    ----------
    Marshall, R. J. (1991). Mapping disease and mortality rates using empirical Bayes estimators.
    Applied Statistics 40, 283-294.
    """
    o = np.asarray(observed, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if o.shape != e.shape or (e <= 0).any() or (o < 0).any() or not (np.isfinite(o).all() and np.isfinite(e).all()):
        raise ParameterError("observed must be >= 0 and expected > 0, finite, of one shape")
    if not len(o):
        return o.copy()
    m = o.sum() / e.sum()
    r = o / e
    s2 = float((e * (r - m) ** 2).sum() / e.sum())
    a = max(s2 - m / e.mean(), 0.0)
    c = a / (a + m / e) if a > 0 else np.zeros_like(e)
    return m + c * (r - m)


def perception_gap_cells(
    grids: pd.DataFrame,
    *,
    perception: str = "streetsafe",
    recorded: Sequence[str] = ("police_uk", "rms"),
    min_reports: float = 3,
    min_recorded: float | None = None,
    prior: float = 1.0,
    threshold: float = 2.0,
) -> pd.DataFrame:
    """The perception gap on H3 cells, for tables and maps.

    Same definitions as :func:`perception_gap` with cells for pixels:
    ``p`` = the cell's share of all ``perception`` reports, ``r`` = its share
    of all ``recorded`` crimes (sources summed), ``m`` = cells with either,
    ``gap_ratio = (p + prior / m) / (r + prior / m)``. The floors are counts:
    a cell is ``"felt unsafe, little recorded"`` when ``gap_ratio >=
    threshold`` and it has at least ``min_reports`` reports, and
    ``"recorded, not reported as unsafe"`` when ``gap_ratio <= 1 /
    threshold`` and it has at least ``min_recorded`` crimes.

    Parameters
    ----------
    grids : DataFrame
        Long table from :func:`source_grids` (one time band at most).
    perception : str, default "streetsafe"
        The source of reports of feeling unsafe.
    recorded : sequence of str, default ("police_uk", "rms")
        Recorded-crime sources; those absent from ``grids`` are skipped
        (listed in ``attrs["recorded_sources"]``), at least one must be there.
    min_reports : float, default 3
        Floor of the ``perception`` count for the first class.
    min_recorded : float, optional
        Floor of the recorded count for the second class (default
        ``min_reports``).
    prior, threshold : float
        As :func:`perception_gap`.

    Returns
    -------
    DataFrame
        One row per cell with reports or crimes, sorted by ``gap_log2``
        descending then ``h3_cell``: ``h3_cell``, ``perception_count``,
        ``recorded_count``, ``perception_share``, ``recorded_share``,
        ``gap_ratio``, ``gap_ratio_eb`` (:func:`eb_ratio` of the reports against the
        number the recorded share predicts: a "felt unsafe" class also needs it
        to reach ``threshold``, so a handful of reports cannot make the class),
        ``gap_log2``, ``gap_class``. ``attrs`` records the options,
        ``recorded_sources``, ``cells`` (m) and ``smoothing``.

    Raises
    ------
    ParameterError
        If ``perception`` or every ``recorded`` source has no counts, or on
        mixed bands and bad options.

    Examples
    --------
    8 reports (A: 6, B: 2) and 10 crimes (B: 5, C: 5) in m = 3 cells, so the
    smoothing is 1/3; A: (6/8 + 1/3) / (0 + 1/3) = 3.25, B: (2/8 + 1/3) /
    (5/10 + 1/3) = 0.7, C: (0 + 1/3) / (5/10 + 1/3) = 0.4:

    >>> import pandas as pd
    >>> grids = pd.DataFrame({"h3_cell": ["A", "B", "B", "C"],
    ...                       "source": ["streetsafe", "police_uk", "streetsafe", "police_uk"],
    ...                       "count": [6, 5, 2, 5]})
    >>> t = perception_gap_cells(grids, min_reports=3)
    >>> t[["h3_cell", "gap_ratio", "gap_class"]].round(3).values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['A', 3.25, 'felt unsafe, little recorded'], ['B', 0.7, 'no clear gap'],
     ['C', 0.4, 'recorded, not reported as unsafe']]
    """
    _check_gap_options(prior, threshold)
    if isinstance(recorded, str):
        recorded = [recorded]
    min_recorded = min_reports if min_recorded is None else min_recorded
    for name, v in (("min_reports", min_reports), ("min_recorded", min_recorded)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise ParameterError(f"{name} must be a count >= 0; got {v!r}")
    require(grids, ["h3_cell", "source", "count"], name="grids")
    single_band(grids, name="grids")
    present = set(grids["source"].unique())
    used = [s for s in dict.fromkeys(recorded) if s in present and s != perception]
    if perception not in present:
        raise ParameterError(f"grids has no {perception!r} rows (sources: {sorted(map(str, present))}); "
                             "pass perception= the source of reports of feeling unsafe")
    if not used:
        raise ParameterError(f"grids has none of the recorded sources {list(recorded)} (sources: "
                             f"{sorted(map(str, present))}); pass recorded= the recorded-crime sources")
    cells, mat = pivot(grids, [perception, *used], "count")
    p_val, r_val = mat[:, 0], mat[:, 1:].sum(axis=1)
    keep = (p_val > 0) | (r_val > 0)
    cells, p_val, r_val = cells[keep], p_val[keep], r_val[keep]
    if p_val.sum() <= 0 or r_val.sum() <= 0:
        raise ParameterError("the perception or recorded counts are all zero; check the sources and the band")
    p, r, ratio, log2, code, m = _gap(
        p_val, r_val, prior=prior, threshold=threshold,
        p_floor=lambda val, _s, _m: val >= min_reports, r_floor=lambda val, _s, _m: val >= min_recorded,
    )
    # the small-number check: a felt-unsafe class needs the empirical-Bayes ratio to reach the threshold too,
    # with the expected reports the recorded share gives (smoothed by the same prior, so never 0)
    expected = p_val.sum() * (r + prior / m) / (1 + prior)
    eb = eb_ratio(p_val, expected)
    code = np.where((code == 1) & (eb < threshold), 0, code).astype(np.int8)
    frame = pd.DataFrame({
        "h3_cell": cells, "perception_count": p_val, "recorded_count": r_val, "perception_share": p,
        "recorded_share": r, "gap_ratio": ratio, "gap_ratio_eb": eb, "gap_log2": log2,
        "gap_class": _GAP_LABELS[code.astype(np.int64) + 1],
    })
    frame = frame.iloc[np.lexsort((cells.astype(str), -log2))].reset_index(drop=True)
    frame.attrs = {
        "perception": perception, "recorded_sources": used, "min_reports": min_reports,
        "min_recorded": min_recorded, "prior": prior, "threshold": threshold, "cells": m, "smoothing": prior / m,
    }
    return frame
