"""Disclosure control for shared tables and maps: small counts withheld, and not recoverable.

Every table or map marked for sharing goes through one of three functions:
:func:`suppress_table` (2-D counts with row, column and grand totals),
:func:`suppress_series` (one column with its total) and :func:`suppress_cells`
(an H3 map layer whose area total is published). Defaults follow DOMAIN.md
section 8: counts of 1 to 4 are withheld for publication (``threshold=5``); use
``threshold=10`` for partner release (the ONS SRS output-checking rule).

Rules, in order:

1. **Primary suppression**: every cell or total with ``1 <= count < threshold``.
   Zeros are published (a zero identifies nobody); pass ``suppress_zeros=True``
   to withhold them as well.
2. **Secondary suppression**: every line (a row with its total, a column with its
   total, the row totals with the grand total, the column totals with the grand
   total) holding a withheld entry must hold at least two, and where the line's
   total is published and a primary entry in it is withheld, the withheld cells in
   the line must add up to at least ``threshold`` (else the total minus the
   published cells bounds them all below the threshold). Complements are the
   smallest non-zero cells that meet the shortfall; zero cells are used only when
   no non-zero cell is left. Repeated until nothing changes.
3. **Audit**: the line rule can fail in some patterns, so the exact feasible range
   of every withheld entry is computed from everything published (linear
   programming over the non-negative integers, :func:`audit_table`). While any
   withheld entry is recoverable exactly, or a primary entry's range stays below the
   threshold, the smallest non-zero unsuppressed entry on one of its lines is
   withheld too. Withholding everything always passes, so this terminates.
   "Below the threshold" means an upper bound under ``threshold``: stricter than a
   range inside ``1 .. threshold-1``, since a range ``0 .. 3`` also tells a reader
   the count is small or zero. To keep the audit fast, an entry is first checked
   against integer points known to be feasible (the true values, moves along
   rectangles of withheld entries that keep every total, and every optimum already
   solved); linear programs run only for entries those points do not clear, and the
   minimum only when the maximum does not already show more than one value.

A withheld total is an entry like any other: a row total of 3 is withheld, and then
the row totals with the grand total form a line needing a second withheld entry. A
zero cell withheld as a complement shows as ``[c]`` like any other, so its value is
not known to a reader. Empty tables get primary suppression only.

Every withheld value displays as ``"[c]"`` (confidential, GSS practice), primary and
secondary alike: showing ``"<5"`` would tell a reader which cells are small.

The attacker modelled here knows the published numbers, that counts are
non-negative integers and that totals add up; the model ignores knowledge of the
order in which complements are chosen (the usual convention in statistical
disclosure control).

References
----------
Government Statistical Service (2014). GSS/GSR disclosure control guidance for tables
produced from administrative sources.

Analysis Function (GSS). Symbols in tables, definitions and help: ``[c]`` confidential.

Hundepool, A. et al. (2012). Statistical Disclosure Control. Wiley (cell suppression,
secondary suppression and the audit of suppression patterns in tables).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd

from hotspots.errors import ParameterError

__all__ = ["SuppressedSeries", "SuppressedTable", "audit_table", "suppress_cells", "suppress_series", "suppress_table"]

SUPPRESSED = "[c]"


# --- kernels: a table with its margins as one (r+1, c+1) grid, entries addressed by flat index --------


def _lines(r: int, c: int, row_total: bool, col_total: bool, grand_total: bool) -> list[tuple[np.ndarray, int]]:
    """Additive relations ``sum(grid[interior]) == grid[total]`` as (interior flat indices, total flat index)."""
    w = c + 1
    lines = []
    if row_total:
        lines += [(i * w + np.arange(c), i * w + c) for i in range(r)]
    if col_total:
        lines += [(np.arange(r) * w + j, r * w + j) for j in range(c)]
    if grand_total and row_total:
        lines.append((np.arange(r) * w + c, r * w + c))
    if grand_total and col_total:
        lines.append((r * w + np.arange(c), r * w + c))
    return lines


def _grid(values: np.ndarray, row_total: bool, col_total: bool, grand_total: bool) -> tuple[np.ndarray, np.ndarray]:
    """Counts with margins appended, and which entries are published at all."""
    r, c = values.shape
    grid = np.zeros((r + 1, c + 1), np.int64)
    grid[:r, :c] = values
    grid[:r, c] = values.sum(axis=1)
    grid[r, :c] = values.sum(axis=0)
    grid[r, c] = values.sum()
    present = np.zeros_like(grid, dtype=bool)
    present[:r, :c] = True
    present[:r, c] = row_total
    present[r, :c] = col_total
    present[r, c] = grand_total
    return grid.ravel(), present.ravel()


def _optimum(cost: np.ndarray, a_eq: np.ndarray, b_eq: np.ndarray, points: list | None = None) -> float:
    """Minimum of ``cost @ x`` over non-negative integers with ``a_eq @ x == b_eq`` (``-inf`` if unbounded).

    ``points``, when given, collects the integer optimum found (a feasible point of the attacker's set).
    """
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    res = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if res.status == 3:
        return -np.inf
    if res.status != 0:
        raise RuntimeError(f"disclosure audit: linprog failed ({res.message}); the published totals are inconsistent")
    if not np.allclose(res.x, np.round(res.x), atol=1e-7):  # an integral optimum is the integer optimum
        res = milp(cost, constraints=LinearConstraint(a_eq, b_eq, b_eq), integrality=np.ones_like(cost),
                   bounds=Bounds(0, np.inf))
    if points is not None:
        points.append(np.round(res.x))
    return float(np.round(res.fun))


def _moves(grid: np.ndarray, withheld: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """How far each withheld entry can move up and down along one rectangle of withheld entries (a certificate).

    Write the table with its margins as ``E`` (cells and grand total as they are, row and column totals
    negated): every row and column of ``E`` sums to zero, and adding ``+d, -d, -d, +d`` at the corners of a
    rectangle keeps every published total. Along a rectangle of withheld entries the counts stay
    non-negative integers for ``d`` up to the smallest corner that decreases, so these are integer points
    of the attacker's feasible set: ``value + up`` and ``value - down`` lie inside its range (an inner bound,
    found without linear programming). Entries on no such rectangle get 0.
    """
    r1, c1 = shape[0] + 1, shape[1] + 1
    v = grid.reshape(r1, c1).astype(float)
    w = withheld.reshape(r1, c1)
    s = np.ones((r1, c1))
    s[:-1, -1] = -1.0
    s[-1, :-1] = -1.0
    # axes (a, b, a2, b2): entry (a, b), partners (a, b2), (a2, b), (a2, b2) with pattern -1, -1, +1
    v1, w1, s1 = v[:, None, None, :], w[:, None, None, :], s[:, None, None, :]
    v2, w2, s2 = v.T[None, :, :, None], w.T[None, :, :, None], s.T[None, :, :, None]
    v3, w3, s3 = v[None, None, :, :], w[None, None, :, :], s[None, None, :, :]
    s0 = s[:, :, None, None]
    ok = w[:, :, None, None] & w1 & w2 & w3
    ok &= (np.arange(r1)[:, None, None, None] != np.arange(r1)[None, None, :, None])
    ok &= (np.arange(c1)[None, :, None, None] != np.arange(c1)[None, None, None, :])
    inf = np.inf
    c1_, c2_, c3_ = -s1 * s0, -s2 * s0, s3 * s0  # change of each partner's count per unit rise of (a, b)
    up = np.minimum(np.minimum(np.where(c1_ < 0, v1, inf), np.where(c2_ < 0, v2, inf)), np.where(c3_ < 0, v3, inf))
    down = np.minimum(np.minimum(np.where(c1_ > 0, v1, inf), np.where(c2_ > 0, v2, inf)), np.where(c3_ > 0, v3, inf))
    down = np.minimum(down, v[:, :, None, None])
    up = np.where(ok, up, 0.0).max(axis=(2, 3)).ravel()
    down = np.where(ok, down, 0.0).max(axis=(2, 3)).ravel()
    return up, down


def _bounds(grid: np.ndarray, withheld: np.ndarray, lines, only: np.ndarray | None = None,
            safe: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integer range ``[lo, hi]`` of every withheld entry given the published ones (NaN elsewhere).

    ``only`` (a flat mask) limits the linear programs to those entries. ``safe = (known_lo, known_hi, need)``
    (flat arrays: a range of values known to be feasible, and the upper bound each entry must reach) skips an
    entry once the feasible integer points found so far (the true values, rectangle moves, every optimum
    solved) show its range is wider than one value and reaches ``need``; skipped entries keep ``[0, inf)``.
    Use it only to find failures, never to report ranges.
    """
    from scipy.sparse.csgraph import connected_components

    var = np.flatnonzero(withheld)
    pos = np.full(grid.size, -1)
    pos[var] = np.arange(var.size)
    rows, rhs = [], []
    for interior, total in lines:
        coef, const = np.zeros(var.size), 0
        for p, sign in [*((p, 1) for p in interior), (total, -1)]:
            if withheld[p]:
                coef[pos[p]] += sign
            else:
                const += sign * grid[p]
        if coef.any():
            rows.append(coef)
            rhs.append(-const)
    lo, hi = np.full(grid.size, np.nan), np.full(grid.size, np.nan)
    lo[var], hi[var] = 0.0, np.inf  # an entry on no line with a published number is free
    if not rows:
        return lo, hi
    a, b = np.array(rows), np.array(rhs, float)
    _, comp = connected_components((np.abs(a).T @ np.abs(a)) > 0, directed=False)
    for k in np.unique(comp):  # independent blocks of withheld entries, solved separately
        cols = np.flatnonzero(comp == k)
        sub_rows = np.flatnonzero(np.abs(a[:, cols]).sum(axis=1) > 0)
        if sub_rows.size == 0:
            continue
        a_k, b_k = a[np.ix_(sub_rows, cols)], b[sub_rows]
        points: list | None = None
        if safe is not None:
            known_lo, known_hi = safe[0][var[cols]].copy(), safe[1][var[cols]].copy()
            points = []
        for n, v in enumerate(cols):
            if only is not None and not only[var[v]]:
                continue
            cost = np.zeros(cols.size)
            cost[n] = 1.0
            if safe is not None and points is not None:
                for x in points:  # every optimum found is a feasible integer point: it widens the known ranges
                    known_lo, known_hi = np.minimum(known_lo, x), np.maximum(known_hi, x)
                points.clear()
                if known_hi[n] - known_lo[n] >= 1 and known_hi[n] >= safe[2][var[v]]:
                    continue
            hi[var[v]] = -_optimum(-cost, a_k, b_k, points)
            if safe is not None and hi[var[v]] - safe[0][var[v]] >= 1:
                lo[var[v]] = safe[0][var[v]]  # the maximum is above a feasible value: not exact, no minimum needed
                continue
            lo[var[v]] = _optimum(cost, a_k, b_k, points)
    return lo, hi


