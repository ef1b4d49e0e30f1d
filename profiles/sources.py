"""Load a force's sources: read every input once, put events on one model, grid them once. Writes nothing.

The story, for one force config (:func:`load_sources`):

1. read the force boundary, local authorities, and every configured source
   (police.uk, RMS, StreetSafe, A&E, venues; IMD, comparator forces and
   population for context), each with its own reconciliation and quarantine;
2. put the VAWG-relevant events on one model (:data:`COMMON_COLUMNS`):
   police.uk rows are month-only (``nte_share`` NaN, never guessed); RMS rows
   count when their offence code is in a VAWG group; time windows are
   apportioned into the NTE window (aoristic) and harm weights attached;
3. flag the events inside the force area and give each one its H3 cell
   (``h3``, uint64) once, so no later step indexes a point again.

The result, :class:`Sources`, holds the ingest results (which the writer
saves as today's ``events.parquet``, ``quarantine.csv``,
``reconciliation.json`` and ``sources/<name>/``) and the frames the numbers
stage reads.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots.boundaries import read_boundary
from hotspots.config import Config
from hotspots.grid import boundary_to_cells, latlng_to_cells, unique_points
from hotspots.harm import HarmIndex, assign_harm, load_harm_index
from hotspots.ingest.ae import read_ae
from hotspots.ingest.imd import read_imd
from hotspots.ingest.police_uk import IngestResult, read_police_uk
from hotspots.ingest.population import read_population
from hotspots.ingest.rms import read_rms
from hotspots.ingest.streetsafe import read_streetsafe
from hotspots.ingest.venues import read_venues
from hotspots.io import events_to_frame
from hotspots.offence_scope import COURSE_OF_CONDUCT_GROUPS, is_course_of_conduct, is_private_space
from hotspots.offences import classify_police_uk, load_offence_table
from hotspots.timebands import NTEWindow, nte_share, parse_nte_window
from profiles.cells import cells_to_strings, str_values

log = logging.getLogger("safer_spaces")

__all__ = ["Sources", "load_sources", "COMMON_COLUMNS", "POLICE_COLUMNS", "distinct_venues"]

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
    "harm_verified",
    "private_space",
]
POLICE_COLUMNS = [
    "event_id",
    "x",
    "y",
    "lng",
    "lat",
    "month",
    "crime_type",
    "location",
    "lsoa_code",
    "lsoa_name",
    "snap_point_id",
    "in_force_area",
]
PARTNERS = ("rms", "streetsafe", "ae", "venues")


@dataclass(frozen=True)
class Sources:
    """Every input of a force profile, read once (frames in memory; nothing written).

    Attributes
    ----------
    police_uk, rms, streetsafe, ae, venues : IngestResult or None
        What each reader returned (events, quarantine, reconciliation).
    comparators : IngestResult or None
        police.uk files of other forces (comparator context).
    population, imd : DataFrame or None
        Force populations; IMD 2019 by LSOA.
    boundary : GeoDataFrame or None
        The force boundary as read (EPSG:27700).
    area : shapely geometry or None
        The force area, one (multi)polygon in EPSG:27700.
    local_authorities : GeoDataFrame or None
        ``name``, ``geometry`` (EPSG:27700), one row per local-authority file.
    study_cells : ndarray of str
        Every H3 cell of the force area (sorted).
    police : DataFrame
        Every police.uk crime inside the force area (:data:`POLICE_COLUMNS`
        plus ``h3``, uint64 cell).
    events : DataFrame
        VAWG-relevant events of every source (:data:`COMMON_COLUMNS` plus
        ``crime_type`` (police.uk), ``in_force_area`` and ``h3``: uint64 cell,
        0 outside the force area).
    venue_rows : DataFrame or None
        Every venue row read (all formats).
    nte_venues : DataFrame or None
        Distinct NTE venues placed by coordinates (:func:`distinct_venues`).
    reasons : DataFrame or None
        StreetSafe answers per report: ``lng``, ``lat``, ``h3``, one bool column per answer.
    definitions : mapping
        NTE window, offence table version, harm index and weights notes,
        H3 resolution, source weights, venue distance, police.uk crime types, time basis.
    window : NTEWindow
        The parsed NTE window.
    """

    police_uk: IngestResult
    rms: IngestResult | None
    streetsafe: IngestResult | None
    ae: IngestResult | None
    venues: IngestResult | None
    comparators: IngestResult | None
    population: pd.DataFrame | None
    imd: pd.DataFrame | None
    boundary: gpd.GeoDataFrame | None
    area: Any
    local_authorities: gpd.GeoDataFrame | None
    study_cells: np.ndarray
    police: pd.DataFrame
    events: pd.DataFrame
    venue_rows: pd.DataFrame | None
    nte_venues: pd.DataFrame | None
    reasons: pd.DataFrame | None
    definitions: Mapping[str, Any]
    window: NTEWindow

    @property
    def partners(self) -> dict[str, IngestResult]:
        """The partner sources read (rms, streetsafe, ae, venues order): their outputs go to ``sources/<name>/``."""
        return {n: r for n in PARTNERS if (r := getattr(self, n)) is not None}

    @property
    def synthetic_sources(self) -> tuple[str, ...]:
        """Sources built from synthetic data (named on every output that uses them), sorted."""
        ev = self.events
        syn = ev.groupby("source", observed=True)["synthetic"].any()
        return tuple(sorted(str(s) for s, v in syn.items() if v))


def load_sources(cfg: Config, *, progress: bool | None = None) -> Sources:
    """Read every input the config names, put the events on one model and grid them once.

    Parameters
    ----------
    cfg : Config
        The force config.
    progress : bool, optional
        Progress bars for the police.uk read (default: when stderr is a terminal).

    Returns
    -------
    Sources

    Examples
    --------
    >>> from hotspots.config import load_config
    >>> s = load_sources(load_config("configs/avon-and-somerset.toml"))
    >>> s.synthetic_sources, sorted(s.partners)
    (('ae', 'rms', 'streetsafe'), ['ae', 'rms', 'streetsafe', 'venues'])
    """
    res = cfg.grid.h3_resolution
    boundary = read_boundary(cfg.data.boundary) if cfg.data.boundary else None
    area = force_area(boundary)
    police_uk = read_police_uk(cfg.data.police_uk, boundary=area, progress=progress)
    police = _police_frame(police_uk, in_area=area is not None, resolution=res)
    table = load_offence_table()
    harm = None if cfg.harm.index == "none" else load_harm_index(cfg.harm.index)
    window = parse_nte_window(cfg.time.nte_window)
    notes: dict[str, int] = {}
    scope: dict[str, int] = {}
    interest = tuple(cfg.offences.crime_types_of_interest)
    frames = [_police_uk_events(police, interest=interest, table=table, harm=harm, notes=notes)]

    rms = streetsafe = ae = venues = None
    reasons = None
    if cfg.rms.files:
        rms = read_rms(
            cfg.rms.files, columns=cfg.rms.columns, dayfirst=cfg.rms.dayfirst, offence_table=table,
            synthetic=cfg.rms.synthetic,
        )
        frames.append(_rms_events(rms, harm=harm, notes=notes))
    if cfg.streetsafe.files:
        streetsafe = read_streetsafe(
            cfg.streetsafe.files, columns=cfg.streetsafe.columns, keep_demographics=cfg.streetsafe.keep_demographics,
            synthetic=cfg.streetsafe.synthetic,
        )
        ev = streetsafe.events.to_pandas()
        ev = ev.assign(h3=_cells(ev, resolution=res), vawg_group="streetsafe_felt_unsafe", harm_weight=np.nan)
        reason_cols = [c for c in ev.columns if c.startswith(("place_", "behaviour_"))]
        reasons = ev[["lng", "lat", "h3", *reason_cols]].reset_index(drop=True)
        frames.append(ev)  # not a crime: no harm weight
    if cfg.ae.files:
        ae = read_ae(cfg.ae.files, columns=cfg.ae.columns, dayfirst=cfg.ae.dayfirst, synthetic=cfg.ae.synthetic)
        frames.append(_ae_events(ae, notes=scope))
    venue_files = tuple(cfg.partnership.venues) or tuple(cfg.data.venues)
    venue_rows = nte_venues = None
    if venue_files:
        venues = read_venues(venue_files)
        venue_rows = venues.events.to_pandas()
        nte_venues = distinct_venues(venue_rows)

    events = _events(frames, window=window, area=area, resolution=res)
    weights = {s: float(cfg.fusion.source_weights.get(s, 0.0)) for s in ("police_uk", "rms", "streetsafe", "ae")}
    present = {str(v) for v in events.loc[events["in_force_area"], "source"].unique()}
    definitions = {
        "nte_window": str(window),
        "nte_window_detail": window.to_dict(),
        "vawg_offence_table": table.version,
        "harm_index": harm.label if harm is not None else "none",
        "harm_weights": {
            **{k: notes.get(k, 0) for k in ("events_weighted", "verified", "placeholder")},
            "note": "weights not marked verified in the index's table are approximations (see its TOML)",
        },
        "h3_resolution": res,
        "source_weights": {s: w for s, w in weights.items() if s in present},
        "venue_distance_m": cfg.fusion.venue_distance_m,
        "police_uk_crime_types": list(interest),
        "time_basis": "local wall-clock time; windows apportioned by minutes (aoristic); police.uk is month-only",
        "private_space": "RMS location types matching hotspots.offence_scope.PRIVATE_LOCATION_PATTERN (dwellings); "
                         "police.uk has no location type",
        "course_of_conduct_groups": list(COURSE_OF_CONDUCT_GROUPS),
        "ae_scope": {"attendances": scope.get("ae_attendances", 0), "female": scope.get("ae_female", 0),
                     "rule": "A&E assault attendances feed VAWG measures only for female patients"},
    }
    if boundary is not None:
        study = boundary_to_cells(boundary, resolution=res)
    else:
        study = np.unique(cells_to_strings(np.unique(police["h3"].to_numpy(np.uint64))))
    comparators, population = _comparators(cfg, progress=progress)
    return Sources(
        police_uk=police_uk,
        rms=rms,
        streetsafe=streetsafe,
        ae=ae,
        venues=venues,
        comparators=comparators,
        population=population,
        imd=read_imd(cfg.data.imd, population=cfg.data.lsoa_population) if cfg.data.imd else None,
        boundary=boundary,
        area=area,
        local_authorities=_local_authorities(cfg.data.local_authorities),
        study_cells=np.asarray(study, dtype=object),
        police=police,
        events=events,
        venue_rows=venue_rows,
        nte_venues=nte_venues,
        reasons=reasons,
        definitions=definitions,
        window=window,
    )


def force_area(boundary: gpd.GeoDataFrame | None):
    """The force area as one geometry in EPSG:27700 (None without a boundary).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:27700")
    >>> force_area(b).area
    2.0
    """
    if boundary is None:
        return None
    if boundary.crs is not None and boundary.crs.to_epsg() != 27700:
        boundary = boundary.to_crs("EPSG:27700")
    return shapely.union_all(boundary.geometry.to_numpy())


def _cells(frame: pd.DataFrame, *, resolution: int, ok: np.ndarray | None = None) -> np.ndarray:
    """The H3 cell (uint64) of each row, each distinct point indexed once; 0 where ``ok`` is False."""
    lat = frame["lat"].to_numpy(np.float64)
    lng = frame["lng"].to_numpy(np.float64)
    good = np.isfinite(lat) & np.isfinite(lng)
    if ok is not None:
        good &= ok
    out = np.zeros(len(frame), dtype=np.uint64)
    if good.any():
        codes, first = unique_points(lng[good], lat[good])
        out[good] = latlng_to_cells(lat[good][first], lng[good][first], resolution=resolution)[codes]
    return out


def _police_frame(result: IngestResult, *, in_area: bool, resolution: int) -> pd.DataFrame:
    """police.uk crimes inside the force area (every type), with their H3 cell."""
    ev = events_to_frame(result.events, POLICE_COLUMNS)
    if in_area:
        ev = ev[ev["in_force_area"].fillna(False).astype(bool).to_numpy()]
    ev = ev.reset_index(drop=True)
    return ev.assign(h3=_cells(ev, resolution=resolution))


def _police_uk_events(police: pd.DataFrame, *, interest, table, harm, notes) -> pd.DataFrame:
    """VAWG-relevant police.uk crimes on the common event model (month-only)."""
    ev = police[police["crime_type"].isin(interest).to_numpy()]
    crime_type = str_values(ev["crime_type"])
    cls = classify_police_uk(crime_type, table=table)
    weight, verified = _harm_verified(crime_type, harm, notes)
    return pd.DataFrame(
        {
            "event_id": ev["event_id"].astype(str).array,
            "source": "police_uk",
            "synthetic": False,
            "x": ev["x"].to_numpy(),
            "y": ev["y"].to_numpy(),
            "lng": ev["lng"].to_numpy(),
            "lat": ev["lat"].to_numpy(),
            "month": ev["month"].array,
            "t_from": pd.NaT,
            "t_to": pd.NaT,
            "time_resolved": False,
            "vawg_group": cls["vawg_group"].to_numpy(dtype=object),
            "crime_type": crime_type,
            "harm_weight": weight,
            "harm_verified": verified,
            "h3": ev["h3"].to_numpy(),
        }
    )


def _rms_events(rms: IngestResult, *, harm: HarmIndex | None, notes: dict[str, int]) -> pd.DataFrame:
    """VAWG RMS offences on the common model: harm weight, private-space flag, course of conduct not in hours.

    Stalking, harassment and coercive control (:data:`COURSE_OF_CONDUCT_GROUPS`) keep their dates but
    are not ``time_resolved``: their committed from/to times describe a course of conduct, not an hour.
    """
    ev = rms.events.to_pandas()
    ev = ev[ev["vawg_group"].notna()]
    course = is_course_of_conduct(ev["vawg_group"])
    weight, verified = _harm_verified(ev["offence_code"].to_numpy(), harm, notes)
    return ev.assign(
        harm_weight=weight,
        harm_verified=verified,
        private_space=is_private_space(ev["location_type"]) if "location_type" in ev.columns else False,
        time_resolved=ev["time_resolved"].to_numpy(bool) & ~course,
    )


def _ae_events(ae: IngestResult, *, notes: dict[str, int]) -> pd.DataFrame:
    """A&E assault attendances of female patients (the VAWG measure); the count read and kept go to ``notes``."""
    ev = ae.events.to_pandas()
    female = str_values(ev["patient_sex"]) == "F" if "patient_sex" in ev.columns else np.zeros(len(ev), bool)
    notes["ae_attendances"] = len(ev)
    notes["ae_female"] = int(female.sum())
    return ev[female].assign(vawg_group="ae_assault", harm_weight=np.nan)  # no offence code


def _harm_verified(codes: np.ndarray, harm: HarmIndex | None, notes: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Harm weight per event and whether the index marks that weight verified (``_harm`` with the flags)."""
    if harm is None:
        return np.ones(len(codes)), np.zeros(len(codes), dtype=bool)
    u, inv = np.unique(np.asarray(codes, dtype=object).astype(str), return_inverse=True)
    w = assign_harm(pd.DataFrame({"offence_code": u}), index=harm, allow_placeholders=True)
    inv = inv.ravel()
    for col, key in (("harm_verified", "verified"), ("harm_placeholder", "placeholder")):
        notes[key] = notes.get(key, 0) + int(w[col].to_numpy(bool)[inv].sum())
    notes["events_weighted"] = notes.get("events_weighted", 0) + len(inv)
    return w["harm_weight"].to_numpy(float)[inv], w["harm_verified"].to_numpy(bool)[inv]


