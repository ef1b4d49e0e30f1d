"""The grid DBSCAN kernels (numba, no pandas): cells of side eps/sqrt 2, core points, union-find, border points.

Private to :mod:`hotspots.clustering`, whose :func:`~hotspots.clustering.dbscan_labels`
documents the algorithm and calls these on two threads.
"""

from __future__ import annotations

import math

import numba
import numpy as np


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