def _failures(grid, withheld, sensitive, lines, threshold, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Flat indices of withheld entries recoverable exactly, or of sensitive ones bounded below the threshold.

    With the table's ``shape``, entries certified safe by :func:`_moves` (a rectangle moves them by one or more,
    and a sensitive one up to the threshold) skip the linear programs.
    """
    need = np.where(sensitive, threshold, 0).astype(float)
    known_lo, known_hi = grid.astype(float), grid.astype(float)
    if shape is not None and (shape[0] + 1) * (shape[1] + 1) <= 400:  # the moves hold (entries)^2 values
        up, down = _moves(grid, withheld, shape)
        known_lo, known_hi = known_lo - down, known_hi + up
    only = withheld & ~((known_hi - known_lo >= 1) & (known_hi >= need))
    if not only.any():
        return np.zeros(0, dtype=np.int64)
    lo, hi = _bounds(grid, withheld, lines, only, (known_lo, known_hi, need))
    with np.errstate(invalid="ignore"):
        bad = withheld & ((hi - lo < 0.5) | (sensitive & (hi < threshold)))
    return np.flatnonzero(bad)


def _pick(candidates: np.ndarray, grid: np.ndarray, need: int = 1) -> int:
    """Smallest non-zero candidate >= need; else the largest non-zero one; else a zero one."""
    values = grid[candidates]
    ok = candidates[values >= max(need, 1)]
    if ok.size:
        return int(ok[np.argmin(grid[ok])])
    return int(candidates[np.argmax(values)])


def _suppress_grid(grid, present, lines, *, threshold: int, suppress_zeros: bool, audit: bool = True,
                   shape: tuple[int, int] | None = None):
    """Primary, line-rule and audit-driven suppression; returns (withheld, sensitive) flat masks.

    ``audit=False`` is for a single line (a column and its total): there the line rule is
    already exact. With h >= 2 withheld cells whose sum S >= threshold is all the total
    reveals, each withheld count ranges over [0, S]: never a single value, never only small.
    """
    sensitive = present & (((grid >= 1) & (grid < threshold)) | (suppress_zeros & (grid == 0)))
    withheld = sensitive.copy()
    members = [np.append(interior, total) for interior, total in lines]
    changed = True
    while changed:  # the line rule: >= 2 withheld per line, withheld cells summing to >= threshold
        changed = False
        for (interior, total), line in zip(lines, members, strict=True):
            held = line[withheld[line]]
            if held.size == 0:
                continue
            inner = interior[withheld[interior]]
            need, short = 1, held.size < 2
            if not withheld[total] and sensitive[inner].any():
                need = threshold - int(grid[inner].sum())
                short = short or need > 0
            if not short:
                continue
            free = interior[~withheld[interior]]
            if free.size == 0:
                free = line[~withheld[line] & present[line]]
            if free.size == 0:
                continue
            withheld[_pick(free, grid, need)] = True
            changed = True
    if not audit:
        return withheld, sensitive
    on_lines = [[m for m, line in enumerate(members) if p in line] for p in range(grid.size)]
    while (bad := _failures(grid, withheld, sensitive, lines, threshold, shape)).size:  # the audit is the guarantee
        for p in bad:
            near = np.unique(np.concatenate([members[m] for m in on_lines[p]] or [np.zeros(0, int)]))
            free = near[~withheld[near] & present[near]]
            if free.size == 0:
                free = np.flatnonzero(~withheld & present)
            if free.size:
                withheld[_pick(free, grid)] = True
    return withheld, sensitive


# --- validation ---------------------------------------------------------------------------------------


def _check_threshold(threshold) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, Integral) or threshold < 2:
        raise ParameterError(
            f"threshold must be an integer >= 2 (5 for publication, 10 for partner release); got {threshold!r}"
        )
    return int(threshold)


def _counts(frame: pd.DataFrame, what: str) -> np.ndarray:
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            raise ParameterError(f"{what} column {col!r} must hold integer counts; got dtype {s.dtype}")
        if s.isna().any():
            raise ParameterError(f"{what} column {col!r} has missing counts; fill them with 0 or drop the rows")
    arr = frame.to_numpy(dtype=float).reshape(len(frame), frame.shape[1])
    if (arr < 0).any():
        raise ParameterError(f"{what} has negative counts; counts must be >= 0, fix the source table")
    if not np.isfinite(arr).all() or (arr != np.round(arr)).any():
        raise ParameterError(f"{what} has non-integer counts; suppress raw counts, not rates or rounded shares")
    return arr.astype(np.int64)


def _published(values: np.ndarray, withheld: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``Int64`` counts with withheld entries ``<NA>``."""
    return pd.arrays.IntegerArray(np.where(withheld, 0, values).astype(np.int64), np.asarray(withheld, bool))


