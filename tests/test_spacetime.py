"""Space-time: Mann-Kendall against hand cases and scipy, sfhotspot's classification rules, planted histories."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau, norm

from hotspots.errors import ParameterError
from hotspots.spacetime import SFHOTSPOT_CLASSES, _holm_rows, _sfhotspot_classes, classify_hotspots, mann_kendall

CENTRE = h3.latlng_to_cell(51.3813, -2.3590, 9)
MONTHS = [f"2024-{m:02d}" for m in range(1, 11)]


def _series_frame(rows):
    """Long frame from {cell: [value per month]}."""
    return pd.DataFrame(
        [(c, m, v) for c, values in rows.items() for m, v in zip(MONTHS, values, strict=True)],
        columns=["h3_cell", "month", "count"],
    )


# -- Mann-Kendall --------------------------------------------------------------------------------------------------


def test_mann_kendall_hand_cases():
    a, b, c = (sorted(h3.grid_disk(CENTRE, 1)))[:3]
    frame = pd.DataFrame(
        {
            "h3_cell": [a] * 5 + [b] * 4 + [c] * 4,
            "month": [0, 1, 2, 3, 4, 0, 1, 2, 3, 0, 1, 2, 3],
            "count": [1, 2, 3, 4, 5, 1, 1, 2, 3, 7, 7, 7, 7],
        }
    )
    out = mann_kendall(frame).set_index("h3_cell")
    # a: S = 10, Var = 5*4*15/18, z = (10 - 1)/sqrt(Var)
    assert out.loc[a, "mk_s"] == 10
    assert out.loc[a, "mk_var"] == pytest.approx(300 / 18)
    assert out.loc[a, "mk_z"] == pytest.approx(9 / np.sqrt(300 / 18))
    assert out.loc[a, "mk_p"] == pytest.approx(0.027486, abs=1e-6)
    assert out.loc[a, "mk_tau"] == pytest.approx(1.0)
    # b (months 0-3; month 4 missing counts as 0): 1, 1, 2, 3, 0 -> S = 5 - 4 = 1 ... computed below by hand
    # pairs: (1,1)0 (1,2)+ (1,3)+ (1,0)- (1,2)+ (1,3)+ (1,0)- (2,3)+ (2,0)- (3,0)- -> S = 5 - 4 = 1
    assert out.loc[b, "mk_s"] == 1
    # ties: one pair of 1s -> Var = (5*4*15 - 2*1*9)/18 = 282/18; z = (1 - 1)/... = 0 with the correction
    assert out.loc[b, "mk_var"] == pytest.approx(282 / 18)
    assert out.loc[b, "mk_z"] == 0 and out.loc[b, "mk_p"] == 1
    # c: 7, 7, 7, 7, 0 -> S = -4, ties t = 4: Var = (300 - 4*3*13)/18 = 144/18 = 8, z = (-4 + 1)/sqrt(8)
    assert out.loc[c, "mk_s"] == -4
    assert out.loc[c, "mk_var"] == pytest.approx(8.0)
    assert out.loc[c, "mk_z"] == pytest.approx(-3 / np.sqrt(8))


def test_mann_kendall_four_values_with_ties():
    frame = pd.DataFrame({"h3_cell": CENTRE, "month": range(4), "count": [1, 1, 2, 3]})
    row = mann_kendall(frame).iloc[0]
    # S = 5; Var = (4*3*13 - 2*1*9)/18 = 138/18; z = (5 - 1)/sqrt(Var) = 1.4446
    assert row.mk_s == 5
    assert row.mk_var == pytest.approx(138 / 18)
    assert row.mk_z == pytest.approx(4 / np.sqrt(138 / 18)) == pytest.approx(1.444630, abs=1e-6)
    assert row.mk_p == pytest.approx(2 * norm.sf(4 / np.sqrt(138 / 18)))
    assert row.mk_trend == "no trend"


def test_mann_kendall_equals_kendall_tau_b_against_time():
    rng = np.random.default_rng(3)
    cells = sorted(h3.grid_disk(CENTRE, 3))
    t = 15
    values = rng.poisson(2.0, (len(cells), t)) + np.outer(rng.integers(-1, 2, len(cells)), np.arange(t)).clip(0)
    frame = pd.DataFrame(
        {"h3_cell": np.repeat(cells, t), "month": np.tile(np.arange(t), len(cells)), "count": values.ravel()}
    )
    out = mann_kendall(frame, continuity=False)
    for i in range(len(cells)):
        ref = kendalltau(np.arange(t), values[i], method="asymptotic")
        if np.isnan(ref.statistic):  # constant series
            assert out["mk_p"].iloc[i] == 1
            continue
        assert out["mk_tau"].iloc[i] == pytest.approx(ref.statistic, abs=1e-12)
        assert out["mk_p"].iloc[i] == pytest.approx(ref.pvalue, abs=1e-12)
    assert set(out["mk_trend"]) <= {"increasing", "decreasing", "no trend"}
    assert (out.loc[out["mk_trend"] == "increasing", "mk_s"] > 0).all()


def test_mann_kendall_explicit_periods_order():
    frame = pd.DataFrame({"h3_cell": CENTRE, "month": ["b", "a", "c"], "count": [2, 3, 1]})
    assert mann_kendall(frame).iloc[0].mk_s == -3  # sorted: a, b, c -> 3, 2, 1
    assert mann_kendall(frame, periods=["c", "b", "a"]).iloc[0].mk_s == 3
    assert mann_kendall(frame, periods=["c", "b", "a", "d"]).iloc[0].mk_s == 0  # 1, 2, 3, 0


# -- sfhotspot classification rules -----------------------------------------------------------------------------------


def _rows(*periods_hot, t=10):
    out = np.zeros((len(periods_hot), t), dtype=bool)
    for i, hot in enumerate(periods_hot):
        out[i, [p - 1 for p in hot]] = True  # 1-based periods, as in the R code
    return out


def test_sfhotspot_rules_hand_table():
    hot = _rows(range(1, 11), range(1, 9), [9, 10], [10], range(1, 6), [1], [3, 9], [8, 9, 10], [], [], t=10)
    cold = _rows([], [], [], [], [], [], [], [], range(1, 11), [], t=10)
    cold[9, 0] = True  # one cold period early: older = 1/8 >= 0.1, recent = 0 -> former coldspot
    hot[9, 9] = True  # and hot in the last period: emerging hotspot -> mixed
    got = _sfhotspot_classes(hot, cold, hotspot_prop=0.1, persistent_prop=0.8, recent_prop=0.2)
    assert got.tolist() == [
        "persistent hotspot",  # 10/10
        "persistent hotspot",  # 8/10 >= 0.8
        "emerging hotspot",  # older (1-8) 0, recent (8-10) 2/2
        "emerging hotspot",  # recent 1/2 >= recent_prop
        "former hotspot",  # older 5/8, recent 0
        "former hotspot",  # older 1/8 = 0.125 >= 0.1
        "intermittent hotspot",  # older 1/8, recent 1/2: neither emerging nor former
        "intermittent hotspot",  # sfhotspot quirk: period 8 is in both windows, so older = 1/8
        "persistent coldspot",
        "mixed hot/coldspot",
    ]
    assert set(got) <= set(SFHOTSPOT_CLASSES)


def test_sfhotspot_rules_too_few_recent_periods_warns():
    hot = _rows([4], t=4)  # floor(0.2 * 4) = 0 recent periods -> the final period, with a warning
    with pytest.warns(UserWarning, match="final period is treated as recent"):
        got = _sfhotspot_classes(hot, ~hot & False, hotspot_prop=0.1, persistent_prop=0.8, recent_prop=0.2)
    assert got.tolist() == ["emerging hotspot"]


def test_holm_matches_r_p_adjust():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.5), "holm") -> 0.04 0.09 0.09 0.50
    p = np.array([[0.01, 0.04, 0.03, 0.5], [0.5, 0.5, 0.5, 0.001]])
    np.testing.assert_allclose(_holm_rows(p), [[0.04, 0.09, 0.09, 0.5], [1.0, 1.0, 1.0, 0.004]])


# -- planted histories ---------------------------------------------------------------------------------------------


def _spread_centres(count, radius, gap):
    picked = []
    for c in sorted(h3.grid_ring(CENTRE, radius)):
        if all(h3.grid_distance(c, p) >= gap for p in picked):
            picked.append(c)
    assert len(picked) >= count
    return picked[:count]


def test_classify_planted_histories():
    area = np.array(sorted(h3.grid_disk(CENTRE, 8)), dtype=object)
    persistent, emerging, former, intermittent = _spread_centres(4, 5, 5)
    history = {persistent: range(10), emerging: [8, 9], former: range(5), intermittent: [2, 8]}  # 0-based months
    rng = np.random.default_rng(11)
    counts = rng.poisson(30, (len(area), 10))
    for centre, months in history.items():
        rows = np.isin(area, list(h3.grid_disk(centre, 1)))
        counts[np.ix_(rows, list(months))] += 60
    cold = np.isin(area, list(h3.grid_disk(CENTRE, 1)))
    counts[cold] = 0
    frame = pd.DataFrame({"h3_cell": np.repeat(area, 10), "month": np.tile(MONTHS, len(area)), "count": counts.ravel()})
    frame = frame[frame["count"] > 0]  # cold cells have no rows: the boundary study area brings them back as 0
    before = frame.copy()
    out = classify_hotspots(frame, study_area=area).set_index("h3_cell")
    pd.testing.assert_frame_equal(frame, before)
    assert set(out.index) == set(area) and len(out) == len(area)
    assert out.loc[persistent, "st_class"] == "persistent hotspot"
    assert out.loc[emerging, "st_class"] == "emerging hotspot"
    assert out.loc[former, "st_class"] == "former hotspot"
    assert out.loc[intermittent, "st_class"] == "intermittent hotspot"
    assert out.loc[CENTRE, "st_class"] == "persistent coldspot"
    assert out.loc[persistent, "st_hot_periods"] == 10 and out.loc[CENTRE, "st_cold_periods"] == 10
    assert (out["st_periods"] == 10).all()
    quiet = [c for c in area if min(h3.grid_distance(c, p) for p in [*history, CENTRE]) >= 3]
    assert (out.loc[quiet, "st_class"] == "no pattern").mean() > 0.9


def test_classify_hot_every_period_is_persistent_with_default_ring():
    cells = sorted(h3.grid_disk(CENTRE, 4))
    rows = {c: [25 if h3.grid_distance(CENTRE, c) <= 1 else int(c, 16) % 3 for _ in MONTHS] for c in cells}
    out = classify_hotspots(_series_frame(rows))
    assert len(out) == len(h3.grid_disk(CENTRE, 5))  # ring:1 around the occupied cells
    assert out.loc[out["h3_cell"] == CENTRE, "st_class"].item() == "persistent hotspot"


def test_classify_empty_period_warns():
    cells = sorted(h3.grid_disk(CENTRE, 2))
    frame = _series_frame({c: [5 if c == CENTRE else 1] * 10 for c in cells})
    with pytest.warns(UserWarning, match="no events"):
        out = classify_hotspots(frame, periods=[*MONTHS, "2024-11"], study_area="occupied")
    assert (out["st_periods"] == 11).all()


# -- bad inputs ----------------------------------------------------------------------------------------------------

_FRAME = _series_frame({c: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] for c in sorted(h3.grid_disk(CENTRE, 1))})


@pytest.mark.parametrize(
    ("func", "frame", "kwargs", "match"),
    [
        (classify_hotspots, _FRAME.drop(columns="month"), {}, "no column.*month"),
        (classify_hotspots, pd.concat([_FRAME, _FRAME.iloc[:1]]), {}, r"repeats \(h3_cell, month\) pairs"),
        (classify_hotspots, _FRAME[_FRAME["month"] == MONTHS[0]], {}, "at least 2 periods"),
        (classify_hotspots, _FRAME, {"hotspot_prop": 1.0}, "hotspot_prop must be a number between 0 and 1"),
        (classify_hotspots, _FRAME, {"critical_p": 0}, "critical_p must be"),
        (classify_hotspots, _FRAME, {"period_adjust": "bonferroni"}, "period_adjust must be"),
        (classify_hotspots, _FRAME, {"periods": MONTHS[:5]}, "not in periods"),
        (classify_hotspots, _FRAME, {"periods": [*MONTHS, MONTHS[0]]}, "periods repeats"),
        (classify_hotspots, _FRAME, {"k": 0}, "k must be an integer >= 1"),
        (classify_hotspots, _FRAME.assign(count="x"), {}, "missing or non-numeric"),
        (mann_kendall, _FRAME[_FRAME["month"].isin(MONTHS[:2])], {}, "at least 3 periods"),
        (mann_kendall, _FRAME, {"alpha": 2}, "alpha must be a number between 0 and 1"),
        (mann_kendall, "frame", {}, "must be a pandas DataFrame"),
    ],
)
def test_bad_inputs(func, frame, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        func(frame, **kwargs)
