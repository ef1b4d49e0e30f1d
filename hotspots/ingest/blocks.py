"""Read a CSV or gzipped CSV as blocks of whole records, hashing the file as it goes.

This is the byte layer every reader shares. It guarantees:

- **Blocks end at record boundaries** (see :mod:`hotspots.ingest._csvscan`
  for what a record is: one physical line, or several when a properly quoted
  field holds line breaks). LF, CR LF and a lone CR (old Mac exports) all end
  lines. Splitting a block with ``_csvscan._line_spans`` gives exactly the
  records the whole file has, whatever the block size.
- **Gzip, damaged or not.** gzip is detected from the content. Multi-member
  files are read through. A gzip file inside a gzip file (a ``.csv.gz.gz``
  renamed, or a portal that compresses again) is decompressed too, up to
  :data:`MAX_GZIP_LAYERS` layers. A cut-short or corrupt stream keeps every
  byte that decompresses before the damage (a damaged piece is re-fed in
  smaller and smaller steps down to single bytes), records the damage in
  :attr:`FileReadState.truncated` and the last whole line before it in
  :attr:`FileReadState.damaged_after_line`; reading never raises for it.
- **Text only.** The UTF-8 byte-order mark is removed (``state.bom``). UTF-16
  text, with or without a byte-order mark (recognised by its pattern of NUL
  bytes), is refused with :class:`~hotspots.errors.InputFileError` and the fix,
  rather than guessed at: no police.uk or force export is UTF-16 unless a
  spreadsheet re-saved it, and re-saving as CSV UTF-8 is the one reliable fix.
- The SHA-256 of the file as stored on disk (``state.sha256``) covers every
  byte, including any that follow a damaged gzip stream.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hotspots.errors import InputFileError
from hotspots.ingest import _csvscan as k

__all__ = [
    "MAX_GZIP_LAYERS",
    "MAX_RECORD_BYTES",
    "FileReadState",
    "RecordBlock",
    "check_text_head",
    "has_utf8_bom",
    "iter_line_blocks",
    "iter_record_blocks",
    "read_head",
]

_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"
_RAW_CHUNK = 1 << 20  # 1 MiB of compressed bytes per read
#: gzip layers undone at most (a gzip inside a gzip inside a gzip ...).
MAX_GZIP_LAYERS = 3
#: Longest record read: longer is binary data or a runaway quote, refused rather than buffered without end.
MAX_RECORD_BYTES = 1 << 26
_SNIFF = 4096  # bytes of decoded text examined for UTF-16


@dataclass
class FileReadState:
    """What was learned about a file while reading it.

    Attributes
    ----------
    truncated : str or None
        Why the data stops early (gzip cut short or corrupt), or None.
    damaged_after_line : int or None
        With ``truncated``: the last physical line read whole (the header is
        line 1); rows after it are missing.
    gzip_layers : int
        gzip layers undone (0: plain text; 2: a gzip inside a gzip).
    crlf_lines, lf_lines, cr_lines : int
        Records ending in CR LF, LF and a lone CR.
    lines : int
        Physical lines read (the header included).
    """

    path: Path
    compressed: bool = False
    bytes_on_disk: int = 0
    sha256: str = ""
    bom: bool = False
    truncated: str | None = None
    damaged_after_line: int | None = None
    gzip_layers: int = 0
    crlf_lines: int = 0
    lf_lines: int = 0
    cr_lines: int = 0
    lines: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def line_endings(self) -> str:
        """``"LF"``, ``"CRLF"``, ``"CR"``, ``"mixed"`` or ``"none"``."""
        kinds = [name for name, n in (("CRLF", self.crlf_lines), ("LF", self.lf_lines), ("CR", self.cr_lines)) if n]
        if len(kinds) > 1:
            return "mixed"
        return kinds[0] if kinds else "none"


@dataclass
class RecordBlock:
    """One block of whole records, split on the reading thread.

    Attributes
    ----------
    buf : uint8 array
        The bytes (a view; the UTF-8 BOM is already removed).
    starts, ends : int64 arrays
        Byte span of each record in ``buf``, without its line break.
    line : int64 array
        Physical line number (1-based, in the file) each record starts on.
    lines : int
        Physical lines in ``buf``.
    is_last : bool
        The last block of the file.
    partial_tail : bool
        The last record was cut by damage (the file is truncated and the record
        has no line break): it must not be accepted.
    has_nul : bool
        Some record holds a NUL byte.
    """

    buf: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    line: np.ndarray
    lines: int
    is_last: bool
    partial_tail: bool = False
    has_nul: bool = False


def check_text_head(path: Path, head: bytes) -> bool:
    r"""Refuse UTF-16 text (with or without a BOM); return whether ``head`` starts with the UTF-8 BOM.

    UTF-16 without a BOM is recognised by its NUL bytes: ASCII text in
    UTF-16LE has a NUL in (nearly) every odd byte and none in the even ones.

    Raises
    ------
    InputFileError
        If ``head`` (the first decoded bytes of the file) is UTF-16.

    Examples
    --------
    >>> check_text_head(Path("a.csv"), b"\xef\xbb\xbfCrime ID")
    True
    >>> try:
    ...     check_text_head(Path("a.csv"), "Crime ID,Month".encode("utf-16-le"))
    ... except InputFileError as e:
    ...     print(e.problem)
    file is UTF-16LE text without a byte-order mark, not a CSV
    """
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputFileError(
            str(path),
            "file is UTF-16 text (Excel 'Unicode Text'), not a CSV",
            "open it in a spreadsheet and save as 'CSV UTF-8 (comma delimited)'",
        )
    sample = np.frombuffer(head[: _SNIFF - _SNIFF % 2][: len(head) - len(head) % 2], dtype=np.uint8)
    if len(sample) >= 8:
        even = np.count_nonzero(sample[0::2] == 0) / (len(sample) // 2)
        odd = np.count_nonzero(sample[1::2] == 0) / (len(sample) // 2)
        kind = "UTF-16LE" if odd >= 0.7 and even <= 0.1 else "UTF-16BE" if even >= 0.7 and odd <= 0.1 else None
        if kind:
            raise InputFileError(
                str(path),
                f"file is {kind} text without a byte-order mark, not a CSV",
                "open it in a spreadsheet and save as 'CSV UTF-8 (comma delimited)'",
            )
    return head[:3] == _UTF8_BOM


def has_utf8_bom(path: Path, head: bytes) -> bool:
    """Whether decoded text starts with the UTF-8 BOM; refuses UTF-16 text with the fix.

    Same as :func:`check_text_head` (kept for callers of the old name).

    Raises
    ------
    InputFileError
        If ``head`` is UTF-16 (a byte-order mark, or the NUL pattern when
        ``head`` is long enough to show it).
    """
    return check_text_head(path, head)


# ---------------------------------------------------------------- byte sources


class _RawFile:
    """The file's bytes as stored; hashes and counts everything read."""

    def __init__(self, path: Path, state: FileReadState):
        self.state = state
        self.fh = open(path, "rb", buffering=0)  # noqa: SIM115 (closed by close())
        self.digest = hashlib.sha256()

    def readinto(self, view: memoryview) -> int:
        n = self.fh.readinto(view) or 0
        if n:
            self.digest.update(view[:n])  # releases the GIL for large buffers
            self.state.bytes_on_disk += n
        return n

    def read(self, n: int) -> bytes:
        raw = self.fh.read(n) or b""
        if raw:
            self.digest.update(raw)
            self.state.bytes_on_disk += len(raw)
        return raw

    def drain(self) -> None:
        """Hash the rest of the file (after damage, or after the gzip stream)."""
        while self.read(_RAW_CHUNK):
            pass

    def close(self) -> None:
        self.fh.close()
        self.state.sha256 = self.digest.hexdigest()


