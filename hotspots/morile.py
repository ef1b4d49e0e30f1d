"""A MoRiLE-style threat matrix: harm x likelihood per threat area and force, with the confidence in the data beside it.

MoRiLE (Management of Risk in Law Enforcement, NPCC) scores a threat by its
impact and likelihood and adjusts its priority by the organisation's
position. This module is a **local calibration** of that structure, not the
official MoRiLE tables: every scale and weight lives in the config
(:class:`MorileMatrix`) with its source, and every score shows its factors.

* **harm** (1-4): harm per 1,000 residents per year against ``harm_bands``;
* **likelihood** (1-4): the rate per 1,000 residents per year (or, with
  ``likelihood="ratio"``, the rate over the national rate of the same threat
  area) against ``rate_bands``, plus ``trend_step`` when the like-for-like change is a
  significant rise (minus it for a significant fall), kept within 1-4;
* **score** = harm x likelihood (1-16), **priority** from ``priority_bands``;
* **confidence** (high / moderate / low) from the data: synthetic sources,
  missing months, the share without a location; shown beside the score, and a
  low-confidence score is never ranked above a high-confidence one of equal score.

Examples
--------
>>> m = MorileMatrix()
>>> t = morile_scores(pd.DataFrame({"force": ["A"], "threat_area": ["rape"], "harm_per_1000": [900.0],
...                                 "rate_per_1000": [1.6], "trend": ["up"], "confidence": ["moderate"]}), matrix=m)
>>> t[["harm_factor", "likelihood_factor", "score", "priority"]].values.tolist()
[[4, 4, 16, 'high']]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hotspots.errors import ParameterError

__all__ = ["MorileMatrix", "morile_scores"]


@dataclass(frozen=True, kw_only=True)
class MorileMatrix:
    """Scales and weights of the matrix (config ``[morile]``), with their source.

    ``harm_bands`` / ``rate_bands``: three ascending cut points that split a measure into factors 1-4 (below
    the first cut 1; at or above the first 2, the second 3, the third 4). ``priority_bands``: the scores at or
    above which a threat is medium and high priority.
    """

    harm_bands: tuple[float, float, float] = (100.0, 300.0, 800.0)  # harm index units per 1,000 residents a year
    rate_bands: tuple[float, float, float] = (0.2, 0.6, 1.5)  # offences per 1,000 residents a year
    trend_step: int = 1
    priority_bands: tuple[int, int] = (6, 12)
    #: "rate": ``rate_bands`` cut the rate per 1,000 residents a year; "ratio": they cut the force's rate divided
    #: by the national rate of the same threat area (``national_rate_per_1000`` column), so likelihood says how
    #: the force stands against the country for that threat while harm carries the threat's weight
    likelihood: str = "rate"
    source: str = ("Local calibration of the MoRiLE structure (impact x likelihood, organisational position as "
                   "confidence); cut points set on the 2024 demo forces' spread, not the official NPCC tables")

    def __post_init__(self) -> None:
        for name in ("harm_bands", "rate_bands"):
            v = getattr(self, name)
            if len(v) != 3 or list(v) != sorted(v) or len(set(v)) != 3:
                raise ParameterError(f"{name} must be three ascending cut points; got {v!r}")
        lo, hi = self.priority_bands
        if not 1 <= lo < hi <= 16:
            raise ParameterError(f"priority_bands must be (medium, high) with 1 <= medium < high <= 16; got "
                                 f"{self.priority_bands!r}")
        if self.likelihood not in ("rate", "ratio"):
            raise ParameterError(f"likelihood must be 'rate' or 'ratio'; got {self.likelihood!r}")
        if not 0 <= self.trend_step <= 2:
            raise ParameterError(f"trend_step must be 0, 1 or 2; got {self.trend_step!r}")


def _factor(values: np.ndarray, bands: tuple[float, float, float]) -> np.ndarray:
    return (np.searchsorted(np.asarray(bands), values, side="right") + 1).astype(np.int64)


_CONFIDENCE_ORDER = {"high": 0, "moderate": 1, "low": 2}


def morile_scores(measures: pd.DataFrame, *, matrix: MorileMatrix) -> pd.DataFrame:
    """Score every (force, threat area): factors, score, priority and confidence, highest first.

    Parameters
    ----------
    measures : DataFrame
        ``force``, ``threat_area``, ``harm_per_1000``, ``rate_per_1000`` (per 1,000 residents per year),
        ``trend`` ("up", "down" or "no clear change": the like-for-like direction) and ``confidence``.
    matrix : MorileMatrix

    Returns
    -------
    DataFrame
        The input columns plus ``harm_factor``, ``rate_factor``, ``trend_adjust``, ``likelihood_factor``,
        ``score``, ``priority``; sorted by score (descending), then confidence (high first), force, threat area.
    """
    need = ["force", "threat_area", "harm_per_1000", "rate_per_1000", "trend", "confidence"]
    missing = [c for c in need if c not in measures.columns]
    if missing:
        raise ParameterError(f"measures has no column(s) {missing}; give {need}")
    bad = ~measures["confidence"].isin(list(_CONFIDENCE_ORDER))
    if bad.any():
        first = measures.loc[bad, "confidence"].iloc[0]
        raise ParameterError(f"confidence must be high, moderate or low; got {first!r}")
    harm = pd.to_numeric(measures["harm_per_1000"], errors="coerce").to_numpy(float)
    rate = pd.to_numeric(measures["rate_per_1000"], errors="coerce").to_numpy(float)
    if matrix.likelihood == "ratio":
        if "national_rate_per_1000" not in measures.columns:
            raise ParameterError("likelihood='ratio' needs a national_rate_per_1000 column (the area's national rate)")
        national = pd.to_numeric(measures["national_rate_per_1000"], errors="coerce").to_numpy(float)
        if not (np.isfinite(national).all() and (national > 0).all()):
            raise ParameterError("national_rate_per_1000 must be a positive number on every row")
        rate = rate / national
    if not (np.isfinite(harm).all() and np.isfinite(rate).all()) or (harm < 0).any() or (rate < 0).any():
        raise ParameterError("harm_per_1000 and rate_per_1000 must be numbers >= 0 (a withheld value cannot be scored)")
    hf = _factor(harm, matrix.harm_bands)
    rf = _factor(rate, matrix.rate_bands)
    trend = measures["trend"].astype(str).to_numpy()
    adj = np.where(trend == "up", matrix.trend_step, np.where(trend == "down", -matrix.trend_step, 0))
    lf = np.clip(rf + adj, 1, 4)
    score = hf * lf
    med, high = matrix.priority_bands
    priority = np.where(score >= high, "high", np.where(score >= med, "medium", "low"))
    out = measures.assign(likelihood_measure=rate, harm_factor=hf, rate_factor=rf, trend_adjust=adj.astype(np.int64),
                          likelihood_factor=lf,
                          score=score.astype(np.int64), priority=priority)
    order = np.lexsort((out["threat_area"].astype(str), out["force"].astype(str),
                        out["confidence"].map(_CONFIDENCE_ORDER).to_numpy(), -out["score"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)
