"""Repeat locations: how much crime happens at places that have had crime before.

A small share of addresses accounts for a large share of crime (repeat
victimisation, repeat locations; Farrell and Pease 1993). Grouping events by
their exact location (metres, EPSG:27700, rounded to ``precision_m``) gives
the count per location, the locations with at least ``min_events``, and the
share of events they hold.

On police.uk the "location" is an anonymised map point shared by many
addresses, so repeats there are an upper bound; on force RMS coordinates
(an address or a street point) they are the analyst's repeat-location list.

References
----------
Farrell, G. and Pease, K. (1993). Once bitten, twice bitten: repeat victimisation and its implications for crime
prevention. Home Office Crime Prevention Unit Paper 46.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hotspots._results import Result
from hotspots.errors import ParameterError

__all__ = ["RepeatLocations", "repeat_locations"]


@dataclass(frozen=True)
class RepeatLocations(Result):
    """Repeat locations (:func:`repeat_locations`).

    events : events with a location; locations : distinct locations; repeat_locations : those with at least
    ``min_events``; repeat_events : events at them; repeat_share : repeat_events / events; top10_share : share
    of events at the busiest 10% of locations; max_events : events at the busiest location.
    """

    min_events: int
    events: int
    locations: int
    repeat_locations: int
    repeat_events: int
    repeat_share: float
    top10_share: float
    max_events: int


def repeat_locations(events: pd.DataFrame, *, min_events: int = 2, precision_m: float = 1.0) -> RepeatLocations:
    """Count events per exact location and summarise the repeats.

    Parameters
    ----------
    events : DataFrame
        ``x``, ``y`` in metres (EPSG:27700); rows without coordinates are skipped.
    min_events : int, default 2
        Events that make a location a repeat location.
    precision_m : float, default 1
        Coordinates are rounded to this many metres before grouping.

    Returns
    -------
    RepeatLocations

    Examples
    --------
    Three events at one address, two at another, one alone:

    >>> ev = pd.DataFrame({"x": [10.0, 10.2, 10.4, 50.0, 50.0, 90.0], "y": [5.0, 5.0, 5.0, 7.0, 7.0, 9.0]})
    >>> r = repeat_locations(ev)
    >>> r.locations, r.repeat_locations, r.repeat_events, round(r.repeat_share, 3), r.max_events
    (3, 2, 5, 0.833, 3)
    """
    if not isinstance(min_events, int | np.integer) or min_events < 2:
        raise ParameterError(f"min_events must be a whole number >= 2; got {min_events!r}")
    if not precision_m > 0:
        raise ParameterError(f"precision_m must be > 0 metres; got {precision_m!r}")
    for c in ("x", "y"):
        if c not in events.columns:
            raise ParameterError(f"events has no column {c!r}; give x/y in metres (EPSG:27700)")
    x = pd.to_numeric(events["x"], errors="coerce").to_numpy(np.float64)
    y = pd.to_numeric(events["y"], errors="coerce").to_numpy(np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return RepeatLocations(int(min_events), 0, 0, 0, 0, float("nan"), float("nan"), 0)
    key = np.column_stack([np.round(x[ok] / precision_m), np.round(y[ok] / precision_m)])
    _, counts = np.unique(key, axis=0, return_counts=True)
    rep = counts >= min_events
    order = np.sort(counts)[::-1]
    top = max(1, int(np.ceil(0.1 * len(counts))))
    n = int(ok.sum())
    return RepeatLocations(
        min_events=int(min_events), events=n, locations=len(counts), repeat_locations=int(rep.sum()),
        repeat_events=int(counts[rep].sum()), repeat_share=float(counts[rep].sum() / n),
        top10_share=float(order[:top].sum() / n), max_events=int(counts.max()),
    )
