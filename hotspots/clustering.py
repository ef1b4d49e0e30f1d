"""Exact DBSCAN for projected points (metres), in O(N) memory.

Gives scikit-learn's ``DBSCAN(eps, min_samples, metric="euclidean")`` answer
without materialising every eps-neighbourhood (gigabytes on dense police
data). Points are binned into square cells of side just under eps/sqrt(2), so
any two points of one cell are within eps; a counting sort (an argsort when
the grid is far larger than the data) orders the points by cell, as row
indices only (coordinates are read through them: no sorted copies). (1) A cell
whose weight reaches ``min_samples`` makes all its points core; elsewhere
weight within eps is counted over the 5x5 block of cells around, pruned by
the cells' bounding boxes: a cell whose box lies within eps of the whole cell
(or, failing that, of the point) counts whole, the rest point by point with
scikit-learn's inclusive test ``dx*dx + dy*dy <= eps*eps``.
(2) Union-find joins all core points of a cell, and two cells at the first
pair of their core points within eps. (3) A border point joins the cluster of
its nearest core point within eps (ties: the earlier row; when every core
point in reach is in one cluster, any core point within eps); the rest are
noise.
On large inputs each step runs over two ranges of cells on two threads (the
union-find keeps each range's roots in the range; the pairs of cells astride
the split are joined after).
Pruning bounds (float32 boxes rounded outward, widened to float64) use the
same floating-point operations as the distances, so
core and noise sets and the clusters of core points equal scikit-learn's;
only border points within eps of two clusters may differ (there scikit-learn
picks by traversal order).

References
----------
Ester, M., Kriegel, H.-P., Sander, J. and Xu, X. (1996). A density-based
algorithm for discovering clusters in large spatial databases with noise. KDD.
Gunawan, A. (2013). A faster algorithm for DBSCAN. Master's thesis, TU Eindhoven.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numba
import numpy as np
import pandas as pd

from hotspots.errors import ParameterError
from hotspots.grid import unique_points

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["dbscan", "dbscan_labels"]

_SIDE = 0.70710678  # cell side / eps: just under 1/sqrt(2) (>= 0.5, so neighbours are at most two cells away)
_DENSE = 4  # counting sort over the whole grid when it has at most this many cells per point, else argsort
_INT32 = 2**31 - 1  # index arrays are int32 up to this many points (half the memory of int64)
_FEW = 2  # cells of at most this many points are tested point by point, without their box
_TWO = 50_000  # above this many points the cells are split in two ranges, on two threads
_DEDUPE = 0.8  # cluster distinct points, weighted, when a sample has fewer distinct points than this fraction


@numba.njit(cache=True, nogil=True)
def _distinct(xb, yb, m, cap):
    """Number of distinct (x, y) bit patterns among the first ``m`` points (hash table of ``cap``, a power of 2)."""
    table = np.full(cap, -1, np.int64)
    mask = np.uint64(cap - 1)
    k = 0
    for i in range(m):
        h = np.uint64(xb[i]) * np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(yb[i]) * np.uint64(0xC2B2AE3D27D4EB4F)
        s = (h ^ (h >> np.uint64(31))) & mask
        while True:
            j = table[s]
            if j < 0:
                table[s] = i
                k += 1
                break
            if xb[j] == xb[i] and yb[j] == yb[i]:
                break
            s = (s + np.uint64(1)) & mask
    return k


@numba.njit(cache=True, nogil=True)
def _cell_key(x, y, x0, y0, side, ncx):
    """Cell of a point, ``floor((x - x0) / side)`` as numpy computes it, row-major."""
    return int(math.floor((y - y0) / side)) * ncx + int(math.floor((x - x0) / side))


@numba.njit(cache=True, nogil=True)
def _sort_dense(x, y, x0, y0, side, ncx, ncy, order, key_type):
    """Counting sort of the points by cell over the whole grid.

    Fills ``order`` (sorted position -> row, rows ascending within a cell) and
    returns each occupied cell's key, the ``starts`` of the cells' points
    (then n) and the rank of each grid cell (occupied cells before it; then
    the number of occupied cells).
    """
    n = len(x)
    m = ncx * ncy
    pos = np.zeros(m + 1, order.dtype)
    for i in range(n):
        pos[_cell_key(x[i], y[i], x0, y0, side, ncx) + 1] += 1
    n_cells = 0
    for k in range(m):
        n_cells += pos[k + 1] > 0
        pos[k + 1] += pos[k]
    ckeys = np.empty(n_cells, key_type.dtype)
    starts = np.empty(n_cells + 1, order.dtype)
    c = 0
    for k in range(m):
        if pos[k + 1] > pos[k]:
            ckeys[c] = k
            starts[c] = pos[k]
            c += 1
    starts[n_cells] = n
    for i in range(n):
        k = _cell_key(x[i], y[i], x0, y0, side, ncx)
        order[pos[k]] = i
        pos[k] += 1
    c = 0
    for k in range(m + 1):  # pos becomes the rank: occupied cells before each grid cell
        pos[k] = c
        c += c < n_cells and ckeys[c] == k
    return ckeys, starts, pos


@numba.njit(cache=True, nogil=True)
def _cells(keys, order, key_type):
    """Occupied cells' keys and starts of points in the order ``order`` (sorted by ``keys``)."""
    n = len(order)
    n_cells = 0
    for p in range(n):
        n_cells += p == 0 or keys[order[p]] != keys[order[p - 1]]
    ckeys = np.empty(n_cells, key_type.dtype)
    starts = np.empty(n_cells + 1, order.dtype)
    c = 0
    for p in range(n):
        if p == 0 or keys[order[p]] != keys[order[p - 1]]:
            ckeys[c] = keys[order[p]]
            starts[c] = p
            c += 1
    starts[n_cells] = n
    return ckeys, starts


