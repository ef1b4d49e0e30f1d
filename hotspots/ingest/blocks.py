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

__all__ = ["FileReadState", "iter_line_blocks"]

_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"
_RAW_CHUNK = 1 << 22  # 4 MiB of file bytes per read


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


def _raw_chunks(path: Path, state: FileReadState) -> Iterator[bytes]:
    """Yield decoded (decompressed) bytes; sets ``state.truncated`` on damage."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        head = fh.read(2)
        fh.seek(0)
        state.compressed = head == _GZIP_MAGIC
        decomp = zlib.decompressobj(wbits=31) if state.compressed else None
        while True:
            chunk = fh.read(_RAW_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            state.bytes_on_disk += len(chunk)
            if decomp is None:
                yield chunk
                continue
            data = chunk
            while data:
                try:
                    out = decomp.decompress(data)
                except zlib.error as exc:
                    state.truncated = f"gzip data is corrupt ({exc})"
                    data = b""
                    break
                if out:
                    yield out
                if decomp.eof and decomp.unused_data[:2] == _GZIP_MAGIC:
                    data = decomp.unused_data  # multi-member gzip: start the next member
                    decomp = zlib.decompressobj(wbits=31)
                else:
                    data = b""
            if state.truncated:
                break
        if decomp is not None and not state.truncated:
            tail = decomp.flush()
            if tail:
                yield tail
            if not decomp.eof and state.bytes_on_disk:
                state.truncated = "gzip stream ends before its end marker (the download was cut short)"
    state.sha256 = digest.hexdigest()


def iter_line_blocks(
    path: str | Path, state: FileReadState, *, block_bytes: int = 1 << 25
) -> Iterator[tuple[np.ndarray, bool]]:
    """Yield ``(block, is_last)``: blocks of whole lines from ``path``.

    The UTF-8 byte-order mark is removed from the start of the file (noted in
    ``state.bom``). UTF-16 files are refused, as they are not CSV text a
    police.uk download produces.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` or ``.csv.gz`` file (gzip is detected from the content).
    state : FileReadState
        Filled in as the file is read (hash, truncation, size).
    block_bytes : int, default 32 MiB
        Approximate size of a block of decoded text.

    Raises
    ------
    InputFileError
        If the file is UTF-16 encoded.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        state.compressed = fh.read(2) == _GZIP_MAGIC
    source = _gzip_blocks(path, state, block_bytes) if state.compressed else _plain_blocks(path, state, block_bytes)
    first = True
    carry = np.zeros(0, dtype=np.uint8)
    for data, eof in source:
        if len(carry):
            data = np.concatenate([carry, data])
        if first:
            first = False
            head = data[:3].tobytes()
            if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
                raise InputFileError(
                    str(path),
                    "file is UTF-16 text (Excel 'Unicode Text'), not a CSV",
                    "open it in a spreadsheet and save as 'CSV UTF-8 (comma delimited)'",
                )
            if head == _UTF8_BOM:
                state.bom = True
                data = data[3:]
        if eof:
            yield data, True
            return
        cut = _last_lf(data)
        if cut < 0:  # no line break yet: keep reading
            carry = data.copy()
            continue
        yield data[: cut + 1], False
        carry = data[cut + 1 :].copy()


@nb.njit(cache=True, nogil=True)
def _last_lf(buf):
    for i in range(len(buf) - 1, -1, -1):
        if buf[i] == 10:
            return i
    return -1


def _plain_blocks(path: Path, state: FileReadState, block_bytes: int) -> Iterator[tuple[np.ndarray, bool]]:
    """Read straight into numpy blocks; the SHA-256 runs on another thread."""
    from concurrent.futures import ThreadPoolExecutor

    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh, ThreadPoolExecutor(1) as hasher:
        pending = []
        while True:
            block = np.empty(block_bytes, dtype=np.uint8)
            view = memoryview(block)
            filled = 0
            while filled < block_bytes:
                n = fh.readinto(view[filled:])
                if not n:
                    break
                filled += n
            data = block[:filled]
            state.bytes_on_disk += filled
            pending.append(hasher.submit(digest.update, data))  # sha256 releases the GIL
            if len(pending) > 4:
                pending.pop(0).result()
            eof = filled < block_bytes
            yield data, eof
            if eof:
                break
        for f in pending:
            f.result()
    state.sha256 = digest.hexdigest()


def _gzip_blocks(path: Path, state: FileReadState, block_bytes: int) -> Iterator[tuple[np.ndarray, bool]]:
    pending: list[bytes] = []
    size = 0
    for chunk in _raw_chunks(path, state):
        pending.append(chunk)
        size += len(chunk)
        if size >= block_bytes:
            yield np.frombuffer(b"".join(pending), dtype=np.uint8), False
            pending, size = [], 0
    yield np.frombuffer(b"".join(pending), dtype=np.uint8), True
