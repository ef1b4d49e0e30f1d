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
import pyarrow as pa
import pyarrow.compute as pc

from hotspots.ingest import _csvscan as k
from hotspots.ingest import _datetimes as dt
from hotspots.ingest.common import (
    coordinates,
    coverage,
    datetimes,
    file_list,
    flags,
    is_synthetic_file,
    reconcile,
    resolve_columns,
)
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
    """Victim sex as int8 codes (0 F, 1 M, 2 U) and the number of values not recognised (values never logged)."""
    if not t.has("victim_sex") or len(t) == 0:
        return np.full(len(t), 2, np.int8), 0
    codes, values = t.codes("victim_sex")
    norm = [v.strip().lower() for v in values]
    lut = np.array([{"F": 0, "M": 1}.get(_SEX.get(v, "U"), 2) for v in norm], dtype=np.int8)
    odd = np.array([v not in _SEX and v not in ("", "u", "unknown", "not known", "nk") for v in norm])
    return lut[codes], int(np.count_nonzero(odd[codes]))


def _upper_codes(t: TableRead) -> tuple[np.ndarray, np.ndarray]:
    """Offence codes as (int32 id per row, distinct upper-case values); blank is ``""``."""
    ids, values = t.codes("offence_code")
    upper, remap = np.unique(np.array([v.strip().upper() for v in values] or [""], dtype=object), return_inverse=True)
    return remap.ravel()[ids].astype(np.int32) if len(ids) else np.zeros(0, np.int32), upper


