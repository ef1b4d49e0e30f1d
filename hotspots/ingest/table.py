"""Read any partner CSV in blocks of whole records, losing nothing.

The shared first stage of the RMS, StreetSafe, A&E and partnership readers.
A file (gzip or plain) is read in blocks of whole records by
:func:`hotspots.ingest.blocks.iter_line_blocks`, so memory stays bounded
whatever the file's size. Its header is matched to the logical columns a
source needs (case, spaces and a BOM ignored; a column named twice is
refused), and every record is split into fields by the numba tokenizer used
for police.uk. Records that cannot be rows (wrong number of fields, an
unclosed quote, a file cut short) are quarantined here with their line number
and the record as read; the source reader validates the remaining rows of
each block with array operations and quarantines what fails through
:meth:`TableRead.reject`.

Two objects: a :class:`TableFile` is one file's ledger (header, counts,
quarantine, warnings, hashes), a :class:`TableRead` one block of its rows.
Rows judged only after their block is gone (a reference repeated in a later
block, coordinates that look swapped against the whole file) are quarantined
by line with :meth:`TableFile.quarantine_lines`; their records are fetched in
one more pass over the file when the quarantine is assembled.

Privacy: columns a reader drops (``redact``, and with ``redact_unmapped``
every column it does not map) are blanked inside the quarantine's ``raw``
record, keeping the field count; a record that cannot be aligned with the
header is withheld whole from ``raw`` in such a file. Nothing here logs a
field's content; problems name the file, line and column.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Collection, Generator, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numba as nb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hotspots.errors import InputFileError
from hotspots.ingest import _csvscan as k
from hotspots.ingest import _datetimes as dt
from hotspots.ingest.blocks import FileReadState, RecordBlock, iter_record_blocks
from hotspots.ingest.police_uk import _recode_cp1252

T = TypeVar("T")

__all__ = [
    "TableFile",
    "TableRead",
    "Vocabulary",
    "open_table",
    "open_tables",
    "read_table",
    "read_header",
    "map_blocks",
    "norm_header",
    "assemble_quarantine",
    "QUARANTINE_SCHEMA",
]

BLOCK_BYTES = 1 << 22  # 4 MiB of text per block
LINE_REASONS = {
    "wrong_field_count": "the row has a different number of fields from the header (a stray comma or a cut-off line); "
    "fix the row or re-export the file",
    "malformed_quotes": "a quoted field is not closed (or text follows its closing quote); "
    "fix the quotes or re-export the file",
    "truncated_file": "the file ends part-way through this row; re-send or re-download the complete file",
}
WITHHELD = "; raw record withheld: it cannot be aligned with the header and the file has columns dropped for privacy"
HEADER_ONLY = "header only: the file has no data rows"

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

    Examples
    --------
    >>> buf = np.frombuffer(b"1.5,x,", dtype=np.uint8)
    >>> v, st = parse_float_spans(buf, np.array([0, 4, 6]), np.array([3, 5, 6]))
    >>> float(v[0]), st.tolist()
    (1.5, [0, 2, 1])
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


# ----------------------------------------------------------------------------------------------- kernels


@nb.njit(cache=True, nogil=True)
def _gather_redacted(buf, rs, re_, fs, fe, blank_cols, withhold):
    """Records ``[rs, re_)`` with the fields in ``blank_cols`` (ascending) emptied, quotes included.

    Rows with ``withhold`` set come out empty. Returns Arrow string buffers ``(offsets, data)``.
    """
    n = len(rs)
    total = 0
    for i in range(n):
        total += re_[i] - rs[i]
    data = np.empty(total, dtype=np.uint8)
    offsets = np.zeros(n + 1, dtype=np.int32)
    o = 0
    for i in range(n):
        if not withhold[i]:
            p = rs[i]
            for j in blank_cols:
                a = fs[j, i]
                b = fe[j, i]
                if a > rs[i] and buf[a - 1] == 34:  # a quoted field: drop its quotes too
                    a -= 1
                    b += 1
                if a < p or b > re_[i]:
                    continue
                for q in range(p, a):
                    data[o] = buf[q]
                    o += 1
                p = b
            for q in range(p, re_[i]):
                data[o] = buf[q]
                o += 1
        offsets[i + 1] = o
    return offsets, data[:o]


def _rows_of(spans: np.ndarray, rows) -> np.ndarray:
    """``spans[:, rows]`` kept C-contiguous (numpy returns a boolean selection along axis 1 in Fortran order).

    Each column's spans then stay contiguous, so the kernels see one array layout (one compiled signature).
    """
    return spans if isinstance(rows, slice) and rows == slice(None) else np.ascontiguousarray(spans[:, rows])


@nb.njit(cache=True, nogil=True)
def _split_fields_cm(buf, starts, ends, ncols):
    """:func:`hotspots.ingest._csvscan._split_fields` with column-major output: spans of shape (ncols, n).

    The same RFC 4180 rules, byte for byte (a test holds the two equal); each
    field's spans are contiguous, so a column is read without a transpose.
    """
    n = len(starts)
    fstart = np.zeros((ncols, n), dtype=np.int64)
    fend = np.zeros((ncols, n), dtype=np.int64)
    fesc = np.zeros((ncols, n), dtype=np.uint8)
    nfields = np.zeros(n, dtype=np.int32)
    status = np.zeros(n, dtype=np.uint8)
    for i in range(n):
        s = starts[i]
        e = ends[i]
        blank = True
        for p in range(s, e):
            c = buf[p]
            if c != 32 and c != 9:
                blank = False
                break
        if blank:
            status[i] = k.LINE_BLANK
            continue
        pos = s
        f = 0
        while True:
            esc = 0
            if pos < e and buf[pos] == 34:
                j = pos + 1
                closed = False
                while j < e:
                    if buf[j] == 34:
                        if j + 1 < e and buf[j + 1] == 34:
                            esc = 1
                            j += 2
                            continue
                        closed = True
                        break
                    j += 1
                if not closed:
                    status[i] = k.LINE_BAD_QUOTE
                    break
                fs = pos + 1
                fe = j
                pos = j + 1
                if pos < e and buf[pos] != 44:
                    status[i] = k.LINE_BAD_QUOTE
                    break
            else:
                j = pos
                while j < e and buf[j] != 44:
                    j += 1
                fs = pos
                fe = j
                pos = j
            if f < ncols:
                fstart[f, i] = fs
                fend[f, i] = fe
                fesc[f, i] = esc
            f += 1
            if pos >= e:
                break
            pos += 1  # skip the comma; a trailing comma gives a final empty field
            if pos >= e:
                if f < ncols:
                    fstart[f, i] = e
                    fend[f, i] = e
                f += 1
                break
        nfields[i] = f
    return fstart, fend, fesc, nfields, status


@nb.njit(cache=True, nogil=True)
def _hash_strings(offsets, data):
    """64-bit hash of each string of an Arrow string array's buffers (never 0)."""
    n = len(offsets) - 1
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        out[i] = k._hash_span(data, offsets[i], offsets[i + 1])
    return out


