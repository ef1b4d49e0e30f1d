"""Whether VAWG events concentrate near night-time-economy (NTE) venues, against area and other crime.

The 2023 national VAWG Strategic Threat and Risk Assessment (STRA) found
public-space VAWG concentrated around NTE venues. :func:`venue_concentration`
asks whether VAWG events concentrate within ``distance_m`` of NTE venues,
first against the share of the study area near venues (a location quotient
under uniform exposure), then against all other crime (which controls for
footfall, since people - and so crime of every kind - also concentrate near
venues). It returns a frozen :class:`VenueConcentration` with ``to_dict()``
(JSON-safe) and a one-sentence ``finding`` built from the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from scipy.stats import binomtest, fisher_exact

from hotspots._results import Result, p_text
from hotspots.errors import ParameterError
from hotspots.grid import cells_to_polygons
from hotspots.venues import _xy

__all__ = ["VenueConcentration", "venue_concentration"]


@dataclass(frozen=True)
class VenueConcentration(Result):
    """VAWG events near NTE venues against area and against other crime (see :func:`venue_concentration`).

    Attributes
    ----------
    distance_m : float
        Distance from the nearest venue that counts as "near" (inclusive).
    n_venues : int
    n_events, n_events_near : int
        VAWG events inside the study area, and those near a venue.
    n_events_outside : int
        VAWG events outside the study area (left out of everything).
    event_share : float
        ``n_events_near / n_events``.
    study_area_km2, near_area_km2 : float
        Study area, and the part of it within ``distance_m`` of a venue
        (union of venue buffers clipped to the study area).
    area_share : float
        ``near_area_km2 / study_area_km2``.
    location_quotient : float
        ``event_share / area_share``: 1 means as many events near venues as
        the area predicts.
    binomial_p : float
        One-sided binomial test of ``n_events_near`` out of ``n_events``
        against ``area_share`` (uniform exposure; see the function).
    n_other, n_other_near : int or None
        Other crime inside the study area, and near a venue.
    other_share : float
        ``n_other_near / n_other`` (NaN without ``other_events``).
    relative_share : float
        ``event_share / other_share``: VAWG's concentration near venues
        relative to other crime's.
    odds_ratio, fisher_p : float
        Sample odds ratio and one-sided Fisher exact p of the 2x2 table
        (VAWG / other crime) x (near / not near).
    finding : str
        One sentence for the profile.
    """

    distance_m: float
    n_venues: int
    n_events: int
    n_events_near: int
    n_events_outside: int
    event_share: float
    study_area_km2: float
    near_area_km2: float
    area_share: float
    location_quotient: float
    binomial_p: float
    n_other: int | None
    n_other_near: int | None
    other_share: float
    relative_share: float
    odds_ratio: float
    fisher_p: float
    finding: str


def _study_geometry(area, cells):
    if (area is None) == (cells is None):
        raise ParameterError("give exactly one of area= (polygon in EPSG:27700) or cells= (H3 cell ids)")
    if cells is not None:
        if isinstance(cells, str):
            raise ParameterError(f"cells must be a list of H3 cell ids, e.g. [{cells!r}]")
        geom = shapely.union_all(np.asarray(cells_to_polygons(list(cells), crs="EPSG:27700").values))
    elif hasattr(area, "crs"):  # GeoSeries / GeoDataFrame
        if area.crs is None:
            raise ParameterError("area has no CRS; set it (area.set_crs(...)) and project to EPSG:27700")
        if area.crs.to_epsg() != 27700:
            raise ParameterError(f"area is in {area.crs.to_string()}; project it with area.to_crs(27700)")
        geom = shapely.union_all(np.asarray(area.geometry.values if hasattr(area, "geometry") else area.values))
    elif isinstance(area, shapely.Geometry):
        geom = area
    else:
        raise ParameterError(f"area must be a shapely polygon or GeoSeries in EPSG:27700, got {type(area).__name__}")
    geom = shapely.make_valid(geom)
    if geom.is_empty or geom.area <= 0:
        raise ParameterError("the study area is empty or has no area; give polygons, not points or lines")
    x0, y0, x1, y1 = geom.bounds
    if max(abs(x0), abs(x1)) <= 180 and max(abs(y0), abs(y1)) <= 90:
        raise ParameterError("area looks like longitude/latitude degrees; project it to EPSG:27700 (metres)")
    return geom


def _near(tree, x: np.ndarray, y: np.ndarray, distance_m: float) -> np.ndarray:
    if not len(x):
        return np.zeros(0, dtype=bool)
    d, _ = tree.query(np.column_stack([x, y]), k=1)
    return d <= distance_m


def venue_concentration(
    events: pd.DataFrame,
    venues: pd.DataFrame,
    *,
    distance_m: float = 50.0,
    area=None,
    cells: Sequence[str] | None = None,
    other_events: pd.DataFrame | None = None,
    quad_segs: int = 32,
) -> VenueConcentration:
    """Test whether VAWG events concentrate within ``distance_m`` of NTE venues.

    Two comparisons, both one-sided (more concentration near venues):

    1. **Against area** (location quotient). The share of VAWG events within
       ``distance_m`` of the nearest venue (inclusive) against the share of
       the study area within that distance (the union of the venue buffers,
       clipped to the study area). Binomial test of the near count against
       the area share. This assumes *uniform exposure*: without venues,
       every square metre of the study area would be equally likely to host
       an event. It is not: people, streets and so crime of every kind
       cluster in town centres, where venues are, so a large quotient mainly
       shows that venues are where people are.
    2. **Against other crime** (with ``other_events``). The VAWG share near
       venues against the share of all other crime near venues, with a
       one-sided Fisher exact test on the 2x2 table. Other crime stands in
       for footfall and opportunity, so this is the better answer to the
       STRA's question "is VAWG concentrated around NTE venues *beyond* where
       people are?". It still cannot separate venue effects from town-centre
       effects in general.

    Both tests treat events as independent; police.uk events share
    anonymised map points and repeat at the same places, so p-values are
    optimistic. Events and other crime outside the study area are left out.
    The buffers are polygons with ``4 * quad_segs`` sides, inscribed in the
    circle: with the default 32 the near area is at most 0.04% small.

    Parameters
    ----------
    events : DataFrame
        VAWG-relevant events with ``x``/``y`` in metres (EPSG:27700).
    venues : DataFrame
        NTE venues with ``x``/``y`` in metres (EPSG:27700); venues just
        outside the study area still count (their buffers are clipped).
    distance_m : float, default 50
        "Near" distance in metres, > 0.
    area : shapely geometry or GeoSeries/GeoDataFrame, optional
        Study area in EPSG:27700 (e.g. a local authority boundary).
    cells : sequence of str, optional
        Study area as H3 cell ids (e.g. ``study_area_cells``); give exactly
        one of ``area`` and ``cells``.
    other_events : DataFrame, optional
        All other crime (``x``/``y`` in metres), for comparison 2.
    quad_segs : int, default 32
        Segments per quarter circle of each buffer.

    Returns
    -------
    VenueConcentration

    Raises
    ------
    ParameterError
        On missing or non-numeric ``x``/``y``, coordinates in degrees, no
        venues, no events in the study area, ``distance_m <= 0``, neither or
        both of ``area``/``cells``, or an area without a CRS of EPSG:27700.

    Examples
    --------
    A 1 km square with one venue in the middle: 20 m buffer covers
    pi * 20^2 / 1e6 = 0.126% of the area; 6 of 10 events are that near.

    >>> import pandas as pd, shapely
    >>> square = shapely.box(0, 0, 1000, 1000)
    >>> venues = pd.DataFrame({"x": [500.0], "y": [500.0]})
    >>> ev = pd.DataFrame({"x": [500, 510, 490, 500, 505, 515, 100, 900, 200, 800.0],
    ...                    "y": [500, 500, 500, 490, 505, 500, 100, 900, 700, 300.0]})
    >>> other = pd.DataFrame({"x": [500.0] * 3 + [300.0] * 7, "y": [500.0] * 3 + [300.0] * 7})
    >>> res = venue_concentration(ev, venues, distance_m=20, area=square, other_events=other)
    >>> round(res.area_share, 5), res.event_share, round(res.location_quotient)
    (0.00126, 0.6, 478)
    >>> res.other_share, round(res.fisher_p, 3)
    (0.3, 0.185)
    """
    if isinstance(distance_m, bool) or not isinstance(distance_m, int | float) or not (
        math.isfinite(distance_m) and distance_m > 0
    ):
        raise ParameterError(f"distance_m must be a positive number of metres, got {distance_m!r}")
    if isinstance(quad_segs, bool) or not isinstance(quad_segs, int) or quad_segs < 1:
        raise ParameterError(f"quad_segs must be a whole number >= 1, got {quad_segs!r}")

    ex, ey = _xy(events, name="events")
    vx, vy = _xy(venues, name="venues")
    if not len(vx):
        raise ParameterError("venues has no rows; give the NTE venues (read_venues)")
    other_xy = None if other_events is None else _xy(other_events, name="other_events")
    geom = _study_geometry(area, cells)
    shapely.prepare(geom)

    inside = shapely.intersects_xy(geom, ex, ey)
    n_in = int(inside.sum())
    if n_in == 0:
        raise ParameterError(
            f"none of the {len(ex):,} events is inside the study area; check both are in EPSG:27700 and overlap"
        )
    tree = cKDTree(np.column_stack([vx, vy]))
    near = _near(tree, ex[inside], ey[inside], float(distance_m))
    k = int(near.sum())
    buffers = shapely.buffer(shapely.points(vx, vy), float(distance_m), quad_segs=quad_segs)
    near_area = float(shapely.intersection(shapely.union_all(buffers), geom).area)
    area_share = near_area / geom.area
    ev_share = k / n_in
    lq = ev_share / area_share if area_share > 0 else math.nan
    binom_p = float(binomtest(k, n_in, min(area_share, 1.0), alternative="greater").pvalue)

    n_o = n_o_near = None
    o_share = rel = odds = fisher_p = math.nan
    if other_xy is not None:
        ox, oy = other_xy
        o_in = shapely.intersects_xy(geom, ox, oy)
        n_o = int(o_in.sum())
        n_o_near = int(_near(tree, ox[o_in], oy[o_in], float(distance_m)).sum())
        if n_o:
            o_share = n_o_near / n_o
            rel = ev_share / o_share if o_share > 0 else math.nan
            res = fisher_exact([[k, n_in - k], [n_o_near, n_o - n_o_near]], alternative="greater")
            odds, fisher_p = float(res.statistic), float(res.pvalue)

    d = f"{float(distance_m):g} m"
    finding = (
        f"{ev_share:.0%} of {n_in:,} VAWG-relevant crimes in the study area are within {d} of one of {len(vx):,} "
        f"NTE venues, an area covering {area_share:.1%} of it (location quotient {lq:.1f}, binomial {p_text(binom_p)}"
        " assuming uniform exposure)"
    )
    if other_xy is not None:
        finding += (
            f"; {o_share:.0%} of other crime is that near (VAWG {rel:.2f} times as concentrated, one-sided Fisher "
            f"{p_text(fisher_p)}), the better test because footfall also concentrates near venues."
        )
    else:
        finding += "; compare with other crime (other_events=) before concluding, as footfall also concentrates there."
    return VenueConcentration(
        distance_m=float(distance_m),
        n_venues=len(vx),
        n_events=n_in,
        n_events_near=k,
        n_events_outside=len(ex) - n_in,
        event_share=ev_share,
        study_area_km2=geom.area / 1e6,
        near_area_km2=near_area / 1e6,
        area_share=area_share,
        location_quotient=lq,
        binomial_p=binom_p,
        n_other=n_o,
        n_other_near=n_o_near,
        other_share=o_share,
        relative_share=rel,
        odds_ratio=odds,
        fisher_p=fisher_p,
        finding=finding,
    )
