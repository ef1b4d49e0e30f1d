"""Time bands: aoristic weekday x hour tables and per-event shares of the night-time-economy (NTE) window.

The window itself (:class:`~hotspots.nte_window.NTEWindow`,
:func:`~hotspots.nte_window.parse_nte_window`) lives in :mod:`hotspots.nte_window`
and is re-exported here.

Times are **naive local wall-clock times** (for UK forces, the time the clock
on the wall showed in Europe/London), as the ingest layer stores them. No
time zone or daylight-saving adjustment is made: an event at 01:30 on a
clock-change night counts in the 01:00 hour, and a from/to window is measured
in wall-clock minutes (a 00:30-02:30 window on the spring-forward night counts
as two hours, although only one hour passed). Time-zone-aware input is refused;
convert it first with ``.dt.tz_convert("Europe/London").dt.tz_localize(None)``.

Records with a from/to window ("between 22:00 Friday and 02:00 Saturday") are
*apportioned*, never dropped or pinned to one end (aoristic analysis,
Ratcliffe 2002): each event's unit mass (or weight) is spread over the hours
of its ``[from, to)`` window in proportion to the minutes of overlap. A point
event (``to`` missing or equal to ``from``) puts all its mass at ``from``.

Layers: numba kernels over int64 seconds since 1970-01-01 (wall clock) ->
array functions (:func:`aoristic_weekday_hour`, :func:`nte_share`,
:func:`in_nte`, :func:`aoristic_band_share`, :func:`window_problems`) ->
frame functions (:func:`weekday_hour_table`, :func:`mark_time_resolved`).

References
----------
.. [1] Ratcliffe, J. H. (2002). Aoristic signatures and the spatio-temporal
   analysis of high volume crime patterns. *Journal of Quantitative
   Criminology*, 18(1), 23-43.
.. [2] Ratcliffe, J. H. and McCullagh, M. J. (1998). Aoristic crime analysis.
   *International Journal of Geographical Information Science*, 12(7), 751-764.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numba as nb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from hotspots.errors import ParameterError
from hotspots.nte_window import DEFAULT_NTE, WEEKDAYS, NTEWindow, day_to_index, parse_nte_window

__all__ = [
    "COMPLEMENT",
    "DEFAULT_NTE",
    "WEEKDAYS",
    "WINDOW_PROBLEMS",
    "NTEWindow",
    "aoristic_band_share",
    "aoristic_weekday_hour",
    "in_nte",
    "mark_time_resolved",
    "nte_share",
    "parse_nte_window",
    "weekday_hour_table",
    "window_problems",
]

WINDOW_PROBLEMS = ("ok", "missing_from", "to_before_from", "window_too_long")
COMPLEMENT = "complement"

_NAT = np.iinfo(np.int64).min  # NaT as int64
_WEEK_S = 7 * 86400
_WEEK_MIN = 7 * 1440
_OFFSET_S = 3 * 86400  # 1970-01-01 was a Thursday: seconds from Monday 00:00 to the epoch




def _window_minutes(window: NTEWindow) -> np.ndarray:
    """Boolean mask over the 10,080 minutes of the week (Monday 00:00 = 0) that the window covers."""
    mask = np.zeros(_WEEK_MIN, dtype=bool)
    s, d = window.start_min, window.duration_min
    for day in window.days:
        lo = day_to_index(day, "window days") * 1440 + s
        mask[np.arange(lo, lo + d) % _WEEK_MIN] = True
    return mask


# --------------------------------------------------------------------------- input conversion


def _as_seconds(values: ArrayLike, name: str) -> np.ndarray:
    """int64 wall-clock seconds since 1970-01-01 (NaT as int64 min) from datetime-like input."""
    tz = getattr(getattr(values, "dtype", None), "tz", None)
    pa_dtype = getattr(getattr(values, "dtype", None), "pyarrow_dtype", None)
    if tz is None and pa_dtype is not None:
        tz = getattr(pa_dtype, "tz", None)
    if tz is not None:
        raise ParameterError(
            f"{name} is time-zone aware ({tz}); give local wall-clock times, e.g. "
            f"{name}.dt.tz_convert('Europe/London').dt.tz_localize(None)"
        )
    if pa_dtype is not None:
        values = values.astype("datetime64[ns]")  # type: ignore[union-attr]
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ParameterError(f"{name} must be one-dimensional (one time per event), got shape {arr.shape}")
    if arr.dtype.kind != "M":
        if len(arr) == 0:
            return np.empty(0, dtype=np.int64)
        if arr.dtype.kind not in "OUST":
            raise ParameterError(
                f"{name} must hold dates and times (numpy datetime64, pandas Timestamps or ISO text), got dtype "
                f"{arr.dtype}; convert epoch seconds with np.asarray(x, dtype='datetime64[s]')"
            )
        try:
            idx = pd.DatetimeIndex(pd.to_datetime(arr))
        except (ValueError, TypeError) as e:
            raise ParameterError(f"{name} cannot be read as dates and times ({e}); pass datetime64 values") from e
        if idx.tz is not None:
            raise ParameterError(
                f"{name} is time-zone aware ({idx.tz}); give local wall-clock times, e.g. "
                "pd.to_datetime(x).tz_convert('Europe/London').tz_localize(None)"
            )
        arr = idx.to_numpy()
    unit = np.datetime_data(arr.dtype)[0]
    if unit in ("Y", "M", "W", "D"):
        raise ParameterError(
            f"{name} has {unit!r} resolution (datetime64[{unit}]), so the time of day is unknown; "
            "mark those rows time_resolved=False instead of apportioning them"
        )
    return arr.astype("datetime64[s]").view(np.int64)


def _as_windows(t_from: ArrayLike, t_to: ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    a = _as_seconds(t_from, "t_from")
    if t_to is None:
        return a, np.full(len(a), _NAT, dtype=np.int64)
    b = _as_seconds(t_to, "t_to")
    if len(b) != len(a):
        raise ParameterError(f"t_from has {len(a):,} values but t_to has {len(b):,}; give one of each per event")
    return a, b


def _check_windows(a: np.ndarray, b: np.ndarray) -> None:
    """Raise when any event has no start or ends before it starts (the caller quarantines those)."""
    codes = _problem_codes(a, b, -1)
    for code, what in ((1, "t_from is missing (NaT)"), (2, "t_to is before t_from")):
        bad = np.flatnonzero(codes == code)
        if len(bad):
            raise ParameterError(
                f"{what} on {len(bad):,} of {len(a):,} events (first at position {bad[0]}); quarantine them with "
                "window_problems(t_from, t_to) or mark month-only rows time_resolved=False before apportioning"
            )


def _as_weights(weights: ArrayLike | None, n: int) -> np.ndarray | None:
    if weights is None:
        return None
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (ValueError, TypeError) as e:
        raise ParameterError(f"weights must be numbers, one per event ({e})") from e
    if w.shape != (n,):
        raise ParameterError(f"weights has shape {w.shape} but there are {n:,} events; give one weight per event")
    if not np.isfinite(w).all():
        raise ParameterError("weights has missing or infinite values; fill them (e.g. 1.0 for an unweighted event)")
    return w


# --------------------------------------------------------------------------- kernels


@nb.njit(cache=True, nogil=True)
def _problem_codes(a, b, max_s):
    """Reason code per event (index into WINDOW_PROBLEMS); ``max_s < 0`` means no length limit."""
    n = len(a)
    out = np.zeros(n, dtype=np.int8)
    for i in range(n):
        if a[i] == _NAT:
            out[i] = 1
        elif b[i] != _NAT:
            if b[i] < a[i]:
                out[i] = 2
            elif max_s >= 0 and b[i] - a[i] > max_s:
                out[i] = 3
    return out


@nb.njit(cache=True, nogil=True)
def _aoristic_168(a, b, w, has_w):
    """Mass per hour of the week (Monday 00:00 = 0), spread by seconds of overlap with each [a, b)."""
    out = np.zeros(168)
    for i in range(len(a)):
        wi = w[i] if has_w else 1.0
        s = a[i] + _OFFSET_S
        if b[i] == _NAT or b[i] == a[i]:
            out[(s // 3600) % 168] += wi
            continue
        e = b[i] + _OFFSET_S
        d = e - s
        if d >= _WEEK_S:
            q = wi / 168.0
            for h in range(168):
                out[h] += q
            continue
        h0 = s // 3600
        h1 = (e - 1) // 3600
        k = h0 % 168
        if h0 == h1:
            out[k] += wi
            continue
        scale = wi / d
        out[k] += ((h0 + 1) * 3600 - s) * scale  # first, partial hour
        full = 3600 * scale
        for _ in range(h1 - h0 - 1):  # whole hours in between
            k += 1
            if k == 168:
                k = 0
            out[k] += full
        k += 1
        if k == 168:
            k = 0
        out[k] += (e - h1 * 3600) * scale  # last, partial hour
    return out


@nb.njit(cache=True, nogil=True)
def _covered_s(cum, mask, t):
    """Seconds of a band in [Monday 00:00 of the epoch week, t), t in week-aligned seconds."""
    p = t // _WEEK_S
    r = t - p * _WEEK_S
    m = r // 60
    return p * cum[_WEEK_MIN] + cum[m] + (r - 60 * m) * mask[m]


@nb.njit(cache=True, nogil=True)
def _band_shares(a, b, mask, cum):
    """(n, K) share of each event's [a, b) inside each band; a point event gives 0 or 1."""
    n = len(a)
    k_n = mask.shape[0]
    out = np.empty((n, k_n))
    for i in range(n):
        s = a[i] + _OFFSET_S
        if b[i] == _NAT or b[i] == a[i]:
            m = (s // 60) % _WEEK_MIN
            for k in range(k_n):
                out[i, k] = mask[k, m]
            continue
        e = b[i] + _OFFSET_S
        d = e - s
        if d >= _WEEK_S:
            for k in range(k_n):
                out[i, k] = cum[k, _WEEK_MIN] / _WEEK_S
            continue
        for k in range(k_n):
            out[i, k] = (_covered_s(cum[k], mask[k], e) - _covered_s(cum[k], mask[k], s)) / d
    return out


@nb.njit(cache=True, nogil=True)
def _points_in(a, mask):
    out = np.empty(len(a), dtype=np.bool_)
    for i in range(len(a)):
        out[i] = mask[((a[i] + _OFFSET_S) // 60) % _WEEK_MIN] != 0
    return out


def _cum_seconds(mask: np.ndarray) -> np.ndarray:
    """(K, 10081) int64 seconds of each band before each minute of the week."""
    cum = np.zeros((mask.shape[0], _WEEK_MIN + 1), dtype=np.int64)
    np.cumsum(mask.astype(np.int64) * 60, axis=1, out=cum[:, 1:])
    return cum


# --------------------------------------------------------------------------- array functions


def window_problems(
    t_from: ArrayLike, t_to: ArrayLike | None = None, *, max_window_h: float | None = 168.0
) -> pd.Categorical:
    """Why each event's from/to window cannot be apportioned, for the ingest layer to quarantine.

    Parameters
    ----------
    t_from : array-like of datetime, shape (n,)
        Local wall-clock start ("committed from") of each event.
    t_to : array-like of datetime, shape (n,), optional
        Local wall-clock end ("committed to"); NaT or None is a point event.
    max_window_h : float or None, default 168.0
        Longest acceptable window in hours; longer windows get ``window_too_long``.
        The default is one week: a longer window says nothing about the weekday
        or hour (the aoristic functions spread it uniformly over the week).
        None sets no limit.

    Returns
    -------
    pandas.Categorical, shape (n,)
        One of :data:`WINDOW_PROBLEMS` per event: ``ok``, ``missing_from``
        (no start time), ``to_before_from`` or ``window_too_long``. Compare
        with ``== "ok"`` for a boolean keep-mask.

    Examples
    --------
    >>> t0 = np.array(["2024-03-01T22:00", "NaT", "2024-03-01T22:00", "2024-03-01T22:00"], dtype="datetime64[s]")
    >>> t1 = np.array(["2024-03-02T02:00", "NaT", "2024-03-01T21:00", "2024-03-20T00:00"], dtype="datetime64[s]")
    >>> list(window_problems(t0, t1))
    ['ok', 'missing_from', 'to_before_from', 'window_too_long']
    >>> (window_problems(t0, t1) == "ok").sum()
    np.int64(1)
    """
    if max_window_h is not None and not (np.isfinite(max_window_h) and max_window_h > 0):
        raise ParameterError(f"max_window_h must be a positive number of hours or None, got {max_window_h!r}")
    a, b = _as_windows(t_from, t_to)
    max_s = -1 if max_window_h is None else int(round(float(max_window_h) * 3600))
    return pd.Categorical.from_codes(_problem_codes(a, b, max_s), categories=pd.Index(WINDOW_PROBLEMS, dtype=object))


def aoristic_weekday_hour(
    t_from: ArrayLike, t_to: ArrayLike | None = None, *, weights: ArrayLike | None = None
) -> np.ndarray:
    """Aoristic weekday x hour table: each event's mass spread over the hours of its window.

    Each event carries unit mass (or its weight), shared among the hours of
    its ``[t_from, t_to)`` window in proportion to the time of overlap
    (computed to the second). A point event (``t_to`` NaT/None or equal to
    ``t_from``) puts all its mass in the hour of ``t_from``. A window of one
    week or longer carries no weekday/hour information and is spread
    uniformly (1/168 of its mass in each hour of the week).

    Parameters
    ----------
    t_from : array-like of datetime, shape (n,)
        Local wall-clock start of each event (no DST adjustment; see the module notes).
    t_to : array-like of datetime, shape (n,), optional
        Local wall-clock end; NaT or None is a point event.
    weights : array-like of float, shape (n,), optional
        Mass of each event (e.g. a harm weight); 1 each by default.

    Returns
    -------
    numpy.ndarray of float64, shape (7, 24)
        Rows are weekdays (Monday = 0), columns hours 0-23. The total is the
        number of events (or the sum of the weights), up to float rounding.

    Raises
    ------
    ParameterError
        If any ``t_from`` is missing or any ``t_to`` precedes its ``t_from``
        (count and first position given; screen rows with :func:`window_problems`),
        or for weights of the wrong length or non-finite weights.

    References
    ----------
    .. [1] Ratcliffe, J. H. (2002). Aoristic signatures and the spatio-temporal
       analysis of high volume crime patterns. *J. Quant. Criminol.* 18(1), 23-43.

    Examples
    --------
    Friday 22:00 to Saturday 02:00 puts a quarter in each of four hours:

    >>> t0 = np.array(["2024-03-01T22:00"], dtype="datetime64[s]")   # a Friday
    >>> t1 = np.array(["2024-03-02T02:00"], dtype="datetime64[s]")
    >>> tab = aoristic_weekday_hour(t0, t1)
    >>> tab[4, 22], tab[4, 23], tab[5, 0], tab[5, 1], tab.sum()
    (np.float64(0.25), np.float64(0.25), np.float64(0.25), np.float64(0.25), np.float64(1.0))
    """
    a, b = _as_windows(t_from, t_to)
    _check_windows(a, b)
    w = _as_weights(weights, len(a))
    out = _aoristic_168(a, b, np.empty(0) if w is None else w, w is not None)
    return out.reshape(7, 24)


def _band_masks(bands: Mapping[str, Any]) -> tuple[list[str], np.ndarray]:
    if not isinstance(bands, Mapping) or len(bands) == 0:
        raise ParameterError(
            "bands must be a non-empty mapping of band name -> NTEWindow, window text, list of (weekday, hour) "
            f"or {COMPLEMENT!r}, e.g. {{'nte': DEFAULT_NTE, 'other': {COMPLEMENT!r}}}"
        )
    names = [str(k) for k in bands]
    mask = np.zeros((len(names), _WEEK_MIN), dtype=bool)
    rest = [k for k, v in enumerate(bands.values()) if isinstance(v, str) and v == COMPLEMENT]
    if len(rest) > 1:
        raise ParameterError(f"bands: only one band can be {COMPLEMENT!r}, got {[names[k] for k in rest]}")
    for k, (name, spec) in enumerate(bands.items()):
        if k in rest:
            continue
        where = f"bands[{name!r}]"
        if isinstance(spec, NTEWindow | str):
            mask[k] = _window_minutes(parse_nte_window(spec))
            continue
        if not isinstance(spec, Sequence) or isinstance(spec, bytes):
            raise ParameterError(
                f"{where} must be an NTEWindow, window text, a list of (weekday, hour) pairs or {COMPLEMENT!r}, "
                f"got {type(spec).__name__}"
            )
        for pair in spec:
            if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
                raise ParameterError(f"{where}: {pair!r} is not a (weekday, hour) pair such as ('Fri', 22)")
            day, hour = pair
            if not isinstance(hour, int | np.integer) or isinstance(hour, bool) or not 0 <= hour <= 23:
                raise ParameterError(f"{where}: hour {hour!r} in {pair!r} must be a whole number 0-23")
            lo = day_to_index(day, where) * 1440 + int(hour) * 60
            mask[k, lo : lo + 60] = True
    overlap = mask.sum(axis=0) > 1
    if overlap.any():
        m = int(np.flatnonzero(overlap)[0])
        both = [names[k] for k in np.flatnonzero(mask[:, m])]
        raise ParameterError(
            f"bands {both[0]!r} and {both[1]!r} overlap (both cover {WEEKDAYS[m // 1440]} "
            f"{m % 1440 // 60:02d}:{m % 60:02d}); make the bands disjoint so shares are not counted twice"
        )
    if rest:
        mask[rest[0]] = ~mask.any(axis=0)
    return names, mask


def aoristic_band_share(t_from: ArrayLike, t_to: ArrayLike | None = None, *, bands: Mapping[str, Any]) -> np.ndarray:
    """Share of each event's from/to window falling in each time band (aoristic), for gridding by band.

    Parameters
    ----------
    t_from : array-like of datetime, shape (n,)
        Local wall-clock start of each event.
    t_to : array-like of datetime, shape (n,), optional
        Local wall-clock end; NaT or None is a point event (share 0 or 1).
    bands : mapping of str to band
        Band name -> an :class:`NTEWindow`, window text (``"Fri,Sat 21:00-06:00"``),
        a list of ``(weekday, hour)`` pairs (weekday as ``"Fri"`` or 0-6 with
        Monday = 0; hour 0-23) or the string :data:`COMPLEMENT` (``"complement"``)
        for every minute of the week not in another band. Bands must not overlap.

    Returns
    -------
    numpy.ndarray of float64, shape (n, len(bands))
        Columns in the order of ``bands``. Each entry is in [0, 1]; a row sums to
        1 when the bands cover the whole week (e.g. with a complement band).
        Windows of a week or longer get each band's share of the week.

    Raises
    ------
    ParameterError
        For a malformed or overlapping band, a missing ``t_from`` or a ``t_to``
        before its ``t_from``.

    Examples
    --------
    Friday 20:00-22:00 with a 21:00 start is half inside the NTE window:

    >>> t0 = np.array(["2024-03-01T20:00", "2024-03-01T23:00"], dtype="datetime64[s]")
    >>> t1 = np.array(["2024-03-01T22:00", "NaT"], dtype="datetime64[s]")
    >>> aoristic_band_share(t0, t1, bands={"nte": DEFAULT_NTE, "other": COMPLEMENT})
    array([[0.5, 0.5],
           [1. , 0. ]])
    >>> aoristic_band_share(t0, t1, bands={"fri_20": [("Fri", 20)]})
    array([[0.5],
           [0. ]])
    """
    _, mask = _band_masks(bands)
    a, b = _as_windows(t_from, t_to)
    _check_windows(a, b)
    return _band_shares(a, b, mask.view(np.uint8), _cum_seconds(mask))


def nte_share(t_from: ArrayLike, t_to: ArrayLike | None = None, *, window: NTEWindow | str) -> np.ndarray:
    """Fraction of each event's from/to window inside the NTE window (aoristic).

    Parameters
    ----------
    t_from : array-like of datetime, shape (n,)
        Local wall-clock start of each event.
    t_to : array-like of datetime, shape (n,), optional
        Local wall-clock end; NaT or None is a point event, giving 0 or 1.
    window : NTEWindow or str
        The NTE window, e.g. :data:`DEFAULT_NTE` or ``"Thu-Sat 22:00-04:00"``.
        Nights crossing midnight, and Sunday's night running into Monday, are handled.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        Values in [0, 1]. A window of a week or longer gets the NTE share of the
        week (``window.hours_per_week / 168``).

    Raises
    ------
    ParameterError
        For an unreadable window, a missing ``t_from`` or a ``t_to`` before its ``t_from``.

    Examples
    --------
    >>> t0 = np.array(["2024-03-01T23:00", "2024-03-01T20:00", "2024-03-03T02:00", "2024-03-04T02:00"],
    ...               dtype="datetime64[s]")   # Fri 23:00, Fri 20:00, Sun 02:00, Mon 02:00
    >>> t1 = np.array(["NaT", "2024-03-01T22:00", "NaT", "NaT"], dtype="datetime64[s]")
    >>> nte_share(t0, t1, window="Fri,Sat 21:00-06:00")
    array([1. , 0.5, 1. , 0. ])
    """
    w = parse_nte_window(window)
    return aoristic_band_share(t_from, t_to, bands={"nte": w})[:, 0]


def in_nte(t: ArrayLike, *, window: NTEWindow | str) -> np.ndarray:
    """Whether each point time falls inside the NTE window.

    Parameters
    ----------
    t : array-like of datetime, shape (n,)
        Local wall-clock times; none may be missing.
    window : NTEWindow or str
        The NTE window; the start minute is inside, the end minute is not.

    Returns
    -------
    numpy.ndarray of bool, shape (n,)

    Raises
    ------
    ParameterError
        For an unreadable window or missing times (drop or quarantine them first).

    Examples
    --------
    >>> t = np.array(["2024-03-01T21:00", "2024-03-02T05:59", "2024-03-02T06:00"], dtype="datetime64[s]")
    >>> in_nte(t, window=DEFAULT_NTE)
    array([ True,  True, False])
    """
    mask = _window_minutes(parse_nte_window(window))
    a = _as_seconds(t, "t")
    missing = np.flatnonzero(a == _NAT)
    if len(missing):
        raise ParameterError(
            f"t is missing (NaT) on {len(missing):,} of {len(a):,} values (first at position {missing[0]}); "
            "drop them or mark month-only rows time_resolved=False first"
        )
    return _points_in(a, mask.view(np.uint8))


# --------------------------------------------------------------------------- frame functions


def _resolved_mask(frame: pd.DataFrame, col: str) -> np.ndarray:
    try:
        return frame[col].astype("boolean").fillna(False).to_numpy(dtype=bool)
    except (TypeError, ValueError) as e:
        raise ParameterError(
            f"frame[{col!r}] must be True/False (missing counts as False), got dtype {frame[col].dtype}; "
            "fix the column or pass resolved_col=None"
        ) from e


def mark_time_resolved(
    frame: pd.DataFrame, *, from_col: str = "t_from", resolved_col: str = "time_resolved"
) -> pd.DataFrame:
    """A new frame whose ``resolved_col`` says which rows have a usable time of day.

    A row is time-resolved when ``from_col`` is present and, if the frame
    already has ``resolved_col``, that flag was True (missing counts as False).
    Month-only records (police.uk gives only a month) have no ``from_col`` at
    all, so every row is marked False. Nothing is guessed: these rows are
    excluded and counted by :func:`weekday_hour_table`.

    Parameters
    ----------
    frame : pandas.DataFrame
        Events; not modified.
    from_col : str, default "t_from"
        Column of local wall-clock start times.
    resolved_col : str, default "time_resolved"
        Column to write (a bool column).

    Returns
    -------
    pandas.DataFrame
        A copy with ``resolved_col`` set.

    Examples
    --------
    >>> df = pd.DataFrame({"t_from": pd.to_datetime(["2024-03-01 22:00", None])})
    >>> mark_time_resolved(df)["time_resolved"].tolist()
    [True, False]
    >>> mark_time_resolved(pd.DataFrame({"month": ["2024-03"]}))["time_resolved"].tolist()
    [False]
    """
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if from_col in frame.columns:
        ok = frame[from_col].notna().to_numpy(dtype=bool)
    else:
        ok = np.zeros(len(frame), dtype=bool)
    if resolved_col in frame.columns:
        ok = ok & _resolved_mask(frame, resolved_col)
    return frame.assign(**{resolved_col: ok})


def weekday_hour_table(
    frame: pd.DataFrame,
    *,
    from_col: str = "t_from",
    to_col: str | None = "t_to",
    weight_col: str | None = None,
    resolved_col: str | None = "time_resolved",
) -> pd.DataFrame:
    """Aoristic weekday x hour table of a frame of events (see :func:`aoristic_weekday_hour`).

    Rows whose ``resolved_col`` is False or missing (month-only records) are
    excluded and counted, never given a guessed time.

    Parameters
    ----------
    frame : pandas.DataFrame
        Events with local wall-clock from/to times; not modified.
    from_col : str, default "t_from"
        Start-time column.
    to_col : str or None, default "t_to"
        End-time column (NaT for a point event); None treats every event as a point.
    weight_col : str or None, default None
        Column of event weights (e.g. harm); None counts events.
    resolved_col : str or None, default "time_resolved"
        Boolean column; rows that are not True are left out. Ignored when the
        frame has no such column or when None.

    Returns
    -------
    pandas.DataFrame of float64, shape (7, 24)
        Index ``weekday`` (``"Mon"`` ... ``"Sun"``), columns ``hour`` 0-23.
        ``attrs`` holds ``not_time_resolved`` (rows left out), ``events``
        (rows apportioned) and ``weight_col``.

    Raises
    ------
    ParameterError
        For a missing column, or a resolved row with no start or with its end
        before its start (quarantine those with :func:`window_problems`).

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "t_from": pd.to_datetime(["2024-03-01 21:30", "2024-03-01 23:10", None]),
    ...     "t_to": pd.to_datetime(["2024-03-01 22:30", None, None]),
    ...     "time_resolved": [True, True, False],
    ... })
    >>> tab = weekday_hour_table(df)
    >>> tab.loc["Fri", [21, 22, 23]].tolist(), tab.attrs["not_time_resolved"]
    ([0.5, 0.5, 1.0], 1)
    """
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    for arg, col in (("from_col", from_col), ("to_col", to_col), ("weight_col", weight_col)):
        if col is not None and col not in frame.columns:
            hint = " (police.uk data has only the month, so it has no weekday/hour table)" if arg == "from_col" else ""
            extra = f", or {arg}=None for none" if arg != "from_col" else ""
            raise ParameterError(
                f"frame has no column {col!r}{hint}; available: {', '.join(map(str, frame.columns))}; "
                f"set {arg}= to the right column{extra}"
            )
    if resolved_col is not None and resolved_col in frame.columns:
        keep = _resolved_mask(frame, resolved_col)
    else:
        keep = np.ones(len(frame), dtype=bool)
    sub = frame.loc[keep] if not keep.all() else frame
    weights = None
    if weight_col is not None:
        weights = pd.to_numeric(sub[weight_col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.isfinite(weights).all():
            raise ParameterError(
                f"frame[{weight_col!r}] has missing or non-numeric weights on {int((~np.isfinite(weights)).sum()):,} "
                "time-resolved rows; fill them (e.g. 1.0) or drop those rows"
            )
    tab = aoristic_weekday_hour(sub[from_col], None if to_col is None else sub[to_col], weights=weights)
    out = pd.DataFrame(tab, index=pd.Index(WEEKDAYS, name="weekday"), columns=pd.RangeIndex(24, name="hour"))
    out.attrs.update(
        {"not_time_resolved": int(len(frame) - keep.sum()), "events": int(keep.sum()), "weight_col": weight_col}
    )
    return out
