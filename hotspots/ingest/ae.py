"""Ingest A&E assault data (Cardiff Model; ISTV information standard ISB 1594).

Emergency departments record, for patients injured by assault: the date and
time of the incident, the date and time of arrival, the *specific location*
of the incident (free text, geocoded by the CSP analyst) and the primary means
of assault. Most of this violence is not known to the police. No public
extract exists; the bundled file is synthetic and says so.

Times: the incident window is the incident date and time when both are
given (a point); the whole incident day when the time is blank; and, when
the incident date is blank too, the 24 hours before arrival. The
``time_precision`` column says which. Rows without coordinates (the location
text could not be geocoded) are quarantined as ``no_coordinates`` and counted,
never silently dropped; the location text is never put in a detail and is
blanked inside the quarantine's ``raw`` record (as is every column the reader
does not map). Eastings/northings that look swapped are quarantined
(:func:`hotspots.ingest.common.swapped_bng`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots.ingest import _datetimes as dt
from hotspots.ingest.common import (
    FIX_FUTURE,
    FIX_SWAPPED,
    coordinates,
    coverage,
    datetimes,
    drop_repeated_ids,
    events_table,
    file_list,
    future_limit,
    is_synthetic_file,
    reconcile,
    resolve_columns,
    swapped_bng,
)
from hotspots.ingest.police_uk import IngestResult
from hotspots.ingest.table import TableRead, assemble_quarantine, map_blocks, open_tables

__all__ = ["AE_COLUMNS", "read_ae"]

AE_COLUMNS: dict[str, str] = {
    "id": "Attendance ID",
    "arrival_date": "Arrival Date",
    "arrival_time": "Arrival Time",
    "incident_date": "Incident Date",
    "incident_time": "Incident Time",
    "incident_location": "Incident Location",
    "easting": "Incident Easting",
    "northing": "Incident Northing",
    "lng": "",
    "lat": "",
    "means": "Primary Means of Assault",
    "patient_sex": "Patient Sex",
    "patient_age_band": "Patient Age Band",
}

_FIX_NOCOORD = (
    "the incident location could not be geocoded; geocode the 'specific location' text (street, venue) "
    "before sharing, or leave it out: counted here so the share not placed is reported"
)
_FIX_TIME = "give the Incident Time as HH:MM (24-hour) or leave it blank when not known"


def _block(t: TableRead, cols: Mapping[str, str], s: dict) -> pd.DataFrame:
    """Validate one block of an extract (worker thread); its accepted rows as a frame."""
    dayfirst = s["dayfirst"]
    ids = t.strings("id").to_numpy(zero_copy_only=False)
    a_day, a_st, _, bad_a = datetimes(t, "arrival_date", dayfirst=dayfirst, label=cols["arrival_date"])
    a_tod, a_tst = t.times("arrival_time")
    i_day, i_st, _, bad_i = datetimes(t, "incident_date", dayfirst=dayfirst, label=cols["incident_date"])
    i_tod, i_tst = t.times("incident_time")
    arrival = a_day + np.where(a_tst == dt.DT_DATETIME, a_tod, 0)
    has_idate = i_st != dt.DT_EMPTY
    has_itime = i_tst == dt.DT_DATETIME
    t_from = np.where(has_idate, i_day + np.where(has_itime, i_tod, 0), arrival - 86400)
    t_to = np.where(has_idate, np.where(has_itime, t_from, i_day + 86400), arrival)
    precision = np.where(has_idate, np.where(has_itime, "minute", "day"), "arrival")
    after = has_idate & has_itime & (a_tst == dt.DT_DATETIME) & (t_from > arrival)
    a_ok = (a_st == dt.DT_DATE) | (a_st == dt.DT_DATETIME)
    future = a_ok & (arrival >= s["limit"])
    x, y, lng, lat, coord_problems = coordinates(
        t,
        kind="wgs84" if s["use_ll"] else "bng",
        x_col=s["xc"],
        y_col=s["yc"],
        no_coords_fix=_FIX_NOCOORD,
        what=f"{cols[s['xc']]}/{cols[s['yc']]}",
    )
    problems = [
        (ids == "", "missing_id", "every attendance needs its ID; fill it or remove the row", None),
        (a_st == dt.DT_EMPTY, "missing_datetime", "every attendance needs its Arrival Date (dd/mm/yyyy)", None),
        bad_a,
        bad_i,
        (i_tst == dt.DT_INVALID, "bad_time", _FIX_TIME, None),
        (a_tst == dt.DT_INVALID, "bad_time", "give the Arrival Time as HH:MM (24-hour)", None),
        (future, "date_in_future", FIX_FUTURE, f"arrival after the run date {s['today']}"),
        (after, "incident_after_arrival", "the incident date-time is after arrival; correct one of them", None),
        *coord_problems,
    ]
    keep = t.reject(problems)
    f = pd.DataFrame(
        {
            "event_id": ids[keep],
            "t_from": t_from[keep].astype("datetime64[s]"),
            "t_to": t_to[keep].astype("datetime64[s]"),
            "time_precision": precision[keep],
            "arrival": arrival[keep].astype("datetime64[s]"),
            "x": x[keep],
            "y": y[keep],
            "lng": lng[keep],
            "lat": lat[keep],
        }
    )
    for c in ("means", "patient_sex", "patient_age_band"):
        f[c] = t.strings(c).to_numpy(zero_copy_only=False) if t.has(c) else ""
    f["source_line"] = t.line
    return f


def read_ae(
    paths: Iterable[str | Path],
    *,
    columns: Mapping[str, str] | None = None,
    dayfirst: bool = True,
    synthetic: bool | None = None,
    today=None,
    workers: int = 2,
) -> IngestResult:
    r"""Read A&E assault (ISTV) extracts into events, quarantine and reconciliation.

    Parameters
    ----------
    paths : iterable of path
        CSV or CSV.gz extracts (one row per attendance).
    columns : mapping, optional
        Overrides of :data:`AE_COLUMNS`.
    dayfirst : bool, default True
        Dates are dd/mm/yyyy.
    synthetic : bool, optional
        Default: whether a file is marked synthetic.
    today : date or str, optional
        The run date (default: the machine's date); attendances arriving after
        it are quarantined as ``date_in_future``.
    workers : int, default 2
        Threads validating blocks (files are read in blocks of bounded size).

    Returns
    -------
    IngestResult
        ``events`` columns: ``event_id``, ``source`` ("ae"), ``synthetic``,
        ``t_from``, ``t_to`` (local; see the module docstring),
        ``time_precision`` ("minute", "day" or "arrival"), ``time_resolved``
        (True), ``arrival``, ``month``, ``x``, ``y``, ``lng``, ``lat``,
        ``means``, ``patient_sex``, ``patient_age_band``, ``source_file``,
        ``source_line``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ae.csv"
    >>> _ = p.write_text(
    ...     "Attendance ID,Arrival Date,Arrival Time,Incident Date,Incident Time,Incident Easting,Incident Northing\n"
    ...     "1,06/07/2024,01:20,05/07/2024,23:45,375081,164824\n"
    ...     "2,06/07/2024,02:10,,,375081,164824\n"
    ...     "3,06/07/2024,03:00,06/07/2024,02:00,,\n")
    >>> res = read_ae([p])
    >>> res.events.to_pandas()[["event_id", "time_precision"]].values.tolist()
    [['1', 'minute'], ['2', 'arrival']]
    >>> res.reconciliation["total"]["quarantined_by_reason"]
    {'no_coordinates': 1}
    """
    cols = resolve_columns(AE_COLUMNS, columns, what="A&E")
    paths = file_list(paths, reader="read_ae")
    use_ll = bool(cols.get("lng")) and bool(cols.get("lat"))
    xc, yc = ("lng", "lat") if use_ll else ("easting", "northing")
    run_day = _dt.date.fromisoformat(str(today)[:10]) if today is not None else _dt.date.today()
    setup = {
        "dayfirst": dayfirst,
        "use_ll": use_ll,
        "xc": xc,
        "yc": yc,
        "limit": future_limit(run_day),
        "today": run_day.isoformat(),
    }
    tables = open_tables(
        paths,
        columns=cols,
        required=["id", "arrival_date", xc, yc],
        header_fix="map this extract's column names with [ae.columns] in the force config",
        redact=("incident_location",),  # free text (may hold an address): geocoded upstream, never kept
        redact_unmapped=True,
    )
    frames = []
    for i, led in enumerate(tables):
        for f in map_blocks(led, partial(_block, cols=cols, s=setup), workers=workers):
            f["_file"] = i
            frames.append(f)
    ev = pd.concat(frames, ignore_index=True)
    ev = drop_repeated_ids(ev, tables, fix="the same attendance ID is in a later row or file, which was kept")
    swap_note: dict = {"checked": False, "why": "coordinates given in degrees"}
    if not use_ll:
        swapped, swap_note = swapped_bng(ev["x"].to_numpy(float), ev["y"].to_numpy(float))
        if swapped.any():
            for i, led in enumerate(tables):
                mine = swapped & (ev["_file"].to_numpy() == i)
                led.quarantine_lines(ev["source_line"].to_numpy()[mine], "coordinates_swapped", FIX_SWAPPED)
            ev = ev.loc[~swapped].reset_index(drop=True)
    synth = any(is_synthetic_file(p) for p in paths) if synthetic is None else bool(synthetic)
    out = pd.DataFrame(
        {
            "event_id": ev["event_id"].astype(str),
            "source": "ae",
            "synthetic": synth,
            "t_from": ev["t_from"],
            "t_to": ev["t_to"],
            "time_precision": ev["time_precision"],
            "time_resolved": True,
            "arrival": ev["arrival"],
            "month": pd.PeriodIndex(ev["t_from"], freq="M"),
        }
    )
    for c in ("x", "y", "lng", "lat", "means", "patient_sex", "patient_age_band", "source_line"):
        out[c] = ev[c].to_numpy()
    out["source_file"] = pd.Categorical.from_codes(ev["_file"].to_numpy(), categories=pd.Index([p.name for p in paths]))
    accepted = np.bincount(ev["_file"].to_numpy(), minlength=len(paths))
    secs = ev["t_from"].to_numpy().astype("datetime64[s]").astype(np.int64)
    extra = {
        "coverage": coverage(secs),
        "time_precision": {k: int(v) for k, v in out["time_precision"].value_counts().items()},
        "dayfirst": dayfirst,
        "run_date": setup["today"],
        "coordinates_swap_check": swap_note,
    }
    rec = reconcile("ae", tables, accepted, extra=extra)
    rec["synthetic"] = synth
    return IngestResult(events=events_table(out), quarantine=assemble_quarantine(tables), reconciliation=rec)
