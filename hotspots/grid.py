"""H3 gridding, and the one H3 adapter: no other module imports h3 or h3ronpy.

Points are indexed with h3ronpy (vectorised H3 v4 in Rust); counts are
grouped with pandas on integer cell ids. Cell ids are returned as H3 strings
(``"89195..."``), the form every H3 tool and QGIS plugin reads; the ``uint64``
form is for the array layer (:func:`cells_to_int`, :func:`cells_to_str`).
Every H3 operation the package needs (parse, format, resolution, k-ring
disks, centres, areas, polygons) is a function here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import h3
import h3ronpy
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from h3ronpy import ContainmentMode
from h3ronpy.vector import cells_to_coordinates, cells_to_wkb_polygons, coordinates_to_cells, geometry_to_cells
from numpy.typing import ArrayLike

from hotspots._kernels import _factorize_int64, _inexact, _snap_keys
from hotspots.errors import ParameterError

__all__ = [
    "H3_RESOLUTIONS",
    "latlng_to_cells",
    "events_to_cells",
    "boundary_to_cells",
    "cells_to_polygons",
    "cells_to_int",
    "cells_to_str",
    "cells_to_arrow",
    "cells_resolution",
    "is_cell",
    "check_resolution",
    "grid_disks",
    "cells_to_latlng",
    "cells_area_m2",
    "average_cell_area_km2",
    "unique_points",
    "snap_key",
]

H3_RESOLUTIONS = range(7, 12)


def check_resolution(resolution: int) -> int:
    """The resolution as an ``int`` after checking it is one the package grids at (7-11).

    Examples
    --------
    >>> check_resolution(9)
    9
    """
    if isinstance(resolution, bool) or int(resolution) != resolution or resolution not in H3_RESOLUTIONS:
        raise ParameterError(
            f"resolution must be an integer 7-11 (9: ~174 m edge; 10: ~66 m; 11: ~25 m); got {resolution!r}"
        )
    return int(resolution)


def latlng_to_cells(lat: np.ndarray, lng: np.ndarray, *, resolution: int = 9) -> np.ndarray:
    """H3 cells (``uint64``) of WGS84 points, vectorised.

    Parameters
    ----------
    lat, lng : ndarray of float, shape (n,)
        Degrees (EPSG:4326).
    resolution : int, default 9
        H3 resolution, 7-11.

    Returns
    -------
    ndarray of uint64, shape (n,)

    Raises
    ------
    ParameterError
        If the resolution is outside 7-11, or the values are not degrees.

    Examples
    --------
    >>> import numpy as np, h3
    >>> c = latlng_to_cells(np.array([51.3813]), np.array([-2.3590]), resolution=9)
    >>> h3.int_to_str(int(c[0])) == h3.latlng_to_cell(51.3813, -2.3590, 9)
    True
    """
    resolution = check_resolution(resolution)
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    lng = np.ascontiguousarray(lng, dtype=np.float64)
    if len(lat) != len(lng):
        raise ParameterError(f"lat and lng must have the same length; got {len(lat)} and {len(lng)}")
    if len(lat) and (np.nanmax(np.abs(lat)) > 90 or np.nanmax(np.abs(lng)) > 180):
        raise ParameterError(
            "lat/lng must be WGS84 degrees; got values beyond +-90/+-180 (metres from EPSG:27700?): "
            "pass the lat/lng columns, not x/y"
        )
    if not len(lat):
        return np.zeros(0, dtype=np.uint64)
    return np.asarray(coordinates_to_cells(lat, lng, resolution)).astype(np.uint64, copy=False)


def cells_to_arrow(cells: np.ndarray) -> pa.Array:
    """``uint64`` cells to an Arrow string array of H3 ids (no Python string per cell).

    Examples
    --------
    >>> cells_to_arrow(np.array([617439010317926399], dtype=np.uint64)).to_pylist()
    ['89195823077ffff']
    """
    if not len(cells):
        return pa.array([], type=pa.string())
    return pa.array(h3ronpy.cells_to_string(np.ascontiguousarray(cells, dtype=np.uint64)))


def cells_to_str(cells: np.ndarray) -> np.ndarray:
    """``uint64`` cells to H3's string form (lower-case hex), vectorised: an object array.

    Examples
    --------
    >>> cells_to_str(np.array([617439010317926399], dtype=np.uint64)).tolist()  # h3.int_to_str gives the same
    ['89195823077ffff']
    """
    if not len(cells):
        return np.array([], dtype=object)
    return cells_to_arrow(cells).to_numpy(zero_copy_only=False)



def cells_to_int(cells: ArrayLike | pa.Array) -> np.ndarray:
    """H3 cell strings to ``uint64``, vectorised; raises on an invalid id.

    Parameters
    ----------
    cells : array-like of str, or a pyarrow string array
        H3 cell ids. An Arrow array is parsed without a Python string per cell.

    Returns
    -------
    ndarray of uint64

    Raises
    ------
    ParameterError
        If an id is not an H3 cell.

    Examples
    --------
    >>> cells_to_int(["89195823077ffff"]).tolist()  # h3.str_to_int gives the same
    [617439010317926399]
    """
    arr: Any = cells if isinstance(cells, pa.Array) else np.asarray(cells, dtype=object)
    if not len(arr):
        return np.zeros(0, dtype=np.uint64)
    try:
        return np.asarray(h3ronpy.cells_parse(arr)).astype(np.uint64, copy=False)
    except ValueError as exc:
        raise ParameterError(f"not an H3 cell id: {exc}") from None


def is_cell(cells: ArrayLike) -> np.ndarray:
    """True where a value is an H3 cell id (str), vectorised; never raises.

    Examples
    --------
    >>> is_cell(["89195823077ffff", "not a cell", None]).tolist()
    [True, False, False]
    >>> is_cell(["89195823077ffff", 617439010317926399]).tolist()
    [True, False]
    """
    arr = np.asarray(cells, dtype=object)
    if not len(arr):
        return np.zeros(0, dtype=bool)
    try:
        text = pa.array(arr, type=pa.string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):  # numbers or objects among the ids: those are not cells
        is_str = np.frompyfunc(lambda v: isinstance(v, str), 1, 1)(arr).astype(bool)
        only_str = arr.copy()
        only_str[~is_str] = None
        text = pa.array(only_str, type=pa.string(), from_pandas=True)
    parsed = pa.array(h3ronpy.cells_parse(text, set_failing_to_invalid=True))
    return parsed.is_valid().to_numpy(zero_copy_only=False)


def cells_resolution(cells: np.ndarray) -> np.ndarray:
    """H3 resolution of each ``uint64`` cell.

    Examples
    --------
    >>> cells_resolution(cells_to_int(["89195823077ffff"])).tolist()
    [9]
    """
    if not len(cells):
        return np.zeros(0, dtype=np.uint8)
    return np.asarray(h3ronpy.cells_resolution(np.ascontiguousarray(cells, dtype=np.uint64)))


def grid_disks(cells: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells within ``k`` grid steps of each ``uint64`` cell (itself included), as a ragged array.

    Returns
    -------
    offsets : ndarray of int64, shape (n + 1,)
        Disk ``i`` is ``cells[offsets[i]:offsets[i + 1]]``.
    cells : ndarray of uint64
        The disks' cells, one disk after another, each disk's cells distinct.

    Examples
    --------
    >>> offsets, disk = grid_disks(cells_to_int(["89195823077ffff"]), 1)
    >>> offsets.tolist(), len(disk)
    ([0, 7], 7)
    """
    if not len(cells):
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    disks = pa.array(h3ronpy.grid_disk(np.ascontiguousarray(cells, dtype=np.uint64), k))
    offsets = disks.offsets.to_numpy().astype(np.int64, copy=False)
    flat = disks.flatten().to_numpy(zero_copy_only=False).astype(np.uint64, copy=False)
    return offsets - offsets[0], flat