@nb.njit(cache=True, nogil=True)
def _last_of_each(h):
    """For each row, the index of the last row with the same hash (open addressing; 4-byte slots, load <= 2/3)."""
    n = len(h)
    cap = 16
    while 2 * cap < 3 * n:
        cap *= 2
    table = np.full(cap, -1, dtype=np.int32)
    mask = np.uint64(cap - 1)
    last = np.empty(n, dtype=np.int64)
    for i in range(n):
        slot = h[i] & mask
        while True:
            j = table[slot]
            if j < 0:
                table[slot] = i
                break
            if h[j] == h[i]:
                table[slot] = i  # later rows win
                break
            slot = (slot + np.uint64(1)) & mask
    for i in range(n):
        slot = h[i] & mask
        while True:
            j = table[slot]
            if h[j] == h[i]:
                last[i] = j
                break
            slot = (slot + np.uint64(1)) & mask
    return last


@nb.njit(cache=True, nogil=True)
def _not_last(last):
    """Rows that are not the last of their kind (``last[i] != i``)."""
    out = np.empty(len(last), dtype=np.bool_)
    for i in range(len(last)):
        out[i] = last[i] != i
    return out


@nb.njit(cache=True, nogil=True)
def _first_appearance(codes, k_):
    """Renumber codes in order of first appearance; -1 (null) stays -1. Returns new codes and old code of each."""
    new_of = np.full(k_, -1, dtype=np.int32)
    order = np.empty(k_, dtype=np.int32)
    out = np.empty(len(codes), dtype=np.int32)
    m = 0
    for i in range(len(codes)):
        c = codes[i]
        if c < 0:
            out[i] = -1
            continue
        if new_of[c] < 0:
            new_of[c] = m
            order[m] = c
            m += 1
        out[i] = new_of[c]
    return out, order[:m]


def _chunk_hashes(arr: pa.Array) -> np.ndarray:
    """Hashes of the strings of one Arrow string or large-string array."""
    wide = arr.type == pa.large_string()
    bufs = arr.buffers()
    width = 8 if wide else 4
    offsets = np.frombuffer(
        bufs[1], dtype=np.int64 if wide else np.int32, count=len(arr) + 1, offset=arr.offset * width
    ).astype(np.int64)  # one kernel signature for both string widths (n + 1 values: cheap)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(1, np.uint8)
    return _hash_strings(offsets, data)


