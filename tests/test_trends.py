"""Monthly counts, control limits and year-on-year change, against hand-computed oracles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hotspots.errors import ParameterError
from hotspots.trends import control_limits, monthly_counts, year_on_year

MISSING = ["2024-07", "2024-08"]


def _series(values, start="2023-01"):
    """A counts frame like monthly_counts' output; None marks a missing month."""
    month = pd.period_range(start, periods=len(values), freq="M")
    count = pd.array([v if v is not None else pd.NA for v in values], dtype="Int64")
    return pd.DataFrame({"month": month, "count": count, "available": [v is not None for v in values]})


# --------------------------------------------------------------------------- monthly_counts


def test_monthly_counts_fills_zero_months_but_never_missing_months():
    ev = pd.DataFrame({"month": ["2024-05"] * 3 + ["2024-06", "2024-10", "2024-10"]})
    out = monthly_counts(ev, missing_months=MISSING)
    assert out["month"].astype(str).tolist() == ["2024-05", "2024-06", "2024-07", "2024-08", "2024-09", "2024-10"]
    assert out["available"].tolist() == [True, True, False, False, True, True]
    assert out["count"].dtype == "Int64"
    assert out["count"].isna().tolist() == [False, False, True, True, False, False]
    assert out["count"].dropna().tolist() == [3, 1, 0, 2]  # September is a real zero
    assert out.attrs["missing_months"] == MISSING


def test_monthly_counts_accepts_period_and_datetime_months():
    text = pd.DataFrame({"month": ["2024-01", "2024-03"]})
    period = pd.DataFrame({"month": pd.PeriodIndex(["2024-01", "2024-03"], freq="M")})
    dates = pd.DataFrame({"month": pd.to_datetime(["2024-01-15 22:10", "2024-03-31 23:59"])})
    expected = monthly_counts(text)
    for ev in (period, dates):
        pd.testing.assert_frame_equal(monthly_counts(ev), expected)
    assert expected["count"].tolist() == [1, 0, 1]


def test_monthly_counts_by_group_has_every_group_in_every_month():
    ev = pd.DataFrame(
        {
            "month": ["2024-01", "2024-01", "2024-02", "2024-03", "2024-07"],
            "group": ["rape", "stalking", "rape", "rape", "rape"],
        }
    )
    out = monthly_counts(ev, by="group", end="2024-08", missing_months=MISSING)
    assert list(out.columns) == ["group", "month", "count", "available"]
    assert len(out) == 2 * 8
    rape = out[out["group"] == "rape"]
    stalking = out[out["group"] == "stalking"]
    assert rape["count"].head(6).tolist() == [1, 1, 1, 0, 0, 0]
    assert stalking["count"].head(6).tolist() == [1, 0, 0, 0, 0, 0]
    assert out.loc[out["month"].astype(str).isin(MISSING), "count"].isna().all()
    assert out.attrs["events_in_missing_months"] == 1  # the July rape is not counted: the flag wins


def test_monthly_counts_span_and_categorical_groups():
    ev = pd.DataFrame(
        {
            "month": ["2023-12", "2024-02", "2024-05"],
            "g": pd.Categorical(["a", "a", "a"], categories=["a", "b"]),
        }
    )
    out = monthly_counts(ev, by="g", start="2024-01", end="2024-03")
    assert out["g"].astype(str).tolist() == ["a"] * 3 + ["b"] * 3
    assert out["count"].tolist() == [0, 1, 0, 0, 0, 0]
    assert out.attrs["events_outside_span"] == 2


def test_monthly_counts_does_not_mutate_events():
    ev = pd.DataFrame({"month": ["2024-01", "2024-02"], "g": ["a", "b"]})
    before = ev.copy()
    monthly_counts(ev, by="g", missing_months=["2024-02"])
    pd.testing.assert_frame_equal(ev, before)


