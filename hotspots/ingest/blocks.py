"""Read a CSV or gzipped CSV as blocks of whole lines, hashing the file as it goes.

A block is a ``uint8`` numpy array ending at a line break (except possibly the
last). Decompression is incremental with :mod:`zlib`, so a truncated ``.gz``
keeps every byte that could be recovered and reports the truncation instead
of losing the block being decoded.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numba as nb
import numpy as np

from hotspots.errors import InputFileError

__all__ = ["FileReadState", "has_utf8_bom", "iter_line_blocks"]

_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"
_RAW_CHUNK = 1 << 20  # 1 MiB of compressed bytes per read


@dataclass
class FileReadState:
    """What was learned about a file while reading it."""

    path: Path
    compressed: bool = False
    bytes_on_disk: int = 0
    sha256: str = ""
    bom: bool = False
    truncated: str | None = None
    crlf_lines: int = 0
    lf_lines: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def line_endings(self) -> str:
        """``"LF"``, ``"CRLF"``, ``"mixed"`` or ``"none"``."""
        if self.crlf_lines and self.lf_lines:
            return "mixed"
        if self.crlf_lines:
            return "CRLF"
        return "LF" if self.lf_lines else "none"


def has_utf8_bom(path: Path, head: bytes) -> bool:
    """Whether decoded text starts with the UTF-8 BOM; refuses UTF-16 text with the fix.

    Raises
    ------
    InputFileError
        If ``head`` starts with a UTF-16 byte-order mark.
    """
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputFileError(
            str(path),
            "file is UTF-16 text (Excel 'Unicode Text'), not a CSV",
            "open it in a spreadsheet and save as 'CSV UTF-8 (comma delimited)'",
        )
    return head[:3] == _UTF8_BOM


class _Source:
    """File bytes (decompressed when gzip) through ``readinto``; hashes the file as read."""

    def __init__(self, path: Path, state: FileReadState):
        self.state = state
        self.fh = open(path, "rb", buffering=0)  # noqa: SIM115 (closed by close())
        self.digest = hashlib.sha256()
        state.compressed = self.fh.read(2) == _GZIP_MAGIC
        self.fh.seek(0)
        self.decomp = zlib.decompressobj(wbits=31) if state.compressed else None
        self.pending_in = b""  # compressed bytes not yet decompressed
        self.eof_raw = False

    def _read_raw(self, n: int) -> bytes:
        raw = self.fh.read(n)
        if raw:
            self.digest.update(raw)  # releases the GIL for large buffers
            self.state.bytes_on_disk += len(raw)
        else:
            self.eof_raw = True
        return raw

    def readinto(self, view: memoryview) -> int:
        """Fill ``view`` as far as possible; 0 only at the end of the data."""
        if self.decomp is None:
            n = self.fh.readinto(view)
            if n:
                self.digest.update(view[:n])
                self.state.bytes_on_disk += n
            return n or 0
        filled = 0
        while filled < len(view) and self.state.truncated is None:
            if not self.pending_in:
                if self.eof_raw:
                    break
                self.pending_in = self._read_raw(_RAW_CHUNK)
                if not self.pending_in:
                    break
            try:
                out = self.decomp.decompress(self.pending_in, len(view) - filled)
            except zlib.error as exc:
                self.state.truncated = f"gzip data is corrupt ({exc})"
                break
            self.pending_in = self.decomp.unconsumed_tail
            view[filled : filled + len(out)] = out
            filled += len(out)
            if self.decomp.eof:
                rest = self.decomp.unused_data + self.pending_in
                self.pending_in = b""
                if rest[:2] == _GZIP_MAGIC:  # multi-member gzip: start the next member
                    self.decomp = zlib.decompressobj(wbits=31)
                    self.pending_in = rest
                else:
                    self.eof_raw = True
                    while self._read_raw(_RAW_CHUNK):  # hash what follows the stream too
                        pass
                    break
        if filled == 0 and self.state.truncated is None and not self.decomp.eof and self.eof_raw:
            if self.state.bytes_on_disk:
                self.state.truncated = "gzip stream ends before its end marker (the download was cut short)"
        return filled

    def close(self) -> None:
        self.fh.close()
        self.state.sha256 = self.digest.hexdigest()


def iter_line_blocks(
    path: str | Path, state: FileReadState, *, block_bytes: int = 1 << 22, prefetch: int = 3
) -> Iterator[tuple[np.ndarray, bool]]:
    """Yield ``(block, is_last)``: blocks of whole lines from ``path``.

    Reading (and decompressing) runs on a background thread, ``prefetch``
    blocks ahead. The UTF-8 byte-order mark is removed from the start of the
    file (noted in ``state.bom``). UTF-16 files are refused, as they are not
    CSV text a police.uk download produces.

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
        If the file is UTF-16 encoded.
    """
    gen = _line_blocks(Path(path), state, block_bytes)
    if prefetch <= 0:
        yield from gen
        return
    yield from _prefetched(gen, prefetch)


def _line_blocks(path: Path, state: FileReadState, block_bytes: int) -> Iterator[tuple[np.ndarray, bool]]:
    src = _Source(path, state)
    try:
        carry = np.zeros(0, dtype=np.uint8)
        first = True
        size = block_bytes
        while True:
            block = np.empty(len(carry) + size, dtype=np.uint8)
            block[: len(carry)] = carry
            view = memoryview(block)
            filled = len(carry)
            eof = False
            while filled < len(block):
                n = src.readinto(view[filled:])
                if not n:
                    eof = True
                    break
                filled += n
            data = block[:filled]
            if first:
                first = False
                state.bom = has_utf8_bom(path, data[:3].tobytes())
                if state.bom:
                    data = data[3:]
            if eof:
                src.close()
                yield data, True
                return
            cut = _last_lf(data)
            if cut < 0:  # a line longer than the block: read more before cutting
                carry = data.copy()
                size *= 2
                continue
            size = block_bytes
            carry = data[cut + 1 :].copy()
            yield data[: cut + 1], False
    finally:
        src.fh.close()


def _prefetched(gen: Iterator, depth: int) -> Iterator:
    """Run a generator on a background thread, ``depth`` items ahead; errors re-raise here."""
    import queue
    import threading

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


@nb.njit(cache=True, nogil=True)
def _last_lf(buf):
    for i in range(len(buf) - 1, -1, -1):
        if buf[i] == 10:
            return i
    return -1
