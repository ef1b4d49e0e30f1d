"""Combine a force's sources: ingest each, put them on one event model, band, weight and fuse.

The story, for one force config:

1. ingest every configured source (police.uk, RMS, StreetSafe, A&E, venues,
   partner incidents) with its own reconciliation and quarantine, written
   under ``sources/<source>/``;
2. put the VAWG-relevant events on one model (``source, x, y, lng, lat,
   month, t_from, t_to, time_resolved, nte_share, vawg_group, harm_weight,
   synthetic``): police.uk rows are month-only (``nte_share`` NaN, never
   guessed); RMS rows count when their offence code is in a VAWG group;
3. apportion time windows over the week (aoristic) and into the NTE window
   echoed from the config;
4. grid per source and time band (optionally harm-weighted), score places,
   compare perception (StreetSafe) with recorded crime, and rank NTE venues.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots.config import Config
from hotspots.io import events_to_frame, write_csv, write_ingest_outputs

__all__ = ["Combined", "combine_sources", "COMMON_COLUMNS"]

COMMON_COLUMNS = [
    "event_id",
    "source",
    "synthetic",
    "x",
    "y",
    "lng",
    "lat",
    "month",
    "t_from",
    "t_to",
    "time_resolved",
    "nte_share",
    "vawg_group",
    "harm_weight",
]
SOURCE_LABELS = {
    "police_uk": "police.uk recorded crime",
    "rms": "force RMS recorded crime",
    "streetsafe": "StreetSafe reports (felt unsafe)",
    "ae": "A&E assault attendances",
}


@dataclass
class Combined:
    """Everything the combine stage produced (frames in memory, paths written)."""

    events: pd.DataFrame
    venues: pd.DataFrame | None
    reconciliations: dict[str, dict]
    definitions: dict
    grids: dict[str, pd.DataFrame] = field(default_factory=dict)
    places: pd.DataFrame | None = None
    perception: pd.DataFrame | None = None
    venue_risk: pd.DataFrame | None = None
    risky: pd.DataFrame | None = None
    weekday_hour: dict[str, pd.DataFrame] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    reasons: pd.DataFrame | None = None  # StreetSafe answers per report: lng, lat and one bool column per answer

    @property
    def synthetic_sources(self) -> list[str]:
        """Sources built from synthetic data (named on every output that uses them)."""
        syn = self.events.groupby("source", observed=True)["synthetic"].any()
        return sorted(s for s, v in syn.items() if v)


def _in_area(x: np.ndarray, y: np.ndarray, area) -> np.ndarray:
    if area is None:
        return np.ones(len(x), bool)
    import shapely

    ok = np.isfinite(x) & np.isfinite(y)
    out = np.zeros(len(x), bool)
    if ok.any():
        shapely.prepare(area)
        out[ok] = shapely.contains_xy(area, x[ok], y[ok])
    return out


def _police_uk_events(result, *, interest, table, harm, notes) -> pd.DataFrame:
    from hotspots.offences import classify_police_uk

    ev = events_to_frame(result.events, ["event_id", "x", "y", "lng", "lat", "month", "crime_type", "in_force_area"])
    ev = ev[ev["crime_type"].isin(interest)]
    if "in_force_area" in ev and ev["in_force_area"].notna().any():
        ev = ev[ev["in_force_area"].fillna(False).astype(bool)]
    cls = classify_police_uk(ev["crime_type"].astype(str).to_numpy(), table=table)
    out = pd.DataFrame(
        {
            "event_id": ev["event_id"].astype(str).to_numpy(),
            "source": "police_uk",
            "synthetic": False,
            "x": ev["x"].to_numpy(),
            "y": ev["y"].to_numpy(),
            "lng": ev["lng"].to_numpy(),
            "lat": ev["lat"].to_numpy(),
            "month": ev["month"].to_numpy(),
            "t_from": pd.NaT,
            "t_to": pd.NaT,
            "time_resolved": False,
            "vawg_group": cls["vawg_group"].to_numpy(dtype=object),
            "crime_type": ev["crime_type"].astype(str).to_numpy(),
        }
    )
    out["harm_weight"] = _harm(out["crime_type"].to_numpy(), harm, notes)
    return out


def _harm(codes: np.ndarray, harm, notes: dict[str, int]) -> np.ndarray:
    """Harm weight per event from the profile's one index; adds verified/placeholder counts to ``notes``."""
    if harm is None:
        return np.ones(len(codes))
    from hotspots.harm import assign_harm

    u, inv = np.unique(np.asarray(codes, dtype=object).astype(str), return_inverse=True)
    w = assign_harm(pd.DataFrame({"offence_code": u}), index=harm, allow_placeholders=True)
    inv = inv.ravel()
    for col, key in (("harm_verified", "verified"), ("harm_placeholder", "placeholder")):
        notes[key] = notes.get(key, 0) + int(w[col].to_numpy(bool)[inv].sum())
    notes["events_weighted"] = notes.get("events_weighted", 0) + len(inv)
    return w["harm_weight"].to_numpy(float)[inv]


