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
    >>> events = read_events("out/avon-and-somerset/events.parquet")  # doctest: +SKIP
    >>> events.crs.to_epsg()  # doctest: +SKIP
    27700
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
    """Write ``obj`` as indented UTF-8 JSON."""
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