def _events(frames: Sequence[pd.DataFrame], *, window: NTEWindow, area, resolution: int) -> pd.DataFrame:
    """One event frame: common columns, NTE share, force-area flag and the H3 cell of events inside.

    A frame that already has its cells (``h3``) keeps them; the others are indexed here, once.
    """
    cols = [*COMMON_COLUMNS, "crime_type"]
    events = pd.concat([f.reindex(columns=cols) for f in frames], ignore_index=True)
    known = np.concatenate([np.full(len(f), "h3" in f.columns) for f in frames]) if frames else np.zeros(0, bool)
    h3 = np.concatenate(
        [f["h3"].to_numpy(np.uint64) if "h3" in f.columns else np.zeros(len(f), np.uint64) for f in frames]
    ) if frames else np.zeros(0, np.uint64)
    events["month"] = pd.PeriodIndex(events["month"], freq="M") if len(events) else events["month"]
    events["t_from"] = pd.to_datetime(events["t_from"])
    events["t_to"] = pd.to_datetime(events["t_to"])
    events["time_resolved"] = events["time_resolved"].fillna(False).astype(bool)
    events["synthetic"] = events["synthetic"].fillna(False).astype(bool)
    events["private_space"] = events["private_space"].eq(True).to_numpy(bool)  # missing (not RMS): not private
    events["harm_verified"] = events["harm_verified"].eq(True).to_numpy(bool)
    events["nte_share"] = _banded(events, window)
    inside = _in_area(events["x"].to_numpy(float), events["y"].to_numpy(float), area)
    events["in_force_area"] = inside
    todo = inside & ~known
    if todo.any():
        h3[todo] = _cells(events[todo], resolution=resolution)
    h3[~inside] = 0
    events["h3"] = h3
    return events


