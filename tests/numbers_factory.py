"""Random but consistent ProfileNumbers for property tests (disclosure, renderers).

Everything is built from one event-count cube ``(source, cell, month)`` so that
the tables agree the way the real compute stage makes them agree: the fused
grids are the cube summed over months, the place scores come from
:func:`hotspots.fusion.place_scores` over those grids, the police.uk trend,
type mix and threat-area rows are its police.uk slice, the perception table is
StreetSafe against police.uk + RMS, the NTE band is an aoristic share of the
time-resolved sources, and so on. Counts are small-heavy (many 1..9) so that
disclosure control has work to do.

Use :func:`make_numbers` with a seed, or the hypothesis strategy
:func:`profile_numbers`.

Examples
--------
>>> n = make_numbers(0)
>>> int(n.volume.total) == int(n.trend.monthly["count"].sum())
True
"""

from __future__ import annotations

import dataclasses
import platform
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import strategies as st

from hotspots.fusion import place_scores
from hotspots.grid import cells_to_int, cells_to_latlng, cells_to_str, grid_disks, latlng_to_cells
from hotspots.kde import Grid, KDEResult
from profiles.findings import build_findings
from profiles.labels import SOURCE_LABELS
from profiles.numbers import (
    Context,
    DataQuality,
    Disclosure,
    Findings,
    Fused,
    Geography,
    Hotspots,
    InputFile,
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

__all__ = ["SOURCES", "make_numbers", "profile_numbers", "profile_params"]

SOURCES = ("police_uk", "rms", "streetsafe", "ae")
LABELS = dict(SOURCE_LABELS)
PUK_TYPES = ("Violence and sexual offences", "Public order")
PUK_AREAS = {"Violence and sexual offences": "police_uk_violence_sexual", "Public order": "police_uk_public_order"}
RMS_GROUPS = ("rape", "da_violence", "stalking_harassment")
RMS_LABELS = {"rape": "Rape", "da_violence": "Domestic abuse violence",
              "stalking_harassment": "Stalking and harassment"}
HARM = {"police_uk_violence_sexual": 180.0, "police_uk_public_order": 15.0, "rape": 1825.0, "da_violence": 90.0,
        "stalking_harassment": 30.0}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CENTRE = (51.4545, -2.5879)  # Bristol


def _small_heavy(rng: np.random.Generator, shape: tuple[int, ...], scale: float) -> np.ndarray:
    """Counts with many zeros and small values and a long tail."""
    lam = rng.gamma(0.6, scale, size=shape)
    return rng.poisson(lam).astype(np.int64)


def _cells(n: int) -> np.ndarray:
    centre = latlng_to_cells(np.array([CENTRE[0]]), np.array([CENTRE[1]]), resolution=9)
    _, disk = grid_disks(centre, 12)
    return np.asarray(sorted(cells_to_str(disk))[:n], dtype=object)


def make_numbers(seed: int, *, n_cells: int = 40, n_months: int = 8, scale: float = 3.0,
                 n_venues: int = 12) -> ProfileNumbers:
    """A restricted ``ProfileNumbers`` drawn from ``seed``, internally consistent.

    Parameters
    ----------
    seed : int
    n_cells : int, default 40
        Study-area H3 cells (resolution 9, real cells around Bristol), at most 469.
    n_months : int, default 8
        Months of the period; the police.uk month before last is missing when ``n_months >= 4``.
    scale : float, default 3.0
        Mean count per (source, cell, month) before the gamma mixing.
    n_venues : int, default 12

    Returns
    -------
    ProfileNumbers
        ``disclosure.release == "restricted"``.
    """
    rng = np.random.default_rng(seed)
    cells = _cells(n_cells)
    months = tuple(str(p) for p in pd.period_range("2024-01", periods=n_months, freq="M"))
    missing = (months[-2],) if n_months >= 4 else ()
    avail = np.array([m not in missing for m in months])
    cube = _small_heavy(rng, (len(SOURCES), n_cells, n_months), scale)  # source, cell, month
    cube[0, :, ~avail] = 0  # police.uk has no data for a missing month
    for s in range(len(SOURCES)):  # every source has something
        if cube[s].sum() == 0:
            cube[s, 0, int(np.flatnonzero(avail)[0]) if s == 0 else 0] = 1
    src = {s: cube[i] for i, s in enumerate(SOURCES)}
    # police.uk split by crime type, RMS by VAWG group (multinomial per cell-month)
    puk_type = np.stack([rng.binomial(src["police_uk"], 0.7), np.zeros_like(src["police_uk"])])
    puk_type[1] = src["police_uk"] - puk_type[0]
    p_rms = rng.dirichlet(np.ones(len(RMS_GROUPS)))
    rms_group = np.moveaxis(np.array([rng.multinomial(v, p_rms) for v in src["rms"].ravel()]), -1, 0).reshape(
        len(RMS_GROUPS), n_cells, n_months
    ) if src["rms"].size else np.zeros((len(RMS_GROUPS), n_cells, n_months), np.int64)

    # --- fused grids (band all: ints; nte/other: aoristic floats with n_events) ---------------------
    all_rows, nte_rows, other_rows = [], [], []
    for s in SOURCES:
        per_cell = src[s].sum(axis=1)
        keep = per_cell > 0
        all_rows.append(pd.DataFrame({"h3_cell": cells[keep], "source": s, "count": per_cell[keep]}))
        if s in ("rms", "ae"):
            nte_share = rng.beta(1.0, 2.5, size=n_cells)
            nte = per_cell * nte_share
            nte_rows.append(pd.DataFrame({"h3_cell": cells[keep], "source": s, "band": "nte",
                                          "count": nte[keep], "n_events": per_cell[keep]}))
            other_rows.append(pd.DataFrame({"h3_cell": cells[keep], "source": s, "band": "other",
                                            "count": (per_cell - nte)[keep], "n_events": per_cell[keep]}))
    grids = {
        "all": pd.concat(all_rows, ignore_index=True).sort_values(["h3_cell", "source"], ignore_index=True),
        "nte": pd.concat(nte_rows, ignore_index=True).sort_values(["h3_cell", "source"], ignore_index=True),
        "other": pd.concat(other_rows, ignore_index=True).sort_values(["h3_cell", "source"], ignore_index=True),
    }
    nte_sum = grids["nte"].groupby("h3_cell", as_index=False)["count"].sum()
    nte_sum = nte_sum.assign(source="rms+ae", count=np.round(nte_sum["count"]).astype(np.int64))
    grids["nte_rms_ae"] = nte_sum.loc[nte_sum["count"] > 0, ["h3_cell", "source", "count"]].reset_index(drop=True)
    places = place_scores(grids["all"], sources=list(SOURCES))
    top = places["h3_cell"].head(10)
    places["label"] = pd.Series(np.where(places["h3_cell"].isin(top), "On or near Test Street", None),
                                index=places.index, dtype=object)
    places["lsoa_code"] = np.where(places["h3_cell"].isin(top), "E01000001", None)
    places["imd_decile"] = pd.Series(rng.integers(1, 11, len(places)), index=places.index, dtype="Int64").where(
        places["h3_cell"].isin(top)
    )

    # --- perception: StreetSafe against police.uk + RMS --------------------------------------------
    p_cell, r_cell = src["streetsafe"].sum(axis=1), src["police_uk"].sum(axis=1) + src["rms"].sum(axis=1)
    either = (p_cell > 0) | (r_cell > 0)
    m = max(int(either.sum()), 1)
    ratio = (p_cell / max(p_cell.sum(), 1) + 1 / m) / (r_cell / max(r_cell.sum(), 1) + 1 / m)
    gap_class = np.where(ratio >= 2, "felt unsafe, little recorded",
                         np.where(ratio <= 0.5, "recorded, not reported as unsafe", "as expected"))
    perception = pd.DataFrame({"h3_cell": cells[either], "perception_count": p_cell[either],
                               "recorded_count": r_cell[either], "gap_ratio": ratio[either],
                               "gap_class": gap_class[either], "reasons": ""})

    # --- hotspots (police.uk) ------------------------------------------------------------------------
    puk_cell = src["police_uk"].sum(axis=1)
    counts = pd.DataFrame({"h3_cell": cells, "count": puk_cell})
    z = (puk_cell - puk_cell.mean()) / (puk_cell.std() or 1.0) + rng.normal(0, 0.3, n_cells)
    p = np.clip(np.exp(-np.abs(z)), 1e-6, 1.0)
    sig = np.abs(z) > 1.96
    gbin = np.where(sig, np.sign(z) * np.select([np.abs(z) > 2.576, np.abs(z) > 1.96], [3, 2], 1), 0).astype(int)
    gi = pd.DataFrame({"h3_cell": cells, "count": puk_cell, "gi_z": z, "gi_p": p, "gi_significant": sig,
                       "gi_bin": gbin})
    order = np.argsort(-puk_cell, kind="stable")[:10]
    hs_places = pd.DataFrame({"rank": np.arange(1, len(order) + 1), "h3_cell": cells[order],
                              "count": puk_cell[order], "label": "On or near Test Street", "lsoa": "Test 001A",
                              "lsoa_code": "E01000001", "imd_decile": rng.integers(1, 11, len(order)),
                              "gi_z": z[order]})
    lat, lng = cells_to_latlng(cells_to_int(cells))
    pts = gpd.GeoSeries(gpd.points_from_xy(lng, lat), crs="EPSG:4326").to_crs("EPSG:27700")
    xs, ys = pts.x.to_numpy(), pts.y.to_numpy()
    n_clusters = min(4, n_cells)
    centres = rng.choice(n_cells, n_clusters, replace=False)
    clusters = gpd.GeoDataFrame(
        {"cluster_id": np.arange(n_clusters), "n_events": rng.integers(1, 40, n_clusters)},
        geometry=shapely.buffer(shapely.points(xs[centres], ys[centres]), 150.0), crs="EPSG:27700",
    )
    points = pd.DataFrame({"x": np.repeat(xs, puk_cell), "y": np.repeat(ys, puk_cell)})
    grid = Grid(x0=float(xs.min()) - 500, y_top=float(ys.max()) + 500, pixel_m=100.0, rows=30, cols=30)
    radius = 400.0
    k0 = 3 / (np.pi * radius**2)
    dens = (rng.gamma(0.5, 4.0, (grid.rows, grid.cols)) * k0).astype(np.float32)
    dens[0, :3] = -9999.0
    kde = KDEResult(density=dens, grid=grid, crs="EPSG:27700",
                    params={"kernel": "quartic", "decay": 0.0, "radius_m": radius, "pixel_m": 100.0,
                            "output": "scaled", "method": "exact", "qgis_compat": False,
                            "n_points": int(puk_cell.sum()), "total_weight": float(puk_cell.sum())})
    quality = pd.DataFrame({"method": ["gi_star", "top_1pct"], "n_cells": [int(sig.sum()), 1],
                            "area_share": [sig.mean(), 1 / n_cells], "hit_rate": [0.4, 0.1], "pai": [3.0, 5.0],
                            "pei": [0.8, 0.9], "rri": [1.1, 1.2], "n_test_hot": [5, 2], "n_test": [20, 20]})
    hotspots = Hotspots(counts=counts, gi=gi, kde=kde, clusters=clusters, points=points, places=hs_places,
                        quality=quality, pai_curve=None,
                        split={"train_months": list(months[:-2]), "test_months": list(months[-2:])})

    # --- trend and volume (police.uk) ----------------------------------------------------------------
    by_type_cm = puk_type.sum(axis=1)  # type, month
    by_type = pd.DataFrame({"month": np.repeat(months, len(PUK_TYPES)),
                            "crime_type": np.tile(PUK_TYPES, n_months),
                            "count": by_type_cm.T.ravel(),
                            "available": np.repeat(avail, len(PUK_TYPES))})
    monthly_count = by_type_cm.sum(axis=0)
    mean = monthly_count[avail].mean()
    sd = monthly_count[avail].std(ddof=1) if avail.sum() > 1 else 0.0
    monthly = pd.DataFrame({"month": months, "count": monthly_count, "available": avail,
                            "mean": mean, "ucl": mean + 2 * sd, "lcl": max(mean - 2 * sd, 0.0),
                            "signal": np.where(monthly_count > mean + 2 * sd, "above", ""),
                            "run": False})
    monthly.loc[~avail, "count"] = 0
    yoy: dict[str, Any] = {"available": False, "reason": "fewer than 24 months"}
    chart = {"above": int((monthly_count[avail] > mean + 2 * sd).sum()), "below": 0, "months": int(avail.sum()),
             "mean": float(mean), "last_month": months[-1], "last_count": int(monthly_count[-1]),
             "run_months": 0, "reason": "fewer than 24 months"}
    trend = Trend(monthly=monthly, yoy=yoy, chart=chart, by_type=by_type)
    total = int(puk_cell.sum())
    top_n = max(1, n_cells // 100)
    top_idx = np.argsort(-puk_cell, kind="stable")[:top_n]
    hot = sig & (z > 0)
    volume = Volume(total=total, top_cells=top_n, top_share=float(puk_cell[top_idx].sum() / max(total, 1)),
                    top_area_share=top_n / n_cells, gi_hot_cells=int(hot.sum()),
                    gi_hot_share=float(puk_cell[hot].sum() / max(total, 1)), gi_hot_area_share=float(hot.mean()))

    # --- threat areas x month ------------------------------------------------------------------------
    rows = []
    for t, ctype in enumerate(PUK_TYPES):
        rows.append(pd.DataFrame({"threat_area": PUK_AREAS[ctype], "month": months,
                                  "count": puk_type[t].sum(axis=0), "available": avail}))
    for g, grp in enumerate(RMS_GROUPS):
        rows.append(pd.DataFrame({"threat_area": grp, "month": months, "count": rms_group[g].sum(axis=0),
                                  "available": True}))
    table = pd.concat(rows, ignore_index=True)
    table.loc[~table["available"], "count"] = 0
    table["suppressed"] = False
    totals = (table[table["available"]].groupby("threat_area", sort=False)["count"].sum()
              .reindex(table["threat_area"].unique(), fill_value=0))
    totals = pd.DataFrame({"threat_area": totals.index, "count": pd.array(totals.to_numpy(), dtype="Int64"),
                           "suppressed": False})
    threats = ThreatCounts(table=table, totals=totals, sources={**{a: "police_uk" for a in PUK_AREAS.values()},
                                                 **{g: "rms" for g in RMS_GROUPS}})

    # --- venues ----------------------------------------------------------------------------------------
    crime_within = _small_heavy(rng, (n_venues,), 4 * scale)
    ae_within = _small_heavy(rng, (n_venues,), scale)
    nearest_nte = _small_heavy(rng, (n_venues,), 2 * scale) * rng.uniform(0.3, 1.0, n_venues)
    vorder = np.argsort(-nearest_nte, kind="stable")
    vx, vy = xs[rng.integers(0, n_cells, n_venues)], ys[rng.integers(0, n_cells, n_venues)]
    risk = pd.DataFrame({"name": [f"Venue {i}" for i in range(n_venues)], "postcode": "BS1 1AA",
                         "closing_times": "03:00", "x": vx, "y": vy, "crime_within": crime_within,
                         "ae_within": ae_within, "nearest_nte": nearest_nte}).iloc[vorder].reset_index(drop=True)
    risk["risk_rank"] = pd.Series(-risk["nearest_nte"]).rank(method="min").astype(int).to_numpy()
    inc = risk["nearest_nte"].to_numpy()
    t_inc = inc.sum()
    kk = np.arange(1, n_venues + 1)
    risky = pd.DataFrame({"name": risk["name"], "incidents": inc, "venue_rank": kk, "cum_venue_share": kk / n_venues,
                          "cum_incidents": np.cumsum(inc),
                          "cum_incident_share": np.cumsum(inc) / t_inc if t_inc else np.nan})
    top10 = float(np.cumsum(inc)[max(int(np.ceil(n_venues / 10)) - 1, 0)] / t_inc) if t_inc else float("nan")
    gini = float(1 - 2 * np.trapezoid(np.r_[0, np.cumsum(np.sort(inc)) / t_inc], dx=1 / n_venues)) if t_inc else 0.0
    venues = Venues(risk=risk, risky=risky,
                    summary={"n_venues": n_venues, "top10_share": top10, "gini": gini, "distance_m": 50.0,
                             "top_name": str(risk["name"].iloc[0]), "synthetic": True},
                    concentration_area="Bristol", concentration=None)

    # --- when ------------------------------------------------------------------------------------------
    weekday_hour = {}
    for s in ("rms", "ae"):
        n_ev = int(src[s].sum())
        wh = rng.dirichlet(np.full(7 * 24, 0.3)).reshape(7, 24) * n_ev
        frame = pd.DataFrame(wh, index=pd.Index(WEEKDAYS, name="weekday"), columns=pd.Index(range(24), name="hour"))
        frame.attrs.update({"not_time_resolved": 0, "events": n_ev, "weight_col": None})
        weekday_hour[s] = frame
    nte_share = {"rms": float(grids["nte"].query("source == 'rms'")["count"].sum() / max(src["rms"].sum(), 1)),
                 "ae": float(grids["nte"].query("source == 'ae'")["count"].sum() / max(src["ae"].sum(), 1))}
    nte_by_source = pd.DataFrame({"source": list(SOURCES), "label": [LABELS[s] for s in SOURCES],
                                  "synthetic": [s != "police_uk" for s in SOURCES],
                                  "events": [int(src[s].sum()) for s in SOURCES],
                                  "time_resolved": [s in nte_share for s in SOURCES],
                                  "nte_share": [nte_share.get(s) for s in SOURCES]})
    when = When(weekday_hour=weekday_hour, nte_by_source=nte_by_source,
                nte={"share": nte_share["rms"], "window": "Fri,Sat 21:00-06:00", "window_share": 18 / 168,
                     "rate_ratio": nte_share["rms"] / (18 / 168), "synthetic": True})

    # --- what ------------------------------------------------------------------------------------------
    mix = pd.Series(puk_type.sum(axis=(1, 2)), index=list(PUK_TYPES), name="count")
    rms_counts = rms_group.sum(axis=(1, 2))
    rms_mix = pd.Series(rms_counts, index=[RMS_LABELS[g] for g in RMS_GROUPS], name="count")
    rms_harm = pd.Series(rms_counts * np.array([HARM[g] for g in RMS_GROUPS]), index=rms_mix.index, name="harm")
    areas = [PUK_AREAS[t] for t in PUK_TYPES] + list(RMS_GROUPS)
    area_counts = np.r_[mix.to_numpy(), rms_counts]
    harm_by_group = pd.DataFrame({"threat_area": areas, "harm": area_counts * np.array([HARM[a] for a in areas])})
    what = What(police_uk_mix=mix, rms_mix=rms_mix, rms_harm=rms_harm, rms_synthetic=True,
                harm_by_group=harm_by_group, harm_total=float(harm_by_group["harm"].sum()),
                harm_text=f"Harm total {harm_by_group['harm'].sum():,.0f} (test weights).")

    # --- the rest --------------------------------------------------------------------------------------
    sources = tuple(
        SourceQuality(source=s, label=LABELS[s], licence="OGL v3.0" if s == "police_uk" else "test",
                      synthetic=s != "police_uk", first_month=months[0], last_month=months[-1],
                      rows_read=int(src[s].sum()) + 3, rows_accepted=int(src[s].sum()), rows_quarantined=3,
                      quarantined_by_reason={"no_coordinates": 2, "bad_month": 1}, share_without_coordinates=2 / 3)
        for s in SOURCES
    )
    findings = Findings(findings=(), gaps=(), recommendations=())  # built from the numbers below
    monthly_products = pd.DataFrame({"h3_cell": np.repeat(cells, n_months), "source": "police_uk",
                                     "month": np.tile(months, n_cells), "crime_type": PUK_TYPES[0],
                                     "count": src["police_uk"].ravel()})
    meta = Meta(
        force_name="Test Constabulary", force_slug="test", marking="OFFICIAL-SENSITIVE",
        created_utc="2026-01-01T00:00:00Z", tool_version="0.0-test", python=platform.python_version(), config_file=None,
        config_sha256="0" * 64, config={"force": {"handling": "Restricted handling: test"}},
        params={"kde": {"radius_m": radius, "pixel_m": 100.0, "kernel": "quartic"}}, resolution=9,
        n_study_cells=n_cells, cell_area_km2=0.105, first_month=months[0], last_month=months[-1], months=months,
        missing_months=missing, crime_types=PUK_TYPES,
        definitions={"nte_window": "Fri,Sat 21:00-06:00", "harm_index": "test", "vawg_offence_table": "test"},
        synthetic_sources=tuple(s for s in SOURCES if s != "police_uk"),
        inputs=(InputFile(source="police_uk", file="test.csv", sha256="0" * 64),),
    )
    numbers = ProfileNumbers(
        meta=meta,
        disclosure=Disclosure(release="restricted", handling="Restricted handling: test"),
        sources=sources, volume=volume, hotspots=hotspots, trend=trend, threats=threats,
        fused=Fused(grids=grids, places=places, perception=perception, kde_recorded=kde, perception_raster=kde),
        venues=venues, when=when, what=what, context=Context(deprivation=None, comparison=None),
        quality=DataQuality(no_coordinates=2, no_coordinates_share=0.01, stacking_share=0.2, harm_unverified=0.1,
                            missing_sources=("CCTV", "street lighting")),
        findings=findings,
        products=Products(grid=counts.assign(in_study_area=True), monthly=monthly_products),
        geography=Geography(
            boundary=gpd.GeoSeries([shapely.box(grid.x0, grid.y_top - 3000, grid.x0 + 3000, grid.y_top)],
                                   crs="EPSG:27700"),
            local_authorities=None,
        ),
    )
    return dataclasses.replace(numbers, findings=build_findings(numbers))


def profile_params() -> st.SearchStrategy[dict[str, Any]]:
    """Hypothesis strategy: keyword arguments of :func:`make_numbers` (small to show when a test fails)."""
    return st.fixed_dictionaries({
        "seed": st.integers(0, 2**32 - 1),
        "n_cells": st.integers(3, 60),
        "n_months": st.integers(1, 14),
        "scale": st.sampled_from([0.5, 2.0, 6.0, 20.0]),
        "n_venues": st.integers(1, 15),
    })


def profile_numbers() -> st.SearchStrategy[ProfileNumbers]:
    """Hypothesis strategy: :func:`make_numbers` over :func:`profile_params`."""
    return profile_params().map(lambda kw: make_numbers(**kw))
