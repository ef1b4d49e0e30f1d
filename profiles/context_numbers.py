"""Context numbers: deprivation, venues, comparators, offence mix, harm, threat areas, data quality.

Deprivation of hot spots, VAWG crime near NTE venues against other crime,
comparator forces, offence mix and harm, counts by threat area and month,
snap-point stacking and each source's reconciliation.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots.comparators import ForceComparison, compare_force
from hotspots.deprivation import DeprivationContext, hotspot_deprivation
from hotspots.grid import cells_to_int
from hotspots.ingest.police_uk import IngestResult
from hotspots.lsoa import lsoa_crosswalk
from hotspots.lsoa_deprivation import LSOADeprivation, lsoa_deprivation
from hotspots.outcomes import outcome_shares
from hotspots.publication import force_month_table
from hotspots.rates import LA_2023, rates_per_1000
from hotspots.venue_concentration import VenueConcentration
from hotspots.venue_concentration import venue_concentration as _venue_concentration
from profiles.cells import CellGroups, cells_to_strings, str_values
from profiles.labels import LICENCES, SOURCE_LABELS, THREAT_AREA_LABELS
from profiles.numbers import SourceQuality

log = logging.getLogger("safer_spaces")

__all__ = [
    "deprivation",
    "venue_concentration",
    "comparison",
    "offence_mix",
    "harm_numbers",
    "threat_counts",
    "stacking_share",
    "source_quality",
]


def deprivation(
    police: pd.DataFrame, vawg: pd.DataFrame, hot_cells: Sequence[str] | np.ndarray, *, imd: pd.DataFrame | None
) -> tuple[DeprivationContext | None, pd.DataFrame | None]:
    """IMD 2019 deciles of hot-spot crime against the force, and each cell's main LSOA and its decile.

    police.uk's 2021 LSOA codes are mapped back to IMD 2019's 2011 codes through
    shared map points (:func:`hotspots.lsoa.lsoa_crosswalk`).

    Parameters
    ----------
    police : DataFrame
        Every police.uk crime in the force area (``lsoa_code``, ``snap_point_id``), for the crosswalk.
    vawg : DataFrame
        The VAWG-relevant ones, with ``h3`` (uint64 cell).
    hot_cells : sequence of str
        Gi* hot spots (or the top cells when there are none).
    imd : DataFrame or None
        :func:`hotspots.ingest.imd.read_imd`.

    Returns
    -------
    DeprivationContext or None
    DataFrame or None
        Indexed by ``h3_cell`` (cells with VAWG crime): ``lsoa_code`` (the
        cell's commonest LSOA; ties: first code) and ``imd_decile`` (float, NaN when unmatched).
    """
    if imd is None:
        return None, None
    walk = lsoa_crosswalk(police, imd=imd)
    lookup = walk.set_index("lsoa_code")["imd_lsoa_code"]
    hot = cast(Sequence[str], cells_to_int(list(hot_cells)))  # uint64 ids: the events' cells are uint64 too
    dep = hotspot_deprivation(
        vawg, hot, imd=imd, cell_col="h3", lsoa_lookup=cast(Mapping[str, str], lookup.to_dict())
    )
    codes = str_values(vawg["lsoa_code"])
    g = CellGroups(vawg["h3"].to_numpy(np.uint64), codes)
    n = g.count()
    order = np.lexsort((np.arange(len(n)), -n, g.cells))
    cells = g.cells[order]
    first = order[np.r_[True, cells[1:] != cells[:-1]]] if len(cells) else order
    main = pd.Series(g.keys[0][first], index=pd.Index(cells_to_strings(g.cells[first]), name="h3_cell"))
    mapped = main.map(lookup)
    mapped = mapped.where(mapped.notna(), main)
    decile = mapped.map(imd.set_index("lsoa_code")["imd_decile"])
    return dep, pd.DataFrame({"lsoa_code": main, "imd_decile": decile.astype(float)})


def venue_concentration(
    police: pd.DataFrame,
    nte_venues: pd.DataFrame | None,
    local_authorities: gpd.GeoDataFrame | None,
    *,
    interest: Sequence[str],
    distance_m: float,
) -> tuple[str | None, VenueConcentration | None]:
    """VAWG crime near NTE venues against other crime, in the local authority holding the most venues.

    Returns the local authority's name and :func:`hotspots.venue_concentration.venue_concentration`'s result
    (None, None without venues or local authorities).
    """
    if nte_venues is None or local_authorities is None or not len(nte_venues):
        return None, None
    vx, vy = nte_venues["x"].to_numpy(float), nte_venues["y"].to_numpy(float)
    geoms = local_authorities.geometry.to_numpy()
    n = np.array([int(shapely.contains_xy(g, vx, vy).sum()) for g in geoms])  # one count per authority
    if not len(n) or n.max() == 0:
        return None, None
    best = int(np.argmax(n))
    geom = geoms[best]
    inside = shapely.contains_xy(geom, police["x"].to_numpy(float), police["y"].to_numpy(float))
    local = police[inside]
    is_vawg = local["crime_type"].isin(list(interest)).to_numpy()
    vaw = local[is_vawg]
    other = local[~is_vawg & (local["crime_type"] != "Anti-social behaviour").to_numpy()]
    vin = nte_venues[shapely.contains_xy(geom, vx, vy)]
    res = _venue_concentration(vaw, vin, distance_m=distance_m, area=geom, other_events=other)
    return str(local_authorities["name"].iloc[best]), res


def comparison(
    comparators: IngestResult | None, population: pd.DataFrame | None, *, force: str, crime_types: Sequence[str]
) -> ForceComparison | None:
    """The force's police.uk publication against other forces (None without comparator data; a failure is logged)."""
    if comparators is None or population is None:
        return None
    try:
        table = force_month_table(comparators, crime_types=tuple(crime_types), population=population)
        months = sorted(table["month"].astype(str).unique())
        return compare_force(table, force=force, month=months[-1] if len(months) > 1 else None)
    except (ValueError, KeyError) as exc:  # comparators are context: say why they are missing, do not stop
        log.warning("comparator forces not compared: %s", exc)
        return None


def offence_mix(
    vawg: pd.DataFrame, events: pd.DataFrame
) -> tuple[pd.Series, pd.Series | None, pd.Series | None, bool]:
    """police.uk crime types, RMS VAWG groups (labelled) and RMS harm by group.

    Returns ``police_uk_mix`` (crime_type -> count, most first), ``rms_mix``
    and ``rms_harm`` (threat-area label -> count / harm sum; None without
    RMS) and whether RMS is synthetic.

    Examples
    --------
    >>> vawg = pd.DataFrame({"crime_type": ["Public order", "Public order", "Violence and sexual offences"]})
    >>> ev = pd.DataFrame({"source": ["rms", "rms"], "vawg_group": ["rape", "rape"], "harm_weight": [2.0, 3.0],
    ...                    "synthetic": True})
    >>> puk, mix, harm, syn = offence_mix(vawg, ev)
    >>> puk.to_dict(), mix.to_dict(), harm.to_dict(), syn
    ({'Public order': 2, 'Violence and sexual offences': 1}, {'RMS: rape': 2}, {'RMS: rape': 5.0}, True)
    """
    puk = pd.Series(str_values(vawg["crime_type"])).value_counts()
    rms = events[events["source"] == "rms"]
    if not len(rms):
        return puk, None, None, False
    label = rms["vawg_group"].map(lambda g: THREAT_AREA_LABELS.get(g, g))
    return puk, label.value_counts(), rms.groupby(label)["harm_weight"].sum(), bool(rms["synthetic"].any())


def _round_sig(x: float, sig: int = 2) -> float:
    """``x`` rounded to ``sig`` significant figures (what approximate weights support)."""
    if not np.isfinite(x) or x == 0:
        return float(x)
    return float(round(x, sig - 1 - int(math.floor(math.log10(abs(x))))))


def harm_numbers(
    events: pd.DataFrame, *, harm_index: str, recorded: str = "police_uk"
) -> tuple[pd.DataFrame, pd.DataFrame, float | None, str]:
    """Harm per source, harm by threat area of the one recorded-crime source, its total, and the report's sentence.

    police.uk and the force RMS describe the same crimes: their harm is
    reported side by side, never added. Each source's harm is rounded to two
    significant figures (the weights are medians of sentencing ranges, some
    not verified) and carries the share of its events whose weight the index
    marks verified.

    Returns
    -------
    by_source : DataFrame
        source, events, weighted (events with a weight), verified_share, harm, harm_rounded
    by_group : DataFrame
        threat_area, harm: the ``recorded`` source's harm by threat area
    total : float or None
        The ``recorded`` source's harm (None when no event has a weight)
    text : str

    Examples
    --------
    >>> ev = pd.DataFrame({"source": ["rms", "rms", "police_uk", "ae"],
    ...                    "vawg_group": ["rape", "da_violence", "violence_puk", "ae_assault"],
    ...                    "harm_weight": [3000.0, 1234.0, 77.0, np.nan], "harm_verified": [True, False, True, False]})
    >>> src, by, total, text = harm_numbers(ev, harm_index="x", recorded="rms")
    >>> src[["source", "harm_rounded", "verified_share"]].values.tolist()
    [['police_uk', 77.0, 1.0], ['rms', 4200.0, 0.5]]
    >>> by.values.tolist(), total
    ([['da_violence', 1234.0], ['rape', 3000.0]], 4234.0)
    """
    w = pd.to_numeric(events["harm_weight"], errors="coerce").to_numpy(float)
    src = str_values(events["source"])
    verified = events["harm_verified"].to_numpy(bool) if "harm_verified" in events.columns else np.zeros(len(w), bool)
    ok = np.isfinite(w)
    rows = []
    for name in ("police_uk", "rms"):
        m = src == name
        if not m.any():
            continue
        mw = m & ok
        harm = float(w[mw].sum()) if mw.any() else float("nan")
        rows.append({"source": name, "events": int(m.sum()), "weighted": int(mw.sum()),
                     "verified_share": float(verified[mw].mean()) if mw.any() else float("nan"),
                     "harm": harm, "harm_rounded": _round_sig(harm)})
    by_source = pd.DataFrame(rows, columns=["source", "events", "weighted", "verified_share", "harm", "harm_rounded"])
    rec = events[(src == recorded) & ok]
    by = rec.groupby(str_values(rec["vawg_group"]))["harm_weight"].sum(min_count=1)
    by = by[by.index.isin(list(THREAT_AREA_LABELS)) & by.notna()]
    harm_by = pd.DataFrame({"threat_area": by.index.astype(str), "harm": by.to_numpy(float)})
    total = float(rec["harm_weight"].sum()) if len(rec) else None
    text = ""
    if len(rec):
        s = rec.groupby("vawg_group")["harm_weight"].sum().sort_values(ascending=False)
        top = s.index[0]
        row = by_source[by_source["source"] == recorded].iloc[0]
        others = by_source[by_source["source"] != recorded]
        other = (
            f" police.uk, which publishes the same crimes with a category only, gives about "
            f"{others.iloc[0]['harm_rounded']:,.0f} (not added: the same crimes counted twice)."
            if len(others) and np.isfinite(others.iloc[0]["harm_rounded"]) else ""
        )
        text = (
            f"Harm ({harm_index}), {SOURCE_LABELS.get(recorded, recorded)}: about {row['harm_rounded']:,.0f} index "
            f"units (two significant figures; {row['verified_share']:.0%} of weights verified); the largest share, "
            f"{s.iloc[0] / s.sum():.0%}, is {THREAT_AREA_LABELS.get(top, top)}.{other} Harm ranks places and "
            "offence groups differently from counts; the index's weights are approximations (see the method annex)."
        )
    return by_source, harm_by, total, text


def published_coverage(police_uk: IngestResult, police: pd.DataFrame, *,
                       interest: Sequence[str]) -> tuple[int | None, pd.DataFrame | None]:
    """What police.uk published against what the profile maps, and the share without a location by month.

    Returns
    -------
    published : int or None
        police.uk rows of the ``interest`` crime types read, located or not, inside or outside the boundary
        (None when the quarantined rows cannot be read back).
    no_location : DataFrame or None
        month, rows (every police.uk row of the month), without_location, share.

    The quarantined rows are parsed back from their verbatim ``raw`` text (police.uk's 12 columns:
    Month is the 2nd, Crime type the 10th).
    """
    q = police_uk.quarantine
    qdf = q.to_pandas() if hasattr(q, "to_pandas") else pd.DataFrame(q)
    nl = qdf[qdf["reason"].astype(str) == "no_coordinates"] if len(qdf) else qdf
    try:
        raw = pd.read_csv(io.StringIO("\n".join(nl["raw"].astype(str))), header=None, dtype=str,
                          on_bad_lines="skip", engine="python") if len(nl) else pd.DataFrame(columns=range(12))
    except (pd.errors.ParserError, ValueError):
        return None, None
    if len(raw) and raw.shape[1] < 10:
        return None, None
    q_month = raw[1].astype(str).str[:7] if len(raw) else pd.Series(dtype=str)
    q_type = raw[9].astype(str) if len(raw) else pd.Series(dtype=str)
    ev = police_uk.events
    ev_month = pd.Series(ev.column("month").to_pandas()).astype(str).str[:7] if ev.num_rows else pd.Series(dtype=str)
    ev_type = pd.Series(ev.column("crime_type").to_pandas()).astype(str) if ev.num_rows else pd.Series(dtype=str)
    published = int(ev_type.isin(list(interest)).sum() + q_type.isin(list(interest)).sum())
    rows = ev_month.value_counts().add(q_month.value_counts(), fill_value=0)
    without = q_month.value_counts().reindex(rows.index, fill_value=0)
    table = pd.DataFrame({"month": rows.index.astype(str), "rows": rows.to_numpy(np.int64),
                          "without_location": without.to_numpy(np.int64)}).sort_values("month").reset_index(drop=True)
    table["share"] = table["without_location"] / table["rows"].where(table["rows"] > 0)
    return published, table


def lsoa_numbers(
    police: pd.DataFrame, vawg: pd.DataFrame, hot_cells: Sequence[str] | np.ndarray, *, imd: pd.DataFrame | None,
    months: int = 12,
) -> tuple[LSOADeprivation | None, pd.DataFrame | None]:
    """LSOA-level deprivation test and VAWG-relevant crime per 1,000 residents by local authority.

    The force's LSOAs are those holding any police.uk crime (2021 codes mapped to the IMD's 2011 codes by
    :func:`hotspots.lsoa.lsoa_crosswalk`); hotspot LSOAs hold the main LSOA of a Gi* hot cell. Local
    authorities are the IMD's 2019 districts merged into the 2023 unitaries (:data:`hotspots.rates.LA_2023`).
    Rates are per 1,000 residents per year over the ``months`` with data. None, None without IMD residents
    (``data.lsoa_population``).
    """
    if imd is None or "population" not in imd.columns:
        return None, None
    walk = lsoa_crosswalk(police, imd=imd)
    lookup = walk.set_index("lsoa_code")["imd_lsoa_code"]

    def mapped(codes: pd.Series) -> pd.Series:
        raw = pd.Series(str_values(codes))
        m = raw.map(lookup)
        return m.where(m.notna(), raw)

    force = set(mapped(police["lsoa_code"]).unique())
    table = imd[imd["lsoa_code"].isin(force)].copy()
    counts = mapped(vawg["lsoa_code"]).value_counts()
    table["crimes"] = counts.reindex(table["lsoa_code"]).fillna(0).to_numpy(np.int64)
    hot = cells_to_int(list(hot_cells))
    in_hot = np.isin(vawg["h3"].to_numpy(np.uint64), hot)
    hot_main = mapped(vawg.loc[in_hot, "lsoa_code"]) if in_hot.any() else pd.Series(dtype=object)
    g = pd.DataFrame({"cell": vawg["h3"].to_numpy(np.uint64)[in_hot], "lsoa": hot_main.to_numpy()})
    main = g.groupby("cell")["lsoa"].agg(lambda s: s.value_counts().index[0]) if len(g) else pd.Series(dtype=object)
    years = max(months, 1) / 12
    dep = lsoa_deprivation(table, hot_lsoas=set(main.astype(str)), years=years)
    la = table["la_name"].map(lambda n: LA_2023.get(n, n))
    rates = rates_per_1000(table.groupby(la)["crimes"].sum(), table.groupby(la)["population"].sum(), years=years)
    return dep, rates


def outcome_numbers(rms: IngestResult | None, events: pd.DataFrame) -> pd.DataFrame | None:
    """Outcomes of the RMS VAWG offences inside the force area, by threat area (None without RMS or outcomes).

    The outcome code is read from the RMS rows (it is not on the common event model), matched by event id.
    """
    if rms is None:
        return None
    raw = rms.events.to_pandas()
    if "outcome_code" not in raw.columns:
        return None
    inside = events.loc[(events["source"] == "rms").to_numpy(), ["event_id", "vawg_group"]]
    codes = raw.drop_duplicates("event_id").set_index("event_id")["outcome_code"]
    frame = inside.assign(outcome_code=codes.reindex(inside["event_id"].astype(str)).to_numpy())
    t = outcome_shares(frame)
    return t.assign(group=t["group"].map(lambda g: THREAT_AREA_LABELS.get(g, g)))


def space_split(events: pd.DataFrame) -> pd.DataFrame | None:
    """RMS VAWG offences in public space and at a dwelling (private space), by threat area; None without RMS.

    Examples
    --------
    >>> ev = pd.DataFrame({"source": ["rms", "rms", "rms", "police_uk"],
    ...                    "vawg_group": ["rape", "rape", "da_violence", "x"],
    ...                    "private_space": [True, False, True, False]})
    >>> space_split(ev).values.tolist()
    [['RMS: domestic-abuse violence', 0, 1], ['RMS: rape', 1, 1]]
    """
    rms = events[(events["source"] == "rms").to_numpy()]
    if not len(rms):
        return None
    label = pd.Series(str_values(rms["vawg_group"])).map(lambda g: THREAT_AREA_LABELS.get(g, g))
    private = rms["private_space"].to_numpy(bool) if "private_space" in rms.columns else np.zeros(len(rms), bool)
    t = pd.crosstab(label.to_numpy(), private).reindex(columns=[False, True], fill_value=0)
    return pd.DataFrame({"threat_area": t.index.astype(str), "public": t[False].to_numpy(np.int64),
                         "private": t[True].to_numpy(np.int64)})


def threat_counts(
    events: pd.DataFrame, *, months: Sequence[str], missing_months: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Counts by threat area and month (long, area-major), totals over available months, and each area's source.

    A month is available for a police.uk threat area unless police.uk has no
    data for it; for another source, between the first and last month the
    area has an event.

    Examples
    --------
    >>> ev = pd.DataFrame({"source": ["rms", "rms"], "vawg_group": ["rape", "rape"],
    ...                    "month": pd.PeriodIndex(["2024-02", "2024-02"], freq="M")})
    >>> table, totals, src = threat_counts(ev, months=["2024-01", "2024-02", "2024-03"], missing_months=[])
    >>> table["count"].tolist(), table["available"].tolist(), totals["count"].tolist(), src
    ([0, 2, 0], [False, True, False], [2], {'rape': 'rms'})
    """
    area = str_values(events["vawg_group"])
    ords = events["month"].array.asi8
    keep = np.isin(area, list(THREAT_AREA_LABELS))
    area, ords, source = area[keep], ords[keep], str_values(events["source"])[keep]
    areas = np.unique(area)
    m_ords = pd.PeriodIndex(list(months), freq="M").asi8
    col = pd.Index(areas).get_indexer(area)
    row = pd.Index(m_ords).get_indexer(ords)
    counts = np.zeros((len(m_ords), len(areas)), dtype=np.int64)
    inside = row >= 0
    np.add.at(counts, (row[inside], col[inside]), 1)
    first = pd.Series(source).groupby(area).first() if len(area) else pd.Series(dtype=object)
    sources = {str(a): str(first[a]) for a in areas}
    lo = pd.Series(ords).groupby(area).min() if len(area) else pd.Series(dtype=np.int64)
    hi = pd.Series(ords).groupby(area).max() if len(area) else pd.Series(dtype=np.int64)
    police_ok = ~np.isin(np.asarray(list(months), dtype=object), list(missing_months))
    avail = np.column_stack(
        [police_ok if sources[a] == "police_uk" else (m_ords >= lo[a]) & (m_ords <= hi[a]) for a in areas]
    ) if len(areas) else np.zeros((len(m_ords), 0), bool)
    table = pd.DataFrame(
        {
            "threat_area": np.repeat(areas, len(m_ords)).astype(object),
            "month": np.tile(np.asarray(list(months), dtype=object), len(areas)),
            "count": counts.T.ravel(),
            "available": avail.T.ravel(),
            "suppressed": False,
        }
    )
    totals = pd.DataFrame(
        {
            "threat_area": areas.astype(object),
            "count": pd.array(np.where(avail, counts, 0).sum(axis=0), dtype="Int64"),
            "suppressed": False,
        }
    )
    return table, totals, sources


def stacking_share(vawg: pd.DataFrame, *, min_events: int = 10) -> float | None:
    """Share of crimes on police.uk map points holding ``min_events`` or more of them (None without crime).

    Examples
    --------
    >>> stacking_share(pd.DataFrame({"snap_point_id": [1] * 10 + [2, 3]}))
    0.8333333333333334
    """
    if not len(vawg):
        return None
    _, inv, n = np.unique(vawg["snap_point_id"].to_numpy(), return_inverse=True, return_counts=True)
    return float((n[inv.ravel()] >= min_events).mean())


def _months(coverage: Any) -> tuple[str | None, str | None]:
    cov = [c for c in (coverage or {}).values() if isinstance(c, dict)] if isinstance(coverage, dict) else []
    if isinstance(coverage, dict) and "first_month" in coverage:
        return coverage.get("first_month"), coverage.get("last_month")
    if not cov:
        return None, None
    return min(c["first_month"] for c in cov), max(c["last_month"] for c in cov)


def source_quality(police_uk: IngestResult, partners: dict[str, IngestResult]) -> tuple[SourceQuality, ...]:
    """Each source's reconciliation: police.uk first, then the partner sources in the order read."""
    rec = police_uk.reconciliation
    first, last = _months(rec["coverage"])
    out = [
        SourceQuality(
            source="police_uk",
            label=SOURCE_LABELS["police_uk"],
            licence=LICENCES["police_uk"],
            synthetic=False,
            first_month=first,
            last_month=last,
            rows_read=int(rec["rows_read"]),
            rows_accepted=int(rec["rows_accepted"]),
            rows_quarantined=int(rec["rows_quarantined"]),
            quarantined_by_reason=dict(rec["by_reason"]),
            share_without_coordinates=rec["by_reason"].get("no_coordinates", 0) / rec["rows_read"]
            if rec["rows_read"]
            else None,
        )
    ]
    for name, r in partners.items():
        t = r.reconciliation["total"]
        first, last = _months(r.reconciliation.get("coverage"))
        out.append(
            SourceQuality(
                source=name,
                label=SOURCE_LABELS.get(name, name),
                licence=LICENCES.get(name, ""),
                synthetic=bool(r.reconciliation.get("synthetic")),
                first_month=first,
                last_month=last,
                rows_read=int(t["rows_read"]),
                rows_accepted=int(t["rows_accepted"]),
                rows_quarantined=int(t["rows_quarantined"]),
                quarantined_by_reason=dict(t["quarantined_by_reason"]),
                share_without_coordinates=(t["quarantined_by_reason"].get("no_coordinates", 0) / t["rows_read"])
                if t["rows_read"]
                else None,
            )
        )
    return tuple(out)