# --- frame functions ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SuppressedTable:
    """A 2-D table ready to share, from :func:`suppress_table`.

    Attributes
    ----------
    table : pandas.DataFrame
        The input with value columns as ``Int64``, withheld cells ``<NA>``; other columns unchanged.
    mask : pandas.DataFrame
        ``bool``, value columns only; True where withheld.
    row_totals, col_totals : pandas.Series or None
        ``Int64`` totals (``<NA>`` where withheld); None when not published.
    grand_total : int, pandas.NA or None
        None when neither margin is published.
    threshold : int
    value_cols : tuple
    suppress_zeros : bool
    n_primary, n_secondary : int
        Withheld entries (cells and totals) below the threshold, and withheld to protect them.
    """

    table: pd.DataFrame
    mask: pd.DataFrame
    row_totals: pd.Series | None
    col_totals: pd.Series | None
    grand_total: object
    threshold: int
    value_cols: tuple
    suppress_zeros: bool
    n_primary: int
    n_secondary: int

    def to_display(self, *, total_label: str = "Total") -> pd.DataFrame:
        """Strings for a report: counts with thousands separators, every withheld entry ``"[c]"``."""

        def text(v):
            return SUPPRESSED if pd.isna(v) else f"{int(v):,}"

        out = self.table.astype(object).copy()
        for col in self.value_cols:
            out[col] = self.table[col].map(text).astype(object)
        if self.grand_total is not None:  # a Total column and a Total row meeting at the grand total
            out[total_label] = "" if self.row_totals is None else self.row_totals.map(text).astype(object)
            last = {col: "" for col in out.columns}
            if self.col_totals is not None:
                last.update({col: text(self.col_totals[col]) for col in self.value_cols})
            last[total_label] = text(self.grand_total)
            out = pd.concat([out, pd.DataFrame([last], index=[total_label])])
        return out


