"""The shared version of a profile: the ONE place disclosure control happens.

:func:`to_shared` takes the restricted :class:`~profiles.numbers.ProfileNumbers`
and returns a new one in which no count of ``1 .. k-1`` is published and no
withheld count can be worked back from anything else that is published. Renderers
draw whatever they are given, so a shared output is safe exactly when the numbers
handed to them are.

How (the method annex reads :data:`METHOD` and ``Disclosure.withheld``):

* **Counts** go through :mod:`hotspots.disclosure`: primary suppression of
  ``1 .. k-1``, secondary suppression so that every line (a column with its
  published total, a table row with its total) holds at least two withheld
  entries summing to at least ``k``, and for 2-D tables the LP audit.
  Quantities that are the same numbers in two places share one pattern (the
  police.uk month x type table is the trend, the type mix, the police.uk threat
  areas and the total; a source's fused grid is the map layer, the place
  components and the perception counts).
* **Fractional (aoristic) counts** are rounded half up to whole numbers, any
  positive value to at least 1, and then suppressed like counts: an aoristic
  value ``v`` comes from at least ``ceil(v)`` events, so a published ``>= k``
  still means at least ``k`` events.
* **Derived values** (shares, scores, ratios, ranks, harm sums, curves) are
  published only when every count they are made of is published, or when they
  are recomputed from published numbers alone (a function of what is published
  tells a reader nothing new); otherwise they are withheld. Rank orders that
  would bound a withheld count are recomputed from published numbers.
* **Outputs that cannot be protected cell by cell** are dropped: event points,
  the restricted data products, the harm-weighted and perception rasters, the
  PAI curve and every Gi* z-score and p-value.

Examples
--------
>>> import sys; sys.path.insert(0, "tests")
>>> from numbers_factory import make_numbers
>>> shared = to_shared(make_numbers(0))
>>> shared.disclosure.release, shared.disclosure.threshold
('partner', 10)
>>> shared.hotspots.points is None, shared.products.grid is None
(True, True)
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, overload

import numpy as np
import pandas as pd

from hotspots.config import DEFAULT_SHARED_HANDLING, DEFAULT_THRESHOLDS
from hotspots.disclosure import suppress_series, suppress_table
from hotspots.errors import ParameterError
from hotspots.kde import KDEResult
from profiles.findings import build_findings
from profiles.numbers import (
    Context,
    DataQuality,
    Disclosure,
    Findings,
    Fused,
    Hotspots,
    Meta,
    Products,
    ProfileNumbers,
    SourceQuality,
    ThreatCounts,
    Trend,
    Venues,
    Volume,
    What,
    When,
)
from profiles.stra.compute import StraNumbers, funnels_for, morile_for, national_for, rebuild_words

__all__ = ["METHOD", "PUBLICATION_HANDLING", "default_threshold", "shared_handling", "stra_shared", "stra_table",
           "to_shared"]

METHOD = (
    "primary suppression of counts 1..k-1; secondary suppression (every line with a withheld entry holds two or "
    "more summing to k or more) audited by linear programming; aoristic counts rounded half up (positive to at "
    "least 1) before suppression; derived values published only when made of published counts or recomputed "
    "from them; event points, restricted rasters, the PAI curve and Gi* z/p dropped; shown as [c]"
)
PUBLICATION_HANDLING = (
    "Disclosure-controlled version for publication: counts below {threshold} and the values that would reveal "
    "them are withheld."
)
POLICE_UK_TYPES = {"police_uk_violence_sexual": "Violence and sexual offences",
                   "police_uk_public_order": "Public order"}
# Peak of each kernel (the density a lone point of weight 1 gives at its own pixel), per output.
_SCALED_PEAK: dict[str, Callable[[float, float], float]] = {
    "quartic": lambda r, d: 3 / (math.pi * r * r),
    "triangular": lambda r, d: 3 / ((1 + 2 * d) * math.pi * r * r),
    "uniform": lambda r, d: 1 / (math.pi * r * r),
    "triweight": lambda r, d: 4 / (math.pi * r * r),
    "epanechnikov": lambda r, d: 2 / (math.pi * r * r),
}


def default_threshold(release: str) -> int:
    """The release's default threshold: 10 for partner release, 5 for publication.

    Examples
    --------
    >>> default_threshold("partner"), default_threshold("publication")
    (10, 5)
    """
    if release not in DEFAULT_THRESHOLDS:
        raise ParameterError(f"release must be 'partner' or 'publication'; got {release!r}")
    return int(DEFAULT_THRESHOLDS[release])


def shared_handling(release: str, threshold: int, handling: str | None = None) -> str:
    """The shared version's handling line (``{threshold}`` filled in).

    Examples
    --------
    >>> shared_handling("publication", 5)
    'Disclosure-controlled version for publication: counts below 5 and the values that would reveal them are withheld.'
    """
    text = handling if handling is not None else (
        PUBLICATION_HANDLING if release == "publication" else DEFAULT_SHARED_HANDLING
    )
    return text.replace("{threshold}", str(threshold))


# --- small kernels ----------------------------------------------------------------------------------


def _checked_threshold(release: str, threshold: int | None) -> int:
    k = default_threshold(release) if threshold is None else threshold
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise ParameterError(f"threshold must be an integer >= 2 (5 for publication, 10 for partners); got {k!r}")
    return int(k)


def _whole(values: np.ndarray) -> np.ndarray:
    """Aoristic (fractional) counts as whole numbers: half up, any positive value at least 1.

    Examples
    --------
    >>> _whole(np.array([0.0, 0.2, 1.5, 2.49, 9.5])).tolist()
    [0, 1, 2, 2, 10]
    """
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    return np.where(v > 0, np.maximum(np.floor(v + 0.5), 1), 0).astype(np.int64)


def _held_1d(values: np.ndarray, k: int, *, total: bool = True) -> np.ndarray:
    """Withheld mask of one column of counts with (or without) its published total."""
    if not len(values):
        return np.zeros(0, bool)
    return suppress_series(pd.Series(np.asarray(values, np.int64)), threshold=k, total=total).mask.to_numpy(bool)


def _impute(values: np.ndarray, held: np.ndarray, total: float | None) -> np.ndarray:
    """Values with every withheld one replaced by the mean of the withheld ones, known from the published total.

    A function of published numbers only (the total minus the published values, shared out), so anything
    computed from it reveals nothing more; without a total the withheld values count 0.
    """
    out = np.asarray(values, dtype=float).copy()
    if held.any():
        rest = 0.0 if total is None else max(float(total) - float(out[~held].sum()), 0.0)
        out[held] = rest / int(held.sum())
    return out


def _int_na(values: np.ndarray, held: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.where(held, 0, values).astype(np.int64), np.asarray(held, bool))


def _small(v: Any, k: int) -> bool:
    """True for a number in ``(0, k)`` (a count that must not be published); False for None/NaN/NA."""
    if v is None or v is pd.NA:
        return False
    x = float(v)
    return not math.isnan(x) and 0 < x < k


class _Ledger:
    """What disclosure control did: withheld entries and one sentence per derived value withheld or coarsened."""

    def __init__(self) -> None:
        self.cells = 0
        self.changed = False  # a derived value was withheld or recomputed
        self.notes: dict[str, None] = {}

    def count(self, held: np.ndarray | pd.Series | pd.DataFrame) -> None:
        self.cells += int(np.asarray(held, bool).sum())

    def note(self, sentence: str, *, changed: bool = True) -> None:
        self.notes[sentence] = None
        self.changed |= changed


# --- the parts --------------------------------------------------------------------------------------


def _police_uk(trend: Trend, k: int, led: _Ledger) -> tuple[pd.DataFrame, pd.Series, pd.Series, bool, pd.DataFrame]:
    """Month x police.uk type table with its month totals, type totals and grand total, suppressed once.

    Returns (withheld cells month x type, withheld month totals, withheld type totals, grand total withheld,
    the counts month x type), over the available months.
    """
    t = trend.by_type
    avail = t["available"].astype(bool)
    wide = t[avail].pivot_table(index="month", columns="crime_type", values="count", aggfunc="sum",
                                observed=False).fillna(0).astype(np.int64)
    if wide.empty:
        return wide.astype(bool), pd.Series(dtype=bool), pd.Series(dtype=bool), False, wide
    st = suppress_table(wide, threshold=k)
    led.count(st.mask)
    assert st.row_totals is not None and st.col_totals is not None
    led.count(st.row_totals.isna())
    led.count(st.col_totals.isna())
    grand = st.grand_total is pd.NA
    led.cells += int(grand)
    month_held = st.row_totals.isna()
    mo = trend.monthly[trend.monthly["available"].astype(bool)]
    mo_counts = pd.Series(mo["count"].fillna(0).to_numpy(np.int64), index=mo["month"].astype(str).to_numpy())
    if not mo_counts.equals(wide.sum(axis=1).rename(index=str).rename(None).astype(np.int64)):
        # the monthly series is not the table's month totals: its own line rule, and the union
        own = pd.Series(_held_1d(mo_counts.to_numpy(), k), index=mo_counts.index)
        month_held = own.combine(month_held.rename(index=str), lambda a, b: bool(a) | bool(b), fill_value=False)
        led.count(own)
    return st.mask, month_held, st.col_totals.isna(), grand, wide


def _trend(trend: Trend, cells: pd.DataFrame, months: pd.Series, k: int, led: _Ledger) -> Trend:
    by = trend.by_type
    key = pd.MultiIndex.from_arrays([by["month"].astype(str), by["crime_type"].astype(str)])
    stacked = cells.stack() if not cells.empty else pd.Series(dtype=bool)
    if len(stacked):
        stacked.index = pd.MultiIndex.from_arrays([stacked.index.get_level_values(0).astype(str),
                                                   stacked.index.get_level_values(1).astype(str)])
    held = stacked.reindex(key, fill_value=False).to_numpy(bool) & by["available"].to_numpy(bool)
    by = by.assign(count=_int_na(by["count"].fillna(0).to_numpy(), held | by["count"].isna().to_numpy()),
                   suppressed=held)
    mo = trend.monthly
    mheld = months.reindex(mo["month"].astype(str)).fillna(False).to_numpy(bool) & mo["available"].to_numpy(bool)
    mo = mo.assign(count=_int_na(mo["count"].fillna(0).to_numpy(), mheld | mo["count"].isna().to_numpy()),
                   suppressed=mheld)
    yoy, chart = trend.yoy, trend.chart
    if mheld.any():
        for col in ("mean", "ucl", "lcl"):
            if col in mo:
                mo[col] = np.nan
        for col in ("signal", "run"):
            if col in mo:
                mo[col] = None
        reason = "a monthly count is withheld by disclosure control"
        yoy = {"available": False, "reason": reason}
        chart = None
        led.note("Control-chart mean and limits, signals, runs and the year-on-year change: withheld, because "
                 "a monthly police.uk count is withheld and they would reveal it.")
    return Trend(monthly=mo, yoy=yoy, chart=chart, by_type=by)


def _threats(threats: ThreatCounts, puk: tuple[pd.DataFrame, pd.Series, pd.DataFrame], k: int,
             led: _Ledger) -> tuple[ThreatCounts, dict[str, bool]]:
    """Per source a month x threat-area table with area totals and the source total (no month totals).

    The police.uk areas take the police.uk month x type table's pattern when they hold the same counts.
    """
    cells_puk, type_held, puk_counts = puk
    table = threats.table.copy()
    table["month"] = table["month"].astype(str)
    held = np.zeros(len(table), bool)
    tot = threats.totals.set_index("threat_area")
    tot_held = pd.Series(False, index=tot.index)
    by_source: dict[str, list[str]] = {}
    for area, source in threats.sources.items():
        by_source.setdefault(source, []).append(area)
    for source, areas in by_source.items():
        sub = table[table["threat_area"].isin(areas) & table["available"].astype(bool)]
        wide = sub.pivot_table(index="month", columns="threat_area", values="count", aggfunc="sum",
                               observed=False).reindex(columns=[a for a in areas if a in set(sub["threat_area"])])
        if wide.empty:
            continue
        wide = wide.fillna(0).astype(np.int64)
        linked = source == "police_uk" and all(
            POLICE_UK_TYPES.get(a) in cells_puk.columns
            and cells_puk.index.astype(str).equals(wide.index.astype(str))
            and np.array_equal(puk_counts[POLICE_UK_TYPES[a]].to_numpy(), wide[a].to_numpy()) for a in wide.columns
        )
        if linked:  # the same numbers as the police.uk month x type table: its pattern
            mask = pd.DataFrame({a: cells_puk[POLICE_UK_TYPES[a]].to_numpy() for a in wide.columns},
                                index=wide.index)
            col_held = pd.Series({a: bool(type_held[POLICE_UK_TYPES[a]]) for a in wide.columns})
        else:
            st = suppress_table(wide, threshold=k, row_total=False, col_total=True)
            mask = st.mask
            assert st.col_totals is not None
            col_held = st.col_totals.isna()
            led.count(mask)
            led.count(col_held)
        stacked = mask.stack()
        lookup = pd.Series(stacked.to_numpy(bool), index=pd.MultiIndex.from_arrays(
            [stacked.index.get_level_values(0).astype(str), stacked.index.get_level_values(1).astype(str)]))
        idx = pd.MultiIndex.from_arrays([table["month"], table["threat_area"].astype(str)])
        held |= lookup.reindex(idx, fill_value=False).to_numpy(bool) & table["available"].to_numpy(bool)
        tot_held.loc[[a for a in col_held.index if a in tot_held.index]] = col_held[
            [a for a in col_held.index if a in tot_held.index]].to_numpy(bool)
    table["count"] = _int_na(table["count"].fillna(0).to_numpy(), held | table["count"].isna().to_numpy())
    table["suppressed"] = held
    totals = threats.totals.copy()
    th = tot_held.reindex(totals["threat_area"]).fillna(False).to_numpy(bool)
    totals["count"] = _int_na(totals["count"].fillna(0).to_numpy(), th)
    totals["suppressed"] = th
    return ThreatCounts(table=table, totals=totals, sources=threats.sources), dict(
        zip(totals["threat_area"].astype(str), th.tolist(), strict=True))


def _grid_masks(grids: Mapping[str, pd.DataFrame], k: int, led: _Ledger) -> dict[str, pd.Series]:
    """Per source, the cells withheld in every band: one pattern for the source's all, nte and other grids.

    Each column (all-band count; nte events; nte and other aoristic counts, rounded) gets its own line
    suppression against its published total; the union is withheld in all of them, so no band recovers
    another (all - other = nte, n_events - other = nte). A union of withheld sets keeps every line rule.
    """
    masks: dict[str, pd.Series] = {}
    for band in ("all", "nte", "other"):
        g = grids.get(band)
        if g is None or g.empty:
            continue
        for source, sub in g.groupby("source", sort=False, observed=True):
            cols = [sub["count"].to_numpy(np.int64) if band == "all" else _whole(sub["count"].to_numpy())]
            if "n_events" in sub:
                cols.append(sub["n_events"].to_numpy(np.int64))
            held = np.zeros(len(sub), bool)
            for values in cols:
                held |= _held_1d(values, k)
            m = pd.Series(held, index=sub["h3_cell"].astype(str).to_numpy())
            prev = masks.get(str(source))
            masks[str(source)] = m if prev is None else prev.combine(m, lambda a, b: bool(a) | bool(b),
                                                                       fill_value=False)
    return masks


def _held_cells(masks: Mapping[str, pd.Series], source: str, cells: pd.Series) -> np.ndarray:
    m = masks.get(source)
    if m is None:
        return np.zeros(len(cells), bool)
    return m.reindex(cells.astype(str).to_numpy()).fillna(False).to_numpy(bool)


def _grids(grids: Mapping[str, pd.DataFrame], masks: Mapping[str, pd.Series], k: int,
           led: _Ledger) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    if "nte_rms_ae_r10" in grids:
        led.note("NTE street view (H3 resolution 10): not shared (its cells' counts differenced from the "
                 "resolution-9 counts could reveal small numbers).")
    for band, g in grids.items():
        if band == "nte_rms_ae_r10":
            continue
        g = g.copy()
        if band == "nte_rms_ae":  # a per-cell sum: withheld wherever a part is
            held = _held_cells(masks, "rms", g["h3_cell"]) | _held_cells(masks, "ae", g["h3_cell"])
            values = g["count"].to_numpy(np.int64)
        else:
            held = np.zeros(len(g), bool)
            for source in g["source"].astype(str).unique():
                sel = (g["source"].astype(str) == source).to_numpy()
                held[sel] = _held_cells(masks, source, g.loc[sel, "h3_cell"])
            values = g["count"].to_numpy(np.int64) if band == "all" else _whole(g["count"].to_numpy())
        held |= (values >= 1) & (values < k)  # a guard: nothing small is ever published
        g["count"] = _int_na(values, held)
        if "n_events" in g:
            g["n_events"] = _int_na(g["n_events"].to_numpy(np.int64), held)
        if "weight_sum" in g:
            g = g.drop(columns="weight_sum")
        g["suppressed"] = held
        g.attrs = {a: v for a, v in g.attrs.items() if a in ("resolution", "band", "weight")}
        led.count(held)
        out[band] = g
    if any("weight_sum" in g for g in grids.values()):
        led.note("Harm-weighted sums per cell: withheld (with the offence weights known, a cell's harm sum "
                 "reveals its count and its mix).", changed=False)
    if any(b in grids for b in ("nte", "other", "nte_rms_ae")):
        led.note("NTE-window (aoristic) counts per cell: rounded half up to whole numbers (any positive value to "
                 "at least 1) and suppressed with the same pattern as the source's all-day counts.", changed=False)
    return out


def _places(places: pd.DataFrame, masks: Mapping[str, pd.Series], totals: Mapping[str, float], k: int,
            led: _Ledger) -> pd.DataFrame:
    """Place scores: components withheld with their map cells; scores, shares and ranks from published counts."""
    p = _identity_shared(places, None, k, led)  # street shares there are of police.uk counts not shown beside them
    p.attrs = dict(places.attrs)
    sources = list(p.attrs.get("sources") or [c[: -len("_count")] for c in p.columns if c.endswith("_count")])
    weights = dict(p.attrs.get("source_weights") or {s: 1.0 for s in sources})
    method = p.attrs.get("method", "share")
    any_held = np.zeros(len(p), bool)
    lower = np.zeros(len(p))
    for s in sources:
        held = _held_cells(masks, s, p["h3_cell"])
        any_held |= held
        count = p[f"{s}_count"].to_numpy(np.int64)
        total = float(totals.get(s) or 0.0)
        p[f"{s}_count"] = _int_na(count, held)
        share = np.where(held, np.nan, count / total if total else np.nan)
        p[f"{s}_share"] = share
        lower += weights.get(s, 1.0) * np.nan_to_num(share)
    lower = 100 * lower / (sum(weights.get(s, 1.0) for s in sources) or 1.0)
    p = p.drop(columns=[c for c in p.columns if c.endswith("_rank_pct")])
    if "n_sources" in p:
        p["n_sources"] = p["n_sources"].astype("Int64").where(~any_held)
    if method == "share":
        order_score = np.where(any_held, lower, p["place_score"].to_numpy(float))
        p["place_score"] = np.where(any_held, np.nan, p["place_score"].to_numpy(float))
    else:
        order_score = lower
        p["place_score"] = np.nan
        led.note("Place scores by rank percentile: withheld (a percentile tells how many withheld cells lie "
                 "below a published count).")
    # the small-number rule holds in the shared ranking too: eligible places first, each group by its score
    elig = p["eligible"].fillna(True).astype(bool).to_numpy() if "eligible" in p else np.ones(len(p), bool)
    p["_order"] = order_score
    p["_elig"] = elig
    p = p.sort_values(["_elig", "_order", "h3_cell"], ascending=[False, False, True], kind="stable")
    s_elig, s_score = p["_elig"].to_numpy(bool), p["_order"].to_numpy(float)
    rank = np.empty(len(p), dtype=np.int64)
    for grp, offset in ((s_elig, 0), (~s_elig, int(s_elig.sum()))):
        rank[grp] = offset + pd.Series(-s_score[grp]).rank(method="min").astype(np.int64).to_numpy()
    p["place_rank"] = rank
    p = p.drop(columns=["_order", "_elig"]).reset_index(drop=True)
    p.attrs = {a: v for a, v in places.attrs.items() if a != "rank_pct"}
    if "source_totals" in p.attrs:
        p.attrs["source_totals"] = {s: (None if _small(v, k) else v) for s, v in p.attrs["source_totals"].items()}
    if any_held.any():
        led.note("Place score: withheld where a component count is withheld (score = weighted mean of source "
                 "shares, so with the other components and the source totals it gives the withheld count back); "
                 "places ordered and ranked by the score of their published components; per-source share "
                 "withheld with its count; rank percentiles and the number of sources dropped or withheld.")
    return p


def _perception(per: pd.DataFrame, masks: Mapping[str, pd.Series], recorded: Sequence[str],
                led: _Ledger) -> pd.DataFrame:
    p = per.copy()
    held_p = _held_cells(masks, "streetsafe", p["h3_cell"])
    held_r = np.zeros(len(p), bool)
    for s in recorded:
        held_r |= _held_cells(masks, s, p["h3_cell"])
    p["perception_count"] = _int_na(p["perception_count"].to_numpy(np.int64), held_p)
    p["recorded_count"] = _int_na(p["recorded_count"].to_numpy(np.int64), held_r)
    either = held_p | held_r
    p["gap_ratio"] = np.where(either, np.nan, p["gap_ratio"].to_numpy(float))
    if "gap_ratio_eb" in p:
        p["gap_ratio_eb"] = np.where(either, np.nan, p["gap_ratio_eb"].to_numpy(float))
    if "gap_log2" in p:
        p["gap_log2"] = np.where(either, np.nan, p["gap_log2"].to_numpy(float))
    p["gap_class"] = pd.Series(p["gap_class"], dtype=object).where(~either, None)
    if "reasons" in p:
        p["reasons"] = pd.Series(p["reasons"], dtype=object).where(~either, "")
    p["suppressed"] = either
    if either.any():
        led.note("Perception gap ratio and class: withheld where StreetSafe or recorded count is withheld (the "
                 "ratio, or the class's inequality, with the other count and the totals bounds the withheld one).")
    return p


def _kde_floor(kde: KDEResult, k: int) -> float | None:
    """Density that ``k`` events stacked at one pixel give there; None when it cannot be known."""
    prm = kde.params
    n, w = prm.get("n_points"), prm.get("total_weight")
    if n is None or w is None or abs(float(w) - float(n)) > 1e-6 * max(float(n), 1.0):
        return None  # a weighted surface: a pixel's density does not bound its event count
    if prm.get("qgis_compat") and prm.get("kernel") == "quartic" and prm.get("output") == "scaled":
        r = float(prm["radius_m"])
        return k * 116 / (5 * math.pi * r * r) * 15 / 16
    if prm.get("output", "raw") == "raw":
        return float(k)
    peak = _SCALED_PEAK.get(str(prm.get("kernel")))
    return None if peak is None else k * peak(float(prm["radius_m"]), float(prm.get("decay") or 0.0))


def _kde(kde: KDEResult | None, k: int, led: _Ledger) -> KDEResult | None:
    if kde is None:
        return None
    floor = _kde_floor(kde, k)
    if floor is None:
        led.note("KDE surface: dropped (a weighted surface's density does not bound the number of events).")
        return None
    d = kde.density
    keep = (d != kde.nodata) & (d >= floor * (1 - 1e-6))
    led.note(f"KDE surface: pixels whose density is below what {k} events at that pixel would give are masked "
             f"(every shown pixel has at least {k} events within the search radius).", changed=False)
    params = {**kde.params, "disclosure_floor": floor}
    return dataclasses.replace(kde, density=np.where(keep, d, kde.nodata).astype(d.dtype), params=params)


def _hotspots(hs: Hotspots, masks: Mapping[str, pd.Series], volume_total: float | None, k: int,
              led: _Ledger) -> tuple[Hotspots, np.ndarray | None]:
    counts = hs.counts
    cheld: np.ndarray | None = None
    by_cell = pd.Series(dtype=bool)
    if counts is not None:
        values = counts["count"].to_numpy(np.int64)
        # the police.uk map layer's pattern (the same counts), with this column's own line rule as well
        cheld = _held_cells(masks, "police_uk", counts["h3_cell"]) | _held_1d(values, k)
        by_cell = pd.Series(cheld, index=counts["h3_cell"].astype(str).to_numpy())
        counts = counts.assign(count=_int_na(values, cheld), suppressed=cheld)
        led.count(cheld)
    gi = hs.gi.copy()
    if "count" in gi:
        gheld = (by_cell.reindex(gi["h3_cell"].astype(str)).fillna(False).to_numpy(bool)
                 if cheld is not None else _held_1d(gi["count"].to_numpy(np.int64), k))
        gi["count"] = _int_na(gi["count"].to_numpy(np.int64), gheld)
    sig = gi["gi_significant"].astype(bool).to_numpy()
    gi["gi_bin"] = np.where(sig, gi["gi_bin"].to_numpy(), 0)
    for col in ("gi_z", "gi_p", "gi_p_fdr"):
        if col in gi:
            gi[col] = np.nan
    led.note("Gi* z-scores and p-values: withheld (every z is a linear function of the counts in a cell's "
             "neighbourhood, so all of them together give the counts back); only the confidence bin of "
             "significant cells is published (a bin still bounds a neighbourhood's sum to a window of roughly "
             "0.8 standard deviations of the cell counts times the square root of the neighbourhood size: "
             "acceptable because Gi* runs on open police.uk data).", changed=False)
    places = hs.places.copy()
    if cheld is not None and len(places):
        pheld = by_cell.reindex(places["h3_cell"].astype(str)).fillna(False).to_numpy(bool)
    else:
        pheld = (places["count"].to_numpy() >= 1) & (places["count"].to_numpy() < k) if len(places) else np.zeros(
            0, bool)
    if pheld.any():
        led.note("Top police.uk places: a place whose count is withheld is left out of the list (its position "
                 "would bound its count); ranks are positions among the places listed.")
    places = places[~pheld].reset_index(drop=True)
    if len(places) and "label" in places:
        places["label"] = _label_shares(places["label"], places["count"].to_numpy(float), k, led)
    if len(places):
        places = _identity_shared(places, places["count"].to_numpy(float), k, led)
    if len(places):
        places["count"] = pd.array(places["count"].to_numpy(np.int64), dtype="Int64")
        places["rank"] = np.arange(1, len(places) + 1)
        if "gi_z" in places:
            places["gi_z"] = np.nan
    clusters = hs.clusters
    if clusters is not None and len(clusters):
        size = "n_points" if "n_points" in clusters else "n_events"
        small = clusters[size].to_numpy() < k
        if small.any():
            led.note(f"DBSCAN clusters of fewer than {k} events: dropped.")
        clusters = clusters[~small].copy()
    quality = hs.quality.copy()
    if {"n_test_hot", "n_test"} <= set(quality.columns) and len(quality):
        hot, n = quality["n_test_hot"].to_numpy(float), quality["n_test"].to_numpy(float)
        bad = ((hot > 0) & (hot < k)) | ((n - hot > 0) & (n - hot < k)) | ((n > 0) & (n < k))
        if bad.any():
            for col in ("n_test_hot", "hit_rate", "pai", "pei", "rri"):
                if col in quality:
                    quality[col] = quality[col].astype(float).where(~bad)
            quality["n_test"] = quality["n_test"].astype(float).where(~((n > 0) & (n < k)))
            led.note("Hotspot quality (hit rate, PAI, PEI, RRI) of a layer with fewer than k held-out events "
                     "inside or outside it: withheld.")
    if hs.pai_curve is not None:
        led.note("PAI curve: dropped (the hit counts at successive cut-offs difference to per-cell counts of the "
                 "held-out months).")
    repeats = {src: {key: (None if key in ("events", "locations", "repeat_locations", "repeat_events",
                                              "max_events") and _small(v, k) else v) for key, v in r.items()}
               for src, r in hs.repeats.items()}
    for r in repeats.values():
        ev, rep = r.get("events"), r.get("repeat_events")
        if ev is None or rep is None or _small(float(ev) - float(rep), k):
            r["repeat_events"] = r["repeat_share"] = None  # with the events, a share gives the count back
    st = hs.spacetime
    if st is not None:
        st = st[["h3_cell", "st_class"]].reset_index(drop=True)
        led.note("Space-time classes: the class of each cell is published, not its numbers of hot or cold months.")
    return dataclasses.replace(
        hs, counts=counts, gi=gi, kde=_kde(hs.kde, k, led), clusters=clusters, points=None, places=places,
        quality=quality, pai_curve=None, spacetime=st, repeats=repeats,
    ), cheld


_PCT = re.compile(r"\s*\((\d+(?:\.\d+)?)%\)\s*$")


_ANY_PCT = re.compile(r"\s*\((\d+(?:\.\d+)?)%\)")
_POINT_SHARE = re.compile(r"one map point holds \d+(?:\.\d+)?% of the crimes")


def _streets_shares(streets: pd.Series, counts: np.ndarray | None, k: int) -> tuple[pd.Series, np.ndarray]:
    """Street labels with their "(NN%)" shares kept only where no share (nor the unlisted rest) tells a count below k.

    ``counts`` is the cell's published count (None: no count is published beside these labels, so every share
    goes: a share of an unpublished count is not checkable).

    Examples
    --------
    >>> s = pd.Series(["Marsh Street (30%); Nightclub (25%)", "Lanes End (97%); Other (2%)"])
    >>> _streets_shares(s, np.array([200.0, 200.0]), 10)[0].tolist()
    ['Marsh Street (30%); Nightclub (25%)', 'Lanes End; Other']
    """
    text = streets.astype(object).where(streets.notna(), "").astype(str)
    strip = np.zeros(len(text), dtype=bool)
    for i, t in enumerate(text.tolist()):  # the ranked places: a few dozen
        pcts = [float(x) for x in _ANY_PCT.findall(t)]
        if not pcts:
            continue
        if counts is None or not np.isfinite(counts[i]):
            strip[i] = True
            continue
        n = float(counts[i])
        parts = [*pcts, max(100.0 - sum(pcts), 0.0)]  # each listed share and the unlisted rest
        for j, p in enumerate(parts):
            step = 0.5 * (len(pcts) if j == len(pcts) else 1)  # the rest carries every listed share's rounding
            lo, hi = n * (p - step) / 100, n * (p + step) / 100
            if (0 < hi < k) or (hi - lo < 1 and hi > 0):
                strip[i] = True
                break
    out = text.copy()
    out[strip] = text[strip].str.replace(_ANY_PCT, "", regex=True)
    return out, strip


def _identity_shared(places: pd.DataFrame, counts: np.ndarray | None, k: int, led: _Ledger) -> pd.DataFrame:
    """Identity columns of ranked places in a shared version: shares that tell a small count go; no point share."""
    p = places.copy()
    if "streets" in p:
        p["streets"], strip = _streets_shares(p["streets"], counts, k)
        if strip.any():
            led.note("Street labels of a place: their shares removed where one (or the unlisted rest) tells a count "
                     "below k, and wherever the cell's count is not published beside them.")
    if "artefact_reason" in p:
        p["artefact_reason"] = p["artefact_reason"].astype(object).where(p["artefact_reason"].notna(), "").astype(
            str).str.replace(_POINT_SHARE, "one map point holds most of the crimes", regex=True)
    if "main_point_share" in p:
        p["main_point_share"] = np.nan
    return p


def _label_shares(labels: pd.Series, counts: np.ndarray, k: int, led: _Ledger) -> pd.Series:
    """Strip a label's "(NN%)" (the top location's share of the cell) when it tells a count below ``k``.

    With the cell's count published, NN% bounds the events at the top location (and elsewhere in the cell) to
    ``count * (NN -+ 0.5) / 100``; when either range lies below ``k`` the share goes.

    Examples
    --------
    >>> _label_shares(pd.Series(["On or near A (97%)", "On or near B (30%)"]), np.array([200.0, 200.0]), 10,
    ...               _Ledger()).tolist()
    ['On or near A', 'On or near B (30%)']
    """
    text = labels.astype(object).where(labels.notna(), "").astype(str)
    pct = pd.to_numeric(text.str.extract(_PCT, expand=False), errors="coerce").to_numpy(float)
    step = 0.5
    at_hi = counts * (pct + step) / 100
    rest_hi = counts * (100 - pct + step) / 100
    at_lo, rest_lo = counts * (pct - step) / 100, counts * (100 - pct - step) / 100
    small = ((at_hi < k) & (at_hi > 0)) | ((rest_hi < k) & (rest_hi > 0)) | (at_hi - at_lo < 1) | (
        rest_hi - rest_lo < 1)
    small &= ~np.isnan(pct)
    if small.any():
        led.note("A place label's share of the cell at its top location: removed where it tells a count below k.")
    out = labels.astype(object).copy()
    out[small] = text[small].str.replace(_PCT, "", regex=True)
    return out


def _volume(vol: Volume, hs_counts: pd.DataFrame | None, cheld: np.ndarray | None, gi: pd.DataFrame,
            total_held: bool, led: _Ledger, k: int = 10) -> Volume:
    total = None if total_held else vol.total
    top_share, hot_share = vol.top_share, vol.gi_hot_share
    if total is None:
        top_share = hot_share = None
    elif hs_counts is not None and cheld is not None and cheld.any():
        values = hs_counts["count"].fillna(0).to_numpy(float)
        imputed = _impute(values, cheld, total)
        order = np.argsort(-imputed, kind="stable")[: vol.top_cells]
        top_share = float(imputed[order].sum() / total) if total else None
        hot = set(gi.loc[gi["gi_significant"].astype(bool) & (gi["gi_bin"] > 0), "h3_cell"].astype(str))
        in_hot = hs_counts["h3_cell"].astype(str).isin(hot).to_numpy()
        hot_share = float(imputed[in_hot].sum() / total) if total else None
        led.note("Share of crime in the top cells and in Gi* hot spots: computed from published cell counts, "
                 "each withheld cell counted as the mean of the withheld cells (known from the total).")
    published = vol.published
    if published is not None and (total is None or _small(published, k) or _small(published - total, k)):
        published = None  # published minus mapped would give a small count (or the total is withheld)
        led.note("police.uk's published count beside the mapped count: withheld where their difference is below k.")
    return dataclasses.replace(vol, total=total, top_share=top_share, gi_hot_share=hot_share, published=published)


def _venues(v: Venues, k: int, led: _Ledger) -> Venues:
    if v.risk is None or not len(v.risk):
        return v
    r = v.risk.copy()
    counts = [c for c in r.columns if ("within" in str(c) or "nearest" in str(c)) and
              pd.api.types.is_numeric_dtype(r[c]) and not pd.api.types.is_bool_dtype(r[c])]
    cols = [c for c in ("crime_within", "ae_within", "nearest_nte") if c in counts]
    dropped = [c for c in counts if c not in cols]
    if dropped:  # sums and splits of the shown counts (all = crime + ae, nte <= all): they would give them back
        r = r.drop(columns=dropped)
        led.note("Venue counts other than crime within, A&E within and NTE-window incidents (their sums and "
                 "splits): not shared.", changed=False)
    rank_col = "nearest_nte" if "nearest_nte" in cols else None
    any_held = np.zeros(len(r), bool)
    imputed_rank: np.ndarray | None = None
    rank_total_held = False
    for c in cols:
        values = _whole(r[c].to_numpy(float))
        held = _held_1d(values, k, total=c == rank_col)  # only the NTE incidents have a published total
        led.count(held)
        any_held |= held
        if c == rank_col:
            rank_total_held = _small(values.sum(), k)  # suppress_series withholds a total below k
            imputed_rank = _impute(values, held, None if rank_total_held else float(values.sum()))
        r[c] = _int_na(values, held)
    if imputed_rank is not None:
        r["_order"] = imputed_rank
        r = r.sort_values("_order", ascending=False, kind="stable")
        r["risk_rank"] = (-r["_order"]).rank(method="min").astype(np.int64)
        r = r.drop(columns="_order").reset_index(drop=True)
    risky, summary = v.risky, dict(v.summary) if v.summary is not None else None
    if imputed_rank is None or rank_total_held:
        risky = None
        if summary is not None:
            summary.update(top10_share=None, gini=None)
        led.note("Risky-facilities curve, top-10% share and Gini: withheld (no venue counts, or fewer than k "
                 "incidents in all).")
    else:
        inc = np.sort(imputed_rank)[::-1]
        held_sorted = r[rank_col].isna().to_numpy()
        n, tot = len(inc), float(inc.sum())
        kk = np.arange(1, n + 1)
        cum = np.cumsum(inc)
        risky = pd.DataFrame({
            "name": r["name"].to_numpy() if "name" in r else kk, "incidents": r[rank_col].to_numpy(),
            "venue_rank": kk, "cum_venue_share": kk / n, "cum_incidents": np.where(held_sorted, np.nan, cum),
            "cum_incident_share": cum / tot if tot else np.nan,
        })
        if summary is not None and n:
            top = max(int(np.ceil(n / 10)) - 1, 0)
            summary["top10_share"] = float(cum[top] / tot) if tot else float("nan")
            asc = np.r_[0.0, np.cumsum(inc[::-1])] / tot if tot else None
            summary["gini"] = float(1 - 2 * np.trapezoid(asc, dx=1 / n)) if asc is not None else float("nan")
            if "top_name" in summary and "name" in r:
                summary["top_name"] = str(r["name"].iloc[0])
        if held_sorted.any():
            led.note("Venue counts: rounded (aoristic) and suppressed; venues ordered, ranked and the "
                     "risky-facilities curve, top-10% share and Gini computed with each withheld count set to the "
                     "mean of the withheld counts (known from the published total).")
    conc = v.concentration
    if conc is not None:
        ints = [getattr(conc, "n_events_near", None), getattr(conc, "n_events_outside", None)]
        n_ev, n_near = getattr(conc, "n_events", None), getattr(conc, "n_events_near", None)
        if n_ev is not None and n_near is not None:
            ints.append(n_ev - n_near)
        n_o, n_on = getattr(conc, "n_other", None), getattr(conc, "n_other_near", None)
        if n_o is not None and n_on is not None:
            ints += [n_on, n_o - n_on]
        if any(_small(i, k) for i in ints):
            conc = None
            led.note(f"Venue concentration: dropped (fewer than {k} events near or away from venues).")
    return dataclasses.replace(v, risk=r, risky=risky, summary=summary, concentration=conc)


def _when(w: When, k: int, led: _Ledger) -> When:
    tables = {}
    for source, t in w.weekday_hour.items():
        whole = pd.DataFrame(_whole(t.to_numpy(float)), index=t.index, columns=t.columns)
        st = suppress_table(whole, threshold=k)
        led.count(st.mask)
        out = st.table
        out.attrs = {a: (None if a == "events" and _small(val, k) else val) for a, val in t.attrs.items()}
        tables[source] = out
    if tables:
        led.note("Weekday x hour tables (aoristic): rounded half up to whole numbers (any positive value to at "
                 "least 1), then suppressed with their weekday and hour totals and audited.", changed=False)
    nbs = w.nte_by_source.copy()
    ev = nbs["events"].to_numpy(float) if "events" in nbs else np.zeros(len(nbs))
    small_ev = (ev > 0) & (ev < k)
    if "events" in nbs:
        nbs["events"] = nbs["events"].astype("Int64").where(~small_ev)
    if "timed" in nbs:
        tm = nbs["timed"].to_numpy(float)
        small_ev = small_ev | ((tm > 0) & (tm < k)) | _frac_small(ev - tm, k)
        nbs["timed"] = nbs["timed"].astype("Int64").where(~small_ev)
        nbs["events"] = nbs["events"].astype("Int64").where(~small_ev)
    if "nte_share" in nbs:
        share = pd.to_numeric(nbs["nte_share"], errors="coerce").to_numpy(float)
        in_w = ev * share
        bad = small_ev | _frac_small(in_w, k) | _frac_small(ev - in_w, k)
        nbs["nte_share"] = pd.Series(share, index=nbs.index).where(~bad | np.isnan(share))
        nbs["nte_share"] = nbs["nte_share"].astype(object).where(nbs["nte_share"].notna(), None)
        if (bad & ~np.isnan(share)).any():
            led.note("NTE share of a source with fewer than k events inside or outside the window: withheld.")
    nte = w.nte
    if nte is not None and "source" in nbs and "rms" in set(nbs["source"]):
        row = w.nte_by_source[w.nte_by_source["source"] == "rms"].iloc[0]
        n_rms, sh = float(row["timed"] if "timed" in row.index else row["events"]), float(nte.get("share") or 0.0)
        if _frac_small(np.array([n_rms * sh, n_rms * (1 - sh)]), k).any() or _small(n_rms, k):
            nte = {**nte, "share": None, "rate_ratio": None}
            led.note("RMS NTE share and rate ratio: withheld (fewer than k RMS events inside or outside the window).")
    return When(weekday_hour=tables, nte_by_source=nbs, nte=nte)


def _frac_small(v: np.ndarray, k: int) -> np.ndarray:
    w = _whole(np.nan_to_num(np.asarray(v, float)))
    return (w >= 1) & (w < k)


def _what(what: What, type_held: pd.Series, area_held: Mapping[str, bool], withheld_totals: set[int], k: int,
          led: _Ledger) -> What:
    mix = what.police_uk_mix
    if len(mix):
        linked = type_held.reindex(mix.index.astype(str))
        held = (linked.fillna(False).to_numpy(bool) if linked.notna().all()
                else _held_1d(mix.to_numpy(np.int64), k))
        mix = pd.Series(_int_na(mix.to_numpy(np.int64), held), index=mix.index, name=mix.name)
    rms_mix, rms_harm = what.rms_mix, what.rms_harm
    if rms_mix is not None and len(rms_mix):
        values = rms_mix.to_numpy(np.int64)
        # the RMS group totals are the RMS threat areas' totals: withheld there, withheld here too
        held = _held_1d(values, k) | np.isin(values, sorted(withheld_totals))
        led.count(held)
        rms_mix = pd.Series(_int_na(rms_mix.to_numpy(np.int64), held), index=rms_mix.index, name=rms_mix.name)
        if rms_harm is not None:
            h = rms_mix.isna().reindex(rms_harm.index).fillna(False).to_numpy(bool)
            rms_harm = rms_harm.astype(float).where(~h)
    hbg = what.harm_by_group.copy()
    hheld = hbg["threat_area"].astype(str).map(lambda a: bool(area_held.get(a, False))).to_numpy(bool)
    hbg["harm"] = hbg["harm"].astype(float).where(~hheld)
    harm_total, harm_text = what.harm_total, what.harm_text
    rms_withheld = rms_harm is not None and bool(rms_harm.isna().any())
    if hheld.any() or rms_withheld:
        harm_total = None
        harm_text = "Harm sums of groups with a withheld count are withheld, and so is the harm total."
        led.note("Harm sums (and the harm total): withheld where the group's count is withheld (with the "
                 "offence weights known, a harm sum gives the count back).")
    space = what.space
    if space is not None and len(space):
        t = space.set_index("threat_area")[["public", "private"]].astype(np.int64)
        st = suppress_table(t, threshold=k)
        led.count(st.mask)
        space = st.table.reset_index()
        led.note("Public / private-space split of RMS offences: suppressed as a table with its threat-area totals "
                 "and audited.", changed=False)
    outcomes = what.outcomes
    if outcomes is not None and len(outcomes):
        outcomes = _outcomes(outcomes, k, led)
    hbs = what.harm_by_source
    if hbs is not None and len(hbs):
        small = np.array([_small(v, k) for v in hbs["weighted"]], dtype=bool)
        if small.any():
            hbs = hbs.assign(harm=hbs["harm"].where(~small), harm_rounded=hbs["harm_rounded"].where(~small),
                             events=hbs["events"].astype("Int64").where(~small),
                             weighted=hbs["weighted"].astype("Int64").where(~small))
            led.note("Harm of a source with fewer than k weighted events: withheld.")
    return dataclasses.replace(what, police_uk_mix=mix, rms_mix=rms_mix, rms_harm=rms_harm, harm_by_group=hbg,
                               harm_total=harm_total, harm_text=harm_text, space=space, harm_by_source=hbs,
                               outcomes=outcomes)


_OUTCOME_PARTS = ("open", "charged", "outcome_14", "outcome_15", "outcome_16", "rest")


def _outcomes(t: pd.DataFrame, k: int, led: _Ledger) -> pd.DataFrame:
    """Outcome counts as a partition of each group's offences, suppressed with the group totals; shares recomputed.

    The parts (open, charged, 14, 15, 16, every other outcome) add up to the offences: suppressed as one table
    with its row totals, then ``assigned`` (offences - open) and the shares are published only where every
    count they rest on is.
    """
    rest = (t["assigned"] - t["charged"] - t["outcome_14"] - t["outcome_15"] - t["outcome_16"]).to_numpy(np.int64)
    parts = t.assign(rest=rest).set_index("group")[list(_OUTCOME_PARTS)].astype(np.int64)
    st = suppress_table(parts, threshold=k)
    led.count(st.mask)
    pub = st.table
    held = st.mask
    offences = t["offences"].to_numpy(np.int64)
    small_total = (offences > 0) & (offences < k)
    out = pd.DataFrame({"group": t["group"].to_numpy()})
    out["offences"] = pd.array(np.where(small_total, 0, offences), dtype="Int64")
    out.loc[small_total, "offences"] = pd.NA
    for c in ("open", "charged", "outcome_14", "outcome_15", "outcome_16"):
        out[c] = pd.array(pub[c].to_numpy(), dtype="Int64")
    a = t["assigned"].to_numpy(np.int64)
    open_held = held["open"].to_numpy(bool) | small_total | ((a > 0) & (a < k))
    assigned = pd.array(t["assigned"].to_numpy(np.int64), dtype="Int64")
    assigned[open_held] = pd.NA
    out["assigned"] = assigned
    out["other"] = pd.array(t["other"].to_numpy(np.int64), dtype="Int64")
    out.loc[(out["other"].fillna(0) > 0) & (out["other"].fillna(0) < k), "other"] = pd.NA
    den = out["assigned"].astype("Float64")
    out["share_charged"] = (out["charged"].astype("Float64") / den).astype(float)
    e = sum(out[c].astype("Float64") for c in ("outcome_14", "outcome_15", "outcome_16"))
    out["share_14_16"] = (e / den).astype(float)
    led.note("Outcomes: the counts (open, charged, 14, 15, 16, the rest) suppressed as a table with each group's "
             "offences and audited; assigned outcomes and shares published only where every count they need is.",
             changed=False)
    return out[list(t.columns)]


def _rates_shared(ctx: Context, k: int, led: _Ledger) -> Context:
    """Rates by local authority and the LSOA decile table: a count below k (and its rate) withheld."""
    changes: dict[str, Any] = {}
    if ctx.rates is not None and len(ctx.rates):
        r = ctx.rates
        small = np.array([_small(v, k) for v in r["count"]], dtype=bool)
        if small.any():
            r = r.assign(count=r["count"].astype("Int64").where(~small), rate_per_1000=r["rate_per_1000"].where(~small),
                         ci_low=r["ci_low"].where(~small), ci_high=r["ci_high"].where(~small))
            led.note("Rates per 1,000 residents of an area with fewer than k crimes: withheld.")
        changes["rates"] = r
    if ctx.lsoa is not None:
        b = ctx.lsoa.by_decile
        small = np.array([_small(v, k) for v in b["crimes"]], dtype=bool)
        if small.any():
            b = b.assign(crimes=b["crimes"].astype("Int64").where(~small),
                         rate_per_1000=b["rate_per_1000"].where(~small),
                         ci_low=b["ci_low"].where(~small), ci_high=b["ci_high"].where(~small))
            led.note("Crime per resident by IMD decile: a decile with fewer than k crimes withheld.")
            changes["lsoa"] = dataclasses.replace(ctx.lsoa, by_decile=b)
    return dataclasses.replace(ctx, **changes) if changes else ctx


def _context(ctx: Context, k: int, led: _Ledger) -> Context:
    ctx = _rates_shared(ctx, k, led)
    if ctx.comparison is not None:
        led.note("Comparator forces: force-level police.uk counts and shares (open data, in the thousands) are "
                 "published as they are.", changed=False)
    dep = ctx.deprivation
    if dep is not None:
        changes: dict[str, Any] = {}
        for shares_f, n in (("hotspot_event_shares", getattr(dep, "n_hotspot_events", None)),
                            ("force_event_shares", (getattr(dep, "n_hotspot_events", 0) or 0)
                             + (getattr(dep, "n_other_events", 0) or 0))):
            shares = np.asarray(getattr(dep, shares_f, ()), float)
            if n and len(shares) and np.isfinite(shares).all():
                held = _held_1d(_whole(shares * n), k)
                if held.any():
                    changes[shares_f] = tuple(np.where(held, np.nan, shares).tolist())
        for f in ("n_unmatched_events", "n_recoded_events"):
            if _small(getattr(dep, f, None), k):
                changes[f] = None
        if changes:
            changes["finding"] = ("IMD decile comparison of hotspot events: some decile shares are withheld by "
                                  "disclosure control (too few events).")
            dep = dataclasses.replace(dep, **changes)
            led.note("IMD decile shares that stand for fewer than k events (and their complements): withheld.")
    return dataclasses.replace(ctx, deprivation=dep)


def _sources(sources: tuple[SourceQuality, ...], k: int, led: _Ledger) -> tuple[SourceQuality, ...]:
    out = []
    noted = False
    for s in sources:
        changes: dict[str, Any] = {}
        reasons = {r: v for r, v in s.quarantined_by_reason.items() if v is not None}
        if reasons:
            vals = np.array(list(reasons.values()), np.int64)
            held = _held_1d(vals, k)
            if held.any():
                changes["quarantined_by_reason"] = {r: (None if h else v) for (r, v), h in
                                                    zip(reasons.items(), held, strict=True)}
                if held[list(reasons).index("no_coordinates")] if "no_coordinates" in reasons else False:
                    changes["share_without_coordinates"] = None
        if _small(s.rows_quarantined, k):  # read = accepted + quarantined: withhold read with it
            changes.update(rows_quarantined=None, rows_read=None, share_without_coordinates=None)
        if _small(s.rows_accepted, k):
            changes.update(rows_accepted=None, rows_read=None)
        if changes:
            noted = True
            out.append(dataclasses.replace(s, **changes))
        else:
            out.append(s)
    if noted:
        led.note("Quarantined-row counts below k (and the rows read, which would give them back): withheld.")
    return tuple(out)


def _quality(q: DataQuality, k: int, led: _Ledger) -> DataQuality:
    nl = q.no_location_by_month
    if nl is not None and len(nl):
        wl, rows = nl["without_location"].to_numpy(float), nl["rows"].to_numpy(float)
        held = ((wl > 0) & (wl < k)) | ((rows - wl > 0) & (rows - wl < k)) | ((rows > 0) & (rows < k))
        if held.any():
            nl = nl.assign(rows=nl["rows"].astype("Int64").where(~held),
                           without_location=nl["without_location"].astype("Int64").where(~held),
                           share=nl["share"].where(~held))
            led.note("police.uk rows without a location by month: withheld in months where a count is below k.")
        q = dataclasses.replace(q, no_location_by_month=nl)
    if _small(q.no_coordinates, k):
        led.note("Events without coordinates: withheld (fewer than k).")
        return dataclasses.replace(q, no_coordinates=None, no_coordinates_share=None)
    return q


def _definitions(meta: Meta, q: DataQuality, k: int, led: _Ledger) -> tuple[Meta, DataQuality]:
    """Harm-weight coverage (events weighted, weights verified) counts events: withheld below ``k``."""
    hw = meta.definitions.get("harm_weights")
    if not isinstance(hw, Mapping):
        return meta, q
    n, ok = hw.get("events_weighted"), hw.get("verified")
    if not (_small(n, k) or _small(ok, k) or (n is not None and ok is not None and _small(n - ok, k))):
        return meta, q
    led.note("Harm-weight coverage (events weighted and verified): withheld (fewer than k events on one side).")
    definitions = {**meta.definitions, "harm_weights": {**hw, "events_weighted": None, "verified": None}}
    return dataclasses.replace(meta, definitions=definitions), dataclasses.replace(q, harm_unverified=None)


def _findings(shared: ProfileNumbers) -> Findings:
    """Findings, gaps and recommendations regenerated from the shared numbers: they quote only what is published."""
    return build_findings(shared)


# --- the one public function ------------------------------------------------------------------------


@overload
def to_shared(numbers: ProfileNumbers, threshold: int | None = None, *, release: str = "partner",
              handling: str | None = None) -> ProfileNumbers: ...


@overload
def to_shared(numbers: StraNumbers, threshold: int | None = None, *, release: str = "partner",
              handling: str | None = None) -> StraNumbers: ...


def to_shared(numbers: ProfileNumbers | StraNumbers, threshold: int | None = None, *, release: str = "partner",
              handling: str | None = None) -> ProfileNumbers | StraNumbers:
    """The disclosure-controlled version of a profile's numbers (a new object; the input is not changed).

    Parameters
    ----------
    numbers : ProfileNumbers
        Restricted numbers from ``compute_profile``.
    threshold : int, optional
        Counts ``1 .. threshold-1`` are withheld. Default 10 for partner release, 5 for publication.
    release : {"partner", "publication"}, default "partner"
    handling : str, optional
        The shared version's handling line (``{threshold}`` is filled in); default the release's line. It must
        differ from the restricted handling line.

    Returns
    -------
    ProfileNumbers
        With ``disclosure`` set (release, threshold, handling, method, suppressed_cells, withheld: one sentence
        per kind of derived value withheld or coarsened, for the method annex).

    Raises
    ------
    ParameterError
        For an unknown release, a threshold below 2, numbers that are already shared, or a handling line equal
        to the restricted one.

    Examples
    --------
    >>> import sys; sys.path.insert(0, "tests")
    >>> from numbers_factory import make_numbers
    >>> n = make_numbers(3)
    >>> s = to_shared(n, release="publication")
    >>> s.disclosure.threshold, s.disclosure.handling != n.disclosure.handling
    (5, True)
    >>> bool(((s.fused.grids["all"]["count"] >= 1) & (s.fused.grids["all"]["count"] < 5)).any())
    False
    """
    if isinstance(numbers, StraNumbers):  # the national STRA: the same rules, its own tables
        if numbers.disclosure.get("shared"):
            raise ParameterError("these STRA numbers are already shared; share the restricted numbers")
        kk = _checked_threshold(release, threshold)
        line = shared_handling(release, kk, handling)
        if not line.strip() or line.strip() == str(numbers.meta.get("handling", "")).strip():
            raise ParameterError("the shared handling line must differ from the restricted one; give "
                                 "disclosure.handling")
        return stra_shared(numbers, kk, release=release, handling=line)
    if numbers.disclosure.shared:
        raise ParameterError(f"these numbers are already a {numbers.disclosure.release} version; share the "
                             "restricted numbers")
    k = default_threshold(release) if threshold is None else threshold
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise ParameterError(f"threshold must be an integer >= 2 (5 for publication, 10 for partners); got {k!r}")
    k = int(k)
    default_threshold(release)  # validates release
    line = shared_handling(release, k, handling)
    if not line.strip() or line.strip() == numbers.disclosure.handling.strip():
        raise ParameterError("the shared handling line must differ from the restricted one; give disclosure.handling")
    led = _Ledger()

    cells_puk, month_held, type_held, grand_held, puk_counts = _police_uk(numbers.trend, k, led)
    trend = _trend(numbers.trend, cells_puk, month_held.rename(index=str), k, led)
    threats, area_held = _threats(numbers.threats, (cells_puk, type_held.rename(index=str), puk_counts), k, led)
    tt = numbers.threats.totals
    withheld_rms = {int(v) for a, v in zip(tt["threat_area"], tt["count"], strict=True)
                    if numbers.threats.sources.get(a) == "rms" and area_held.get(str(a)) and not pd.isna(v)}

    f = numbers.fused
    masks = _grid_masks(f.grids, k, led)
    grids = _grids(f.grids, masks, k, led)
    allg = f.grids.get("all")
    totals = ({str(s): float(v) for s, v in allg.groupby("source", observed=True)["count"].sum().items()}
              if allg is not None else {})
    totals = {**totals, **{str(s): float(v) for s, v in (f.places.attrs.get("source_totals") or {}).items()}}
    places = _places(f.places, masks, totals, k, led)
    perception = None
    if f.perception is not None:
        recorded = list(f.perception.attrs.get("recorded_sources") or ("police_uk", "rms"))
        perception = _perception(f.perception, masks, recorded, led)
    if f.kde_recorded is not None or f.perception_raster is not None:
        led.note("Harm-weighted KDE and perception-gap rasters: dropped (weighted surfaces do not bound counts).",
                 changed=False)
    fused = Fused(grids=grids, places=places, perception=perception, kde_recorded=None, perception_raster=None,
                  basis=f.basis)

    hotspots, cheld = _hotspots(numbers.hotspots, masks, numbers.volume.total, k, led)
    volume = _volume(numbers.volume, numbers.hotspots.counts, cheld, hotspots.gi, grand_held, led, k)

    meta, quality = _definitions(numbers.meta, _quality(numbers.quality, k, led), k, led)
    shared = dataclasses.replace(
        numbers,
        sources=_sources(numbers.sources, k, led),
        volume=volume,
        hotspots=hotspots,
        trend=trend,
        threats=threats,
        fused=fused,
        venues=_venues(numbers.venues, k, led),
        when=_when(numbers.when, k, led),
        what=_what(numbers.what, type_held.rename(index=str), area_held, withheld_rms, k, led),
        context=_context(numbers.context, k, led),
        quality=quality,
        meta=meta,
        products=Products(),
    )
    if numbers.products.grid is not None or numbers.products.monthly is not None:
        led.note("Restricted data products (study-area grid, monthly cell counts) and event points: not shared.",
                 changed=False)
    disclosure = Disclosure(release=release, threshold=k, handling=line, method=METHOD,
                            suppressed_cells=led.cells, withheld=tuple(led.notes))
    shared = dataclasses.replace(shared, disclosure=disclosure)  # findings word lower bounds on shared numbers
    return dataclasses.replace(shared, findings=_findings(shared))


# --------------------------------------------------------------------------- the national STRA
# The force x threat-area counts are one table with the national totals per threat area published:
# suppress_table withholds counts 1..k-1 and, by secondary suppression, whatever else would let them be recovered
# from the totals. Everything derived from a withheld count (its rate, interval, harm rate, funnel position,
# MoRiLE factors) is withheld with it; funnels, national rates and rate ratios are refitted on published counts;
# places below k are dropped; a share of rows without a location is withheld where it counts fewer than k rows;
# the findings are rebuilt from the shared tables.

_DERIVED = ("rate_per_1000", "ci_low", "ci_high", "harm_per_1000")


def stra_table(measures: pd.DataFrame) -> pd.DataFrame:
    """The force x threat-area count table the STRA publishes (0 where a force does not measure an area).

    Examples
    --------
    >>> m = pd.DataFrame({"force": ["A", "A", "B"], "threat_area": ["x", "y", "x"], "count": [3, 12, 40]})
    >>> stra_table(m).values.tolist()
    [[3, 12], [40, 0]]
    """
    known = measures[measures["count"].notna()]
    t = known.pivot_table(index="force", columns="threat_area", values="count", aggfunc="sum", fill_value=0)
    return t.astype(np.int64)


def stra_shared(numbers: StraNumbers, k: int, *, release: str, handling: str) -> StraNumbers:
    """The shared copy of the STRA's numbers at threshold ``k`` (use :func:`profiles.shared.to_shared`)."""
    m = numbers.measures.copy()
    table = stra_table(m)
    suppressed = suppress_table(table, threshold=k, row_total=False, col_total=True) if table.size else None
    held = pd.Series(False, index=m.index)
    if suppressed is not None:
        mask = suppressed.mask.stack()
        held = pd.Series([bool(mask.get((f, a), False)) for f, a in zip(m["force"], m["threat_area"], strict=True)],
                         index=m.index)
    m["count"] = m["count"].astype("Int64").mask(held)
    for col in _DERIVED:
        m[col] = m[col].astype("Float64").mask(held)
    m["withheld"] = held.to_numpy()
    # Funnels, national rates and MoRiLE likelihoods are refitted on the published counts only: a target rate
    # or a rate ratio that included a withheld count would give it back (target x resident-years - the rest).
    funnels, position = funnels_for(m, numbers.config.funnel_winsor)
    m["funnel_position"] = position.astype(object).where(~held, "[c]")
    morile = morile_for(m, national_for(m), numbers.config.morile)

    national = numbers.national.copy()
    if suppressed is not None and suppressed.col_totals is not None:
        tot = suppressed.col_totals
        national["count"] = [tot.get(a, pd.NA) for a in national["threat_area"]]
        # the rated total differs from the published total only by unrated forces (BTP, City of London): publish
        # it (and the rate it gives) only where every rated count of the area is published, else it could pin one
        area_held = m.groupby("threat_area")["withheld"].any()
        keep = ~national["threat_area"].map(area_held).fillna(False).astype(bool)
        national["rated_count"] = national["rated_count"].astype("Int64").where(keep)
        for col in ("rate_per_1000", "ci_low", "ci_high"):
            national[col] = national[col].astype("Float64").where(keep)

    places = numbers.places[numbers.places["count"] >= k].reset_index(drop=True)
    places = places.assign(rank=np.arange(1, len(places) + 1))

    q = numbers.quality.copy()
    share = pd.to_numeric(q["share_without_location"], errors="coerce")
    rows = pd.to_numeric(q["rows_read"], errors="coerce")
    n_noloc = np.rint(share * rows)
    small = (n_noloc >= 1) & (n_noloc < k)
    q["share_without_location"] = share.astype("Float64").mask(small)

    withheld = int(held.sum())
    disclosure = {"shared": True, "release": release, "threshold": int(k), "handling": handling,
                  "suppressed": withheld,
                  "primary": 0 if suppressed is None else suppressed.n_primary,
                  "secondary": 0 if suppressed is None else suppressed.n_secondary,
                  "places_dropped": int(len(numbers.places) - len(places)),
                  "shares_withheld": int(small.sum())}
    shared = dataclasses.replace(numbers, measures=m, national=national, morile=morile, places=places, quality=q,
                                 funnels=funnels,
                                 meta={**numbers.meta, "handling": handling}, disclosure=disclosure)
    return rebuild_words(shared)
