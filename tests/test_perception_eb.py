"""Empirical-Bayes ratios of the perception gap: Marshall (1991) by hand, shrinkage, the small-number rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.perception_gap import GAP_FELT, eb_ratio, perception_gap_cells


def test_eb_ratio_by_hand():
    o, e = np.array([20.0, 5.0, 4.0]), np.array([10.0, 10.0, 1.0])
    m = 29 / 21
    r = o / e
    s2 = (e * (r - m) ** 2).sum() / e.sum()
    a = s2 - m / e.mean()
    want = m + a / (a + m / e) * (r - m)
    assert eb_ratio(o, e) == pytest.approx(want)
    assert eb_ratio(o, e) == pytest.approx([1.896, 0.648, 2.246], abs=1e-3)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.floats(0.5, 200)), min_size=2, max_size=40))
def test_eb_ratios_lie_between_the_raw_ratio_and_the_mean(rows):
    o = np.array([r[0] for r in rows], float)
    e = np.array([r[1] for r in rows], float)
    eb = eb_ratio(o, e)
    m = o.sum() / e.sum()
    raw = o / e
    lo, hi = np.minimum(raw, m), np.maximum(raw, m)
    assert ((eb >= lo - 1e-9) & (eb <= hi + 1e-9)).all()


def test_small_expected_counts_shrink_most():
    o = np.array([40.0, 4.0] + [10.0] * 20)
    e = np.array([10.0, 1.0] + [10.0] * 20)  # both raw ratios are 4
    eb = eb_ratio(o, e)
    assert eb[0] > eb[1]  # the same raw ratio on 1 expected event is trusted less


def test_a_handful_of_reports_cannot_make_a_felt_unsafe_place():
    # 40 cells with 50 crimes and Poisson(5) reports each; B: 8 reports and no crime, a raw ratio above 2
    rng = np.random.default_rng(0)
    rows = [(f"c{i}", "rms", 50) for i in range(40)]
    rows += [(f"c{i}", "streetsafe", int(v)) for i, v in enumerate(rng.poisson(5, 40))]
    base = pd.DataFrame([*rows, ("B", "streetsafe", 8)], columns=["h3_cell", "source", "count"])
    t = perception_gap_cells(base, recorded=["rms"]).set_index("h3_cell")
    assert t.loc["B", "gap_ratio"] >= 2  # the raw ratio alone would have flagged it
    assert t.loc["B", "gap_class"] != GAP_FELT and t.loc["B", "gap_ratio_eb"] < 2
    # a real gap (60 reports where 2 crimes are recorded) survives the smoothing
    real = pd.concat([base, pd.DataFrame([("A", "streetsafe", 60), ("A", "rms", 2)], columns=base.columns)])
    t = perception_gap_cells(real, recorded=["rms"]).set_index("h3_cell")
    assert t.loc["A", "gap_class"] == GAP_FELT and t.loc["A", "gap_ratio_eb"] >= 2
