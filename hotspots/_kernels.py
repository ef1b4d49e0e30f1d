"""Private numba kernels shared by the array layer (no pandas, no I/O)."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def _factorize_int64(keys):
    """Codes (order of first appearance) and first index of each distinct int64 key.

    Open addressing with a table that doubles at half load, so a few thousand
    distinct keys stay in cache however many rows there are.
    """
    n = len(keys)
    cap = 1024
    table = np.full(cap, -1, dtype=np.int64)
    uniq = np.empty(max(n, 1), dtype=np.int64)
    first = np.empty(max(n, 1), dtype=np.int64)
    codes = np.empty(n, dtype=np.int64)
    k = 0
    for i in range(n):
        v = keys[i]
        h = np.uint64(v) * np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
        mask = np.uint64(cap - 1)
        slot = h & mask
        while True:
            c = table[slot]
            if c < 0:
                table[slot] = k
                uniq[k] = v
                first[k] = i
                codes[i] = k
                k += 1
                if 2 * k > cap:
                    cap *= 2
                    table = np.full(cap, -1, dtype=np.int64)
                    m2 = np.uint64(cap - 1)
                    for c2 in range(k):
                        h2 = np.uint64(uniq[c2]) * np.uint64(0x9E3779B97F4A7C15)
                        h2 ^= h2 >> np.uint64(29)
                        sl = h2 & m2
                        while table[sl] >= 0:
                            sl = (sl + np.uint64(1)) & m2
                        table[sl] = c2
                break
            if uniq[c] == v:
                codes[i] = c
                break
            slot = (slot + np.uint64(1)) & mask
    return codes, first[:k]


@nb.njit(cache=True, nogil=True)
def _snap_keys(lng, lat):
    """int64 key per point: latitude and longitude rounded to 1e-6 degrees, packed."""
    n = len(lng)
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = (np.int64(np.rint(lat[i] * 1e6)) + 90_000_000) * 400_000_000 + (
            np.int64(np.rint(lng[i] * 1e6)) + 180_000_000
        )
    return out


@nb.njit(cache=True, nogil=True)
def _inexact(lng, lat, first, codes):
    """Indices of points whose coordinates differ from their code's first point."""
    n = len(codes)
    bad = np.zeros(n, dtype=np.bool_)
    m = 0
    for i in range(n):
        j = first[codes[i]]
        if lng[j] != lng[i] or lat[j] != lat[i]:
            bad[i] = True
            m += 1
    out = np.empty(m, dtype=np.int64)
    k = 0
    for i in range(n):
        if bad[i]:
            out[k] = i
            k += 1
    return out