@numba.njit(cache=True, nogil=True)
def _sort(x, y, x0, y0, side, ncx, ncy, order, key_type, keys):
    """Cells of the points: ``_sort_dense`` when ``keys`` is empty, else ``_cells`` of ``order`` sorted by ``keys``.

    One kernel for both grids, so that a first small call loads the compiled
    code that a later large one needs. ``rank`` is empty for a sparse grid (no
    map: neighbours are found by search).
    """
    if len(keys) == 0:
        return _sort_dense(x, y, x0, y0, side, ncx, ncy, order, key_type)
    ckeys, starts = _cells(keys, order, key_type)
    return ckeys, starts, np.empty(0, order.dtype)


@numba.njit(cache=True, nogil=True)
def _down(v):
    """A float32 <= v, at most two float32 steps below it (no branch: the test is a coin toss)."""
    f = np.float32(v)
    step = max(abs(f) * np.float32(2.0**-23), np.float32(1e-45))
    return f - step if f > v else f


@numba.njit(cache=True, nogil=True)
def _cell_boxes(x, y, w, order, box, wsum, compact, eps2, c_lo, c_hi, starts):
    """Bounding box (xmin, ymin, xmax, ymax), weight (if weighted) and compactness of cells ``c_lo..c_hi-1``.

    Rounding is monotone, so every pair of points in a compact cell passes the
    distance test. Boxes are float32 rounded outward (half the memory): each
    still holds its points, so the bounds below stay bounds.
    """
    for c in range(c_lo, c_hi):
        r = order[starts[c]]
        x0, y0, x1, y1 = x[r], y[r], x[r], y[r]
        for j in range(starts[c] + 1, starts[c + 1]):
            r = order[j]
            x0, x1 = min(x0, x[r]), max(x1, x[r])
            y0, y1 = min(y0, y[r]), max(y1, y[r])
        if len(w):
            wsum[c] = 0.0
            for j in range(starts[c], starts[c + 1]):
                wsum[c] += w[order[j]]
        box[c, 0], box[c, 1] = _down(x0), _down(y0)
        box[c, 2], box[c, 3] = -_down(-x1), -_down(-y1)
        dx, dy = x1 - x0, y1 - y0
        compact[c] = dx * dx + dy * dy <= eps2


@numba.njit(cache=True, nogil=True)
def _weight(wsum, starts, c):
    """Weight of cell c: its point count when unweighted (``wsum`` empty)."""
    return wsum[c] if len(wsum) else float(starts[c + 1] - starts[c])


@numba.njit(cache=True, nogil=True)
def _f64(v):
    """A box bound as float64, so that bounds are computed with the same operations as distances."""
    return np.float64(v)


@numba.njit(cache=True, nogil=True)
def _gap2(box, b, x0, y0, x1, y1):
    """Squared gap between cell b's box and a box (or point): a lower bound of every computed distance."""
    gx = max(_f64(box[b, 0]) - x1, x0 - _f64(box[b, 2]), 0.0)
    gy = max(_f64(box[b, 1]) - y1, y0 - _f64(box[b, 3]), 0.0)
    return gx * gx + gy * gy


@numba.njit(cache=True, nogil=True)
def _far2(box, b, x0, y0, x1, y1):
    """Squared span from a box (or point) to the far side of cell b's box: an upper bound of every computed distance.

    The box corners are points, and rounding is monotone: each computed
    ``|xi - xj|`` is at most the larger of the two extreme computed differences.
    """
    fx = max(x1 - _f64(box[b, 0]), _f64(box[b, 2]) - x0)
    fy = max(y1 - _f64(box[b, 1]), _f64(box[b, 3]) - y0)
    return fx * fx + fy * fy


@numba.njit(cache=True, nogil=True)
def _rows(c, ckeys, rank, ncx, ncy, cursor):
    """The occupied cells in the 5x5 block around cell c, as up to five ranges of cell indices; return how many.

    Cells are in row-major key order, so each grid row's cells form a range:
    ``cursor[1, r]..cursor[2, r]`` (end exclusive). ``rank`` (occupied cells
    before each grid cell) gives them directly; when it is empty they are
    found by search: callers visit cells in increasing order, so each row's
    search position in ``cursor[0]`` only moves forward (O(cells) per pass).
    """
    cy = ckeys[c] // ncx
    cx = ckeys[c] - cy * ncx
    xlo, xhi = max(cx - 2, 0), min(cx + 2, ncx - 1)
    nc = len(ckeys)
    nr = 0
    for ry in range(max(cy - 2, 0), min(cy + 3, ncy)):
        lo, hi = ry * ncx + xlo, ry * ncx + xhi + 1
        if len(rank):
            cursor[1, nr], cursor[2, nr] = rank[lo], rank[hi]
        else:
            r = ry - cy + 2
            j = cursor[0, r]
            while j < nc and ckeys[j] < lo:
                j += 1
            cursor[0, r] = j
            cursor[1, nr] = j
            while j < nc and ckeys[j] < hi:
                j += 1
            cursor[2, nr] = j
        nr += 1
    return nr


