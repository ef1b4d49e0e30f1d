"""Read NTE venue files: Open Pubs, FSA hygiene ratings, licensing registers, closing times.

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
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots.errors import InputFileError, ParameterError
from hotspots.ingest.common import (
    bng_to_wgs84,
    coordinates,
    events_table,
    flags,
    paren_coordinates,
    reconcile,
    strings_or_blank,
)
from hotspots.ingest.police_uk import IngestResult
from hotspots.ingest.table import TableRead, assemble_quarantine, norm_header, read_header, read_table

__all__ = ["NTE_BUSINESS_TYPES", "VENUE_FORMATS", "normalise_postcode", "postcode_lookup", "read_venues"]

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
    files = [Path(p) for p in paths]
    if not files:
        raise ParameterError("read_venues needs at least one file")
    formats = [format or _detect_format(p) for p in files]
    if any(f not in VENUE_FORMATS for f in formats):
        raise ParameterError(f"format must be one of {', '.join(VENUE_FORMATS)}; got {format!r}")
    tables: list[TableRead] = []
    geo: list[tuple] = []
    for p, fmt in zip(files, formats, strict=True):
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
            x, y, lng, lat, cp = paren_coordinates(t, "location", cols["location"], _FIX_NOCOORD)
        else:  # licensing register: no coordinates at all; placed by postcode below
            x, y, lng, lat = (np.full(n, np.nan) for _ in range(4))
            cp = [(np.ones(n, bool), "no_coordinates", _FIX_NOCOORD, None)]
        tables.append(t)
        geo.append((x, y, lng, lat, cp))
    if postcodes is None:  # premises with coordinates place the others by postcode
        placed = [
            pd.DataFrame({"postcode": strings_or_blank(t, "postcode"), "x": g[0], "y": g[1]})
            for t, g in zip(tables, geo, strict=True)
        ]
        postcodes = postcode_lookup(pd.concat(placed, ignore_index=True))
    frames: list[pd.DataFrame] = []
    for p, fmt, t, (x, y, lng, lat, cp) in zip(files, formats, tables, geo, strict=True):
        cols = VENUE_FORMATS[fmt]
        n = len(t)
        placed_by = np.full(n, "coordinates" if fmt != "licensing" else "none", dtype=object)
        pc = normalise_postcode(strings_or_blank(t, "postcode"))
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
        no_name = strings_or_blank(t, "name") == ""
        problems = [(no_name, "missing_name", "every premises needs its name; fill it", None), *cp]
        alcohol, bad_alc = flags(t, "alcohol", label=cols.get("alcohol", "alcohol"))
        late, bad_late = flags(t, "late_night", label=cols.get("late_night", "late_night"))
        problems += [q for q in (bad_alc, bad_late) if q is not None]
        default_kind = "Pub/bar" if fmt != "licensing" else ""
        kind = strings_or_blank(t, "kind") if t.has("kind") else np.full(n, default_kind, object)
        keep = t.reject(problems)
        kind = kind[keep]
        is_nte = np.isin(kind, NTE_BUSINESS_TYPES) if fmt == "fhrs" else np.ones(len(kind), bool)
        if fmt == "licensing":  # licensed to sell alcohol or late-night refreshment, still approved
            status = strings_or_blank(t, "status")
            is_nte = ((alcohol[keep] == 1) | (late[keep] == 1)) & (np.char.lower(status.astype(str)) == "approved")
        ids = strings_or_blank(t, "id")
        frames.append(
            pd.DataFrame(
                {
                    "venue_id": np.char.add(f"{fmt}:", ids.astype(str)),
                    "name": strings_or_blank(t, "name"),
                    "kind": kind,
                    "is_nte": is_nte,
                    "postcode": strings_or_blank(t, "postcode"),
                    "address": strings_or_blank(t, "address"),
                    "x": x[keep],
                    "y": y[keep],
                    "lng": lng[keep],
                    "lat": lat[keep],
                    "placed_by": placed_by[keep],
                    "format": fmt,
                    "alcohol": alcohol[keep],
                    "late_night": late[keep],
                    "status": strings_or_blank(t, "status"),
                    "day": strings_or_blank(t, "day"),
                    "closing_time": strings_or_blank(t, "closing_time"),
                    "source_file": p.name,
                    "source_line": t.line,
                }
            )
        )
    tabs = tables
    out = pd.concat(frames, ignore_index=True)
    extra = {
        "formats": {p.name: f for p, f in zip(files, formats, strict=True)},
        "nte_venues": int(out["is_nte"].sum()),
        "placed_by_postcode": int((out["placed_by"] == "postcode").sum()),
    }
    rec = reconcile("venues", tabs, [len(f) for f in frames], extra=extra)
    return IngestResult(events=events_table(out), quarantine=assemble_quarantine(tabs), reconciliation=rec)
