"""Ingest force record-management (RMS) crime exports, losing nothing.

Every force's RMS (Niche, Athena, Connect...) exports different column names;
a per-force mapping (``[rms.columns]`` in the force config) names them. The
reader needs an ID, a Home Office offence code, a committed-from date(-time)
and a location (easting/northing or longitude/latitude); everything else is
optional. Dates are UK day-first unless ``dayfirst=False``.

Times: ``t_from``/``t_to`` are local wall-clock times (no time zone), as the
half-open window ``[t_from, t_to)`` in which the offence was committed. A
record with a from time only is a point (``t_to == t_from``); a from *date*
without a time is the whole day (00:00 to the next midnight), and a to date
without a time runs to the end of that day. Windows are apportioned over
hours later (:mod:`hotspots.timebands`), never dropped.

Offence codes are classified into VAWG groups by the versioned table in
``configs/vawg_offences.toml`` (:mod:`hotspots.offences`); violence codes
count as VAWG only under the table's condition (domestic-abuse flag, female
victim). Codes the table does not know are kept and counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots.errors import ParameterError
from hotspots.ingest import _datetimes as dt
from hotspots.ingest.common import coordinates, coverage, datetimes, events_table, flags, is_synthetic_file, reconcile
from hotspots.ingest.police_uk import IngestResult
from hotspots.ingest.table import TableRead, assemble_quarantine, read_table

__all__ = ["RMS_COLUMNS", "read_rms"]

RMS_COLUMNS: dict[str, str] = {
    "id": "Occurrence Ref",
    "offence_code": "HO Code",
    "offence_description": "Offence Description",
    "committed_from": "Committed From",
    "committed_to": "Committed To",
    "easting": "Easting",
    "northing": "Northing",
    "lng": "",
    "lat": "",
    "location_type": "Location Type",
    "domestic_abuse": "DA Flag",
    "alcohol": "Alcohol Flag",
    "nte": "NTE Flag",
    "victim_sex": "Victim Sex",
    "victim_age_band": "Victim Age Band",
    "outcome_code": "Outcome Code",
}
"""Logical column -> header in the file: the layout of the bundled synthetic export.

