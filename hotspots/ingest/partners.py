"""Ingest partnership data: NTE venues, CCTV, street lights and partner incidents.

Venue files come in four real layouts, recognised from their header:

- ``open_pubs``: Open Pubs (getthedata.com; FSA + ONS Postcode Directory):
  ``fsa_id, name, address, postcode, easting, northing, latitude, longitude``;
- ``fhrs``: FSA Food Hygiene Rating Scheme open data (``FHRSID, BusinessName,
  BusinessType, PostCode, Latitude, Longitude``); every premises is kept and
  ``is_nte`` marks ``BusinessType == "Pub/bar/nightclub"``;
- ``licensing``: a council premises-licence register in the LGA schema
  (``CaseReference, PremisesName, Postcode, ServiceTypeLabel, AlcoholSupply,
  LateNightRefreshment, StatusLabel``): no coordinates, so premises are placed
  by **postcode** when a lookup is given (see :func:`postcode_lookup`) and
  quarantined as ``no_coordinates`` otherwise, never dropped silently;
- ``closing_times``: venue closing times by weekday (NightCapp/Bath: Hacked:
  ``id, name, postcode, day, closingtime, Location "(lat, lon)"``).

CCTV cameras and street lights are points with an ID (:func:`read_assets`).
Partner incidents with real date-times (e.g. Avon Fire & Rescue's open
incident log) are read by :func:`read_incidents`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numba as nb
import numpy as np
import pandas as pd

from hotspots.errors import InputFileError, ParameterError
from hotspots.ingest import _csvscan as k
from hotspots.ingest import _datetimes as dt
from hotspots.ingest.common import (
    LAT_RANGE,
    LNG_RANGE,
    bng_to_wgs84,
    coordinates,
    coverage,
    datetimes,
    events_table,
    flags,
    is_synthetic_file,
    reconcile,
    utc_to_local,
    wgs84_to_bng,
)
from hotspots.ingest.police_uk import IngestResult
from hotspots.ingest.table import (
    TableRead,
    assemble_quarantine,
    norm_header,
    parse_float_spans,
    read_header,
    read_table,
)

__all__ = ["VENUE_FORMATS", "read_venues", "postcode_lookup", "read_assets", "read_incidents", "normalise_postcode"]

VENUE_FORMATS: dict[str, dict[str, str]] = {
    "open_pubs": {
        "id": "fsa_id",
        "name": "name",
        "address": "address",
        "postcode": "postcode",
        "easting": "easting",
        "northing": "northing",
    },
    "fhrs": {
        "id": "FHRSID",
        "name": "BusinessName",
        "kind": "BusinessType",
        "postcode": "PostCode",
        "address": "AddressLine1",
        "lng": "Longitude",
        "lat": "Latitude",
    },
    "licensing": {
        "id": "CaseReference",
        "name": "PremisesName",
        "kind": "ServiceTypeLabel",
        "postcode": "Postcode",
        "address": "LocationText",
        "alcohol": "AlcoholSupply",
        "late_night": "LateNightRefreshment",
        "status": "StatusLabel",
        "uprn": "UPRN",
    },
    "closing_times": {
        "id": "id",
        "name": "name",
        "postcode": "postcode",
        "day": "day",
        "closing_time": "closingtime",
        "location": "Location",
    },
}
"""Venue layouts: logical column -> header. The first whose columns are all present is used."""

NTE_BUSINESS_TYPES = ("Pub/bar/nightclub",)
_FIX_NOCOORD = (
    "the premises has no coordinates and its postcode is not in the lookup; add easting/northing (or "
    "latitude/longitude) to the file, or a postcode lookup covering it"
)


def normalise_postcode(pc: np.ndarray) -> np.ndarray:
    """Upper case with all spaces removed (``"BS14  0QF"`` -> ``"BS140QF"``).

    Examples
    --------
    >>> normalise_postcode(np.array(["bs14  0qf", " BA1 5AQ"], dtype=object)).tolist()
    ['BS140QF', 'BA15AQ']
    """
    s = pd.Series(np.asarray(pc, dtype=object)).fillna("").astype(str)
    return s.str.replace(r"\s+", "", regex=True).str.upper().to_numpy(dtype=object)


def postcode_lookup(venues: pd.DataFrame) -> pd.DataFrame:
    """A postcode -> point lookup from premises whose coordinates are known.

    The point of a postcode is the mean of the premises in it (FSA premises are
    geocoded to the address or the postcode centroid), so a licensed premises
    placed by it is accurate to the postcode (~15 addresses), not the door.

    Parameters
    ----------
    venues : DataFrame
        With ``postcode``, ``x``, ``y`` (e.g. the FHRS and Open Pubs venues).

    Returns
    -------
    DataFrame
        Indexed by normalised postcode: ``x``, ``y``, ``n_premises``.

    Examples
    --------
    >>> v = pd.DataFrame({"postcode": ["BA1 5AQ", "ba15aq", "BA2 8LS"], "x": [1.0, 3.0, 5.0], "y": [2.0, 4.0, 6.0]})
    >>> postcode_lookup(v).loc["BA15AQ"].tolist()
    [2.0, 3.0, 2.0]
    """
    pc = normalise_postcode(venues["postcode"].to_numpy())
    ok = (pc != "") & np.isfinite(venues["x"].to_numpy(float)) & np.isfinite(venues["y"].to_numpy(float))
    g = pd.DataFrame({"postcode": pc[ok], "x": venues["x"].to_numpy(float)[ok], "y": venues["y"].to_numpy(float)[ok]})
    out = g.groupby("postcode").agg(x=("x", "mean"), y=("y", "mean"), n_premises=("x", "size"))
    out["n_premises"] = out["n_premises"].astype(float)
    return out


def _detect_format(path: Path) -> str:
    header = {norm_header(h) for h in read_header(path)}
    for fmt, cols in VENUE_FORMATS.items():
        need = [v for key, v in cols.items() if key in ("id", "name")]
        geo = [v for key, v in cols.items() if key in ("easting", "northing", "lng", "lat", "postcode", "location")]
        if all(norm_header(c) in header for c in need + geo):
            return fmt
    raise InputFileError(
        str(path),
        "header is not a known venue layout (Open Pubs, FSA hygiene ratings, licensing register, closing times)",
        "give one of those files as published, or name the layout with format=... and its columns",
        line=1,
    )


@nb.njit(cache=True, nogil=True)
def _paren_pair(buf, s_arr, e_arr):
    """Spans of the two numbers in ``"(a, b)"`` cells; empty spans where the cell is not of that form."""
    n = len(s_arr)
    s1 = np.zeros(n, np.int64)
    e1 = np.zeros(n, np.int64)
    s2 = np.zeros(n, np.int64)
    e2 = np.zeros(n, np.int64)
    for i in range(n):
        s, e = s_arr[i], e_arr[i]
        while s < e and buf[s] == 32:
            s += 1
        while e > s and buf[e - 1] == 32:
            e -= 1
        if e - s < 5 or buf[s] != 40 or buf[e - 1] != 41:  # ( )
            continue
        c = s + 1
        while c < e - 1 and buf[c] != 44:
            c += 1
        if c >= e - 1:
            continue
        s1[i], e1[i], s2[i], e2[i] = s + 1, c, c + 1, e - 1
    return s1, e1, s2, e2


def _paren_coordinates(t: TableRead, col: str, label: str, no_coords_fix: str):
    """Points from a ``"(lat, lon)"`` column (Socrata's location format)."""
    s1, e1, s2, e2 = _paren_pair(t.buf, *t.spans(col))
    lat, st1 = parse_float_spans(t.buf, s1, e1)
    lng, st2 = parse_float_spans(t.buf, s2, e2)
    raw_s, raw_e = k._strip_spans(t.buf, *t.spans(col))
    empty = raw_s == raw_e
    bad = ~empty & ((st1 != k.NUM_OK) | (st2 != k.NUM_OK))
    ok = ~empty & ~bad
    inside = ok & (lng >= LNG_RANGE[0]) & (lng <= LNG_RANGE[1]) & (lat >= LAT_RANGE[0]) & (lat <= LAT_RANGE[1])
    x, y = np.full(len(lat), np.nan), np.full(len(lat), np.nan)
    if inside.any():
        x[inside], y[inside] = wgs84_to_bng(lng[inside], lat[inside])
    problems = [
        (empty, "no_coordinates", no_coords_fix, None),
        (bad, "bad_coordinates", f"{label} must be '(latitude, longitude)'; correct the cell", None),
        (ok & ~inside, "coordinates_out_of_range", f"{label} is outside Great Britain; correct the cell", None),
    ]
    return x, y, lng, lat, problems


def _strings(t: TableRead, col: str) -> np.ndarray:
    return t.strings(col).to_numpy(zero_copy_only=False) if t.has(col) else np.full(len(t), "", dtype=object)


def read_venues(
    paths: Iterable[str | Path],
    *,
    postcodes: pd.DataFrame | None = None,
    format: str | None = None,
) -> IngestResult:
    """Read NTE venue files (any of :data:`VENUE_FORMATS`) into one venue table.

    Parameters
    ----------
    paths : iterable of path
        Venue files; each file's layout is recognised from its header.
    postcodes : DataFrame, optional
        Postcode lookup (:func:`postcode_lookup`) used to place premises
        without coordinates (licensing registers). Default: built from the
        other files given here (FHRS and Open Pubs premises).
    format : str, optional
        Force one layout for all files.

    Returns
    -------
    IngestResult
        ``events`` are venues: ``venue_id`` (``<format>:<id>``), ``name``,
        ``kind``, ``is_nte``, ``postcode``, ``address``, ``x``, ``y``, ``lng``,
        ``lat``, ``placed_by`` ("coordinates" or "postcode"), ``format``,
        ``alcohol``, ``late_night`` (1/0/-1), ``status``, ``day``,
        ``closing_time`` (closing-times files: one row per venue and day),
        ``source_file``, ``source_line``.

    Examples
    --------
    >>> res = read_venues(["data/venues/Open_Pubs_-_Bath__North_East_Somerset.csv"])
    >>> v = res.events.to_pandas()
    >>> len(v), v.loc[0, "name"], bool(v["is_nte"].all())
    (173, 'All Bar One', True)
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise ParameterError("read_venues needs at least one file")
    formats = [format or _detect_format(p) for p in paths]
    if any(f not in VENUE_FORMATS for f in formats):
        raise ParameterError(f"format must be one of {', '.join(VENUE_FORMATS)}; got {format!r}")
    tables: list[TableRead] = []
    geo: list[tuple] = []
    for p, fmt in zip(paths, formats, strict=True):
        cols = VENUE_FORMATS[fmt]
        t = read_table(
            p,
            columns=cols,
            required=[c for c in cols if c in ("id", "name")],
            header_fix=f"give the {fmt} file as published",
        )
        n = len(t)
        if fmt == "open_pubs":
            x, y, lng, lat, cp = coordinates(
                t, kind="bng", x_col="easting", y_col="northing", no_coords_fix=_FIX_NOCOORD, what="easting/northing"
            )
        elif fmt == "fhrs":
            x, y, lng, lat, cp = coordinates(
                t, kind="wgs84", x_col="lng", y_col="lat", no_coords_fix=_FIX_NOCOORD, what="Longitude/Latitude"
            )
        elif fmt == "closing_times":
            x, y, lng, lat, cp = _paren_coordinates(t, "location", cols["location"], _FIX_NOCOORD)
        else:  # licensing register: no coordinates at all; placed by postcode below
            x, y, lng, lat = (np.full(n, np.nan) for _ in range(4))
            cp = [(np.ones(n, bool), "no_coordinates", _FIX_NOCOORD, None)]
        tables.append(t)
        geo.append((x, y, lng, lat, cp))
    if postcodes is None:  # premises with coordinates place the others by postcode
        placed = [
            pd.DataFrame({"postcode": _strings(t, "postcode"), "x": g[0], "y": g[1]})
            for t, g in zip(tables, geo, strict=True)
        ]
        postcodes = postcode_lookup(pd.concat(placed, ignore_index=True))
    frames: list[pd.DataFrame] = []
    for p, fmt, t, (x, y, lng, lat, cp) in zip(paths, formats, tables, geo, strict=True):
        cols = VENUE_FORMATS[fmt]
        n = len(t)
        placed_by = np.full(n, "coordinates" if fmt != "licensing" else "none", dtype=object)
        pc = normalise_postcode(_strings(t, "postcode"))
        missing = cp[0][0] & (pc != "")  # the first coordinate problem is always no_coordinates
        if missing.any() and len(postcodes):
            pos = np.full(n, -1)
            pos[missing] = postcodes.index.get_indexer(pc[missing])
            hit = pos >= 0
            if hit.any():
                x, y = x.copy(), y.copy()
                x[hit] = postcodes["x"].to_numpy()[pos[hit]]
                y[hit] = postcodes["y"].to_numpy()[pos[hit]]
                lng, lat = lng.copy(), lat.copy()
                lng[hit], lat[hit] = bng_to_wgs84(x[hit], y[hit])
                placed_by[hit] = "postcode"
                detail = np.where(pc == "", "no postcode", "postcode not in the lookup").astype(object)
                cp = [(cp[0][0] & ~hit, cp[0][1], cp[0][2], detail), *cp[1:]]
        problems = [(_strings(t, "name") == "", "missing_name", "every premises needs its name; fill it", None), *cp]
        alcohol, bad_alc = flags(t, "alcohol", label=cols.get("alcohol", "alcohol"))
        late, bad_late = flags(t, "late_night", label=cols.get("late_night", "late_night"))
        problems += [q for q in (bad_alc, bad_late) if q is not None]
        kind = _strings(t, "kind") if t.has("kind") else np.full(n, "Pub/bar" if fmt != "licensing" else "", object)
        keep = t.reject(problems)
        kind = kind[keep]
        is_nte = np.isin(kind, NTE_BUSINESS_TYPES) if fmt == "fhrs" else np.ones(len(kind), bool)
        if fmt == "licensing":  # licensed to sell alcohol or late-night refreshment, still approved
            status = _strings(t, "status")
            is_nte = ((alcohol[keep] == 1) | (late[keep] == 1)) & (np.char.lower(status.astype(str)) == "approved")
        ids = _strings(t, "id")
        frames.append(
            pd.DataFrame(
                {
                    "venue_id": np.char.add(f"{fmt}:", ids.astype(str)),
                    "name": _strings(t, "name"),
                    "kind": kind,
                    "is_nte": is_nte,
                    "postcode": _strings(t, "postcode"),
                    "address": _strings(t, "address"),
                    "x": x[keep],
                    "y": y[keep],
                    "lng": lng[keep],
                    "lat": lat[keep],
                    "placed_by": placed_by[keep],
                    "format": fmt,
                    "alcohol": alcohol[keep],
                    "late_night": late[keep],
                    "status": _strings(t, "status"),
                    "day": _strings(t, "day"),
                    "closing_time": _strings(t, "closing_time"),
                    "source_file": p.name,
                    "source_line": t.line,
                }
            )
        )
    tabs = tables
    out = pd.concat(frames, ignore_index=True)
    extra = {
        "formats": {p.name: f for p, f in zip(paths, formats, strict=True)},
        "nte_venues": int(out["is_nte"].sum()),
        "placed_by_postcode": int((out["placed_by"] == "postcode").sum()),
    }
    rec = reconcile("venues", tabs, [len(f) for f in frames], extra=extra)
    return IngestResult(events=events_table(out), quarantine=assemble_quarantine(tabs), reconciliation=rec)


ASSET_COLUMNS = {"id": "camera_id", "name": "location", "lng": "lon", "lat": "lat", "easting": "", "northing": ""}


def read_assets(paths: Iterable[str | Path], *, kind: str, columns: Mapping[str, str] | None = None) -> IngestResult:
    """Read point assets (CCTV cameras, street lights) into a table.

    Parameters
    ----------
    paths : iterable of path
    kind : str
        What the points are (``"cctv"``, ``"street_light"``): the ``kind`` column.
    columns : mapping, optional
        Overrides of ``{"id", "name", "lng", "lat", "easting", "northing"}``
        (default: Trafford's CCTV layout ``camera_id, location, lon, lat``);
        set ``easting``/``northing`` (and blank ``lng``/``lat``) for metres.

    Returns
    -------
    IngestResult
        ``events``: ``asset_id``, ``kind``, ``name``, ``x``, ``y``, ``lng``,
        ``lat``, ``source_file``, ``source_line``.

    Examples
    --------
    >>> res = read_assets(["data/partnership/trafford_cctv_cameras.csv"], kind="cctv")
    >>> len(res.events), res.reconciliation["total"]["balanced"]
    (163, True)
    """
    cols = dict(ASSET_COLUMNS)
    cols.update(columns or {})
    use_bng = bool(cols.get("easting")) and bool(cols.get("northing"))
    xc, yc = ("easting", "northing") if use_bng else ("lng", "lat")
    tables, frames = [], []
    for p in map(Path, paths):
        t = read_table(p, columns=cols, required=["id", xc, yc], header_fix="map the asset file's columns")
        x, y, lng, lat, cp = coordinates(
            t,
            kind="bng" if use_bng else "wgs84",
            x_col=xc,
            y_col=yc,
            no_coords_fix="the asset has no location; add it or remove the row",
            what=f"{cols[xc]}/{cols[yc]}",
        )
        keep = t.reject(cp)
        frames.append(
            pd.DataFrame(
                {
                    "asset_id": _strings(t, "id"),
                    "kind": kind,
                    "name": _strings(t, "name"),
                    "x": x[keep],
                    "y": y[keep],
                    "lng": lng[keep],
                    "lat": lat[keep],
                    "source_file": p.name,
                    "source_line": t.line,
                }
            )
        )
        tables.append(t)
    if not tables:
        raise ParameterError("read_assets needs at least one file")
    out = pd.concat(frames, ignore_index=True)
    rec = reconcile(kind, tables, [len(f) for f in frames])
    return IngestResult(events=events_table(out), quarantine=assemble_quarantine(tables), reconciliation=rec)


INCIDENT_COLUMNS = {
    "id": "incident_number",
    "datetime": "datetime",
    "location": "location",
    "category": "incident_category",
    "type": "type_0",
    "subtype": "type_1",
}


def read_incidents(
    paths: Iterable[str | Path],
    *,
    source: str = "fire",
    columns: Mapping[str, str] | None = None,
    dayfirst: bool = False,
) -> IngestResult:
    """Read a partner's incident log with full date-times (default: Avon Fire & Rescue's open data).

    Date-times written with a UTC offset (``01/05/2010 08:47:06 AM +0000``)
    are converted to UK local time; the location is Socrata's
    ``"(lat, lon)"`` cell. Default ``dayfirst=False``: that export is
    month-first (US style), as its ``05/24/2012`` dates show.

    Returns
    -------
    IngestResult
        ``events``: ``event_id``, ``source``, ``t_from``, ``t_to`` (equal:
        point times), ``time_resolved`` (True), ``month``, ``category``,
        ``type``, ``subtype``, ``x``, ``y``, ``lng``, ``lat``,
        ``source_file``, ``source_line``.

    Examples
    --------
    >>> res = read_incidents(["data/partnership/Avon_Fire_and_Rescue_Incidents_BANES.csv.gz"])
    >>> res.reconciliation["total"]["rows_read"], res.reconciliation["total"]["balanced"]
    (10210, True)
    """
    cols = dict(INCIDENT_COLUMNS)
    cols.update(columns or {})
    tables, frames = [], []
    for p in map(Path, paths):
        t = read_table(
            p, columns=cols, required=["id", "datetime", "location"], header_fix="map the incident file's columns"
        )
        secs, st, off, bad = datetimes(t, "datetime", dayfirst=dayfirst, label=cols["datetime"])
        x, y, lng, lat, cp = _paren_coordinates(
            t, "location", cols["location"], "the incident has no location; it cannot be placed"
        )
        problems = [
            (st == dt.DT_EMPTY, "missing_datetime", "every incident needs its date-time", None),
            bad,
            *cp,
        ]
        keep = t.reject(problems)
        wall = utc_to_local(secs[keep], off[keep])
        f = pd.DataFrame(
            {
                "event_id": _strings(t, "id"),
                "source": source,
                "t_from": wall.astype("datetime64[s]"),
                "t_to": wall.astype("datetime64[s]"),
                "time_resolved": True,
                "category": _strings(t, "category"),
                "type": _strings(t, "type"),
                "subtype": _strings(t, "subtype"),
                "x": x[keep],
                "y": y[keep],
                "lng": lng[keep],
                "lat": lat[keep],
                "source_file": p.name,
                "source_line": t.line,
            }
        )
        f["month"] = pd.PeriodIndex(f["t_from"], freq="M")
        frames.append(f)
        tables.append(t)
    if not tables:
        raise ParameterError("read_incidents needs at least one file")
    out = pd.concat(frames, ignore_index=True)
    secs_all = out["t_from"].to_numpy().astype("datetime64[s]").astype(np.int64)
    rec = reconcile(
        source,
        tables,
        [len(f) for f in frames],
        extra={
            "coverage": coverage(secs_all),
            "dayfirst": dayfirst,
            "synthetic": any(is_synthetic_file(t.path) for t in tables),
        },
    )
    return IngestResult(events=events_table(out), quarantine=assemble_quarantine(tables), reconciliation=rec)
