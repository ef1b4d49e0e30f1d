"""Read and write the toolkit's files: GeoParquet events, quarantine, reconciliation; the one writer.

GeoParquet is written directly from Arrow with WKB point geometry built by
numpy (no shapely objects for millions of points), so it is fast and light;
:func:`geopandas.read_parquet` reads it back.

Every CSV/TSV the toolkit writes goes through :func:`write_csv`, which puts a
leading ``'`` before any string cell a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@``, tab, CR; OWASP); :func:`restore_cells` gives the
original back. Every command writes through :func:`atomic_dir` (a folder) or
:func:`atomic_files` (single files): outputs are staged beside the target,
a completion record is written last, and the result is swapped into place,
so a failed or killed run leaves the previous output untouched.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import hashlib
import json
import os
import secrets
import shutil
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from hotspots.errors import InputFileError, OutputError, ParameterError, SaferSpacesError
from hotspots.kde import KDEResult

__all__ = [
    "read_points",
    "write_raster",
    "points_to_wkb",
    "write_points_geoparquet",
    "read_events",
    "events_to_frame",
    "write_ingest_outputs",
    "write_json",
    "write_csv",
    "write_files",
    "write_dbscan",
    "Content",
    "neutralise_cells",
    "neutralise_frame",
    "restore_cells",
    "FORMULA_LEADING",
    "atomic_dir",
    "atomic_files",
    "check_output_dir",
    "check_output_files",
    "is_complete_output",
    "verify_output",
    "config_sha256",
    "OutputWriteError",
    "RUN_RECORD",
    "note_stop_request",
    "stop_requested",
]

_STOP = threading.Event()


def note_stop_request() -> None:
    """Record that this process was asked to stop (Ctrl-C, SIGTERM): no output is swapped in after this.

    A signal handler raises an exception in whatever the main thread is doing;
    if that is a finaliser or a library's broad ``except``, the exception can be
    swallowed and the run would go on to finish. :func:`atomic_dir` checks this
    flag as its last step, so an interrupted run never replaces an output.
    """
    _STOP.set()


def stop_requested() -> bool:
    """True once :func:`note_stop_request` was called in this process."""
    return _STOP.is_set()


def _stop_if_requested() -> None:
    """The last check before an output is swapped in: a stop whose exception was swallowed still stops."""
    if stop_requested():
        raise KeyboardInterrupt

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


def _private_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing folder above it, each mode 0700 whatever the umask."""
    missing = [d for d in (folder, *folder.parents) if not d.exists()]
    for d in reversed(missing):
        d.mkdir(mode=PRIVATE_DIR)
        os.chmod(d, PRIVATE_DIR)