def last_of_each(strings: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Index of the last occurrence of each row's string (hash table; hash hits confirmed on the text).

    Examples
    --------
    >>> last_of_each(pa.chunked_array([["a", "b"], ["a"]])).tolist()
    [2, 1, 2]
    """
    chunks = strings.chunks if isinstance(strings, pa.ChunkedArray) else [strings]
    chunks = [c for c in chunks if len(c)]
    if not chunks:
        return np.zeros(0, np.int64)
    hashes = np.concatenate([_chunk_hashes(c) for c in chunks])
    last = _last_of_each(hashes)
    del hashes
    cand = np.flatnonzero(_not_last(last))
    if len(cand):  # a 64-bit hash collision between different texts is not a repeat
        a = strings.take(pa.array(cand)).to_numpy(zero_copy_only=False)
        b = strings.take(pa.array(last[cand])).to_numpy(zero_copy_only=False)
        differ = np.asarray(a, dtype=object) != np.asarray(b, dtype=object)
        last[cand[differ]] = cand[differ]
    return last


def earlier_copies(strings: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose string appears again later (mask), and for each row the index of its last copy.

    Examples
    --------
    >>> dup, last = earlier_copies(pa.array(["a", "b", "a"]))
    >>> dup.tolist(), last.tolist()
    ([True, False, False], [2, 1, 2])
    """
    last = last_of_each(strings)
    return _not_last(last), last


def dictionary_array(codes: np.ndarray, values: Sequence[str | None]) -> pa.DictionaryArray:
    """A dictionary array over ``values`` with entries in order of first use; code -1 is null.

    Examples
    --------
    >>> dictionary_array(np.array([2, 0, -1, 2]), ["a", "b", "c"]).to_pylist()
    ['c', 'a', None, 'c']
    """
    codes = np.asarray(codes, dtype=np.int32)
    new, order = _first_appearance(codes, len(values))
    vals = pa.array([values[i] for i in order], pa.string())
    idx = pa.array(new, pa.int32(), mask=new < 0) if (new < 0).any() else pa.array(new, pa.int32())
    return pa.DictionaryArray.from_arrays(idx, vals)


class Vocabulary:
    """The distinct values of a text column across blocks and files, numbered in order of first appearance.

    Examples
    --------
    >>> v = Vocabulary()
    >>> v.encode(np.array([0, 1, 0]), ["x", "y"]).tolist(), v.encode(np.array([0]), ["y"]).tolist(), v.values
    ([0, 1, 0], [1], ['x', 'y'])
    """

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.values: list[str] = []

    def lut(self, values: Sequence[str]) -> np.ndarray:
        """Global code of each of ``values`` (new values appended)."""
        out = np.empty(max(len(values), 1), np.int32)
        for i, v in enumerate(values):
            c = self.index.get(v)
            if c is None:
                c = self.index[v] = len(self.values)
                self.values.append(v)
            out[i] = c
        return out[: len(values)]

    def encode(self, codes: np.ndarray, values: Sequence[str]) -> np.ndarray:
        """Block-local codes over ``values`` as global codes."""
        if len(codes) == 0:
            self.lut(values)
            return np.zeros(0, np.int32)
        return self.lut(values)[codes]


# ----------------------------------------------------------------------------------------------- file


def _parse_header(path: Path, buf: np.ndarray, s: int, e: int) -> list[str]:
    """Header names from the record ``buf[s:e]`` (RFC 4180 quoting); refuses what is not a header."""
    head = bytes(buf[s:e])
    if b"\x00" in head:
        utf16 = head.count(b"\x00") * 3 >= len(head)
        raise InputFileError(
            str(path),
            "file is UTF-16 text without a byte-order mark, not a CSV"
            if utf16
            else "file is binary, not CSV text (an Excel .xlsx?)",
            "open it in a spreadsheet and save as 'CSV UTF-8 (comma delimited)'",
            line=1,
        )
    if head[:4] == b"PK\x03\x04":
        raise InputFileError(
            str(path),
            "file is binary, not CSV text (an Excel .xlsx?)",
            "export the sheet as 'CSV UTF-8 (comma delimited)' and give that file",
            line=1,
        )
    ss, ee = np.array([s], np.int64), np.array([e], np.int64)
    _, _, _, nf, st = k._split_fields(buf, ss, ee, 1)
    if st[0] == k.LINE_BAD_QUOTE:
        raise InputFileError(
            str(path),
            "the header row has an unclosed quote (or text after a closing quote)",
            "correct the quotes in the first row or re-export the file",
            line=1,
        )
    fs, fe, fesc, nf, st = k._split_fields(buf, ss, ee, int(nf[0]))
    names = []
    for j in range(int(nf[0])):
        txt = bytes(buf[fs[0, j] : fe[0, j]]).decode("utf-8", "replace")
        names.append(txt.replace('""', '"') if fesc[0, j] else txt)
    return names


def _duplicates(path: Path, header: list[str], columns: Mapping[str, str]) -> list[str]:
    """Refuse a column the reader uses named twice; returns warnings for repeated columns it does not use."""
    used = {norm_header(v) for v in columns.values() if v}
    seen: dict[str, int] = {}
    notes = []
    for j, h in enumerate(header):
        n = norm_header(h)
        if not n:
            continue
        if n in seen:
            where = f"columns {seen[n] + 1} and {j + 1}"
            if n in used:
                raise InputFileError(
                    str(path),
                    f"the header names column '{h.strip()}' twice ({where}); the reader cannot tell which to use",
                    "rename or delete one of the two columns and re-export the file",
                    line=1,
                )
            notes.append(f"column '{h.strip()}' is named twice ({where}); not used by this reader, so ignored")
        else:
            seen[n] = j
    return notes


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


_FIX_NUL = "the row holds NUL bytes (shown as U+FFFD in raw): the file is damaged or not text; re-download the file"


@dataclass
class _Records:
    """A block of whole data records: bytes, record spans, the file line each starts on."""

    buf: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    line: np.ndarray
    is_last: bool
    partial_tail: bool
    has_nul: bool


def _utf8(r: _Records) -> tuple[_Records, int]:
    """The block with lines that are not UTF-8 re-encoded from Windows-1252 (Excel's default)."""
    if not len(r.buf) or k._max_byte(r.buf) < 0x80:
        return r, 0
    bad = k._utf8_invalid_lines(r.buf, r.starts, r.ends)
    if not len(bad):
        return r, 0
    buf = _recode_cp1252(r.buf, r.starts, r.ends, bad)
    starts, ends = k._line_spans(buf)  # the same records: only bytes >= 0x80 changed
    return _Records(buf, starts, ends, r.line, r.is_last, r.partial_tail, r.has_nul), len(bad)


def _file_notes(st: FileReadState, rows_read: int) -> list[str]:
    """Warnings about a file that was read but needs a look (no row contents)."""
    out = []
    if rows_read == 0:
        out.append(HEADER_ONLY)
    if st.gzip_layers > 1:
        out.append(f"gzip inside gzip ({st.gzip_layers} layers) was decompressed")
    return out  # damage is reported by ``truncated`` and ``damaged_after_line`` (the CLI exits 1), as for police.uk


class TableFile:
    """One CSV file's ledger: header, column positions, counts, quarantine, warnings.

    Made by :func:`open_table`; iterate :meth:`blocks` (or :func:`map_blocks`)
    for its rows. Attributes used by :func:`hotspots.ingest.common.reconcile`:
    ``file``, ``path``, ``rows_read``, ``counts``, ``n_quarantined``,
    ``warnings`` and ``info`` (complete once every block has been read).
    """

    def __init__(self, path: Path, name: str, block_bytes: int):
        self.path = path
        self.file = name
        self.block_bytes = block_bytes
        self.header: list[str] = []
        self.columns: dict[str, int] = {}
        self.ncols = 0
        self.rows_read = 0
        self.counts: dict[str, int] = {}
        self.quarantined: list[pa.Table] = []
        self.warnings: list[str] = []
        self.info: dict = {}
        self.blank_cols = np.zeros(0, np.int64)
        self._late: list[tuple[np.ndarray, str, str, np.ndarray]] = []
        self._lock = threading.Lock()
        self._state = FileReadState(path)
        self._gen: Generator[RecordBlock, None, None] | None = None
        self._first: _Records | None = None
        self._args: tuple | None = None
        self._recoded = self._blank = 0

    @property
    def n_quarantined(self) -> int:
        """Rows quarantined so far."""
        return sum(self.counts.values())

    @property
    def redacting(self) -> bool:
        """Whether some columns are blanked in the quarantine's ``raw``."""
        return len(self.blank_cols) > 0

    def _start(self) -> RecordBlock:
        p = self.path
        if p.is_dir():
            raise InputFileError(str(p), "is a folder, not a file", "name the CSV file itself")
        if not p.exists():
            raise InputFileError(str(p), "no such file", "check the path in the config or command")
        try:
            with open(p, "rb"):
                pass
        except OSError as exc:
            raise InputFileError(str(p), f"cannot be opened ({exc.strerror})", "check the file's permissions") from None
        self._gen = iter_record_blocks(p, self._state, block_bytes=self.block_bytes)
        rb = next(self._gen, None)
        if rb is None or not len(rb.starts) or not bytes(rb.buf[rb.starts[0] : rb.ends[0]]).strip(b" \t"):
            if self._state.truncated:
                raise InputFileError(
                    str(p), f"{self._state.truncated} before the header", "re-send or re-download the file", line=1
                )
            if rb is not None and bytes(rb.buf).strip(b" \t\r\n"):
                raise InputFileError(
                    str(p), "the first line is blank, not the header", "delete the lines before the header row", line=1
                )
            raise InputFileError(
                str(p), "file is empty (no header line)", "re-export the file with its header row", line=1
            )
        return rb

    def _open(self, columns, required, header_fix, redact, redact_unmapped) -> None:
        p = self.path
        self._args = (columns, required, header_fix, redact, redact_unmapped)
        self._state = FileReadState(p)
        rb = self._start()
        buf, s, e = rb.buf, int(rb.starts[0]), int(rb.ends[0])
        if k._max_byte(buf[s:e]) >= 0x80 and len(k._utf8_invalid_lines(buf, rb.starts[:1], rb.ends[:1])):
            head = np.frombuffer(bytearray(bytes(buf[s:e]).decode("cp1252", "replace").encode("utf-8")), np.uint8)
            self.header = _parse_header(p, head, 0, len(head))
        else:
            self.header = _parse_header(p, buf, s, e)
        self.warnings.extend(w for w in _duplicates(p, self.header, columns) if w not in self.warnings)
        self.columns = _match_header(p, self.header, columns, required, header_fix)
        self.ncols = len(self.header)
        blank = {self.columns[c] for c in redact if c in self.columns}
        if redact_unmapped:
            blank |= set(range(self.ncols)) - set(self.columns.values())
        self.blank_cols = np.array(sorted(blank), np.int64)
        off = int(rb.starts[1]) if len(rb.starts) > 1 else len(buf)
        self._first = _Records(
            buf[off:], rb.starts[1:] - off, rb.ends[1:] - off, rb.line[1:], rb.is_last, rb.partial_tail, rb.has_nul
        )

    def close(self) -> None:
        """Stop reading (the background reader thread ends); :meth:`blocks` opens the file again."""
        if self._gen is not None:
            self._gen.close()
        self._gen = None
        self._first = None

    def _raw_blocks(self) -> Iterator[_Records]:
        """The data records, a block at a time, in file order."""
        if self._gen is None and self._args is not None:  # closed after the header check: open again
            self._open(*self._args)
        r, self._first = self._first, None
        gen = self._gen  # set with _first by _open
        if r is None or gen is None:
            return
        yield r
        while not r.is_last:
            rb = next(gen)
            r = _Records(rb.buf, rb.starts, rb.ends, rb.line, rb.is_last, rb.partial_tail, rb.has_nul)
            yield r
        for _ in gen:  # run the reader to its end: the file's hash is taken there
            pass

    def blocks(self) -> Iterator[TableRead]:
        """The file's rows, a block at a time (validated in this thread)."""
        for r in self._raw_blocks():
            yield self.decode(r)
        self.finish()

    def decode(self, raw: _Records) -> TableRead:
        """One block of records as a :class:`TableRead`, record-level problems already quarantined."""
        r, recoded = _utf8(raw)
        fstart, fend, fesc, nfields, status = _split_fields_cm(r.buf, r.starts, r.ends, self.ncols)
        is_row = status != k.LINE_BLANK
        if r.partial_tail and len(is_row):
            is_row[-1] = True  # a partial record is a (damaged) row even if blank so far
        n_rows = int(np.count_nonzero(is_row))
        with self._lock:
            self._recoded += recoded
            self._blank += len(is_row) - n_rows
            self.rows_read += n_rows
        sel = slice(None) if n_rows == len(is_row) else is_row
        t = TableRead(
            ledger=self,
            buf=r.buf,
            line=r.line[sel],
            fstart=_rows_of(fstart, sel),
            fend=_rows_of(fend, sel),
            fesc=_rows_of(fesc, sel),
            rstart=r.starts[sel],
            rend=r.ends[sel],
            aligned=(nfields[sel] == self.ncols) & (status[sel] == k.LINE_OK),
        )
        cut = np.zeros(n_rows, bool)
        if r.partial_tail and n_rows:
            cut[-1] = True
            t.aligned[-1] = False
        nul = k._records_with_byte(r.buf, t.rstart, t.rend, k.NUL) if r.has_nul else np.zeros(n_rows, bool)
        if cut.any() or r.has_nul or not t.aligned.all():
            quote = status[sel] == k.LINE_BAD_QUOTE
            wrong = (nfields[sel] != self.ncols) & ~quote
            detail = np.full(n_rows, "", dtype=object)
            detail[wrong] = [f"{n} fields, header has {self.ncols}" for n in nfields[sel][wrong]]
            detail[cut] = "the data stops part-way through this row"
            t.reject(
                [
                    (cut, "truncated_file", LINE_REASONS["truncated_file"], detail),
                    (nul, "nul_bytes", _FIX_NUL, None),
                    (quote, "malformed_quotes", LINE_REASONS["malformed_quotes"], detail),
                    (wrong, "wrong_field_count", LINE_REASONS["wrong_field_count"], detail),
                ]
            )
        return t

    def finish(self) -> None:
        """Close the reading: hashes, sizes, encodings and warnings into ``info``."""
        st = self._state
        self.info = {
            "bytes": st.bytes_on_disk,
            "sha256": st.sha256,
            "gzip": st.compressed,
            "gzip_layers": st.gzip_layers,
            "truncated": st.truncated or False,
            "damaged_after_line": st.damaged_after_line,
            "encoding": ("utf-8-sig" if st.bom else "utf-8")
            + (f" + {self._recoded} cp1252 line(s)" if self._recoded else ""),
            "line_endings": st.line_endings,
            "recoded_lines": self._recoded,
            "blank_lines": self._blank,
            "lines": st.lines,
        }
        for w in _file_notes(st, self.rows_read):
            if w not in self.warnings:
                self.warnings.append(w)

    def quarantine_lines(self, lines: np.ndarray, reason: str, fix: str, detail=None) -> None:
        """Quarantine rows by file line after their block is gone (their records are re-read at assembly)."""
        lines = np.asarray(lines, np.int64)
        if len(lines) == 0:
            return
        if detail is None or isinstance(detail, str):
            detail = np.full(len(lines), detail or "", dtype=object)
        with self._lock:
            self._late.append((lines, reason, fix, np.asarray(detail, dtype=object)))
            self.counts[reason] = self.counts.get(reason, 0) + len(lines)

    def _resolve_late(self) -> None:
        """Fetch the records of rows quarantined by line, in one more pass over the file."""
        if not self._late:
            return
        lines = np.concatenate([x[0] for x in self._late])
        order = np.argsort(lines, kind="stable")
        lines = lines[order]
        reasons = np.concatenate([np.full(len(x[0]), x[1], dtype=object) for x in self._late])[order]
        fixes = np.concatenate([np.full(len(x[0]), x[2], dtype=object) for x in self._late])[order]
        details = np.concatenate([x[3] for x in self._late])[order]
        raw = np.full(len(lines), "", dtype=object)
        again = TableFile(self.path, self.file, self.block_bytes)
        again._open({}, [], "", [], False)
        for block in again._raw_blocks():
            r, _ = _utf8(block)
            pos = np.searchsorted(lines, r.line)
            hit = (pos < len(lines)) & (lines[np.minimum(pos, len(lines) - 1)] == r.line)
            if not hit.any():
                continue
            i = np.flatnonzero(hit)
            fs, fe, _, nf, st = _split_fields_cm(r.buf, r.starts[i], r.ends[i], self.ncols)
            misaligned = (nf != self.ncols) | (st != k.LINE_OK)
            text = _raw_strings(r.buf, r.starts[i], r.ends[i], fs, fe, self.blank_cols, misaligned)
            raw[pos[i]] = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
        again.close()
        self.quarantined.append(
            pa.table(
                {
                    "file": pa.array(np.full(len(lines), self.file, dtype=object), pa.string()),
                    "line": pa.array(lines, pa.int64()),
                    "reason": pa.array(reasons, pa.string()),
                    "detail": pa.array(details, pa.string()),
                    "fix": pa.array(fixes, pa.string()),
                    "raw": pa.array(raw, pa.string()),
                },
                schema=QUARANTINE_SCHEMA,
            )
        )
        self._late = []


def _raw_strings(buf, s, e, fs, fe, blank_cols, misaligned) -> pa.Array:
    """Records as read, with ``blank_cols`` emptied (misaligned records withheld) when there are any.

    ``fs``/``fe`` are field spans of shape (n_fields, n); NUL bytes are shown as U+FFFD.
    """
    n = len(s)
    if len(blank_cols):
        offsets, data = _gather_redacted(buf, s, e, fs, fe, blank_cols, np.asarray(misaligned, np.bool_))
    else:
        offsets, data = k._gather(buf, s, e, np.zeros(n, np.uint8), False)
    out = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    if (data == 0).any():  # NUL bytes break most CSV readers downstream
        out = pc.replace_substring(out, "\x00", "\ufffd")
    return out


@dataclass
class TableRead:
    """One block of a CSV file's rows, split into fields (byte spans into ``buf``).

    Attributes
    ----------
    ledger : TableFile
        The file this block belongs to (counts and quarantine go there).
    buf : ndarray of uint8
        The decoded block (UTF-8; lines that were Windows-1252 re-encoded).
    line : ndarray of int64, shape (n,)
        1-based file line on which each row still in play starts.
    fstart, fend, fesc : ndarray, shape (n_fields, n)
        Byte span of each field and whether it holds doubled quotes (one
        contiguous row per field, so a column's spans are a view).
    rstart, rend : ndarray of int64, shape (n,)
        Byte span of each row's whole record, for the quarantine's ``raw``.
    aligned : ndarray of bool, shape (n,)
        Whether the row's fields line up with the header.
    """

    ledger: TableFile
    buf: np.ndarray
    line: np.ndarray
    fstart: np.ndarray
    fend: np.ndarray
    fesc: np.ndarray
    rstart: np.ndarray
    rend: np.ndarray
    aligned: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    # the file's ledger, as attributes of the block (reconcile and readers use these)
    file = property(lambda self: self.ledger.file)
    path = property(lambda self: self.ledger.path)
    header = property(lambda self: self.ledger.header)
    columns = property(lambda self: self.ledger.columns)
    info = property(lambda self: self.ledger.info)
    rows_read = property(lambda self: self.ledger.rows_read)
    counts = property(lambda self: self.ledger.counts)
    warnings = property(lambda self: self.ledger.warnings)
    n_quarantined = property(lambda self: self.ledger.n_quarantined)

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
        return self.fstart[j], self.fend[j]

    def strings(self, col: str) -> pa.Array:
        """Column ``col`` as an Arrow string array (stripped; empty string when absent)."""
        s, e = self.spans(col)
        esc = self.fesc[self.columns[col]] if col in self.columns else np.zeros(len(s), np.uint8)
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
        """Dictionary-encode column ``col``: an int32 code per row and the values (stripped).

        Spans are encoded as written, so two codes may carry the same stripped
        value (``"Y"`` and ``" Y"``): map values, never compare codes.
        """
        s, e = self.spans(col)
        if len(s) == 0:
            return np.zeros(0, np.int32), []
        codes, first = k._dict_encode(self.buf, s, e)
        esc = self.fesc[self.columns[col], first] if col in self.columns else np.zeros(len(first), np.uint8)
        values = [bytes(self.buf[s[i] : e[i]]).decode("utf-8", "replace").strip(" \t") for i in first]
        values = [v.replace('""', '"') if q else v for v, q in zip(values, esc, strict=True)]
        return codes, values

    def dictionary(self, col: str) -> pa.DictionaryArray:
        """Column ``col`` dictionary-encoded (cheap for low-cardinality text such as codes and bands)."""
        codes, values = self.codes(col)
        if not len(values):
            return pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(self), np.int32)), pa.array([""]))
        voc = Vocabulary()
        return dictionary_array(voc.encode(codes, values), voc.values)

    def raw(self, rows: np.ndarray) -> pa.Array:
        """The records of ``rows`` as read, with columns dropped for privacy blanked."""
        rows = np.asarray(rows, dtype=np.int64)
        return _raw_strings(
            self.buf,
            self.rstart[rows],
            self.rend[rows],
            self.fstart[:, rows],
            self.fend[:, rows],
            self.ledger.blank_cols,
            ~self.aligned[rows] if len(self.aligned) else np.zeros(len(rows), bool),
        )

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
        which: np.ndarray = np.full(n, -1, np.int8 if len(problems) < 127 else np.int64)
        free = None
        for i, (mask, *_rest) in enumerate(problems):
            m = np.asarray(mask, bool)
            if not m.any():
                continue
            if free is None:
                which[m] = i
                free = ~m
            else:
                which[m & free] = i
                free &= ~m
        if free is None:  # nothing to quarantine
            return np.ones(n, bool)
        tables: list[pa.Table] = []
        counts: dict[str, int] = {}
        redacting = self.ledger.redacting
        for i, (_mask, reason, fix, detail) in enumerate(problems):
            rows = np.flatnonzero(which == i)
            if len(rows) == 0:
                continue
            if detail is None or isinstance(detail, str):
                det = np.full(len(rows), detail or "", dtype=object)
            else:
                det = np.asarray(detail, dtype=object)[rows]
            if redacting and len(self.aligned):
                off = ~self.aligned[rows]
                if off.any():
                    det = det.copy()
                    det[off] = [d + WITHHELD for d in det[off]]
            n_rows = len(rows)
            tables.append(
                pa.table(
                    {
                        "file": pa.array(np.full(n_rows, self.file, dtype=object), pa.string()),
                        "line": pa.array(self.line[rows], pa.int64()),
                        "reason": pa.array(np.full(n_rows, reason, dtype=object), pa.string()),
                        "detail": pa.array(det, pa.string()),
                        "fix": pa.array(np.full(n_rows, fix, dtype=object), pa.string()),
                        "raw": self.raw(rows),
                    },
                    schema=QUARANTINE_SCHEMA,
                )
            )
            counts[reason] = counts.get(reason, 0) + n_rows
        if tables:
            led = self.ledger
            with led._lock:
                led.quarantined.extend(tables)
                for r, c in counts.items():
                    led.counts[r] = led.counts.get(r, 0) + c
        keep = which < 0
        if not keep.all():
            for name in ("line", "rstart", "rend", "aligned"):
                arr = getattr(self, name)
                if len(arr) == n:
                    setattr(self, name, arr[keep])
            for name in ("fstart", "fend", "fesc"):
                setattr(self, name, _rows_of(getattr(self, name), keep))
        return keep


