"""Venue risk (within / nearest counts, NTE weighting) and risky facilities, against hand-worked cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspots.errors import ParameterError
from hotspots.venues import risky_facilities, venue_risk

NAN = np.nan


def _venues():
    # A and B are 80 m apart; C is far from both
    return pd.DataFrame({"venue_id": ["A", "B", "C"], "name": ["The Anchor", "Bar B", "Club C"],
                         "kind": ["pub", "bar", "club"], "x": [0.0, 80.0, 500.0], "y": [0.0, 0.0, 500.0]})


def _events():
    # id: (source, x, y, nte_share)  distances to A / B / C worked by hand, distance_m = 50
    rows = [
        ("rms", 0.0, 0.0, 1.0),  # e0: A 0 -> A
        ("rms", 30.0, 40.0, 0.5),  # e1: A exactly 50 (3-4-5), B 64 -> A
        ("rms", 40.0, 0.0, 0.25),  # e2: A 40, B 40 -> both; tie -> A (first venue)
        ("police_uk", 50.0, 0.0, NAN),  # e3: A exactly 50, B 30 -> both; nearest B; no time of day
        ("rms", 80.0, 30.0, 0.0),  # e4: B 30 -> B
        ("rms", 130.0, 0.0, 1.0),  # e5: B exactly 50 -> B
        ("rms", 131.0, 0.0, 1.0),  # e6: B 51 -> none
        ("ae", 500.0, 500.0, 0.75),  # e7: C 0 -> C (A&E group)
        ("ae", 500.0, 550.5, 1.0),  # e8: C 50.5 -> none
        ("streetsafe", 10.0, 0.0, 1.0),  # e9: not in any group -> ignored
        ("rms", -50.0, 0.0, 0.5),  # e10: A exactly 50 -> A
        ("rms", 0.0, 50.000001, 1.0),  # e11: A 50.000001 -> none (just outside)
    ]
    return pd.DataFrame(rows, columns=["source", "x", "y", "nte_share"])


def _by_id(frame):
    return frame.set_index("venue_id")


def test_hand_drawn_within_and_nearest():
    r = _by_id(venue_risk(_venues(), _events(), distance_m=50, nte_only=False))
    assert r.loc[["A", "B", "C"], "all_within"].tolist() == [5, 4, 1]  # A: e0 e1 e2 e3 e10; B: e2 e3 e4 e5
    assert r.loc[["A", "B", "C"], "crime_within"].tolist() == [5, 4, 0]
    assert r.loc[["A", "B", "C"], "ae_within"].tolist() == [0, 0, 1]
    assert r.loc[["A", "B", "C"], "nearest_count"].tolist() == [4, 3, 1]  # A: e0 e1 e2 e10; B: e3 e4 e5
    assert r.loc[["A", "B", "C"], "crime_nearest"].tolist() == [4, 3, 0]
    assert r["nearest_count"].sum() == 8  # each event near a venue counted once
    assert r.attrs["events_near_venues"] == 8
    assert r.attrs["events_ignored"] == 1
    assert r.loc[["A", "B", "C"], "risk_rank"].tolist() == [1, 2, 3]
    assert "all_within_nte" not in r.columns


def test_nte_weighting_uses_nte_share():
    r = venue_risk(_venues(), _events(), distance_m=50)
    t = _by_id(r)
    # A within: e0 1 + e1 .5 + e2 .25 + e3 NaN(0) + e10 .5; B within: e2 .25 + e3 0 + e4 0 + e5 1
    np.testing.assert_allclose(t.loc[["A", "B", "C"], "all_within_nte"], [2.25, 1.25, 0.75])
    np.testing.assert_allclose(t.loc[["A", "B", "C"], "nearest_nte"], [2.25, 1.0, 0.75])
    np.testing.assert_allclose(t.loc[["A", "B", "C"], "ae_nearest_nte"], [0.0, 0.0, 0.75])
    assert r.attrs["rank_by"] == "nearest_nte"
    assert r["venue_id"].tolist() == ["A", "B", "C"]  # sorted by risk
    assert r.attrs["not_time_resolved_near_venues"] == 1  # e3 (police.uk)
    assert r["all_within"].dtype == np.int64 and r["nearest_nte"].dtype == np.float64


def test_tie_goes_to_the_first_venue_in_input_order():
    r = _by_id(venue_risk(_venues().iloc[[1, 0, 2]], _events(), distance_m=50, nte_only=False))
    assert r.loc[["A", "B"], "nearest_count"].tolist() == [3, 4]  # e2 (tie) now goes to B
    assert r.loc[["A", "B"], "all_within"].tolist() == [5, 4]  # unchanged


def test_venue_columns_carried_and_index_kept():
    v = _venues().set_index(pd.Index([10, 20, 30]))
    r = venue_risk(v, _events(), distance_m=50, rank_by="crime_within")
    assert r.index.tolist() == [10, 20, 30]
    assert {"name", "kind"} <= set(r.columns)


def test_inputs_not_mutated():
    v, e = _venues(), _events()
    v0, e0 = v.copy(), e.copy()
    venue_risk(v, e, distance_m=50)
    pd.testing.assert_frame_equal(v, v0)
    pd.testing.assert_frame_equal(e, e0)


def test_matches_brute_force_and_event_order_is_irrelevant():
    rng = np.random.default_rng(3)
    v = pd.DataFrame({"venue_id": np.arange(40), "x": rng.uniform(0, 500, 40).round(),
                      "y": rng.uniform(0, 500, 40).round()})
    e = pd.DataFrame({"source": rng.choice(["police_uk", "rms", "ae"], 3000), "x": rng.uniform(0, 500, 3000).round(),
                      "y": rng.uniform(0, 500, 3000).round(), "nte_share": rng.uniform(0, 1, 3000)})
    r = venue_risk(v, e, distance_m=40).sort_values("venue_id")
    d = np.hypot(v["x"].to_numpy()[:, None] - e["x"].to_numpy(), v["y"].to_numpy()[:, None] - e["y"].to_numpy())
    within = d <= 40
    np.testing.assert_array_equal(r["all_within"], within.sum(axis=1))
    np.testing.assert_allclose(r["all_within_nte"], within @ e["nte_share"].to_numpy())
    dm = np.where(within, d, np.inf)
    best = np.argmin(dm, axis=0)  # argmin takes the first (lowest venue index) of ties
    has = within.any(axis=0)
    np.testing.assert_array_equal(r["nearest_count"], np.bincount(best[has], minlength=len(v)))
    shuffled = venue_risk(v, e.sample(frac=1, random_state=1), distance_m=40).sort_values("venue_id")
    pd.testing.assert_frame_equal(r, shuffled)


def test_categorical_source_same_as_strings():
    e = _events()
    plain = venue_risk(_venues(), e, distance_m=50)
    cat = venue_risk(_venues(), e.assign(source=e["source"].astype("category")), distance_m=50)
    pd.testing.assert_frame_equal(plain, cat)


def test_no_events_gives_zeros():
    e = _events().iloc[:0]
    r = venue_risk(_venues(), e, distance_m=50)
    assert r["all_within"].tolist() == [0, 0, 0] and r["risk_rank"].tolist() == [1, 1, 1]


@pytest.mark.parametrize(
    ("venues", "events", "kwargs", "match"),
    [
        (_venues(), _events(), {"distance_m": 0}, "distance_m must be a positive"),
        (_venues(), _events(), {"distance_m": float("nan")}, "distance_m must be a positive"),
        (_venues().drop(columns="x"), _events(), {}, "venues has no column"),
        (_venues().assign(x=[0.0, NAN, 1.0]), _events(), {}, "venues has 1 rows without numeric x/y"),
        (_venues().assign(x=[-2.36, -2.35, -2.34], y=[51.38, 51.38, 51.39]), _events(), {}, "degrees"),
        (_venues(), _events().drop(columns="source"), {}, "no column source"),
        (_venues(), _events().drop(columns="nte_share"), {}, "nte_only=False"),
        (_venues(), _events().assign(nte_share=2.0), {}, "nte_share must be between 0 and 1"),
        (_venues(), _events(), {"groups": {"a": ["rms"], "b": ["rms"]}}, "in two groups"),
        (_venues(), _events(), {"groups": {"a": "rms"}}, "must be a list of sources"),
        (_venues(), _events(), {"groups": {"all": ["rms"]}}, "identifiers other than 'all'"),
        (_venues(), _events(), {"rank_by": "nope"}, "rank_by must be one of"),
        (_venues().iloc[:0], _events(), {}, "venues has no rows"),
    ],
)
def test_bad_inputs(venues, events, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        venue_risk(venues, events, **kwargs)


# ---- risky facilities ------------------------------------------------------------------------------------------


def test_concentration_one_venue_has_everything():
    rf = risky_facilities([10, 0, 0, 0])
    s = rf.attrs["summary"]
    assert s["gini"] == pytest.approx(0.75)  # n-venue convention: (n - 1) / n
    assert s["top10_share"] == pytest.approx(0.4)  # curve read at 0.1 between (0, 0) and (0.25, 1)
    assert s["top20_share"] == pytest.approx(0.8)
    assert s["share_of_venues_with_none"] == pytest.approx(0.75)
    assert rf["cum_venue_share"].tolist() == [0.25, 0.5, 0.75, 1.0]
    assert rf["cum_incident_share"].tolist() == [1.0, 1.0, 1.0, 1.0]


def test_concentration_ten_venues_hand_computed():
    counts = [5, 50, 0, 20, 1, 10, 3, 5, 2, 4]  # total 100
    rf = risky_facilities(counts)
    assert rf["incidents"].tolist() == [50, 20, 10, 5, 5, 4, 3, 2, 1, 0]
    assert rf["cum_incidents"].tolist() == [50, 70, 80, 85, 90, 94, 97, 99, 100, 100]
    s = rf.attrs["summary"]
    assert s["top10_share"] == pytest.approx(0.5) and s["top20_share"] == pytest.approx(0.7)
    # ascending 0 1 2 3 4 5 5 10 20 50 with weights 2i - 11 = -9 .. 9: sum 630; G = 630 / (10 * 100)
    assert s["gini"] == pytest.approx(0.63)
    x = np.asarray(counts, float)  # oracle 2: mean absolute difference over all ordered pairs / (2 mean)
    assert s["gini"] == pytest.approx(np.abs(x[:, None] - x[None, :]).mean() / (2 * x.mean()))
    lorenz = np.concatenate([[0], np.cumsum(np.sort(x)) / x.sum()])  # oracle 3: 1 - 2 * area under Lorenz
    assert s["gini"] == pytest.approx(1 - 2 * np.trapezoid(lorenz, dx=1 / len(x)))


def test_concentration_equal_and_empty():
    assert risky_facilities([3, 3, 3]).attrs["summary"]["gini"] == pytest.approx(0.0, abs=1e-12)
    s = risky_facilities([0, 0]).attrs["summary"]
    assert np.isnan(s["gini"]) and np.isnan(s["top10_share"])


def test_concentration_from_venue_risk_uses_rank_column():
    r = venue_risk(_venues(), _events(), distance_m=50, nte_only=False)
    rf = risky_facilities(r)
    assert rf.attrs["column"] == "nearest_count"
    assert rf["venue_id"].tolist() == ["A", "B", "C"] and rf["incidents"].tolist() == [4, 3, 1]
    assert rf.attrs["summary"]["incidents"] == 8


@pytest.mark.parametrize(
    ("counts", "kwargs", "match"),
    [([], {}, "counts is empty"), ([1, -1], {}, ">= 0"), ([1, np.nan], {}, "finite"),
     (pd.DataFrame({"a": [1]}), {"column": "b"}, "no column 'b'")],
)
def test_concentration_bad_inputs(counts, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        risky_facilities(counts, **kwargs)