def _banded(ev: pd.DataFrame, window: NTEWindow) -> np.ndarray:
    """NTE share of each event's window; NaN where the source has no time of day."""
    share = np.full(len(ev), np.nan)
    ok = ev["time_resolved"].to_numpy(bool) & ev["t_from"].notna().to_numpy()
    if ok.any():
        share[ok] = nte_share(ev.loc[ok, "t_from"].to_numpy(), ev.loc[ok, "t_to"].to_numpy(), window=window)
    return share


def _in_area(x: np.ndarray, y: np.ndarray, area) -> np.ndarray:
    if area is None:
        return np.ones(len(x), bool)
    ok = np.isfinite(x) & np.isfinite(y)
    out = np.zeros(len(x), bool)
    if ok.any():
        shapely.prepare(area)
        out[ok] = shapely.contains_xy(area, x[ok], y[ok])
    return out


def distinct_venues(venues: pd.DataFrame) -> pd.DataFrame:
    """NTE venues placed by their own coordinates, one row per premises, with closing times where known.

    The same pub is often in Open Pubs, the FSA ratings and the closing-times
    list: rows with the same normalised name ("The " and punctuation dropped)
    and postcode are one venue (the first file's row is kept), and the
    closing-times rows add a ``closing_times`` column ("Fri 02:00; Sat
    02:30"). Premises placed only by postcode (licensing register) are too
    imprecise for a 50 m count and are left out of the venue ranking (they
    stay in the venue table).

    Examples
    --------
    >>> v = pd.DataFrame({"name": ["The Bell", "Bell", "Bell"], "postcode": ["BA1 1AA", "ba11aa", "BA1 1AA"],
    ...                   "is_nte": True, "placed_by": "coordinates", "format": ["open_pubs", "fsa", "closing_times"],
    ...                   "day": ["", "", "Friday"], "closing_time": ["", "", "02:00"]})
    >>> distinct_venues(v)[["name", "closing_times"]].values.tolist()
    [['The Bell', 'Fri 02:00']]
    """
    v = venues[venues["is_nte"].astype(bool) & venues["placed_by"].eq("coordinates")]
    name = v["name"].astype(str).str.lower().str.replace(r"^the\s+", "", regex=True)
    pc = v["postcode"].astype(str).str.replace(r"\s+", "", regex=True).str.upper()
    key = name.str.replace(r"[^a-z0-9]", "", regex=True) + "|" + pc
    v = v.assign(_key=key)
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