def open_table(
    path: str | Path,
    *,
    columns: Mapping[str, str],
    required: Sequence[str],
    header_fix: str,
    display_name: str | None = None,
    redact: Collection[str] = (),
    redact_unmapped: bool = False,
    block_bytes: int = BLOCK_BYTES,
) -> TableFile:
    r"""Open a CSV for reading in blocks: its header is read, checked and matched now.

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
    redact : collection of str
        Logical columns the reader drops for privacy: blanked in the quarantine's ``raw``.
    redact_unmapped : bool, default False
        Blank every column the reader does not map too (sources holding personal data).
    block_bytes : int, default 4 MiB
        Approximate size of a block of text.

    Returns
    -------
    TableFile

    Raises
    ------
    InputFileError
        Missing file, empty file, binary or UTF-16 file, a header with an
        unclosed quote, a column named twice, or a header without the
        required columns (naming them, with the closest header found).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "cams.csv"
    >>> _ = p.write_text("camera_id,lon,lat\n1,-2.28,53.46\n2,-2.29\n")
    >>> f = open_table(p, columns={"id": "camera_id", "lng": "lon", "lat": "lat"},
    ...                required=["lng", "lat"], header_fix="name the lon/lat columns")
    >>> [len(t) for t in f.blocks()], f.rows_read, f.counts
    ([1], 2, {'wrong_field_count': 1})
    """
    path = Path(path)
    tf = TableFile(path, display_name or path.name, block_bytes)
    tf._open(columns, required, header_fix, redact, redact_unmapped)
    return tf