@pytest.mark.parametrize(
    ("events", "kwargs", "match"),
    [
        (pd.DataFrame({"m": ["2024-01"]}), {}, "month_col='month' is not a column"),
        (pd.DataFrame({"month": ["2024-01", "Jan 24"]}), {}, "1 values are not months .*'Jan 24'"),
        (pd.DataFrame({"month": ["2024-01", None]}), {}, "1 empty value"),
        (pd.DataFrame({"month": pd.Series([], dtype=str)}), {}, "pass start='YYYY-MM' and end="),
        (pd.DataFrame({"month": ["2024-01"]}), {"start": "2024-03", "end": "2024-01"}, "is after end"),
        (pd.DataFrame({"month": ["2024-01"]}), {"start": "2024/01"}, "start: '2024/01' is not a month"),
        (pd.DataFrame({"month": ["2024-01"]}), {"missing_months": ["2024-7"]}, "missing_months: '2024-7'"),
        (pd.DataFrame({"month": ["2024-01"]}), {"by": "force"}, "by='force' is not a column"),
        (pd.DataFrame({"month": ["2024-01"], "g": [None]}), {"by": "g"}, "fill them"),
        ([1, 2], {}, "must be a DataFrame"),
    ],
)
def test_monthly_counts_bad_inputs(events, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        monthly_counts(events, **kwargs)


# --------------------------------------------------------------------------- control_limits


def test_c_chart_hand_computed():
    # mean of [9, 16, 25, 14, 16] = 16; sqrt 16 = 4; limits 16 -/+ 12 = 4 and 28
    out = control_limits(_series([9, 16, 29, 3, 23]))
    assert out["mean"].tolist() == [16.0] * 5
    assert out["lcl"].tolist() == [4.0] * 5
    assert out["ucl"].tolist() == [28.0] * 5
    assert out["signal"].tolist() == [None, None, "above", "below", None]


def test_c_chart_lcl_floored_at_zero():
    # mean 4: 4 - 3 * 2 = -2 -> 0; UCL 10
    out = control_limits(_series([2, 4, 6, 4]))
    assert out["lcl"].iloc[0] == 0.0
    assert out["ucl"].iloc[0] == 10.0
    assert out["signal"].isna().all()


def test_sd_method_hand_computed():
    # [10, 12, 14]: mean 12, sample sd 2, k=2 -> limits 8 and 16
    out = control_limits(_series([10, 12, 14]), method="sd")
    assert out["lcl"].iloc[0] == pytest.approx(8.0)
    assert out["ucl"].iloc[0] == pytest.approx(16.0)
    out = control_limits(_series([10, 12, 14]), method="sd", k=1)
    assert (out["lcl"].iloc[0], out["ucl"].iloc[0]) == pytest.approx((10.0, 14.0))


def test_missing_months_excluded_from_mean_and_never_signal():
    # available: 10, 20, 34, 16 -> mean 20, UCL 20 + 3 sqrt(20) = 33.42; with the gaps as zeros it would be 13.33
    out = control_limits(_series([10, None, 20, None, 34, 16]))
    assert out["mean"].iloc[0] == pytest.approx(20.0)
    assert out["ucl"].iloc[0] == pytest.approx(20 + 3 * math.sqrt(20))
    assert out["lcl"].iloc[0] == pytest.approx(20 - 3 * math.sqrt(20))
    assert out["signal"].tolist() == [None, None, None, None, "above", None]
    assert out.loc[~out["available"], "run"].isna().all()


def test_runs_of_eight_and_broken_by_missing_month():
    # 8 points above the mean of 10 then 8 below: both runs flagged (mean of 12s and 8s is 10)
    out = control_limits(_series([12] * 8 + [8] * 8))
    assert out["run"].tolist() == ["above"] * 8 + ["below"] * 8
    # the same, with a missing month after 4 points above: neither half is a run of 8
    vals = [12] * 4 + [None] + [12] * 4 + [8] * 9
    out = control_limits(_series(vals))
    assert out["run"].head(9).isna().all()
    assert out["run"].tail(9).tolist() == ["below"] * 9
    # seven is not enough at run_length=8, enough at 7
    vals = [12] * 7 + [8] * 7
    assert control_limits(_series(vals))["run"].isna().all()
    assert control_limits(_series(vals), run_length=7)["run"].notna().all()


def test_point_on_mean_breaks_run():
    # centre exactly 10: (48 + 10 + 48 + 64 + 10) / 18
    vals = [12] * 4 + [10] + [12] * 4 + [8] * 8 + [10]
    out = control_limits(_series(vals))
    assert out["mean"].iloc[0] == pytest.approx(10.0)
    assert out["run"].head(9).isna().all()  # 4 above, one on the line, 4 above: no run of 8
    assert out["run"].iloc[9:17].tolist() == ["below"] * 8
    assert out["run"].iloc[17] is None


def test_control_limits_per_group():
    counts = pd.concat(
        [_series([9, 16, 29, 3, 23]).assign(g="a"), _series([2, 4, 6, 4, 4]).assign(g="b")], ignore_index=True
    )
    out = control_limits(counts, by="g")
    assert out.loc[out["g"] == "a", "ucl"].unique().tolist() == [28.0]
    assert out.loc[out["g"] == "b", "ucl"].unique().tolist() == [10.0]
    with pytest.raises(ParameterError, match="pass by="):
        control_limits(counts)


def test_control_limits_does_not_mutate_and_keeps_order():
    counts = _series([9, 16, 29, 3, 23]).iloc[::-1]
    before = counts.copy()
    out = control_limits(counts)
    pd.testing.assert_frame_equal(counts, before)
    assert out.index.tolist() == counts.index.tolist()
    assert out["signal"].tolist() == [None, "below", "above", None, None]


def test_control_limits_on_monthly_counts_output():
    ev = pd.DataFrame({"month": ["2024-05"] * 4 + ["2024-06"] * 4 + ["2024-09"] * 4})
    out = control_limits(monthly_counts(ev, missing_months=MISSING))
    # available months May 4, June 4, September 4: mean 4 (July and August left out, not zeros)
    assert out["mean"].tolist() == [4.0] * 5
    assert out.attrs["missing_months"] == MISSING and out.attrs["method"] == "c-chart"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "xmr"}, "method='xmr' is unknown"),
        ({"k": 0}, "k=0 must be a positive"),
        ({"k": float("nan")}, "k=nan must be a positive"),
        ({"run_length": 1}, "run_length=1 must be"),
        ({"by": "zone"}, "lacks column"),
    ],
)
def test_control_limits_bad_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        control_limits(_series([1, 2, 3]), **kwargs)


