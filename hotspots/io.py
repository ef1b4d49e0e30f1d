"""Read and write the toolkit's files: GeoParquet events, quarantine, reconciliation.

GeoParquet is written directly from Arrow with WKB point geometry built by
numpy (no shapely objects for millions of points), so it is fast and light;
:func:`geopandas.read_parquet` reads it back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = [
    "read_points",
    "write_raster",
    "points_to_wkb",
    "write_points_geoparquet",
    "read_events",
    "events_to_frame",
    "write_ingest_outputs",
    "write_json",
]

_WKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])


def points_to_wkb(x: np.ndarray, y: np.ndarray) -> pa.BinaryArray:
    """Little-endian WKB points as an Arrow binary array, built without Python loops.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> wkb = points_to_wkb(np.array([1.0]), np.array([2.0]))
    >>> shapely.from_wkb(wkb[0].as_py()).wkt
    'POINT (1 2)'
    """
    n = len(x)
    rec = np.empty(n, dtype=_WKB_POINT)
    rec["order"] = 1
    rec["type"] = 1
    rec["x"] = x
    rec["y"] = y
    offsets = np.arange(0, 21 * (n + 1), 21, dtype=np.int32)
    return pa.BinaryArray.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(rec.tobytes())])


def _geo_metadata(crs: str, bbox: list[float], geometry_types: list[str]) -> bytes:
    from pyproj import CRS

    meta = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": geometry_types,
                "crs": CRS.from_user_input(crs).to_json_dict(),
                "bbox": bbox,
            }
        },
    }
    return json.dumps(meta).encode()


def write_points_geoparquet(
    table: pa.Table, path: str | os.PathLike, *, x_col: str = "x", y_col: str = "y", crs: str = "EPSG:27700"
) -> Path:
    """Write ``table`` as GeoParquet with a point geometry from two coordinate columns.

    Parameters
    ----------
    table : pyarrow.Table
        Must hold ``x_col`` and ``y_col``.
    path : path
        Output ``.parquet`` file.
    x_col, y_col : str
        Coordinate columns (in ``crs``).
    crs : str, default "EPSG:27700"
        CRS of the coordinates, stored as PROJJSON.

    Returns
    -------
    Path

    Examples
    --------
    >>> import geopandas as gpd, tempfile
    >>> t = pa.table({"x": [375000.0], "y": [164000.0]})
    >>> p = write_points_geoparquet(t, f"{tempfile.mkdtemp()}/p.parquet")
    >>> gpd.read_parquet(p).crs.to_epsg()
    27700
    """
    path = Path(path)
    x = table[x_col].to_numpy()
    y = table[y_col].to_numpy()
    geom = points_to_wkb(x, y)
    bbox = [float(x.min()), float(y.min()), float(x.max()), float(y.max())] if len(x) else []
    out = table.append_column("geometry", geom)
    meta = dict(out.schema.metadata or {})
    meta[b"geo"] = _geo_metadata(crs, bbox, ["Point"])
    out = out.replace_schema_metadata(meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(out, path, compression="zstd")
    return path


def events_to_frame(table: pa.Table, columns: list[str] | None = None):
    """Arrow events to pandas, fast: ``month`` becomes ``period[M]`` without boxing each value.

    Parameters
    ----------
    table : pyarrow.Table
        Events as returned by an ingest (or read from ``events.parquet``).
    columns : list of str, optional
        Subset to convert.

    Returns
    -------
    pandas.DataFrame
        Dictionary columns become categoricals.

    Examples
    --------
    >>> from hotspots.ingest.police_uk import read_police_uk
    >>> res = read_police_uk(["data/policeuk/avon-and-somerset/2023-01"])
    >>> str(events_to_frame(res.events, ["month", "crime_type"])["month"].dtype)
    'period[M]'
    """
    import pandas as pd

    if columns is not None:
        table = table.select(columns)
    month = None
    if "month" in table.column_names and isinstance(table.schema.field("month").type, pa.ExtensionType):
        storage = pa.chunked_array([c.storage for c in table["month"].chunks], pa.int64())
        month = storage.to_numpy()
        table = table.drop_columns(["month"])
    df = table.to_pandas(split_blocks=True)  # no consolidation copy of numeric columns
    if month is not None:
        pos = columns.index("month") if columns is not None else None
        arr = pd.arrays.PeriodArray(month, dtype=pd.PeriodDtype("M"))
        if pos is None or pos >= len(df.columns):
            df["month"] = arr
        else:
            df.insert(pos, "month", arr)
    return df


def read_events(path: str | os.PathLike, *, columns: list[str] | None = None):
    """Read an ``events.parquet`` written by the ingest into a GeoDataFrame (EPSG:27700).

    ``month`` comes back as ``period[M]``; dictionary columns as categoricals.

    Examples
    --------
    >>> import tempfile
    >>> from hotspots.ingest.police_uk import read_police_uk
    >>> out = tempfile.mkdtemp()
    >>> _ = write_ingest_outputs(read_police_uk(["data/policeuk/avon-and-somerset/2023-01"]), out)
    >>> events = read_events(f"{out}/events.parquet")
    >>> events.crs.to_epsg(), str(events["month"].dtype), len(events)
    (27700, 'period[M]', 11808)
    """
    import geopandas as gpd
    import shapely
    from pyproj import CRS

    cols = None if columns is None else [c for c in columns if c != "geometry"] + ["geometry"]
    table = pq.read_table(path, columns=cols)
    meta = json.loads((table.schema.metadata or {}).get(b"geo", b"{}") or b"{}")
    crs = meta.get("columns", {}).get("geometry", {}).get("crs")
    geom = shapely.from_wkb(table["geometry"].to_numpy())
    df = events_to_frame(table.drop_columns(["geometry"]))
    return gpd.GeoDataFrame(df, geometry=geom, crs=CRS.from_json_dict(crs) if crs else None)


def write_json(obj: dict, path: str | os.PathLike) -> Path:
    """Write ``obj`` as indented UTF-8 JSON.

    Examples
    --------
    >>> import tempfile
    >>> json.loads(write_json({"a": 1}, f"{tempfile.mkdtemp()}/a.json").read_text())
    {'a': 1}
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def write_ingest_outputs(result, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``events.parquet``, ``quarantine.csv`` and ``reconciliation.json`` to ``out_dir``.

    Parameters
    ----------
    result : IngestResult
        From :func:`hotspots.ingest.police_uk.read_police_uk`.
    out_dir : path
        Created if missing.

    Returns
    -------
    dict
        Paths written, by kind.

    Examples
    --------
    >>> import tempfile
    >>> from hotspots.ingest.police_uk import read_police_uk
    >>> paths = write_ingest_outputs(read_police_uk(["data/policeuk/avon-and-somerset/2023-01"]), tempfile.mkdtemp())
    >>> sorted(paths)
    ['events', 'quarantine', 'reconciliation']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "events": write_points_geoparquet(result.events, out / "events.parquet"),
        "quarantine": out / "quarantine.csv",
        "reconciliation": write_json(result.reconciliation, out / "reconciliation.json"),
    }
    pacsv.write_csv(result.quarantine, paths["quarantine"], pacsv.WriteOptions(quoting_style="needed"))
    return paths