def suppress_table(
    table: pd.DataFrame,
    *,
    threshold: int = 5,
    row_total: bool = True,
    col_total: bool = True,
    value_cols=None,
    suppress_zeros: bool = False,
) -> SuppressedTable:
    """Withhold small counts in a 2-D table so that no withheld value can be recovered.

    Parameters
    ----------
    table : pandas.DataFrame, shape (n_rows, n_cols)
        Non-negative integer counts, e.g. month x threat area or hour x weekday.
    threshold : int, default 5
        Counts ``1 .. threshold-1`` are withheld; 5 for publication, 10 for partner release.
    row_total, col_total : bool, default True
        Whether row totals and column totals are published; the grand total is published
        whenever either is.
    value_cols : list of str, optional
        The count columns; default all columns. Other columns pass through unchanged.
    suppress_zeros : bool, default False
        Also treat zero counts (and zero totals) as disclosive.

    Returns
    -------
    SuppressedTable
        See the module docstring for the rules; :func:`audit_table` passes on it.

    Raises
    ------
    ParameterError
        For a threshold below 2, unknown ``value_cols``, or counts that are missing,
        negative or not integers.

    Examples
    --------
    >>> counts = pd.DataFrame({"North": [2, 11, 13], "South": [10, 15, 16], "East": [12, 20, 30]},
    ...                       index=["Jan", "Feb", "Mar"])
    >>> out = suppress_table(counts)
    >>> out.n_primary, out.n_secondary
    (1, 3)
    >>> out.to_display()
          North South East Total
    Jan     [c]   [c]   12    24
    Feb     [c]   [c]   20    46
    Mar      13    16   30    59
    Total    26    41   62   129
    """
    threshold = _check_threshold(threshold)
    if not isinstance(table, pd.DataFrame):
        raise ParameterError(f"table must be a pandas DataFrame of counts; got {type(table).__name__}")
    cols = list(table.columns) if value_cols is None else list(value_cols)
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ParameterError(f"value_cols {missing} are not columns of table (available: {list(table.columns)})")
    values = _counts(table[cols], "table")
    r, c = values.shape
    grand = bool(row_total or col_total)
    grid, present = _grid(values, bool(row_total), bool(col_total), grand)
    lines = _lines(r, c, bool(row_total), bool(col_total), grand) if r and c else []
    withheld, sensitive = _suppress_grid(grid, present, lines, threshold=threshold, suppress_zeros=suppress_zeros,
                                         shape=(r, c))
    held2, grid2 = withheld.reshape(r + 1, c + 1), grid.reshape(r + 1, c + 1)
    published = table.copy()
    for j, col in enumerate(cols):
        published[col] = _published(values[:, j], held2[:r, j])
    return SuppressedTable(
        table=published,
        mask=pd.DataFrame(held2[:r, :c], index=table.index, columns=cols),
        row_totals=pd.Series(_published(grid2[:r, c], held2[:r, c]), index=table.index) if row_total else None,
        col_totals=pd.Series(_published(grid2[r, :c], held2[r, :c]), index=cols) if col_total else None,
        grand_total=(pd.NA if held2[r, c] else int(grid2[r, c])) if grand else None,
        threshold=threshold,
        value_cols=tuple(cols),
        suppress_zeros=bool(suppress_zeros),
        n_primary=int((withheld & sensitive).sum()),
        n_secondary=int((withheld & ~sensitive).sum()),
    )