def _distinct_venues(venues: pd.DataFrame) -> pd.DataFrame:
    """NTE venues placed by their own coordinates, one row per premises, with closing times where known.

    The same pub is often in Open Pubs, the FSA ratings and the closing-times
    list: rows with the same normalised name ("The " and punctuation dropped)
    and postcode are one venue (the first file's row is kept), and the
    closing-times rows add a ``closing_times`` column ("Fri 02:00; Sat
    02:30"). Premises placed only by postcode (licensing register) are too
    imprecise for a 50 m count and are left out of the venue ranking (they
    stay in the venue table).
    """
    v = venues[venues["is_nte"] & venues["placed_by"].eq("coordinates")].copy()
    name = v["name"].astype(str).str.lower().str.replace(r"^the\s+", "", regex=True)
    pc = v["postcode"].astype(str).str.replace(r"\s+", "", regex=True).str.upper()
    v["_key"] = name.str.replace(r"[^a-z0-9]", "", regex=True) + "|" + pc
    hours = v[v["format"].eq("closing_times") & v["day"].astype(str).ne("")]
    closing = (
        hours.assign(_txt=hours["day"].astype(str).str[:3] + " " + hours["closing_time"].astype(str))
        .groupby("_key")["_txt"]
        .agg(lambda s: "; ".join(sorted(set(s), key=_weekday_order)))
    )
    out = v.drop_duplicates("_key").reset_index(drop=True)
    out["closing_times"] = out["_key"].map(closing).fillna("")
    return out.drop(columns="_key")


def _weekday_order(text: str) -> int:
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    return days.index(text[:3]) if text[:3] in days else 7


def _banded(ev: pd.DataFrame, window) -> np.ndarray:
    """NTE share of each event's window; NaN where the source has no time of day."""
    from hotspots.timebands import nte_share

    share = np.full(len(ev), np.nan)
    ok = ev["time_resolved"].to_numpy(bool) & ev["t_from"].notna().to_numpy()
    if ok.any():
        share[ok] = nte_share(ev.loc[ok, "t_from"].to_numpy(), ev.loc[ok, "t_to"].to_numpy(), window=window)
    return share