def cells_to_latlng(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 centres (``lat``, ``lng`` in degrees) of ``uint64`` cells.

    Examples
    --------
    >>> lat, lng = cells_to_latlng(cells_to_int(["89195823077ffff"]))
    >>> bool(abs(lat[0] - 51.38) < 0.01 and abs(lng[0] + 2.36) < 0.01)
    True
    """
    if not len(cells):
        return np.zeros(0), np.zeros(0)
    coords = pa.table(cells_to_coordinates(np.ascontiguousarray(cells, dtype=np.uint64)))
    return coords.column("lat").to_numpy(), coords.column("lng").to_numpy()


def cells_area_m2(cells: np.ndarray) -> np.ndarray:
    """Exact area of each ``uint64`` cell in square metres (H3 cells vary a few per cent in size).

    Examples
    --------
    >>> 90_000 < float(cells_area_m2(cells_to_int(["89195823077ffff"]))[0]) < 120_000
    True
    """
    if not len(cells):
        return np.zeros(0)
    return np.asarray(h3ronpy.cells_area_m2(np.ascontiguousarray(cells, dtype=np.uint64)), dtype=float)


def events_to_cells(
    events: pd.DataFrame,
    *,
    resolution: int = 9,
    by: Sequence[str] = ("source", "month"),
    weight: str | None = None,
    lat_col: str = "lat",
    lng_col: str = "lng",
    cell_col: str | None = None,
) -> pd.DataFrame:
    """Count events per H3 cell, per group (source, month, ...).

    Parameters
    ----------
    events : DataFrame
        One row per event with WGS84 ``lat``/``lng`` columns.
    resolution : int, default 9
        H3 resolution, 7-11.
    by : sequence of str, default ("source", "month")
        Columns to count within (e.g. add ``"crime_type"``); empty for totals.
    weight : str, optional
        Numeric column to sum as ``weight`` (harm weight, say); rows with a
        missing weight count as 0 in ``weight`` and still count in ``count``.
    lat_col, lng_col : str
        Coordinate columns.
    cell_col : str, optional
        A column of H3 cell ids (str) already computed at ``resolution``
        (:func:`latlng_to_cells` + :func:`cells_to_str`): counted as given,
        without indexing ``lat``/``lng`` again (they need not be present).

    Returns
    -------
    DataFrame
        Columns ``h3_cell`` (str), the ``by`` columns, ``count`` (int64) and
        ``weight`` (float64, only when ``weight`` is given); one row per
        occupied (cell, group). ``count`` sums to ``len(events)``.

    Raises
    ------
    ParameterError
        On a missing column, a resolution outside 7-11, or ``cell_col``
        cells that are not H3 ids at ``resolution``.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"lat": [51.3813, 51.3813, 51.45], "lng": [-2.359, -2.359, -2.58],
    ...                    "source": "police_uk"})
    >>> events_to_cells(ev, by=["source"])["count"].tolist()
    [2, 1]
    >>> ev["h3_cell"] = cells_to_str(latlng_to_cells(ev["lat"].to_numpy(), ev["lng"].to_numpy(), resolution=9))
    >>> events_to_cells(ev[["h3_cell", "source"]], by=["source"], cell_col="h3_cell")["count"].tolist()
    [2, 1]
    """
    by = list(by)
    where = [cell_col] if cell_col is not None else [lat_col, lng_col]
    missing = [c for c in [*where, *by, *([weight] if weight else [])] if c not in events.columns]
    if missing:
        raise ParameterError(
            f"events has no column(s) {', '.join(missing)}; available: {', '.join(map(str, events.columns))}"
        )
    resolution = check_resolution(resolution)
    if cell_col is not None:
        if events[cell_col].isna().any():
            raise ParameterError(f"events[{cell_col!r}] has rows without a cell; drop them or grid them first")
        ints = cells_to_int(pa.array(events[cell_col], from_pandas=True, type=pa.string()))
        res = cells_resolution(ints)
        if len(res) and (res != resolution).any():
            raise ParameterError(
                f"events[{cell_col!r}] holds cells at resolution {int(res[res != resolution][0])}, not {resolution}; "
                "grid the events at one resolution"
            )
        codes, cell_values = pd.factorize(ints, sort=True)
        combined = codes.astype(np.int64)
    else:
        lat = np.ascontiguousarray(events[lat_col].to_numpy(dtype=np.float64))
        lng = np.ascontiguousarray(events[lng_col].to_numpy(dtype=np.float64))
        # index each distinct point once (police.uk rows share anonymised map points), then broadcast
        pt_codes, first = unique_points(lng, lat)
        ucells = latlng_to_cells(lat[first], lng[first], resolution=resolution)
        cell_codes, cell_values = pd.factorize(ucells, sort=True)
        combined = cell_codes[pt_codes].astype(np.int64)
    levels: list[tuple[int, pd.Index]] = []
    size = len(cell_values)
    for c in by:
        codes, values = _group_codes(events[c])
        combined *= len(values)
        combined += codes
        levels.append((len(values), values))
        size *= max(len(values), 1)
    if size <= max(4 * len(combined), 1 << 20):  # dense key space: count by bincount, no hashing
        dense = np.bincount(combined, minlength=size)
        groups = np.flatnonzero(dense)
        remap = np.zeros(size, dtype=np.int64)
        remap[groups] = np.arange(len(groups))
        inverse = remap[combined]
    else:
        inverse, groups = pd.factorize(combined, sort=True)
    out = {}
    rest = groups
    for (n, values), c in zip(reversed(levels), reversed(by), strict=True):
        rest, code = np.divmod(rest, n)
        out[c] = values.take(code)
    frame = pd.DataFrame({"h3_cell": cells_to_str(cell_values[rest].astype(np.uint64))})
    for c in by:
        frame[c] = out[c]
    frame["count"] = np.bincount(inverse, minlength=len(groups)).astype(np.int64)
    if weight:
        w = pd.to_numeric(events[weight], errors="coerce").fillna(0.0).to_numpy(dtype=np.float64)
        frame["weight"] = np.bincount(inverse, weights=w, minlength=len(groups))
    return frame


def _writable_f64(a: ArrayLike) -> np.ndarray:
    """Contiguous, writable float64 (pandas hands out read-only views): the kernels compile for one array type."""
    return np.require(a, dtype=np.float64, requirements=["C", "W"])


def snap_key(lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """int64 key of a point to 1e-6 degrees (police.uk's precision): stable across runs.

    Examples
    --------
    >>> int(snap_key(np.array([-2.359463]), np.array([51.381912]))[0])
    56552764977640537
    """
    return _snap_keys(_writable_f64(lng), _writable_f64(lat))


def _group_codes(col: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and sorted values of a grouping column (categoricals and periods without hashing)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cat = col.cat
        if not (cat.codes.to_numpy() < 0).any():
            order = np.argsort(cat.categories.to_numpy(dtype=object).astype(str), kind="stable")
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            return rank[cat.codes.to_numpy()], cat.categories[order]
    if isinstance(col.dtype, pd.PeriodDtype) and not col.isna().any():
        ords = col.array.asi8
        lo = ords.min() if len(ords) else 0
        span = (ords.max() - lo + 1) if len(ords) else 0
        if span <= 100_000:
            present = np.zeros(span, dtype=bool)
            present[ords - lo] = True
            used = np.flatnonzero(present)
            remap = np.zeros(span, dtype=np.int64)
            remap[used] = np.arange(len(used))
            periods = pd.PeriodIndex.from_ordinals(used + lo, freq=col.dtype.freq)  # type: ignore[attr-defined]  # pandas >= 2.2, not in pandas-stubs
            return remap[ords - lo], periods
    codes, values = pd.factorize(col, sort=True, use_na_sentinel=False)
    return codes.astype(np.int64), values


def unique_points(lng: np.ndarray, lat: np.ndarray, *, key: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct coordinate pairs: a code per point and the index of each pair's first point.

    police.uk snaps every crime to one of a fixed set of map points, so there
    are far fewer distinct points than rows; projecting or indexing the
    distinct points and broadcasting is exact and much faster. Pairs are keyed
    to 1e-6 degrees (police.uk's precision, :func:`snap_key`, or ``key`` when
    already computed) with a hash table, then checked for exact equality;
    points that differ below 1e-6 degrees get their own code.

    Examples
    --------
    >>> codes, first = unique_points(np.array([1.0, 2.0, 1.0]), np.array([5.0, 5.0, 5.0]))
    >>> codes.tolist(), first.tolist()
    ([0, 1, 0], [0, 1])
    """
    lng = _writable_f64(lng)
    lat = _writable_f64(lat)
    if not len(lng):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    codes, first = _factorize_int64(np.ascontiguousarray(snap_key(lng, lat) if key is None else key, dtype=np.int64))
    extra = _inexact(lng, lat, first, codes)
    if len(extra):  # sub-1e-6-degree differences (force RMS data): give them their own codes
        codes[extra] = len(first) + np.arange(len(extra))
        first = np.concatenate([first, extra])
    return codes, first


def boundary_to_cells(boundary, *, resolution: int = 9) -> np.ndarray:
    """Every H3 cell that intersects a boundary: the study area, not just occupied cells.

    Cells that only touch the edge are included, so every point inside the
    boundary falls in a returned cell (no holes, no lost edge events).

    Parameters
    ----------
    boundary : shapely Polygon/MultiPolygon or GeoSeries/GeoDataFrame
        The study area. A GeoSeries/GeoDataFrame is unioned and reprojected
        to WGS84; a bare shapely geometry must already be in WGS84 degrees.
    resolution : int, default 9
        H3 resolution, 7-11.

    Returns
    -------
    ndarray of str
        Sorted, unique H3 cell ids.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> cells = boundary_to_cells(box(-2.37, 51.37, -2.35, 51.39), resolution=9)
    >>> 20 < len(cells) < 60
    True
    """
    resolution = check_resolution(resolution)
    geom = boundary
    if hasattr(boundary, "crs"):
        if boundary.crs is None:
            raise ParameterError("boundary has no CRS; set it (e.g. .set_crs('EPSG:27700')) before gridding")
        series = boundary.geometry if hasattr(boundary, "geometry") else boundary
        geom = shapely.union_all(series.to_crs("EPSG:4326").to_numpy())
    if geom is None or shapely.is_empty(geom):
        raise ParameterError("boundary is empty; give the force or study-area polygon")
    xmin, ymin, xmax, ymax = shapely.bounds(geom)
    if max(abs(xmin), abs(xmax)) > 180 or max(abs(ymin), abs(ymax)) > 90:
        raise ParameterError(
            "boundary coordinates are not degrees (EPSG:27700 metres?); pass a GeoSeries with its CRS "
            "or reproject to EPSG:4326"
        )
    geom = shapely.make_valid(geom)
    parts = shapely.get_parts(geom)
    parts = parts[shapely.get_type_id(parts) == 3]  # polygons only
    if not len(parts):
        return np.array([], dtype=object)
    # cells whose centre is inside, plus the cells that cross the edge: those are within one step of a cell
    # holding a vertex of the edge densified to a quarter of a cell edge, and kept when they touch the area
    # (the cells of ContainmentMode.IntersectsBoundary, without testing every cell against every vertex)
    inner = np.concatenate(
        [np.asarray(geometry_to_cells(p, resolution, containment_mode=ContainmentMode.ContainsCentroid)) for p in parts]
    ).astype(np.uint64)
    area = shapely.MultiPolygon(list(parts)) if len(parts) > 1 else parts[0]
    step_deg = h3.average_hexagon_edge_length(resolution, unit="m") / 111_320.0 / 4
    xy = shapely.get_coordinates(shapely.segmentize(shapely.boundary(area), step_deg))
    _, disks = grid_disks(np.unique(latlng_to_cells(xy[:, 1], xy[:, 0], resolution=resolution)), 1)
    edge = np.setdiff1d(disks, inner)
    shapely.prepare(area)
    touching = edge[shapely.intersects(area, _polygons_wgs84(edge))] if len(edge) else edge
    return cells_to_str(np.union1d(inner, touching))


def average_cell_area_km2(resolution: int) -> float:
    """H3's published average area of a cell at ``resolution``, in km2 (cells vary a few per cent about it).

    Examples
    --------
    >>> round(average_cell_area_km2(9), 3)
    0.105
    """
    return float(h3.average_hexagon_area(check_resolution(resolution), unit="km^2"))


def _polygons_wgs84(cells: np.ndarray) -> np.ndarray:
    """Shapely hexagons (lng/lat degrees) of ``uint64`` cells."""
    if not len(cells):
        return np.array([], dtype=object)
    wkb = pa.array(cells_to_wkb_polygons(np.ascontiguousarray(cells, dtype=np.uint64))).to_numpy(zero_copy_only=False)
    return shapely.from_wkb(np.asarray(wkb, dtype=object))


def cells_to_polygons(cells, *, crs: str = "EPSG:4326"):
    """Hexagon polygons for H3 cell ids, as a GeoSeries.

    Parameters
    ----------
    cells : array-like of str
        H3 cell ids.
    crs : str, default "EPSG:4326"
        Output CRS (polygons are built in WGS84 and reprojected).

    Returns
    -------
    geopandas.GeoSeries

    Examples
    --------
    >>> import h3
    >>> poly = cells_to_polygons([h3.latlng_to_cell(51.38, -2.36, 9)])
    >>> poly.geom_type.tolist()
    ['Polygon']
    """
    import geopandas as gpd  # heavy: imported when polygons are asked for

    gs = gpd.GeoSeries(_polygons_wgs84(cells_to_int(cells)), crs="EPSG:4326")
    return gs if crs == "EPSG:4326" else gs.to_crs(crs)
