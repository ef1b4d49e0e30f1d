"""Funnel plots for comparing forces: rates against population with control limits, allowing for over-dispersion.

A league table ranks forces on noise: a small force's rate moves a lot from
chance alone. A funnel plot (Spiegelhalter 2005) draws each force's rate
against its population with control limits around the national rate that
narrow as the population grows; a force outside the limits differs by more
than chance. Counts of thousands are over-dispersed (forces differ for
reasons no one is judging: recording practice, demography), so the limits
are widened by an additive random-effects variance ``tau2`` estimated from
winsorised z-scores (Spiegelhalter, Sherlaw-Johnson et al. 2012):

* target ``theta0 = sum O / sum N`` (events per person);
* each force's standard error under the target, ``s_i = sqrt(theta0 / N_i)``;
* z-scores ``z_i = (y_i - theta0) / s_i`` with ``y_i = O_i / N_i``, winsorised
  at the ``winsor`` and ``1 - winsor`` quantiles;
* ``phi = mean(z_w^2)``; when ``I * phi > I - 1`` (more spread than chance)
  ``tau2 = (I phi - (I - 1)) / (sum w - sum w^2 / sum w)`` with ``w_i = 1 / s_i^2``, else 0;
* limits ``theta0 +- z_alpha * sqrt(s^2 + tau2)`` for any population
  (95 %: ``z = 1.96``; 99.8 %: ``z = 3.09``).

References
----------
Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance. Statistics in Medicine 24,
1185-1202.
Spiegelhalter, D. J., Sherlaw-Johnson, C., Bardsley, M., Blunt, I., Wood, C. and Grigg, O. (2012). Statistical
methods for healthcare regulation: rating, screening and surveillance. JRSS A 175, 1-47.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from hotspots._results import Result
from hotspots.errors import ParameterError

__all__ = ["FunnelFit", "funnel_fit", "funnel_limits", "funnel_positions"]


@dataclass(frozen=True)
class FunnelFit(Result):
    """The fitted funnel: target rate, over-dispersion, and each unit's z-score and position.

    theta0 : events per person (national rate); phi : mean squared winsorised z; tau2 : additive between-unit
    variance (0 when no over-dispersion); units : DataFrame unit, events, population, rate, z, z_adj (z with
    tau2), position ("above 99.8%", "above 95%", "within", "below 95%", "below 99.8%").
    """

    theta0: float
    phi: float
    tau2: float
    winsor: float
    units: pd.DataFrame


def _position(z: np.ndarray) -> np.ndarray:
    out = np.full(len(z), "within", dtype=object)
    out[z > norm.ppf(0.975)] = "above 95%"
    out[z > norm.ppf(0.999)] = "above 99.8%"
    out[z < -norm.ppf(0.975)] = "below 95%"
    out[z < -norm.ppf(0.999)] = "below 99.8%"
    return out


def funnel_fit(events: pd.Series, population: pd.Series, *, winsor: float = 0.1,
               overdispersion: bool = True) -> FunnelFit:
    """Fit a funnel of rates (events per person) with an additive over-dispersion term.

    Parameters
    ----------
    events, population : Series
        Events and residents per unit (same index: the unit name).
    winsor : float, default 0.1
        z-scores are winsorised at this quantile and its complement before estimating ``phi``.
    overdispersion : bool, default True
        False: the plain Poisson funnel (``tau2 = 0``).

    Returns
    -------
    FunnelFit

    Examples
    --------
    Ten units of 100,000 people; the national rate is 1.03 per 1,000:

    >>> ev = pd.Series([100, 95, 105, 98, 102, 99, 101, 97, 103, 130], index=list("abcdefghij"))
    >>> fit = funnel_fit(ev, pd.Series(100_000, index=ev.index), overdispersion=False)
    >>> round(fit.theta0 * 1000, 2), fit.units.set_index("unit").loc["j", "position"]
    (1.03, 'above 95%')
    """
    if not 0 <= winsor < 0.5:
        raise ParameterError(f"winsor must be in [0, 0.5), e.g. 0.1; got {winsor!r}")
    o = pd.to_numeric(events, errors="coerce").astype(float)
    n = pd.to_numeric(population, errors="coerce").astype(float).reindex(o.index)
    if o.isna().any() or n.isna().any() or (n <= 0).any() or (o < 0).any():
        raise ParameterError("events must be counts >= 0 and population > 0 for every unit (same index)")
    if len(o) < 3:
        raise ParameterError("a funnel needs at least 3 units")
    theta0 = float(o.sum() / n.sum())
    y = (o / n).to_numpy()
    s2 = theta0 / n.to_numpy()
    z = (y - theta0) / np.sqrt(s2)
    lo, hi = np.quantile(z, [winsor, 1 - winsor]) if winsor > 0 else (z.min(), z.max())
    zw = np.clip(z, lo, hi)
    k = len(z)
    phi = float(np.mean(zw ** 2))
    tau2 = 0.0
    if overdispersion and k * phi > k - 1:
        w = 1 / s2
        tau2 = float((k * phi - (k - 1)) / (w.sum() - (w ** 2).sum() / w.sum()))
    units = pd.DataFrame({"unit": o.index.astype(str), "events": o.to_numpy(), "population": n.to_numpy(),
                          "rate": y, "z": z})
    fit = FunnelFit(theta0=theta0, phi=phi, tau2=tau2, winsor=winsor, units=units)
    z_adj, position = funnel_positions(fit, o.to_numpy(), n.to_numpy())
    units["z_adj"], units["position"] = z_adj, position
    return fit


def funnel_positions(fit: FunnelFit, events: np.ndarray, population: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's over-dispersed z-score and position against a fitted funnel (in the fit or not).

    ``z_adj = (O/N - theta0) / sqrt(theta0 / N + tau2)``; a unit kept out of the fit (different definitions) is
    placed against the same limits as the units in it.

    Examples
    --------
    >>> ev = pd.Series([100, 95, 105, 98, 102, 99, 101, 97, 103, 130], index=list("abcdefghij"))
    >>> fit = funnel_fit(ev, pd.Series(100_000, index=ev.index), overdispersion=False)
    >>> z, pos = funnel_positions(fit, np.array([150.0]), np.array([100_000.0]))
    >>> round(float(z[0]), 2), pos[0]
    (4.63, 'above 99.8%')
    """
    o = np.asarray(events, dtype=float)
    n = np.asarray(population, dtype=float)
    z_adj = (o / n - fit.theta0) / np.sqrt(fit.theta0 / n + fit.tau2)
    return z_adj, _position(z_adj)


