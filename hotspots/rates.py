"""Rates per 1,000 residents with exact Poisson intervals, and the exact test of two Poisson rates.

A count compared across areas of different size must be a rate; a rate from
a small count needs an interval. Both use the exact (Garwood) interval of a
Poisson count, ``[chi2(a/2, 2k) / 2, chi2(1 - a/2, 2k + 2) / 2]``, and the
exact conditional test of two rates (R's ``poisson.test``).

Residents are the wrong denominator where many people visit and few live
(city centres, night-time economies): a high rate there says the place is
busy, not that residents are at risk. Say so beside any rate by area.

Examples
--------
>>> t = rates_per_1000(pd.Series({"A": 120, "B": 0}), pd.Series({"A": 100_000, "B": 2_000}))
>>> t[["area", "count", "rate_per_1000"]].values.tolist()
[['A', 120, 1.2], ['B', 0, 0.0]]
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from hotspots.errors import ParameterError

__all__ = ["poisson_interval", "poisson_rate_test", "rate_interval", "rates_per_1000", "LA_2023"]

#: 2019 local-authority districts merged into the unitary authorities of April 2023 (structural changes orders):
#: a profile of 2023 onwards reports the new authorities, built from their districts' LSOAs.
LA_2023: dict[str, str] = {
    **dict.fromkeys(("Mendip", "Sedgemoor", "South Somerset", "Somerset West and Taunton"), "Somerset"),
    **dict.fromkeys(("Craven", "Hambleton", "Harrogate", "Richmondshire", "Ryedale", "Scarborough", "Selby"),
                    "North Yorkshire"),
    **dict.fromkeys(("Allerdale", "Carlisle", "Copeland"), "Cumberland"),
    **dict.fromkeys(("Barrow-in-Furness", "Eden", "South Lakeland"), "Westmorland and Furness"),
}


def poisson_interval(count: np.ndarray | float, *, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) ``1 - alpha`` interval of Poisson counts.

    Examples
    --------
    >>> lo, hi = poisson_interval(np.array([0, 10]))
    >>> np.round(lo, 4).tolist(), np.round(hi, 4).tolist()
    ([0.0, 4.7954], [3.6889, 18.3904])
    """
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must be between 0 and 1, e.g. 0.05; got {alpha!r}")
    k = np.asarray(count, dtype=np.float64)
    if (k < 0).any() or not np.isfinite(k).all():
        raise ParameterError("counts must be finite and >= 0")
    lo = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
    hi = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return lo, hi


def poisson_rate_test(c1: int, c2: int, t1: float = 1.0, t2: float = 1.0) -> tuple[float, tuple[float, float]]:
    """Exact conditional test of two Poisson rates, as R's ``poisson.test(c(c1, c2), c(t1, t2))``.

    Given ``n = c1 + c2``, under equal rates ``c1 ~ Binomial(n, t1 / (t1 + t2))``; the interval of the rate
    ratio ``(c1 / t1) / (c2 / t2)`` is the Clopper-Pearson interval of that proportion mapped by
    ``q / (1 - q) * t2 / t1``.

    Returns
    -------
    p_value : float
        Two-sided.
    ci : (float, float)
        95 % interval of the rate ratio (upper ``inf`` when ``c2`` is 0).

    Examples
    --------
    R's own example, ``poisson.test(c(11, 6 + 8 + 7), c(800, 1083 + 1050 + 878))``: p = 0.07967, 0.858-4.277

    >>> p, (lo, hi) = poisson_rate_test(11, 21, 800, 3011)
    >>> round(p, 5), round(lo, 4), round(hi, 4)
    (0.07967, 0.8584, 4.2773)
    """
    if min(c1, c2) < 0 or t1 <= 0 or t2 <= 0:
        raise ParameterError("counts must be >= 0 and exposures > 0")
    n = int(c1) + int(c2)
    if not n:
        return 1.0, (math.nan, math.nan)
    res = stats.binomtest(int(c1), n, t1 / (t1 + t2))
    ci = res.proportion_ci(confidence_level=0.95, method="exact")
    f = t2 / t1
    return float(res.pvalue), (float(ci.low / (1 - ci.low) * f),
                               float(ci.high / (1 - ci.high) * f) if ci.high < 1 else math.inf)


def rate_interval(count: np.ndarray | float, exposure: np.ndarray | float, *, alpha: float = 0.05
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rate per 1,000 of ``exposure`` (e.g. resident-years) and its exact Poisson ``1 - alpha`` interval.

    Examples
    --------
    >>> rate, lo, hi = rate_interval(np.array([10.0]), np.array([5000.0]))
    >>> round(float(rate[0]), 2), round(float(lo[0]), 4), round(float(hi[0]), 4)
    (2.0, 0.9591, 3.6781)
    """
    c = np.asarray(count, dtype=np.float64)
    e = np.asarray(exposure, dtype=np.float64)
    lo, hi = poisson_interval(c, alpha=alpha)
    return 1000 * c / e, 1000 * lo / e, 1000 * hi / e


def rates_per_1000(counts: pd.Series, population: pd.Series, *, alpha: float = 0.05,
                   years: float = 1.0) -> pd.DataFrame:
    """Rate per 1,000 residents (per year when ``years`` is the period's length) with its exact Poisson interval.

    Parameters
    ----------
    counts : Series
        Count per area (index: area name).
    population : Series
        Residents per area (same index; areas missing from ``counts`` count 0).
    alpha : float, default 0.05
        1 - confidence level.
    years : float, default 1
        Length of the period the counts cover, in years: rates are per 1,000 residents per year.

    Returns
    -------
    DataFrame
        ``area``, ``count``, ``population``, ``rate_per_1000``, ``ci_low``, ``ci_high``, one row per area of
        ``population`` (sorted by area).

    Raises
    ------
    ParameterError
        A count for an area without a population, or a population that is not positive.
    """
    pop = pd.Series(population).astype(float)
    extra = sorted(set(map(str, counts.index)) - set(map(str, pop.index)))
    if extra:
        raise ParameterError(f"counts for areas with no population: {extra[:5]}; give every area's residents")
    if not (isinstance(years, int | float) and math.isfinite(years) and years > 0):
        raise ParameterError(f"years must be a positive number (the period's length); got {years!r}")
    if (pop <= 0).any() or not np.isfinite(pop.to_numpy()).all():
        raise ParameterError("population must be positive for every area")
    pop = pop.sort_index()
    c = pd.Series(counts).reindex(pop.index, fill_value=0).astype(float)
    rate, lo, hi = rate_interval(c.to_numpy(), pop.to_numpy() * years, alpha=alpha)
    return pd.DataFrame({
        "area": pop.index.astype(str),
        "count": c.to_numpy().astype(np.int64),
        "population": pop.to_numpy().astype(np.int64),
        "rate_per_1000": rate,
        "ci_low": lo,
        "ci_high": hi,
    })
