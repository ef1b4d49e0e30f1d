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

Implausible dates: a record committed after the run date (``today``) is
quarantined as ``date_in_future``; a record committed long ago is *kept* and
flagged ``non_recent`` (non-recent sexual offences are often reported years
later): committed more than a year before its reported date when the export
has one (``reported``), otherwise more than a year before the export's window
(the 5th percentile of its committed dates). A reference seen twice keeps the
later row; eastings/northings that look swapped are quarantined
(:func:`hotspots.ingest.common.swapped_bng`). Files are read in 4 MiB blocks
on two threads, so memory grows with the accepted rows only (about 130 bytes
a row), not with the file.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from pandas.core.arrays.arrow.extension_types import ArrowPeriodType

from hotspots.ingest import _csvscan as k
from hotspots.ingest import _datetimes as dt
from hotspots.ingest.common import (
    FIX_FUTURE,
    FIX_SWAPPED,
    coordinates,
    coverage,
    datetimes,
    file_list,
    flags,
    future_limit,
    is_synthetic_file,
    quarantine_repeats,
    reconcile,
    resolve_columns,
    swapped_bng,
)
from hotspots.ingest.police_uk import IngestResult, _release_free_memory
from hotspots.ingest.table import (
    TableFile,
    TableRead,
    Vocabulary,
    assemble_quarantine,
    dictionary_array,
    earlier_copies,
    map_blocks,
    open_tables,
)
from hotspots.offences import classify_offences, load_offence_table

__all__ = ["RMS_COLUMNS", "read_rms"]

