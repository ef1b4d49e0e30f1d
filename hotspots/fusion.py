"""Fusing sources: per-source H3 grids, a place score, and the perception gap.

Every source (police.uk, force RMS, StreetSafe, A&E) sees a different slice
of violence against women and girls, so none is summed with another as if
the counts meant the same thing. Each source is gridded on its own
(:func:`source_grids`), turned into *shares of its own force-wide total*, and
only then combined:

* **Place score** (:func:`place_scores`). With ``n_{c,s}`` the count of
  source ``s`` in cell ``c`` and ``N_s`` the force-wide total of ``s``::

      share_{c,s}  = n_{c,s} / N_s
      place_score_c = 100 * sum_s w_s share_{c,s} / sum_s w_s

  the (weighted) average percentage of each source's force-wide total found
  in the cell. A cell holding every event of every source scores 100; a
  score of 2 means "on average, 2 % of each source's incidents are here".
  Because each source is divided by its own total, a large source (police.uk)
  does not drown a small one (A&E).

* **Perception gap** (:func:`perception_gap`, :func:`perception_gap_cells`).
  With ``p`` the StreetSafe share and ``r`` the recorded-crime share of a
  pixel or cell (each surface divided by its own total) and ``m`` the number
  of pixels or cells where either is non-zero::

      gap_ratio = (p + prior / m) / (r + prior / m)
      gap_log2  = log2(gap_ratio)

  1 means "as many reports as expected from the crime"; the smoothing term
  ``prior / m`` is ``prior`` times the average share, so empty or nearly
  empty places tend to 1 instead of dividing by zero. Classes:
  ``"felt unsafe, little recorded"`` where ``gap_ratio >= threshold`` and the
  StreetSafe level is above its floor; ``"recorded, not reported as unsafe"``
  where ``gap_ratio <= 1 / threshold`` and the recorded level is above its
  floor; otherwise ``"no clear gap"``.

References
----------
Ratcliffe, J. H. (2002). Aoristic signatures and the spatio-temporal analysis
of high volume crime patterns. Journal of Quantitative Criminology 18, 23-43.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hotspots.errors import ParameterError
from hotspots.grid import check_resolution, events_to_cells
from hotspots.kde import Grid, kde_array, qgis_grid

__all__ = [
    "BANDS",
    "GAP_FELT",
    "GAP_RECORDED",
    "GAP_NONE",
    "PerceptionGap",
    "source_grids",
    "place_scores",
    "perception_gap",
    "perception_gap_cells",
]

BANDS = (None, "nte", "other")
GAP_FELT = "felt unsafe, little recorded"
GAP_RECORDED = "recorded, not reported as unsafe"
GAP_NONE = "no clear gap"
_GAP_LABELS = np.array([GAP_RECORDED, GAP_NONE, GAP_FELT], dtype=object)  # code -1, 0, 1


def _require(frame: pd.DataFrame, columns: Sequence[str], *, name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"{name} has no column(s) {', '.join(missing)}; available: {', '.join(map(str, frame.columns))}"
        )


def _nte_share(events: pd.DataFrame) -> np.ndarray:
    share = pd.to_numeric(events["nte_share"], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isfinite(share) & ((share < 0) | (share > 1))
    if bad.any():
        raise ParameterError(
            f"nte_share must be between 0 and 1 (or NaN where the time of day is unknown); {int(bad.sum()):,} "
            f"rows are outside, e.g. {share[bad][0]!r}; recompute the aoristic shares"
        )
    return share


def source_grids(
    events: pd.DataFrame,
    *,
    resolution: int,
    band: str | None = None,
    weight: str | None = None,
    cell_col: str | None = None,
) -> pd.DataFrame:
    """Count events per H3 cell and source, optionally within a time band (aoristic).

    Parameters
    ----------
    events : DataFrame
        One row per event, all sources together: ``source`` (str), WGS84
        ``lat``/``lng``; ``nte_share`` (0-1, NaN where the source has no time
        of day) when ``band`` is given; the ``weight`` column when given.
    resolution : int
        H3 resolution, 7-11.
    band : {None, "nte", "other"}, default None
        None counts every event once. ``"nte"`` counts each event as its
        ``nte_share`` (the share of its possible time window inside the
        night-time economy window: Ratcliffe's aoristic weight) and
        ``"other"`` as ``1 - nte_share``, so the two bands add up to the
        time-resolved total. Events with a NaN ``nte_share`` (police.uk has
        no time of day) are left out of banded grids and counted in
        ``attrs["not_time_resolved"]``.
    weight : str, optional
        Numeric column (harm weight) to sum as ``weight_sum``; in a band each
        event adds ``weight * share``. Missing weights count as 0.
    cell_col : str, optional
        A column of the events' H3 cells (str) at ``resolution``, computed
        once for every grid of the run: then ``lat``/``lng`` are not needed.

    Returns
    -------
    DataFrame
        One row per occupied (cell, source): ``h3_cell`` (str), ``source``,
        ``band`` (only when banded), ``count`` (int64 without a band; float64
        aoristic count in a band), ``n_events`` (int64, banded only: the
        time-resolved events in the cell, whatever their share, so a row may
        have ``count == 0``) and ``weight_sum`` (float64, only with
        ``weight``). Sorted by cell, then source. ``attrs`` holds
        ``resolution``, ``band``, ``weight``, ``not_time_resolved`` (int)
        and ``not_time_resolved_by_source`` (dict).

    Raises
    ------
    ParameterError
        On a missing column, a missing source, an ``nte_share`` outside 0-1,
        an unknown band or a resolution outside 7-11.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> ev = pd.DataFrame({"source": ["rms", "rms", "police_uk"], "lat": 51.3813, "lng": -2.359,
    ...                    "nte_share": [0.25, 1.0, np.nan]})
    >>> source_grids(ev, resolution=9)[["source", "count"]].values.tolist()
    [['police_uk', 1], ['rms', 2]]
    >>> g = source_grids(ev, resolution=9, band="nte")
    >>> g[["source", "band", "count", "n_events"]].values.tolist(), g.attrs["not_time_resolved"]
    ([['rms', 'nte', 1.25, 2]], 1)
    """
    if band not in BANDS:
        raise ParameterError(f"band must be None, 'nte' or 'other'; got {band!r}")
    resolution = check_resolution(resolution)
    where = [cell_col] if cell_col is not None else ["lat", "lng"]
    _require(events, ["source", *where, *(["nte_share"] if band else []), *([weight] if weight else [])],
             name="events")
    if events["source"].isna().any():
        raise ParameterError(
            f"events has {int(events['source'].isna().sum()):,} rows without a source; fill 'source' "
            "(police_uk, rms, streetsafe, ae) or drop them"
        )
    attrs: dict = {"resolution": resolution, "band": band, "weight": weight}
    if band is None:
        frame = events_to_cells(events, resolution=resolution, by=["source"], weight=weight, cell_col=cell_col)
        if weight:
            frame = frame.rename(columns={"weight": "weight_sum"})
        frame.attrs = {**attrs, "not_time_resolved": 0, "not_time_resolved_by_source": {}}
        return frame
    share = _nte_share(events)
    resolved = np.isfinite(share)
    if band == "other":
        share = 1.0 - share
    missing_by_source = events["source"][~resolved].value_counts().sort_index()
    sub = pd.DataFrame({
        **{c: events[c].to_numpy()[resolved] for c in where},
        "source": events["source"].array[resolved],  # .array keeps a categorical's codes
        "_share": share[resolved],
    })
    frame = events_to_cells(sub, resolution=resolution, by=["source"], weight="_share", cell_col=cell_col)
    frame = frame.rename(columns={"count": "n_events", "weight": "count"})
    frame.insert(2, "band", band)
    frame = frame[["h3_cell", "source", "band", "count", "n_events"]]
    if weight:
        w = pd.to_numeric(events[weight], errors="coerce").fillna(0.0).to_numpy(dtype=np.float64)
        sub["_share"] *= w[resolved]
        frame["weight_sum"] = events_to_cells(
            sub, resolution=resolution, by=["source"], weight="_share", cell_col=cell_col
        )["weight"]
    frame.attrs = {
        **attrs,
        "not_time_resolved": int((~resolved).sum()),
        "not_time_resolved_by_source": {str(k): int(v) for k, v in missing_by_source.items()},
    }
    return frame


def _single_band(grids: pd.DataFrame, *, name: str) -> None:
    if "band" in grids.columns and grids["band"].nunique(dropna=False) > 1:
        bands = sorted(map(str, grids["band"].unique()))
        raise ParameterError(
            f"{name} mixes time bands {bands}; pass one band, e.g. {name}[{name}['band'] == 'nte']"
        )


def _pivot(grids: pd.DataFrame, sources: Sequence[str], value: str) -> tuple[np.ndarray, np.ndarray]:
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


def _pct_below(col: np.ndarray) -> np.ndarray:
    """Percentage of entries strictly below each entry (0 for the smallest; ties share a value)."""
    return 100.0 * np.searchsorted(np.sort(col), col, side="left") / max(len(col), 1)


def _competition_rank(score: np.ndarray) -> np.ndarray:
    """1 for the highest score; ties share the best rank (1, 2, 2, 4)."""
    return (len(score) - np.searchsorted(np.sort(score), score, side="right") + 1).astype(np.int64)


def place_scores(
    grids: pd.DataFrame,
    *,
    sources: Sequence[str],
    source_weights: Mapping[str, float] | None = None,
    method: str = "share",
    value: str = "count",
) -> pd.DataFrame:
    """Rank cells by how much of every source's force-wide total they hold.

    Parameters
    ----------
    grids : DataFrame
        The long table from :func:`source_grids` (``h3_cell``, ``source``,
        ``value``), one time band at most. Repeated (cell, source) rows, e.g.
        one per month, are summed.
    sources : sequence of str
        The sources to combine, e.g. ``("police_uk", "rms", "streetsafe",
        "ae")``. Each must have a positive total in ``grids``.
    source_weights : mapping of str to float, optional
        Weight ``w_s >= 0`` per source (default 1 each): how much each
        source counts in the score. Give one for every source.
    method : {"share", "rank_pct"}, default "share"
        ``"share"``: ``place_score = 100 * sum_s w_s share_s / sum_s w_s``
        with ``share_s = count_s / total_s``: the cell's weighted average
        percentage of each source's force-wide total (100 = the cell holds
        every event of every source). ``"rank_pct"``:
        ``place_score = sum_s w_s rank_pct_s / sum_s w_s``, the weighted
        average percentile, which a single extreme source cannot dominate.
    value : {"count", "weight_sum"}, default "count"
        Which column to score (``weight_sum`` for harm-weighted scores).

    Returns
    -------
    DataFrame
        One row per cell with a non-zero value in any of ``sources`` (the
        others get 0 for that source), sorted by ``place_rank`` then
        ``h3_cell``: ``h3_cell``; per source ``<source>_count`` (the value),
        ``<source>_share`` (count / source total, 0-1) and
        ``<source>_rank_pct`` (percentage of the table's cells with a
        strictly smaller count: 0 for empty cells, ties share a value);
        ``n_sources`` (sources with a non-zero count in the cell);
        ``place_score`` (0-100) and ``place_rank`` (1 = highest, ties share
        the best rank). ``attrs`` holds ``method``, ``value``, ``sources``,
        ``source_weights`` and ``source_totals``.

    Raises
    ------
    ParameterError
        On an unknown method, a source missing from ``grids`` or with a zero
        total, bad weights, or mixed time bands.

    Examples
    --------
    Two sources; cell B holds 3 of police.uk's 4 crimes (75 %) and 1 of
    A&E's 2 assaults (50 %), so it scores (75 + 50) / 2 = 62.5:

    >>> import pandas as pd
    >>> grids = pd.DataFrame({"h3_cell": ["A", "B", "B", "C"], "source": ["police_uk", "police_uk", "ae", "ae"],
    ...                       "count": [1, 3, 1, 1]})
    >>> s = place_scores(grids, sources=["police_uk", "ae"])
    >>> s[["h3_cell", "place_score", "place_rank"]].values.tolist()
    [['B', 62.5, 1], ['C', 25.0, 2], ['A', 12.5, 3]]
    """
    if method not in ("share", "rank_pct"):
        raise ParameterError(f"method must be 'share' or 'rank_pct'; got {method!r}")
    if isinstance(sources, str):
        raise ParameterError(f"sources must be a list of source names, e.g. [{sources!r}]; got the string {sources!r}")
    sources = list(dict.fromkeys(sources))
    if not sources:
        raise ParameterError("sources is empty; name the sources to combine, e.g. ['police_uk', 'rms']")
    _require(grids, ["h3_cell", "source", value], name="grids")
    _single_band(grids, name="grids")
    weights = {s: 1.0 for s in sources} if source_weights is None else dict(source_weights)
    missing = [s for s in sources if s not in weights]
    if missing:
        raise ParameterError(f"source_weights has no weight for {missing}; give one per source in sources")
    wv = np.array([float(weights[s]) for s in sources])
    if not np.isfinite(wv).all() or (wv < 0).any() or wv.sum() <= 0:
        raise ParameterError(f"source_weights must be finite, >= 0 and not all 0; got {weights}")
    cells, mat = _pivot(grids, sources, value)
    totals = mat.sum(axis=0)
    empty = [s for s, t in zip(sources, totals, strict=True) if t <= 0]
    if empty:
        raise ParameterError(
            f"source(s) {empty} have no {value} in grids (present: {sorted(map(str, grids['source'].unique()))}); "
            "drop them from sources or check the ingest"
        )
    share = mat / totals
    rank_pct = np.column_stack([_pct_below(mat[:, k]) for k in range(len(sources))]) if len(cells) else mat
    parts = share * 100.0 if method == "share" else rank_pct
    score = parts @ wv / wv.sum()
    out = {"h3_cell": cells}
    for k, s in enumerate(sources):
        integral = value == "count" and bool(np.all(mat[:, k] % 1 == 0))
        out[f"{s}_count"] = mat[:, k].astype(np.int64) if integral else mat[:, k]
        out[f"{s}_share"] = share[:, k]
        out[f"{s}_rank_pct"] = rank_pct[:, k]
    out["n_sources"] = (mat > 0).sum(axis=1).astype(np.int64)
    out["place_score"] = score
    out["place_rank"] = _competition_rank(score)
    frame = pd.DataFrame(out)
    order = np.lexsort((cells.astype(str), frame["place_rank"].to_numpy()))
    frame = frame.iloc[order].reset_index(drop=True)
    frame.attrs = {
        **{k: v for k, v in grids.attrs.items() if k in ("resolution", "band")},
        "method": method,
        "value": value,
        "sources": sources,
        "source_weights": dict(zip(sources, wv.tolist(), strict=True)),
        "source_totals": dict(zip(sources, totals.tolist(), strict=True)),
    }
    return frame


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
    _require(frame, ["x", "y"], name=name)
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
        ``gap_ratio``, ``gap_log2``, ``gap_class``. ``attrs`` records the
        options, ``recorded_sources``, ``cells`` (m) and ``smoothing``.

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
    _require(grids, ["h3_cell", "source", "count"], name="grids")
    _single_band(grids, name="grids")
    present = set(grids["source"].unique())
    used = [s for s in dict.fromkeys(recorded) if s in present and s != perception]
    if perception not in present:
        raise ParameterError(f"grids has no {perception!r} rows (sources: {sorted(map(str, present))}); "
                             "pass perception= the source of reports of feeling unsafe")
    if not used:
        raise ParameterError(f"grids has none of the recorded sources {list(recorded)} (sources: "
                             f"{sorted(map(str, present))}); pass recorded= the recorded-crime sources")
    cells, mat = _pivot(grids, [perception, *used], "count")
    p_val, r_val = mat[:, 0], mat[:, 1:].sum(axis=1)
    keep = (p_val > 0) | (r_val > 0)
    cells, p_val, r_val = cells[keep], p_val[keep], r_val[keep]
    if p_val.sum() <= 0 or r_val.sum() <= 0:
        raise ParameterError("the perception or recorded counts are all zero; check the sources and the band")
    p, r, ratio, log2, code, m = _gap(
        p_val, r_val, prior=prior, threshold=threshold,
        p_floor=lambda val, _s, _m: val >= min_reports, r_floor=lambda val, _s, _m: val >= min_recorded,
    )
    frame = pd.DataFrame({
        "h3_cell": cells, "perception_count": p_val, "recorded_count": r_val, "perception_share": p,
        "recorded_share": r, "gap_ratio": ratio, "gap_log2": log2, "gap_class": _GAP_LABELS[code.astype(np.int64) + 1],
    })
    frame = frame.iloc[np.lexsort((cells.astype(str), -log2))].reset_index(drop=True)
    frame.attrs = {
        "perception": perception, "recorded_sources": used, "min_reports": min_reports,
        "min_recorded": min_recorded, "prior": prior, "threshold": threshold, "cells": m, "smoothing": prior / m,
    }
    return frame