def combine_sources(cfg: Config, *, out_dir: str | os.PathLike, police_uk=None, area=None, progress=None) -> Combined:
    """Ingest every configured source and build the fused grids, scores and venue ranking.

    Parameters
    ----------
    cfg : Config
        The force config (sources, NTE window, harm index, fusion weights).
    out_dir : path
        Per-source outputs go to ``<out_dir>/sources/<source>/``; fused tables to ``<out_dir>``.
    police_uk : IngestResult, optional
        Already-read police.uk result (read from the config otherwise).
    area : shapely geometry, optional
        Force area (EPSG:27700); events outside are kept in the source outputs but
        not gridded.
    progress : bool, optional
        Progress bars for the police.uk read.

    Returns
    -------
    Combined
    """
    from hotspots.fusion import perception_gap_cells, place_scores, source_grids
    from hotspots.harm import load_harm_index
    from hotspots.ingest.ae import read_ae
    from hotspots.ingest.partners import read_venues
    from hotspots.ingest.police_uk import read_police_uk
    from hotspots.ingest.rms import read_rms
    from hotspots.ingest.streetsafe import read_streetsafe
    from hotspots.offences import load_offence_table
    from hotspots.timebands import parse_nte_window, weekday_hour_table
    from hotspots.venues import risky_facilities, venue_risk

    out = Path(out_dir)
    table = load_offence_table()
    harm = None if cfg.harm.index == "none" else load_harm_index(cfg.harm.index)
    window = parse_nte_window(cfg.time.nte_window)
    res_h3 = cfg.grid.h3_resolution
    recs: dict[str, dict] = {}
    outputs: dict[str, str] = {}
    harm_notes: dict[str, int] = {}
    frames: list[pd.DataFrame] = []
    reasons = None

    def keep(name, result):
        paths = write_ingest_outputs(result, out / "sources" / name)
        outputs.update({f"{name}_{k}": str(v) for k, v in paths.items()})
        recs[name] = result.reconciliation

    if police_uk is None:
        police_uk = read_police_uk(cfg.data.police_uk, progress=progress)
    interest = cfg.offences.crime_types_of_interest
    frames.append(_police_uk_events(police_uk, interest=interest, table=table, harm=harm, notes=harm_notes))

    if cfg.rms.files:
        r = read_rms(
            cfg.rms.files,
            columns=cfg.rms.columns,
            dayfirst=cfg.rms.dayfirst,
            offence_table=table,
            synthetic=cfg.rms.synthetic,
        )
        keep("rms", r)
        ev = r.events.to_pandas()
        ev = ev[ev["vawg_group"].notna()].copy()
        ev["harm_weight"] = _harm(ev["offence_code"].to_numpy(), harm, harm_notes)
        frames.append(ev)
    if cfg.streetsafe.files:
        r = read_streetsafe(
            cfg.streetsafe.files,
            columns=cfg.streetsafe.columns,
            keep_demographics=cfg.streetsafe.keep_demographics,
            synthetic=cfg.streetsafe.synthetic,
        )
        keep("streetsafe", r)
        ev = r.events.to_pandas()
        reason_cols = [c for c in ev.columns if c.startswith(("place_", "behaviour_"))]
        reasons = ev[["lng", "lat", *reason_cols]].copy()
        ev["vawg_group"] = "streetsafe_felt_unsafe"
        ev["harm_weight"] = np.nan  # not a crime: no harm weight
        frames.append(ev)
    if cfg.ae.files:
        r = read_ae(cfg.ae.files, columns=cfg.ae.columns, dayfirst=cfg.ae.dayfirst, synthetic=cfg.ae.synthetic)
        keep("ae", r)
        ev = r.events.to_pandas()
        ev["vawg_group"] = "ae_assault"
        ev["harm_weight"] = np.nan  # no offence code: harm is not assigned
        frames.append(ev)
    venues = None
    venue_files = tuple(cfg.partnership.venues) or tuple(cfg.data.venues)
    if venue_files:
        r = read_venues(venue_files)
        keep("venues", r)
        venues = r.events.to_pandas()

    events = pd.concat([f.reindex(columns=COMMON_COLUMNS) for f in frames], ignore_index=True)
    events["month"] = pd.PeriodIndex(events["month"], freq="M") if len(events) else events["month"]
    events["t_from"] = pd.to_datetime(events["t_from"])
    events["t_to"] = pd.to_datetime(events["t_to"])
    events["time_resolved"] = events["time_resolved"].fillna(False).astype(bool)
    events["synthetic"] = events["synthetic"].fillna(False).astype(bool)
    events["nte_share"] = _banded(events, window)
    events["in_force_area"] = _in_area(events["x"].to_numpy(float), events["y"].to_numpy(float), area)
    grid_ev = events[events["in_force_area"]]

    grids = {
        "all": source_grids(grid_ev, resolution=res_h3, weight="harm_weight" if harm is not None else None),
        "nte": source_grids(grid_ev, resolution=res_h3, band="nte"),
        "other": source_grids(grid_ev, resolution=res_h3, band="other"),
    }
    sources = [s for s in SOURCE_LABELS if s in set(grid_ev["source"])]
    weights = {s: float(cfg.fusion.source_weights.get(s, 0.0)) for s in sources}
    places = place_scores(grids["all"], sources=sources, source_weights=weights)
    perception = None
    if "streetsafe" in sources:
        recorded = tuple(s for s in ("police_uk", "rms") if s in sources)
        perception = perception_gap_cells(grids["all"], perception="streetsafe", recorded=recorded)
    risk = risky = None
    if venues is not None and len(venues):
        nte_venues = _distinct_venues(venues)
        risk = venue_risk(nte_venues, grid_ev, distance_m=cfg.fusion.venue_distance_m, nte_only=True)
        risky = risky_facilities(risk)

    surfaces = _surfaces(grid_ev, harm=harm, out=out, perception="streetsafe" in sources)
    weekday_hour = {}
    for s in sources:
        sub = grid_ev[grid_ev["source"] == s]
        if sub["time_resolved"].any():
            weekday_hour[s] = weekday_hour_table(sub)

    definitions = {
        "nte_window": str(window),
        "nte_window_detail": window.to_dict(),
        "vawg_offence_table": table.version,
        "harm_index": harm.label if harm is not None else "none",
        "harm_weights": {
            **{k: harm_notes.get(k, 0) for k in ("events_weighted", "verified", "placeholder")},
            "note": "weights not marked verified in the index's table are approximations (see its TOML)",
        },
        "h3_resolution": res_h3,
        "source_weights": weights,
        "venue_distance_m": cfg.fusion.venue_distance_m,
        "police_uk_crime_types": list(interest),
        "time_basis": "local wall-clock time; windows apportioned by minutes (aoristic); police.uk is month-only",
    }
    comb = Combined(
        events=events,
        venues=venues,
        reconciliations=recs,
        definitions=definitions,
        grids=grids,
        places=places,
        perception=perception,
        venue_risk=risk,
        risky=risky,
        weekday_hour=weekday_hour,
        outputs=outputs,
        reasons=reasons,
    )
    comb.outputs.update(surfaces)
    _write(comb, out)
    return comb