@numba.njit(cache=True, nogil=True)
def _block_weight(wsum, starts, cursor, nr):
    """Weight of the cells in the ranges found by ``_rows``: a bound on the weight within eps of its cell."""
    total = 0.0
    for r in range(nr):
        if len(wsum):
            for b in range(cursor[1, r], cursor[2, r]):
                total += wsum[b]
        else:
            total += starts[cursor[2, r]] - starts[cursor[1, r]]
    return total


@numba.njit(cache=True, nogil=True)
def _near_cells(c, box, eps2, cursor, nr, buf):
    """Fill ``buf`` with the cells of ``_rows``'s ranges whose box lies within eps of cell c's; return how many."""
    x0, y0, x1, y1 = _f64(box[c, 0]), _f64(box[c, 1]), _f64(box[c, 2]), _f64(box[c, 3])
    k = 0
    for r in range(nr):
        for b in range(cursor[1, r], cursor[2, r]):
            buf[k] = b
            k += _gap2(box, b, x0, y0, x1, y1) <= eps2  # no branch: the test is a coin toss
    return k


@numba.njit(cache=True, nogil=True)
def _neighbours(c, ckeys, rank, box, ncx, ncy, eps2, cursor, buf):
    """Fill ``buf`` with the cells (c included) that may hold points within eps of cell c; return how many."""
    return _near_cells(c, box, eps2, cursor, _rows(c, ckeys, rank, ncx, ncy, cursor), buf)


@numba.njit(cache=True, nogil=True)
def _find(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]  # path halving
        i = parent[i]
    return i


@numba.njit(cache=True, nogil=True)
def _union(parent, i, j):
    ri = _find(parent, i)
    rj = _find(parent, j)
    if ri < rj:
        parent[rj] = ri
    elif rj < ri:
        parent[ri] = rj


@numba.njit(cache=True, nogil=True)
def _d2(x, y, xi, yi, j):
    """Squared distance from (xi, yi) to row j as scikit-learn's trees compute it."""
    dx = xi - x[j]
    dy = yi - y[j]
    return dx * dx + dy * dy


@numba.njit(cache=True, nogil=True)
def _core_points(
    x, y, w, order, wsum, compact, min_samples, few, core, c_lo, c_hi, ckeys, rank, starts, box, ncx, ncy, eps2
):
    """Set ``core`` for the points of cells ``c_lo..c_hi-1``: weight >= min_samples within eps (itself included).

    Per cell, a neighbouring cell whose box lies within eps of the cell's box
    counts whole for all its points, which may settle the cell; the rest
    ("partial" cells, nearest first) are bounded per point the same way, and
    only the points of cells still in between are tested, while the answer is
    open (those of cells of at most ``few`` points without a box test). Cells
    are independent, so disjoint cell ranges can run on separate threads.
    """
    buf = np.empty(25, np.int64)
    part = np.empty(25, np.int64)
    gaps = np.empty(25)
    pbox = np.empty((25, 4))
    pw = np.empty(25)
    cursor = np.zeros((3, 5), np.int64)
    for c in range(c_lo, c_hi):
        if compact[c] and _weight(wsum, starts, c) >= min_samples:
            core[starts[c] : starts[c + 1]] = True
            continue
        nr = _rows(c, ckeys, rank, ncx, ncy, cursor)
        if _block_weight(wsum, starts, cursor, nr) < min_samples:
            continue
        k = _near_cells(c, box, eps2, cursor, nr, buf)
        x0, y0, x1, y1 = _f64(box[c, 0]), _f64(box[c, 1]), _f64(box[c, 2]), _f64(box[c, 3])
        sure, maybe, m = 0.0, 0.0, 0  # weight within eps of every point of c; weight of the partial cells
        for t in range(k):
            b = buf[t]
            wb = _weight(wsum, starts, b)
            if (b == c and compact[c]) or _far2(box, b, x0, y0, x1, y1) <= eps2:
                sure += wb
                continue
            g = _gap2(box, b, x0, y0, x1, y1)
            s = m
            while s > 0 and gaps[s - 1] > g:  # insertion sort, nearest first
                part[s], gaps[s] = part[s - 1], gaps[s - 1]
                s -= 1
            part[s], gaps[s] = b, g
            m += 1
            maybe += wb
        for t in range(m):  # the partial cells' boxes and weights, at hand for every point
            b = part[t]
            pbox[t, 0], pbox[t, 1], pbox[t, 2], pbox[t, 3] = box[b, 0], box[b, 1], box[b, 2], box[b, 3]
            pw[t] = _weight(wsum, starts, b)
        if sure >= min_samples:
            core[starts[c] : starts[c + 1]] = True
            continue
        if sure + maybe < min_samples:
            continue
        for i in range(starts[c], starts[c + 1]):
            r = order[i]
            xi, yi = x[r], y[r]
            count, rest = sure, maybe  # weight found within eps; weight of the partial cells not yet looked at
            for t in range(m):
                if count >= min_samples or count + rest < min_samples:
                    break
                rest -= pw[t]
                b = part[t]
                if starts[b + 1] - starts[b] > few:
                    ax, bx = xi - pbox[t, 0], pbox[t, 2] - xi  # as _gap2 and _far2 compute them (negation is exact)
                    ay, by = yi - pbox[t, 1], pbox[t, 3] - yi
                    gx, gy = max(-min(ax, bx), 0.0), max(-min(ay, by), 0.0)
                    if gx * gx + gy * gy > eps2:
                        continue
                    fx, fy = max(ax, bx), max(ay, by)
                    if fx * fx + fy * fy <= eps2:
                        count += pw[t]
                        continue
                for j in range(starts[b], starts[b + 1]):  # a few points, or a cell astride the eps circle
                    s = order[j]
                    d2 = _d2(x, y, xi, yi, s)
                    count += (w[s] if len(w) else 1.0) if d2 <= eps2 else 0.0
                    if count >= min_samples:
                        break
            core[i] = count >= min_samples


