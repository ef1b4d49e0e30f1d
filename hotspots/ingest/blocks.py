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
        Filled in as the file is read (hash, truncation, line endings).
    block_bytes : int, default 32 MiB
        Approximate size of a block of decoded text.

    Raises
    ------
    InputFileError
        If the file is UTF-16 encoded.
    """
    path = Path(path)
    carry = b""
    first = True
    pending: list[bytes] = []
    pending_len = 0
    for chunk in _raw_chunks(path, state):
        if first:
            first = False
            if chunk[:2] in (b"\xff\xfe", b"\xfe\xff"):
                raise InputFileError(
                    str(path),
                    "file is UTF-16 text (Excel 'Unicode Text'), not a CSV",
                    "open it in a spreadsheet and save as 'CSV UTF-8 (comma delimited)'",
                )
            if chunk.startswith(_UTF8_BOM):
                state.bom = True
                chunk = chunk[len(_UTF8_BOM) :]
        pending.append(chunk)
        pending_len += len(chunk)
        if pending_len < block_bytes:
            continue
        data = carry + b"".join(pending)
        pending, pending_len = [], 0
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        carry = data[cut + 1 :]
        yield _count_endings(np.frombuffer(data[: cut + 1], dtype=np.uint8), state), False
    data = carry + b"".join(pending)
    yield _count_endings(np.frombuffer(data, dtype=np.uint8), state), True


def _count_endings(buf: np.ndarray, state: FileReadState) -> np.ndarray:
    nl = np.flatnonzero(buf == 10)
    crlf = int(np.count_nonzero(buf[nl[nl > 0] - 1] == 13))
    state.crlf_lines += crlf
    state.lf_lines += len(nl) - crlf
    return buf