def audit_table(table: pd.DataFrame, suppressed: SuppressedTable) -> pd.DataFrame:
    """What an attacker can learn about each withheld entry of a shared table.

    For every withheld cell and total, the exact range of values consistent with all
    published numbers (non-negative integers that add up to the published totals),
    found by linear programming with an integer fallback (:func:`scipy.optimize.milp`).

    Parameters
    ----------
    table : pandas.DataFrame
        The original counts given to :func:`suppress_table`.
    suppressed : SuppressedTable
        Its result.

    Returns
    -------
    pandas.DataFrame
        One row per withheld entry: ``entry`` (``"cell"``, ``"row_total"``, ``"col_total"``,
        ``"grand_total"``), ``row`` and ``column`` labels (None along a margin), ``value``,
        ``lower`` and ``upper`` (float; ``inf`` when unbounded), ``sensitive`` (1 .. threshold-1,
        or zero under ``suppress_zeros``), ``exact`` (range is one value), ``small`` (range lies
        within 1 .. threshold-1), ``below_threshold`` (sensitive and ``upper < threshold``) and
        ``disclosed`` (any of the three).

    Raises
    ------
    ParameterError
        If ``suppressed`` was not made from ``table``.

    Examples
    --------
    >>> counts = pd.DataFrame({"a": [3, 9], "b": [8, 20]})
    >>> audit = audit_table(counts, suppress_table(counts))
    >>> audit[["entry", "row", "column", "value", "lower", "upper", "disclosed"]]
      entry  row column  value  lower  upper  disclosed
    0  cell    0      a      3    0.0   11.0      False
    1  cell    0      b      8    0.0   11.0      False
    2  cell    1      a      9    1.0   12.0      False
    3  cell    1      b     20   17.0   28.0      False
    """
    cols = list(suppressed.value_cols)
    if list(table.index) != list(suppressed.table.index) or any(c not in table.columns for c in cols):
        raise ParameterError("suppressed was not made from table (index or columns differ); pass the original table")
    values = _counts(table[cols], "table")
    r, c = values.shape
    row_total, col_total = suppressed.row_totals is not None, suppressed.col_totals is not None
    grand = suppressed.grand_total is not None
    grid, present = _grid(values, row_total, col_total, grand)
    held = np.zeros((r + 1, c + 1), bool)
    held[:r, :c] = suppressed.mask.to_numpy(bool)
    if suppressed.row_totals is not None:
        held[:r, c] = suppressed.row_totals.isna().to_numpy()
    if suppressed.col_totals is not None:
        held[r, :c] = suppressed.col_totals.isna().to_numpy()
    held[r, c] = grand and suppressed.grand_total is pd.NA
    shown = suppressed.table[cols].to_numpy(dtype=float, na_value=np.nan)
    if not np.array_equal(shown[~held[:r, :c]], values[~held[:r, :c]]):
        raise ParameterError("suppressed was not made from table (published cells differ); pass the original table")
    withheld, k = held.ravel() & present, suppressed.threshold
    lo, hi = _bounds(grid, withheld, _lines(r, c, row_total, col_total, grand) if r and c else [])
    sensitive = ((grid >= 1) & (grid < k)) | (suppressed.suppress_zeros & (grid == 0))
    rows = []
    for p in np.flatnonzero(withheld):
        i, j = divmod(int(p), c + 1)
        entry = "cell" if i < r and j < c else "row_total" if i < r else "col_total" if j < c else "grand_total"
        exact, small = hi[p] - lo[p] < 0.5, lo[p] >= 1 and hi[p] <= k - 1
        below = bool(sensitive[p] and hi[p] < k)
        rows.append({"entry": entry, "row": table.index[i] if i < r else None, "column": cols[j] if j < c else None,
                     "value": int(grid[p]), "lower": lo[p], "upper": hi[p], "sensitive": bool(sensitive[p]),
                     "exact": bool(exact), "small": bool(small), "below_threshold": below,
                     "disclosed": bool(exact or small or below)})
    columns = ["entry", "row", "column", "value", "lower", "upper", "sensitive", "exact", "small",
               "below_threshold", "disclosed"]
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True, kw_only=True)
class SuppressedSeries:
    """A 1-D table ready to share, from :func:`suppress_series`.

    Attributes
    ----------
    counts : pandas.Series
        ``Int64``, withheld values ``<NA>``.
    mask : pandas.Series
        ``bool``; True where withheld.
    total : int, pandas.NA or None
        None when not published.
    threshold, n_primary, n_secondary : int
    """

    counts: pd.Series
    mask: pd.Series
    total: object
    threshold: int
    n_primary: int
    n_secondary: int

    def to_display(self, *, total_label: str = "Total") -> pd.Series:
        """Strings for a report, every withheld entry ``"[c]"``, the total (if published) last."""
        out = self.counts
        if self.total is not None:
            out = pd.concat([out, pd.Series([self.total], index=[total_label], name=out.name)])
        return out.map(lambda v: SUPPRESSED if pd.isna(v) else f"{int(v):,}").astype(object)


