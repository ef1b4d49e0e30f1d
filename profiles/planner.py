"""What the planners' app shows, computed here (pure functions over arrays); the app only lays it out.

The app (``apps/streamlit_app.py``) calls :func:`load_planner` once (cached) and
then, on every filter change, :func:`select` and the builders below: each is a
mask, a ``bincount`` or one of the toolkit's kernels (Gi*, KDE, DBSCAN), so a
filter change costs tens of milliseconds. Nothing here writes a file.

Honesty rules the app inherits:

* police.uk is month-only: it is never placed in a weekday or an hour; with a
  day or hour filter on, it is left out and the app says so;
* a ranking that rests on a SYNTHETIC source never names a real place: its
  places get stand-in names ("Place A (SYNTHETIC ranking)"), no street label,
  grid reference or venue name (the same rule as the profile);
* sharing mode (:func:`shared_view`) shows only what ``to_shared`` publishes.

Examples
--------
>>> f = Filters(weekday="Fri", hours=(21, 3))
>>> night_pairs(f.weekday, f.hours)[:2], len(night_pairs(f.weekday, f.hours))
([('Fri', 21), ('Fri', 22)], 6)
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import io
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from PIL import Image
from pyproj import Transformer

from hotspots.clustering import dbscan
from hotspots.config import Config
from hotspots.getis_ord import gi_star
from hotspots.grid import cells_to_int, cells_to_latlng, cells_to_str, latlng_to_cells
from hotspots.gridref import os_grid_reference
from hotspots.kde import kde_array
from hotspots.timebands import aoristic_band_share, weekday_hour_table
from hotspots.towns import towns_in_area
from profiles.labels import SOURCE_LABELS
from profiles.places import identify_places
from profiles.sources import load_sources
from profiles.where import spacetime_classes

__all__ = [
    "HOUR_PRESETS",
    "WEEKDAYS",
    "Filters",
    "PlannerData",
    "dbscan_hulls",
    "gi_classes",
    "hex_table",
    "kde_overlay",
    "load_planner",
    "monthly_by_source",
    "night_pairs",
    "ranked_places",
    "select",
    "shared_hex_table",
    "tonight",
    "venues_open",
    "when_table",
]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: hour bands a planner picks from (start, end); an end at or before the start runs past midnight
HOUR_PRESETS: dict[str, tuple[int, int]] = {
    "NTE night 21:00-06:00": (21, 6),
    "Late evening 21:00-03:00": (21, 3),
    "Evening 18:00-00:00": (18, 0),
    "After midnight 00:00-06:00": (0, 6),
    "Daytime 06:00-18:00": (6, 18),
    "All day": (0, 24),
}
RECORDED = ("police_uk", "rms", "ae")


@dataclass(frozen=True, kw_only=True)
class Filters:
    """What the planner has chosen (every page's state)."""

    sources: tuple[str, ...] = ("police_uk",)
    groups: tuple[str, ...] = ()  # VAWG groups; empty = every group of the sources
    months: tuple[str, str] | None = None  # first, last ("YYYY-MM"); None = all
    weekday: str | None = None  # None = every day
    hours: tuple[int, int] = (0, 24)
    harm: bool = False  # weight by the harm index instead of counting
    alpha: float = 0.05
    resolution: int = 9

    @property
    def timed(self) -> bool:
        """True when a day or an hour band is chosen (month-only sources cannot be placed then)."""
        return self.weekday is not None or tuple(self.hours) != (0, 24)


def night_pairs(weekday: str | None, hours: tuple[int, int]) -> list[tuple[str, int]]:
    """The (weekday, hour) pairs of a night: from ``hours[0]`` on ``weekday``, past midnight into the next day.

    Examples
    --------
    >>> night_pairs("Sun", (23, 1))
    [('Sun', 23), ('Mon', 0)]
    >>> len(night_pairs(None, (0, 24)))
    168
    """
    start, end = int(hours[0]), int(hours[1])
    span = 24 if (start, end) == (0, 24) else (end - start) % 24 or 24
    days = WEEKDAYS if weekday is None else (weekday,)
    out = []
    for d in days:
        i = WEEKDAYS.index(d)
        for h in range(start, start + span):
            out.append((WEEKDAYS[(i + h // 24) % 7], h % 24))
    return out


@dataclass(frozen=True)
class PlannerData:
    """One force's events and context, loaded once for the app (restricted)."""

    force: str
    marking: str
    handling: str
    events: pd.DataFrame  # every source, in the force area; + h3_9, h3_10 (uint64)
    police: pd.DataFrame  # police.uk rows for street labels
    venues: pd.DataFrame | None
    boundary: list[list[list[float]]]  # force outline rings, lng/lat
    local_authorities: list[dict[str, Any]]  # name, path (lng/lat rings), label point
    towns: pd.DataFrame  # name, lng, lat
    study_cells: np.ndarray  # H3 res-9 cells of the force area (str)
    months: tuple[str, ...]
    synthetic_sources: tuple[str, ...]
    spacetime: pd.DataFrame  # h3_cell, st_class (police.uk, resolution 9)
    definitions: dict[str, Any] = field(default_factory=dict)
    read: Any = None  # the profiles.sources.Sources read (the profile's numbers reuse it)

    @property
    def sources(self) -> tuple[str, ...]:
        """Sources present, in the toolkit's order."""
        have = set(self.events["source"].astype(str))
        return tuple(s for s in SOURCE_LABELS if s in have)

    def groups(self, sources: tuple[str, ...]) -> list[str]:
        """VAWG groups present in ``sources``."""
        by = self.definitions.get("_groups_by_source", {})
        return sorted({g for s in sources for g in by.get(s, ())})


def _ordinals(months: pd.Series) -> np.ndarray:
    """Month ordinals (period[M]) as int64, for fast range filters."""
    return np.asarray(pd.PeriodIndex(months, freq="M").asi8, dtype=np.int64)


@functools.lru_cache(maxsize=4)
def _transformer(src: int, dst: int) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def _rings(geom, to_wgs) -> list[list[list[float]]]:
    polys = list(getattr(geom, "geoms", [geom]))
    rings: list[Any] = []
    for p in polys:
        x, y = np.asarray(p.exterior.coords).T
        lng, lat = to_wgs.transform(x, y)
        rings.append(np.round(np.c_[lng, lat], 5).tolist())
    return rings


def load_planner(cfg: Config) -> PlannerData:
    """Read the force's sources once (``profiles.sources.load_sources``) and lay them out for the app."""
    # the app's views need the events, boundaries and venues, not the context tables (comparator forces, IMD,
    # populations): leaving them out halves the first load; the profile's numbers read them in full
    lite = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, comparators=(), imd=None, population=None,
                                                             lsoa_population=None))
    src = load_sources(lite, progress=False)
    ev = src.events[src.events["in_force_area"].to_numpy()].reset_index(drop=True)
    ev = ev.assign(month_ordinal=_ordinals(ev["month"]), h3_9=ev["h3"].to_numpy(np.uint64),
                   h3_10=latlng_to_cells(ev["lat"].to_numpy(), ev["lng"].to_numpy(), resolution=10))
    to_wgs = _transformer(27700, 4326)
    area = src.area
    boundary = _rings(shapely.simplify(area, 100), to_wgs) if area is not None else []
    las = []
    if src.local_authorities is not None:
        for name, geom in zip(src.local_authorities["name"], src.local_authorities.geometry, strict=True):
            pt = geom.representative_point()
            lng, lat = to_wgs.transform(pt.x, pt.y)
            las.append({"name": str(name), "path": _rings(shapely.simplify(geom, 120), to_wgs),
                        "lng": round(float(lng), 5), "lat": round(float(lat), 5)})
    towns = towns_in_area(area) if area is not None else pd.DataFrame(columns=["name", "lng", "lat"])
    if "lng" not in towns.columns and len(towns):
        lng, lat = to_wgs.transform(towns["x"].to_numpy(), towns["y"].to_numpy())
        towns = towns.assign(lng=lng, lat=lat)
    police = src.police.assign(h3_10=latlng_to_cells(src.police["lat"].to_numpy(), src.police["lng"].to_numpy(),
                                                     resolution=10))
    interest = tuple(cfg.offences.crime_types_of_interest)
    vawg = police[police["crime_type"].isin(list(interest)).to_numpy()]
    months = tuple(sorted(pd.Index(ev["month"].unique()).astype(str)))
    st = spacetime_classes(vawg, list(src.study_cells), months=sorted(pd.Index(vawg["month"].unique()).astype(str)))
    return PlannerData(force=cfg.force.name, marking=cfg.force.security_classification,
                       handling=cfg.force.handling, events=ev, police=police,
                       venues=src.nte_venues, boundary=boundary, local_authorities=las,
                       towns=towns[["name", "lng", "lat"]].head(25) if len(towns) else towns,
                       study_cells=np.asarray(src.study_cells), months=months,
                       synthetic_sources=tuple(src.synthetic_sources), spacetime=st[["h3_cell", "st_class"]],
                       definitions={**src.definitions, "_groups_by_source": {
                           str(s): tuple(sorted(str(x) for x in g))
                           for s, g in ev.groupby("source", observed=True)["vawg_group"].unique().items()}}, read=src)


# --------------------------------------------------------------------------- selection

def select(data: PlannerData, f: Filters) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The events a filter keeps and each one's weight (its share of the chosen night x harm), with notes.

    Month-only sources are dropped when a day or hour is chosen (never placed in an hour); time-resolved
    events count by the aoristic share of their from/to window inside the chosen hours.
    """
    ev = data.events
    keep = ev["source"].isin(list(f.sources)).to_numpy()
    if f.groups:
        keep = keep & ev["vawg_group"].isin(list(f.groups)).to_numpy()
    if f.months:
        m = ev["month_ordinal"].to_numpy() if "month_ordinal" in ev.columns else _ordinals(ev["month"])
        lo, hi = (pd.Period(x, freq="M").ordinal for x in f.months)
        keep = keep & (m >= lo) & (m <= hi)
    notes: list[str] = []
    if f.timed:
        month_only = keep & ~ev["time_resolved"].to_numpy(bool)
        if month_only.any():
            names = sorted(set(ev.loc[month_only, "source"].astype(str)))
            notes.append(f"{', '.join(SOURCE_LABELS.get(n, n) for n in names)}: month only, never placed in a "
                         f"day or hour, so left out of this view ({int(month_only.sum()):,} records)")
        keep = keep & ev["time_resolved"].to_numpy(bool)
    sub = ev[keep]
    w = np.ones(len(sub))
    if f.timed and len(sub):
        share = aoristic_band_share(sub["t_from"].to_numpy(), sub["t_to"].to_numpy(),
                                    bands={"night": night_pairs(f.weekday, f.hours)})
        w = np.asarray(share)[:, 0] if np.ndim(share) == 2 else np.asarray(share, float)
    if f.harm:
        w = w * sub["harm_weight"].fillna(0).to_numpy(float)
    on = w > 0
    return sub[on], w[on], notes


def hex_table(sub: pd.DataFrame, w: np.ndarray, *, resolution: int = 9) -> pd.DataFrame:
    """Per H3 cell: ``h3_cell`` (str), ``value`` (weighted), ``count`` (records touching it), lng/lat of its centre.

    Examples
    --------
    >>> ev = pd.DataFrame({"h3_9": np.array([617700169958293503, 617700169958293503], np.uint64)})
    >>> hex_table(ev, np.array([0.5, 1.0]))[["value", "count"]].values.tolist()
    [[1.5, 2.0]]
    """
    col = "h3_9" if resolution == 9 else "h3_10"
    cells = sub[col].to_numpy(np.uint64)
    if not len(cells):
        return pd.DataFrame(columns=["h3_cell", "value", "count", "lng", "lat"])
    uniq, inv = np.unique(cells, return_inverse=True)
    value = np.bincount(inv, weights=w)
    count = np.bincount(inv).astype(float)
    names = cells_to_str(uniq)
    lat, lng = cells_to_latlng(uniq)
    out = pd.DataFrame({"h3_cell": names, "value": value, "count": count, "lng": lng, "lat": lat})
    return out.sort_values("value", ascending=False, kind="stable").reset_index(drop=True)


def gi_classes(table: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Gi* (FDR at ``alpha``) over the cells of ``table``: ``h3_cell``, ``gi_z``, ``gi_class`` (hot/cold/none)."""
    if len(table) < 3:
        return pd.DataFrame(columns=["h3_cell", "gi_z", "gi_class"])
    res = gi_star(table[["h3_cell", "value"]], value="value", study_area="ring:1", alpha=alpha, fdr=True)
    z = res["gi_z"].to_numpy(float) if "gi_z" in res.columns else res["z"].to_numpy(float)
    sig = res["gi_significant"].to_numpy(bool) if "gi_significant" in res.columns else res["significant"].to_numpy()
    cls = np.where(sig & (z > 0), "hot", np.where(sig & (z < 0), "cold", "none"))
    return pd.DataFrame({"h3_cell": res["h3_cell"].astype(str).to_numpy(), "gi_z": z, "gi_class": cls})


_RAMP_AT = np.array([0.0, 0.5, 1.0])
_RAMP = np.array([[0, 34, 78], [124, 123, 120], [254, 232, 56]], float)


def kde_overlay(sub: pd.DataFrame, w: np.ndarray, *, radius_m: float = 400.0, pixel_m: float = 150.0
                ) -> dict[str, Any] | None:
    """A KDE surface as a small PNG (data URI) with its lng/lat bounds, for a bitmap layer; None when empty."""
    if len(sub) < 2:
        return None
    res = kde_array(sub["x"].to_numpy(float), sub["y"].to_numpy(float), radius_m=radius_m, pixel_m=pixel_m,
                    weights=w, method="fft")  # a display surface: FFT is within ~1% of the exact sum
    z = np.asarray(res.density, float)
    z = np.where(np.isfinite(z) & (z != res.nodata), z, 0.0)
    top = np.quantile(z[z > 0], 0.995) if (z > 0).any() else 1.0
    norm = np.clip(z / top, 0, 1)
    rgba = np.empty((*z.shape, 4), np.uint8)
    for i in range(3):  # cividis-like ramp (colour-blind safe): dark blue -> grey -> yellow
        rgba[..., i] = np.interp(norm, _RAMP_AT, _RAMP[:, i]).astype(np.uint8)
    rgba[..., 3] = np.where(norm > 0.02, 40 + 170 * norm, 0).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG", optimize=True)
    xmin, ymin, xmax, ymax = res.grid.bounds
    to_wgs = _transformer(27700, 4326)
    west, south = to_wgs.transform(xmin, ymin)
    east, north = to_wgs.transform(xmax, ymax)
    return {"image": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"),
            "bounds": [west, south, east, north], "radius_m": radius_m, "pixel_m": pixel_m}


def dbscan_hulls(sub: pd.DataFrame, w: np.ndarray, *, eps_m: float = 100.0, min_samples: int = 30
                 ) -> list[dict[str, Any]]:
    """DBSCAN clusters of the selected events as lng/lat polygons with their weighted size (largest first)."""
    if len(sub) < min_samples:
        return []
    pts = pd.DataFrame({"x": sub["x"].to_numpy(float), "y": sub["y"].to_numpy(float), "w": w})
    _, clusters = dbscan(pts, eps_m=eps_m, min_samples=min_samples, weight="w")
    to_wgs = _transformer(27700, 4326)
    out = []
    for r in clusters.sort_values("weighted_size", ascending=False).head(200).itertuples():
        geom = r.geometry.buffer(25) if r.geometry.geom_type != "Polygon" else r.geometry
        x, y = np.asarray(geom.exterior.coords).T
        lng, lat = to_wgs.transform(x, y)
        out.append({"polygon": np.round(np.c_[lng, lat], 5).tolist(), "size": float(r.weighted_size),
                    "points": int(r.n_points)})
    return out


def _synthetic_in(sub: pd.DataFrame) -> bool:
    return bool(sub["synthetic"].to_numpy(bool).any()) if len(sub) else False


def ranked_places(data: PlannerData, table: pd.DataFrame, sub: pd.DataFrame, *, top: int = 15) -> pd.DataFrame:
    """The top cells of ``table`` with what a sergeant needs: street labels, local authority, OS grid reference.

    When a SYNTHETIC source is in the selection the places get stand-in names and no street, grid reference
    or local authority detail below the force (synthetic counts never make a real place look risky).
    """
    head = table.head(top).copy()
    head.insert(0, "rank", np.arange(1, len(head) + 1))
    if not len(head):
        return head.assign(place="", local_authority="", grid_ref="", synthetic=False)
    if _synthetic_in(sub):
        names = [f"Place {chr(65 + i) if i < 26 else i + 1} (SYNTHETIC ranking)" for i in range(len(head))]
        return head.assign(place=names, local_authority="(withheld: synthetic)", grid_ref="", synthetic=True)
    police = data.police
    if str(head["h3_cell"].iloc[0])[1] == "a" and "h3_10" in police.columns:  # resolution-10 cells
        police = police.assign(h3=police["h3_10"].to_numpy(np.uint64))
    ident = identify_places(police, head["h3_cell"].tolist())  # one row per cell, in order ("" without crimes)
    x, y = _cell_xy(head["h3_cell"].tolist())
    head["grid_ref"] = os_grid_reference(x, y, digits=8)
    head["place"] = ident["streets"].to_numpy()
    head["local_authority"] = ident["local_authority"].to_numpy()
    return head.assign(synthetic=False)


def _cell_xy(cells: list[str]) -> tuple[np.ndarray, np.ndarray]:
    lat, lng = cells_to_latlng(cells_to_int(cells))
    x, y = _transformer(4326, 27700).transform(lng, lat)
    return np.asarray(x), np.asarray(y)


# --------------------------------------------------------------------------- when, venues, tonight

def when_table(sub: pd.DataFrame, *, harm: bool = False) -> pd.DataFrame:
    """Weekday x hour (7 x 24, aoristic) of the time-resolved events of ``sub``; harm-weighted when ``harm``."""
    timed = sub[sub["time_resolved"].to_numpy(bool)]
    frame = timed[["t_from", "t_to", "time_resolved"]]
    if harm:
        frame = frame.assign(w=timed["harm_weight"].fillna(0).to_numpy(float))
    return weekday_hour_table(frame, weight_col="w" if harm else None)


_CLOSE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+(\d{1,2}):(\d{2})")


def venues_open(venues: pd.DataFrame | None, weekday: str | None, hour: int) -> pd.DataFrame:
    """NTE venues with their closing time on ``weekday``'s night and whether they are open at ``hour``.

    ``closing_times`` reads "Fri 1:00; Sat 1:00" (the licensing data): a time before 06:00 is after midnight.

    Examples
    --------
    >>> v = pd.DataFrame({"name": ["A", "B"], "closing_times": ["Fri 1:00; Sat 1:00", ""], "x": [0, 0], "y": [0, 0],
    ...                   "kind": "Pub/bar"})
    >>> venues_open(v, "Fri", 23)[["name", "closes", "open"]].values.tolist()
    [['A', '01:00', 'yes'], ['B', 'not known', 'not known']]
    """
    if venues is None or not len(venues):
        return pd.DataFrame(columns=["name", "kind", "closes", "open", "x", "y"])
    closes, is_open = [], []
    for text in venues.get("closing_times", pd.Series("", index=venues.index)).fillna("").astype(str):
        times = {d: (int(h), int(m)) for d, h, m in _CLOSE.findall(text)}
        if weekday is None or weekday not in times:
            closes.append("not known")
            is_open.append("not known")
            continue
        h, m = times[weekday]
        closes.append(f"{h:02d}:{m:02d}")
        end = h + 24 if h < 6 else h  # after midnight
        at = hour + 24 if hour < 6 else hour
        is_open.append("yes" if at < end or (at == end and m > 0) else "closed")
    return venues.assign(closes=closes, open=is_open)[["name", "kind", "closes", "open", "x", "y"]]


def tonight(data: PlannerData, weekday: str, hours: tuple[int, int], *, sources: tuple[str, ...] = ("rms", "ae"),
            top: int = 10, venue_m: float = 250.0) -> tuple[pd.DataFrame, list[str]]:
    """Where to be on ``weekday`` night during ``hours``: the top places with context for a patrol briefing.

    Each place: expected incidents a night (the aoristic share of every time-resolved record of the sources in
    the chosen hours, over the number of such nights in the period), the last 4 weeks against the 12 weeks
    before, the hot spot class (police.uk over the months: persistent, emerging...), and NTE venues within
    ``venue_m`` with their closing time that night.
    """
    f = Filters(sources=sources, weekday=weekday, hours=hours)
    sub, w, notes = select(data, f)
    table = hex_table(sub, w, resolution=9)
    places = ranked_places(data, table, sub, top=top)
    if not len(places):
        return places, notes
    t = sub["t_from"]
    nights = max(((t.max() - t.min()).days + 1) / 7, 1.0) if len(sub) else 1.0
    places["per_night"] = places["value"] / nights
    end = t.max()
    recent = (t > end - pd.Timedelta(days=28)).to_numpy()
    before = ((t <= end - pd.Timedelta(days=28)) & (t > end - pd.Timedelta(days=28 + 84))).to_numpy()
    cells = sub["h3_9"].to_numpy(np.uint64)
    ids = cells_to_int(places["h3_cell"].tolist())
    r = np.array([w[recent & (cells == c)].sum() for c in ids])
    b = np.array([w[before & (cells == c)].sum() for c in ids]) / 3
    places["last_4_weeks"] = r
    places["previous_4_week_average"] = b
    places["trend"] = np.where(b == 0, np.where(r > 0, "new", "quiet"),
                               np.where(r > 1.5 * b, "up", np.where(r < b / 1.5, "down", "steady")))
    st = data.spacetime.set_index("h3_cell")["st_class"]
    places["hotspot_class"] = [str(st.get(c, "no pattern")) for c in places["h3_cell"]]
    ven = venues_open(data.venues, weekday, hours[0])
    near = []
    if len(ven) and not places["synthetic"].any():
        x, y = _cell_xy(places["h3_cell"].tolist())
        vx, vy = ven["x"].to_numpy(float), ven["y"].to_numpy(float)
        for xi, yi in zip(x, y, strict=True):
            d = np.hypot(vx - xi, vy - yi)
            hit = ven[d <= venue_m]
            pairs = list(zip(hit["name"], hit["closes"], strict=True))[:4]
            near.append("; ".join(f"{n} (closes {c})" for n, c in pairs))
    else:
        near = ["(withheld: synthetic ranking)" if places["synthetic"].any() else ""] * len(places)
    places["venues_nearby"] = near
    return places, notes


# --------------------------------------------------------------------------- sharing mode

def shared_hex_table(shared: Any, source: str, *, band: str = "all") -> pd.DataFrame:
    """The hexagons the shared version publishes for one source and band (withheld cells are not drawn at all).

    ``shared`` is the output of ``profiles.shared.to_shared``: its fused grids hold ``<NA>`` where a count was
    withheld; only published counts above zero are returned, so nothing in 1..k-1 can reach the screen.
    """
    grids = getattr(shared.fused, "grids", {}) or {}
    g = grids.get(band)
    rows = g[g["source"].astype(str) == source] if g is not None and len(g) else pd.DataFrame()
    if not len(rows) and source == "police_uk" and band == "all":  # police.uk outside the combined analyses
        counts = getattr(shared.hotspots, "counts", None)
        rows = counts if counts is not None else rows
    if not len(rows):
        return pd.DataFrame(columns=["h3_cell", "value", "count", "lng", "lat"])
    counts = pd.to_numeric(rows["count"], errors="coerce")
    pub = rows[counts.notna().to_numpy() & (counts.fillna(0) > 0).to_numpy()]
    values = pd.to_numeric(pub["count"], errors="coerce").astype(float).to_numpy()
    cells = pub["h3_cell"].astype(str).tolist()
    lat, lng = cells_to_latlng(cells_to_int(cells)) if cells else (np.zeros(0), np.zeros(0))
    out = pd.DataFrame({"h3_cell": cells, "value": values, "count": values, "lng": lng, "lat": lat})
    return out.sort_values("value", ascending=False, kind="stable").reset_index(drop=True)


def monthly_by_source(sub: pd.DataFrame, w: np.ndarray) -> pd.DataFrame:
    """Weighted records a month per source (the trend chart of the current filter)."""
    if not len(sub):
        return pd.DataFrame(columns=["month", "source", "value"])
    frame = pd.DataFrame({"month": sub["month"].astype(str).to_numpy(), "source": sub["source"].astype(str).to_numpy(),
                          "value": w})
    return frame.groupby(["month", "source"], as_index=False).agg(value=("value", "sum"))
