"""Rates per resident and LSOA-level deprivation: published interval tables, scipy, hand counts, planted signals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

from hotspots.errors import ParameterError
from hotspots.lsoa_deprivation import lsoa_deprivation
from hotspots.rates import LA_2023, poisson_interval, rates_per_1000


@pytest.mark.parametrize(
    ("k", "lo", "hi"),
    # exact 95% Poisson limits as tabulated (e.g. Ulm 1990; the Public Health England rate tools)
    [(0, 0.0, 3.6889), (1, 0.0253, 5.5716), (5, 1.6235, 11.6683), (10, 4.7954, 18.3904)],
)
def test_poisson_interval_matches_the_tables(k, lo, hi):
    got_lo, got_hi = poisson_interval(np.array([k]))
    assert got_lo[0] == pytest.approx(lo, abs=1e-4) and got_hi[0] == pytest.approx(hi, abs=1e-4)


def test_rates_per_1000_by_hand_and_per_year():
    t = rates_per_1000(pd.Series({"A": 30}), pd.Series({"A": 10_000, "B": 5_000}), years=2.0)
    a = t.set_index("area").loc["A"]
    assert a["rate_per_1000"] == pytest.approx(1000 * 30 / (10_000 * 2))  # 1.5 per 1,000 a year
    lo, hi = poisson_interval(np.array([30]))
    assert a["ci_low"] == pytest.approx(1000 * lo[0] / 20_000) and a["ci_high"] == pytest.approx(1000 * hi[0] / 20_000)
    assert t.set_index("area").loc["B", "count"] == 0 and a["population"] == 10_000
    with pytest.raises(ParameterError, match="no population"):
        rates_per_1000(pd.Series({"C": 1}), pd.Series({"A": 10}))
    with pytest.raises(ParameterError, match="years"):
        rates_per_1000(pd.Series({"A": 1}), pd.Series({"A": 10}), years=0)


def test_la_2023_merges_the_somerset_districts():
    assert {LA_2023[d] for d in ("Mendip", "Sedgemoor", "South Somerset", "Somerset West and Taunton")} == {"Somerset"}


def _lsoas(rng, n=200):
    dec = rng.integers(1, 11, n)
    rank = (dec - 1) * 3284 + rng.integers(1, 3284, n)
    pop = rng.integers(1200, 2500, n)
    return pd.DataFrame({"lsoa_code": [f"E{i:08d}" for i in range(n)], "imd_rank": rank, "imd_decile": dec,
                         "population": pop, "crimes": rng.poisson(pop / 100 * (11 - dec) / 5)})


def test_lsoa_deprivation_against_scipy_and_by_hand():
    rng = np.random.default_rng(3)
    t = _lsoas(rng)
    hot = set(t.loc[t["crimes"] >= t["crimes"].quantile(0.8), "lsoa_code"])
    r = lsoa_deprivation(t, hot_lsoas=hot)
    is_hot = t["lsoa_code"].isin(hot).to_numpy()
    want = mannwhitneyu(t["imd_rank"][is_hot], t["imd_rank"][~is_hot], alternative="less")
    assert r.mw_p == pytest.approx(want.pvalue) and r.mw_u == pytest.approx(want.statistic)
    assert r.n_hot == is_hot.sum() and r.n_other == (~is_hot).sum()
    dep, least = t["imd_decile"] <= 3, t["imd_decile"] >= 8
    rr = (t.loc[dep, "crimes"].sum() / t.loc[dep, "population"].sum()) / (
        t.loc[least, "crimes"].sum() / t.loc[least, "population"].sum())
    assert r.rate_ratio == pytest.approx(rr)
    b = r.by_decile.set_index("imd_decile")
    assert b["crimes"].sum() == t["crimes"].sum() and b["lsoas"].sum() == len(t)
    d1 = t[t["imd_decile"] == 1]
    assert b.loc[1, "rate_per_1000"] == pytest.approx(1000 * d1["crimes"].sum() / d1["population"].sum())
    assert r.mw_p < 0.001 and r.rate_ratio > 1  # the planted gradient is found
    assert "LSOAs hold a hot spot" in r.finding and "circular" in r.finding


def test_lsoa_deprivation_finds_nothing_where_nothing_is_planted():
    rng = np.random.default_rng(11)
    t = _lsoas(rng, 300).assign(crimes=lambda f: rng.poisson(f["population"] / 100))
    hot = set(rng.choice(t["lsoa_code"], 40, replace=False))
    r = lsoa_deprivation(t, hot_lsoas=hot)
    assert r.mw_p > 0.01 and 0.8 < r.rate_ratio < 1.25


def test_lsoa_deprivation_checks_its_input():
    with pytest.raises(ParameterError, match="crimes"):
        lsoa_deprivation(pd.DataFrame({"lsoa_code": ["a"]}), hot_lsoas=[])
    with pytest.raises(ParameterError, match="deprived_deciles"):
        lsoa_deprivation(_lsoas(np.random.default_rng(1), 10), hot_lsoas=[], deprived_deciles=6)


def test_demo_rates_and_lsoa_test(demo_numbers):
    rates = demo_numbers.context.rates.set_index("area")
    assert set(rates.index) == {"Bath and North East Somerset", "Bristol, City of", "North Somerset", "Somerset",
                                "South Gloucestershire"}
    assert int(rates["count"].sum()) <= demo_numbers.volume.total  # LSOAs outside the IMD (none here) drop out
    assert rates.loc["Bristol, City of", "rate_per_1000"] == rates["rate_per_1000"].max()
    ld = demo_numbers.context.lsoa
    assert ld.n_hot + ld.n_other == int(ld.by_decile["lsoas"].sum())
    f8 = {f.id: f for f in demo_numbers.findings.findings}["F8"]
    assert "over LSOAs" in f8.text and f8.numbers["p_value"] == ld.mw_p
