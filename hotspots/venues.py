"""Venues: incidents near each licensed premises, and how concentrated they are (risky facilities).

:func:`venue_risk` counts, for every venue, the events within ``distance_m``
(Euclidean, metres, EPSG:27700, boundary included) in two ways:

* **within** - every event within the distance of the venue. An event near
  two venues counts at both, so the column answers "how much happens near
  this venue?" but does not add up across venues.
* **nearest** - each event is given only to its nearest venue within the
  distance (ties to the venue that comes first in ``venues``), so the
  column adds up to the events near any venue. Use it for rankings and the
  concentration curve.

In the night-time economy (``nte_only=True``) each event is also weighted
by its ``nte_share``, the aoristic share of its possible time window that
falls in the NTE window; events without a time of day (police.uk) add 0 to
the ``_nte`` columns.

:func:`risky_facilities` sorts venues by incidents and draws the
concentration (Lorenz) curve of Eck, Clarke and Guerette (2007): a few
venues usually account for most incidents.

References
----------
Eck, J. E., Clarke, R. V. and Guerette, R. T. (2007). Risky facilities: crime
concentration in homogeneous sets of establishments and facilities. Crime
Prevention Studies 21, 225-264.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from hotspots.errors import ParameterError

__all__ = ["DEFAULT_GROUPS", "venue_risk", "risky_facilities"]

DEFAULT_GROUPS: Mapping[str, tuple[str, ...]] = {"crime": ("police_uk", "rms"), "ae": ("ae",)}


def _xy(frame: pd.DataFrame, *, name: str) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in ("x", "y") if c not in frame.columns]
    if missing:
        raise ParameterError(f"{name} has no column(s) {', '.join(missing)}; give x/y in metres (EPSG:27700)")
    x = pd.to_numeric(frame["x"], errors="coerce").to_numpy(dtype=np.float64)
    y = pd.to_numeric(frame["y"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        raise ParameterError(
            f"{name} has {int(bad.sum()):,} rows without numeric x/y (first at position {int(np.argmax(bad))}); "
            "geocode or drop them first"
        )
    if len(x) and np.abs(x).max() <= 180 and np.abs(y).max() <= 90 and np.ptp(x) < 20 and np.ptp(y) < 20:
        raise ParameterError(
            f"{name} x/y look like longitude/latitude degrees but distance_m is metres; project to EPSG:27700"
        )
    return x, y


def _group_codes(sources: pd.Series, groups: Mapping[str, Sequence[str]]) -> np.ndarray:
    """Group index per event (-1 for sources in no group)."""
    lookup: dict[str, int] = {}
    for k, (g, members) in enumerate(groups.items()):
        if isinstance(members, str):
            raise ParameterError(f"groups[{g!r}] must be a list of sources, e.g. [{members!r}]")
        for s in members:
            if s in lookup:
                raise ParameterError(f"source {s!r} is in two groups; put each source in one group only")
            lookup[s] = k
    if not lookup:
        return np.full(len(sources), -1, dtype=np.int64)
    pos = pd.Index(list(lookup), dtype=object).get_indexer(pd.Index(np.asarray(sources, dtype=object)))
    return np.where(pos >= 0, np.array(list(lookup.values()), dtype=np.int64)[pos], -1)


def _competition_rank(score: np.ndarray) -> np.ndarray:
    return (len(score) - np.searchsorted(np.sort(score), score, side="right") + 1).astype(np.int64)


def venue_risk(
    venues: pd.DataFrame,
    events: pd.DataFrame,
    *,
    distance_m: float = 50.0,
    nte_only: bool = True,
    groups: Mapping[str, Sequence[str]] = DEFAULT_GROUPS,
    rank_by: str | None = None,
) -> pd.DataFrame:
    """Events within ``distance_m`` of each venue, per source group, with nearest-venue attribution.

    Parameters
    ----------
    venues : DataFrame
        One row per venue with ``x``/``y`` in metres (EPSG:27700); every
        other column (``venue_id``, ``name``, ``kind``, ``closing_time``)
        is carried through.
    events : DataFrame
        One row per event: ``source``, ``x``/``y`` in metres, and
        ``nte_share`` (0-1, NaN without a time of day) when ``nte_only``.
    distance_m : float, default 50
        Search distance in metres; an event exactly ``distance_m`` away
        counts (``hypot(dx, dy) <= distance_m``).
    nte_only : bool, default True
        Also sum ``nte_share`` (aoristic night-time-economy weight) per venue
        in the ``_nte`` columns, and rank by them.
    groups : mapping of str to sequence of str
        Output column prefix to the sources counted under it; default
        ``{"crime": ("police_uk", "rms"), "ae": ("ae",)}``. Events from
        other sources (StreetSafe, unless grouped) are ignored and counted in
        ``attrs["events_ignored"]``.
    rank_by : str, optional
        Column to rank by; default ``"nearest_nte"`` with ``nte_only``, else
        ``"nearest_count"``.

    Returns
    -------
    DataFrame
        The venue columns plus, for each group ``g``: ``g_within`` and
        ``g_nearest`` (int64) and, with ``nte_only``, ``g_within_nte`` and
        ``g_nearest_nte`` (float64); the totals over groups ``all_within``,
        ``nearest_count`` (and ``all_within_nte``, ``nearest_nte``); and
        ``risk_rank`` (1 = most, ties share the best rank). Sorted by
        ``risk_rank`` (ties in input order), original index kept. ``attrs``
        holds ``distance_m``, ``groups``, ``rank_by``, ``events_ignored``,
        ``events_near_venues`` and ``not_time_resolved_near_venues``.

    Raises
    ------
    ParameterError
        On missing or non-numeric x/y, degrees in x/y, a bad distance, a
        source in two groups or an unknown ``rank_by``.

    Notes
    -----
    police.uk moves every crime to an anonymous map point (often the middle
    of a street, up to a few hundred metres away), so within-50 m counts of
    police.uk crimes say little about a venue: prefer force RMS locations.

    Examples
    --------
    Two venues 60 m apart. The events at x = 10 and x = 30 are within 50 m of
    both (x = 10 is nearer V1; x = 30 is a tie, given to V1, the first venue);
    x = 70 is near V2 only:

    >>> import pandas as pd
    >>> venues = pd.DataFrame({"venue_id": ["V1", "V2"], "x": [0.0, 60.0], "y": [0.0, 0.0]})
    >>> events = pd.DataFrame({"source": "rms", "x": [10.0, 30.0, 70.0], "y": 0.0, "nte_share": [1.0, 0.5, 0.0]})
    >>> r = venue_risk(venues, events, distance_m=50)
    >>> r[["venue_id", "all_within", "nearest_count", "nearest_nte", "risk_rank"]].values.tolist()
    [['V1', 2, 2, 1.5, 1], ['V2', 3, 1, 0.0, 2]]
    """
    if not (isinstance(distance_m, (int, float)) and math.isfinite(distance_m) and distance_m > 0):
        raise ParameterError(f"distance_m must be a positive number of metres (e.g. 50); got {distance_m!r}")
    vx, vy = _xy(venues, name="venues")
    if not len(vx):
        raise ParameterError("venues has no rows; give the licensed premises to score")
    if "source" not in events.columns:
        raise ParameterError("events has no column source; concatenate the sources with a 'source' column")
    if nte_only and "nte_share" not in events.columns:
        raise ParameterError("events has no column nte_share; add the aoristic NTE shares or pass nte_only=False")
    ex, ey = _xy(events, name="events")
    if not groups:
        raise ParameterError("groups is empty; e.g. groups={'crime': ['police_uk', 'rms']}")
    names = list(groups)
    if any(g == "all" or not str(g).isidentifier() for g in names):
        raise ParameterError(f"group names must be identifiers other than 'all'; got {names}")
    code = _group_codes(events["source"], groups)
    if nte_only:
        share = pd.to_numeric(events["nte_share"], errors="coerce").to_numpy(dtype=np.float64)
        if (np.isfinite(share) & ((share < 0) | (share > 1))).any():
            raise ParameterError("nte_share must be between 0 and 1 (NaN without a time of day); recompute it")
    else:
        share = np.zeros(len(ex))
    keep = code >= 0
    ex, ey, code, share = ex[keep], ey[keep], code[keep], share[keep]
    vi, ej, d = _pairs(vx, vy, ex, ey, distance_m)
    m, k = len(vx), len(names)
    nearest = _nearest_pairs(vi, ej, d)
    w_nte = np.nan_to_num(share, nan=0.0)
    cols: dict[str, np.ndarray] = {}
    for label, (pv, pe) in (("within", (vi, ej)), ("nearest", (vi[nearest], ej[nearest]))):
        key = pv * k + code[pe]
        counts = np.bincount(key, minlength=m * k).reshape(m, k)
        nte = np.bincount(key, weights=w_nte[pe], minlength=m * k).reshape(m, k)
        for j, g in enumerate(names):
            cols[f"{g}_{label}"] = counts[:, j].astype(np.int64)
            if nte_only:
                cols[f"{g}_{label}_nte"] = nte[:, j]
        total = "all_within" if label == "within" else "nearest_count"
        cols[total] = counts.sum(axis=1).astype(np.int64)
        if nte_only:
            cols["all_within_nte" if label == "within" else "nearest_nte"] = nte.sum(axis=1)
    rank_by = rank_by or ("nearest_nte" if nte_only else "nearest_count")
    if rank_by not in cols:
        raise ParameterError(f"rank_by must be one of {sorted(cols)}; got {rank_by!r}")
    cols["risk_rank"] = _competition_rank(cols[rank_by])
    out = venues.assign(**{c: v for c, v in cols.items()})
    out = out.iloc[np.argsort(cols["risk_rank"], kind="stable")]
    near = np.unique(ej)
    out.attrs = {
        "distance_m": float(distance_m),
        "groups": {g: list(groups[g]) for g in names},
        "rank_by": rank_by,
        "nte_only": nte_only,
        "events_ignored": int((~keep).sum()),
        "events_near_venues": int(len(near)),
        "not_time_resolved_near_venues": int(np.isnan(share[near]).sum()) if nte_only else None,
    }
    return out


def _pairs(vx, vy, ex, ey, distance_m):
    """(venue, event, distance) for every pair with ``hypot(dx, dy) <= distance_m``, vectorised."""
    if not len(ex):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    tv = cKDTree(np.column_stack([vx, vy]))
    te = cKDTree(np.column_stack([ex, ey]))
    # search a hair wider, then apply the documented test exactly
    found = tv.sparse_distance_matrix(te, distance_m * (1 + 1e-9) + 1e-9, output_type="ndarray")
    vi = found["i"].astype(np.int64)
    ej = found["j"].astype(np.int64)
    d = np.hypot(ex[ej] - vx[vi], ey[ej] - vy[vi])
    ok = d <= distance_m
    return vi[ok], ej[ok], d[ok]


def _nearest_pairs(vi: np.ndarray, ej: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Indices of the pairs that give each event to its nearest venue (ties: lowest venue position)."""
    order = np.lexsort((vi, d, ej))
    first = np.ones(len(order), dtype=bool)
    first[1:] = ej[order][1:] != ej[order][:-1]
    return order[first]