def _read_one(path: Path, cols: Mapping[str, str], *, dayfirst: bool) -> tuple[TableRead, dict, int]:
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
    id_s, id_e = k._strip_spans(t.buf, *t.spans("id"))
    code_id, code_values = _upper_codes(t)
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
        (id_s == id_e, "missing_id", _FIX_ID, None),
        (code_values[code_id] == "" if len(code_id) else np.zeros(0, bool), "missing_offence_code", _FIX_CODE, None),
        (f_st == dt.DT_EMPTY, "missing_datetime", _FIX_FROM, None),
        bad_from,
    ]
    if bad_to is not None:
        problems.append(bad_to)
    problems.append((before, "to_before_from", _FIX_ORDER, None))
    problems += coord_problems
    problems += [p for p in (bad_da, bad_alc, bad_nte) if p is not None]
    keep = t.reject(problems)
    cols_out = {
        "event_id": t.strings("id"),
        "code_id": code_id[keep],
        "code_values": code_values,
        "offence_description": t.dictionary("offence_description"),
        "t_from": start[keep],
        "t_to": end[keep],
        "day_only": f_st[keep] == dt.DT_DATE,
        "x": x[keep],
        "y": y[keep],
        "lng": lng[keep],
        "lat": lat[keep],
        "location_type": t.dictionary("location_type"),
        "domestic_abuse": da[keep],
        "alcohol": alc[keep],
        "nte_flag": nte[keep],
        "victim_sex": sex[keep],
        "victim_age_band": t.dictionary("victim_age_band"),
        "outcome_code": t.dictionary("outcome_code"),
        "source_line": t.line.copy(),
    }
    return t, cols_out, odd_sex


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

    cols = resolve_columns(RMS_COLUMNS, columns, what="RMS")
    paths = file_list(paths, reader="read_rms")
    table = offence_table if offence_table is not None else load_offence_table()
    tables, parts, odd_sex = [], [], 0
    for p in paths:
        t, part, odd = _read_one(p, cols, dayfirst=dayfirst)
        tables.append(t)
        parts.append(part)
        odd_sex += odd
    file_idx = np.concatenate([np.full(len(q["t_from"]), i, np.int32) for i, q in enumerate(parts)])
    ids = pa.chunked_array([q["event_id"] for q in parts], pa.string()).combine_chunks()
    # later rows win: the newest export holds the latest state of a record
    dup = pd.Series(pd.arrays.ArrowExtensionArray(ids)).duplicated(keep="last").to_numpy()
    if dup.any():
        id_list = ids.to_numpy(zero_copy_only=False)
        line_all = np.concatenate([q["source_line"] for q in parts])
        last = pd.Series(np.arange(len(ids)), index=id_list)
        last = last[~pd.Index(id_list).duplicated(keep="last")]
        for i, t in enumerate(tables):
            mine = file_idx == i
            d = dup[mine]
            if d.any():
                pos = last.loc[id_list[mine][d]].to_numpy()
                detail = np.full(len(d), "", dtype=object)
                detail[d] = [f"kept {paths[file_idx[j]].name} line {line_all[j]}" for j in pos]
                t.reject([(d, "duplicate_id", _FIX_DUP, detail)])
    keep = ~dup
    # one code dictionary for all files
    all_codes = np.unique(np.concatenate([q["code_values"] for q in parts]).astype(object))
    code_id = np.concatenate([np.searchsorted(all_codes, q["code_values"])[q["code_id"]] for q in parts]).astype(
        np.int32
    )[keep]
    num = {
        c: np.concatenate([q[c] for q in parts])[keep]
        for c in (
            "t_from",
            "t_to",
            "day_only",
            "x",
            "y",
            "lng",
            "lat",
            "domestic_abuse",
            "alcohol",
            "nte_flag",
            "victim_sex",
            "source_line",
        )
    }
    file_idx = file_idx[keep]
    da = num["domestic_abuse"]
    sex = num["victim_sex"]
    codes_cat = pd.Categorical.from_codes(code_id, categories=pd.Index(all_codes, dtype=object))
    cls = classify_offences(
        codes_cat,
        table=table,
        domestic_abuse=np.where(da == 1, 1.0, np.where(da == 0, 0.0, np.nan)),  # -1: not known
        victim_female=np.where(sex == 0, 1.0, np.where(sex == 1, 0.0, np.nan)),
    )
    t_from = num["t_from"].astype("datetime64[s]")
    t_to = num["t_to"].astype("datetime64[s]")
    window_h = (num["t_to"] - num["t_from"]) / 3600
    synth = any(is_synthetic_file(p) for p in paths) if synthetic is None else bool(synthetic)
    names = [p.name for p in paths]

    def dict_col(name):
        chunks = [q[name] for q in parts]
        arr = pa.chunked_array(chunks).unify_dictionaries().combine_chunks() if len(chunks) > 1 else chunks[0]
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        return arr.filter(pa.array(keep))

    desc = dict_col("offence_description")
    desc_filled = pc.if_else(
        pc.equal(desc.cast(pa.string()), ""),
        pa.array(cls["offence_description"].fillna("").to_numpy(object), pa.string()),
        desc.cast(pa.string()),
    ).dictionary_encode()
    from pandas.core.arrays.arrow.extension_types import ArrowPeriodType

    months = t_from.astype("datetime64[M]").astype(np.int64)
    n = len(t_from)
    vg = cls["vawg_group"]
    out = pa.table(
        {
            "event_id": ids.filter(pa.array(keep)),
            "source": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array(["rms"])),
            "synthetic": pa.array(np.full(n, synth)),
            "offence_code": pa.DictionaryArray.from_arrays(
                pa.array(code_id), pa.array(all_codes.tolist(), pa.string())
            ),
            "offence_description": desc_filled,
            "vawg_group": pa.array(
                vg.astype(object).where(vg.notna(), None).to_numpy(object), pa.string()
            ).dictionary_encode(),
            "code_known": pa.array(cls["code_known"].to_numpy(bool)),
            "t_from": pa.array(t_from),
            "t_to": pa.array(t_to),
            "time_precision": pa.DictionaryArray.from_arrays(
                pa.array(num["day_only"].astype(np.int32)), pa.array(["minute", "day"])
            ),
            "time_window_h": pa.array(window_h.astype(float)),
            "time_resolved": pa.array(np.ones(n, bool)),
            "month": pa.ExtensionArray.from_storage(ArrowPeriodType("M"), pa.array(months, pa.int64())),
            "x": num["x"],
            "y": num["y"],
            "lng": num["lng"],
            "lat": num["lat"],
            "location_type": dict_col("location_type"),
            "domestic_abuse": num["domestic_abuse"],
            "alcohol": num["alcohol"],
            "nte_flag": num["nte_flag"],
            "victim_sex": pa.DictionaryArray.from_arrays(pa.array(sex.astype(np.int32)), pa.array(["F", "M", "U"])),
            "victim_age_band": dict_col("victim_age_band"),
            "outcome_code": dict_col("outcome_code"),
            "source_file": pa.DictionaryArray.from_arrays(pa.array(file_idx), pa.array(names, pa.string())),
            "source_line": num["source_line"],
        }
    )
    accepted = np.bincount(file_idx, minlength=len(paths))
    unknown = ~cls["code_known"].to_numpy(bool)
    extra = {
        "coverage": coverage(num["t_from"]),
        "offence_table_version": table.version,
        "offence_codes_unknown": int(unknown.sum()),
        "offence_codes_unknown_list": sorted(set(all_codes[np.unique(code_id[unknown])].tolist()))[:50],
        "vawg_events": int(vg.notna().sum()),
        "time_windows_over_max": int((window_h > MAX_WINDOW_DAYS * 24).sum()),
        "time_precision_day": int(num["day_only"].sum()),
        "victim_sex_unrecognised": odd_sex,
        "dayfirst": dayfirst,
        "columns": cols,
    }
    rec = reconcile("rms", tables, accepted, extra=extra)
    rec["synthetic"] = synth
    return IngestResult(events=out, quarantine=assemble_quarantine(tables), reconciliation=rec)
