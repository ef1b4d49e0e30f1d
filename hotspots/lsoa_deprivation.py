"""Deprivation tested on areas, not events: hotspot LSOAs against the other LSOAs, and crime per resident by decile.

Counting 100,000 crimes as 100,000 independent observations of deprivation
overstates the evidence: crimes in one LSOA share its decile. The unit here
is the LSOA (2011 codes, as the IMD 2019):

* **hotspot LSOAs** (those holding a Gi* hot-spot cell) against every **other
  LSOA** of the force: their IMD deciles, the share in the most deprived
  deciles, and a one-sided Mann-Whitney U test on IMD rank (are hotspot
  LSOAs more deprived?);
* **VAWG-relevant crime per 1,000 residents by IMD decile**, with exact
  Poisson intervals, and the rate ratio of the most deprived deciles to the
  least deprived, with its exact test (:func:`hotspots.rates.poisson_rate_test`).

Residents are mid-2015 (IoD 2019 File 6). City-centre LSOAs have few
residents and many visitors, so their per-resident rates are very high: they
are named (``visitor_heavy``), not dropped. The IMD includes a crime domain,
so part of any link is circular.

References
----------
Mann, H. B. and Whitney, D. R. (1947). Annals of Mathematical Statistics 18, 50-60.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

from hotspots._results import Result, p_text, require_columns
from hotspots.errors import ParameterError
from hotspots.rates import poisson_rate_test, rate_interval

__all__ = ["LSOADeprivation", "lsoa_deprivation"]


@dataclass(frozen=True)
class LSOADeprivation(Result):
    """Hotspot LSOAs against the others, and crime per resident by IMD decile (:func:`lsoa_deprivation`).

    Attributes
    ----------
    by_decile : DataFrame
        ``imd_decile`` (1-10), ``lsoas``, ``hot_lsoas``, ``residents``, ``crimes``, ``rate_per_1000``,
        ``ci_low``, ``ci_high``.
    n_hot, n_other : int
        Hotspot LSOAs and other LSOAs of the force.
    hot_deprived_share, other_deprived_share : float
        Share of each set in deciles 1..``deprived_deciles``.
    hot_median_decile, other_median_decile : float
    mw_u, mw_p : float
        One-sided Mann-Whitney U on IMD rank (hotspot LSOAs lower rank = more deprived).
    rate_ratio, rate_ratio_ci, rate_ratio_p : float, (float, float), float
        Crime per resident in deciles 1..``deprived_deciles`` over deciles ``11 - deprived_deciles``..10.
    visitor_heavy : int
        LSOAs whose rate is more than five times the force rate (city centres, NTE areas).
    finding : str
    """

    by_decile: pd.DataFrame
    n_hot: int
    n_other: int
    deprived_deciles: int
    hot_deprived_share: float
    other_deprived_share: float
    hot_median_decile: float
    other_median_decile: float
    mw_u: float
    mw_p: float
    rate_ratio: float
    rate_ratio_ci: tuple[float, float]
    rate_ratio_p: float
    force_rate: float
    visitor_heavy: int
    finding: str


def lsoa_deprivation(lsoas: pd.DataFrame, *, hot_lsoas: Iterable[str], deprived_deciles: int = 3,
                     years: float = 1.0) -> LSOADeprivation:
    """Compare hotspot LSOAs with the force's other LSOAs, and crime per resident by IMD decile.

    Parameters
    ----------
    lsoas : DataFrame
        One row per LSOA of the force: ``lsoa_code``, ``crimes`` (count, 0 allowed), ``imd_rank``,
        ``imd_decile`` and ``population`` (residents).
    hot_lsoas : iterable of str
        Codes of the LSOAs holding a hot spot.
    deprived_deciles : int, default 3
        "Most deprived" = deciles 1..this; "least deprived" = the same number at the other end.
    years : float, default 1
        Length of the period the crimes cover: rates are per 1,000 residents per year.

    Returns
    -------
    LSOADeprivation

    Examples
    --------
    Six LSOAs of 1,000 residents; the two hotspot LSOAs are in deciles 1 and 2:

    >>> l = pd.DataFrame({"lsoa_code": list("abcdef"), "crimes": [40, 30, 5, 4, 3, 2],
    ...                   "imd_rank": [100, 3000, 12000, 20000, 28000, 32000],
    ...                   "imd_decile": [1, 1, 4, 7, 9, 10], "population": 1000})
    >>> r = lsoa_deprivation(l, hot_lsoas=["a", "b"])
    >>> r.n_hot, r.n_other, r.hot_deprived_share, r.other_deprived_share
    (2, 4, 1.0, 0.0)
    >>> round(r.rate_ratio, 1)  # (40 + 30) / 2000 against (3 + 2) / 2000
    14.0
    """
    require_columns(lsoas, ["lsoa_code", "crimes", "imd_rank", "imd_decile", "population"], name="lsoas",
                    fix="build one row per LSOA with its crimes, IMD rank and decile and residents")
    if not 1 <= deprived_deciles <= 5:
        raise ParameterError(f"deprived_deciles must be 1-5; got {deprived_deciles!r}")
    t = lsoas.dropna(subset=["imd_rank", "imd_decile", "population"])
    t = t[t["population"].to_numpy(float) > 0]
    if not len(t):
        raise ParameterError("no LSOA has an IMD rank, decile and residents; check the IMD and File 6 files")
    hot = t["lsoa_code"].astype(str).isin({str(c) for c in hot_lsoas}).to_numpy()
    dec = t["imd_decile"].to_numpy(np.int64)
    rank = t["imd_rank"].to_numpy(np.float64)
    crimes = t["crimes"].to_numpy(np.float64)
    pop = t["population"].to_numpy(np.float64) * years  # resident-years
    k = deprived_deciles
    deprived = dec <= k
    if hot.any() and (~hot).any():
        u, p = mannwhitneyu(rank[hot], rank[~hot], alternative="less")
        u, p = float(u), float(p)
    else:
        u = p = float("nan")
    rows = []
    for d in range(1, 11):
        m = dec == d
        c, r = float(crimes[m].sum()), float(pop[m].sum())
        rate, lo, hi = (float(v) for v in rate_interval(c, r)) if r else (np.nan, np.nan, np.nan)
        rows.append({"imd_decile": d, "lsoas": int(m.sum()), "hot_lsoas": int((m & hot).sum()),
                     "residents": int(round(r / years)), "crimes": int(c), "rate_per_1000": rate,
                     "ci_low": lo, "ci_high": hi})
    by = pd.DataFrame(rows)
    least = dec >= 11 - k
    c1, t1, c2, t2 = crimes[deprived].sum(), pop[deprived].sum(), crimes[least].sum(), pop[least].sum()
    if t1 > 0 and t2 > 0 and c2 > 0:
        rr = float((c1 / t1) / (c2 / t2))
        rr_p, rr_ci = poisson_rate_test(int(c1), int(c2), float(t1), float(t2))
    else:
        rr, rr_p, rr_ci = float("nan"), float("nan"), (float("nan"), float("nan"))
    force_rate = float(crimes.sum() / pop.sum())
    visitor = int(((crimes / pop) > 5 * force_rate).sum())
    hot_share = float(deprived[hot].mean()) if hot.any() else float("nan")
    other_share = float(deprived[~hot].mean()) if (~hot).any() else float("nan")
    finding = (
        f"{int(hot.sum()):,} LSOAs hold a hot spot: {hot_share:.0%} of them are among the {10 * k}% most deprived "
        f"in England (IMD 2019 deciles 1-{k}) against {other_share:.0%} of the force's other {int((~hot).sum()):,} "
        f"LSOAs (one-sided Mann-Whitney on IMD rank over LSOAs, {p_text(p)}). VAWG-relevant crime per resident "
        f"is {rr:.1f} times as high in deciles 1-{k} as in deciles {11 - k}-10 (95% CI "
        f"{rr_ci[0]:.1f}-{rr_ci[1]:.1f}); {visitor:,} LSOAs with few residents and many visitors (city centres) "
        "have rates over five times the force's. The IMD includes a crime domain, so part of the link is circular."
    )
    return LSOADeprivation(
        by_decile=by, n_hot=int(hot.sum()), n_other=int((~hot).sum()), deprived_deciles=k,
        hot_deprived_share=hot_share, other_deprived_share=other_share,
        hot_median_decile=float(np.median(dec[hot])) if hot.any() else float("nan"),
        other_median_decile=float(np.median(dec[~hot])) if (~hot).any() else float("nan"),
        mw_u=u, mw_p=p, rate_ratio=rr, rate_ratio_ci=rr_ci, rate_ratio_p=rr_p, force_rate=1000 * force_rate,
        visitor_heavy=visitor, finding=finding,
    )
