"""Fusing sources: per-source H3 grids and a place score.

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

* **Perception gap**: :mod:`hotspots.perception_gap` compares the StreetSafe
  and recorded-crime shares of the same grids.

References
----------
Ratcliffe, J. H. (2002). Aoristic signatures and the spatio-temporal analysis
of high volume crime patterns. Journal of Quantitative Criminology 18, 23-43.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from hotspots._source_frames import pivot, require, single_band
from hotspots.errors import ParameterError
from hotspots.grid import check_resolution, events_to_cells

__all__ = ["BANDS", "place_scores", "source_grids"]

BANDS = (None, "nte", "other")


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
    require(events, ["source", *where, *(["nte_share"] if band else []), *([weight] if weight else [])],
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
    min_counts: Mapping[str, float] | None = None,
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
    min_counts : mapping of str to float, optional
        The small-number rule: a cell is *eligible* for the ranking only when
        its count (the ``count`` column where ``grids`` has one, else ``value``) for each named source is at
        least the given minimum
        (e.g. ``{"rms": 20}``: at least 20 recorded crimes). An average of
        shares lets one source carry a cell with almost no recorded crime
        into the top ranks (a cell with 6 crimes and many StreetSafe
        reports); the perception-gap analysis is where such a cell belongs.
        Ineligible cells keep their score but rank after every eligible
        cell (``eligible`` False).

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
        ``place_score`` (0-100); ``eligible`` (meets ``min_counts``) and
        ``place_rank`` (1 = highest eligible score, ties share the best rank;
        ineligible cells follow every eligible one). ``attrs`` holds
        ``method``, ``value``, ``sources``, ``source_weights``,
        ``source_totals`` and ``min_counts``.

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

    With at least one police.uk crime required, C (no crime, one A&E
    attendance) ranks after A:

    >>> s = place_scores(grids, sources=["police_uk", "ae"], min_counts={"police_uk": 1})
    >>> s[["h3_cell", "eligible", "place_rank"]].values.tolist()
    [['B', True, 1], ['A', True, 2], ['C', False, 3]]
    """
    if method not in ("share", "rank_pct"):
        raise ParameterError(f"method must be 'share' or 'rank_pct'; got {method!r}")
    if isinstance(sources, str):
        raise ParameterError(f"sources must be a list of source names, e.g. [{sources!r}]; got the string {sources!r}")
    sources = list(dict.fromkeys(sources))
    if not sources:
        raise ParameterError("sources is empty; name the sources to combine, e.g. ['police_uk', 'rms']")
    require(grids, ["h3_cell", "source", value], name="grids")
    single_band(grids, name="grids")
    weights = {s: 1.0 for s in sources} if source_weights is None else dict(source_weights)
    missing = [s for s in sources if s not in weights]
    if missing:
        raise ParameterError(f"source_weights has no weight for {missing}; give one per source in sources")
    wv = np.array([float(weights[s]) for s in sources])
    if not np.isfinite(wv).all() or (wv < 0).any() or wv.sum() <= 0:
        raise ParameterError(f"source_weights must be finite, >= 0 and not all 0; got {weights}")
    cells, mat = pivot(grids, sources, value)
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
    eligible = np.ones(len(cells), dtype=bool)
    minima = dict(min_counts or {})
    unknown = [s for s in minima if s not in sources]
    if unknown:
        raise ParameterError(f"min_counts names source(s) {unknown} not in sources {sources}")
    counts = mat
    if minima and value != "count" and "count" in grids.columns:
        _, counts = pivot(grids, sources, "count")  # same cells, same order (every row carries both values)
    for s, m in minima.items():
        if not (isinstance(m, int | float) and math.isfinite(m) and m >= 0):
            raise ParameterError(f"min_counts[{s!r}] must be a number >= 0; got {m!r}")
        eligible &= counts[:, sources.index(s)] >= m
    rank = np.empty(len(cells), dtype=np.int64)
    rank[eligible] = _competition_rank(score[eligible])
    rank[~eligible] = int(eligible.sum()) + _competition_rank(score[~eligible])
    out["eligible"] = eligible
    out["place_rank"] = rank
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
        "min_counts": {str(k): float(v) for k, v in minima.items()},
    }
    return frame