def test_control_limits_bad_counts():
    with pytest.raises(ParameterError, match="whole numbers; a c-chart"):
        control_limits(_series([1, 2, 3]).assign(count=[1.5, 2.0, 3.0]))
    with pytest.raises(ParameterError, match="needs at least 2"):
        control_limits(_series([5, None]), method="sd")
    with pytest.raises(ParameterError, match="needs at least 1"):
        control_limits(_series([None, None]))
    with pytest.raises(ParameterError, match="negative"):
        control_limits(_series([1, -2, 3]))
    with pytest.raises(ParameterError, match="period"):
        control_limits(pd.DataFrame({"month": ["2024-01"], "count": [1]}))


# --------------------------------------------------------------------------- year_on_year


def test_year_on_year_hand_computed():
    # previous 12 months: 80; recent: 100 -> +20, +25 %, rate ratio 1.25
    r = year_on_year(_series([8] * 10 + [0] * 2 + [5] * 4 + [10] * 8))
    assert r["available"] is True
    assert (r["previous_start"], r["previous_end"]) == ("2023-01", "2023-12")
    assert (r["recent_start"], r["recent_end"]) == ("2024-01", "2024-12")
    assert (r["previous"], r["recent"], r["change"]) == (80, 100, 20)
    assert r["change_pct"] == pytest.approx(25.0)
    assert r["rate_ratio"] == pytest.approx(1.25)
    # oracle: two-sided exact binomial p for 100 of 180 at p = 1/2, summed by hand from the pmf
    pmf = np.array([math.comb(180, i) for i in range(181)], dtype=float) / 2.0**180
    expected = pmf[pmf <= pmf[100] * (1 + 1e-7)].sum()
    assert r["p_value"] == pytest.approx(expected, rel=1e-9)
    lo, hi = r["rate_ratio_ci95"]
    assert lo < 1.25 < hi
    assert "binomial" in r["test"] and "Poisson" in r["test"]


def test_year_on_year_refuses_window_with_missing_month():
    # 2023-01 .. 2024-12 with 2024-07 and 2024-08 missing: the recent window spans them
    vals = [10] * 18 + [None, None] + [10] * 4
    r = year_on_year(_series(vals))
    assert r["available"] is False
    assert "2024-07" in r["reason"] and "2024-08" in r["reason"]
    assert "recent window" in r["reason"]
    assert "p_value" not in r


def test_year_on_year_refuses_short_history_and_uses_last_available_month():
    r = year_on_year(_series([10] * 20))
    assert r["available"] is False and "previous window" in r["reason"]
    # trailing missing months: the comparison ends at the last month with data
    r = year_on_year(_series([10] * 24 + [None, None]))
    assert r["available"] is True and r["recent_end"] == "2024-12"
    # an explicit end inside a gap is refused
    assert year_on_year(_series([10] * 24 + [None, None]), end="2025-02")["available"] is False