@numba.njit(cache=True, nogil=True)
def _join(x, y, order, core, compact, parent, first_core, starts, box, eps2, a, b):
    """Join cells a and b (both with core points) at the first pair of their core points within eps, if any."""
    whole = compact[a] and compact[b]  # one link joins the two cells
    if whole:
        xa0, ya0, xa1, ya1 = _f64(box[a, 0]), _f64(box[a, 1]), _f64(box[a, 2]), _f64(box[a, 3])
        if _far2(box, b, xa0, ya0, xa1, ya1) <= eps2:  # every pair within eps
            _union(parent, first_core[a], first_core[b])
            return
        if _find(parent, first_core[a]) == _find(parent, first_core[b]):
            return
    for i in range(first_core[a], starts[a + 1]):
        xi, yi = x[order[i]], y[order[i]]
        if not core[i] or _gap2(box, b, xi, yi, xi, yi) > eps2:
            continue
        if whole and _far2(box, b, xi, yi, xi, yi) <= eps2:  # every point of b within eps of i
            _union(parent, i, first_core[b])
            return
        for j in range(first_core[b], starts[b + 1]):
            if core[j] and _d2(x, y, xi, yi, order[j]) <= eps2:
                _union(parent, i, j)
                if whole:
                    return


@numba.njit(cache=True, nogil=True)
def _connect(
    x, y, order, core, compact, parent, first_core, near, c_lo, c_hi, ckeys, rank, starts, box, ncx, ncy, eps2
):
    """Union-find forest in ``parent`` joining the core points of cells ``c_lo..c_hi-1`` within eps.

    Sets ``first_core`` (first core point of each cell, or -1) and ``parent``
    of the cells' points, and flags in ``near`` the cells of the range that may
    hold points within eps of a core point of the range. Only pairs of cells
    both in the range are joined: roots stay in the range (the smaller joins),
    so disjoint ranges can run on separate threads; ``_connect_across`` then
    joins the pairs astride a split.
    """
    for c in range(c_lo, c_hi):
        first_core[c] = -1
        for i in range(starts[c], starts[c + 1]):
            parent[i] = i
            if not core[i]:
                continue
            if first_core[c] < 0:
                first_core[c] = i
            elif compact[c]:
                parent[i] = first_core[c]
            else:
                xi, yi = x[order[i]], y[order[i]]
                for j in range(starts[c], i):
                    if core[j] and _d2(x, y, xi, yi, order[j]) <= eps2:
                        _union(parent, i, j)
    buf = np.empty(25, np.int64)
    cursor = np.zeros((3, 5), np.int64)
    for a in range(c_lo, c_hi):
        if first_core[a] < 0:
            continue
        k = _neighbours(a, ckeys, rank, box, ncx, ncy, eps2, cursor, buf)
        for t in range(k):
            b = buf[t]
            if b < c_lo or b >= c_hi:
                continue
            near[b] = True  # neighbours are mutual: b's search will find a
            if b <= a or first_core[b] < 0:
                continue
            whole = compact[a] and compact[b]  # one link joins the two cells
            if whole:
                xa0, ya0, xa1, ya1 = _f64(box[a, 0]), _f64(box[a, 1]), _f64(box[a, 2]), _f64(box[a, 3])
                if _far2(box, b, xa0, ya0, xa1, ya1) <= eps2:  # every pair within eps
                    _union(parent, first_core[a], first_core[b])
                    continue
                if _find(parent, first_core[a]) == _find(parent, first_core[b]):
                    continue
            done = False
            for i in range(first_core[a], starts[a + 1]):
                xi, yi = x[order[i]], y[order[i]]
                if not core[i] or _gap2(box, b, xi, yi, xi, yi) > eps2:
                    continue
                if whole and _far2(box, b, xi, yi, xi, yi) <= eps2:  # every point of b within eps of i
                    _union(parent, i, first_core[b])
                    break
                for j in range(first_core[b], starts[b + 1]):
                    if core[j] and _d2(x, y, xi, yi, order[j]) <= eps2:
                        _union(parent, i, j)
                        if whole:
                            done = True
                            break
                if done:
                    break