def funnel_limits(fit: FunnelFit, population: np.ndarray, *, levels: tuple[float, ...] = (0.95, 0.998)) -> pd.DataFrame:
    """Control limits of a fitted funnel at the given populations (for drawing the funnel).

    Returns
    -------
    DataFrame
        ``population`` and, per level, ``lower_<pct>`` and ``upper_<pct>`` (events per person; lower floored at 0).

    Examples
    --------
    >>> ev = pd.Series([100, 95, 105, 98, 102, 99, 101, 97, 103, 130], index=list("abcdefghij"))
    >>> fit = funnel_fit(ev, pd.Series(100_000, index=ev.index), overdispersion=False)
    >>> lim = funnel_limits(fit, np.array([100_000.0]))
    >>> round(float(lim["upper_95"].iloc[0]) * 1000, 3)  # 1.03 + 1.96 sqrt(0.00103 / 100000) per 1,000
    1.229
    """
    p = np.asarray(population, dtype=float)
    if (p <= 0).any():
        raise ParameterError("population must be > 0")
    se = np.sqrt(fit.theta0 / p + fit.tau2)
    out = {"population": p}
    for lev in levels:
        zq = norm.ppf(0.5 + lev / 2)
        tag = f"{lev * 100:g}".replace(".", "_")
        out[f"lower_{tag}"] = np.maximum(fit.theta0 - zq * se, 0.0)
        out[f"upper_{tag}"] = fit.theta0 + zq * se
    return pd.DataFrame(out)
