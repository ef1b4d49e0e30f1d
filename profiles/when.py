"""When: police.uk VAWG-relevant crime by month (control limits, year on year) and time of week by source.

police.uk is month-only, so it gives the monthly series; the time-resolved
sources (RMS, A&E) give the night-time-economy share and the weekday x hour
tables (aoristic: each event's window apportioned by minutes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hotspots.config import TrendConfig
from hotspots.timebands import NTEWindow, weekday_hour_table
from hotspots.trends import control_limits, like_for_like, monthly_counts, shift_words
from profiles.cells import str_values
from profiles.labels import SOURCE_LABELS, SOURCES

__all__ = ["monthly_trend", "trend_chart_numbers", "nte_by_source", "nte_numbers", "weekday_hour"]


def monthly_trend(
    vawg: pd.DataFrame, *, missing_months: Sequence[str], params: TrendConfig
) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Monthly counts with control limits, the year-on-year test, and counts by crime type.

    Parameters
    ----------
    vawg : DataFrame
        police.uk VAWG-relevant crimes: ``month`` (period[M]), ``crime_type``.
    missing_months : sequence of str
        Months police.uk has no file for (never estimated).
    params : TrendConfig
        Control-limit method, width and run length; year-on-year window.

    Returns
    -------
    monthly : DataFrame
        :func:`hotspots.trends.control_limits` (default mean +- 2 sd: counts of thousands are
        overdispersed, a c-chart flags most months), with limits set by the first
        ``params.baseline_months`` available months when at least 6 more follow (else by every month).
    yoy : dict
        :func:`hotspots.trends.like_for_like`: the months present in both years, the exact test, in words.
    by_type : DataFrame
        month, crime_type, count, available.
    """
    months = vawg[["month"]]
    mc = monthly_counts(months, missing_months=missing_months)
    avail = mc.loc[mc["available"].to_numpy(bool), "month"].astype(str).tolist()
    baseline = avail[: params.baseline_months] if len(avail) >= params.baseline_months + 6 else None
    if len(avail) >= (1 if params.method == "c-chart" else 2):
        monthly = control_limits(mc, method=params.method, k=params.k, run_length=params.run_length,
                                 baseline=baseline)
    else:  # one month (a national one-month baseline): counts, no limits to judge them by
        monthly = mc.assign(baseline=mc["available"].to_numpy(bool), mean=np.nan, lcl=np.nan, ucl=np.nan,
                            signal=pd.Series(None, index=mc.index, dtype=object),
                            run=pd.Series(None, index=mc.index, dtype=object))
        monthly.attrs = {**mc.attrs, "method": params.method, "k": float(params.k),
                         "run_length": int(params.run_length), "baseline": None}
    yoy = like_for_like(mc, months=min(params.yoy_months, 12))
    by = vawg[["month", "crime_type"]].assign(crime_type=str_values(vawg["crime_type"]))
    by_type = monthly_counts(by, by="crime_type", missing_months=missing_months)
    return monthly, yoy, by_type


def trend_chart_numbers(monthly: pd.DataFrame, yoy: dict) -> dict[str, Any] | None:
    """What the control chart shows: months above / below the limits, runs, the baseline, and it in words.

    Examples
    --------
    >>> m = pd.DataFrame({"month": pd.PeriodIndex(["2024-01", "2024-02", "2024-03"], freq="M"),
    ...                   "count": [10, 30, 12], "available": True, "baseline": True, "mean": 17.0,
    ...                   "signal": [None, "above", None], "run": None})
    >>> c = trend_chart_numbers(m, {"available": False, "reason": "a month is missing"})
    >>> c["above"], c["baseline"]
    (1, '2024-01 to 2024-03')
    """
    tr = monthly[monthly["available"].astype(bool)]
    if not len(tr):
        return None
    last = tr.iloc[-1]
    return {
        "above": int((tr["signal"] == "above").sum()),
        "below": int((tr["signal"] == "below").sum()),
        "months": int(len(tr)),
        "mean": float(tr["mean"].iloc[-1]),
        "last_month": str(last["month"]),
        "last_count": int(last["count"]),
        "run_months": int(tr["run"].notna().sum()),
        "reason": yoy.get("reason") or "",
        "baseline": (f"{tr.loc[tr['baseline'].astype(bool), 'month'].astype(str).iloc[0]} to "
                     f"{tr.loc[tr['baseline'].astype(bool), 'month'].astype(str).iloc[-1]}")
        if "baseline" in tr.columns and tr["baseline"].astype(bool).any() else "",
        "words": shift_words(tr) if "baseline" in tr.columns else "",
    }


