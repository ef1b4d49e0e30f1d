"""How good is a hotspot map? Hit rate, PAI, PEI and RRI, trained on one period and tested on the next.

Every measure works on *units* (H3 cells, raster pixels) with an area, a
training score (the hotspot method's output from period-1 data: counts, KDE
density, Gi* z) and the period-2 (test) crimes that fall in each unit.

Formulas (``n`` test crimes in the hotspots, ``N`` test crimes in the study
area, ``a`` hotspot area, ``A`` study area; ``n1``/``N1`` the same for the
training crimes):

* **hit rate** = n / N
* **PAI** (predictive accuracy index; Chainey, Tompson and Uhlig 2008)
  = (n / N) / (a / A)
* **PEI** (predictive efficiency index; Hunt 2016) = n / n*, where n* is the
  most test crimes any set of units of the same area could have captured
  (units ranked by their test counts): PAI / best possible PAI.
* **RRI** here is Levine's *recapture rate index* = (n / n1) / (N / N1): how
  stable the hotspots are between periods (1 = as stable as the whole area).
  Other codebases use "RRI" for a "recovery rate index"; this is not that.

Hit rate depends on the grid (its placement and unit size): report the grid
with the figures.

References
----------
Chainey, S., Tompson, L. and Uhlig, S. (2008). The utility of hotspot mapping
for predicting spatial patterns of crime. Security Journal 21, 4-28.
Levine, N. (2008). The "hottest" part of a hotspot: comments on "The utility of
hotspot mapping for predicting spatial patterns of crime". Security Journal 21.
Hunt, J. M. (2016). Do crime hot spots move? NIJ Journal 277.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from hotspots.errors import ParameterError
from hotspots.grid import cells_area_m2, cells_to_int, cells_to_latlng

__all__ = [
    "cells_in_polygons",
    "hotspot_measures",
    "pai_curve",
    "evaluate_cells",
    "raster_units",
]


def _check(score, test, train, area):
    arrays = [np.asarray(a, dtype=float) for a in (score, test, train, area)]
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ParameterError("score, test, train and area must have one value per unit")
    if n == 0:
        raise ParameterError("no units to evaluate: give the study-area cells or pixels")
    if (arrays[3] <= 0).any():
        raise ParameterError("every unit needs a positive area")
    if (arrays[1] < 0).any() or (arrays[2] < 0).any():
        raise ParameterError("test and train counts cannot be negative")
    return arrays


def hotspot_measures(hot, test, train, area) -> dict:
    """Hit rate, PAI, PEI and RRI of one hotspot layer.

    Parameters
    ----------
    hot : array-like of bool, shape (n_units,)
        Units in the hotspot layer (drawn from training data only).
    test, train : array-like of float
        Test-period and training-period crimes per unit.
    area : array-like of float
        Area of each unit (any unit; only shares matter).

    Returns
    -------
    dict
        ``hit_rate, pai, pei, rri, area_share, n_test_hot, n_test, n_train_hot, n_train``.

    Examples
    --------
    >>> m = hotspot_measures([True, False, False, False], [6, 2, 1, 1], [5, 1, 2, 2], [1, 1, 1, 1])
    >>> m["hit_rate"], m["pai"], m["pei"], round(m["rri"], 3)
    (0.6, 2.4, 1.0, 1.2)
    """
    hot = np.asarray(hot, dtype=bool)
    _, test, train, area = _check(hot.astype(float), test, train, area)
    a_share = area[hot].sum() / area.sum()
    n, big_n = test[hot].sum(), test.sum()
    n1, big_n1 = train[hot].sum(), train.sum()
    hit = n / big_n if big_n else np.nan
    pai = hit / a_share if a_share > 0 else np.nan
    # best capture with the same area: fill the area with the units richest in test crimes per area
    order = np.argsort(-(test / area), kind="stable")
    cum_area = np.cumsum(area[order])
    target = area[hot].sum()
    k = np.searchsorted(cum_area, target - 1e-9 * area.sum()) + 1
    n_best = test[order][:k].sum()
    if k > 0 and cum_area[k - 1] > target:  # split the last unit pro rata so the areas are equal
        n_best -= test[order][k - 1] * (cum_area[k - 1] - target) / area[order][k - 1]
    pei = n / n_best if n_best > 0 else np.nan
    rri = (n / n1) / (big_n / big_n1) if n1 > 0 and big_n > 0 and big_n1 > 0 else np.nan
    return {
        "hit_rate": float(hit),
        "pai": float(pai),
        "pei": float(pei),
        "rri": float(rri),
        "area_share": float(a_share),
        "n_test_hot": float(n),
        "n_test": float(big_n),
        "n_train_hot": float(n1),
        "n_train": float(big_n1),
    }


def pai_curve(score, test, train, area, *, shares=None) -> pd.DataFrame:
    """Hit rate, PAI, PEI and RRI as the hotspot area grows: the top units by training score.

    Parameters
    ----------
    score : array-like of float
        Training-period score per unit (count, KDE density, Gi* z); higher = hotter.
    test, train, area : array-like
        As :func:`hotspot_measures`.
    shares : array-like of float, optional
        Shares of the study area (0-1]; default 0.5 %, 1 %, 2 %, 5 %, 10 %, 20 %.

    Returns
    -------
    DataFrame
        One row per share: ``area_share_target``, then the measures. Units
        are added whole, in descending score, until the share is reached.

    Examples
    --------
    >>> c = pai_curve([9, 5, 1, 0], [6, 2, 1, 1], [5, 1, 2, 2], [1, 1, 1, 1], shares=[0.25, 0.5])
    >>> c[["area_share", "hit_rate", "pai"]].to_numpy().tolist()
    [[0.25, 0.6, 2.4], [0.5, 0.8, 1.6]]
    """
    score, test, train, area = _check(score, test, train, area)
    shares = np.asarray([0.005, 0.01, 0.02, 0.05, 0.1, 0.2] if shares is None else shares, dtype=float)
    if ((shares <= 0) | (shares > 1)).any():
        raise ParameterError("shares must be in (0, 1]")
    order = np.argsort(-score, kind="stable")
    cum = np.cumsum(area[order]) / area.sum()
    rows = []
    for s in shares:
        k = int(np.searchsorted(cum, s - 1e-12)) + 1
        hot = np.zeros(len(score), dtype=bool)
        hot[order[:k]] = True
        rows.append({"area_share_target": float(s), **hotspot_measures(hot, test, train, area)})
    return pd.DataFrame(rows)


def evaluate_cells(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    study_cells,
    hot_cells=None,
    score: pd.Series | None = None,
    shares=None,
    cell_col: str = "h3_cell",
    count_col: str = "count",
):
    """Evaluate H3 hotspots: a fixed layer (``hot_cells``) or the top cells by ``score``.

    Parameters
    ----------
    train, test : DataFrame
        Counts per cell for each period (``cell_col``, ``count_col``), e.g.
        from :func:`hotspots.grid.events_to_cells` with ``by=[]``.
    study_cells : array-like of str
        Every cell of the study area (zeros included), e.g.
        :func:`hotspots.grid.boundary_to_cells`.
    hot_cells : array-like of str, optional
        A hotspot layer (Gi* significant cells, cells under DBSCAN hulls).
    score : Series, optional
        Training score per cell (index = cell); default: training counts.
        Used for the PAI curve when ``hot_cells`` is not given.
    shares : array-like, optional
        Area shares for the curve.

    Returns
    -------
    dict or DataFrame
        Measures of ``hot_cells``, or the PAI curve of the top cells.

    Examples
    --------
    >>> import h3
    >>> c = h3.latlng_to_cell(51.3813, -2.3590, 9)
    >>> study = sorted(h3.grid_disk(c, 1))
    >>> train = pd.DataFrame({"h3_cell": [c], "count": [9]})
    >>> test = pd.DataFrame({"h3_cell": [c, study[0]], "count": [6, 2]})
    >>> m = evaluate_cells(train, test, study_cells=study, hot_cells=[c])
    >>> m["hit_rate"], round(m["pai"], 2)
    (0.75, 5.25)
    """
    cells = pd.Index(np.asarray(study_cells, dtype=object))
    if cells.has_duplicates:
        cells = cells.drop_duplicates()
    tr = train.groupby(cell_col)[count_col].sum().reindex(cells, fill_value=0).to_numpy(float)
    te = test.groupby(cell_col)[count_col].sum().reindex(cells, fill_value=0).to_numpy(float)
    area = cells_area_m2(cells_to_int(cells.to_numpy()))
    if hot_cells is not None:
        return hotspot_measures(cells.isin(set(hot_cells)), te, tr, area)
    s = tr if score is None else score.reindex(cells).fillna(-np.inf).to_numpy(float)
    return pai_curve(s, te, tr, area, shares=shares)


def raster_units(result, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Count points per pixel of a KDE result's grid (points outside count nowhere).

    Returns an array the shape of ``result.density``; pair it with
    ``result.density`` as the score and ``pixel_m ** 2`` as the area, over the
    pixels that are not nodata, in :func:`pai_curve`.

    Examples
    --------
    >>> from hotspots.kde import kde_array
    >>> res = kde_array(np.array([375000.0, 375100.0]), np.array([164000.0, 164000.0]), radius_m=100, pixel_m=50)
    >>> int(raster_units(res, np.array([375000.0, 375010.0]), np.array([164000.0, 164000.0])).sum())
    2
    """
    g = result.grid
    j = np.floor((np.asarray(x) - g.x0) / g.pixel_m).astype(np.int64)
    i = np.floor((g.y_top - np.asarray(y)) / g.pixel_m).astype(np.int64)
    ok = (i >= 0) & (i < g.rows) & (j >= 0) & (j < g.cols)
    return np.bincount(i[ok] * g.cols + j[ok], minlength=g.rows * g.cols).reshape(g.rows, g.cols)


