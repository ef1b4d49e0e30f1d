"""Disclosure control: no small count published, none recoverable, checked by an independent LP attacker."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from hotspots.disclosure import (
    _bounds,
    _grid,
    _lines,
    _moves,
    audit_table,
    suppress_cells,
    suppress_series,
    suppress_table,
)
from hotspots.errors import ParameterError

# --- an independent attacker: variables are the cells only, published numbers are equalities ------------


def attacker_ranges(out, *, row_total=True, col_total=True):
    """LP range over non-negative reals of every withheld cell and total, from published numbers only.

    The real relaxation contains the attacker's integer range, so passing checks on it is the stronger test.
    Returns {(kind, i, j): (lower, upper)} with kind "cell", "row", "col" or "grand".
    """
    pub = out.table[list(out.value_cols)].to_numpy(dtype=float, na_value=np.nan)
    r, c = pub.shape
    known = ~np.isnan(pub)
    bounds = [(v, v) if k else (0, None) for v, k in zip(pub.ravel(), known.ravel(), strict=True)]
    a_eq, b_eq = [], []
    quantities = {}  # withheld quantity -> coefficient vector over the r*c cells
    for i in range(r):
        for j in range(c):
            if not known[i, j]:
                e = np.zeros(r * c)
                e[i * c + j] = 1
                quantities[("cell", i, j)] = e
    for i in range(r):
        vec = np.zeros((r, c))
        vec[i, :] = 1
        if row_total:
            total = out.row_totals.iloc[i]
            if pd.isna(total):
                quantities[("row", i, None)] = vec.ravel()
            else:
                a_eq.append(vec.ravel())
                b_eq.append(float(total))
    for j in range(c):
        vec = np.zeros((r, c))
        vec[:, j] = 1
        if col_total:
            total = out.col_totals.iloc[j]
            if pd.isna(total):
                quantities[("col", None, j)] = vec.ravel()
            else:
                a_eq.append(vec.ravel())
                b_eq.append(float(total))
    if out.grand_total is not None:
        if pd.isna(out.grand_total):
            quantities[("grand", None, None)] = np.ones(r * c)
        else:
            a_eq.append(np.ones(r * c))
            b_eq.append(float(out.grand_total))
    kw = dict(A_eq=np.array(a_eq) if a_eq else None, b_eq=np.array(b_eq) if b_eq else None, bounds=bounds)
    ranges = {}
    for key, vec in quantities.items():
        lo = linprog(vec, method="highs", **kw)
        hi = linprog(-vec, method="highs", **kw)
        assert lo.status == 0, lo.message
        ranges[key] = (lo.fun, np.inf if hi.status == 3 else -hi.fun)
    return ranges


def truth(values, key):
    what, i, j = key
    return {"cell": lambda: values[i, j], "row": lambda: values[i].sum(), "col": lambda: values[:, j].sum(),
            "grand": lambda: values.sum()}[what]()


def check_table(frame, out, *, threshold, row_total=True, col_total=True, suppress_zeros=False):
    values = frame.to_numpy()
    k = threshold

    def small(v):
        return 1 <= v < k or (suppress_zeros and v == 0)

    # (a) nothing small published; (c) published cells unchanged
    pub = out.table.to_numpy(dtype=float, na_value=np.nan)
    shown = ~np.isnan(pub)
    assert np.array_equal(shown, ~out.mask.to_numpy())
    assert np.array_equal(pub[shown], values[shown])
    assert not any(small(v) for v in values[shown])
    published_totals = []
    if row_total:
        rt = out.row_totals
        assert np.array_equal(rt.dropna().to_numpy(int), values.sum(axis=1)[rt.notna().to_numpy()])
        published_totals += list(rt.dropna())
    if col_total:
        ct = out.col_totals
        assert np.array_equal(ct.dropna().to_numpy(int), values.sum(axis=0)[ct.notna().to_numpy()])
        published_totals += list(ct.dropna())
    if out.grand_total is not None and not pd.isna(out.grand_total):
        assert out.grand_total == values.sum()
        published_totals.append(out.grand_total)
    assert not any(small(v) for v in published_totals)
    # (b) the attacker learns no withheld value exactly, and never that a small one is small
    for key, (lo, hi) in attacker_ranges(out, row_total=row_total, col_total=col_total).items():
        v = truth(values, key)
        assert lo - 1e-6 <= v <= hi + 1e-6, (key, v, lo, hi)
        assert hi - lo >= 1 - 1e-6, f"{key} = {v} recoverable: range [{lo}, {hi}]"
        assert not (lo >= 1 - 1e-6 and hi <= k - 1 + 1e-6), f"{key} = {v} known to be small: [{lo}, {hi}]"
        if small(v):
            assert hi >= k - 1e-6, f"{key} = {v} bounded below the threshold: [{lo}, {hi}]"


small_heavy = st.one_of(st.integers(0, 4), st.integers(0, 9), st.integers(0, 30))


@st.composite
def tables(draw):
    r, c = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    cells = draw(st.lists(small_heavy, min_size=r * c, max_size=r * c))
    return pd.DataFrame(np.array(cells, dtype=np.int64).reshape(r, c), columns=[f"c{j}" for j in range(c)])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from([5, 10]), st.booleans(), st.booleans(), st.booleans())
def test_random_tables_are_protected(frame, threshold, row_total, col_total, suppress_zeros):
    before = frame.copy()
    out = suppress_table(frame, threshold=threshold, row_total=row_total, col_total=col_total,
                         suppress_zeros=suppress_zeros)
    pd.testing.assert_frame_equal(frame, before)  # (d) input not mutated
    check_table(frame, out, threshold=threshold, row_total=row_total, col_total=col_total,
                suppress_zeros=suppress_zeros)
    audit = audit_table(frame, out)
    assert not audit["disclosed"].any()
    assert len(audit) == out.n_primary + out.n_secondary
    display = out.to_display()
    n_cells_hidden = int(out.mask.to_numpy().sum())
    assert (display[list(out.value_cols)].iloc[: len(frame)] == "[c]").to_numpy().sum() == n_cells_hidden


@settings(max_examples=150, deadline=None)
@given(st.lists(small_heavy, min_size=1, max_size=15), st.sampled_from([5, 10]), st.booleans())
def test_random_series_are_protected(counts, threshold, total):
    s = pd.Series(counts, name="n")
    before = s.copy()
    out = suppress_series(s, threshold=threshold, total=total)
    pd.testing.assert_series_equal(s, before)
    values = s.to_numpy()
    shown = ~out.mask.to_numpy()
    assert out.counts[shown].astype(int).tolist() == values[shown].tolist()
    assert not ((values[shown] >= 1) & (values[shown] < threshold)).any()
    if total:
        if pd.isna(out.total):
            assert 1 <= values.sum() < threshold
        else:
            assert out.total == values.sum() and not 1 <= out.total < threshold
            hidden = values[~shown]
            if hidden.size:  # the total minus the published cells: the sum of what is hidden
                assert hidden.size >= 2
                assert hidden.sum() >= threshold or not ((hidden >= 1) & (hidden < threshold)).any()
    else:
        assert out.total is None
        assert (out.mask.to_numpy() == ((values >= 1) & (values < threshold))).all()  # primary only


# --- hand-checked examples ------------------------------------------------------------------------------


def test_one_small_cell_takes_a_rectangle():
    frame = pd.DataFrame({"North": [2, 11, 13], "South": [10, 15, 16], "East": [12, 20, 30]})
    out = suppress_table(frame)
    expected = np.array([[True, True, False], [True, True, False], [False, False, False]])
    assert (out.mask.to_numpy() == expected).all()
    assert (out.n_primary, out.n_secondary) == (1, 3)
    assert out.row_totals.tolist() == [24, 46, 59] and out.col_totals.tolist() == [26, 41, 62]
    assert out.grand_total == 129
    audit = audit_table(frame, out).set_index(["row", "column"])
    # x00 = t, x01 = 12 - t, x10 = 13 - t, x11 = 13 + t for t in 0..12
    assert audit.loc[(0, "North"), ["lower", "upper"]].tolist() == [0, 12]
    assert audit.loc[(1, "South"), ["lower", "upper"]].tolist() == [13, 25]
    assert not audit["disclosed"].any()


def test_withheld_cells_in_a_line_sum_to_the_threshold():
    # 1 and 2 withheld with a published row total 33: hiding just them tells a reader both are <= 3
    frame = pd.DataFrame({"a": [1, 20], "b": [2, 20], "c": [30, 20]})
    out = suppress_table(frame, col_total=False)
    assert out.mask.iloc[0].tolist() == [True, True, True] and not out.mask.iloc[1].any()
    check_table(frame, out, threshold=5, col_total=False)


def with_mask(frame, out, mask):
    """``out`` re-made with only the given cells of ``frame`` withheld and every total published."""
    table = frame.astype("Int64").mask(mask)
    totals = {"row_totals": frame.sum(axis=1).astype("Int64"), "col_totals": frame.sum().astype("Int64"),
              "grand_total": int(frame.to_numpy().sum())}
    return type(out)(**{**out.__dict__, **totals, "table": table, "mask": pd.DataFrame(mask, columns=frame.columns)})


def bridge_frame():
    values = np.full((4, 4), 20)
    values[:2, :2] = 4
    values[2:, 2:] = 4
    values[1, 2] = 3
    return pd.DataFrame(values, columns=list("abcd"))


def test_two_per_line_rule_can_fail_and_the_audit_catches_it():
    # two 2x2 blocks of 4s joined by a 3 at (1, c): every line holds >= 2 withheld cells summing >= 5,
    # yet the 3 is a bridge between the blocks, so column c's total minus the cells gives it away
    frame = bridge_frame()
    line_rule_only = frame.to_numpy() < 5
    audit = audit_table(frame, with_mask(frame, suppress_table(frame), line_rule_only))
    flagged = audit[audit["disclosed"]]
    assert flagged[["row", "column", "value", "lower", "upper"]].values.tolist() == [[1, "c", 3, 3.0, 3.0]]


def test_suppress_table_repairs_the_bridge():
    frame = bridge_frame()
    out = suppress_table(frame)
    assert (out.mask.to_numpy() >= (frame.to_numpy() < 5)).all()
    assert out.n_secondary >= 1
    check_table(frame, out, threshold=5)
    assert not audit_table(frame, out)["disclosed"].any()


def test_integer_fallback_when_the_lp_optimum_is_fractional():
    from hotspots.disclosure import _optimum

    # x0 + 2 x1 = 3 over non-negative reals: max x1 = 1.5; over integers: 1
    assert _optimum(np.array([0.0, -1.0]), np.array([[1.0, 2.0]]), np.array([3.0])) == -1.0
    assert _optimum(np.array([0.0, 1.0]), np.array([[1.0, 2.0]]), np.array([3.0])) == 0.0


def test_small_row_total_is_withheld_with_a_partner():
    frame = pd.DataFrame({"a": [1, 10, 12], "b": [2, 11, 14]})  # row 0 totals 3
    out = suppress_table(frame)
    assert pd.isna(out.row_totals.iloc[0])
    assert out.row_totals.isna().sum() >= 2 or pd.isna(out.grand_total)
    check_table(frame, out, threshold=5)


def test_threshold_ten_for_partner_release():
    frame = pd.DataFrame({"a": [7, 12, 25], "b": [14, 9, 30], "c": [40, 35, 11]})
    out5, out10 = suppress_table(frame), suppress_table(frame, threshold=10)
    assert out5.n_primary == 0 and not out5.mask.to_numpy().any()
    assert out10.mask.iloc[0, 0] and out10.mask.iloc[1, 1]
    check_table(frame, out10, threshold=10)


def test_zeros_published_unless_asked():
    frame = pd.DataFrame({"a": [0, 20, 30], "b": [25, 0, 40]})
    assert not suppress_table(frame).mask.to_numpy().any()
    out = suppress_table(frame, suppress_zeros=True)
    assert out.mask.iloc[0, 0] and out.mask.iloc[1, 1]
    check_table(frame, out, threshold=5, suppress_zeros=True)


def test_display_hides_primary_and_secondary_alike():
    frame = pd.DataFrame({"a": [2, 11, 13], "b": [10, 15, 16]}, index=["Jan", "Feb", "Mar"])
    shown = suppress_table(frame).to_display()
    assert shown.loc["Jan", "a"] == shown.loc["Jan", "b"] == "[c]"
    assert "<5" not in shown.to_numpy()
    assert shown.loc["Total", "Total"] == "67"


def test_display_with_one_margin():
    frame = pd.DataFrame({"a": [30, 7], "b": [9, 10]})
    shown = suppress_table(frame, col_total=False).to_display()
    assert shown.loc["Total"].tolist() == ["", "", "56"] and shown["Total"].tolist() == ["39", "17", "56"]
    shown = suppress_table(frame, row_total=False).to_display()
    assert shown.loc["Total"].tolist() == ["37", "19", "56"] and shown["Total"].tolist() == ["", "", "56"]
    assert "Total" not in suppress_table(frame, row_total=False, col_total=False).to_display()


def test_value_cols_keep_label_columns():
    frame = pd.DataFrame({"month": ["Jan", "Feb"], "a": [3, 9], "b": [8, 20]})
    out = suppress_table(frame, value_cols=["a", "b"])
    assert out.table["month"].tolist() == ["Jan", "Feb"]
    assert str(out.table["a"].dtype) == "Int64"
    assert out.mask.columns.tolist() == ["a", "b"]


def test_series_single_small_value_gets_a_complement():
    out = suppress_series(pd.Series([3, 0, 6, 12]))
    assert out.mask.tolist() == [True, False, True, False]
    assert out.total == 21 and out.to_display().tolist() == ["[c]", "0", "[c]", "12", "21"]


def test_series_without_total_is_primary_only():
    out = suppress_series(pd.Series([3, 0, 6, 12]), total=False)
    assert out.mask.tolist() == [True, False, False, False] and out.total is None


def test_cells_sum_of_suppressed_reaches_threshold():
    cells = pd.DataFrame({"h3": list("abcde"), "count": [1, 2, 0, 9, 40]})
    before = cells.copy()
    out = suppress_cells(cells)
    pd.testing.assert_frame_equal(cells, before)
    assert out["suppressed"].tolist() == [True, True, False, True, False]  # 1 + 2 < 5, so 9 goes too
    assert out["count"].isna().tolist() == out["suppressed"].tolist()
    assert out.loc[~out["suppressed"], "count"].sum() == 40
    no_total = suppress_cells(cells, area_total=False)
    assert no_total["suppressed"].tolist() == [True, True, False, False, False]


def test_audit_flags_a_naive_pattern():
    frame = pd.DataFrame({"a": [3, 9], "b": [8, 20]})
    # only the 3 and the 9 withheld: column a's total gives both away
    audit = audit_table(frame, with_mask(frame, suppress_table(frame), np.array([[True, False], [True, False]])))
    assert audit["exact"].all() and audit["disclosed"].all()
    assert audit[["lower", "upper"]].values.tolist() == [[3, 3], [9, 9]]


# --- bad parameters -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: suppress_table(pd.DataFrame({"a": [1, -2]})), "negative"),
        (lambda: suppress_table(pd.DataFrame({"a": [1.5, 2.0]})), "non-integer"),
        (lambda: suppress_table(pd.DataFrame({"a": [1, None]})), "missing"),
        (lambda: suppress_table(pd.DataFrame({"a": ["x", "y"]})), "integer counts"),
        (lambda: suppress_table(pd.DataFrame({"a": [1, 2]}), threshold=1), "threshold"),
        (lambda: suppress_table(pd.DataFrame({"a": [1, 2]}), threshold=5.0), "threshold"),
        (lambda: suppress_table(pd.DataFrame({"a": [1, 2]}), threshold=True), "threshold"),
        (lambda: suppress_table(pd.DataFrame({"a": [1, 2]}), value_cols=["b"]), "value_cols"),
        (lambda: suppress_table([[1, 2]]), "DataFrame"),
        (lambda: suppress_series(pd.Series([1, -1])), "negative"),
        (lambda: suppress_series([1, 2]), "Series"),
        (lambda: suppress_cells(pd.DataFrame({"n": [1]})), "count_col"),
        (lambda: suppress_cells(pd.DataFrame({"count": [0.5]})), "non-integer"),
        (lambda: audit_table(pd.DataFrame({"a": [9, 9]}), suppress_table(pd.DataFrame({"a": [9, 8]}))), "made from"),
    ],
)
def test_bad_parameters(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


# --- the audit's shortcut: rectangle moves are feasible points, never more --------------------------------


@settings(max_examples=60, deadline=None)
@given(tables(), st.data(), st.booleans(), st.booleans())
def test_rectangle_moves_stay_inside_the_exact_range(frame, data, row_total, col_total):
    values = frame.to_numpy()
    r, c = values.shape
    grand = row_total or col_total
    grid, present = _grid(values, row_total, col_total, grand)
    withheld = np.array(data.draw(st.lists(st.booleans(), min_size=grid.size, max_size=grid.size))) & present
    lo, hi = _bounds(grid, withheld, _lines(r, c, row_total, col_total, grand))
    up, down = _moves(grid, withheld, (r, c))
    w = np.flatnonzero(withheld)
    assert (grid[w] + up[w] <= hi[w] + 1e-9).all() and (grid[w] - down[w] >= lo[w] - 1e-9).all()
    assert (up[~withheld] == 0).all() and (down[~withheld] == 0).all()


def test_rectangle_moves_of_a_block():
    values = np.array([[2, 11, 13], [10, 15, 16], [12, 20, 30]])
    grid, _ = _grid(values, True, True, True)
    withheld = np.zeros(16, bool)
    withheld[[0, 1, 4, 5]] = True  # the 2, 11, 10, 15 rectangle
    up, down = _moves(grid, withheld, (3, 3))
    # raising the 2 lowers the 11 and the 10: by at most 10; lowering it lowers the 15 too: by at most 2
    assert (up[0], down[0]) == (10, 2)
    assert (up[5], down[5]) == (10, 2)