class _Prefixed:
    """A source with some bytes already read put back in front."""

    def __init__(self, head: bytes, inner):
        self.head = head
        self.inner = inner

    def read(self, n: int) -> bytes:
        if self.head:
            out, self.head = self.head[:n], self.head[n:]
            return out
        return self.inner.read(n)

    def readinto(self, view: memoryview) -> int:
        if not self.head:  # plain text: straight into the block, no copy
            return self.inner.readinto(view)
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)


class _Gunzip:
    """Decompress a gzip stream from ``inner``, keeping every byte before any damage."""

    def __init__(self, inner, state: FileReadState, layer: int):
        self.inner = inner
        self.state = state
        self.layer = layer
        self.d = zlib.decompressobj(wbits=31)
        self.pending = b""  # compressed bytes not yet given to the decompressor
        self.extra = b""  # decompressed bytes beyond what the last read asked for
        self.done = False
        self.members = 0

    def _damaged(self, problem: str) -> None:
        if self.state.truncated is None:
            where = f" (gzip layer {self.layer})" if self.layer > 1 else ""
            self.state.truncated = problem + where
        self.done = True

    def read(self, n: int) -> bytes:
        """Up to ``n`` decompressed bytes; ``b""`` only at the end (or after damage)."""
        if self.extra:
            out, self.extra = self.extra[:n], self.extra[n:]
            return out
        while not self.done:
            if not self.pending:
                self.pending = self.inner.read(_RAW_CHUNK)
                if not self.pending:
                    return self._keep(self._at_end(), n)
            saved = self.d.copy()
            data = self.pending
            try:
                out = self.d.decompress(data, n)
            except zlib.error as exc:
                # the output of this call is lost with the exception: replay it in small steps
                out = _salvage(saved, data)
                why = str(exc).split(": ", 1)[-1]  # "Error -3 while decompressing data: invalid ..." -> "invalid ..."
                self._damaged(f"gzip data is damaged (zlib: {why})")
                return self._keep(out, n)
            self.pending = self.d.unconsumed_tail
            if self.d.eof:
                self._next_member()
            if out:
                return out
        return b""

    def _keep(self, out: bytes, n: int) -> bytes:
        """Return ``out[:n]``, keeping the rest for the next read."""
        self.extra = out[n:]
        return out[:n]

    def _at_end(self) -> bytes:
        """The compressed input ran out: what zlib still holds, and whether the stream was complete."""
        out = b""
        if not self.d.eof:
            try:
                out = self.d.flush()
            except zlib.error:
                out = b""
            self._damaged("gzip stream ends before its end marker (the download was cut short)")
        self.done = True
        return out

    def _next_member(self) -> None:
        rest = self.d.unused_data + self.pending
        self.pending = b""
        if not rest:
            rest = self.inner.read(_RAW_CHUNK)
        if rest[:2] == _GZIP_MAGIC:  # multi-member gzip: start the next member
            self.d = zlib.decompressobj(wbits=31)
            self.pending = rest
            self.members += 1
        else:  # the stream is complete; anything after it is not data (hashed by the raw file)
            if rest.strip(b"\x00"):
                self.state.notes.append(f"{len(rest)}+ bytes after the gzip stream ignored")
            self.done = True

    def readinto(self, view: memoryview) -> int:
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)


