"""Ingest police.uk street-level crime CSVs, losing nothing.

Every record read is either accepted (one event) or quarantined with a
reason, so ``rows_read == rows_accepted + rows_quarantined`` for every file and
in total. Blank lines are not rows; they are counted separately. A record is
one line, or several when a quoted field holds line breaks (LF, CR LF and a
lone CR all end lines; see :mod:`hotspots.ingest._csvscan`); line numbers are
the physical line a record starts on.

Files are read in blocks by :mod:`hotspots.ingest.blocks` (gzip, nested gzip
and damaged gzip included) and numba kernels (:mod:`hotspots.ingest._csvscan`),
validated with array operations and projected to British National Grid
(EPSG:27700) once per distinct map point. Nothing in a file's content can make
the reader raise anything but :class:`~hotspots.errors.InputFileError` (file
unusable as a whole, nothing read); damage after the header keeps every row
before it and is reported in the reconciliation.

Plausible months run from 2010-12 (police.uk's first) to the run date's month;
others are quarantined as ``bad_month``. Numeric columns are built in place as
blocks are merged and string columns are kept as block chunks, so peak memory
is about the finished table plus a few blocks (10 million rows: about 2.2 GB).

Vintages: when the same ``Crime ID`` appears in more than one file (two
downloads of the same month), the copy in the *newest vintage* is kept. The
newest vintage is the file given later on the command line, or later in
sorted path order within a folder (police.uk archives named by download month
sort in date order). Older copies are quarantined as ``duplicate_crime_id``
with the file and line that superseded them. Rows without a Crime ID
(anti-social behaviour) are never de-duplicated.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import logging
import os
import re
import sys
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pandas.core.arrays.arrow.extension_types import ArrowPeriodType

from hotspots.errors import InputFileError
from hotspots.grid import snap_key, unique_points
from hotspots.ingest import _csvscan as k
from hotspots.ingest.blocks import FileReadState, RecordBlock, check_text_head, iter_record_blocks, read_head

__all__ = [
    "POLICE_UK_COLUMNS",
    "QUARANTINE_REASONS",
    "IngestResult",
    "discover_police_uk_files",
    "read_police_uk",
]

log = logging.getLogger(__name__)

POLICE_UK_COLUMNS = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)
_OPTIONAL = {"Context"}
_OUT_NAMES = {
    "Crime ID": "crime_id",
    "Month": "month",
    "Reported by": "reported_by",
    "Falls within": "force",
    "Longitude": "lng",
    "Latitude": "lat",
    "Location": "location",
    "LSOA code": "lsoa_code",
    "LSOA name": "lsoa_name",
    "Crime type": "crime_type",
    "Last outcome category": "outcome",
    "Context": "context",
}
# low-cardinality columns are dictionary-encoded as they are read; places stay plain strings
# (tens of thousands of values per block, where a hash table costs more than a copy)
_DICT_COLUMNS = ("reported_by", "force", "crime_type", "outcome", "context")

#: Reason code -> (name, fix shown to the user). Order is the order of checks.
QUARANTINE_REASONS: dict[str, str] = {
    "malformed_quotes": (
        "a quoted field is not closed (within 100 lines, followed by a comma or line end); fix the quotes in the "
        "file or re-download it"
    ),
    "nul_bytes": (
        "the row holds NUL bytes (shown as U+FFFD in raw): the file is damaged or not text; re-download the file"
    ),
    "wrong_field_count": (
        "the row does not have the header's number of fields (a stray comma?); fix the row or re-download the file"
    ),
    "truncated_file": "the file ends part-way through this row; re-download the file",
    "no_coordinates": (
        "police.uk gives no location for this crime (more than 20 km from any map point); it cannot be mapped, "
        "and is counted here so totals still reconcile"
    ),
    "bad_coordinates": "Longitude or Latitude is not a number; correct the cell or remove the row",
    "coordinates_out_of_range": (
        "Longitude/Latitude are outside Great Britain (swapped columns, or 0,0?); correct the cells or remove the row"
    ),
    "bad_month": (
        "Month is not YYYY-MM, or is before 2010-12 (police.uk's first month) or after the run date (see detail); "
        "correct the cell (spreadsheets often rewrite it as a date)"
    ),
    "missing_crime_type": "Crime type is blank; correct the cell or remove the row",
    "duplicate_crime_id": (
        "the same Crime ID is in a newer download (see detail); nothing to fix, the newer copy was kept"
    ),
}
_REASON_NAMES = list(QUARANTINE_REASONS)
_R = {name: i + 1 for i, name in enumerate(_REASON_NAMES)}  # 0 = accepted

#: police.uk's first published month (December 2010), as months since 1970-01.
FIRST_MONTH = (2010 - 1970) * 12 + 11
_MONTH_DETAIL = ["", "not YYYY-MM", "before 2010-12, police.uk's first month", "after the run date's month"]

# Generous envelope of Great Britain, Northern Ireland and the islands (WGS84).
_LNG_RANGE = (-11.0, 2.5)
_LAT_RANGE = (49.0, 61.5)

_STREET_FILE = re.compile(r".*-street\.csv(\.gz)?$", re.IGNORECASE)
_CSV_FILE = re.compile(r".*\.csv(\.gz)?$", re.IGNORECASE)


def _norm_header(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).lower()


_CANON = {_norm_header(c): c for c in POLICE_UK_COLUMNS}


@dataclass(frozen=True)
class IngestResult:
    """What :func:`read_police_uk` read.

    Attributes
    ----------
    events : pyarrow.Table
        One row per accepted crime. Columns: ``event_id`` (police.uk's Crime ID;
        ``<file name>#<line>`` for rows without one, such as anti-social
        behaviour; ``<Crime ID>@<file name>#<line>`` for the rare Crime IDs that
        police.uk repeats within one file), ``has_crime_id``, ``source``,
        ``month`` (pandas ``period[M]``), ``reported_by``,
        ``force``, ``lng``, ``lat`` (WGS84 degrees), ``x``, ``y`` (EPSG:27700
        metres), ``location``, ``lsoa_code``, ``lsoa_name``, ``crime_type``,
        ``outcome``, ``context``, ``snap_point_id`` (int64 key of the
        anonymised police.uk map point: lat/lng to 1e-6 degrees), ``n_at_location``
        (accepted rows at that map point, all months), ``crime_id_shared``
        (another row of the same file has this Crime ID and Month; police.uk
        does publish such pairs and both are kept), ``in_force_area``
        (null when no boundary was given), ``source_file``, ``source_line``.
    quarantine : pyarrow.Table
        One row per rejected line: ``file``, ``line``, ``reason``, ``detail``,
        ``fix``, ``raw`` (the line as read).
    reconciliation : dict
        Counts per file and in total, coverage of months, input hashes.
    """

    events: pa.Table
    quarantine: pa.Table
    reconciliation: dict


def discover_police_uk_files(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[Path]]:
    """Expand files and folders into police.uk street files, in vintage order.

    Folders are searched recursively for ``*-street.csv`` / ``*-street.csv.gz``
    (police.uk's own names); when a folder has none, every ``*.csv`` /
    ``*.csv.gz`` in it is taken. Other police.uk files in the folder
    (outcomes, stop and search) are returned as skipped.

    Returns
    -------
    files : list of Path
        Files to read, oldest vintage first.
    skipped : list of Path
        CSV files in the folders that are not street-level files.

    Raises
    ------
    InputFileError
        If a path does not exist or no CSV file is found.

    Examples
    --------
    >>> files, skipped = discover_police_uk_files(["data/policeuk/avon-and-somerset"])
    >>> len(files), files[0].name, skipped
    (22, '2023-01-avon-and-somerset-street.csv.gz', [])
    """
    files: list[Path] = []
    skipped: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            csvs = sorted(q for q in p.rglob("*") if q.is_file() and _CSV_FILE.match(q.name))
            street = [q for q in csvs if _STREET_FILE.match(q.name)]
            if street:
                files.extend(street)
                skipped.extend(q for q in csvs if q not in set(street))
            else:
                files.extend(csvs)
        elif p.is_file():
            files.append(p)
        else:
            raise InputFileError(str(p), "no such file or folder", "check the path (and that the folder was unzipped)")
    if not files:
        raise InputFileError(
            ", ".join(map(str, paths)) or "(no paths)",
            "no CSV files found",
            "give police.uk street-level .csv or .csv.gz files, or folders containing them",
        )
    # de-duplicate paths given twice, keeping the later (newer) position
    seen: dict[Path, int] = {}
    for i, f in enumerate(files):
        seen[f.resolve()] = i
    files = [files[i] for i in sorted(seen.values())]
    return files, skipped


def _header_layout(path: Path, header: list[str]) -> dict[str, int | None]:
    norm = [_norm_header(h) for h in header]
    seen: dict[str, int] = {}
    for i, h in enumerate(norm):
        if h and h in seen:
            raise InputFileError(
                str(path),
                f"header names column '{_CANON.get(h, header[i].strip())}' twice (columns {seen[h] + 1} and {i + 1})",
                "delete or rename the extra column (a spreadsheet copy-paste?), or re-download the file",
                line=1,
            )
        seen[h] = i
    layout: dict[str, int | None] = {canon: seen.get(key) for key, canon in _CANON.items()}
    missing = [c for c in POLICE_UK_COLUMNS if layout[c] is None and c not in _OPTIONAL]
    if missing:
        if any("\x00" in h for h in header):
            problem = "file is binary, not CSV text (an Excel .xlsx?)"
            fix = "export the sheet as 'CSV UTF-8' and ingest that"
        else:
            problem = f"header is not police.uk street-level: missing column(s) {', '.join(missing)}"
            fix = (
                "give the street-level file exactly as downloaded from data.police.uk (first line "
                f"'{','.join(POLICE_UK_COLUMNS)}'); outcomes and stop-and-search files are different products"
            )
        raise InputFileError(str(path), problem, fix, line=1)
    return layout


def _header_fields(path: Path, buf: np.ndarray, start: int, end: int) -> list[str]:
    """Field names of the header record ``buf[start:end]`` (the CSV kernel, never Python's csv module)."""
    s = np.array([start], dtype=np.int64)
    e = np.array([end], dtype=np.int64)
    _, _, _, nf, st = k._split_fields(buf, s, e, 1)
    if st[0] == k.LINE_BAD_QUOTE:
        raise InputFileError(
            str(path), "the header line has a quote that is not closed", "re-download the file", line=1
        )
    n = max(int(nf[0]), 1)
    fs, fe, esc, _, _ = k._split_fields(buf, s, e, n)
    offsets, data = k._gather(buf, fs[0], fe[0], esc[0], False)
    raw = data.tobytes()
    return [raw[offsets[i] : offsets[i + 1]].decode("utf-8", errors="replace") for i in range(n)]


def _check_header(path: Path) -> None:
    """Refuse an empty, UTF-16 or non-police.uk file from its first line, before any data is read."""
    head, st = read_head(path)
    if check_text_head(path, head):
        head = head[3:]
    if st.truncated is not None and not any(b in head for b in (b"\n", b"\r")):
        raise InputFileError(
            str(path), f"{st.truncated} within the first line, so no row can be read", "re-download the file"
        )
    if not head.strip(b"\r\n\t "):
        raise InputFileError(str(path), "file is empty", "re-download the file")
    if not head.strip(b"\r\n\t \x00"):
        raise InputFileError(
            str(path), "file starts with nothing but NUL bytes (a failed copy or a disk error)", "re-download the file"
        )
    buf = np.frombuffer(bytearray(head), dtype=np.uint8)  # writable, like the read blocks: one kernel signature
    starts, ends, *_ = k._record_spans(buf, True, k.MAX_RECORD_LINES)
    _header_layout(path, _header_fields(path, buf, int(starts[0]), int(ends[0])))


class _SeenIds:
    """(Crime ID, Month) keys of newer files, with where they were accepted, one sorted part per month.

    A key mixes its month in, so a row can only match keys of its own month:
    with a part per month, adding a monthly file and looking up its rows cost
    about that file's size, not everything read so far (years of monthly
    downloads stay linear). The oldest file is never added (nothing follows
    it), so a single-file ingest never pays for any of this.
    """

    def __init__(self) -> None:
        self.raw: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self.parts: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def add(self, h: np.ndarray, f: np.ndarray, line: np.ndarray, month: np.ndarray) -> None:
        """Add one file's keys (unsorted until :meth:`index`)."""
        order = np.argsort(month, kind="stable")
        months, first = np.unique(month[order], return_index=True)
        bounds = [*first.tolist(), len(order)]
        for i, m in enumerate(months.tolist()):  # one pass per distinct month (usually one a file)
            sel = order[bounds[i] : bounds[i + 1]]
            self.raw.setdefault(m, []).append((h[sel], f[sel], line[sel]))

    def index(self) -> None:
        """Sort the months added since the last call for lookups (main thread, between files)."""
        for m, new in self.raw.items():
            parts = ([self.parts[m]] if m in self.parts else []) + new
            hs = np.concatenate([p[0] for p in parts])
            fs = np.concatenate([p[1] for p in parts])
            ls = np.concatenate([p[2] for p in parts])
            o = np.argsort(hs, kind="stable")
            self.parts[m] = (hs[o], fs[o], ls[o])
        self.raw = {}

    def lookup(self, h: np.ndarray, month: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each key: found?, and the file index and line that hold it (call ``index()`` first)."""
        found = np.zeros(len(h), dtype=bool)
        kf = np.full(len(h), -1, dtype=np.int32)
        kl = np.zeros(len(h), dtype=np.int64)
        for m in np.unique(month).tolist():  # the block's few distinct months
            if m not in self.parts or not len(self.parts[m][0]):
                continue
            hs, fs, ls = self.parts[m]
            rows = np.flatnonzero(month == m)
            pos = np.searchsorted(hs, h[rows])
            pos[pos == len(hs)] = 0
            hit = hs[pos] == h[rows]
            found[rows] = hit
            kf[rows[hit]] = fs[pos[hit]]
            kl[rows[hit]] = ls[pos[hit]]
        return found, kf, kl


def _repeated(keys: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """Keys that occur more than once (sorted; ``keys`` is sorted in place when asked)."""
    hs = keys if in_place else np.sort(keys)
    if in_place:
        hs.sort()
    return np.unique(hs[1:][hs[1:] == hs[:-1]])


class _GlobalDict:
    """One dictionary for a column across all blocks and files, with the narrowest codes (main thread only)."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self.index: dict[str, int] = {}

    def encode(self, arr: pa.DictionaryArray) -> np.ndarray:
        """Codes of ``arr`` in this dictionary (-1 for null), as int8/int16/int32 for its size so far."""
        dtype = _code_dtype(len(self.index) + len(arr.dictionary))
        idx = arr.indices
        if idx.null_count == len(idx):  # a missing optional column (Context)
            return np.full(len(idx), -1, dtype=dtype)
        remap = np.array(
            [self.index.setdefault(v, len(self.index)) for v in arr.dictionary.to_pylist()] or [0], dtype=dtype
        )
        self.values = list(self.index)
        if idx.null_count:
            codes = remap[idx.fill_null(0).to_numpy(zero_copy_only=False)]
            codes[idx.is_null().to_numpy(zero_copy_only=False)] = -1
            return codes
        return remap[idx.to_numpy()]

    def array(self, codes: np.ndarray) -> pa.DictionaryArray:
        """A dictionary array of ``codes`` (int8 or int16 indices when the dictionary is small)."""
        codes = codes.astype(_code_dtype(len(self.values)), copy=False)
        mask = codes < 0
        indices = pa.array(codes, mask=mask if mask.any() else None)
        return pa.DictionaryArray.from_arrays(indices, pa.array(self.values, pa.string()))


def _code_dtype(n: int) -> type[np.signedinteger]:
    return np.int8 if n < 127 else np.int16 if n < 32_767 else np.int32


class _Column:
    """A numpy column that grows by 1.5x, one column copied at a time.

    Blocks' small arrays are copied in as they are merged and freed at once,
    so their memory is reused by the next blocks instead of being held until
    a final concatenation that would hold every column twice. Spare capacity
    is never written, so it costs address space, not memory (unlike
    ``ndarray.resize``, which zero-fills it).
    """

    def __init__(self, dtype) -> None:
        self.a = np.empty(0, dtype=dtype)
        self.n = 0

    def append(self, v: np.ndarray) -> None:
        need = self.n + len(v)
        dtype = np.result_type(self.a.dtype, v.dtype)  # dictionary codes may outgrow int8/int16
        if need > len(self.a) or dtype != self.a.dtype:
            grown = np.empty(max(need, len(self.a) + len(self.a) // 2, 1 << 16), dtype=dtype)
            grown[: self.n] = self.a[: self.n]
            self.a = grown
        self.a[self.n : need] = v
        self.n = need

    def take(self) -> np.ndarray:
        """The column (a view of the first ``n`` values); the builder is emptied."""
        a, self.a = self.a[: self.n], np.empty(0, dtype=self.a.dtype)
        self.n = 0
        return a


# per-row numeric columns of accepted rows, built in place; string columns stay as block chunks
_NUMERIC = {
    "lng": np.float64,
    "lat": np.float64,
    "snap": np.int64,
    "month": np.int64,
    "line": np.int32,
    "key": np.uint64,
    **{c: np.int8 for c in _DICT_COLUMNS},
}


def _string_array(buf, s, e, esc, *, strip=True) -> pa.Array:
    offsets, data = k._gather(buf, s, e, esc, strip)
    return pa.StringArray.from_buffers(len(s), pa.py_buffer(offsets), pa.py_buffer(data))


def _dictionary_array(buf, s, e, esc) -> pa.DictionaryArray:
    """Dictionary-encode spans without materialising a string per row."""
    s, e = k._strip_spans(buf, s, e)
    codes, first = k._dict_encode(buf, s, e)
    values = _string_array(buf, s[first], e[first], esc[first], strip=False)
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), values)


def _recode_cp1252(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Re-encode lines that are not UTF-8 from Windows-1252 (Excel's default) to UTF-8."""
    raw = buf.tobytes()
    pieces = []
    prev = 0
    for i in bad:  # only the (few) undecodable lines
        s, e = int(starts[i]), int(ends[i])
        pieces.append(raw[prev:s])
        pieces.append(raw[s:e].decode("cp1252", errors="replace").encode("utf-8"))
        prev = e
    pieces.append(raw[prev:])
    return np.frombuffer(bytearray(b"".join(pieces)), dtype=np.uint8)  # writable, like the read blocks


def _recode_cp1252_spans(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, bad: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_recode_cp1252`, also moving the record spans (re-encoding never adds quotes or line breaks)."""
    raw = buf.tobytes()
    pieces = []
    grow = np.zeros(len(starts), dtype=np.int64)
    prev = 0
    for i in bad:  # only the (few) undecodable records
        s, e = int(starts[i]), int(ends[i])
        text = raw[s:e].decode("cp1252", errors="replace").encode("utf-8")
        pieces.append(raw[prev:s])
        pieces.append(text)
        grow[i] = len(text) - (e - s)
        prev = e
    pieces.append(raw[prev:])
    before = np.cumsum(grow) - grow
    recoded = np.frombuffer(bytearray(b"".join(pieces)), dtype=np.uint8)  # writable, like the read blocks
    return recoded, starts + before, ends + before + grow


@dataclass
class _Block:
    """What one block of lines produced (built in a worker thread)."""

    counts: np.ndarray
    blank_lines: int
    recoded: int
    accepted: dict | None
    quarantined: dict | None
    buf: np.ndarray | None = None  # kept until merged, for the rare vintage duplicate


class _FileReader:
    """Reads one file into accepted column chunks and quarantine chunks."""

    def __init__(
        self,
        path: Path,
        file_idx: int,
        seen: _SeenIds,
        names: list[str],
        month_range: tuple[int, int],
        dicts: dict[str, _GlobalDict],
    ):
        self.path = path
        self.dicts = dicts  # run-wide dictionaries of the low-cardinality columns
        self.month_range = month_range  # plausible months (since 1970-01), inclusive
        self.file_idx = file_idx
        self.seen = seen
        self.names = names  # display names of all files, by index
        self.state = FileReadState(path)
        self.accepted: list[dict] = []  # string columns, one dict per block
        self.columns = {name: _Column(dtype) for name, dtype in _NUMERIC.items()}
        self.finished: dict[str, np.ndarray] = {}  # columns made whole by finish()
        self.n_accepted = 0
        self.quarantined: list[dict] = []
        self.counts = np.zeros(len(_REASON_NAMES) + 1, dtype=np.int64)
        self.blank_lines = 0
        self.recoded = 0
        self.layout: dict[str, int | None] = {}
        self.ncols = 0
        self.force_months: dict[tuple[str, int], int] = {}

    @property
    def months(self) -> list[int]:
        """Months (since 1970-01) of the accepted rows, sorted."""
        return sorted({m for _, m in self.force_months})

    def read(self, block_bytes: int, pool):
        """Read the file, submitting blocks to ``pool``; yields their futures in order."""
        header_done = False
        for rb in iter_record_blocks(self.path, self.state, block_bytes=block_bytes):
            starts, ends, line = rb.starts, rb.ends, rb.line
            if not header_done:
                if not len(starts):
                    continue
                header = _header_fields(self.path, rb.buf, int(starts[0]), int(ends[0]))
                self.layout = _header_layout(self.path, header)
                self.ncols = len(header)
                starts, ends, line = starts[1:], ends[1:], line[1:]
                header_done = True
            if len(starts):
                yield pool.submit(self._block, rb, starts, ends, line)
        if not header_done:  # emptied since it was checked
            raise InputFileError(str(self.path), "file is empty", "re-download the file")

    def merge(self, b: _Block) -> None:
        """Fold one processed block in (main thread, in file order)."""
        self.counts += b.counts
        self.blank_lines += b.blank_lines
        self.recoded += b.recoded
        if b.quarantined is not None:
            self.quarantined.append(b.quarantined)
        acc = b.accepted
        if acc is None:
            return
        if self.seen.parts:
            self._drop_older_vintages(b, acc)
        acc.pop("_s")  # line spans were only needed for the vintage check
        acc.pop("_e")
        fm = acc.pop("force_months")
        if len(acc["line"]):
            for dict_col in _DICT_COLUMNS:  # per-block dictionaries -> one per column, narrow codes (bounds memory)
                acc[dict_col] = self.dicts[dict_col].encode(acc[dict_col])
            for name, col in self.columns.items():
                col.append(acc.pop(name))
            self.n_accepted += len(acc["event_id"])
            self.accepted.append(acc)
            for k_, n in fm.items():
                self.force_months[k_] = self.force_months.get(k_, 0) + n

    def finish(self) -> None:
        """After the last block: register this file's keys for older vintages, flag repeated Crime IDs."""
        if self.n_accepted >= 1_000_000:  # a big file: its blocks' freed temporaries, before the sort below
            _release_free_memory()  # (not per small file: fresh pages cost more than the trim saves)
        key = self.columns.pop("key").take()
        has = key != 0
        self.finished["has_id"] = has
        keys = key[has]
        if self.file_idx > 0:  # an older file follows and will look these keys up
            n = self.columns["line"].n
            lines = self.columns["line"].a[:n][has]
            months = self.columns["month"].a[:n][has]
            self.seen.add(keys, np.full(len(keys), self.file_idx, np.int32), lines, months)
            self.seen.index()
        # the oldest file is read last and never added: its keys can be sorted in place
        shared = _repeated(keys, in_place=self.file_idx == 0)
        del keys
        self.finished["shared"] = np.isin(key, shared) if len(shared) else np.zeros(len(key), dtype=bool)

    def _drop_older_vintages(self, b: _Block, acc: dict) -> None:
        """Quarantine accepted rows of ``acc`` (``b.accepted``) whose (Crime ID, Month) a newer file already holds."""
        key = acc["key"]
        cand = np.flatnonzero(key != 0)
        found, kf, kl = self.seen.lookup(key[cand], acc["month"][cand])
        if not found.any():
            return
        dup = np.zeros(len(key), dtype=bool)
        dup[cand[found]] = True
        raw = _string_array(b.buf, acc["_s"][dup], acc["_e"][dup], np.zeros(int(dup.sum()), np.uint8), strip=False)
        detail = pc.binary_join_element_wise(
            "kept ",
            pc.take(pa.array(self.names, pa.string()), pa.array(kf[found])),
            " line ",
            pa.array(kl[found]).cast(pa.string()),
            "",
        )
        code = _R["duplicate_crime_id"]
        self.quarantined.append(
            {
                "line": acc["line"][dup],
                "code": np.full(int(dup.sum()), code, dtype=np.int8),
                "raw": raw,
                "detail": detail,
            }
        )
        self.counts[0] -= int(dup.sum())
        self.counts[code] += int(dup.sum())
        keep = ~dup
        keep_pa = pa.array(keep)
        for name, col in list(acc.items()):
            if name == "force_months":
                continue
            acc[name] = col[keep] if isinstance(col, np.ndarray) else col.filter(keep_pa)
        acc["force_months"] = _force_months(acc["force"], acc["month"])

    def _block(self, rb: RecordBlock, starts: np.ndarray, ends: np.ndarray, line_no: np.ndarray) -> _Block:
        buf = rb.buf
        truncated_tail = rb.partial_tail
        n_lines = len(starts)
        counts = np.zeros(len(_REASON_NAMES) + 1, dtype=np.int64)
        recoded = 0
        if k._max_byte(buf) >= 0x80:
            bad_utf8 = k._utf8_invalid_lines(buf, starts, ends)
            if len(bad_utf8):
                buf, starts, ends = _recode_cp1252_spans(buf, starts, ends, bad_utf8)
                recoded = len(bad_utf8)
        fs, fe, fesc, nf, status = k._split_fields(buf, starts, ends, self.ncols)

        is_row = status != k.LINE_BLANK
        if truncated_tail:
            is_row[-1] = True  # a partial line is a (damaged) row even if it is blank so far
        blank = int(n_lines - np.count_nonzero(is_row))
        rows = np.flatnonzero(is_row)
        reason = np.zeros(len(rows), dtype=np.int8)

        def flag(mask: np.ndarray, name: str) -> None:
            reason[(reason == 0) & mask] = _R[name]

        if rb.has_nul:
            flag(k._records_with_byte(buf, starts[rows], ends[rows], k.NUL), "nul_bytes")
        flag(status[rows] == k.LINE_BAD_QUOTE, "malformed_quotes")
        if truncated_tail:
            tail = np.zeros(len(rows), dtype=bool)
            tail[-1] = True
            flag(tail, "truncated_file")
        flag(nf[rows] != self.ncols, "wrong_field_count")
        lay = self.layout

        def span(name: str, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            j = lay[name]
            return fs[r, j], fe[r, j]

        lng_s, lng_e = span("Longitude", rows)
        lat_s, lat_e = span("Latitude", rows)
        lng, lng_st = k._parse_floats(buf, lng_s, lng_e, k._POW10)
        lat, lat_st = k._parse_floats(buf, lat_s, lat_e, k._POW10)
        for arr, st, name in ((lng, lng_st, "Longitude"), (lat, lat_st, "Latitude")):
            slow = np.flatnonzero((st == k.NUM_SLOW) & (reason == 0))
            if len(slow):  # rare: long or exponent-heavy numbers, parsed exactly by Python
                s_, e_ = span(name, rows[slow])
                for t, (a, b) in enumerate(zip(s_, e_, strict=True)):
                    try:
                        arr[slow[t]] = float(buf[a:b].tobytes())
                        st[slow[t]] = k.NUM_OK
                    except ValueError:
                        st[slow[t]] = k.NUM_INVALID
        flag((lng_st == k.NUM_EMPTY) | (lat_st == k.NUM_EMPTY), "no_coordinates")
        flag((lng_st != k.NUM_OK) | (lat_st != k.NUM_OK), "bad_coordinates")
        in_gb = (lng >= _LNG_RANGE[0]) & (lng <= _LNG_RANGE[1]) & (lat >= _LAT_RANGE[0]) & (lat <= _LAT_RANGE[1])
        flag(~in_gb, "coordinates_out_of_range")
        month = k._parse_months(buf, *span("Month", rows))
        lo, hi = self.month_range
        month_kind = np.where(month < 0, 1, np.where(month < lo, 2, np.where(month > hi, 3, 0))).astype(np.int8)
        flag(month_kind > 0, "bad_month")
        ct_s, ct_e = k._strip_spans(buf, *span("Crime type", rows))
        flag(ct_e <= ct_s, "missing_crime_type")

        # the same (Crime ID, Month) in a newer download is found when the block is merged
        key = k._mix_keys(k._hash_fields(buf, *span("Crime ID", rows)), month)

        counts += np.bincount(reason, minlength=len(counts))
        quarantined = self._quarantine_chunk(buf, starts, ends, rows, reason, line_no, nf, month_kind, rb.has_nul)
        ok = reason == 0
        accepted = self._accepted_chunk(buf, fs, fe, fesc, rows[ok], line_no, lng[ok], lat[ok], month[ok], key[ok])
        if accepted is not None:
            accepted["_s"] = starts[rows[ok]]
            accepted["_e"] = ends[rows[ok]]
        return _Block(counts, blank, recoded, accepted, quarantined, buf)

    def _quarantine_chunk(self, buf, starts, ends, rows, reason, line_no, nf, month_kind, has_nul) -> dict | None:
        q = np.flatnonzero(reason != 0)
        if not len(q):
            return None
        r = rows[q]
        raw = _string_array(buf, starts[r], ends[r], np.zeros(len(r), np.uint8), strip=False)
        if has_nul:  # NUL bytes break most CSV readers downstream: shown as U+FFFD
            raw = pc.replace_substring(raw, "\x00", "\ufffd")
        codes = reason[q]
        detail = np.full(len(q), "", dtype=object)
        wf = codes == _R["wrong_field_count"]
        if wf.any():
            detail[wf] = [f"{n} fields, header has {self.ncols}" for n in nf[r[wf]]]
        bm = codes == _R["bad_month"]
        if bm.any():
            detail[bm] = np.array(_MONTH_DETAIL, dtype=object)[month_kind[q[bm]]]
        return {"line": line_no[r], "code": codes, "raw": raw, "detail": pa.array(detail, pa.string())}

    def _accepted_chunk(self, buf, fs, fe, fesc, r, line_no, lng, lat, month, key) -> dict | None:
        if not len(r):
            return None
        chunk: dict[str, object] = {}
        for name in POLICE_UK_COLUMNS:
            out = _OUT_NAMES[name]
            if name in ("Longitude", "Latitude", "Month", "Crime ID"):
                continue  # the Crime ID goes into event_id below
            j = self.layout[name]
            if j is None:
                chunk[out] = pa.DictionaryArray.from_arrays(pa.nulls(len(r), pa.int32()), pa.array([], pa.string()))
            elif out in _DICT_COLUMNS:
                chunk[out] = _dictionary_array(buf, fs[r, j], fe[r, j], fesc[r, j])
            else:
                chunk[out] = _string_array(buf, fs[r, j], fe[r, j], fesc[r, j])
        j = self.layout["Crime ID"]
        prefix = np.frombuffer(self.names[self.file_idx].encode("utf-8"), dtype=np.uint8)
        offsets, data = k._gather_ids(buf, fs[r, j], fe[r, j], line_no[r], prefix)
        chunk["event_id"] = pa.LargeStringArray.from_buffers(len(r), pa.py_buffer(offsets), pa.py_buffer(data))
        line = line_no[r]
        if len(line) and line[-1] < 2**31:
            line = line.astype(np.int32)
        chunk.update(lng=lng, lat=lat, month=month, line=line, key=key, snap=snap_key(lng, lat))
        chunk["force_months"] = _force_months(chunk["force"], month)
        return chunk


def _force_months(force: pa.DictionaryArray, month: np.ndarray) -> dict[tuple[str, int], int]:
    """Rows per (force, month), for the coverage table; loops over the few forces, not rows."""
    codes = force.indices.to_numpy(zero_copy_only=False)
    out: dict[tuple[str, int], int] = {}
    for f, name in enumerate(force.dictionary.to_pylist()):
        m = month[codes == f]
        if len(m):
            lo = int(m.min())
            for off, n in enumerate(np.bincount(m - lo)):
                if n:
                    out[(name, lo + off)] = int(n)
    return out


def _concat(chunks: list[dict[str, Any]], key: str):
    """Join one column of all chunks, releasing the chunk copies as it goes (bounds peak memory)."""
    vals = [c.pop(key) for c in chunks]
    if isinstance(vals[0], np.ndarray):
        return np.concatenate(vals)
    return pa.chunked_array(vals)


def read_police_uk(
    paths: Sequence[str | os.PathLike],
    *,
    boundary=None,
    block_bytes: int = 1 << 22,
    progress: bool | None = None,
    threads: int | None = None,
    today: dt.date | None = None,
) -> IngestResult:
    """Read police.uk street-level CSVs into events, quarantine and a reconciliation.

    Parameters
    ----------
    paths : sequence of path
        Files (``.csv`` or ``.csv.gz``) and/or folders of monthly files.
        Later paths are newer download vintages (see module docstring).
    boundary : shapely geometry, optional
        Force area in EPSG:27700. Events outside it are kept and get
        ``in_force_area = False``.
    block_bytes : int, default 4 MiB
        Decoded bytes per processing block: small enough that every pass over
        a block stays in the CPU cache (measured fastest on 2 cores).
    progress : bool, optional
        Show a progress bar; by default only when stderr is a terminal.
    threads : int, optional
        Worker threads for blocks (default: number of CPUs, at most 4).
    today : datetime.date, optional
        The run date (default: today, UTC). Rows whose Month is after its
        month, or before 2010-12 (police.uk's first month), are quarantined
        as ``bad_month``.

    Returns
    -------
    IngestResult

    Raises
    ------
    InputFileError
        When a file cannot be used at all (missing, empty, not police.uk's
        header, a column named twice, UTF-16 with or without a byte-order
        mark, gzip nested more than three deep, gzip damaged within the
        header). Nothing is read in that case.

    Notes
    -----
    Damaged files are read, not refused: a cut-short or corrupt gzip keeps
    every row before the damage, and its ``files`` entry in the
    reconciliation gives ``truncated`` (why) and ``damaged_after_line`` (the
    last whole line; rows after it are missing). A file with a header and no
    rows is accepted with ``empty: true`` and a message in ``warnings``
    (per file, and ``"<file>: <message>"`` in the top-level ``warnings``).
    Records follow :mod:`hotspots.ingest._csvscan`: a quoted field may hold
    line breaks (kept in the value), ``rows_read`` counts records and
    ``source_line``/``line`` give the physical line a record starts on.

    Examples
    --------
    >>> from hotspots.ingest.police_uk import read_police_uk
    >>> res = read_police_uk(["data/policeuk/avon-and-somerset/2023-01"])
    >>> r = res.reconciliation
    >>> r["rows_read"] == r["rows_accepted"] + r["rows_quarantined"]
    True
    """
    files, skipped = discover_police_uk_files(paths)
    names = _display_names(files)
    seen = _SeenIds()
    sizes = [f.stat().st_size for f in files]
    bar = _progress_bar(sum(sizes), progress)
    readers: list[_FileReader] = []
    n_threads = threads or min(4, os.cpu_count() or 1)
    run_day = today or dt.datetime.now(dt.UTC).date()
    month_range = (FIRST_MONTH, (run_day.year - 1970) * 12 + run_day.month - 1)
    for f in files:  # refuse unusable files before reading any data
        _check_header(f)
    pending: deque = deque()
    dicts = {col: _GlobalDict() for col in _DICT_COLUMNS}

    def drain(limit: int) -> None:
        while len(pending) > limit:
            rd, fut = pending.popleft()
            if fut is not None:
                rd.merge(fut.result())
                continue
            rd.finish()  # file done: its keys now supersede older vintages
            if bar is not None:
                bar.update(sizes[rd.file_idx])

    try:
        with ThreadPoolExecutor(n_threads) as pool:
            # newest vintage first, so that older copies of a Crime ID are the ones quarantined;
            # blocks of consecutive files overlap in the pool, merges happen in file order
            for idx in reversed(range(len(files))):
                rd = _FileReader(files[idx], idx, seen, names, month_range, dicts)
                readers.append(rd)
                for fut in rd.read(block_bytes, pool):
                    pending.append((rd, fut))
                    drain(8)
                pending.append((rd, None))
            drain(0)
    finally:
        if bar is not None:
            bar.close()
    readers.sort(key=lambda r: r.file_idx)
    _release_free_memory()  # block temporaries freed by the workers: before the table is assembled
    events = _assemble_events(readers, names, boundary, dicts)
    quarantine = _assemble_quarantine(readers, names)
    recon = _reconcile(readers, names, skipped, events, boundary is not None)
    _release_free_memory()
    return IngestResult(events=events, quarantine=quarantine, reconciliation=recon)


def _display_names(files: list[Path]) -> list[str]:
    """Shortest unambiguous names: the file name, or with parent folders when needed."""
    names = [f.name for f in files]
    depth = 1
    while len(set(names)) < len(names) and depth < 6:
        depth += 1
        names = ["/".join(f.parts[-depth:]) for f in files]
    return names


def _progress_bar(total: int, progress: bool | None):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc="police.uk", file=sys.stderr)


_LOCAL = threading.local()


def _to_bng():
    """WGS84 -> British National Grid, built once per thread (about 40 ms; pyproj objects are not shared)."""
    tr = getattr(_LOCAL, "to_bng", None)
    if tr is None:
        from pyproj import Transformer

        tr = _LOCAL.to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    return tr


def _release_free_memory() -> None:
    """Hand freed heap pages back to the OS (glibc keeps worker threads' freed blocks otherwise)."""
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _assemble_events(readers: list[_FileReader], names: list[str], boundary, dicts: dict[str, _GlobalDict]) -> pa.Table:
    """One table from the accepted chunks, column by column, releasing each column's chunks as it goes.

    Peak memory is the finished table plus one column and the projection's
    temporaries: no column is held twice, dictionary columns are built once
    with narrow codes, and string columns are chunked, never copied.
    """
    readers = [rd for rd in readers if rd.n_accepted]
    if not readers:
        return _empty_events()
    chunks = [c for rd in readers for c in rd.accepted]  # string columns, in file order
    for rd in readers:
        rd.accepted = []

    def column(name: str) -> np.ndarray:
        """One numeric column over all files, each file's builder released as it is used."""
        parts = [rd.finished.pop(name) if name in rd.finished else rd.columns.pop(name).take() for rd in readers]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    sizes = np.array([rd.n_accepted for rd in readers])
    file_idx = np.repeat(np.array([rd.file_idx for rd in readers]), sizes).astype(_code_dtype(len(names)))
    lng = column("lng")
    lat = column("lat")

    # police.uk points are shared map points: project (and test against the boundary)
    # each distinct point once, then broadcast
    snap = column("snap")
    codes, first = unique_points(lng, lat, key=snap)
    tr = _to_bng()
    ux, uy = (np.asarray(v) for v in tr.transform(lng[first], lat[first]))
    x = ux[codes]
    y = uy[codes]
    snap_u = snap[first]
    snap_codes, _ = pd.factorize(snap_u)  # sub-1e-6-degree variants share their snap point
    n_at_u = np.bincount(snap_codes, weights=np.bincount(codes, minlength=len(first)))[snap_codes]
    n_at = n_at_u.astype(np.int32)[codes]
    if boundary is not None:
        shapely.prepare(boundary)
        in_area = pa.array(shapely.contains_xy(boundary, ux, uy)[codes])
    else:
        in_area = pa.nulls(len(lng), pa.bool_())
    del codes

    # police.uk occasionally publishes two rows with one Crime ID in one file (different
    # places or outcomes): both are kept, flagged, and given ids that stay unique
    shared = column("shared")
    event_id = _concat(chunks, "event_id")
    line = column("line")
    if shared.any():
        file_names = pa.array(names, pa.large_string())
        where = pc.binary_join_element_wise(
            pc.take(file_names, pa.array(file_idx[shared])),
            pa.array(line[shared]).cast(pa.large_string()),
            pa.scalar("#", pa.large_string()),
        )
        ids = pc.binary_join_element_wise(
            pc.filter(event_id, pa.array(shared)), where, pa.scalar("@", pa.large_string())
        )
        full = np.asarray(event_id.to_numpy(), dtype=object)  # rare: only files with repeated Crime IDs
        full[shared] = ids.to_numpy(zero_copy_only=False)
        event_id = pa.array(full, pa.large_string())

    month = column("month")
    cols = {
        "event_id": event_id,
        "source": pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(lng), np.int8)), pa.array(["police_uk"])),
        "has_crime_id": column("has_id"),
        "month": pa.ExtensionArray.from_storage(ArrowPeriodType("M"), pa.array(month, pa.int64())),
        "reported_by": dicts["reported_by"].array(column("reported_by")),
        "force": dicts["force"].array(column("force")),
        "lng": lng,
        "lat": lat,
        "x": x,
        "y": y,
        "location": _concat(chunks, "location"),
        "lsoa_code": _concat(chunks, "lsoa_code"),
        "lsoa_name": _concat(chunks, "lsoa_name"),
        "crime_type": dicts["crime_type"].array(column("crime_type")),
        "outcome": dicts["outcome"].array(column("outcome")),
        "context": dicts["context"].array(column("context")),
        "snap_point_id": snap,
        "n_at_location": n_at,
        "crime_id_shared": shared,
        "in_force_area": in_area,
        "source_file": pa.DictionaryArray.from_arrays(pa.array(file_idx), pa.array(names, pa.string())),
        "source_line": line,
    }
    return pa.table(cols)


def _empty_events() -> pa.Table:
    d = pa.dictionary(pa.int8(), pa.string())
    schema = pa.schema(
        [
            ("event_id", pa.large_string()),
            ("source", d),
            ("has_crime_id", pa.bool_()),
            ("month", ArrowPeriodType("M")),
            ("reported_by", d),
            ("force", d),
            ("lng", pa.float64()),
            ("lat", pa.float64()),
            ("x", pa.float64()),
            ("y", pa.float64()),
            ("location", pa.string()),
            ("lsoa_code", pa.string()),
            ("lsoa_name", pa.string()),
            ("crime_type", d),
            ("outcome", d),
            ("context", d),
            ("snap_point_id", pa.int64()),
            ("n_at_location", pa.int32()),
            ("crime_id_shared", pa.bool_()),
            ("in_force_area", pa.bool_()),
            ("source_file", d),
            ("source_line", pa.int32()),
        ]
    )
    return schema.empty_table()


def _assemble_quarantine(readers: list[_FileReader], names: list[str]) -> pa.Table:
    parts = []
    reason_names = pa.array(["accepted", *_REASON_NAMES])
    fixes = pa.array(["", *QUARANTINE_REASONS.values()])
    file_names = pa.array(names, pa.string())
    for rd in readers:
        for q in rd.quarantined:
            n = len(q["line"])
            codes = pa.array(q["code"].astype(np.int8))
            parts.append(
                pa.table(
                    {
                        "file": pa.DictionaryArray.from_arrays(pa.array(np.full(n, rd.file_idx, np.int16)), file_names),
                        "line": pa.array(q["line"], pa.int64()),
                        "reason": pa.DictionaryArray.from_arrays(codes, reason_names),
                        "detail": q["detail"],
                        "fix": pa.DictionaryArray.from_arrays(codes, fixes),
                        "raw": q["raw"],
                    }
                )
            )
        rd.quarantined = []
    if not parts:
        return pa.table(
            {
                k_: pa.array([], pa.int64() if k_ == "line" else pa.string())
                for k_ in ("file", "line", "reason", "detail", "fix", "raw")
            }
        )
    return pa.concat_tables(parts)


def _month_label(m: int) -> str:
    return f"{1970 + m // 12:04d}-{m % 12 + 1:02d}"


def _file_warnings(rd: _FileReader) -> list[str]:
    """Messages about a file that was read but needs a look (no row contents)."""
    out = []
    if rd.counts.sum() == 0:
        out.append("the file has a header but no data rows (an empty month, or a failed export?)")
    if rd.state.gzip_layers > 1:
        out.append(f"gzip inside gzip ({rd.state.gzip_layers} layers) was decompressed")
    out.extend(rd.state.notes)  # e.g. bytes after the end of the gzip stream, ignored
    # damage is reported through `truncated` and `damaged_after_line` (exit 1), not repeated here
    return out


def _reconcile(readers, names, skipped, events: pa.Table, has_boundary: bool) -> dict:
    files = []
    tot = np.zeros(len(_REASON_NAMES) + 1, dtype=np.int64)
    for rd in readers:
        c = rd.counts
        tot += c
        st = rd.state
        months = rd.months
        files.append(
            {
                "file": names[rd.file_idx],
                "path": str(rd.path),
                "sha256": st.sha256,
                "bytes": st.bytes_on_disk,
                "gzip": st.compressed,
                "encoding": "utf-8-sig" if st.bom else "utf-8",
                "rows_recoded_from_cp1252": rd.recoded,
                "gzip_layers": st.gzip_layers,
                "line_endings": st.line_endings,
                "truncated": st.truncated,
                "damaged_after_line": st.damaged_after_line,
                "lines": st.lines,
                "empty": bool(c.sum() == 0),
                "warnings": _file_warnings(rd),
                "rows_read": int(c.sum()),
                "rows_accepted": int(c[0]),
                "rows_quarantined": int(c[1:].sum()),
                "by_reason": {n: int(v) for n, v in zip(_REASON_NAMES, c[1:], strict=True) if v},
                "blank_lines": rd.blank_lines,
                "months": [_month_label(m) for m in months],
            }
        )
    coverage = {}
    per_force: dict[str, dict[int, int]] = {}
    for rd in readers:
        for (force, m), n in rd.force_months.items():
            per_force.setdefault(force, {})
            per_force[force][m] = per_force[force].get(m, 0) + n
    for force, months in sorted(per_force.items()):
        ms = np.array(sorted(months))
        missing = np.setdiff1d(np.arange(ms.min(), ms.max() + 1), ms)
        coverage[force] = {
            "first_month": _month_label(int(ms.min())),
            "last_month": _month_label(int(ms.max())),
            "months_present": len(ms),
            "missing_months": [_month_label(int(m)) for m in missing],
            "events": int(sum(months.values())),
            "events_by_month": {_month_label(int(m)): months[m] for m in ms},
        }
    outside = None
    if has_boundary and events.num_rows:
        outside = int(pc.sum(pc.invert(events["in_force_area"])).as_py() or 0)
    rec: dict[str, Any] = {
        "source": "police_uk",
        "rows_read": int(tot.sum()),
        "rows_accepted": int(tot[0]),
        "rows_quarantined": int(tot[1:].sum()),
        "by_reason": {n: int(v) for n, v in zip(_REASON_NAMES, tot[1:], strict=True) if v},
        "blank_lines": int(sum(r.blank_lines for r in readers)),
        "rows_outside_boundary": outside,
        "files": files,
        "warnings": [f"{f['file']}: {w}" for f in files for w in f["warnings"]],
        "skipped_files": [str(p) for p in skipped],
        "coverage": coverage,
        "vintage_rule": "later path (command-line order, then sorted path order within a folder) is the newer download",
    }
    rec["invariant_holds"] = rec["rows_read"] == rec["rows_accepted"] + rec["rows_quarantined"] and all(
        f["rows_read"] == f["rows_accepted"] + f["rows_quarantined"] for f in files
    )
    if not rec["invariant_holds"]:  # a bug, not a data problem: never hide it
        raise RuntimeError(f"reconciliation failed: {rec}")
    return rec