def test_year_on_year_zero_previous_and_short_windows():
    r = year_on_year(_series([0] * 3 + [4] * 3), months=3)
    assert (r["previous"], r["recent"]) == (0, 12)
    assert r["change_pct"] is None and r["rate_ratio"] is None
    assert r["p_value"] == pytest.approx(2 * 0.5**12)
    assert r["rate_ratio_ci95"][1] == math.inf
    r = year_on_year(_series([0] * 6), months=3)
    assert r["p_value"] == 1.0


@pytest.mark.parametrize(("months", "match"), [(0, "months=0"), (1.5, "months=1.5"), (True, "months=True")])
def test_year_on_year_bad_months(months, match):
    with pytest.raises(ParameterError, match=match):
        year_on_year(_series([1] * 24), months=months)


# --------------------------------------------------------------------------- like for like, baseline limits (issue 12)


def test_rate_test_matches_the_worked_example_of_r_poisson_test():
    # R's ?poisson.test example (Bhattacharyya and Johnson 1977): poisson.test(c(11, 6+8+7), c(800, 1083+1050+878))
    # prints p-value = 0.07967, 95 percent confidence interval 0.8584264 4.2772659, rate ratio 1.971488
    from hotspots.rates import poisson_rate_test

    p, (lo, hi) = poisson_rate_test(11, 21, 800, 3011)
    assert p == pytest.approx(0.07967, abs=5e-6)
    assert lo == pytest.approx(0.8584264, abs=5e-7) and hi == pytest.approx(4.2772659, abs=5e-7)
    assert poisson_rate_test(20, 20)[0] == pytest.approx(1.0)


def test_like_for_like_pairs_only_months_present_in_both_years():
    from hotspots.trends import like_for_like

    months = pd.period_range("2023-01", periods=24, freq="M")
    counts = np.r_[np.full(12, 50), np.full(12, 60)]
    counts[14] = 5_000  # 2024-03: present, so paired with 2023-03
    avail = np.ones(24, bool)
    avail[[2 + 12 + 4, 7]] = False  # 2024-07 missing; 2023-08 missing
    r = like_for_like(pd.DataFrame({"month": months, "count": counts, "available": avail}))
    assert r["missing_months"] == ["2023-08", "2024-07"]
    assert "2024-07" not in r["recent_months"] and "2024-08" not in r["recent_months"]
    assert "2023-07" not in r["previous_months"] and "2023-08" not in r["previous_months"]
    assert r["n_pairs"] == 10
    assert r["previous"] == 50 * 10 and r["recent"] == 60 * 9 + 5_000  # by hand
    assert r["direction"] == "up" and r["words"].startswith("up ")


def test_like_for_like_says_no_clear_change_when_the_test_cannot_tell():
    from hotspots.trends import like_for_like

    months = pd.period_range("2023-01", periods=24, freq="M")
    r = like_for_like(pd.DataFrame({"month": months, "count": [10] * 12 + [11] * 12}))
    assert r["p_value"] > 0.05 and r["direction"] == "no clear change"
    assert r["words"].startswith("no clear change (+10%)")


def test_like_for_like_refuses_without_pairs():
    from hotspots.trends import like_for_like

    months = pd.period_range("2024-01", periods=6, freq="M")
    r = like_for_like(pd.DataFrame({"month": months, "count": [5] * 6}))
    assert not r["available"] and "both years" in r["reason"]


def test_baseline_limits_detect_a_step_the_whole_series_hides():
    rng = np.random.default_rng(7)
    months = pd.period_range("2022-01", periods=36, freq="M")
    counts = np.r_[rng.poisson(200, 18), rng.poisson(240, 18)]
    frame = pd.DataFrame({"month": months, "count": counts})
    base = [str(m) for m in months[:12]]
    whole = control_limits(frame, method="sd")
    phase2 = control_limits(frame, method="sd", baseline=base)
    assert phase2["baseline"].tolist() == [True] * 12 + [False] * 24
    assert phase2["mean"].iloc[0] == pytest.approx(counts[:12].mean())
    after = phase2.iloc[18:]
    assert (after["signal"] == "above").sum() > (whole.iloc[18:]["signal"] == "above").sum()
    assert (after["signal"] == "above").sum() >= 12
    assert phase2.attrs["baseline"] == base


def test_baseline_without_data_is_refused():
    months = pd.period_range("2024-01", periods=6, freq="M")
    frame = pd.DataFrame({"month": months, "count": [5] * 6})
    with pytest.raises(ParameterError, match="baseline"):
        control_limits(frame, method="sd", baseline=["2020-01"])