def _salvage(saved, data: bytes) -> bytes:
    """Everything ``saved`` decompresses from ``data`` before the byte where it fails.

    The output before the failing byte is smaller than the ``max_length`` of
    the failed call (otherwise that call would have returned), so this is
    bounded. Steps shrink 4096 -> 256 -> 16 -> 1 bytes near the damage.
    """
    d = saved
    out: list[bytes] = []
    pos = 0
    step = 4096
    while pos < len(data):
        piece = data[pos : pos + step]
        trial = d.copy()
        try:
            got = trial.decompress(piece)
        except zlib.error:
            if step == 1:
                break
            step = max(1, step // 16)
            continue
        out.append(got)
        d = trial
        pos += len(piece)
        if d.eof:
            break
    return b"".join(out)


def _open_source(path: Path, state: FileReadState):
    """The decoded byte source of ``path`` (gzip layers undone), and the raw file under it."""
    raw = _RawFile(path, state)
    try:
        src: _RawFile | _Gunzip = raw
        head = raw.read(2)
        while head[:2] == _GZIP_MAGIC:
            if state.gzip_layers == MAX_GZIP_LAYERS:
                raise InputFileError(
                    str(path),
                    f"gzip inside gzip more than {MAX_GZIP_LAYERS} layers deep",
                    "decompress the file (gunzip) until it is a .csv and give that",
                )
            state.gzip_layers += 1
            state.compressed = True
            src = _Gunzip(_Prefixed(head, src), state, state.gzip_layers)
            head = b""
            while len(head) < 2:  # peek at the decompressed start for another layer
                got = src.read(2 - len(head))
                if not got:
                    break
                head += got
        return _Prefixed(head, src), raw
    except BaseException:
        raw.close()
        raise


def read_head(path: str | Path, nbytes: int = 1 << 16) -> tuple[bytes, FileReadState]:
    r"""The first ``nbytes`` of the file's text (gzip undone, damage recovered) without reading it all.

    Returns
    -------
    head : bytes
        Decoded bytes, the BOM (if any) still in place.
    state : FileReadState
        ``truncated`` is set when the damage falls within ``head``; hashes and
        sizes are partial.

    Examples
    --------
    >>> import gzip, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv.gz"
    >>> _ = p.write_bytes(gzip.compress(gzip.compress(b"a,b\n1,2\n")))
    >>> head, st = read_head(p)
    >>> head, st.gzip_layers, st.truncated
    (b'a,b\n1,2\n', 2, None)
    """
    state = FileReadState(Path(path))
    src, raw = _open_source(Path(path), state)
    try:
        parts = []
        got = 0
        while got < nbytes:
            b = src.read(nbytes - got)
            if not b:
                break
            parts.append(b)
            got += len(b)
        return b"".join(parts), state
    finally:
        raw.close()


# ---------------------------------------------------------------- blocks


def iter_record_blocks(
    path: str | Path,
    state: FileReadState,
    *,
    block_bytes: int = 1 << 22,
    prefetch: int = 3,
    max_record_lines: int = k.MAX_RECORD_LINES,
) -> Generator[RecordBlock, None, None]:
    r"""Yield :class:`RecordBlock` s of whole records, split on a background thread.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` or ``.csv.gz`` file (gzip is detected from the content).
    state : FileReadState
        Filled in as the file is read (hash, damage, line endings, size).
    block_bytes : int, default 4 MiB
        Approximate size of a block of decoded text (a block grows to hold a
        record longer than this).
    prefetch : int, default 3
        Blocks read ahead on the background thread (0: read inline).
    max_record_lines : int
        Line breaks a quoted field may hold (see :mod:`hotspots.ingest._csvscan`).

    Raises
    ------
    InputFileError
        If the file is UTF-16 text, gzip nested too deep, or holds a record
        longer than :data:`MAX_RECORD_BYTES`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes(b'id,note\r1,"two\nlines"\r2,x\r')
    >>> st = FileReadState(p)
    >>> [(b.line.tolist(), len(b.starts)) for b in iter_record_blocks(p, st)]
    [([1, 2, 4], 3)]
    >>> st.line_endings, st.lines
    ('CR', 4)
    """
    gen = _record_blocks(Path(path), state, block_bytes, max_record_lines)
    if prefetch <= 0:
        yield from gen
        return
    yield from _prefetched(gen, prefetch)


def iter_line_blocks(
    path: str | Path, state: FileReadState, *, block_bytes: int = 1 << 22, prefetch: int = 3
) -> Iterator[tuple[np.ndarray, bool]]:
    r"""Yield ``(block, is_last)``: blocks of whole records from ``path``.

    Each block ends just after a record's line break (except possibly the
    last), so ``_csvscan._line_spans(block)`` gives exactly the file's records
    in that block, and ``_csvscan._count_lines(block)`` its physical lines
    (add them up for the line number where the next block starts). A line
    break inside a properly quoted field never ends a block. See
    :func:`iter_record_blocks` for blocks already split, with line numbers.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` or ``.csv.gz`` file (gzip is detected from the content).
    state : FileReadState
        Filled in as the file is read (hash, truncation, size).
    block_bytes : int, default 4 MiB
        Approximate size of a block of decoded text.
    prefetch : int, default 3
        Blocks read ahead on the background thread (0: read inline).

    Raises
    ------
    InputFileError
        If the file is UTF-16 encoded, or gzip nested too deep.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes(b'a,b\n1,"x\ny"\n2,z\n')
    >>> [(bytes(b), last) for b, last in iter_line_blocks(p, FileReadState(p), block_bytes=8)]
    [(b'a,b\n', False), (b'1,"x\ny"\n2,z\n', False), (b'', True)]
    """
    for b in iter_record_blocks(path, state, block_bytes=block_bytes, prefetch=prefetch):
        yield b.buf, b.is_last


def _fill(src, block: np.ndarray, filled: int) -> tuple[int, bool]:
    view = block.data  # the array's buffer, written in place
    while filled < len(block):
        n = src.readinto(view[filled:])
        if not n:
            return filled, True
        filled += n
    return filled, False


def _record_blocks(
    path: Path, state: FileReadState, block_bytes: int, max_lines: int
) -> Generator[RecordBlock, None, None]:
    src, raw = _open_source(path, state)
    try:
        carry = np.zeros(0, dtype=np.uint8)
        first = True
        size = block_bytes
        line0 = 1
        while True:
            block = np.empty(len(carry) + size, dtype=np.uint8)
            block[: len(carry)] = carry
            filled, eof = _fill(src, block, len(carry))
            data = block[:filled]
            if first:
                first = False
                state.bom = check_text_head(path, data[:_SNIFF].tobytes())
                if state.bom:
                    data = data[3:]
            s, e, fl, consumed, lines, terms, nul = k._record_spans(data, eof, max_lines)
            if not eof and consumed == 0:  # one record longer than the block: read more first
                if len(data) > MAX_RECORD_BYTES:
                    raise InputFileError(
                        str(path),
                        f"line {line0:,} runs for more than {MAX_RECORD_BYTES >> 20} MiB without ending: binary data "
                        "(a zip bomb, a disk image?) or a quote that never closes",
                        "check that the file is the CSV export and re-download or re-export it",
                        line=line0,
                    )
                carry = data
                size *= 2
                continue
            size = block_bytes
            buf = data[:consumed]
            carry = data[consumed:]
            state.lf_lines += int(terms[k.TERM_LF])
            state.crlf_lines += int(terms[k.TERM_CRLF])
            state.cr_lines += int(terms[k.TERM_CR])
            state.lines += lines
            partial = bool(eof and state.truncated is not None and len(e) and e[-1] == len(buf))
            if eof and state.truncated is not None:
                state.damaged_after_line = state.lines - (1 if partial else 0)
            if eof:  # hash and close before the last block is handed over: callers may stop at is_last
                raw.drain()  # the hash covers bytes after a damaged or finished gzip stream too
                raw.close()
            yield RecordBlock(buf, s, e, fl + line0, lines, eof, partial, bool(nul))
            line0 += lines
            if eof:
                return
    finally:
        raw.fh.close()  # state.sha256 stays "" unless the whole file was hashed


def _prefetched(gen: Generator, depth: int) -> Iterator:
    """Run a generator on a background thread, ``depth`` items ahead; errors re-raise here."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def work() -> None:
        try:
            for item in gen:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("done", done))
        except BaseException as exc:  # handed to the consumer
            q.put(("error", exc))
        finally:
            gen.close()

    t = threading.Thread(target=work, name="safer-spaces-reader", daemon=True)
    t.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "item":
                yield item
            elif kind == "error":
                raise item
            else:
                return
    finally:
        stop.set()
        t.join(timeout=5)
