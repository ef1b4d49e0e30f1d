"""MoRiLE-style scores against a hand-computed case."""

from __future__ import annotations

import pandas as pd
import pytest

from hotspots.errors import ParameterError
from hotspots.morile import MorileMatrix, morile_scores


def test_scores_by_hand():
    m = MorileMatrix(harm_bands=(10.0, 20.0, 30.0), rate_bands=(1.0, 2.0, 3.0), trend_step=1, priority_bands=(6, 12))
    t = pd.DataFrame({
        "force": ["A", "A", "B", "B"],
        "threat_area": ["rape", "da", "rape", "da"],
        "harm_per_1000": [35.0, 5.0, 20.0, 10.0],   # factors 4, 1, 3 (at a cut: the upper band), 2
        "rate_per_1000": [2.5, 0.5, 3.5, 2.0],      # factors 3, 1, 4, 3
        "trend": ["up", "down", "up", "no clear change"],  # +1, -1 (floored at 1), +1 (capped at 4), 0
        "confidence": ["low", "high", "high", "moderate"],
    })
    s = morile_scores(t, matrix=m).set_index(["force", "threat_area"])
    cols = ["harm_factor", "likelihood_factor", "score", "priority"]
    assert s.loc[("A", "rape"), cols].tolist() == [4, 4, 16, "high"]
    assert s.loc[("A", "da"), cols].tolist() == [1, 1, 1, "low"]
    assert s.loc[("B", "rape"), cols].tolist() == [3, 4, 12, "high"]
    assert s.loc[("B", "da"), cols].tolist() == [2, 3, 6, "medium"]
    order = morile_scores(t, matrix=m)[["force", "threat_area"]].values.tolist()
    assert order == [["A", "rape"], ["B", "rape"], ["B", "da"], ["A", "da"]]


def test_equal_scores_rank_high_confidence_first():
    m = MorileMatrix()
    t = pd.DataFrame({"force": ["A", "B"], "threat_area": "rape", "harm_per_1000": 900.0, "rate_per_1000": 1.0,
                      "trend": "no clear change", "confidence": ["low", "high"]})
    assert morile_scores(t, matrix=m)["force"].tolist() == ["B", "A"]


def test_bad_matrix_and_measures():
    with pytest.raises(ParameterError, match="ascending"):
        MorileMatrix(harm_bands=(3.0, 2.0, 1.0))
    with pytest.raises(ParameterError, match="priority_bands"):
        MorileMatrix(priority_bands=(12, 6))
    t = pd.DataFrame({"force": ["A"], "threat_area": ["rape"], "harm_per_1000": [None], "rate_per_1000": [1.0],
                      "trend": ["up"], "confidence": ["high"]})
    with pytest.raises(ParameterError, match="withheld"):
        morile_scores(t, matrix=MorileMatrix())


def test_likelihood_as_ratio_to_the_national_rate_by_hand():
    # ratio bands 0.8 / 1.0 / 1.25: 0.6 -> 1, 0.9 -> 2, 1.0 (at a cut) -> 3, 1.5 -> 4 (then the trend step)
    m = MorileMatrix(harm_bands=(10.0, 20.0, 30.0), rate_bands=(0.8, 1.0, 1.25), likelihood="ratio")
    t = pd.DataFrame({"force": list("ABCD"), "threat_area": "x", "harm_per_1000": [25.0] * 4,
                      "rate_per_1000": [3.0, 4.5, 5.0, 7.5], "national_rate_per_1000": 5.0,
                      "trend": ["no clear change", "up", "no clear change", "down"], "confidence": "high"})
    s = morile_scores(t, matrix=m).set_index("force")
    assert s.loc[["A", "B", "C", "D"], "likelihood_measure"].round(2).tolist() == [0.6, 0.9, 1.0, 1.5]
    assert s.loc[["A", "B", "C", "D"], "rate_factor"].tolist() == [1, 2, 3, 4]
    assert s.loc[["A", "B", "C", "D"], "likelihood_factor"].tolist() == [1, 3, 3, 3]
    assert s.loc[["A", "B", "C", "D"], "score"].tolist() == [3, 9, 9, 9]  # harm factor 3 (25 in [20, 30))
    with pytest.raises(ParameterError, match="national_rate_per_1000"):
        morile_scores(t.drop(columns="national_rate_per_1000"), matrix=m)
    with pytest.raises(ParameterError, match="likelihood"):
        MorileMatrix(likelihood="odds")