def _local_authorities(paths: Sequence[Path]) -> gpd.GeoDataFrame | None:
    """Local-authority boundaries (``name``: the file's NAME/name property, else its file name), EPSG:27700."""
    if not paths:
        return None
    parts = [
        gpd.GeoDataFrame(
            {"name": [_la_name(Path(p))]},
            geometry=[shapely.union_all(read_boundary(p).geometry.to_numpy())],
            crs="EPSG:27700",
        )
        for p in paths
    ]
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:27700")


def _la_name(path: Path) -> str:
    """A local authority's name: the boundary file's ``NAME``/``name``/``LAD*NM`` property, else the file name."""
    try:
        props = gpd.read_file(path, ignore_geometry=True)
    except Exception:  # noqa: BLE001 - the name is cosmetic; read_boundary reports a bad file properly
        props = pd.DataFrame()
    for col in props.columns:
        if str(col).lower() == "name" or (str(col).upper().startswith("LAD") and str(col).upper().endswith("NM")):
            vals = props[col].dropna().astype(str)
            if len(vals) and vals.iloc[0].strip():
                return vals.iloc[0].strip()[:80]
    return path.stem.replace("boundary_", "")


def _comparators(cfg: Config, *, progress: bool | None) -> tuple[IngestResult | None, pd.DataFrame | None]:
    """Other forces' police.uk files and force populations (context: a failure is logged, never fatal)."""
    if not (cfg.data.comparators and cfg.data.population):
        return None, None
    try:
        return read_police_uk(cfg.data.comparators, progress=False), read_population(cfg.data.population)
    except (ValueError, KeyError) as exc:  # comparators are context: say why they are missing, do not stop
        log.warning("comparator forces not compared: %s", exc)
        return None, None