def read_points(
    path: str | os.PathLike,
    *,
    x_col: str | None = None,
    y_col: str | None = None,
    crs: str | None = None,
):
    """Read points for the hotspot commands: CSV, GeoPackage/GeoJSON/Shapefile or (Geo)Parquet.

    Parameters
    ----------
    path : path
        The file. A CSV needs coordinate columns (``x``/``y``, ``lng``/``lat``
        or ``Longitude``/``Latitude`` are found by themselves).
    x_col, y_col : str, optional
        Coordinate columns (CSV or plain Parquet).
    crs : str, optional
        CRS of CSV coordinates. Default: EPSG:27700 for x/y, EPSG:4326 for
        longitude/latitude columns.

    Returns
    -------
    geopandas.GeoDataFrame
        With a CRS, and ``x``/``y`` columns in it when the CRS is projected.

    Raises
    ------
    InputFileError
        Missing file, unknown format, no coordinate columns, blank coordinates.

    Examples
    --------
    >>> pts = read_points("tests/fixtures/qgis_kde/points.csv")
    >>> len(pts), pts.crs.to_epsg(), {"x", "y"} <= set(pts.columns)
    (235, 27700, True)
    """
    import geopandas as gpd
    import pandas as pd

    from hotspots.errors import InputFileError

    path = Path(path)
    if not path.exists():
        raise InputFileError(str(path), "no such file", "check the path")
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    try:
        if suffix in (".csv", ".csv.gz", ".txt"):
            df = pd.read_csv(path)
        elif suffix == ".parquet":
            meta = pq.read_schema(path).metadata or {}
            df = gpd.read_parquet(path) if b"geo" in meta else pd.read_parquet(path)
        elif suffix in (".gpkg", ".geojson", ".json", ".shp", ".fgb"):
            df = gpd.read_file(path)
        else:
            raise InputFileError(
                str(path), f"unknown points format {suffix!r}", "give a .csv, .gpkg, .geojson or .parquet"
            )
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(
            str(path), f"cannot be read ({type(exc).__name__}: {exc})", "check it opens in QGIS"
        ) from None
    if isinstance(df, gpd.GeoDataFrame) and x_col is None:
        if df.crs is None:
            raise InputFileError(str(path), "has no CRS", "set the layer CRS in QGIS and save again")
        df = df[df.geometry.notna() & ~df.geometry.is_empty]
        if not df.crs.is_geographic:
            df = df.assign(x=df.geometry.x, y=df.geometry.y)
        return df
    pairs = (
        [(x_col, y_col)] if x_col else [("x", "y"), ("lng", "lat"), ("Longitude", "Latitude"), ("easting", "northing")]
    )
    found = next(((a, b) for a, b in pairs if a in df.columns and b in df.columns), None)
    if found is None:
        raise InputFileError(
            str(path),
            f"no coordinate columns ({' / '.join(f'{a},{b}' for a, b in pairs)})",
            "name them with --x-col and --y-col",
        )
    xs = pd.to_numeric(df[found[0]], errors="coerce")
    ys = pd.to_numeric(df[found[1]], errors="coerce")
    bad = xs.isna() | ys.isna()
    if bad.any():
        first = int(bad.to_numpy().nonzero()[0][0]) + 2
        raise InputFileError(
            str(path),
            f"{int(bad.sum()):,} rows have blank or non-numeric {found[0]}/{found[1]}",
            "remove them or ingest the file first (the ingest quarantines such rows)",
            line=first,
        )
    geographic = found[0].lower() in ("lng", "longitude", "lon")
    use_crs = crs or ("EPSG:4326" if geographic else "EPSG:27700")
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xs, ys), crs=use_crs)
    if not gdf.crs.is_geographic:
        gdf = gdf.assign(x=xs.to_numpy(float), y=ys.to_numpy(float))
    return gdf


def write_raster(result, path: str | os.PathLike) -> Path:
    """Write a :class:`hotspots.kde.KDEResult` as a Float32 GeoTIFF, with its parameters.

    The parameters go into the GeoTIFF tags (``safer_spaces_params``) and a
    JSON file beside it (``<path>.json``).

    Examples
    --------
    >>> import tempfile
    >>> from hotspots.kde import kde_array
    >>> res = kde_array(np.array([375000.0]), np.array([164000.0]), radius_m=100, pixel_m=50, crs="EPSG:27700")
    >>> write_raster(res, f"{tempfile.mkdtemp()}/k.tif").name
    'k.tif'
    """
    import rasterio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    d = result.density
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=d.shape[1],
        height=d.shape[0],
        count=1,
        dtype="float32",
        crs=result.crs,
        transform=result.transform,
        nodata=result.nodata,
        compress="deflate",
    ) as ds:
        ds.write(d.astype("float32"), 1)
        ds.update_tags(safer_spaces_params=json.dumps(result.params, default=str))
    write_json(result.params, path.with_suffix(path.suffix + ".json"))
    return path