KDE_RADIUS_M = 400.0
KDE_PIXEL_M = 100.0


def _surfaces(ev: pd.DataFrame, *, harm, out: Path, perception: bool) -> dict[str, str]:
    """Harm-weighted KDE of recorded VAWG, and the dual-KDE perception gap, as GeoTIFFs (EPSG:27700).

    Quartic kernel, 400 m radius, 100 m pixels on QGIS's grid; parameters are
    stored with each raster (``<file>.json``).
    """
    from hotspots.fusion import perception_gap
    from hotspots.io import write_raster
    from hotspots.kde import KDEResult, kde

    written = {}
    rec = ev[ev["source"].isin(["police_uk", "rms"]) & np.isfinite(ev["x"].to_numpy(float))]
    if len(rec):
        weight = None
        if harm is not None:
            rec = rec[np.isfinite(rec["harm_weight"].to_numpy(float))]
            weight = "harm_weight"
        import dataclasses

        res = dataclasses.replace(kde(rec, radius_m=KDE_RADIUS_M, pixel_m=KDE_PIXEL_M, weight=weight), crs="EPSG:27700")
        res.params.update(harm_index=harm.label if harm is not None else "none", sources=["police_uk", "rms"])
        name = "kde_recorded_harm.tif" if harm is not None else "kde_recorded.tif"
        written["kde_recorded"] = str(write_raster(res, out / name))
    if perception:
        ss = ev[ev["source"] == "streetsafe"]
        gap = perception_gap(ss, rec, radius_m=KDE_RADIUS_M, pixel_m=KDE_PIXEL_M)
        params = {**gap.params, "layer": "log2(StreetSafe share / recorded-crime share), smoothed"}
        res = KDEResult(density=gap.gap_log2.astype(np.float32), grid=gap.grid, crs="EPSG:27700", params=params)
        written["perception_gap_raster"] = str(write_raster(res, out / "perception_gap_log2.tif"))
    return written


def _write(comb: Combined, out: Path) -> None:
    """Fused tables as CSV/Parquet (counts, not personal data), each stating synthetic sources."""
    tag = ";".join(comb.synthetic_sources)

    def csv(df: pd.DataFrame, name: str) -> None:
        p = out / name
        write_csv(df.assign(synthetic_sources=tag), p)
        comb.outputs[name.removesuffix(".csv")] = str(p)

    grid = pd.concat([g.assign(band=b) if "band" not in g else g for b, g in comb.grids.items()], ignore_index=True)
    grid.to_parquet(out / "grid_fused.parquet", index=False)
    comb.outputs["grid_fused"] = str(out / "grid_fused.parquet")
    csv(comb.places, "place_scores.csv")
    if comb.perception is not None:
        csv(comb.perception, "perception_gap.csv")
    if comb.venue_risk is not None:
        csv(comb.venue_risk, "venue_risk.csv")
        csv(comb.risky, "risky_facilities.csv")
    for s, t in comb.weekday_hour.items():
        csv(t.reset_index(), f"weekday_hour_{s}.csv")
