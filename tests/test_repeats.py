"""Repeat locations: hand counts and a pandas groupby oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.errors import ParameterError
from hotspots.repeats import repeat_locations


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=80), st.integers(2, 4))
def test_repeat_locations_equal_a_groupby(points, k):
    ev = pd.DataFrame(points, columns=["x", "y"]).astype(float) * 10
    r = repeat_locations(ev, min_events=k)
    counts = ev.groupby(["x", "y"]).size()
    assert r.locations == len(counts) and r.events == len(ev)
    assert r.repeat_locations == int((counts >= k).sum())
    assert r.repeat_events == int(counts[counts >= k].sum())
    assert r.max_events == int(counts.max())
    top = max(1, int(np.ceil(0.1 * len(counts))))
    assert r.top10_share == pytest.approx(counts.sort_values(ascending=False).head(top).sum() / len(ev))


def test_repeat_locations_skip_missing_points_and_check_arguments():
    ev = pd.DataFrame({"x": [1.0, 1.0, np.nan], "y": [2.0, 2.0, 3.0]})
    r = repeat_locations(ev)
    assert (r.events, r.repeat_events) == (2, 2)
    with pytest.raises(ParameterError, match="min_events"):
        repeat_locations(ev, min_events=1)
    with pytest.raises(ParameterError, match="'x'"):
        repeat_locations(pd.DataFrame({"y": [1.0]}))
    assert repeat_locations(pd.DataFrame({"x": [np.nan], "y": [np.nan]})).events == 0


def test_demo_repeats_police_uk_points_stack_far_more_than_rms(demo_numbers):
    rep = demo_numbers.hotspots.repeats
    assert rep["police_uk"]["events"] == demo_numbers.volume.total
    assert rep["police_uk"]["repeat_share"] > rep["rms"]["repeat_share"]  # anonymised points are shared
