"""Byte-level date and time kernels (private).

Parse spans of a CSV buffer (see :mod:`hotspots.ingest._csvscan`) into
seconds since 1970-01-01 *as written* (wall-clock time; no time zone applied),
with a status per value, so that every unparseable cell can be quarantined
with its line number. Accepted forms:

- ``dd/mm/yyyy``, ``dd-mm-yyyy``, ``dd.mm.yyyy`` (day first, UK) or month
  first when ``dayfirst`` is False (US exports); a two-digit year is 20yy;
- ``yyyy-mm-dd`` / ``yyyy/mm/dd`` (ISO; always year-month-day);
- optionally followed by a space or ``T`` and ``HH:MM``, ``HH:MM:SS`` or
  ``HH:MM:SS.fff`` (fraction dropped), an optional ``AM``/``PM``, and an
  optional ``Z`` or ``+hh:mm``/``+hhmm``/``-hh:mm`` UTC offset.

Everything here takes and returns plain numpy arrays; no pandas, no I/O.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hotspots.ingest._csvscan import _strip

# status codes
DT_EMPTY = 0
DT_DATE = 1  # a date without a time of day
DT_DATETIME = 2
DT_INVALID = 3

NO_OFFSET = -100_000  # offset_min when the text carries no time zone

_MDAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


@nb.njit(cache=True, nogil=True)
def _days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@nb.njit(cache=True, nogil=True)
def _valid_date(y, m, d, mdays):
    if m < 1 or m > 12 or d < 1 or y < 1900 or y > 2100:
        return False
    lim = mdays[m - 1]
    if m == 2 and (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
        lim = 29
    return d <= lim


@nb.njit(cache=True, nogil=True)
def _digits(buf, p, e, max_n):
    """Read up to ``max_n`` digits at p; returns (value, number of digits, new p)."""
    v = 0
    n = 0
    while p < e and n < max_n and 48 <= buf[p] <= 57:
        v = v * 10 + (buf[p] - 48)
        n += 1
        p += 1
    return v, n, p


@nb.njit(cache=True, nogil=True)
def _time_of_day(buf, p, e):
    """Parse ``HH:MM[:SS[.fff]][ AM|PM][Z|+hh:mm]`` from p; returns (seconds, offset_min, ok, new p)."""
    hh, n, p = _digits(buf, p, e, 2)
    if n == 0 or p >= e or buf[p] != 58:  # :
        return 0, NO_OFFSET, False, p
    mm, n, p = _digits(buf, p + 1, e, 2)
    if n != 2:
        return 0, NO_OFFSET, False, p
    ss = 0
    if p < e and buf[p] == 58:
        ss, n, p = _digits(buf, p + 1, e, 2)
        if n != 2:
            return 0, NO_OFFSET, False, p
        if p < e and buf[p] == 46:  # fraction of a second: dropped
            p += 1
            while p < e and 48 <= buf[p] <= 57:
                p += 1
    while p < e and buf[p] == 32:
        p += 1
    if p + 1 < e and (buf[p + 1] == 77 or buf[p + 1] == 109) and buf[p] in (65, 97, 80, 112):  # AM / PM
        pm = buf[p] == 80 or buf[p] == 112
        if hh < 1 or hh > 12:
            return 0, NO_OFFSET, False, p
        hh = hh % 12 + (12 if pm else 0)
        p += 2
        while p < e and buf[p] == 32:
            p += 1
    if hh > 23 or mm > 59 or ss > 59:
        return 0, NO_OFFSET, False, p
    off = NO_OFFSET
    if p < e and (buf[p] == 90 or buf[p] == 122):  # Z
        off = 0
        p += 1
    elif p < e and (buf[p] == 43 or buf[p] == 45):  # + -
        sign = -1 if buf[p] == 45 else 1
        oh, n, p = _digits(buf, p + 1, e, 2)
        if n != 2:
            return 0, NO_OFFSET, False, p
        if p < e and buf[p] == 58:
            p += 1
        om, n, p = _digits(buf, p, e, 2)
        if n != 2 or oh > 14 or om > 59:
            return 0, NO_OFFSET, False, p
        off = sign * (oh * 60 + om)
    return hh * 3600 + mm * 60 + ss, off, True, p


@nb.njit(cache=True, nogil=True)
def _parse_datetimes(buf, s_arr, e_arr, dayfirst, mdays):
    """Parse date(-time) spans.

    Returns
    -------
    secs : int64 (n,) seconds since 1970-01-01 as written (0 where not parsed)
    status : uint8 (n,) DT_EMPTY, DT_DATE, DT_DATETIME or DT_INVALID
    offset_min : int32 (n,) UTC offset in minutes, NO_OFFSET when none was written
    """
    n = len(s_arr)
    secs = np.zeros(n, dtype=np.int64)
    status = np.zeros(n, dtype=np.uint8)
    offset = np.full(n, NO_OFFSET, dtype=np.int32)
    for i in range(n):
        s, e = _strip(buf, s_arr[i], e_arr[i])
        if s == e:
            status[i] = DT_EMPTY
            continue
        status[i] = DT_INVALID
        a, na, p = _digits(buf, s, e, 4)
        if na == 0 or p >= e:
            continue
        sep = buf[p]
        if sep != 47 and sep != 45 and sep != 46:  # / - .
            continue
        b, nb_, p = _digits(buf, p + 1, e, 2)
        if nb_ == 0 or p >= e or buf[p] != sep:
            continue
        c, nc, p = _digits(buf, p + 1, e, 4)
        if nc == 0:
            continue
        if na == 4:
            if nc > 2:
                continue
            y, m, d = a, b, c
        else:
            if na > 2 or (nc != 4 and nc != 2):
                continue
            y = c + 2000 if nc == 2 else c
            if dayfirst:
                d, m = a, b
            else:
                m, d = a, b
        if not _valid_date(y, m, d, mdays):
            continue
        day = _days_from_civil(y, m, d)
        if p == e:
            secs[i] = day * 86400
            status[i] = DT_DATE
            continue
        if buf[p] != 32 and buf[p] != 84 and buf[p] != 116:  # space T t
            continue
        while p < e and (buf[p] == 32 or buf[p] == 84 or buf[p] == 116):
            p += 1
        tod, off, ok, p = _time_of_day(buf, p, e)
        if not ok or p != e:
            continue
        secs[i] = day * 86400 + tod
        offset[i] = off
        status[i] = DT_DATETIME
    return secs, status, offset


@nb.njit(cache=True, nogil=True)
def _parse_times(buf, s_arr, e_arr):
    """Parse time-of-day spans (``HH:MM[:SS]``, optional AM/PM, or ``HHMM``).

    Returns seconds after midnight (int64) and a status each: DT_EMPTY,
    DT_DATETIME (parsed) or DT_INVALID.
    """
    n = len(s_arr)
    secs = np.zeros(n, dtype=np.int64)
    status = np.zeros(n, dtype=np.uint8)
    for i in range(n):
        s, e = _strip(buf, s_arr[i], e_arr[i])
        if s == e:
            status[i] = DT_EMPTY
            continue
        status[i] = DT_INVALID
        if e - s == 4:  # HHMM, as some A&E systems write it
            v, nd, p = _digits(buf, s, e, 4)
            if nd == 4 and v // 100 <= 23 and v % 100 <= 59:
                secs[i] = (v // 100) * 3600 + (v % 100) * 60
                status[i] = DT_DATETIME
            continue
        tod, off, ok, p = _time_of_day(buf, s, e)
        if ok and p == e and off == NO_OFFSET:
            secs[i] = tod
            status[i] = DT_DATETIME
    return secs, status


def parse_datetimes(buf, starts, ends, *, dayfirst: bool = True):
    """Public-to-the-package wrapper of :func:`_parse_datetimes` (see module docstring)."""
    return _parse_datetimes(buf, starts, ends, dayfirst, _MDAYS)


def parse_times(buf, starts, ends):
    """Public-to-the-package wrapper of :func:`_parse_times`."""
    return _parse_times(buf, starts, ends)
