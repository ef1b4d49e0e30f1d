"""Trends over time: monthly counts, control limits (SPC) and year-on-year change.

The "trends" section of a problem profile asks two questions: *is this month
unusual?* (control limits, runs) and *is this year different from last year?*
(year-on-year change with a test). Both are answered here on monthly counts.

Months without data are never zero
    police.uk's bundled archives lack some months for some forces (for
    example 2024-07 and 2024-08). A month named in ``missing_months`` is kept
    in the series with ``available=False`` and ``count`` = ``<NA>``: it is
    never filled with 0 and never estimated. Control limits are computed from
    available months only, a missing month cannot signal, and it *breaks* a
    run (a run counts consecutive calendar months, so a gap ends it). A
    year-on-year comparison whose windows include a missing month is refused
    with the reason, not computed on a short year.

Layers: numpy kernels (``_c_chart_limits``, ``_sd_limits``, ``_run_flags``)
-> frame functions (:func:`monthly_counts`, :func:`control_limits`) and
:func:`year_on_year` (a dict for the report).

References
----------
.. [1] Montgomery, D. C. (2019). *Introduction to Statistical Quality Control*,
   8th ed., Wiley: section 7.3 (the c chart: centre c-bar, limits
   c-bar +/- 3 sqrt(c-bar)).
.. [2] Western Electric Company (1956). *Statistical Quality Control Handbook*:
   the zone rules, including "eight successive points on one side of the
   centre line" (rule 4).
.. [3] NHS England (2019). *Making Data Count*: statistical process control in
   practice (shifts and special-cause variation).
.. [4] Przyborowski, J. and Wilenski, H. (1940). Homogeneity of results in
   testing samples from Poisson series. *Biometrika* 31(3/4), 313-323 (the
   conditional binomial test of two Poisson counts).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from hotspots.errors import ParameterError
from hotspots.rates import poisson_rate_test

__all__ = ["CONTROL_METHODS", "control_limits", "like_for_like", "monthly_counts", "shift_words", "year_on_year"]

CONTROL_METHODS = {"c-chart": 3.0, "sd": 2.0}
"""Control-limit methods and their default width ``k``."""

_YYYY_MM = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_YOY_TEST = "exact conditional binomial test of two Poisson counts (Przyborowski & Wilenski 1940)"


# --------------------------------------------------------------------------- helpers


def _month(value: Any, where: str) -> pd.Period:
    """One month from 'YYYY-MM' or a Period/Timestamp."""
    if isinstance(value, pd.Period):
        return value.asfreq("M")
    if isinstance(value, pd.Timestamp):
        return value.to_period("M")
    if isinstance(value, str) and _YYYY_MM.match(value.strip()):
        return pd.Period(value.strip(), freq="M")
    raise ParameterError(f"{where}: {value!r} is not a month; write 'YYYY-MM', e.g. '2024-07'")


def _months(values: Iterable[Any] | None, where: str) -> list[pd.Period]:
    if values is None:
        return []
    if isinstance(values, str | pd.Period):
        values = [values]
    return sorted({_month(v, where) for v in values})


def _month_column(events: pd.DataFrame, month_col: str) -> pd.Series:
    """The month column as period[M]; strings 'YYYY-MM' and datetimes are converted."""
    if month_col not in events.columns:
        raise ParameterError(
            f"month_col={month_col!r} is not a column of events (columns: {', '.join(map(str, events.columns))}); "
            "pass month_col= naming the month column"
        )
    s = events[month_col]
    if isinstance(s.dtype, pd.PeriodDtype):
        out = s if s.dtype == pd.PeriodDtype("M") else s.dt.asfreq("M")
    elif pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        out = s.dt.to_period("M")
    else:
        text = s.astype("string").str.strip()
        bad = text.notna() & ~text.str.match(_YYYY_MM.pattern).fillna(False)
        if bad.any():
            first = text[bad].iloc[0]
            raise ParameterError(
                f"events[{month_col!r}]: {int(bad.sum()):,} values are not months (first: {first!r}); "
                "use 'YYYY-MM' text, datetimes or period[M]"
            )
        out = pd.Series(pd.PeriodIndex(text.to_numpy(object), freq="M"), index=s.index)
    n_missing = int(out.isna().sum())
    if n_missing:
        raise ParameterError(
            f"events[{month_col!r}] has {n_missing:,} empty value(s); fill the month or drop those rows"
        )
    return out


def _ym(p: pd.Period) -> str:
    return p.strftime("%Y-%m")


# --------------------------------------------------------------------------- kernels


def _c_chart_limits(values: np.ndarray, k: float) -> tuple[float, float, float]:
    """Centre and limits of a c chart: mean +/- k sqrt(mean), LCL floored at 0."""
    centre = float(values.mean())
    half = k * math.sqrt(centre)
    return centre, max(centre - half, 0.0), centre + half


def _sd_limits(values: np.ndarray, k: float) -> tuple[float, float, float]:
    """Centre and limits mean +/- k sd (sample sd, ddof=1), LCL floored at 0."""
    centre = float(values.mean())
    half = k * float(values.std(ddof=1))
    return centre, max(centre - half, 0.0), centre + half


def _run_flags(side: np.ndarray, breaks: np.ndarray, run_length: int) -> np.ndarray:
    """Mark points in runs of ``run_length`` or more on one side of the centre.

    ``side`` is +1 (above), -1 (below) or 0 (on the line, or not available);
    ``breaks[i]`` is True when point ``i`` does not follow point ``i - 1`` in
    the calendar. A 0 or a break ends a run. Returns +1/-1/0 per point.

    >>> _run_flags(np.array([1, 1, 1, -1, 1, 1]), np.zeros(6, bool), 3).tolist()
    [1, 1, 1, 0, 0, 0]
    """
    out = np.zeros(len(side), dtype=np.int8)
    start = 0
    for i in range(1, len(side) + 1):
        if i == len(side) or breaks[i] or side[i] == 0 or side[i] != side[start]:
            if side[start] != 0 and i - start >= run_length:
                out[start:i] = side[start]
            start = i
    return out


# --------------------------------------------------------------------------- monthly counts


def monthly_counts(
    events: pd.DataFrame,
    *,
    by: str | None = None,
    month_col: str = "month",
    start: str | pd.Period | None = None,
    end: str | pd.Period | None = None,
    missing_months: Iterable[str | pd.Period] | None = None,
) -> pd.DataFrame:
    """Count events per month, every month of the span present, missing months marked.

    Parameters
    ----------
    events : DataFrame, shape (n_events, ...)
        One row per event with a month column (``period[M]``, datetimes or
        ``'YYYY-MM'`` text).
    by : str, optional
        Group column (offence group, area); counts are per group and month,
        with every group present in every month. A categorical column keeps
        all its categories, observed or not.
    month_col : str, default "month"
        The month column.
    start, end : str or Period, optional
        First and last month (``'YYYY-MM'``), inclusive. Default: the first
        and last month in ``events``. Events outside the span are left out
        (their number is in ``attrs["events_outside_span"]``).
    missing_months : iterable of str, optional
        Months without data (``'YYYY-MM'``), e.g. ``["2024-07", "2024-08"]``
        for police.uk's bundled archives. Inside the span they get
        ``available=False`` and ``count=<NA>``; never 0, never an estimate.
        The flag wins over the data: events dated in a missing month (a
        partial month the caller chose to distrust) are not counted, and their
        number is in ``attrs["events_in_missing_months"]``. Missing months
        outside the span are ignored; pass ``start``/``end`` to show them.

    Returns
    -------
    DataFrame, shape (n_months * n_groups, 3 or 4)
        ``[by,] month, count, available``, sorted by group then month:
        ``month`` is ``period[M]``, ``count`` is nullable ``Int64`` (events
        per month; ``<NA>`` where not available), ``available`` is bool.
        ``attrs`` records ``missing_months``, ``events_outside_span`` and
        ``events_in_missing_months``.

    Raises
    ------
    ParameterError
        If a column is absent, a month cannot be read, ``start`` is after
        ``end``, the group column has missing values, or there are no events
        and no ``start``/``end``.

    Examples
    --------
    >>> ev = pd.DataFrame({"month": ["2024-05", "2024-05", "2024-06", "2024-09"]})
    >>> monthly_counts(ev, missing_months=["2024-07", "2024-08"])
         month  count  available
    0  2024-05      2       True
    1  2024-06      1       True
    2  2024-07   <NA>      False
    3  2024-08   <NA>      False
    4  2024-09      1       True
    """
    if not isinstance(events, pd.DataFrame):
        raise ParameterError(f"events must be a DataFrame, got {type(events).__name__}; build one with pd.DataFrame")
    months = _month_column(events, month_col)
    missing = _months(missing_months, "missing_months")
    lo = _month(start, "start") if start is not None else None
    hi = _month(end, "end") if end is not None else None
    if (lo is None or hi is None) and not len(months):
        raise ParameterError("events is empty, so the span is unknown; pass start='YYYY-MM' and end='YYYY-MM'")
    lo = months.min() if lo is None else lo
    hi = months.max() if hi is None else hi
    if lo > hi:
        raise ParameterError(f"start={_ym(lo)!r} is after end={_ym(hi)!r}; swap them")
    span = pd.period_range(lo, hi, freq="M")
    # counted on the int64 month ordinals: no Period object per row
    ords = months.array.asi8
    in_span = (ords >= lo.ordinal) & (ords <= hi.ordinal)
    missing_in_span = [m for m in missing if lo <= m <= hi]
    in_missing = np.isin(ords, [m.ordinal for m in missing_in_span]) & in_span
    keep = in_span & ~in_missing
    month_pos = ords[keep] - lo.ordinal

    if by is None:
        out = pd.DataFrame({"month": span})
        out["count"] = np.bincount(month_pos, minlength=len(span)).astype(np.int64)
    else:
        if by not in events.columns:
            names = ", ".join(map(str, events.columns))
            raise ParameterError(f"by={by!r} is not a column of events; pass one of {names}")
        groups = events[by]
        if groups.isna().any():
            raise ParameterError(
                f"events[{by!r}] has {int(groups.isna().sum()):,} missing values; "
                "fill them (e.g. 'unknown') or drop those rows"
            )
        if isinstance(groups.dtype, pd.CategoricalDtype):
            levels = list(groups.cat.categories)
            codes = groups.cat.codes.to_numpy()[keep].astype(np.int64)
        else:
            levels = sorted(groups[in_span].unique().tolist(), key=str)
            codes = pd.Index(levels, dtype=object).get_indexer(groups[keep].to_numpy(object)).astype(np.int64)
        grid = pd.MultiIndex.from_product([levels, span], names=[by, "month"])
        out = grid.to_frame(index=False)
        out["count"] = np.bincount(codes * len(span) + month_pos, minlength=len(grid)).astype(np.int64)
        if isinstance(groups.dtype, pd.CategoricalDtype):
            out[by] = out[by].astype(groups.dtype)
    available = ~out["month"].isin(missing_in_span).to_numpy()
    out["count"] = pd.array(np.where(available, out["count"].to_numpy(), 0), dtype="Int64")
    out.loc[~available, "count"] = pd.NA
    out["available"] = available
    out.attrs = {
        "missing_months": [_ym(m) for m in missing_in_span],
        "events_outside_span": int((~in_span).sum()),
        "events_in_missing_months": int(in_missing.sum()),
    }
    return out


# --------------------------------------------------------------------------- control limits


def _check_counts(counts: pd.DataFrame, by: str | None, name: str = "counts") -> None:
    if not isinstance(counts, pd.DataFrame):
        raise ParameterError(f"{name} must be a DataFrame from monthly_counts, got {type(counts).__name__}")
    need = ["month", "count"] + ([by] if by is not None else [])
    absent = [c for c in need if c not in counts.columns]
    if absent:
        raise ParameterError(f"{name} lacks column(s) {', '.join(absent)}; build it with monthly_counts(...)")
    if not isinstance(counts["month"].dtype, pd.PeriodDtype):
        raise ParameterError(f"{name}['month'] must be period[M]; build {name} with monthly_counts(...)")
    keys = ["month"] if by is None else [by, "month"]
    if counts.duplicated(keys).any():
        fix = "pass by= naming the group column" if by is None else f"aggregate {name} to one row per {by} and month"
        raise ParameterError(f"{name} has more than one row per {' and '.join(keys)}; {fix}")
    c = pd.to_numeric(counts["count"], errors="coerce").astype("Float64")
    if (c < 0).any():
        raise ParameterError(f"{name}['count'] has negative values; counts must be >= 0")


def _available(counts: pd.DataFrame) -> np.ndarray:
    avail = counts["count"].notna().to_numpy()
    if "available" in counts.columns:
        avail = avail & counts["available"].fillna(False).to_numpy(bool)
    return avail


def control_limits(
    counts: pd.DataFrame,
    *,
    method: str = "c-chart",
    k: float | None = None,
    run_length: int = 8,
    by: str | None = None,
    baseline: Iterable[Any] | None = None,
) -> pd.DataFrame:
    """Centre line, control limits, signals and runs for monthly counts.

    The centre is the mean of the *available* months; months with
    ``available=False`` (or a missing count) are left out of the mean and
    the limits, never signal and are never part of a run.

    Parameters
    ----------
    counts : DataFrame
        From :func:`monthly_counts`: ``month`` (period[M]), ``count`` and
        optionally ``available`` and a group column.
    method : {"c-chart", "sd"}, default "c-chart"
        ``"c-chart"``: Poisson counts, limits ``mean +/- k sqrt(mean)`` [1]_;
        needs whole counts. ``"sd"``: limits ``mean +/- k sd`` with the
        sample standard deviation (ddof=1) of the available months; use it
        for overdispersed or weighted totals (harm). Both floor LCL at 0.
    k : float, optional
        Width in standard deviations; default 3 for ``"c-chart"`` and 2
        for ``"sd"``.
    run_length : int, default 8
        A *run* is this many or more consecutive months on the same side of
        the centre line: Western Electric rule 4 uses 8 [2]_; NHS Making Data
        Count uses 7 [3]_. A month exactly on the mean, a missing month or a
        gap between months ends a run (the conservative choice: a run never
        bridges a month without data).
    by : str, optional
        Group column: limits are computed per group.
    baseline : iterable of months, optional
        The months (``'YYYY-MM'`` or Period) that set the centre and the
        limits (a Phase II chart): every month, in the baseline or after it,
        is then judged against limits that do not contain the shift they
        should detect. Default: every available month (Phase I). Months of
        the baseline without data are left out of it.

    Returns
    -------
    DataFrame
        A copy of ``counts`` (same rows and order) with ``baseline`` (bool:
        the month set the limits), ``mean``, ``lcl``,
        ``ucl`` (float, counts per month, the same for every month of a
        series), ``signal`` (``"above"`` if count > ucl, ``"below"`` if
        count < lcl, else None) and ``run`` (``"above"``/``"below"`` for
        months in a run, else None). ``attrs`` records method, k and
        run_length.

    Raises
    ------
    ParameterError
        If ``method`` is unknown, ``k`` or ``run_length`` out of range, a
        series has too few available months (1 for c-chart, 2 for sd), or a
        c-chart is asked of non-whole counts.

    Notes
    -----
    Without ``baseline`` the limits include the months they judge (a Phase I
    chart): a sustained shift widens the limits that should detect it. Crime
    counts are usually overdispersed relative to Poisson, so a c chart
    signals more often than 0.27 % of months; check against ``method="sd"``.

    Examples
    --------
    Mean 16, so c-chart limits are 16 +/- 3 * 4 = 4 and 28:

    >>> counts = pd.DataFrame({"month": pd.period_range("2024-01", periods=5, freq="M"),
    ...                        "count": [14, 16, 30, 3, 17]})
    >>> cl = control_limits(counts)
    >>> cl[["count", "mean", "lcl", "ucl", "signal"]]
       count  mean  lcl   ucl signal
    0     14  16.0  4.0  28.0   None
    1     16  16.0  4.0  28.0   None
    2     30  16.0  4.0  28.0  above
    3      3  16.0  4.0  28.0  below
    4     17  16.0  4.0  28.0   None

    Limits from a baseline before a step change flag the months after it;
    limits from the whole series, which contains the step, flag none:

    >>> step = pd.DataFrame({"month": pd.period_range("2023-01", periods=24, freq="M"),
    ...                      "count": [100, 104, 96, 102, 98, 100, 103, 97, 101, 99, 100, 100] + [130] * 12})
    >>> int((control_limits(step, method="sd").signal == "above").sum())
    0
    >>> base = [f"2023-{m:02d}" for m in range(1, 13)]
    >>> int((control_limits(step, method="sd", baseline=base).signal == "above").sum())
    12
    """
    if method not in CONTROL_METHODS:
        raise ParameterError(f"method={method!r} is unknown; use one of {', '.join(map(repr, CONTROL_METHODS))}")
    k = CONTROL_METHODS[method] if k is None else k
    if not isinstance(k, int | float) or isinstance(k, bool) or not math.isfinite(k) or k <= 0:
        raise ParameterError(f"k={k!r} must be a positive number of standard deviations, e.g. 3")
    if not isinstance(run_length, int | np.integer) or isinstance(run_length, bool) or run_length < 2:
        raise ParameterError(f"run_length={run_length!r} must be a whole number >= 2, e.g. 8 (Western Electric)")
    _check_counts(counts, by)

    n = len(counts)
    values = pd.to_numeric(counts["count"], errors="coerce").astype("Float64").to_numpy(float, na_value=np.nan)
    avail = _available(counts)
    ordinal = counts["month"].to_numpy().astype(object)
    ordinal = np.array([p.ordinal if not pd.isna(p) else -1 for p in ordinal], dtype=np.int64)
    if baseline is None:
        in_base = np.ones(n, dtype=bool)
    else:
        base_ords = {m.ordinal for m in _months(baseline, "baseline")}
        if not base_ords:
            raise ParameterError("baseline is empty; give the months that set the limits, e.g. the first 12")
        in_base = np.isin(ordinal, sorted(base_ords))
    mean, lcl, ucl = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    signal = np.full(n, None, dtype=object)
    run = np.full(n, None, dtype=object)
    if by is None:
        groups = [np.arange(n)]
    else:
        groups = [np.asarray(v) for v in counts.groupby(by, sort=False, observed=True).indices.values()]
    limits = _c_chart_limits if method == "c-chart" else _sd_limits
    need = 1 if method == "c-chart" else 2
    for rows in groups:
        idx = np.asarray(rows)[np.argsort(ordinal[rows], kind="stable")]
        ok = avail[idx]
        v = values[idx][ok & in_base[idx]]
        label = "" if by is None else f" for {by}={counts[by].iloc[idx[0]]!r}"
        if len(v) < need:
            raise ParameterError(
                f"counts{label} has {len(v)} available month(s)"
                + (" in the baseline" if baseline is not None else "")
                + f"; method={method!r} needs at least {need} (and about 12 for stable limits)"
            )
        if method == "c-chart" and not np.allclose(v, np.round(v)):
            raise ParameterError(
                f"counts{label} are not whole numbers; a c-chart needs counts, use method='sd' for weighted totals"
            )
        centre, lo, hi = limits(v, float(k))
        mean[idx], lcl[idx], ucl[idx] = centre, lo, hi
        vv = values[idx]
        above = ok & (vv > hi)
        below = ok & (vv < lo)
        signal[idx[above]] = "above"
        signal[idx[below]] = "below"
        side = np.where(ok, np.sign(np.nan_to_num(vv - centre)), 0).astype(np.int8)
        breaks = np.r_[False, np.diff(ordinal[idx]) != 1]
        flags = _run_flags(side, breaks, int(run_length))
        run[idx[flags > 0]] = "above"
        run[idx[flags < 0]] = "below"
    out = counts.assign(
        baseline=in_base & avail,
        mean=mean,
        lcl=lcl,
        ucl=ucl,
        signal=pd.Series(signal, index=counts.index, dtype=object),  # object keeps None (pandas 3 infers str)
        run=pd.Series(run, index=counts.index, dtype=object),
    )
    out.attrs = {**counts.attrs, "method": method, "k": float(k), "run_length": int(run_length),
                 "baseline": None if baseline is None else sorted(
                     {_ym(p) for p, b in zip(counts["month"], in_base & avail, strict=True) if b})}
    return out


# --------------------------------------------------------------------------- year on year


def year_on_year(counts: pd.DataFrame, *, months: int = 12, end: str | pd.Period | None = None) -> dict:
    """Compare the last ``months`` months with the ``months`` before, with a Poisson test.

    The recent window is the ``months`` calendar months ending at ``end``
    (default: the last available month); the previous window is the
    ``months`` before it. Both windows must lie inside the series and be
    fully available; otherwise nothing is computed and the reason is given.

    Parameters
    ----------
    counts : DataFrame
        One series from :func:`monthly_counts` (``month``, ``count``,
        optionally ``available``); select one group first.
    months : int, default 12
        Window length in months.
    end : str or Period, optional
        Last month of the recent window, ``'YYYY-MM'``.

    Returns
    -------
    dict
        If refused: ``{"available": False, "reason": str, ...windows}``.
        Otherwise ``available`` (True), ``reason`` (None), ``months``,
        ``recent_start``, ``recent_end``, ``previous_start``,
        ``previous_end`` ('YYYY-MM'), ``recent`` and ``previous`` (counts),
        ``change`` (recent - previous), ``change_pct`` (% of previous;
        None if previous is 0), ``rate_ratio`` (recent / previous; None if
        previous is 0), ``rate_ratio_ci95`` (exact 95 % interval, upper may
        be ``inf``), ``p_value`` (two-sided) and ``test`` (its name).

    Raises
    ------
    ParameterError
        If ``months`` is not a whole number >= 1, or ``counts`` has more than
        one row per month.

    Notes
    -----
    The test is the **exact conditional binomial test** for two Poisson counts
    with equal exposure [4]_: given ``n = recent + previous``, under equal
    rates ``recent ~ Binomial(n, 1/2)``; the p-value is
    ``scipy.stats.binomtest(recent, n, 0.5)`` (exact at any size, so no
    normal approximation is needed) and the rate-ratio interval is the
    Clopper-Pearson interval for ``p`` mapped by ``p / (1 - p)``. It assumes
    Poisson variation; real crime counts are overdispersed (seasonality,
    recording practice), so small p-values are optimistic. Windows of equal
    length have equal exposure; a change in population is ignored.

    Examples
    --------
    100 crimes this year against 80 last year: +25 %, p = 0.157.

    >>> counts = pd.DataFrame({"month": pd.period_range("2023-01", periods=24, freq="M"),
    ...                        "count": [8] * 10 + [0] * 2 + [5] * 4 + [10] * 8})
    >>> r = year_on_year(counts)
    >>> r["previous"], r["recent"], r["change"], r["change_pct"], round(r["p_value"], 3)
    (80, 100, 20, 25.0, 0.157)
    """
    if not isinstance(months, int | np.integer) or isinstance(months, bool) or months < 1:
        raise ParameterError(f"months={months!r} must be a whole number of months >= 1, e.g. 12")
    _check_counts(counts, None)
    s = counts.sort_values("month")
    avail = _available(s)
    period = s["month"].to_numpy()
    if not avail.any():
        return {"available": False, "reason": "no month in counts has data"}
    last = _month(end, "end") if end is not None else period[avail][-1]
    cur = pd.period_range(end=last, periods=months, freq="M")
    prev = pd.period_range(end=cur[0] - 1, periods=months, freq="M")
    info = {
        "months": int(months),
        "recent_start": _ym(cur[0]),
        "recent_end": _ym(cur[-1]),
        "previous_start": _ym(prev[0]),
        "previous_end": _ym(prev[-1]),
    }
    have = pd.Series(s["count"].to_numpy(), index=pd.PeriodIndex(period, freq="M"))[avail]
    for name, window in (("recent", cur), ("previous", prev)):
        lacking = [m for m in window if m not in have.index]
        if lacking:
            where = ", ".join(_ym(m) for m in lacking[:6]) + (" ..." if len(lacking) > 6 else "")
            reason = (
                f"{name} window {_ym(window[0])} to {_ym(window[-1])} includes {len(lacking)} month(s) "
                f"without data ({where}); a year-on-year change over a short window would mislead"
            )
            return {"available": False, "reason": reason, **info}
    c = int(have.loc[cur].sum())
    p = int(have.loc[prev].sum())
    p_value, ratio_ci = poisson_rate_test(c, p)
    return {
        "available": True,
        "reason": None,
        **info,
        "recent": c,
        "previous": p,
        "change": c - p,
        "change_pct": 100.0 * (c - p) / p if p else None,
        "rate_ratio": c / p if p else None,
        "rate_ratio_ci95": ratio_ci,
        "p_value": p_value,
        "test": _YOY_TEST,
    }


# --------------------------------------------------------------------------- like for like


def like_for_like(counts: pd.DataFrame, *, months: int = 12, end: str | pd.Period | None = None,
                  alpha: float = 0.05) -> dict:
    """Year on year over the months present in both years, with the exact test and the change in words.

    The recent window is the ``months`` calendar months ending at ``end``
    (default: the last available month); each of its months is paired with
    the same month a year earlier. Only pairs where **both** months have data
    are compared, so a month missing in either year drops out of both sides
    (and is named) instead of making one year look lower.

    Parameters
    ----------
    counts : DataFrame
        One series (``month``, ``count``, optionally ``available``).
    months : int, default 12
        Recent window length in months (at most 12: each month pairs with its own a year earlier).
    end : str or Period, optional
        Last month of the recent window.
    alpha : float, default 0.05
        Below this p-value the change is stated as a rise or fall; above it, "no clear change".

    Returns
    -------
    dict
        ``available``; ``reason`` (when not); ``recent_months`` and ``previous_months`` (the months compared,
        'YYYY-MM'); ``missing_months`` (months of either window without data, left out with their pair);
        ``n_pairs``; ``recent``, ``previous`` (counts), ``change`` (recent - previous), ``change_pct``,
        ``rate_ratio``, ``rate_ratio_ci95``, ``p_value``, ``test`` as :func:`year_on_year`; ``direction``
        ("up", "down" or "no clear change") and ``words`` (one sentence).

    Notes
    -----
    The test is :func:`year_on_year`'s exact conditional binomial test on the
    paired months' totals (equal exposure: the same number of months on each
    side). It assumes Poisson variation; seasonality is controlled by the
    pairing, recording changes are not.

    Examples
    --------
    July and August 2024 are missing: they and July and August 2023 drop out.

    >>> m = pd.period_range("2023-01", periods=24, freq="M")
    >>> counts = pd.DataFrame({"month": m, "count": [100] * 12 + [120] * 12,
    ...                        "available": [True] * 18 + [False] * 2 + [True] * 4})
    >>> r = like_for_like(counts)
    >>> r["n_pairs"], r["recent"], r["previous"], r["missing_months"]
    (10, 1200, 1000, ['2024-07', '2024-08'])
    >>> r["words"]
    'up 20% on the same 10 months a year earlier (2024 against 2023; 2024-07, 2024-08 without data and left out with \
the same months of 2023; exact test p < 0.001)'
    """
    if not isinstance(months, int | np.integer) or isinstance(months, bool) or not 1 <= months <= 12:
        raise ParameterError(f"months={months!r} must be a whole number of months from 1 to 12, e.g. 12")
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ParameterError(f"alpha={alpha!r} must be between 0 and 1, e.g. 0.05")
    _check_counts(counts, None)
    s = counts.sort_values("month")
    avail = _available(s)
    if not avail.any():
        return {"available": False, "reason": "no month in counts has data"}
    period = pd.PeriodIndex(s["month"].to_numpy(), freq="M")
    have = pd.Series(s["count"].to_numpy(), index=period)[avail]
    last = _month(end, "end") if end is not None else period[avail][-1]
    cur = pd.period_range(end=last, periods=months, freq="M")
    prev = cur - 12
    both = np.array([(c in have.index) and (p in have.index) for c, p in zip(cur, prev, strict=True)])
    missing = sorted({_ym(m) for m in [*cur, *prev] if m not in have.index})
    info = {"months": int(months), "missing_months": missing,
            "recent_months": [_ym(m) for m in cur[both]], "previous_months": [_ym(m) for m in prev[both]],
            "n_pairs": int(both.sum())}
    if not both.any():
        return {"available": False, "reason": f"no month of {_ym(cur[0])} to {_ym(cur[-1])} has data in both years",
                **info}
    c = int(have.loc[cur[both]].sum())
    p = int(have.loc[prev[both]].sum())
    p_value, ratio_ci = poisson_rate_test(c, p)
    pct = 100.0 * (c - p) / p if p else None
    direction = "no clear change" if p_value >= alpha or pct is None else ("up" if c > p else "down")
    years = sorted({m.year for m in cur[both]}), sorted({m.year for m in prev[both]})
    span = "/".join(map(str, years[0])) + " against " + "/".join(map(str, years[1]))
    lost = [m for m in missing if pd.Period(m, freq="M") in cur]
    lost_prev = [m for m in missing if pd.Period(m, freq="M") in prev]
    gaps = []
    if lost:
        gaps.append(f"{', '.join(lost)} without data and left out with the same months of "
                    f"{'/'.join(sorted({str(pd.Period(m, freq='M').year - 1) for m in lost}))}")
    if lost_prev:
        gaps.append(f"{', '.join(lost_prev)} without data and left out with the same months a year later")
    ptext = "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"
    n_text = f"the same {int(both.sum())} months a year earlier" if both.sum() > 1 else "the same month a year earlier"
    if direction == "no clear change":
        head = f"no clear change ({'+' if c >= p else '-'}{abs(pct or 0):.0f}%) on {n_text}"
    else:
        head = f"{direction} {abs(pct or 0):.0f}% on {n_text}"
    words = f"{head} ({span}; {'; '.join(gaps) + '; ' if gaps else ''}exact test {ptext})"
    return {
        "available": True, "reason": None, **info, "recent": c, "previous": p, "change": c - p,
        "change_pct": pct, "rate_ratio": c / p if p else None, "rate_ratio_ci95": ratio_ci, "p_value": p_value,
        "test": _YOY_TEST, "direction": direction, "words": words,
    }


def shift_words(chart: pd.DataFrame) -> str:
    """The control chart in one sentence: which months lie outside the baseline limits or in runs, and which way.

    Parameters
    ----------
    chart : DataFrame
        :func:`control_limits` output of one series (``month``, ``count``, ``baseline``, ``mean``,
        ``signal``, ``run``).

    Examples
    --------
    >>> step = pd.DataFrame({"month": pd.period_range("2023-01", periods=24, freq="M"),
    ...                      "count": [100, 104, 96, 102, 98, 100, 103, 97, 101, 99, 100, 100] + [130] * 12})
    >>> shift_words(control_limits(step, method="sd", baseline=[f"2023-{m:02d}" for m in range(1, 13)]))
    '12 months above the upper limit of the baseline 2023-01 to 2023-12 (mean 100 a month), the first 2024-01: a \
sustained rise (up 30% on the baseline mean in the latest month, 2024-12).'
    """
    c = chart.sort_values("month")
    if not len(c):
        return "No months to chart."
    base = c[c["baseline"].to_numpy(bool)] if "baseline" in c.columns else c
    span = f"{_ym(base['month'].iloc[0])} to {_ym(base['month'].iloc[-1])}" if len(base) else "the available months"
    mean = float(c["mean"].iloc[0])
    sig = c["signal"].astype(object)
    run = c["run"].astype(object)
    up = c[(sig == "above").to_numpy() | (run == "above").to_numpy()]
    down = c[(sig == "below").to_numpy() | (run == "below").to_numpy()]
    last = c[c["count"].notna()].iloc[-1]
    pct = 100.0 * (float(last["count"]) - mean) / mean if mean else 0.0
    tail = (f" ({'up' if pct >= 0 else 'down'} {abs(pct):.0f}% on the baseline mean in the latest month, "
            f"{_ym(last['month'])}).")
    if not len(up) and not len(down):
        return (f"No month lies outside the limits set by the baseline {span} (mean {mean:,.0f} a month) or in a "
                f"run on one side of it: no shift detected{tail}")
    parts = []
    for frame, side, what in ((up, "above the upper limit", "rise"), (down, "below the lower limit", "fall")):
        if len(frame):
            n_sig = int(((frame["signal"] == "above") | (frame["signal"] == "below")).sum())
            parts.append((len(frame), n_sig, side, what, _ym(frame["month"].iloc[0])))
    parts.sort(reverse=True)
    n, n_sig, side, what, first = parts[0]
    run_side = "above" if what == "rise" else "below"
    where = side if n_sig == n else f"{side} or in a run of {c.attrs.get('run_length', 8)}+ months {run_side} the mean"
    text = (f"{n} months {where} of the baseline {span} (mean {mean:,.0f} a month), the first {first}: "
            f"a sustained {what}")
    if len(parts) > 1:
        text += f"; {parts[1][0]} months the other way"
    return text + tail
