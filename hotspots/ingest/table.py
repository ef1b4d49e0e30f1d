"""Read any partner CSV into byte spans, losing nothing.

The shared first stage of the RMS, StreetSafe, A&E and partnership readers.
A file is read whole (gzip or plain), its header is matched to the logical
columns a source needs (case, spaces and a BOM ignored), and every data line
is split into fields by the numba tokenizer used for police.uk. Lines that
cannot be rows (wrong number of fields, an unclosed quote, a file cut short)
are quarantined here, with their line number and the line as read; the
source reader then validates the remaining rows with array operations and
quarantines what fails through :meth:`TableRead.quarantine`.

Nothing here logs a field's content; problems name the file, line and column.
"""

from __future__ import annotations

import difflib
import hashlib
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from hotspots.errors import InputFileError
from hotspots.ingest import _csvscan as k
from hotspots.ingest import _datetimes as dt

__all__ = ["TableRead", "read_table", "norm_header", "assemble_quarantine", "QUARANTINE_SCHEMA"]

LINE_REASONS = {
    "wrong_field_count": "the row has a different number of fields from the header (a stray comma or a cut-off line); "
    "fix the row or re-export the file",
    "malformed_quotes": "a quoted field is not closed on the same line; fix the quotes or re-export the file",
    "truncated_file": "the file ends part-way through this row; re-send or re-download the complete file",
}

QUARANTINE_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("line", pa.int64()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("fix", pa.string()),
        ("raw", pa.string()),
    ]
)


def norm_header(name: str) -> str:
    r"""Header name as compared: BOM dropped, spaces collapsed, lower case.

    Examples
    --------
    >>> norm_header("\ufeffCommitted  From ")
    'committed from'
    """
    return " ".join(name.replace("\ufeff", "").split()).lower()