Override per force with ``[rms.columns]`` in its config (only the keys that
differ). Leave ``easting``/``northing`` empty and set ``lng``/``lat`` for an
export in degrees.
"""

_FIX_ID = "every record needs its crime/occurrence reference; fill it or remove the row"
_FIX_CODE = "every record needs its Home Office offence code (e.g. 19C); fill it from the RMS or remove the row"
_FIX_FROM = "every record needs a committed-from date (dd/mm/yyyy HH:MM); fill it from the RMS or remove the row"
_FIX_ORDER = "the committed-to time is before the committed-from time; correct or swap them"
_FIX_DUP = "the same reference is in a later row or export, which was kept; nothing to fix"
_FIX_NOCOORD = (
    "the record has no location; geocode it in the RMS (or add easting/northing) and re-export; "
    "counted here so the share without coordinates is reported"
)
_SEX = {"f": "F", "female": "F", "w": "F", "woman": "F", "m": "M", "male": "M", "man": "M"}
MAX_WINDOW_DAYS = 31  # longer windows are kept, spread over the week, and counted as time_uncertain


def _sex_codes(t: TableRead) -> tuple[np.ndarray, int]:
    """Victim sex as 'F', 'M' or 'U' and the number of values not recognised (values never logged)."""
    if not t.has("victim_sex"):
        return np.full(len(t), "U", dtype=object), 0
    codes, values = t.codes("victim_sex")
    lut = np.array([_SEX.get(v.strip().lower(), "U") for v in values] or ["U"], dtype=object)
    unknown_vals = {v.strip().lower() for v in values} - set(_SEX) - {"", "u", "unknown", "not known", "nk"}
    odd = np.isin(np.array(values, dtype=object), [v for v in values if v.strip().lower() in unknown_vals])
    return lut[codes], int(np.count_nonzero(odd[codes])) if len(codes) else 0


def _read_one(path: Path, cols: Mapping[str, str], *, dayfirst: bool) -> tuple[TableRead, pd.DataFrame, int]:
    use_ll = bool(cols.get("lng")) and bool(cols.get("lat"))
    xc, yc = ("lng", "lat") if use_ll else ("easting", "northing")
    required = ["id", "offence_code", "committed_from", xc, yc]
    t = read_table(
        path,
        columns=cols,
        required=required,
        header_fix="map this export's column names in the force config's [rms.columns] "
        "(keys: " + ", ".join(required) + ")",
    )
    ids = t.strings("id").to_numpy(zero_copy_only=False)
    code = np.char.upper(t.strings("offence_code").to_numpy(zero_copy_only=False).astype(str))
    f_secs, f_st, _, bad_from = datetimes(t, "committed_from", dayfirst=dayfirst, label=cols["committed_from"])
    if t.has("committed_to"):
        t_secs, t_st, _, bad_to = datetimes(t, "committed_to", dayfirst=dayfirst, label=cols["committed_to"])
    else:
        t_secs, t_st, bad_to = np.zeros(len(t), np.int64), np.zeros(len(t), np.uint8), None
    start = f_secs
    end = np.where(f_st == dt.DT_DATE, f_secs + 86400, f_secs)
    has_to = (t_st == dt.DT_DATE) | (t_st == dt.DT_DATETIME)
    end = np.where(has_to, np.where(t_st == dt.DT_DATE, t_secs + 86400, t_secs), end)
    ok_from = (f_st == dt.DT_DATE) | (f_st == dt.DT_DATETIME)
    # a to date equal to a from date written without a time is the same day: not "before"
    before = ok_from & has_to & (end < start)
    x, y, lng, lat, coord_problems = coordinates(
        t,
        kind="wgs84" if use_ll else "bng",
        x_col=xc,
        y_col=yc,
        no_coords_fix=_FIX_NOCOORD,
        what=f"{cols[xc]}/{cols[yc]}",
    )
    da, bad_da = flags(t, "domestic_abuse", label=cols.get("domestic_abuse") or "domestic_abuse")
    alc, bad_alc = flags(t, "alcohol", label=cols.get("alcohol") or "alcohol")
    nte, bad_nte = flags(t, "nte", label=cols.get("nte") or "nte")
    sex, odd_sex = _sex_codes(t)
    problems = [
        (ids == "", "missing_id", _FIX_ID, None),
        (code == "", "missing_offence_code", _FIX_CODE, None),
        (f_st == dt.DT_EMPTY, "missing_datetime", _FIX_FROM, None),
        bad_from,
    ]
    if bad_to is not None:
        problems.append(bad_to)
    problems.append((before, "to_before_from", _FIX_ORDER, None))
    problems += coord_problems
    problems += [p for p in (bad_da, bad_alc, bad_nte) if p is not None]
    keep = t.reject(problems)
    frame = pd.DataFrame(
        {
            "event_id": ids[keep],
            "offence_code": code[keep],
            "offence_description": t.strings("offence_description").to_numpy(zero_copy_only=False)
            if t.has("offence_description")
            else np.full(len(t), "", dtype=object),
            "t_from": start[keep].astype("datetime64[s]"),
            "t_to": end[keep].astype("datetime64[s]"),
            "time_precision": np.where(f_st[keep] == dt.DT_DATE, "day", "minute"),
            "x": x[keep],
            "y": y[keep],
            "lng": lng[keep],
            "lat": lat[keep],
            "location_type": t.strings("location_type").to_numpy(zero_copy_only=False)
            if t.has("location_type")
            else np.full(len(t), "", dtype=object),
            "domestic_abuse": da[keep],
            "alcohol": alc[keep],
            "nte_flag": nte[keep],
            "victim_sex": sex[keep],
            "victim_age_band": t.strings("victim_age_band").to_numpy(zero_copy_only=False)
            if t.has("victim_age_band")
            else np.full(len(t), "", dtype=object),
            "outcome_code": t.strings("outcome_code").to_numpy(zero_copy_only=False)
            if t.has("outcome_code")
            else np.full(len(t), "", dtype=object),
            "source_line": t.line,
        }
    )
    return t, frame, odd_sex


def read_rms(
    paths: Iterable[str | Path],
    *,
    columns: Mapping[str, str] | None = None,
    dayfirst: bool = True,
    offence_table=None,
    synthetic: bool | None = None,
) -> IngestResult:
    r"""Read force RMS crime exports into events, quarantine and reconciliation.

    Parameters
    ----------
    paths : iterable of path
        CSV or CSV.gz exports; when the same reference is in two exports (or
        twice in one), the later row is kept and earlier copies quarantined
        as ``duplicate_id``.
    columns : mapping, optional
        Overrides of :data:`RMS_COLUMNS` (logical name -> header).
    dayfirst : bool, default True
        Dates are dd/mm/yyyy (UK). False for mm/dd/yyyy exports.
    offence_table : OffenceTable, optional
        VAWG classification table; default ``configs/vawg_offences.toml``.
    synthetic : bool, optional
        Mark the events synthetic; default: whether any file is marked so
        (a ``SYNTHETIC_`` name or a ``.synthetic.json`` sidecar).

    Returns
    -------
    IngestResult
        ``events`` columns: ``event_id``, ``source`` ("rms"), ``synthetic``,
        ``offence_code``, ``offence_description``, ``vawg_group`` (null when
        not VAWG), ``code_known``, ``t_from``, ``t_to`` (local time, window
        ``[t_from, t_to)``), ``time_precision`` ("minute" or "day"),
        ``time_window_h``, ``time_resolved`` (True), ``month``, ``x``, ``y``
        (EPSG:27700), ``lng``, ``lat``, ``location_type``, ``domestic_abuse``,
        ``alcohol``, ``nte_flag`` (1 yes, 0 no, -1 not known),
        ``victim_sex`` (F/M/U), ``victim_age_band``, ``outcome_code``,
        ``source_file``, ``source_line``.

    Raises
    ------
    InputFileError
        A file that cannot be used at all (missing, binary, UTF-16, a header
        without the mapped columns): nothing is read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rms.csv"
    >>> _ = p.write_text(
    ...     "Occurrence Ref,HO Code,Committed From,Committed To,Easting,Northing,DA Flag\n"
    ...     "A1,19C,01/03/2024 22:00,02/03/2024 02:00,375081,164824,N\n"
    ...     "A2,105A,01/03/2024 23:10,,375100,164800,Y\n"
    ...     "A3,105A,31/02/2024 23:10,,375100,164800,Y\n")
    >>> res = read_rms([p])
    >>> res.reconciliation["total"]["rows_read"], res.reconciliation["total"]["quarantined_by_reason"]
    (3, {'bad_datetime': 1})
    >>> res.events.to_pandas()[["event_id", "vawg_group", "time_window_h"]].values.tolist()
    [['A1', 'rape', 4.0], ['A2', 'da_violence', 0.0]]
    """
    from hotspots.offences import classify_offences, load_offence_table

    cols = dict(RMS_COLUMNS)
    if columns:
        unknown = set(columns) - set(RMS_COLUMNS)
        if unknown:
            raise ParameterError(f"unknown RMS column key(s) {sorted(unknown)}; known keys: {', '.join(RMS_COLUMNS)}")
        cols.update(columns)
    paths = [Path(p) for p in paths]
    if not paths:
        raise ParameterError("read_rms needs at least one file")
    table = offence_table if offence_table is not None else load_offence_table()
    tables, frames, odd_sex = [], [], 0
    for i, p in enumerate(paths):
        t, f, odd = _read_one(p, cols, dayfirst=dayfirst)
        f["_file"] = i
        tables.append(t)
        frames.append(f)
        odd_sex += odd
    ev = pd.concat(frames, ignore_index=True)
    # later rows win: the newest export holds the latest state of a record
    dup = ev.duplicated("event_id", keep="last").to_numpy()
    if dup.any():
        last = ev.drop_duplicates("event_id", keep="last").set_index("event_id")
        for i, t in enumerate(tables):
            mine = (ev["_file"] == i).to_numpy()
            d = dup[mine]
            if d.any():
                kept = last.loc[ev.loc[mine, "event_id"].to_numpy()[d]]
                detail = np.full(len(d), "", dtype=object)
                detail[d] = [
                    f"kept {paths[int(fi)].name} line {int(ln)}"
                    for fi, ln in zip(kept["_file"], kept["source_line"], strict=True)
                ]
                t.reject([(d, "duplicate_id", _FIX_DUP, detail)])
        ev = ev.loc[~dup].reset_index(drop=True)
    cls = classify_offences(
        ev["offence_code"].to_numpy(),
        table=table,
        domestic_abuse=pd.Series(ev["domestic_abuse"].to_numpy()).map({1: True, 0: False}),  # -1: not known
        victim_female=pd.Series(ev["victim_sex"].to_numpy()).map({"F": True, "M": False}),
    )
    secs = ev["t_from"].to_numpy().astype("datetime64[s]").astype(np.int64)
    window_h = (ev["t_to"] - ev["t_from"]).dt.total_seconds().to_numpy() / 3600
    synth = any(is_synthetic_file(p) for p in paths) if synthetic is None else bool(synthetic)
    names = [p.name for p in paths]
    out = pd.DataFrame(
        {
            "event_id": ev["event_id"].astype(str),
            "source": "rms",
            "synthetic": synth,
            "offence_code": ev["offence_code"],
            "offence_description": ev["offence_description"].where(
                ev["offence_description"] != "", cls["offence_description"].fillna("")
            ),
            "vawg_group": cls["vawg_group"].to_numpy(),
            "code_known": cls["code_known"].to_numpy(),
            "t_from": ev["t_from"],
            "t_to": ev["t_to"],
            "time_precision": ev["time_precision"],
            "time_window_h": window_h,
            "time_resolved": True,
            "month": pd.PeriodIndex(ev["t_from"], freq="M"),
        }
    )
    for c in ("x", "y", "lng", "lat", "location_type", "domestic_abuse", "alcohol", "nte_flag"):
        out[c] = ev[c].to_numpy()
    for c in ("victim_sex", "victim_age_band", "outcome_code"):
        out[c] = ev[c].to_numpy()
    out["source_file"] = pd.Categorical.from_codes(ev["_file"].to_numpy(), categories=names)
    out["source_line"] = ev["source_line"].to_numpy()
    accepted = np.bincount(ev["_file"].to_numpy(), minlength=len(paths))
    n_unknown = int((~out["code_known"]).sum())
    extra = {
        "coverage": coverage(secs),
        "offence_table_version": table.version,
        "offence_codes_unknown": n_unknown,
        "offence_codes_unknown_list": sorted(set(out.loc[~out["code_known"], "offence_code"]))[:50],
        "vawg_events": int(out["vawg_group"].notna().sum()),
        "time_windows_over_max": int((window_h > MAX_WINDOW_DAYS * 24).sum()),
        "time_precision_day": int((out["time_precision"] == "day").sum()),
        "victim_sex_unrecognised": odd_sex,
        "dayfirst": dayfirst,
        "columns": cols,
    }
    rec = reconcile("rms", tables, accepted, extra=extra)
    rec["synthetic"] = synth
    return IngestResult(events=events_table(out), quarantine=assemble_quarantine(tables), reconciliation=rec)