def write_ingest_outputs(result, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``events.parquet``, ``quarantine.csv`` and ``reconciliation.json`` to ``out_dir`` (files 0600).

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
    _private_dirs(out)
    paths = {
        "events": write_points_geoparquet(result.events, out / "events.parquet"),
        "quarantine": out / "quarantine.csv",
        "reconciliation": write_json(result.reconciliation, out / "reconciliation.json"),
    }
    write_csv(result.quarantine, paths["quarantine"])
    for p in paths.values():  # row-level data: for this user only, whatever the umask
        os.chmod(p, PRIVATE_FILE)
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
    ParameterError
        A ``crs`` pyproj does not know.

    Examples
    --------
    >>> pts = read_points("tests/fixtures/qgis_kde/points.csv")
    >>> len(pts), pts.crs.to_epsg(), {"x", "y"} <= set(pts.columns)
    (235, 27700, True)
    """
    import geopandas as gpd
    import pandas as pd
    from pyproj import CRS
    from pyproj.exceptions import CRSError

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
        raise InputFileError(str(path), f"cannot be read ({type(exc).__name__})", "check it opens in QGIS") from None
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
    try:
        use_crs = CRS.from_user_input(crs or ("EPSG:4326" if geographic else "EPSG:27700"))
    except CRSError:
        problem = f"--crs {crs!r}: not a CRS pyproj knows"
        raise ParameterError(f"{problem}. Fix: give an EPSG code such as EPSG:27700") from None
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


# --------------------------------------------------------------------------------------------
# Spreadsheet-safe tabular writer
# --------------------------------------------------------------------------------------------

#: A cell a spreadsheet would read as a formula: ``=``, ``+``, ``-``, ``@``, tab or CR first, after any
#: quotes already added (so neutralising is one-to-one and :func:`restore_cells` recovers the original).
FORMULA_LEADING = r"^'*[=+\-@\t\r]"
_NEUTRALISED = r"^'+[=+\-@\t\r]"


def neutralise_cells(values):
    """Prefix ``'`` to every string cell a spreadsheet would run as a formula (OWASP CSV injection).

    A cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return
    (after any leading ``'``) gets one more leading ``'``; every other value,
    non-string values included, is unchanged. The mapping is one-to-one, so
    :func:`restore_cells` gives the original back exactly.

    Parameters
    ----------
    values : pandas.Series or pyarrow.Array or pyarrow.ChunkedArray
        A column. Numeric columns are returned unchanged (a negative number is
        not a formula); categorical and dictionary columns are neutralised in
        their categories.

    Returns
    -------
    Same type as ``values``.

    Examples
    --------
    >>> import pandas as pd
    >>> neutralise_cells(pd.Series(["=1+1", "-2+3", "Bar", "'@x", None, 5], dtype=object)).tolist()
    ["'=1+1", "'-2+3", 'Bar', "''@x", None, 5]
    >>> neutralise_cells(pa.array(["+cmd", "ok"])).to_pylist()
    ["'+cmd", 'ok']
    """
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return _neutralise_arrow(values)
    return _neutralise_pandas(values)


def restore_cells(values):
    """Undo :func:`neutralise_cells`: drop one leading ``'`` before a formula character.

    Parameters
    ----------
    values : pandas.Series
        A column read back from a CSV written by :func:`write_csv`.

    Returns
    -------
    pandas.Series

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series(["=1+1", "-2", "''@x", "plain", "'quoted"])
    >>> restore_cells(neutralise_cells(s)).tolist() == s.tolist()
    True
    """
    import pandas as pd

    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = values.cat.categories
        return values.cat.rename_categories(restore_cells(pd.Series(cats, dtype=object)).to_numpy())
    try:
        mask = values.str.match(_NEUTRALISED, na=False).to_numpy(bool)
    except AttributeError:  # not a string column
        return values
    if not mask.any():
        return values
    out = values.copy()
    out[mask] = values[mask].str.slice(1)
    return out


def _neutralise_pandas(s):
    import pandas as pd

    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        if cats.dtype.kind not in "OSU" and not isinstance(cats.dtype, pd.StringDtype):
            return s
        return s.cat.rename_categories(_neutralise_pandas(pd.Series(cats, dtype=object)).to_numpy())
    if s.dtype.kind != "O" and not isinstance(s.dtype, pd.StringDtype):
        return s
    try:
        mask = s.str.match(FORMULA_LEADING, na=False).to_numpy(bool)
    except AttributeError:  # an object column without strings (lists, bytes): nothing a spreadsheet runs
        return s
    if not mask.any():
        return s
    out = s.copy()
    out[mask] = "'" + s[mask]
    return out


def _neutralise_arrow(arr):
    import pyarrow.compute as pc

    t = arr.type
    if pa.types.is_dictionary(t):
        if isinstance(arr, pa.ChunkedArray):
            return pa.chunked_array([_neutralise_arrow(c) for c in arr.chunks], type=t)
        return pa.DictionaryArray.from_arrays(arr.indices, _neutralise_arrow(arr.dictionary))
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        return arr
    mask = pc.match_substring_regex(arr, FORMULA_LEADING)
    if not pc.any(mask).as_py():
        return arr
    quoted = pc.binary_join_element_wise(pa.scalar("'", t), arr, pa.scalar("", t))
    return pc.if_else(mask, quoted, arr)


def neutralise_frame(data):
    """Neutralise every string column of a DataFrame or Arrow table, and the column names.

    Examples
    --------
    >>> import pandas as pd
    >>> neutralise_frame(pd.DataFrame({"name": ["@SUM(A1)"], "n": [-1]})).to_dict("list")
    {'name': ["'@SUM(A1)"], 'n': [-1]}
    """
    if isinstance(data, pa.Table):
        cols = [_neutralise_arrow(c) for c in data.columns]
        names = _neutralise_pandas(_names_series(data.column_names)).tolist()
        return pa.Table.from_arrays(cols, names=names)
    out = data.copy(deep=False)
    for i in range(out.shape[1]):
        out.isetitem(i, _neutralise_pandas(out.iloc[:, i]))
    out.columns = _neutralise_pandas(_names_series([str(c) for c in out.columns])).tolist()
    return out


def _write_arrow_csv(table: pa.Table, path: Path, *, sep: str, compresslevel: int, rows: int = 65_536) -> None:
    """Arrow table to CSV batch by batch: the neutralised copy is one batch, never the whole table."""
    import gzip

    names = _neutralise_pandas(_names_series(table.column_names)).tolist()
    schema = pa.schema([f.with_name(n) for f, n in zip(table.schema, names, strict=True)])
    options = pacsv.WriteOptions(quoting_style="needed", delimiter=sep)
    with open(path, "wb") as fh, contextlib.ExitStack() as stack:
        sink: Any = fh
        if path.name.lower().endswith(".gz"):
            gz = gzip.GzipFile(filename="", mode="wb", fileobj=fh, compresslevel=compresslevel, mtime=0)
            sink = stack.enter_context(gz)
        with pacsv.CSVWriter(sink, schema, write_options=options) as writer:
            for batch in table.to_batches(max_chunksize=rows):
                cols = [_neutralise_arrow(c) for c in batch.columns]
                writer.write_batch(pa.RecordBatch.from_arrays(cols, schema=schema))


def _any_cr(df) -> bool:
    import pandas as pd

    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = pd.Series(col.cat.categories, dtype=object)
        if col.dtype.kind == "O" or isinstance(col.dtype, pd.StringDtype):
            try:
                if col.str.contains("\r", regex=False, na=False).any():
                    return True
            except AttributeError:
                continue
    return False


def _names_series(names):
    import pandas as pd

    return pd.Series(list(names), dtype=object)


def write_csv(
    data, path: str | os.PathLike, *, sep: str = ",", float_format: str | None = None, compresslevel: int = 6
) -> Path:
    """Write a table as CSV (or TSV), spreadsheet-safe: the one writer for the toolkit's tabular outputs.

    Every string cell (and column name) that a spreadsheet would run as a
    formula gets a leading ``'`` (:func:`neutralise_cells`); numbers stay
    numbers. ``.gz`` paths are gzipped with ``mtime=0`` so the same table
    gives the same bytes. The index of a DataFrame is not written.

    Parameters
    ----------
    data : pandas.DataFrame or pyarrow.Table
    path : path
        ``.csv``, ``.tsv`` or either with ``.gz``. The folder must exist.
    sep : str, default ","
        Field separator (a tab for TSV; chosen by itself for ``.tsv``).
    float_format : str, optional
        As :meth:`pandas.DataFrame.to_csv` (DataFrames only).
    compresslevel : int, default 6
        gzip level for ``.gz`` paths.

    Returns
    -------
    Path

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> p = write_csv(pd.DataFrame({"name": ['=HYPERLINK("http://x")'], "n": [-2]}), f"{tempfile.mkdtemp()}/v.csv")
    >>> print(p.read_text(), end="")
    name,n
    "'=HYPERLINK(""http://x"")",-2
    """
    import gzip

    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".tsv"):
        sep = "\t"
    if isinstance(data, pa.Table):
        _write_arrow_csv(data, path, sep=sep, compresslevel=compresslevel)
        return path
    safe = neutralise_frame(data)
    # Python's csv quotes a field only for characters of the line terminator: a lone CR inside a cell
    # would be written bare (and split the row for most readers) unless the terminator holds one
    eol = "\r\n" if _any_cr(safe) else "\n"
    if path.name.lower().endswith(".gz"):  # one write: a flush mid-stream would change the bytes of a same table
        text = safe.to_csv(index=False, sep=sep, lineterminator=eol, float_format=float_format).encode("utf-8")
        with (
            open(path, "wb") as fh,
            gzip.GzipFile(filename="", mode="wb", fileobj=fh, compresslevel=compresslevel, mtime=0) as gz,
        ):
            gz.write(text)
        return path
    with open(path, "w", encoding="utf-8", newline="") as out:  # streamed: no copy of the whole CSV in memory
        safe.to_csv(out, index=False, sep=sep, lineterminator=eol, float_format=float_format)
    return path


def write_dbscan(labels, clusters, points, paths: Sequence[str | os.PathLike]) -> list[Path]:
    """Write DBSCAN labels and cluster hulls (the ``dbscan`` command's outputs); the first path picks the format.

    ``.csv``: labels as CSV (:func:`write_csv`) and hulls as GeoJSON (WGS84) at
    ``paths[1]``; ``.parquet``: labels with the points' geometry as
    GeoParquet and hulls at ``paths[1]``; ``.gpkg``: one GeoPackage with the
    layers ``points`` and ``clusters``.

    Parameters
    ----------
    labels : DataFrame
        :func:`hotspots.clustering.dbscan` labels (one row per point).
    clusters : GeoDataFrame
        Its cluster hulls.
    points : GeoDataFrame
        The points clustered (geometry and CRS of the labels).
    paths : sequence of path
        Output files.

    Returns
    -------
    list of Path
    """
    import geopandas as gpd

    out = [Path(p) for p in paths]
    suffix = out[0].suffix.lower()
    if suffix == ".csv":
        write_csv(labels[[c for c in labels.columns if c != "geometry"]], out[0])
        clusters.to_crs("EPSG:4326").to_file(out[1], driver="GeoJSON")
        return out
    g = gpd.GeoDataFrame(labels, geometry=points.geometry, crs=points.crs) if "geometry" not in labels else labels
    if suffix == ".parquet":
        g.to_parquet(out[0])
        clusters.to_parquet(out[1])
    else:
        g.to_file(out[0], layer="points")
        clusters.to_file(out[0], layer="clusters")
    return out


# --------------------------------------------------------------------------------------------
# The one writer: content keyed by relative path (renderers return it, this writes it)
# --------------------------------------------------------------------------------------------

#: What a renderer returns per output path: text (UTF-8), bytes, a table (the suffix picks the format:
#: ``.csv``/``.tsv`` spreadsheet-safe, ``.parquet``, ``.geojson``) or a raster (``.tif``, with ``.tif.json``).
Content: TypeAlias = "bytes | str | pd.DataFrame | KDEResult"
_TABLE_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".parquet", ".geojson")


def _relative_output(name: str) -> PurePosixPath:
    """``name`` as a relative POSIX path inside the output folder; refuse absolute paths and ``..``."""
    rel = PurePosixPath(str(name).replace("\\", "/"))
    if not str(name) or rel.is_absolute() or ".." in rel.parts or rel == PurePosixPath("."):
        raise ParameterError(
            f"output name {name!r}: must be a relative path inside the output folder (no '..', not absolute). "
            "Fix: name outputs like 'figures/trend.png'"
        )
    return rel


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    name = path.name.lower()
    if name.endswith((".csv", ".tsv", ".csv.gz", ".tsv.gz")):
        write_csv(frame, path)
    elif name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    elif name.endswith(".geojson"):
        if not hasattr(frame, "to_file"):
            raise ParameterError(f"{path.name}: a .geojson output needs a GeoDataFrame (with a CRS)")
        frame.to_file(path, driver="GeoJSON")  # type: ignore[operator]
    else:
        raise ParameterError(f"{path.name}: a table is written as one of {', '.join(_TABLE_SUFFIXES)}")


def write_files(folder: str | os.PathLike, files: Mapping[str, Any]) -> dict[str, Path]:
    """Write every output of a run into ``folder`` (the staging folder of :func:`atomic_dir`).

    Renderers return content keyed by relative output path; this is the only
    place it becomes files. The type of the content and the suffix of its
    name choose the writer:

    ========================= =====================================================
    ``str``                   UTF-8 text (HTML, JSON, ...)
    ``bytes``                 as given (PNG, PDF, ...)
    ``DataFrame`` ``.csv``    :func:`write_csv` (spreadsheet formulas neutralised)
    ``DataFrame`` ``.parquet`` Parquet (GeoParquet for a GeoDataFrame)
    ``GeoDataFrame`` ``.geojson`` GeoJSON
    ``KDEResult`` ``.tif``    :func:`write_raster` (GeoTIFF and ``<name>.json``)
    ========================= =====================================================

    Files are private (mode 0600) and folders 0700, whatever the umask.

    Parameters
    ----------
    folder : path
        An existing folder (normally the staging folder of :func:`atomic_dir`).
    files : mapping of str to content
        Relative POSIX paths (``"figures/trend.png"``) to content.

    Returns
    -------
    dict of str to Path
        Every file written (a raster's ``.json`` sidecar included), by relative name.

    Raises
    ------
    ParameterError
        An absolute name or one with ``..``; content of a type the writer does
        not know, or a suffix that does not fit it.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> out = write_files(d, {"a/b.txt": "hello", "t.csv": pd.DataFrame({"name": ["=1+1"]})})
    >>> sorted(out), (d / "t.csv").read_text().splitlines()[1], oct((d / "a" / "b.txt").stat().st_mode & 0o777)
    (['a/b.txt', 't.csv'], "'=1+1", '0o600')
    >>> write_files(d, {"../x.txt": "no"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hotspots.errors.ParameterError: output name '../x.txt': must be a relative path inside the output folder ...
    """
    root = Path(folder)
    plan = {str(name): _relative_output(name) for name in files}  # refuse bad names before writing anything
    written: dict[str, Path] = {}
    for name, rel in plan.items():
        content = files[name]
        path = root.joinpath(*rel.parts)
        _private_dirs(path.parent)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif isinstance(content, bytes | bytearray | memoryview):
            path.write_bytes(bytes(content))
        elif isinstance(content, pd.DataFrame):
            _write_table(content, path)
        elif isinstance(content, KDEResult):
            if not path.name.lower().endswith((".tif", ".tiff")):
                raise ParameterError(f"{name}: a raster is written as a .tif")
            write_raster(content, path)
            side = path.with_name(path.name + ".json")
            os.chmod(side, PRIVATE_FILE)
            written[name + ".json"] = side
        else:
            raise ParameterError(
                f"{name}: cannot write content of type {type(content).__name__} "
                "(give str, bytes, a DataFrame or a KDEResult)"
            )
        os.chmod(path, PRIVATE_FILE)
        written[name] = path
    return written


# --------------------------------------------------------------------------------------------
# Atomic runs: stage beside the target, completion record last, swap into place
# --------------------------------------------------------------------------------------------

RUN_RECORD = "run_complete.json"
#: Modes of what the atomic writers put in place: outputs may be OFFICIAL-SENSITIVE, so only the user reads them.
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_DENIED_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
_FAULT_ENV = "SAFER_SPACES_FAULT"  # test hook: kill this process at a named point (tests only)


class OutputWriteError(OutputError):
    """An atomic run's output folder could not be written (full disk, quota, read-only, no permission, too large).

    The same error as :class:`hotspots.errors.OutputError`, raised once staging has
    started; its message adds that nothing was written (the staging folder is gone).

    Parameters
    ----------
    folder : str
        Where the outputs were going.
    problem : str
        What went wrong.
    fix : str
        What the user should do.
    """

    def __init__(self, folder: str, problem: str, fix: str):
        super().__init__(str(folder), f"{problem}; nothing was written", fix)


def _fault(point: str) -> None:
    """Test hook: SIGKILL this process at ``point`` when ``SAFER_SPACES_FAULT`` names it."""
    if os.environ.get(_FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def config_sha256(config: Mapping | None) -> str | None:
    """SHA-256 of a config mapping in canonical JSON (sorted keys), or None.

    Examples
    --------
    >>> config_sha256({"b": 1, "a": [2]}) == config_sha256({"a": [2], "b": 1})
    True
    """
    if config is None:
        return None
    text = json.dumps(config, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _input_files(inputs: Sequence) -> list[Path]:
    files = []
    for p in inputs:
        p = Path(p)
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.is_file())
        elif p.exists():
            files.append(p)
    return files


def _inputs_record(inputs: Sequence) -> list[dict]:
    return [{"file": str(f), "size": f.stat().st_size, "sha256": _sha256_file(f)} for f in _input_files(inputs)]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("safer-spaces")
    except PackageNotFoundError:
        return "unknown"


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _output_failure(exc: BaseException) -> OSError | None:
    """The disk-full / read-only OSError behind ``exc`` (through causes and messages), or None."""
    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in _FULL_ERRNOS | _DENIED_ERRNOS:
            return e
        text = str(e)
        for code in _FULL_ERRNOS | {errno.EROFS}:
            if os.strerror(code) in text:
                return OSError(code, os.strerror(code))
        e = e.__cause__ or e.__context__
    return None


def _raise_output_error(folder: Path, err: OSError, exc: BaseException) -> NoReturn:
    if err.errno in _FULL_ERRNOS:
        problem = f"ran out of space writing the outputs ({os.strerror(err.errno or 0)})"
        fix = "free disk space or raise the quota/file-size limit, or give --out on a disk with room"
    elif err.errno == errno.EROFS:
        problem = "the folder is on a read-only file system"
        fix = "give --out in a writable folder"
    else:
        problem = f"no permission to write here ({os.strerror(err.errno or 0)})"
        fix = "give --out in a folder you can write to, or ask for write access"
    raise OutputWriteError(str(folder), problem, fix) from exc


@contextlib.contextmanager
def _writing(folder: Path, stage: Path | None = None):
    """Map an output-side OSError (disk full, read-only, denied) raised inside to :class:`OutputWriteError`."""
    try:
        yield
    except SaferSpacesError:
        raise
    except Exception as exc:
        err = _output_failure(exc)
        if err is None:
            raise
        name = getattr(err, "filename", None)
        # a denied *read* of an input is the user's path problem, not an output failure: leave it as it is
        if err.errno in _DENIED_ERRNOS and name and stage is not None and not _is_within(Path(name), folder):
            raise
        _raise_output_error(folder, err, exc)


def _is_within(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(folder))
        return True
    except ValueError:
        return False


@contextlib.contextmanager
def _signals_raise():
    """While staging, SIGTERM/SIGHUP unwind like an exception (so the staging area is removed)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        note_stop_request()
        raise SystemExit(128 + signum)

    old = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        old[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def is_complete_output(folder: str | os.PathLike) -> bool:
    """True when ``folder`` is a finished Safer Spaces output (it holds ``run_complete.json``).

    Examples
    --------
    >>> import tempfile
    >>> is_complete_output(tempfile.mkdtemp())
    False
    """
    return (Path(folder) / RUN_RECORD).is_file()


def verify_output(folder: str | os.PathLike) -> list[str]:
    """Check a finished output against its completion record; return the problems (empty when it is intact).

    Every file the record lists must be there with its size and SHA-256, and
    no other file may be present, so a mixture of two runs, a truncated file
    or a file added afterwards is found.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "out"
    >>> with atomic_dir(out, command="demo") as stage:
    ...     _ = (stage / "a.txt").write_text("hello")
    >>> verify_output(out)
    []
    >>> _ = (out / "a.txt").write_text("changed")
    >>> verify_output(out)
    ['a.txt: size or SHA-256 differs from run_complete.json']
    """
    folder = Path(folder)
    if not is_complete_output(folder):
        return [f"{RUN_RECORD} missing: not a finished Safer Spaces output"]
    try:
        rec = json.loads((folder / RUN_RECORD).read_text(encoding="utf-8"))
        listed = {o["file"]: (o["size"], o["sha256"]) for o in rec["outputs"]}
    except (ValueError, KeyError, TypeError):
        return [f"{RUN_RECORD} is not a valid completion record"]
    present = {o["file"]: (o["size"], o["sha256"]) for o in _outputs_record(folder)}
    problems = [f"{f}: listed in {RUN_RECORD} but missing" for f in sorted(set(listed) - set(present))]
    problems += [f"{f}: not listed in {RUN_RECORD}" for f in sorted(set(present) - set(listed))]
    problems += [
        f"{f}: size or SHA-256 differs from {RUN_RECORD}"
        for f in sorted(set(listed) & set(present))
        if listed[f] != present[f]
    ]
    return problems


def check_output_dir(target: str | os.PathLike) -> Path:
    """Refuse an output folder that cannot or must not be replaced; return it. Creates nothing.

    Refused (:class:`~hotspots.errors.ParameterError`): an existing file; a
    non-empty folder that is not a previous Safer Spaces output (no
    ``run_complete.json``), so a user's own folder is never deleted. A parent
    (or, when it does not exist yet, the nearest existing folder above it)
    that cannot be written raises :class:`OutputWriteError`. Call it before
    the first stage of a command so exit 2 means nothing was done.

    Examples
    --------
    >>> import tempfile
    >>> check_output_dir(f"{tempfile.mkdtemp()}/out").name
    'out'
    """
    given = target
    target = _output_path(target)
    if target.exists() and not target.is_dir():
        raise ParameterError(f"--out {given}: is a file, not a folder. Fix: give a new folder name for the outputs")
    if target.is_dir() and not is_complete_output(target) and any(target.iterdir()):
        raise ParameterError(
            f"--out {given}: folder is not empty and is not a Safer Spaces output (no {RUN_RECORD}); "
            "it is left alone. Fix: give a new or empty folder, or a previous output folder"
        )
    _probe_writable(target.parent, Path(given))
    return Path(given)


def _output_path(target: str | os.PathLike) -> Path:
    """The absolute output folder a run replaces: a symlink's own folder, never ``.``/``..``/``/`` by name."""
    p = Path(target)
    if p.is_symlink():
        p = Path(os.path.realpath(p))
    p = Path(os.path.abspath(p))
    if p.parent == p or p.name in ("", ".", ".."):
        raise ParameterError(f"--out {target}: not a folder a run can replace. Fix: give a named folder (--out out)")
    try:
        here = os.getcwd()
    except OSError:  # the current folder was removed: it cannot be inside the target
        here = None
    if here is not None and (here == str(p) or here.startswith(str(p) + os.sep)):
        raise ParameterError(
            f"--out {target}: is the current folder or holds it. Fix: run from outside it, or give another folder"
        )
    return p


def _probe_writable(parent: Path, target: Path) -> None:
    """Create and remove a hidden folder where the output's folder will be made: the real answer, up front.

    A missing parent is not created here (an error found later must leave
    nothing behind): the nearest existing folder above it is probed instead.
    """
    existing = parent
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise ParameterError(f"--out {target}: {existing} is a file, not a folder. Fix: give a path in a folder")
    probe = existing / f".safer-spaces-probe-{os.getpid()}-{secrets.token_hex(4)}"
    with _writing(existing):
        probe.mkdir()
        probe.rmdir()


def _recover(target: Path) -> None:
    """Finish or clean what a killed run left beside ``target`` (hidden staging/aside folders)."""
    parent = target.parent
    for leftover in parent.glob(f".{target.name}.partial-*"):
        pid = leftover.name.removeprefix(f".{target.name}.partial-").split("-")[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)
    for aside in parent.glob(f".{target.name}.old-*"):
        pid = aside.name.removeprefix(f".{target.name}.old-").split("-")[0]
        if pid.isdigit() and _pid_alive(int(pid)):
            continue
        if not target.exists() and is_complete_output(aside):
            os.rename(aside, target)  # killed between the two renames: put the previous output back
        else:
            shutil.rmtree(aside, ignore_errors=True)


def _rename_exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False when not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0


def _outputs_record(folder: Path) -> list[dict]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != RUN_RECORD)
    return [
        {"file": p.relative_to(folder).as_posix(), "size": p.stat().st_size, "sha256": _sha256_file(p)} for p in files
    ]


def _make_private(folder: Path) -> None:
    for p in folder.rglob("*"):
        if not p.is_symlink():
            os.chmod(p, PRIVATE_DIR if p.is_dir() else PRIVATE_FILE)


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            _fsync_path(p)
    for d in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        _fsync_path(d)
    _fsync_path(folder)


def _record(command: str, started: str, inputs: list[dict], config: Mapping | None, outputs: list[dict]) -> dict:
    return {
        "tool": "safer-spaces",
        "version": _version(),
        "command": command,
        "started_utc": started,
        "finished_utc": _now(),
        "inputs": inputs,
        "config_sha256": config_sha256(config),
        "outputs": outputs,
    }


@contextlib.contextmanager
def atomic_dir(
    target: str | os.PathLike, *, command: str, inputs: Sequence = (), config: Mapping | None = None
) -> Iterator[Path]:
    """Build a command's output folder in a hidden staging folder and swap it into place when complete.

    Yields a fresh folder beside ``target`` (same file system:
    ``.<name>.partial-<pid>-<random>``, mode 0700 whatever the umask, so the
    output is readable by its user only; every file in it is made 0600 and
    every folder 0700 before the swap). When the block ends normally the
    completion record ``run_complete.json`` is written last (tool version,
    command, start/finish times, SHA-256 of every input file, config hash,
    every output file with its size and SHA-256), everything is fsynced, and
    the folder replaces ``target`` (atomically where the system can swap two
    folders; otherwise the previous output is moved aside first and removed
    only once the new one is in place). On any exception, SIGTERM or SIGHUP
    the staging folder is removed and the previous output is left untouched;
    what a SIGKILL leaves is hidden and cleaned (or put back) by the next run.

    Parameters
    ----------
    target : path
        The output folder. Must not be a file, nor a non-empty folder that is
        not a previous Safer Spaces output.
    command : str
        The command line or command name, for the record.
    inputs : sequence of path
        Input files or folders (folders are hashed file by file).
    config : mapping, optional
        The effective configuration, hashed into the record.

    Yields
    ------
    Path
        The staging folder: write every output inside it.

    Raises
    ------
    ParameterError
        ``target`` is a file, or a non-empty folder that is not a Safer Spaces output.
    OutputWriteError
        Disk full, quota, file too large, read-only or denied (nothing left behind).

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "out"
    >>> with atomic_dir(out, command="demo") as stage:
    ...     _ = (stage / "a.txt").write_text("hello")
    >>> sorted(p.name for p in out.iterdir())
    ['a.txt', 'run_complete.json']
    >>> json.loads((out / "run_complete.json").read_text())["outputs"][0]["file"]
    'a.txt'
    """
    check_output_dir(target)
    target_abs = _output_path(target)
    parent = target_abs.parent
    _recover(target_abs)
    started = _now()
    input_rec = _inputs_record(inputs)
    staging = parent / f".{target_abs.name}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    with _writing(parent):
        parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir(mode=PRIVATE_DIR)
        os.chmod(staging, PRIVATE_DIR)  # whatever the umask: restricted outputs are for this user only
    try:
        with _signals_raise():
            with _writing(parent, staging):
                yield staging
                _fault("before_record")
                rec = _record(command, started, input_rec, config, _outputs_record(staging))
                (staging / RUN_RECORD).write_text(json.dumps(rec, indent=2) + "\n", encoding="utf-8")
                _make_private(staging)  # whichever writer made a file: this user only, whatever the umask
                _fsync_tree(staging)
                _fault("before_swap")
                _stop_if_requested()
                _swap_in(staging, target_abs)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_in(staging: Path, target: Path) -> None:
    if not target.exists():
        os.rename(staging, target)
    elif _rename_exchange(staging, target):
        shutil.rmtree(staging)  # now holds the previous output
    else:
        aside = target.parent / f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
        os.rename(target, aside)
        _fault("after_aside")
        os.rename(staging, target)
        shutil.rmtree(aside, ignore_errors=True)
    _fsync_path(target.parent)


def _temp_name(target: Path, token: str) -> Path:
    return target.parent / f".partial-{os.getpid()}-{token}-{target.name}"


def _check_output_file(target: Path) -> None:
    if target.is_dir():
        raise ParameterError(f"--out {target}: is a folder, not a file. Fix: give a file name for the output")
    parent = Path(os.path.abspath(target)).parent
    _probe_writable(parent, target)
    for leftover in parent.glob(f".partial-*-{target.name}"):
        pid = leftover.name.removeprefix(".partial-").split("-")[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            leftover.unlink(missing_ok=True)


def check_output_files(targets: Sequence) -> list[Path]:
    """Refuse output files that are folders or cannot be written; return them as paths. Creates nothing.

    Examples
    --------
    >>> import tempfile
    >>> [p.name for p in check_output_files([f"{tempfile.mkdtemp()}/s.tif"])]
    ['s.tif']
    """
    paths = [Path(t) for t in targets]
    for p in paths:
        _check_output_file(p)
    return paths


@contextlib.contextmanager
def atomic_files(
    targets: Sequence, *, command: str, inputs: Sequence = (), config: Mapping | None = None
) -> Iterator[list[Path]]:
    """Write a single-file command's outputs to hidden temporary files and rename them into place when done.

    Yields one temporary path beside each target
    (``.partial-<pid>-<random>-<name>``, so the name still ends as the
    target's and writers pick the format from it; a writer that derives a
    sidecar name from its path, such as ``surface.tif`` -> ``surface.tif.json``,
    lands on the sidecar's temporary path when both are targets). When the
    block ends normally the previous completion record is removed, every
    temporary file written is made private (mode 0600), fsynced and renamed
    onto its target (a target
    whose temporary file was not written is removed, so no stale output
    survives), and ``<first target>.complete.json`` is written last. On any
    exception the temporary files are removed and the previous outputs are
    left as they were.

    Parameters
    ----------
    targets : sequence of path
        Output files; the first names the completion record.
    command, inputs, config
        As :func:`atomic_dir`.

    Yields
    ------
    list of Path
        Temporary paths, in the order of ``targets``.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with atomic_files([d / "a.csv", d / "a.csv.json"], command="demo") as (a, side):
    ...     _ = a.write_text("x"); _ = side.write_text("{}")
    >>> sorted(p.name for p in d.iterdir())
    ['a.csv', 'a.csv.complete.json', 'a.csv.json']
    """
    paths = [Path(os.path.abspath(p)) for p in check_output_files(targets)]
    if not paths:
        raise ParameterError("atomic_files: no output files given")
    started = _now()
    input_rec = _inputs_record(inputs)
    token = secrets.token_hex(4)
    temps = [_temp_name(p, token) for p in paths]
    record_path = paths[0].with_name(paths[0].name + ".complete.json")
    folder = paths[0].parent
    for d in {p.parent for p in paths}:
        with _writing(d):
            d.mkdir(parents=True, exist_ok=True)
    try:
        with _signals_raise():
            with _writing(folder, folder):
                yield temps
                done = [(t, p) for t, p in zip(temps, paths, strict=True) if t.exists()]
                for t, _ in done:
                    os.chmod(t, PRIVATE_FILE)
                    _fsync_path(t)
                _fault("before_swap")
                _stop_if_requested()
                record_path.unlink(missing_ok=True)
                for t, p in zip(temps, paths, strict=True):
                    if not t.exists():
                        p.unlink(missing_ok=True)
                outputs = [{"file": p.name, "size": t.stat().st_size, "sha256": _sha256_file(t)} for t, p in done]
                for t, p in done:
                    os.replace(t, p)
                rec = _record(command, started, input_rec, config, outputs)
                tmp_rec = _temp_name(record_path, token)
                tmp_rec.write_text(json.dumps(rec, indent=2) + "\n", encoding="utf-8")
                os.chmod(tmp_rec, PRIVATE_FILE)
                _fsync_path(tmp_rec)
                os.replace(tmp_rec, record_path)
                for d in {p.parent for p in paths}:
                    _fsync_path(d)
    except BaseException:
        for t in [*temps, _temp_name(record_path, token)]:
            if t.is_dir():
                shutil.rmtree(t, ignore_errors=True)
            else:
                t.unlink(missing_ok=True)
        raise
