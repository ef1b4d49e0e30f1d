"""Time bands: NTE window parsing, aoristic weekday x hour tables and NTE shares against hand-computed oracles."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.errors import ParameterError
from hotspots.timebands import (
    COMPLEMENT,
    DEFAULT_NTE,
    WEEKDAYS,
    NTEWindow,
    aoristic_band_share,
    aoristic_weekday_hour,
    in_nte,
    mark_time_resolved,
    nte_share,
    parse_nte_window,
    weekday_hour_table,
    window_problems,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
# 2024-03-04 is a Monday; 2024-03-01 a Friday.
BASE = np.datetime64("2024-03-04T00:00", "s")


def dt(*values):
    return np.array(values, dtype="datetime64[s]")


def only(tab, cells):
    """tab equals `cells` ({(day, hour): value}) and is zero elsewhere."""
    expect = np.zeros((7, 24))
    for (d, h), v in cells.items():
        expect[d, h] = v
    np.testing.assert_allclose(tab, expect, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- aoristic weekday x hour


def test_friday_22_to_saturday_02_quarters():
    tab = aoristic_weekday_hour(dt("2024-03-01T22:00"), dt("2024-03-02T02:00"))
    assert tab.shape == (7, 24)
    only(tab, {(FRI, 22): 0.25, (FRI, 23): 0.25, (SAT, 0): 0.25, (SAT, 1): 0.25})


def test_half_hour_either_side():
    tab = aoristic_weekday_hour(dt("2024-03-05T21:30"), dt("2024-03-05T22:30"))
    only(tab, {(TUE, 21): 0.5, (TUE, 22): 0.5})


def test_uneven_minutes():
    # 22:40-23:30: 20 of 50 minutes in hour 22, 30 of 50 in hour 23
    tab = aoristic_weekday_hour(dt("2024-03-06T22:40"), dt("2024-03-06T23:30"))
    only(tab, {(WED, 22): 0.4, (WED, 23): 0.6})


def test_three_day_window():
    # Wednesday 12:00 to Saturday 12:00: 72 hours, 1/72 each
    tab = aoristic_weekday_hour(dt("2024-03-06T12:00"), dt("2024-03-09T12:00"))
    cells = {}
    for k in range(72):
        h = 2 * 24 + 12 + k
        cells[(h // 24, h % 24)] = 1 / 72
    only(tab, cells)


def test_sunday_night_wraps_to_monday():
    tab = aoristic_weekday_hour(dt("2024-03-10T23:00"), dt("2024-03-11T01:00"))
    only(tab, {(SUN, 23): 0.5, (MON, 0): 0.5})


def test_point_events():
    t0 = dt("2024-03-01T23:59:59", "2024-03-02T00:00", "2024-03-02T00:00")
    t1 = dt("NaT", "2024-03-02T00:00", "NaT")  # missing end, end == start
    only(aoristic_weekday_hour(t0, t1), {(FRI, 23): 1, (SAT, 0): 2})
    only(aoristic_weekday_hour(t0), {(FRI, 23): 1, (SAT, 0): 2})


def test_weights():
    t0 = dt("2024-03-01T22:00", "2024-03-05T10:15")
    t1 = dt("2024-03-02T02:00", "NaT")
    only(
        aoristic_weekday_hour(t0, t1, weights=[4.0, 2.5]),
        {(FRI, 22): 1, (FRI, 23): 1, (SAT, 0): 1, (SAT, 1): 1, (TUE, 10): 2.5},
    )


def test_window_of_a_week_or_more_is_uniform():
    tab = aoristic_weekday_hour(dt("2024-03-01T22:17"), dt("2024-03-12T03:00"))
    np.testing.assert_allclose(tab, np.full((7, 24), 1 / 168), rtol=1e-12)


def test_row_order_only_permutes():
    rng = np.random.default_rng(1)
    t0 = BASE + rng.integers(0, 30 * 86400, 500).astype("timedelta64[s]")
    t1 = t0 + rng.integers(0, 3 * 86400, 500).astype("timedelta64[s]")
    w = rng.random(500)
    p = rng.permutation(500)
    np.testing.assert_allclose(
        aoristic_weekday_hour(t0, t1, weights=w), aoristic_weekday_hour(t0[p], t1[p], weights=w[p]), rtol=1e-12
    )


def _minute_oracle(t0, t1):
    """Independent oracle: expand each window into its minutes with pandas and count weekday/hour."""
    tab = np.zeros((7, 24))
    for a, b in zip(t0, t1, strict=True):
        if b == a:
            ts = pd.DatetimeIndex([a])
        else:
            ts = pd.date_range(a, b, freq="min", inclusive="left")
        np.add.at(tab, (ts.day_of_week, ts.hour), 1 / len(ts))
    return tab


windows = st.lists(
    st.tuples(st.integers(0, 60 * 24 * 60), st.integers(0, 8 * 24 * 60)),  # start minute in 60 days, length <= 8 days
    min_size=1,
    max_size=20,
)


@settings(max_examples=60, deadline=None)
@given(windows)
def test_property_matches_minute_oracle_and_conserves_mass(ws):
    t0 = BASE + np.array([s for s, _ in ws]).astype("timedelta64[m]")
    t1 = t0 + np.array([d for _, d in ws]).astype("timedelta64[m]")
    tab = aoristic_weekday_hour(t0, t1)
    assert tab.sum() == pytest.approx(len(ws), rel=1e-12)
    short = np.array([d for _, d in ws]) < 7 * 1440
    np.testing.assert_allclose(
        aoristic_weekday_hour(t0[short], t1[short]), _minute_oracle(t0[short], t1[short]), rtol=0, atol=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-(10**9), 2 * 10**9), st.integers(0, 20 * 86400), st.floats(0, 100)),
        min_size=0,
        max_size=50,
    )
)
def test_property_weighted_mass_conserved_to_the_second(rows):
    t0 = np.array([s for s, _, _ in rows], dtype=np.int64).astype("datetime64[s]")
    t1 = t0 + np.array([d for _, d, _ in rows], dtype=np.int64).astype("timedelta64[s]")
    w = np.array([x for _, _, x in rows], dtype=float)
    tab = aoristic_weekday_hour(t0, t1, weights=w)
    assert tab.sum() == pytest.approx(w.sum(), rel=1e-12, abs=1e-9)
    assert (tab >= 0).all()


def test_input_kinds_agree():
    t0 = ["2024-03-01 22:00", "2024-03-05 10:15"]
    t1 = ["2024-03-02 02:00", None]
    expect = aoristic_weekday_hour(dt(t0[0], t0[1]), dt(t1[0], "NaT"))
    for a, b in [
        (t0, t1),
        (pd.Series(pd.to_datetime(t0)), pd.Series(pd.to_datetime(t1))),
        (pd.to_datetime(t0), pd.to_datetime(t1)),
        (list(pd.to_datetime(t0)), [pd.Timestamp(t1[0]), pd.NaT]),
        (np.array(t0, dtype="datetime64[ns]"), np.array([t1[0], "NaT"], dtype="datetime64[ms]")),
    ]:
        np.testing.assert_array_equal(aoristic_weekday_hour(a, b), expect)


def test_inputs_not_mutated():
    t0 = dt("2024-03-01T22:00", "2024-03-02T10:00")
    t1 = dt("2024-03-02T02:00", "NaT")
    w = np.array([1.0, 2.0])
    c0, c1, cw = t0.copy(), t1.copy(), w.copy()
    aoristic_weekday_hour(t0, t1, weights=w)
    nte_share(t0, t1, window=DEFAULT_NTE)
    window_problems(t0, t1)
    np.testing.assert_array_equal(t0, c0)
    np.testing.assert_array_equal(t1, c1)
    np.testing.assert_array_equal(w, cw)


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: aoristic_weekday_hour(dt("2024-03-02T02:00", "2024-03-02T02:00"), dt("2024-03-01T22:00", "NaT")),
            r"t_to is before t_from on 1 of 2 events \(first at position 0\).*window_problems",
        ),
        (lambda: aoristic_weekday_hour(dt("NaT", "NaT")), r"t_from is missing \(NaT\) on 2 of 2"),
        (lambda: aoristic_weekday_hour(dt("2024-03-01"), dt("2024-03-01", "2024-03-02")), "t_to has 2.*one of each"),
        (lambda: aoristic_weekday_hour(dt("2024-03-01"), weights=[1, 2]), "weights has shape"),
        (lambda: aoristic_weekday_hour(dt("2024-03-01"), weights=[np.nan]), "weights has missing"),
        (lambda: aoristic_weekday_hour(np.array(["2024-03-01"], dtype="datetime64[D]")), r"time of day is unknown"),
        (lambda: aoristic_weekday_hour(np.array([1_700_000_000])), "convert epoch seconds"),
        (lambda: aoristic_weekday_hour(["not a date"]), "cannot be read as dates"),
        (
            lambda: aoristic_weekday_hour(pd.Series(pd.to_datetime(["2024-03-01 22:00"]).tz_localize("UTC"))),
            "time-zone aware.*tz_convert",
        ),
        (lambda: aoristic_weekday_hour(["2024-03-01T22:00+00:00"]), "time-zone aware"),
        (lambda: in_nte(dt("NaT"), window=DEFAULT_NTE), r"t is missing \(NaT\) on 1"),
        (lambda: window_problems(dt("2024-03-01"), max_window_h=0), "max_window_h must be a positive"),
        (lambda: aoristic_band_share(dt("2024-03-01"), bands={}), "non-empty mapping"),
        (lambda: aoristic_band_share(dt("2024-03-01"), bands={"a": COMPLEMENT, "b": COMPLEMENT}), "only one band"),
        (
            lambda: aoristic_band_share(dt("2024-03-01"), bands={"a": DEFAULT_NTE, "b": [("Sat", 2)]}),
            r"'a' and 'b' overlap \(both cover Sat 02:00\)",
        ),
        (lambda: aoristic_band_share(dt("2024-03-01"), bands={"a": [("Fri", 24)]}), "hour 24"),
        (lambda: aoristic_band_share(dt("2024-03-01"), bands={"a": [("Fry", 2)]}), "unknown weekday 'Fry'"),
        (lambda: aoristic_band_share(dt("2024-03-01"), bands={"a": ["Fri"]}), "not a \\(weekday, hour\\) pair"),
        (lambda: aoristic_band_share(dt("2024-03-01"), bands={"a": 3}), "must be an NTEWindow"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


# --------------------------------------------------------------------------- window problems


def test_window_problems_codes():
    t0 = dt("2024-03-01T22:00", "NaT", "2024-03-01T22:00", "2024-03-01T22:00", "2024-03-01T22:00", "2024-03-01T22:00")
    t1 = dt("2024-03-02T02:00", "2024-03-02T02:00", "2024-03-01T21:59", "2024-03-03T22:00", "2024-03-03T22:01", "NaT")
    got = window_problems(t0, t1, max_window_h=48)
    assert list(got) == ["ok", "missing_from", "to_before_from", "ok", "window_too_long", "ok"]
    assert list(window_problems(t0, t1, max_window_h=None))[3:5] == ["ok", "ok"]
    assert list(window_problems(t0)) == ["ok", "missing_from", "ok", "ok", "ok", "ok"]
    assert len(window_problems(np.array([], dtype="datetime64[s]"))) == 0


# --------------------------------------------------------------------------- NTE window


@pytest.mark.parametrize(
    "text, days, start, end, canonical",
    [
        ("Fri,Sat 21:00-06:00", ("Fri", "Sat"), "21:00", "06:00", "Fri,Sat 21:00-06:00"),
        ("Mon-Sun 18:00-06:00", WEEKDAYS, "18:00", "06:00", "Mon-Sun 18:00-06:00"),
        ("Thu-Sat 22:00-04:00", ("Thu", "Fri", "Sat"), "22:00", "04:00", "Thu-Sat 22:00-04:00"),
        ("  saturday , FRIDAY  9:00 – 17:30 ", ("Fri", "Sat"), "09:00", "17:30", "Fri,Sat 09:00-17:30"),
        ("Sat-Mon 18:00-24:00", ("Mon", "Sat", "Sun"), "18:00", "00:00", "Mon,Sat,Sun 18:00-00:00"),
        ("Mon,Fri-Sun 21:00-05:00", ("Mon", "Fri", "Sat", "Sun"), "21:00", "05:00", "Mon,Fri-Sun 21:00-05:00"),
        ("Fri 00:00-00:00", ("Fri",), "00:00", "00:00", "Fri 00:00-00:00"),
    ],
)
def test_parse_nte_window(text, days, start, end, canonical):
    w = parse_nte_window(text)
    assert (w.days, w.start, w.end, str(w)) == (days, start, end, canonical)
    assert parse_nte_window(str(w)) == w
    assert parse_nte_window(w) is w


@pytest.mark.parametrize(
    "text, match",
    [
        ("Fri,Sat", "not in the form 'DAYS HH:MM-HH:MM'"),
        ("21:00-06:00", "not in the form"),
        ("Fri,Sat 21:00", "not in the form"),
        ("Fry 21:00-06:00", "unknown weekday 'Fry'"),
        ("Fri,,Sat 21:00-06:00", "empty weekday"),
        ("Fri-Sat-Sun 21:00-06:00", "day range 'Fri-Sat-Sun'"),
        ("Fri,Fri 21:00-06:00", "more than once"),
        ("Thu-Sat,Fri 21:00-06:00", "more than once"),
        ("Fri 25:00-06:00", "out of range"),
        ("Fri 21:60-06:00", "out of range"),
        ("Fri 24:00-06:00", "out of range"),
        ("Fri 9pm-6am", "'9pm' is not HH:MM"),
        (None, "must be text"),
    ],
)
def test_parse_nte_window_errors(text, match):
    with pytest.raises(ParameterError, match=match):
        parse_nte_window(text)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(days="Fri", start="21:00", end="06:00"), "non-empty tuple.*parse_nte_window"),
        (dict(days=(), start="21:00", end="06:00"), "non-empty tuple"),
        (dict(days=("Fri", 4), start="21:00", end="06:00"), "repeats a weekday"),
        (dict(days=("Fri",), start="2100", end="06:00"), "NTEWindow start: time '2100' is not HH:MM"),
    ],
)
def test_nte_window_errors(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        NTEWindow(**kwargs)


@settings(max_examples=100, deadline=None)
@given(st.sets(st.integers(0, 6), min_size=1), st.integers(0, 1439), st.integers(0, 1439))
def test_property_canonical_text_round_trips(days, start, end):
    w = NTEWindow(
        days=tuple(sorted(days, reverse=True)),
        start=f"{start // 60}:{start % 60:02d}",
        end=f"{end // 60:02d}:{end % 60:02d}",
    )
    assert parse_nte_window(str(w)) == w
    assert w.hours_per_week == pytest.approx(len(days) * ((end - start) % 1440 or 1440) / 60)


def test_default_and_dict():
    assert DEFAULT_NTE == parse_nte_window("Fri,Sat 21:00-06:00")
    assert DEFAULT_NTE.crosses_midnight and DEFAULT_NTE.duration_min == 540
    assert not parse_nte_window("Mon-Sun 09:00-17:00").crosses_midnight
    d = json.loads(json.dumps(DEFAULT_NTE.to_dict()))
    assert d == {"text": "Fri,Sat 21:00-06:00", "days": ["Fri", "Sat"], "start": "21:00", "end": "06:00"}
    with pytest.raises(AttributeError):
        DEFAULT_NTE.start = "22:00"


# --------------------------------------------------------------------------- NTE shares


@pytest.mark.parametrize(
    "t_from, t_to, window, expect",
    [
        ("2024-03-01T23:00", "NaT", DEFAULT_NTE, 1.0),  # Fri 23:00 point
        ("2024-03-01T20:00", "2024-03-01T22:00", DEFAULT_NTE, 0.5),  # Fri 20-22, window from 21:00
        ("2024-03-03T02:00", "NaT", DEFAULT_NTE, 1.0),  # Sun 02:00: Saturday's night runs to Sun 06:00
        ("2024-03-04T02:00", "NaT", DEFAULT_NTE, 0.0),  # Mon 02:00: no Sunday night in Fri,Sat
        ("2024-03-04T02:00", "NaT", "Sun 21:00-06:00", 1.0),  # Sunday's night runs into Monday (week wrap)
        ("2024-03-10T20:00", "2024-03-11T08:00", "Sun 21:00-06:00", 0.75),  # 9 of 12 hours, across the wrap
        ("2024-03-02T20:00", "2024-03-03T08:00", DEFAULT_NTE, 0.75),  # Sat 20:00-Sun 08:00
        ("2024-03-01T21:00", "NaT", DEFAULT_NTE, 1.0),  # start minute is inside
        ("2024-03-02T06:00", "NaT", DEFAULT_NTE, 0.0),  # end minute is outside
        ("2024-03-02T05:00", "2024-03-02T21:30", DEFAULT_NTE, 1.5 / 16.5),  # Sat 05-06 and 21-21:30
        ("2024-03-01T00:00", "2024-03-04T00:00", DEFAULT_NTE, 18 / 72),  # Fri-Sun: Fri 21-24, Sat 0-6 + 21-24, Sun 0-6
        ("2024-03-05T12:00", "NaT", "Mon-Sun 09:00-17:00", 1.0),  # non-crossing window
        ("2024-03-05T17:00", "NaT", "Mon-Sun 09:00-17:00", 0.0),
        ("2024-03-05T08:00", "2024-03-05T10:00", "Mon-Sun 09:00-17:00", 0.5),
        ("2024-03-05T16:00", "2024-03-06T10:00", "Mon-Sun 09:00-17:00", 2 / 18),
        ("2024-03-01T22:00", "2024-03-15T22:00", DEFAULT_NTE, 18 / 168),  # two weeks: the week's share
        ("2024-03-03T05:59:30", "2024-03-03T06:00:30", DEFAULT_NTE, 0.5),  # to the second
    ],
)
def test_nte_share_cases(t_from, t_to, window, expect):
    got = nte_share(dt(t_from), dt(t_to), window=window)
    assert got.shape == (1,)
    assert got[0] == pytest.approx(expect, rel=1e-12, abs=1e-15)


def test_in_nte_points():
    t = dt("2024-03-01T20:59", "2024-03-01T21:00", "2024-03-03T05:59:59", "2024-03-03T06:00", "2024-03-04T02:00")
    assert in_nte(t, window=DEFAULT_NTE).tolist() == [False, True, True, False, False]
    assert in_nte(t, window="Sun 21:00-06:00").tolist() == [False, False, False, False, True]
    np.testing.assert_array_equal(nte_share(t, window=DEFAULT_NTE), in_nte(t, window=DEFAULT_NTE).astype(float))


@settings(max_examples=60, deadline=None)
@given(
    windows,
    st.sets(st.integers(0, 6), min_size=1),
    st.integers(0, 23),
    st.integers(0, 23),
)
def test_property_nte_share_matches_minute_oracle(ws, days, start_h, end_h):
    window = NTEWindow(days=tuple(days), start=f"{start_h:02d}:00", end=f"{end_h:02d}:30")
    t0 = BASE + np.array([s for s, _ in ws]).astype("timedelta64[m]")
    t1 = t0 + np.array([d for _, d in ws]).astype("timedelta64[m]")
    got = nte_share(t0, t1, window=window)
    for i, (a, b) in enumerate(zip(t0, t1, strict=True)):
        if b - a >= np.timedelta64(7, "D"):
            expect = window.hours_per_week / 168
        elif b == a:
            expect = float(in_nte(dt(a), window=window)[0])
        else:
            minutes = np.arange(a, b, np.timedelta64(1, "m"))
            expect = in_nte(minutes, window=window).mean()
        assert got[i] == pytest.approx(expect, abs=1e-9)
    shares = aoristic_band_share(t0, t1, bands={"nte": window, "rest": COMPLEMENT})
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(shares[:, 0], got, atol=0)


def test_band_share_weekday_hour_lists_match_table():
    t0 = dt("2024-03-01T22:00", "2024-03-05T10:15")
    t1 = dt("2024-03-02T02:00", "NaT")
    bands = {
        "fri_late": [("Fri", 22), (FRI, 23)],
        "weekend_small": [("Sat", 0)],
        "tue": [("Tue", h) for h in range(24)],
    }
    np.testing.assert_allclose(aoristic_band_share(t0, t1, bands=bands), [[0.5, 0.25, 0.0], [0.0, 0.0, 1.0]])
    # a band of every hour of the week reproduces the weekday x hour table
    hours = {f"{d}{h}": [(d, h)] for d in range(7) for h in range(24)}
    tab = aoristic_weekday_hour(t0, t1)
    np.testing.assert_allclose(aoristic_band_share(t0, t1, bands=hours).sum(axis=0).reshape(7, 24), tab, atol=1e-12)


# --------------------------------------------------------------------------- frames


def _frame():
    return pd.DataFrame(
        {
            "t_from": pd.to_datetime(["2024-03-01 22:00", "2024-03-05 21:30", "2024-03-02 03:10", None, None]),
            "t_to": pd.to_datetime(["2024-03-02 02:00", "2024-03-05 22:30", None, None, None]),
            "harm": [4.0, 2.0, 1.0, 7.0, np.nan],
            "time_resolved": pd.array([True, True, True, False, pd.NA], dtype="boolean"),
        }
    )


def test_weekday_hour_table_frame():
    df = _frame()
    before = df.copy()
    tab = weekday_hour_table(df)
    pd.testing.assert_frame_equal(df, before)
    assert list(tab.index) == list(WEEKDAYS) and tab.index.name == "weekday"
    assert list(tab.columns) == list(range(24)) and tab.columns.name == "hour"
    only(
        tab.to_numpy(),
        {
            (FRI, 22): 0.25,
            (FRI, 23): 0.25,
            (SAT, 0): 0.25,
            (SAT, 1): 0.25,
            (TUE, 21): 0.5,
            (TUE, 22): 0.5,
            (SAT, 3): 1.0,
        },
    )
    assert tab.attrs == {"not_time_resolved": 2, "events": 3, "weight_col": None}
    weighted = weekday_hour_table(df, weight_col="harm")
    assert weighted.to_numpy().sum() == pytest.approx(7.0)
    assert weighted.loc["Fri", 22] == pytest.approx(1.0)
    points = weekday_hour_table(df, to_col=None)
    assert points.loc["Fri", 22] == 1.0 and points.loc["Tue", 21] == 1.0


def test_weekday_hour_table_errors():
    df = _frame()
    with pytest.raises(ParameterError, match="t_from is missing"):
        weekday_hour_table(df.drop(columns="time_resolved"))
    with pytest.raises(ParameterError, match="no column 't_from'.*only the month"):
        weekday_hour_table(pd.DataFrame({"month": ["2024-03"]}))
    with pytest.raises(ParameterError, match="no column 'end'.*to_col=None"):
        weekday_hour_table(df, to_col="end")
    with pytest.raises(ParameterError, match="must be True/False"):
        weekday_hour_table(df.assign(time_resolved=["x"] * 5))
    with pytest.raises(ParameterError, match="must be a pandas DataFrame"):
        weekday_hour_table(df.to_numpy())
    with pytest.raises(ParameterError, match=r"'harm'\] has missing"):
        weekday_hour_table(df.assign(harm=[1, np.nan, 1, 1, 1]), weight_col="harm")


def test_mark_time_resolved():
    df = _frame().assign(time_resolved=[True, False, True, True, pd.NA])
    before = df.copy()
    out = mark_time_resolved(df)
    pd.testing.assert_frame_equal(df, before)
    assert out["time_resolved"].tolist() == [True, False, True, False, False]
    assert mark_time_resolved(df.drop(columns="time_resolved"))["time_resolved"].tolist() == [True] * 3 + [False] * 2
    table = weekday_hour_table(mark_time_resolved(df.drop(columns="time_resolved")))
    assert table.attrs["not_time_resolved"] == 2