def _suppress_1d(counts: pd.Series, threshold: int, total: bool, suppress_zeros: bool, what: str):
    values = _counts(counts.to_frame(), what)
    n = len(values)
    grid, present = _grid(values, False, bool(total), False)
    lines = _lines(n, 1, False, bool(total), False) if n else []
    withheld, sensitive = _suppress_grid(
        grid, present, lines, threshold=threshold, suppress_zeros=suppress_zeros, audit=False
    )
    held, grid = withheld.reshape(n + 1, 2)[:, 0], grid.reshape(n + 1, 2)[:, 0]
    counts_out = pd.Series(_published(values[:, 0], held[:n]), index=counts.index, name=counts.name)
    tot = (pd.NA if held[n] else int(grid[n])) if total else None
    return counts_out, pd.Series(held[:n], index=counts.index, name=counts.name), tot, withheld, sensitive


def suppress_series(counts: pd.Series, *, threshold: int = 5, total: bool = True,
                    suppress_zeros: bool = False) -> SuppressedSeries:
    """Withhold small counts in one column with its total, so none can be recovered from the total.

    The same rules as :func:`suppress_table` on a single line: counts ``1 .. threshold-1`` are
    withheld; if a total is published and one value is withheld (or the withheld values sum
    below ``threshold``), the next smallest non-zero values are withheld until two or more are
    withheld summing to at least ``threshold``. A total below the threshold is withheld itself.

    Parameters
    ----------
    counts : pandas.Series
        Non-negative integer counts.
    threshold : int, default 5
    total : bool, default True
        Whether the total is published.
    suppress_zeros : bool, default False

    Returns
    -------
    SuppressedSeries

    Raises
    ------
    ParameterError
        For a threshold below 2, or counts that are missing, negative or not integers.

    Examples
    --------
    >>> out = suppress_series(pd.Series([3, 0, 6, 12], index=["Mon", "Tue", "Wed", "Thu"], name="crimes"))
    >>> out.to_display()
    Mon      [c]
    Tue        0
    Wed      [c]
    Thu       12
    Total     21
    Name: crimes, dtype: object
    """
    threshold = _check_threshold(threshold)
    if not isinstance(counts, pd.Series):
        raise ParameterError(f"counts must be a pandas Series of counts; got {type(counts).__name__}")
    out, mask, tot, withheld, sensitive = _suppress_1d(counts, threshold, total, suppress_zeros, "counts")
    return SuppressedSeries(counts=out, mask=mask, total=tot, threshold=threshold,
                            n_primary=int((withheld & sensitive).sum()), n_secondary=int((withheld & ~sensitive).sum()))