def nte_by_source(events: pd.DataFrame, *, synthetic: Sequence[str]) -> pd.DataFrame:
    """Events and NTE-window share per source inside the force area.

    Columns ``source, label, synthetic, time_resolved, events, timed, nte_share``: ``timed`` the events
    placed in hours (course-of-conduct offences and month-only sources are not), ``nte_share`` their mean
    aoristic NTE share (None for a source without time of day).

    Examples
    --------
    >>> ev = pd.DataFrame({"source": ["rms", "rms", "police_uk"], "time_resolved": [True, True, False],
    ...                    "nte_share": [1.0, 0.5, np.nan]})
    >>> nte_by_source(ev, synthetic=["rms"])[["source", "events", "timed", "nte_share"]].values.tolist()
    [['police_uk', 1, 0, None], ['rms', 2, 2, 0.75]]
    """
    source = str_values(events["source"])
    sources = sorted(set(source))
    parts = [events[source == s] for s in sources]  # one frame per source (a handful)
    resolved = [bool(p["time_resolved"].any()) for p in parts]
    return pd.DataFrame(
        {
            "source": sources,
            "label": [SOURCE_LABELS.get(s, s) for s in sources],
            "synthetic": [s in set(synthetic) for s in sources],
            "time_resolved": np.asarray(resolved, dtype=bool),
            "events": np.asarray([len(p) for p in parts], dtype=np.int64),
            "timed": np.asarray([int(np.isfinite(p["nte_share"].to_numpy(float)).sum()) for p in parts],
                                dtype=np.int64),
            "nte_share": pd.Series(
                [float(p["nte_share"].mean()) if r else None for p, r in zip(parts, resolved, strict=True)],
                dtype=object,
            ),
        }
    )


def nte_numbers(events: pd.DataFrame, *, window: NTEWindow) -> dict[str, Any] | None:
    """The RMS NTE share against the window's share of the week (None without RMS).

    ``rate_ratio`` is the rate per hour inside the window over the rate outside.

    Examples
    --------
    >>> from hotspots.timebands import parse_nte_window
    >>> ev = pd.DataFrame({"source": "rms", "nte_share": [1.0, 0.0], "synthetic": False})
    >>> n = nte_numbers(ev, window=parse_nte_window("Fri,Sat 21:00-06:00"))
    >>> n["share"], round(n["window_share"], 4), round(n["rate_ratio"], 2)
    (0.5, 0.1071, 8.33)
    """
    rms = events[events["source"] == "rms"]
    if not len(rms):
        return None
    share = float(rms["nte_share"].mean())
    wshare = window.hours_per_week / 168
    return {
        "share": share,
        "window": str(window),
        "window_share": wshare,
        "rate_ratio": (share / wshare) / ((1 - share) / (1 - wshare)) if 0 < share < 1 else float("nan"),
        "synthetic": bool(rms["synthetic"].any()),
    }


def weekday_hour(events: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Aoristic weekday x hour table of each time-resolved source (police.uk never: month-only).

    Examples
    --------
    >>> ev = pd.DataFrame({"source": ["rms", "police_uk"], "time_resolved": [True, False],
    ...                    "t_from": pd.to_datetime(["2024-01-05 22:00", None]),
    ...                    "t_to": pd.to_datetime(["2024-01-05 23:00", None])})
    >>> tables = weekday_hour(ev)
    >>> list(tables), float(tables["rms"].to_numpy().sum())
    (['rms'], 1.0)
    """
    out = {}
    for s in SOURCES:
        sub = events[(events["source"] == s).to_numpy() & events["time_resolved"].to_numpy(bool)]
        if len(sub):
            out[s] = weekday_hour_table(sub)
    return out