def open_tables(paths: Sequence[str | Path], **kwargs) -> list[TableFile]:
    r"""Open several CSVs with :func:`open_table`: every header is checked before any rows are read.

    Each file is closed again after its header (no reader thread or read-ahead
    blocks wait for their turn) and opened anew when its blocks are read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.csv").write_text("id,x\n1,2\n"); _ = (d / "b.csv").write_text("ident,x\n1,2\n")
    >>> try:
    ...     open_tables([d / "a.csv", d / "b.csv"], columns={"id": "id"}, required=["id"], header_fix="-")
    ... except InputFileError as e:
    ...     print(Path(e.file).name, e.problem)
    b.csv header lacks column(s) 'id' (id)
    """
    tables = []
    for p in paths:
        tf = open_table(p, **kwargs)
        tf.close()
        tables.append(tf)
    return tables


def read_table(
    path: str | Path,
    *,
    columns: Mapping[str, str],
    required: Sequence[str],
    header_fix: str,
    display_name: str | None = None,
    redact: Collection[str] = (),
    redact_unmapped: bool = False,
) -> TableRead:
    r"""Read a whole (small) CSV as one block; see :func:`open_table` for the parameters.

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
    tf = open_table(
        path,
        columns=columns,
        required=required,
        header_fix=header_fix,
        display_name=display_name,
        redact=redact,
        redact_unmapped=redact_unmapped,
    )
    parts = list(tf._raw_blocks())
    if len(parts) == 1:
        whole = parts[0]
    else:  # a small file in several blocks: one buffer, spans shifted
        shift = np.cumsum([0] + [len(r.buf) for r in parts[:-1]])
        whole = _Records(
            np.concatenate([r.buf for r in parts]),
            np.concatenate([r.starts + o for r, o in zip(parts, shift, strict=True)]),
            np.concatenate([r.ends + o for r, o in zip(parts, shift, strict=True)]),
            np.concatenate([r.line for r in parts]),
            True,
            parts[-1].partial_tail,
            any(r.has_nul for r in parts),
        )
    t = tf.decode(whole)
    tf.finish()
    return t


def read_header(path: str | Path) -> list[str]:
    r"""The header of a CSV, as written (checked as :func:`open_table` checks it).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.csv"
    >>> _ = p.write_text('a,"b,c"\n1,2\n')
    >>> read_header(p)
    ['a', 'b,c']
    """
    tf = open_table(path, columns={}, required=[], header_fix="")
    tf.close()
    return tf.header


def map_blocks(tf: TableFile, fn: Callable[[TableRead], T], *, workers: int = 2) -> Iterator[T]:
    r"""``fn`` over the file's blocks on ``workers`` threads; results in file order.

    The numba kernels and pyproj release the GIL, so blocks are decoded and
    validated in parallel while the next ones are read (and gunzipped) on the
    reader's own thread. At most ``2 * workers`` blocks are in flight.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "n.csv"
    >>> _ = p.write_text("n\n" + "".join(f"{i}\n" for i in range(1000)))
    >>> f = open_table(p, columns={"n": "n"}, required=["n"], header_fix="-", block_bytes=512)
    >>> sizes = list(map_blocks(f, len))
    >>> len(sizes) > 1, sum(sizes), f.rows_read
    (True, 1000, 1000)
    """
    if workers <= 1:
        for t in tf.blocks():
            yield fn(t)
        return
    def decode_then_fn(r: _Records) -> T:
        return fn(tf.decode(r))

    with ThreadPoolExecutor(workers) as pool:
        pending = []
        for r in tf._raw_blocks():
            pending.append(pool.submit(decode_then_fn, r))
            while len(pending) > 2 * workers or (pending and pending[0].done()):
                yield pending.pop(0).result()
        while pending:
            yield pending.pop(0).result()
    tf.finish()


def assemble_quarantine(tables: Sequence[TableFile | TableRead]) -> pa.Table:
    """All quarantined rows of ``tables``, in file then line order (late quarantines fetched now)."""
    out = []
    seen = set()
    for t in tables:
        led = t.ledger if isinstance(t, TableRead) else t
        if id(led) in seen:
            continue
        seen.add(id(led))
        led._resolve_late()
        if led.quarantined:
            q = pa.concat_tables(led.quarantined)
            out.append(q.take(pa.array(np.argsort(q["line"].to_numpy(), kind="stable"))))
    return pa.concat_tables(out) if out else QUARANTINE_SCHEMA.empty_table()


def month_coverage(months: np.ndarray) -> dict:
    """First, last and missing months of period ordinals (months since 1970-01).

    Examples
    --------
    >>> month_coverage(np.array([648, 650]))["missing_months"]
    ['2024-02']
    """
    if len(months) == 0:
        return {"first_month": None, "last_month": None, "months": 0, "missing_months": []}
    lo, hi = int(months.min()), int(months.max())
    if hi - lo < 1_000_000:  # one counting pass instead of a sort
        u = lo + np.flatnonzero(np.bincount(months - lo, minlength=hi - lo + 1))
    else:
        u = np.unique(months)
    full = np.arange(u[0], u[-1] + 1)
    lab = [f"{1970 + m // 12:04d}-{m % 12 + 1:02d}" for m in (u[0], u[-1])]
    missing = [f"{1970 + m // 12:04d}-{m % 12 + 1:02d}" for m in np.setdiff1d(full, u)]
    return {"first_month": lab[0], "last_month": lab[1], "months": int(len(u)), "missing_months": missing}