@numba.njit(cache=True, nogil=True)
def _connect_across(
    x, y, order, core, compact, parent, first_core, near, split, ckeys, rank, starts, box, ncx, ncy, eps2
):
    """Join the pairs of cells astride ``split`` (one below, one at or above), after ``_connect`` of both sides."""
    nc = len(ckeys)
    if split >= nc:
        return
    row = ckeys[split] // ncx - 2  # cells of lower rows have no neighbour at or above split
    a_lo = np.searchsorted(ckeys, max(row, 0) * ncx)
    buf = np.empty(25, np.int64)
    cursor = np.zeros((3, 5), np.int64)
    cursor[0, :] = a_lo  # searches start at a_lo: cells at or above split lie in rows from a_lo's on
    for a in range(a_lo, split):
        k = _neighbours(a, ckeys, rank, box, ncx, ncy, eps2, cursor, buf)
        for t in range(k):
            b = buf[t]
            if b < split:
                continue
            if first_core[a] >= 0:
                near[b] = True
            if first_core[b] >= 0:
                near[a] = True
                if first_core[a] >= 0:
                    _join(x, y, order, core, compact, parent, first_core, starts, box, eps2, a, b)


@numba.njit(cache=True, nogil=True)
def _roots(parent, core, starts, c_lo, c_hi):
    """Set ``parent`` of the core points of cells ``c_lo..c_hi-1`` to their root (writes no other entry)."""
    for i in range(starts[c_lo], starts[c_hi]):
        if core[i]:
            r = parent[i]
            while parent[r] != r:
                r = parent[r]
            parent[i] = r


@numba.njit(cache=True, nogil=True)
def _assign(x, y, order, core, parent, first_core, near, compact, c_lo, c_hi, ckeys, rank, starts, box, ncx, ncy, eps2):
    """Label of the points of cells ``c_lo..c_hi-1`` in ``parent``, in place.

    Core points keep their root, border points take their nearest core
    point's (ties: the earlier row), noise -1. When every core point within
    reach has one root (compact cells of one cluster), any core point within
    eps settles a border point. Writes only the entries of non-core points
    and reads only those of core points, so disjoint cell ranges can run on
    separate threads.
    """
    buf = np.empty(25, np.int64)
    cursor = np.zeros((3, 5), np.int64)
    for c in range(c_lo, c_hi):
        k, root = -1, -1
        for i in range(starts[c], starts[c + 1]):
            if core[i]:
                continue
            parent[i] = -1
            if k < 0:  # once per cell: the neighbouring cells that hold core points, and their root if one
                k_all = _neighbours(c, ckeys, rank, box, ncx, ncy, eps2, cursor, buf) if near[c] else 0
                k = 0
                for t in range(k_all):
                    b = buf[t]
                    if first_core[b] >= 0:
                        buf[k] = b
                        k += 1
                        rb = parent[first_core[b]] if compact[b] else -2
                        root = rb if k == 1 or rb == root else -2
            xi, yi = x[order[i]], y[order[i]]
            if root >= 0:
                found = False
                for t in range(k):
                    b = buf[t]
                    if _gap2(box, b, xi, yi, xi, yi) > eps2:
                        continue
                    if _far2(box, b, xi, yi, xi, yi) <= eps2:  # its core points are all within eps
                        found = True
                        break
                    for j in range(first_core[b], starts[b + 1]):
                        if core[j] and _d2(x, y, xi, yi, order[j]) <= eps2:
                            found = True
                            break
                    if found:
                        break
                if found:
                    parent[i] = root
                continue
            best, best_d2 = -1, eps2
            for t in range(k):
                b = buf[t]
                if _gap2(box, b, xi, yi, xi, yi) > best_d2:
                    continue
                for j in range(first_core[b], starts[b + 1]):
                    if core[j]:
                        d2 = _d2(x, y, xi, yi, order[j])
                        if d2 < best_d2 or (d2 == best_d2 and (best < 0 or order[j] < order[best])):
                            best, best_d2 = j, d2
            if best >= 0:
                parent[i] = parent[best]


@numba.njit(cache=True, nogil=True)
def _scatter(order, label_s, core_s, labels, core):
    """Per-point results from sorted position to row."""
    for p in range(len(order)):
        labels[order[p]] = label_s[p]
        core[order[p]] = core_s[p]


@numba.njit(cache=True, nogil=True)
def _relabel(labels, table):
    """Renumber root labels 0..K-1 in order of first row, in place; ``table`` (one slot per root) is overwritten."""
    for i in range(len(labels)):
        if labels[i] >= 0:
            table[labels[i]] = -1
    k = 0
    for i in range(len(labels)):
        r = labels[i]
        if r >= 0:
            if table[r] < 0:
                table[r] = k
                k += 1
            labels[i] = table[r]