def risky_facilities(counts, *, column: str | None = None) -> pd.DataFrame:
    """Concentration curve of incidents over venues, with the top-10 %/20 % shares and the Gini coefficient.

    Venues are sorted by incidents, most first (ties in input order). With
    ``n`` venues, ``T`` incidents and ``C_k`` the incidents at the ``k``
    busiest venues, the curve joins ``(k / n, C_k / T)`` for ``k = 0..n``:

    * ``top10_share``, ``top20_share``: the curve read at 10 % and 20 % of
      venues (linear between venues, so with 4 venues the top 10 % is 0.4 of
      the busiest venue);
    * ``gini`` with the ``n``-venue (population) convention, ``x`` sorted
      ascending, ``i = 1..n``::

          G = sum_i (2 i - n - 1) x_(i) / (n sum_i x_i)

      0 when every venue has the same count; at most ``(n - 1) / n`` when one
      venue has every incident (0.75 for four venues). It equals
      ``1 - 2 * (area under the Lorenz curve)``.

    Parameters
    ----------
    counts : DataFrame, Series or array-like
        Incidents per venue. A DataFrame (e.g. from :func:`venue_risk`) is
        read at ``column``; its ``venue_id`` and ``name`` columns are kept.
    column : str, optional
        Column of a DataFrame; default ``attrs["rank_by"]`` (as set by
        :func:`venue_risk`), else ``"nearest_count"``. Use a column without
        double counting (``nearest_*``), so shares add up to 1.

    Returns
    -------
    DataFrame
        One row per venue, busiest first: (``venue_id``, ``name``),
        ``incidents``, ``venue_rank`` (1..n), ``cum_venue_share`` (k / n),
        ``cum_incidents`` and ``cum_incident_share`` (C_k / T; NaN when
        T = 0). ``attrs["summary"]`` is a dict: ``n_venues``, ``incidents``,
        ``top10_share``, ``top20_share``, ``gini`` (NaN when T = 0) and
        ``share_of_venues_with_none``.

    Raises
    ------
    ParameterError
        On an empty input, a missing column, or negative or non-finite counts.

    References
    ----------
    Eck, J. E., Clarke, R. V. and Guerette, R. T. (2007). Risky facilities.
    Crime Prevention Studies 21, 225-264.

    Examples
    --------
    >>> rf = risky_facilities([0, 10, 0, 0])
    >>> rf["cum_incident_share"].tolist(), rf.attrs["summary"]["gini"]
    ([1.0, 1.0, 1.0, 1.0], 0.75)
    >>> rf.attrs["summary"]["top10_share"]
    0.4
    """
    labels: dict[str, np.ndarray] = {}
    if isinstance(counts, pd.DataFrame):
        column = column or counts.attrs.get("rank_by", "nearest_count")
        if column not in counts.columns:
            raise ParameterError(f"counts has no column {column!r}; pass column= one of {list(counts.columns)}")
        values = counts[column]
        labels = {c: counts[c].to_numpy() for c in ("venue_id", "name") if c in counts.columns}
    else:
        values = counts
    x = pd.to_numeric(pd.Series(np.asarray(values).ravel()), errors="coerce").to_numpy(dtype=np.float64)
    if not len(x):
        raise ParameterError("counts is empty; give one incident count per venue")
    if not np.isfinite(x).all() or (x < 0).any():
        raise ParameterError("counts must be finite and >= 0 (one incident count per venue)")
    n = len(x)
    order = np.argsort(-x, kind="stable")
    xs = x[order]
    cum = np.cumsum(xs)
    total = float(cum[-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        cum_share = cum / total if total > 0 else np.full(n, np.nan)
    venue_share = np.arange(1, n + 1) / n
    out = {c: v[order] for c, v in labels.items()}
    integral = bool(np.all(xs % 1 == 0))
    out.update({
        "incidents": xs.astype(np.int64) if integral else xs,
        "venue_rank": np.arange(1, n + 1, dtype=np.int64),
        "cum_venue_share": venue_share,
        "cum_incidents": cum.astype(np.int64) if integral else cum,
        "cum_incident_share": cum_share,
    })
    frame = pd.DataFrame(out)
    curve_x = np.concatenate([[0.0], venue_share])
    curve_y = np.concatenate([[0.0], cum_share])
    asc = xs[::-1]
    gini = float(np.sum((2 * np.arange(1, n + 1) - n - 1) * asc) / (n * total)) if total > 0 else math.nan
    frame.attrs = {"column": column, "summary": {
        "n_venues": n,
        "incidents": total,
        "top10_share": float(np.interp(0.1, curve_x, curve_y)) if total > 0 else math.nan,
        "top20_share": float(np.interp(0.2, curve_x, curve_y)) if total > 0 else math.nan,
        "gini": gini,
        "share_of_venues_with_none": float((x == 0).mean()),
    }}
    return frame