def suppress_cells(cells: pd.DataFrame, *, count_col: str = "count", threshold: int = 5, area_total: bool = True,
                   suppress_zeros: bool = False) -> pd.DataFrame:
    """Withhold small counts in a map layer (one row per H3 cell) before it is shared.

    Counts ``1 .. threshold-1`` are withheld. When the total for the area is published
    (``area_total=True``), the smallest other non-zero cells are withheld too, until at
    least two cells are withheld and the withheld cells sum to at least ``threshold``, so
    the total minus the published cells does not reveal a small number.

    Parameters
    ----------
    cells : pandas.DataFrame
        One row per cell with a non-negative integer ``count_col``.
    count_col : str, default "count"
    threshold : int, default 5
    area_total : bool, default True
        Whether the area total is published alongside the map.
    suppress_zeros : bool, default False

    Returns
    -------
    pandas.DataFrame
        A copy of ``cells`` with ``count_col`` as ``Int64`` (``<NA>`` where withheld) and a
        ``suppressed`` bool column.

    Raises
    ------
    ParameterError
        For a missing ``count_col``, a threshold below 2, or bad counts.

    Examples
    --------
    >>> cells = pd.DataFrame({"h3": ["a", "b", "c", "d"], "count": [2, 7, 30, 0]})
    >>> suppress_cells(cells)
      h3  count  suppressed
    0  a   <NA>        True
    1  b   <NA>        True
    2  c     30       False
    3  d      0       False
    """
    threshold = _check_threshold(threshold)
    if not isinstance(cells, pd.DataFrame) or count_col not in cells.columns:
        available = list(cells.columns) if isinstance(cells, pd.DataFrame) else type(cells).__name__
        raise ParameterError(f"cells has no column {count_col!r} (available: {available}); pass count_col=")
    out, mask, *_ = _suppress_1d(cells[count_col], threshold, area_total, suppress_zeros, f"cells[{count_col!r}]")
    return cells.assign(**{count_col: out, "suppressed": mask.to_numpy()})