def cells_in_polygons(cells, polygons) -> np.ndarray:
    """H3 cells whose centre lies inside any polygon: a polygon hotspot layer as cells.

    Use it to evaluate DBSCAN cluster hulls (or any drawn hotspot areas) with
    :func:`evaluate_cells` on the same grid as the other methods.

    Parameters
    ----------
    cells : array-like of str
        Candidate cells (e.g. the study area).
    polygons : GeoSeries or GeoDataFrame
        Hotspot polygons with a CRS.

    Returns
    -------
    ndarray of str
        The cells inside.

    Examples
    --------
    >>> import geopandas as gpd, h3
    >>> from shapely.geometry import Point
    >>> c = h3.latlng_to_cell(51.3813, -2.3590, 9)
    >>> hull = gpd.GeoSeries([Point(375080, 164820).buffer(300)], crs="EPSG:27700")
    >>> c in cells_in_polygons(list(h3.grid_disk(c, 3)), hull).tolist()
    True
    """
    cells = np.asarray(cells, dtype=object)
    if not len(cells) or polygons is None or len(polygons) == 0:
        return np.zeros(0, dtype=object)
    if getattr(polygons, "crs", None) is None:
        raise ParameterError("polygons need a CRS (e.g. EPSG:27700) to be placed on the H3 grid")
    geom = polygons.geometry if hasattr(polygons, "geometry") else polygons
    area = shapely.union_all(geom.to_crs("EPSG:4326").to_numpy())
    lat, lng = cells_to_latlng(cells_to_int(cells))
    shapely.prepare(area)
    return cells[shapely.contains_xy(area, lng, lat)]