def parse_float_spans(buf: np.ndarray, s: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numbers in byte spans: values (NaN where not a number) and status (``_csvscan.NUM_*``).

    Exact: values beyond the kernel's fast path (> 15 significant digits, as
    Socrata writes coordinates) are parsed by Python's ``float``.
    """
    val, st = k._parse_floats(buf, s, e, k._POW10)
    slow = np.flatnonzero(st == k.NUM_SLOW)
    if len(slow):
        offsets, data = k._gather(buf, s[slow], e[slow], np.zeros(len(slow), np.uint8), True)
        texts = pa.StringArray.from_buffers(len(slow), pa.py_buffer(offsets), pa.py_buffer(data)).to_pylist()
        for i, txt in zip(slow, texts, strict=True):
            try:
                val[i] = float(txt)
                st[i] = k.NUM_OK
            except ValueError:
                st[i] = k.NUM_INVALID
    return val, st


def _read_bytes(path: Path) -> tuple[bytes, dict]:
    """File contents (gunzipped), its SHA-256 on disk and whether it was cut short."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(str(path), "no such file", "check the path in the config or command") from None
    except IsADirectoryError:
        raise InputFileError(str(path), "is a folder, not a file", "name the CSV file itself") from None
    info = {"bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest(), "gzip": raw[:2] == b"\x1f\x8b"}
    info["truncated"] = False
    if info["gzip"]:
        d = zlib.decompressobj(wbits=47)
        try:
            data = d.decompress(raw)
        except zlib.error as exc:
            raise InputFileError(
                str(path), f"gzip data is corrupt ({exc})", "re-send or re-download the file"
            ) from None
        if not d.eof:
            info["truncated"] = True
        raw = data
    return raw, info


def _refuse_non_text(path: Path, data: bytes) -> None:
    head = data[:4096]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputFileError(
            str(path),
            "file is UTF-16 text (Excel 'Unicode Text'), not a CSV",
            "open it in a spreadsheet and save as 'CSV UTF-8 (comma delimited)'",
            line=1,
        )
    if head[:4] == b"PK\x03\x04" or b"\x00" in head:
        raise InputFileError(
            str(path),
            "file is binary, not CSV text (an Excel .xlsx?)",
            "export the sheet as 'CSV UTF-8 (comma delimited)' and give that file",
            line=1,
        )


@dataclass
class TableRead:
    """One CSV file split into rows and fields (byte spans into ``buf``).

    Attributes
    ----------
    file : str
        The file's display name (used in quarantine rows and messages).
    columns : dict of str to int
        Logical column name -> field index in the file (only those found).
    header : list of str
        The header as written.
    buf : ndarray of uint8
        The decoded file (UTF-8; lines that were Windows-1252 re-encoded).
    line : ndarray of int64, shape (n,)
        1-based file line of each candidate row still in play.
    fstart, fend, fesc : ndarray, shape (n, n_fields)
        Byte span of each field and whether it holds doubled quotes.
    rstart, rend : ndarray of int64, shape (n,)
        Byte span of each row's whole line, for the quarantine's ``raw``.
    info : dict
        Bytes, SHA-256, gzip, encoding, line endings, blank and recoded lines.
    """

    file: str
    path: Path
    header: list[str]
    columns: dict[str, int]
    buf: np.ndarray
    line: np.ndarray
    fstart: np.ndarray
    fend: np.ndarray
    fesc: np.ndarray
    rstart: np.ndarray
    rend: np.ndarray
    info: dict
    rows_read: int = 0
    quarantined: list[pa.Table] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.line)

    def has(self, col: str) -> bool:
        """Whether logical column ``col`` is in the file."""
        return col in self.columns

    def spans(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        """Byte spans of logical column ``col`` for the rows in play (empty spans when absent)."""
        if col not in self.columns:
            z = np.zeros(len(self.line), np.int64)
            return z, z
        j = self.columns[col]
        return np.ascontiguousarray(self.fstart[:, j]), np.ascontiguousarray(self.fend[:, j])

    def strings(self, col: str) -> pa.Array:
        """Column ``col`` as an Arrow string array (stripped; empty string when absent)."""
        s, e = self.spans(col)
        esc = self.fesc[:, self.columns[col]].copy() if col in self.columns else np.zeros(len(s), np.uint8)
        offsets, data = k._gather(self.buf, s, e, esc, True)
        return pa.StringArray.from_buffers(len(s), pa.py_buffer(offsets), pa.py_buffer(data))

    def floats(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        """Column ``col`` parsed as numbers: values (NaN where not) and status (``_csvscan.NUM_*``)."""
        return parse_float_spans(self.buf, *self.spans(col))

    def datetimes(self, col: str, *, dayfirst: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Column ``col`` parsed as dates/date-times: seconds as written, status, UTC offset (minutes)."""
        s, e = self.spans(col)
        return dt.parse_datetimes(self.buf, s, e, dayfirst=dayfirst)

    def times(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        """Column ``col`` parsed as a time of day: seconds after midnight and status."""
        s, e = self.spans(col)
        return dt.parse_times(self.buf, s, e)

    def codes(self, col: str) -> tuple[np.ndarray, list[str]]:
        """Dictionary-encode column ``col``: an int32 code per row and the distinct (stripped) values."""
        s, e = k._strip_spans(self.buf, *self.spans(col))
        if len(s) == 0:
            return np.zeros(0, np.int32), []
        codes, first = k._dict_encode(self.buf, s, e)
        esc = self.fesc[first, self.columns[col]] if col in self.columns else np.zeros(len(first), np.uint8)
        values = [bytes(self.buf[s[i] : e[i]]).decode("utf-8", "replace") for i in first]
        values = [v.replace('""', '"') if q else v for v, q in zip(values, esc, strict=True)]
        return codes, values

    def dictionary(self, col: str) -> pa.DictionaryArray:
        """Column ``col`` dictionary-encoded (cheap for low-cardinality text such as codes and bands)."""
        codes, values = self.codes(col)
        if not len(values):
            return pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(self), np.int32)), pa.array([""]))
        return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(values, pa.string()))

    def raw(self, rows: np.ndarray) -> pa.Array:
        """The lines of ``rows`` as read (verbatim)."""
        rows = np.asarray(rows, dtype=np.int64)
        offsets, data = k._gather(self.buf, self.rstart[rows], self.rend[rows], np.zeros(len(rows), np.uint8), False)
        return pa.StringArray.from_buffers(len(rows), pa.py_buffer(offsets), pa.py_buffer(data))

    def quarantine(self, mask: np.ndarray, reason: str, fix: str, detail=None) -> np.ndarray:
        """Move the rows in ``mask`` (boolean, over the rows in play) to the quarantine.

        Shorthand for ``reject([(mask, reason, fix, detail)])``; returns the
        boolean mask of the rows kept.
        """
        return self.reject([(mask, reason, fix, detail)])

    def reject(self, problems) -> np.ndarray:
        """Quarantine rows by the first problem each has; returns the mask of rows kept.

        Parameters
        ----------
        problems : sequence of (mask, reason, fix, detail)
            ``mask`` is boolean over the rows in play; ``detail`` is None,
            one string, or an array with one string per row in play. Details
            must never carry personal fields.
        """
        n = len(self.line)
        which = np.full(n, -1, np.int64)
        for i, (mask, *_rest) in enumerate(problems):
            which[np.asarray(mask, bool) & (which < 0)] = i
        for i, (_mask, reason, fix, detail) in enumerate(problems):
            rows = np.flatnonzero(which == i)
            if len(rows) == 0:
                continue
            if detail is None or isinstance(detail, str):
                detail_arr = pa.array(np.full(len(rows), detail or "", dtype=object), pa.string())
            else:
                detail_arr = pa.array(np.asarray(detail, dtype=object)[rows], pa.string())
            m = len(rows)
            self.quarantined.append(
                pa.table(
                    {
                        "file": pa.array(np.full(m, self.file, dtype=object), pa.string()),
                        "line": pa.array(self.line[rows], pa.int64()),
                        "reason": pa.array(np.full(m, reason, dtype=object), pa.string()),
                        "detail": detail_arr,
                        "fix": pa.array(np.full(m, fix, dtype=object), pa.string()),
                        "raw": self.raw(rows),
                    },
                    schema=QUARANTINE_SCHEMA,
                )
            )
            self.counts[reason] = self.counts.get(reason, 0) + m
        keep = which < 0
        if not keep.all():
            for name in ("line", "fstart", "fend", "fesc", "rstart", "rend"):
                setattr(self, name, getattr(self, name)[keep])
        return keep

    @property
    def n_quarantined(self) -> int:
        """Rows quarantined so far."""
        return sum(self.counts.values())


def _match_header(path: Path, header: list[str], columns: Mapping[str, str], required: Sequence[str], hint: str):
    norm = [norm_header(h) for h in header]
    found: dict[str, int] = {}
    for logical, name in columns.items():
        if name and norm_header(name) in norm:
            found[logical] = norm.index(norm_header(name))
    missing = [f"{columns.get(c) or c!r} ({c})" for c in required if c not in found]
    if missing:
        near = []
        for c in required:
            if c in found or not columns.get(c):
                continue
            m = difflib.get_close_matches(norm_header(columns[c]), norm, n=1, cutoff=0.6)
            if m:
                near.append(f"'{header[norm.index(m[0])]}' for {c}?")
        problem = f"header lacks column(s) {', '.join(missing)}"
        if near:
            problem += f"; did you mean {', '.join(near)}"
        raise InputFileError(str(path), problem, hint, line=1)
    return found


def read_table(
    path: str | Path,
    *,
    columns: Mapping[str, str],
    required: Sequence[str],
    header_fix: str,
    display_name: str | None = None,
) -> TableRead:
    r"""Read a CSV into rows and fields, quarantining lines that are not rows.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` or gzipped ``.csv.gz`` file (UTF-8, UTF-8 with BOM, or
        Windows-1252 lines, which are re-encoded and counted).
    columns : mapping of str to str
        Logical column name -> header name in this file.
    required : sequence of str
        Logical columns the file must have.
    header_fix : str
        What to tell the user when a required column is missing.
    display_name : str, optional
        Name used in messages and quarantine rows (default: the file name).

    Returns
    -------
    TableRead

    Raises
    ------
    InputFileError
        Missing file, empty file, binary or UTF-16 file, or a header without
        the required columns (naming them, with the closest header found).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "cams.csv"
    >>> _ = p.write_text("camera_id,lon,lat\n1,-2.28,53.46\n2,-2.29\n")
    >>> t = read_table(p, columns={"id": "camera_id", "lng": "lon", "lat": "lat"},
    ...                required=["lng", "lat"], header_fix="name the lon/lat columns")
    >>> t.rows_read, len(t), t.counts
    (2, 1, {'wrong_field_count': 1})
    """
    path = Path(path)
    name = display_name or path.name
    data, info = _read_bytes(path)
    _refuse_non_text(path, data)
    bom = data[:3] == b"\xef\xbb\xbf"
    buf = np.frombuffer(data, dtype=np.uint8)[3 if bom else 0 :]
    starts, ends = k._line_spans(buf)
    recoded = 0
    bad = k._utf8_invalid_lines(buf, starts, ends)
    if len(bad):
        from hotspots.ingest.police_uk import _recode_cp1252

        buf = _recode_cp1252(buf, starts, ends, bad)
        starts, ends = k._line_spans(buf)
        recoded = len(bad)
    if len(starts) == 0 or all(buf[starts[0] : ends[0]] == 32):
        raise InputFileError(
            str(path), "file is empty (no header line)", "re-export the file with its header row", line=1
        )
    import csv

    header = next(csv.reader([bytes(buf[starts[0] : ends[0]]).decode("utf-8", "replace")]), [])
    found = _match_header(path, header, columns, required, header_fix)
    # a line ends in CRLF when the byte after its end (which excludes the CR) is a CR
    inside = ends < len(buf)
    nl = int(np.count_nonzero(inside))
    crlf = int(np.count_nonzero(buf[ends[inside]] == 13))
    info.update(
        encoding=("utf-8-sig" if bom else "utf-8") + (f" + {recoded} cp1252 line(s)" if recoded else ""),
        line_endings="CRLF" if crlf and crlf == nl else ("mixed" if crlf else ("LF" if nl else "none")),
        recoded_lines=recoded,
    )
    s, e = starts[1:], ends[1:]
    fstart, fend, fesc, nfields, status = k._split_fields(buf, s, e, len(header))
    line = np.arange(2, len(s) + 2, dtype=np.int64)
    blank = status == k.LINE_BLANK
    info["blank_lines"] = int(blank.sum())
    keep = ~blank
    # the row extends from its first byte to the end of the line (without the newline)
    t = TableRead(
        file=name,
        path=path,
        header=header,
        columns=found,
        buf=buf,
        line=line[keep],
        fstart=fstart[keep],
        fend=fend[keep],
        fesc=fesc[keep],
        rstart=s[keep].astype(np.int64),
        rend=e[keep].astype(np.int64),
        info=info,
    )
    t.rows_read = int(keep.sum())
    status, nfields = status[keep], nfields[keep]
    cut = np.zeros(len(t), bool)
    if info["truncated"] and len(t) and (len(buf) == 0 or buf[-1] != 10):
        cut[-1] = True
    t.quarantine(cut, "truncated_file", LINE_REASONS["truncated_file"], "gzip stream ends mid-row")
    status, nfields = status[~cut], nfields[~cut]
    quote = status == k.LINE_BAD_QUOTE
    t.quarantine(quote, "malformed_quotes", LINE_REASONS["malformed_quotes"])
    nfields = nfields[~quote]
    wrong = nfields != len(header)
    detail = np.full(len(nfields), "", dtype=object)
    detail[wrong] = [f"{n} fields, header has {len(header)}" for n in nfields[wrong]]
    t.quarantine(wrong, "wrong_field_count", LINE_REASONS["wrong_field_count"], detail)
    return t


def assemble_quarantine(tables: Sequence[TableRead]) -> pa.Table:
    """All quarantined rows of ``tables``, in file then line order."""
    out = []
    for t in tables:
        if t.quarantined:
            q = pa.concat_tables(t.quarantined)
            out.append(q.take(pa.array(np.argsort(q["line"].to_numpy(), kind="stable"))))
    return pa.concat_tables(out) if out else QUARANTINE_SCHEMA.empty_table()


def month_coverage(months: np.ndarray) -> dict:
    """First, last and missing months of period ordinals (months since 1970-01)."""
    if len(months) == 0:
        return {"first_month": None, "last_month": None, "months": 0, "missing_months": []}
    u = np.unique(months)
    full = np.arange(u[0], u[-1] + 1)
    lab = [f"{1970 + m // 12:04d}-{m % 12 + 1:02d}" for m in (u[0], u[-1])]
    missing = [f"{1970 + m // 12:04d}-{m % 12 + 1:02d}" for m in np.setdiff1d(full, u)]
    return {"first_month": lab[0], "last_month": lab[1], "months": int(len(u)), "missing_months": missing}