def _check_params(eps_m, min_samples) -> tuple[float, int]:
    if isinstance(eps_m, bool) or not isinstance(eps_m, Real) or not math.isfinite(eps_m) or eps_m <= 0:
        raise ParameterError(f"eps_m must be a positive distance in metres (e.g. 100); got {eps_m!r}")
    if isinstance(min_samples, bool) or not isinstance(min_samples, Integral) or min_samples < 1:
        raise ParameterError(f"min_samples must be an integer >= 1 (e.g. 15); got {min_samples!r}")
    return float(eps_m), int(min_samples)


def dbscan_labels(
    x: np.ndarray, y: np.ndarray, *, eps_m: float, min_samples: int, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact DBSCAN cluster labels and core flags of projected points.

    Parameters
    ----------
    x, y : ndarray of float, shape (n,)
        Projected coordinates in metres (e.g. EPSG:27700 easting/northing).
    eps_m : float
        Neighbourhood radius in metres, inclusive (``distance <= eps_m``).
    min_samples : int
        Weight within ``eps_m`` (the point itself included) that makes a point core.
    sample_weight : ndarray of float, shape (n,), optional
        Non-negative weight per point, as scikit-learn's ``sample_weight``:
        a point of weight 3 counts as three stacked points. Default 1 each.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        Cluster 0..K-1 numbered in order of first point, -1 for noise.
    is_core : ndarray of bool, shape (n,)
        Whether each point is a core point.

    Raises
    ------
    ParameterError
        On a bad ``eps_m``/``min_samples``, arrays of different lengths,
        non-finite coordinates, or negative or non-finite weights.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.0, 100.0, 200.0, 300.0, 5000.0]) + 350000
    >>> labels, core = dbscan_labels(x, np.full(5, 150000.0), eps_m=100, min_samples=3)
    >>> labels.tolist(), core.tolist()
    ([0, 0, 0, 0, -1], [False, True, True, False, False])
    """
    eps_m, min_samples = _check_params(eps_m, min_samples)
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ParameterError(f"x and y must be 1-D arrays of the same length; got shapes {x.shape} and {y.shape}")
    n = len(x)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ParameterError("x/y contain NaN or infinite coordinates; drop those points first")
    w = None
    if sample_weight is not None:
        w = np.ascontiguousarray(sample_weight, dtype=np.float64)
        if w.shape != x.shape:
            raise ParameterError(f"sample_weight must have one value per point ({n}); got shape {w.shape}")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ParameterError("sample_weight must be finite and >= 0; fill missing weights and drop negatives")
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, bool)
    sample = min(n, 20_000)  # police.uk stacks crimes on map points: then cluster each distinct point once, weighted
    cap = 1 << (2 * sample).bit_length()
    if _distinct(x.view(np.int64), y.view(np.int64), sample, cap) < _DEDUPE * sample:
        codes, first = unique_points(x, y)
        wu = np.bincount(codes, weights=w, minlength=len(first)).astype(np.float64)
        lab_u, core_u = _dbscan(x[first], y[first], wu, eps_m, min_samples)
        return lab_u[codes], core_u[codes]
    return _dbscan(x, y, w, eps_m, min_samples)


_POOL = None  # worker thread for the second half of the cells (kernels release the GIL)


def _on_halves(kernel, args, halves, grid):
    """Run ``kernel(*args, c_lo, c_hi, *grid)`` over each cell range in ``halves``, on two threads if two."""
    if len(halves) == 1:
        kernel(*args, *halves[0], *grid)
        return
    global _POOL
    if _POOL is None:  # one pool for the process: starting threads on every call costs more than small runs
        _POOL = ThreadPoolExecutor(1, thread_name_prefix="dbscan")
    other = _POOL.submit(kernel, *args, *halves[1], *grid)
    kernel(*args, *halves[0], *grid)  # this thread takes the first half
    other.result()


def _dbscan(x, y, w, eps_m, min_samples):
    """Labels and core flags of distinct-or-not points; ``w`` is None (weight 1 each) or one weight per point."""
    n = len(x)
    side = eps_m * _SIDE
    x0, y0 = x.min(), y.min()
    with np.errstate(over="ignore"):
        span_x, span_y = (x.max() - x0) / side, (y.max() - y0) / side  # inf when eps_m is subnormal
    if not (math.isfinite(span_x) and math.isfinite(span_y)) or (span_x + 1.0) * (span_y + 1.0) >= 2.0**62:
        raise ParameterError(
            f"eps_m={eps_m!r} is too small for points spanning {max(x.max() - x0, y.max() - y0):.0f} m; give eps_m "
            "in metres (e.g. 100)"
        )
    ncx, ncy = math.floor(span_x) + 1, math.floor(span_y) + 1
    w = np.zeros(0) if w is None else w
    order = np.empty(n, np.int32 if n <= _INT32 else np.int64)  # sorted position -> row
    key_type = np.empty(0, np.int32 if ncx * ncy <= _INT32 else np.int64)  # occupied cells' grid keys
    keys = np.zeros(0, np.int64)  # none: a counting sort over the whole grid
    if ncx * ncy > _DENSE * n + 1024:  # a sparse grid (points spread far apart): sort the occupied cells' keys
        keys = np.floor((y - y0) / side).astype(np.int64) * ncx + np.floor((x - x0) / side).astype(np.int64)
        order[:] = np.argsort(keys)  # results do not depend on the order within a cell
    ckeys, starts, rank = _sort(x, y, x0, y0, side, ncx, ncy, order, key_type, keys)
    del keys
    eps2 = eps_m * eps_m
    n_cells = len(ckeys)
    split = min(int(np.searchsorted(starts, n // 2)), n_cells)  # two halves with about as many points each
    halves = [(0, split), (split, n_cells)] if n > _TWO else [(0, n_cells)]
    box = np.empty((n_cells, 4), np.float32)
    wsum = np.empty(n_cells if len(w) else 0)
    compact = np.empty(n_cells, np.bool_)
    _on_halves(_cell_boxes, (x, y, w, order, box, wsum, compact, eps2), halves, (starts,))
    grid = (ckeys, rank, starts, box, ncx, ncy, eps2)

    core_s = np.zeros(n, np.bool_)
    _on_halves(_core_points, (x, y, w, order, wsum, compact, float(min_samples), _FEW, core_s), halves, grid)
    del wsum
    parent = np.empty(n, order.dtype)
    first_core = np.empty(n_cells, order.dtype)
    near = np.zeros(n_cells, np.bool_)
    args = (x, y, order, core_s, compact, parent, first_core, near)
    _on_halves(_connect, args, halves, grid)
    _connect_across(*args, halves[-1][0] if len(halves) > 1 else n_cells, *grid)
    _on_halves(_roots, (parent, core_s, starts), halves, ())
    _on_halves(_assign, (x, y, order, core_s, parent, first_core, near, compact), halves, grid)
    del first_core, near, compact, box, ckeys, rank, starts, grid  # before the outputs: a lower peak
    labels = np.empty(n, np.int64)
    core = np.empty(n, np.bool_)
    _scatter(order, parent, core_s, labels, core)
    del order, core_s
    _relabel(labels, parent)  # 0..K-1 in order of first point
    return labels, core


def _numeric(points: pd.DataFrame, col: str, what: str) -> np.ndarray:
    """Column ``col`` (named by argument ``what``) as finite float64, or a ParameterError saying the fix."""
    if col not in points.columns:
        available = ", ".join(map(str, points.columns))
        raise ParameterError(f"points has no column {col!r} (available: {available}); pass the right {what}=")
    series = points[col]
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise ParameterError(
            f"column {col!r} ({what}) is not numeric (dtype {series.dtype}); convert it with pd.to_numeric"
        )
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = int((~np.isfinite(values)).sum())
    if bad:
        raise ParameterError(f"column {col!r} ({what}) has {bad:,} missing or infinite values; fill or drop those rows")
    return values


def _hull_candidates(lab, xy, lo, hi):
    """Points that may be hull vertices: all but those well inside their cluster's extreme-point quadrilateral.

    ``lab`` is sorted and holds every cluster; ``lo``/``hi`` are each cluster's coordinate minima/maxima.
    """
    extremes = []
    for d, bound in ((0, lo), (1, lo), (0, hi), (1, hi)):  # leftmost, lowest, rightmost, highest: anticlockwise
        hit = np.flatnonzero(xy[:, d] == bound[lab, d])
        extremes.append(xy[hit[np.unique(lab[hit], return_index=True)[1]]][lab] - lo[lab])
    rel = xy - lo[lab]
    margin = 1e-9 * ((hi - lo).max(axis=1) ** 2)[lab]  # keep points within rounding of an edge
    inside = np.ones(len(lab), bool)
    for a, b in zip(extremes, extremes[1:] + extremes[:1], strict=True):
        cross = (b[:, 0] - a[:, 0]) * (rel[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (rel[:, 0] - a[:, 0])
        inside &= cross > margin
    return ~inside


def dbscan(
    points: pd.DataFrame,
    *,
    eps_m: float,
    min_samples: int,
    weight: str | None = None,
    x_col: str = "x",
    y_col: str = "y",
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """DBSCAN clusters of projected points: labelled rows and one polygon per cluster.

    Parameters
    ----------
    points : DataFrame or GeoDataFrame
        One row per point (or per stacked map point, see ``weight``), in a
        projected CRS in metres. Coordinates come from ``x_col``/``y_col``;
        a GeoDataFrame without those columns uses its point geometries.
    eps_m : float
        Neighbourhood radius in metres, inclusive.
    min_samples : int
        Weight within ``eps_m`` (the point itself included) that makes a point core.
    weight : str, optional
        Column of non-negative counts or weights (scikit-learn's
        ``sample_weight``): pass police.uk crimes stacked on one snap point
        as one row with their count. Default: every row weighs 1.
    x_col, y_col : str, default "x", "y"
        Coordinate columns (metres, e.g. EPSG:27700).

    Returns
    -------
    labelled : DataFrame or GeoDataFrame
        A copy of ``points`` with ``dbscan_cluster`` (int64, -1 noise,
        clusters 0..K-1 in order of first row) and ``dbscan_core`` (bool).
    clusters : GeoDataFrame
        One row per cluster: ``dbscan_cluster``, ``n_points`` (rows),
        ``weighted_size`` (sum of weights), ``centroid_x``/``centroid_y``
        (weighted mean, metres), ``extent_m`` (longer side of the bounding
        box), ``area_m2`` (convex hull) and ``geometry`` (the convex hull: a
        Point or LineString when the cluster's points are one or collinear).
        CRS copied from ``points`` (None for a plain DataFrame).

    Raises
    ------
    ParameterError
        On a missing or non-numeric column, missing coordinates, a bad
        ``eps_m``/``min_samples``/weight, a geographic CRS, or coordinates that
        look like degrees with no CRS.

    See Also
    --------
    dbscan_labels : the array kernel.

    Examples
    --------
    >>> import pandas as pd
    >>> pts = pd.DataFrame({"x": [350000.0, 350060, 350030, 359000], "y": [150000.0, 150000, 150040, 150000],
    ...                     "crimes": [4, 1, 2, 1]})
    >>> labelled, clusters = dbscan(pts, eps_m=100, min_samples=5, weight="crimes")
    >>> labelled["dbscan_cluster"].tolist()
    [0, 0, 0, -1]
    >>> clusters[["n_points", "weighted_size", "extent_m", "area_m2"]].to_numpy().tolist()
    [[3.0, 7.0, 60.0, 1200.0]]
    """
    import geopandas as gpd
    import shapely

    if not isinstance(points, pd.DataFrame):
        raise ParameterError(f"points must be a DataFrame or GeoDataFrame; got {type(points).__name__}")
    crs = getattr(points, "crs", None) if isinstance(points, gpd.GeoDataFrame) else None
    if crs is not None and crs.is_geographic:
        raise ParameterError(
            f"points are in a geographic CRS ({crs.to_string()}, degrees) but eps_m is metres; "
            "project first: points.to_crs('EPSG:27700')"
        )
    use_geometry = isinstance(points, gpd.GeoDataFrame) and not {x_col, y_col} <= set(points.columns)
    if use_geometry:
        geoms = points.geometry.to_numpy()
        if len(geoms) and not (shapely.get_type_id(geoms) == 0).all():
            raise ParameterError("points geometry must be all Points; pass x_col/y_col or use .centroid")
        x, y = shapely.get_x(geoms), shapely.get_y(geoms)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ParameterError("points has empty or missing geometries; drop those rows")
    else:
        x, y = _numeric(points, x_col, "x_col"), _numeric(points, y_col, "y_col")
    if crs is None and len(x) and np.abs(x).max() <= 180 and np.abs(y).max() <= 90:
        raise ParameterError(
            "coordinates look like degrees (all |x| <= 180, |y| <= 90) and there is no CRS; project to metres "
            "(gpd.points_from_xy(lng, lat, crs='EPSG:4326') then .to_crs('EPSG:27700')), or if these are metres "
            "pass a GeoDataFrame with its projected CRS"
        )
    w = np.ones(len(x)) if weight is None else _numeric(points, weight, "weight")
    if (w < 0).any():
        raise ParameterError(f"weight column {weight!r} has negative values; weights are counts, use >= 0")
    labels, core = dbscan_labels(x, y, eps_m=eps_m, min_samples=min_samples, sample_weight=w)
    labelled = points.assign(dbscan_cluster=labels, dbscan_core=core)

    members = np.flatnonzero(labels >= 0)
    order = members[np.argsort(labels[members], kind="stable")]
    lab, xy, ws = labels[order], np.column_stack([x, y])[order], w[order]
    k = int(labels.max()) + 1 if len(members) else 0
    firsts = np.searchsorted(lab, np.arange(k))
    lo, hi = np.minimum.reduceat(xy, firsts), np.maximum.reduceat(xy, firsts)
    size = np.bincount(lab, weights=ws, minlength=k)
    ws = np.where(size[lab] > 0, ws, 1.0)  # a cluster weighing 0 takes the plain mean
    offset = np.column_stack([np.bincount(lab, weights=ws * (xy[:, d] - lo[lab, d]), minlength=k) for d in (0, 1)])
    centroid = lo + offset / np.bincount(lab, weights=ws, minlength=k)[:, None]
    keep = _hull_candidates(lab, xy, lo, hi)  # building shapely points dominates: pass only possible vertices
    hulls = shapely.convex_hull(shapely.multipoints(xy[keep], indices=lab[keep]))
    table = {
        "dbscan_cluster": np.arange(k, dtype=np.int64),
        "n_points": np.bincount(lab, minlength=k).astype(np.int64),
        "weighted_size": size,
        "centroid_x": centroid[:, 0],
        "centroid_y": centroid[:, 1],
        "extent_m": (hi - lo).max(axis=1),
        "area_m2": shapely.area(hulls),
    }
    clusters = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(hulls, crs=crs), crs=crs)
    return labelled, clusters
