"""The night-time-economy (NTE) window: a weekly window of nights and clock times, and its parser.

A small leaf (no numba, no pandas) that the config and the time-band
statistics (:mod:`hotspots.timebands`) both depend on. Times are local
wall-clock times; a window starting on Friday 21:00 and ending 06:00 covers
Friday night into Saturday morning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

from hotspots.errors import ParameterError

__all__ = ["DEFAULT_NTE", "WEEKDAYS", "NTEWindow", "day_to_index", "parse_nte_window"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_DAY_INDEX = {d.lower(): i for i, d in enumerate(WEEKDAYS)}
_DAY_INDEX.update(
    {name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}
)
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_WINDOW_TEXT = re.compile(r"^\s*(?P<days>[A-Za-z][A-Za-z ,\-]*?)\s+(?P<start>\S+?)\s*-\s*(?P<end>\S+)\s*$")
_FORM_HINT = "write e.g. 'Fri,Sat 21:00-06:00', 'Mon-Sun 18:00-06:00' or 'Thu-Sat 22:00-04:00'"


def day_to_index(day: Any, where: str) -> int:
    """Monday = 0 ... Sunday = 6 from a weekday name (three letters or full, any case) or 0-6.

    Examples
    --------
    >>> day_to_index("fri", "days"), day_to_index("Saturday", "days"), day_to_index(6, "days")
    (4, 5, 6)
    """
    if isinstance(day, Integral) and not isinstance(day, bool) and 0 <= int(day) <= 6:  # numpy integers too
        return int(day)
    key = str(day).strip().lower()
    if key not in _DAY_INDEX:
        raise ParameterError(f"{where}: unknown weekday {day!r}; use {', '.join(WEEKDAYS)} (or 0-6, Monday = 0)")
    return _DAY_INDEX[key]


def _hhmm_to_min(text: Any, where: str, *, allow_24: bool = False) -> int:
    m = _HHMM.match(str(text).strip())
    if not m:
        raise ParameterError(f"{where}: time {text!r} is not HH:MM; write e.g. '21:00'")
    h, mi = int(m.group(1)), int(m.group(2))
    if allow_24 and h == 24 and mi == 0:
        return 0
    if h > 23 or mi > 59:
        raise ParameterError(f"{where}: time {text!r} is out of range; use 00:00 to 23:59")
    return 60 * h + mi


def _days_text(idx: Sequence[int]) -> str:
    """Canonical weekday list: Monday first, runs of three or more days as 'A-B'."""
    parts, run = [], [idx[0]]
    for i in idx[1:]:
        if i == run[-1] + 1:
            run.append(i)
            continue
        parts.append(run)
        run = [i]
    parts.append(run)
    out = []
    for r in parts:
        if len(r) >= 3:
            out.append(f"{WEEKDAYS[r[0]]}-{WEEKDAYS[r[-1]]}")
        else:
            out.extend(WEEKDAYS[i] for i in r)
    return ",".join(out)


@dataclass(frozen=True, kw_only=True)
class NTEWindow:
    """A weekly night-time-economy window: the nights it starts on and its clock times.

    Parameters
    ----------
    days : tuple of str
        Weekdays the window *starts* on (``"Mon"`` ... ``"Sun"``; full names,
        any case, or 0-6 with Monday = 0 are accepted and normalised to
        three-letter names in week order).
    start, end : str
        Local wall-clock times ``"HH:MM"``. A window whose ``end <= start``
        crosses midnight and ends on the next day (Saturday's ``21:00-06:00``
        runs to Sunday 06:00; Sunday's runs to Monday 06:00). ``end == start``
        is a full 24 hours. ``end`` may be written ``"24:00"`` (stored as ``"00:00"``).

    Raises
    ------
    ParameterError
        For an unknown weekday, a repeated day, no days or a time not in ``HH:MM``.

    See Also
    --------
    parse_nte_window : the same from text such as ``"Fri,Sat 21:00-06:00"``.

    Examples
    --------
    >>> w = NTEWindow(days=("Sat", "friday"), start="21:00", end="6:00")
    >>> str(w), w.crosses_midnight, w.hours_per_week
    ('Fri,Sat 21:00-06:00', True, 18.0)
    >>> w.to_dict()
    {'text': 'Fri,Sat 21:00-06:00', 'days': ['Fri', 'Sat'], 'start': '21:00', 'end': '06:00'}
    """

    days: tuple[str, ...]
    start: str
    end: str

    def __post_init__(self):
        days = self.days
        if isinstance(days, str) or not isinstance(days, Sequence) or len(days) == 0:
            raise ParameterError(
                f"NTEWindow days must be a non-empty tuple of weekday names such as ('Fri', 'Sat'), got {days!r}; "
                "to read text like 'Fri,Sat 21:00-06:00' use parse_nte_window"
            )
        idx = [day_to_index(d, "NTEWindow days") for d in days]
        if len(set(idx)) != len(idx):
            raise ParameterError(f"NTEWindow days {tuple(days)!r} repeats a weekday; give each day once")
        start = _hhmm_to_min(self.start, "NTEWindow start")
        end = _hhmm_to_min(self.end, "NTEWindow end", allow_24=True)
        object.__setattr__(self, "days", tuple(WEEKDAYS[i] for i in sorted(idx)))
        object.__setattr__(self, "start", f"{start // 60:02d}:{start % 60:02d}")
        object.__setattr__(self, "end", f"{end // 60:02d}:{end % 60:02d}")

    def __str__(self) -> str:
        return f"{_days_text([_DAY_INDEX[d.lower()] for d in self.days])} {self.start}-{self.end}"

    @property
    def start_min(self) -> int:
        """Minutes after midnight at which each night's window starts."""
        return _hhmm_to_min(self.start, "start")

    @property
    def duration_min(self) -> int:
        """Length of each night's window in minutes (1-1440)."""
        d = (_hhmm_to_min(self.end, "end") - self.start_min) % 1440
        return d if d else 1440

    @property
    def crosses_midnight(self) -> bool:
        """True when each night's window ends on the next day (``end <= start``)."""
        return self.start_min + self.duration_min > 1440

    @property
    def hours_per_week(self) -> float:
        """Total length of the window over one week, in hours."""
        return len(self.days) * self.duration_min / 60

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: canonical text, days, start and end."""
        return {"text": str(self), "days": list(self.days), "start": self.start, "end": self.end}


def parse_nte_window(text: str | NTEWindow) -> NTEWindow:
    """Read an NTE window written as ``"DAYS HH:MM-HH:MM"``.

    Parameters
    ----------
    text : str or NTEWindow
        Days as a comma list and/or ranges (``"Fri,Sat"``, ``"Mon-Sun"``,
        ``"Thu-Sat"``, ``"Mon,Fri-Sun"``; a range may wrap past Sunday, as in
        ``"Sat-Mon"``), a space, then start and end times. Day names are
        case-insensitive and may be written in full. An ``NTEWindow`` is
        returned unchanged.

    Returns
    -------
    NTEWindow
        Its ``str()`` is the canonical text, which parses back to the same window.

    Raises
    ------
    ParameterError
        Naming the text, the part that could not be read and the expected form.

    Examples
    --------
    >>> str(parse_nte_window("fri, sat 21:00 - 06:00"))
    'Fri,Sat 21:00-06:00'
    >>> parse_nte_window("Thu-Sat 22:00-04:00").days
    ('Thu', 'Fri', 'Sat')
    >>> str(parse_nte_window("Sat-Mon 18:00-24:00"))
    'Mon,Sat,Sun 18:00-00:00'
    >>> parse_nte_window("Fri 9pm-6am")
    Traceback (most recent call last):
    ...
    hotspots.errors.ParameterError: NTE window 'Fri 9pm-6am': time '9pm' is not HH:MM; write e.g. '21:00'
    """
    if isinstance(text, NTEWindow):
        return text
    if not isinstance(text, str):
        raise ParameterError(f"NTE window must be text such as 'Fri,Sat 21:00-06:00', got {type(text).__name__}")
    where = f"NTE window {text!r}"
    m = _WINDOW_TEXT.match(text.replace("\u2013", "-").replace("\u2014", "-"))
    if not m:
        raise ParameterError(f"{where} is not in the form 'DAYS HH:MM-HH:MM'; {_FORM_HINT}")
    idx: list[int] = []
    for item in m.group("days").split(","):
        item = item.strip()
        if not item:
            raise ParameterError(f"{where}: empty weekday in the day list; {_FORM_HINT}")
        if "-" in item:
            ends = [s.strip() for s in item.split("-")]
            if len(ends) != 2 or not all(ends):
                raise ParameterError(f"{where}: day range {item!r} is not 'A-B' such as 'Thu-Sat'")
            a, b = (day_to_index(s, where) for s in ends)
            idx.extend((a + k) % 7 for k in range((b - a) % 7 + 1))
        else:
            idx.append(day_to_index(item, where))
    if len(set(idx)) != len(idx):
        raise ParameterError(f"{where} names a weekday more than once; give each day once")
    start = _hhmm_to_min(m.group("start"), where)
    end = _hhmm_to_min(m.group("end"), where, allow_24=True)
    return NTEWindow(
        days=tuple(WEEKDAYS[i] for i in idx),
        start=f"{start // 60:02d}:{start % 60:02d}",
        end=f"{end // 60:02d}:{end % 60:02d}",
    )


DEFAULT_NTE = NTEWindow(days=("Fri", "Sat"), start="21:00", end="06:00")