RMS_COLUMNS: dict[str, str] = {
    "id": "Occurrence Ref",
    "offence_code": "HO Code",
    "offence_description": "Offence Description",
    "committed_from": "Committed From",
    "committed_to": "Committed To",
    "reported": "Reported Date",
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
export in degrees. ``reported`` (optional) is the date the crime was reported
or recorded, used to flag non-recent offences.
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
NON_RECENT_DAYS = 365  # committed more than a year before it was reported: a non-recent offence
_NUMERIC = (
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
    "reported",
    "source_line",
)
_TEXT = ("offence_description", "location_type", "victim_age_band", "outcome_code")


@dataclass(frozen=True)
class _Setup:
    cols: Mapping[str, str]
    dayfirst: bool
    use_ll: bool
    limit: int  # seconds (UK wall clock) from which a date is in the future
    today: str


def _sex_codes(t: TableRead) -> tuple[np.ndarray, int]:
    """Victim sex as int8 codes (0 F, 1 M, 2 U) and the number of values not recognised (values never logged)."""
    if not t.has("victim_sex") or len(t) == 0:
        return np.full(len(t), 2, np.int8), 0
    codes, values = t.codes("victim_sex")
    norm = [v.strip().lower() for v in values]
    lut = np.array([{"F": 0, "M": 1}.get(_SEX.get(v, "U"), 2) for v in norm], dtype=np.int8)
    odd = np.array([v not in _SEX and v not in ("", "u", "unknown", "not known", "nk") for v in norm])
    return lut[codes], int(np.count_nonzero(odd[codes]))


def _window(t: TableRead, s: _Setup):
    """Committed window ``[start, end)`` in seconds, the from status, and its problems."""
    cols = s.cols
    f_secs, f_st, _, bad_from = datetimes(t, "committed_from", dayfirst=s.dayfirst, label=cols["committed_from"])
    if t.has("committed_to"):
        t_secs, t_st, _, bad_to = datetimes(t, "committed_to", dayfirst=s.dayfirst, label=cols["committed_to"])
    else:
        t_secs, t_st, bad_to = np.zeros(len(t), np.int64), np.zeros(len(t), np.uint8), None
    start = f_secs
    end = np.where(f_st == dt.DT_DATE, f_secs + 86400, f_secs)
    has_to = (t_st == dt.DT_DATE) | (t_st == dt.DT_DATETIME)
    end = np.where(has_to, np.where(t_st == dt.DT_DATE, t_secs + 86400, t_secs), end)
    ok_from = (f_st == dt.DT_DATE) | (f_st == dt.DT_DATETIME)
    future = ok_from & ((start >= s.limit) | (has_to & (end > s.limit)))
    problems = [(f_st == dt.DT_EMPTY, "missing_datetime", _FIX_FROM, None), bad_from]
    if bad_to is not None:
        problems.append(bad_to)
    problems.append((future, "date_in_future", FIX_FUTURE, f"a committed date is after the run date {s.today}"))
    problems.append((ok_from & has_to & (end < start), "to_before_from", _FIX_ORDER, None))
    return start, end, f_st, problems


def _block(t: TableRead, s: _Setup) -> dict:
    """Validate one block of an export; returns its accepted rows as arrays (worker thread)."""
    cols = s.cols
    xc, yc = ("lng", "lat") if s.use_ll else ("easting", "northing")
    id_s, id_e = k._strip_spans(t.buf, *t.spans("id"))
    code_loc, code_vals = t.codes("offence_code")
    upper = [v.strip().upper() for v in code_vals]
    no_code = np.array([u == "" for u in upper] or [True])[code_loc] if len(code_loc) else np.zeros(0, bool)
    start, end, f_st, time_problems = _window(t, s)
    x, y, lng, lat, coord_problems = coordinates(
        t,
        kind="wgs84" if s.use_ll else "bng",
        x_col=xc,
        y_col=yc,
        no_coords_fix=_FIX_NOCOORD,
        what=f"{cols[xc]}/{cols[yc]}",
    )
    da, bad_da = flags(t, "domestic_abuse", label=cols.get("domestic_abuse") or "domestic_abuse")
    alc, bad_alc = flags(t, "alcohol", label=cols.get("alcohol") or "alcohol")
    nte, bad_nte = flags(t, "nte", label=cols.get("nte") or "nte")
    sex, odd_sex = _sex_codes(t)
    rep = np.full(len(t), np.iinfo(np.int64).min, np.int64)
    if t.has("reported"):
        r_secs, r_st, _ = t.datetimes("reported", dayfirst=s.dayfirst)
        ok = (r_st == dt.DT_DATE) | (r_st == dt.DT_DATETIME)
        rep[ok] = r_secs[ok]
    problems = [
        (id_s == id_e, "missing_id", _FIX_ID, None),
        (no_code, "missing_offence_code", _FIX_CODE, None),
        *time_problems,
        *coord_problems,
        *[p for p in (bad_da, bad_alc, bad_nte) if p is not None],
    ]
    keep = t.reject(problems)
    out = {
        "event_id": t.strings("id"),
        "code": code_loc[keep],
        "code_values": upper,
        "t_from": start[keep],
        "t_to": end[keep],
        "day_only": f_st[keep] == dt.DT_DATE,
        "x": x[keep],
        "y": y[keep],
        "lng": lng[keep],
        "lat": lat[keep],
        "domestic_abuse": da[keep],
        "alcohol": alc[keep],
        "nte_flag": nte[keep],
        "victim_sex": sex[keep],
        "reported": rep[keep],
        "source_line": t.line.copy(),
        "odd_sex": odd_sex,
    }
    for c in _TEXT:
        out[c] = t.codes(c)
    return out


class _Parts:
    """Accepted rows of every block of every file, merged in file order (main thread)."""

    def __init__(self) -> None:
        self.num: dict[str, list[np.ndarray]] = {c: [] for c in _NUMERIC}
        self.ids: list[pa.Array] = []
        self.files: list[np.ndarray] = []
        self.code_vocab = Vocabulary()
        self.codes: list[np.ndarray] = []
        self.text = {c: Vocabulary() for c in _TEXT}
        self.text_codes: dict[str, list[np.ndarray]] = {c: [] for c in _TEXT}
        self.odd_sex = 0

    def add(self, b: dict, file_idx: int) -> None:
        self.code_vocab.lut(b["code_values"])  # every code seen, quarantined rows' too
        self.codes.append(self.code_vocab.encode(b["code"], b["code_values"]))
        for c in _NUMERIC:
            self.num[c].append(b[c])
        self.ids.append(b["event_id"])
        self.files.append(np.full(len(b["t_from"]), file_idx, np.int32))
        for c in _TEXT:
            self.text_codes[c].append(self.text[c].encode(*b[c]))
        self.odd_sex += b["odd_sex"]

    def take(self, name: str, keep: np.ndarray | None) -> np.ndarray:
        """One numeric column of all rows (the block parts are released)."""
        chunks = self.num.pop(name)
        col = np.concatenate(chunks) if len(chunks) > 1 else chunks[0] if chunks else np.zeros(0)
        chunks.clear()
        if keep is not None:
            col = col[keep]
        _release_free_memory()  # the blocks' arrays just freed (glibc keeps them otherwise)
        return col


def _late_quarantine(parts: _Parts, ledgers: list[TableFile], names: list[str], use_ll: bool):
    """Repeated references (the later row wins) and swapped easting/northing, judged over all files."""
    ids = pa.chunked_array(parts.ids, pa.string())
    files = np.concatenate(parts.files) if parts.files else np.zeros(0, np.int32)
    parts.files = [files]
    lines = np.concatenate(parts.num["source_line"]) if parts.files else np.zeros(0, np.int64)
    parts.num["source_line"] = [lines]
    dup, last = earlier_copies(ids)
    quarantine_repeats(ledgers, names, files, lines, dup, last, fix=_FIX_DUP)
    del last
    keep = ~dup
    note: dict = {"checked": False, "why": "coordinates given in degrees"}
    if not use_ll:
        swapped, note = swapped_bng(parts.num["x"], parts.num["y"])
        swapped &= keep
        for i, led in enumerate(ledgers):
            led.quarantine_lines(lines[swapped & (files == i)], "coordinates_swapped", FIX_SWAPPED)
        keep &= ~swapped
    return ids, files, keep, note


def _classify(code_id: np.ndarray, all_codes: np.ndarray, da: np.ndarray, sex: np.ndarray, table):
    """VAWG classification of each distinct (code, DA flag, victim sex) combination, mapped to the rows."""
    da_state = np.full(len(da), 2, np.int32)  # 0 yes, 1 no, 2 not known
    da_state[da == 1] = 0
    da_state[da == 0] = 1
    combo = code_id.astype(np.int32) * 9 + da_state * 3 + sex  # sex: 0 F, 1 M, 2 U
    del da_state
    present = np.flatnonzero(np.bincount(combo, minlength=max(len(all_codes), 1) * 9))
    state = np.array([1.0, 0.0, np.nan])
    cls = classify_offences(
        all_codes[present // 9].astype(object),
        table=table,
        domestic_abuse=state[(present // 3) % 3],
        victim_female=state[present % 3],
    )
    lut = np.zeros(max(len(all_codes), 1) * 9, np.int32)
    lut[present] = np.arange(len(present))
    return cls, lut[combo]


def _desc_column(parts: _Parts, keep, cls, row_combo) -> pa.DictionaryArray:
    """Offence description as written, or the offence table's when the cell is blank."""
    voc = parts.text["offence_description"]
    chunks = parts.text_codes.pop("offence_description")
    codes = np.concatenate(chunks) if chunks else np.zeros(0, np.int32)
    chunks.clear()
    if keep is not None:
        codes = codes[keep]
    table_desc = cls["offence_description"].astype(object).where(cls["offence_description"].notna(), "").tolist()
    merged = Vocabulary()
    written = merged.lut(voc.values)
    filled = merged.lut(table_desc)
    blank = np.array([v == "" for v in voc.values] or [True])
    row = written[codes] if len(codes) else np.zeros(0, np.int32)
    if len(codes):
        use_table = blank[codes]
        row = np.where(use_table, filled[row_combo] if len(filled) else 0, row)
    return dictionary_array(row, merged.values)


def _text_column(parts: _Parts, name: str, keep) -> pa.DictionaryArray:
    chunks = parts.text_codes.pop(name)
    codes = np.concatenate(chunks) if chunks else np.zeros(0, np.int32)
    if keep is not None:
        codes = codes[keep]
    values = parts.text[name].values
    if not values:
        return pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(codes), np.int32)), pa.array([""]))
    return dictionary_array(codes, values)


def _non_recent(t_from: np.ndarray, reported: np.ndarray) -> tuple[np.ndarray, str]:
    """Non-recent offences: committed more than a year before being reported (kept, flagged)."""
    year = NON_RECENT_DAYS * 86400
    has_rep = reported != np.iinfo(np.int64).min
    flag = has_rep & (reported - t_from > year)
    basis = "reported date"
    if (~has_rep).any() and len(t_from):
        ref = np.percentile(t_from[:: max(1, len(t_from) // 1_000_000)], 5)
        flag |= ~has_rep & (t_from < ref - year)
        basis = (
            "reported date where given; otherwise committed more than a year before the export's window "
            "(its 5th percentile of committed dates)"
        )
    return flag, basis


def _read_all(paths: list[Path], s: _Setup, workers: int) -> tuple[_Parts, list[TableFile]]:
    xc, yc = ("lng", "lat") if s.use_ll else ("easting", "northing")
    required = ["id", "offence_code", "committed_from", xc, yc]
    hint = "map this export's column names in the force config's [rms.columns] (keys: " + ", ".join(required) + ")"
    # every header is checked before any data is read; columns the reader does not map (names,
    # free text an export may carry) are blanked in the quarantine's raw records
    ledgers = open_tables(paths, columns=s.cols, required=required, header_fix=hint, redact_unmapped=True)
    parts = _Parts()
    for i, led in enumerate(ledgers):
        for b in map_blocks(led, lambda t: _block(t, s), workers=workers):
            parts.add(b, i)
    return parts, ledgers


def read_rms(
    paths: Iterable[str | Path],
    *,
    columns: Mapping[str, str] | None = None,
    dayfirst: bool = True,
    offence_table=None,
    synthetic: bool | None = None,
    today=None,
    workers: int = 2,
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
    today : date or str, optional
        The run date (default: the machine's date). A record committed after it
        is quarantined as ``date_in_future``; records committed long ago are
        kept and flagged ``non_recent``.
    workers : int, default 2
        Threads validating blocks (files are read in 4 MiB blocks, so memory
        does not grow with the file beyond the accepted rows).

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
        ``non_recent`` (committed more than a year before it was reported;
        see :func:`_non_recent`), ``source_file``, ``source_line``.
        Quarantined besides bad cells: ``date_in_future``, ``duplicate_id``
        (the earlier copy) and ``coordinates_swapped`` (see
        :func:`hotspots.ingest.common.swapped_bng`).

    Raises
    ------
    InputFileError
        A file that cannot be used at all (missing, binary, UTF-16, a header
        without the mapped columns or naming a column twice): every file's
        header is checked before any rows are read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rms.csv"
    >>> _ = p.write_text(
    ...     "Occurrence Ref,HO Code,Committed From,Committed To,Easting,Northing,DA Flag\n"
    ...     "A1,19C,01/03/2024 22:00,02/03/2024 02:00,375081,164824,N\n"
    ...     "A2,105A,01/03/2024 23:10,,375100,164800,Y\n"
    ...     "A3,105A,31/02/2024 23:10,,375100,164800,Y\n")
    >>> res = read_rms([p], today="2024-06-30")
    >>> res.reconciliation["total"]["rows_read"], res.reconciliation["total"]["quarantined_by_reason"]
    (3, {'bad_datetime': 1})
    >>> res.events.to_pandas()[["event_id", "vawg_group", "time_window_h"]].values.tolist()
    [['A1', 'rape', 4.0], ['A2', 'da_violence', 0.0]]
    """
    cols = resolve_columns(RMS_COLUMNS, columns, what="RMS")
    paths = file_list(paths, reader="read_rms")
    table = offence_table if offence_table is not None else load_offence_table()
    run_day = _dt.date.fromisoformat(str(today)[:10]) if today is not None else _dt.date.today()
    use_ll = bool(cols.get("lng")) and bool(cols.get("lat"))
    setup = _Setup(cols, dayfirst, use_ll, future_limit(run_day), run_day.isoformat())
    parts, ledgers = _read_all(paths, setup, workers)
    _release_free_memory()  # the blocks' temporaries, freed by the worker threads
    names = [p.name for p in paths]
    ids, file_idx, keep, swap_note = _late_quarantine(parts, ledgers, names, use_ll)
    _release_free_memory()
    if keep.all():
        keep = None
    else:
        ids = ids.filter(pa.array(keep))
        file_idx = file_idx[keep]
    # one code dictionary for all files, sorted
    all_codes = np.array(sorted(parts.code_vocab.values), dtype=object)
    rank = np.empty(len(all_codes), np.int32)
    rank[np.argsort(np.array(parts.code_vocab.values, dtype=object), kind="stable")] = np.arange(len(all_codes))
    code_id = rank[np.concatenate(parts.codes)] if parts.codes else np.zeros(0, np.int32)
    parts.codes = []
    code_id = code_id if keep is None else code_id[keep]
    num = {c: parts.take(c, keep) for c in _NUMERIC}
    _release_free_memory()
    cls, row_combo = _classify(code_id, all_codes, num["domestic_abuse"], num["victim_sex"], table)
    group_voc = Vocabulary()
    groups = cls["vawg_group"]
    group_code = np.where(groups.notna().to_numpy(), group_voc.lut(groups.fillna("").tolist()), -1)
    vg = group_code[row_combo]
    known = cls["code_known"].to_numpy(bool)[row_combo]
    n = len(num["t_from"])
    non_recent, basis = _non_recent(num["t_from"], num["reported"])
    window_h = (num["t_to"] - num["t_from"]) / 3600
    synth = any(is_synthetic_file(p) for p in paths) if synthetic is None else bool(synthetic)
    sex = num["victim_sex"]
    out = pa.table(
        {
            "event_id": ids,
            "source": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array(["rms"])),
            "synthetic": pa.array(np.full(n, synth)),
            "offence_code": pa.DictionaryArray.from_arrays(
                pa.array(code_id, pa.int32()), pa.array(all_codes.tolist(), pa.string())
            ),
            "offence_description": _desc_column(parts, keep, cls, row_combo),
            "vawg_group": dictionary_array(vg, group_voc.values),
            "code_known": pa.array(known),
            "t_from": pa.array(num["t_from"].view("datetime64[s]")),
            "t_to": pa.array(num["t_to"].view("datetime64[s]")),
            "time_precision": pa.DictionaryArray.from_arrays(
                pa.array(num["day_only"].astype(np.int32)), pa.array(["minute", "day"])
            ),
            "time_window_h": pa.array(window_h),
            "time_resolved": pa.array(np.ones(n, bool)),
            "month": pa.ExtensionArray.from_storage(
                ArrowPeriodType("M"),
                pa.array(num["t_from"].view("datetime64[s]").astype("datetime64[M]").view(np.int64)),
            ),
            "x": num["x"],
            "y": num["y"],
            "lng": num["lng"],
            "lat": num["lat"],
            "location_type": _text_column(parts, "location_type", keep),
            "domestic_abuse": num["domestic_abuse"],
            "alcohol": num["alcohol"],
            "nte_flag": num["nte_flag"],
            "victim_sex": pa.DictionaryArray.from_arrays(pa.array(sex.astype(np.int32)), pa.array(["F", "M", "U"])),
            "victim_age_band": _text_column(parts, "victim_age_band", keep),
            "outcome_code": _text_column(parts, "outcome_code", keep),
            "non_recent": pa.array(non_recent),
            "source_file": pa.DictionaryArray.from_arrays(pa.array(file_idx), pa.array(names, pa.string())),
            "source_line": num["source_line"],
        }
    )
    accepted = np.bincount(file_idx, minlength=len(paths))
    unknown_codes = sorted({str(c) for c in all_codes[np.unique(code_id[~known])]})
    extra = {
        "coverage": coverage(num["t_from"][~non_recent]),  # the export's window; non-recent offences apart
        "non_recent_oldest_month": (
            str(num["t_from"][non_recent].min().astype("datetime64[s]").astype("datetime64[M]"))
            if non_recent.any()
            else None
        ),
        "offence_table_version": table.version,
        "offence_codes_unknown": int((~known).sum()),
        "offence_codes_unknown_list": unknown_codes[:50],
        "vawg_events": int((vg >= 0).sum()),
        "time_windows_over_max": int((window_h > MAX_WINDOW_DAYS * 24).sum()),
        "time_precision_day": int(num["day_only"].sum()),
        "victim_sex_unrecognised": parts.odd_sex,
        "non_recent_events": int(non_recent.sum()),
        "non_recent_basis": basis,
        "run_date": setup.today,
        "coordinates_swap_check": swap_note,
        "dayfirst": dayfirst,
        "columns": cols,
    }
    rec = reconcile("rms", ledgers, accepted, extra=extra)
    rec["synthetic"] = synth
    quarantine = assemble_quarantine(ledgers)
    _release_free_memory()
    return IngestResult(events=out, quarantine=quarantine, reconciliation=rec)
