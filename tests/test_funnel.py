"""Funnel plots (Spiegelhalter 2005/2012): a hand-computed fit, a planted outlier, a null simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspots.errors import ParameterError
from hotspots.funnel import funnel_fit, funnel_limits


def test_fit_by_hand_with_overdispersion():
    o = pd.Series([50.0, 80.0, 120.0, 200.0], index=list("abcd"))
    n = pd.Series([10_000.0, 20_000.0, 20_000.0, 50_000.0], index=o.index)
    fit = funnel_fit(o, n, winsor=0.0)
    theta0 = 450 / 100_000
    s2 = theta0 / n.to_numpy()
    z = (o.to_numpy() / n.to_numpy() - theta0) / np.sqrt(s2)
    phi = np.mean(z ** 2)
    w = 1 / s2
    tau2 = (4 * phi - 3) / (w.sum() - (w ** 2).sum() / w.sum())
    assert fit.theta0 == pytest.approx(theta0) and fit.phi == pytest.approx(phi)
    assert fit.tau2 == pytest.approx(tau2) and tau2 > 0
    zadj = (o.to_numpy() / n.to_numpy() - theta0) / np.sqrt(s2 + tau2)
    assert fit.units["z_adj"].to_numpy() == pytest.approx(zadj)


def test_no_overdispersion_means_no_tau2():
    o = pd.Series([100.0, 101.0, 99.0, 100.0], index=list("abcd"))
    fit = funnel_fit(o, pd.Series(1e5, index=o.index))
    assert fit.tau2 == 0.0 and (fit.units["position"] == "within").all()


def test_planted_outlier_is_found_and_noise_is_not():
    rng = np.random.default_rng(42)
    pop = pd.Series(rng.integers(300_000, 3_000_000, 40).astype(float), index=[f"f{i}" for i in range(40)])
    events = pd.Series(rng.poisson(pop.to_numpy() * 0.01 * rng.normal(1, 0.03, 40)), index=pop.index).astype(float)
    events["f7"] = pop["f7"] * 0.016  # 60% above the national rate
    fit = funnel_fit(events, pop)
    pos = fit.units.set_index("unit")["position"]
    assert pos["f7"] == "above 99.8%"
    assert (pos.drop("f7") == "within").mean() >= 0.85  # the rest sit inside: no league table of noise


def test_limits_narrow_with_population_and_widen_with_tau2():
    o = pd.Series([50.0, 80.0, 120.0, 200.0], index=list("abcd"))
    n = pd.Series([10_000.0, 20_000.0, 20_000.0, 50_000.0], index=o.index)
    plain = funnel_fit(o, n, overdispersion=False)
    od = funnel_fit(o, n)
    pops = np.array([1e3, 1e4, 1e5])
    lp, lo = funnel_limits(plain, pops), funnel_limits(od, pops)
    assert (np.diff(lp["upper_99_8"] - lp["lower_99_8"]) < 0).all()
    assert (lo["upper_95"] >= lp["upper_95"]).all()
    assert (lp["lower_95"] >= 0).all()


def test_bad_input():
    with pytest.raises(ParameterError, match="at least 3"):
        funnel_fit(pd.Series([1.0, 2.0]), pd.Series([10.0, 10.0]))
    with pytest.raises(ParameterError, match="population"):
        funnel_fit(pd.Series([1.0, 2.0, 3.0]), pd.Series([10.0, 0.0, 10.0]))
