"""Read study-area boundaries (force, local authority) from common files.

GeoJSON, GeoPackage, Shapefile and GeoParquet are read with geopandas; a CSV
with a WKT column (``the_geom``, ``wkt`` or ``geometry``, as open-data portals
export) is read too, assumed WGS84 unless it has a ``crs`` argument.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import shapely

from hotspots.errors import InputFileError

__all__ = ["read_boundary"]

_WKT_COLUMNS = ("the_geom", "wkt", "geometry", "geom", "WKT")


def read_boundary(path: str | os.PathLike, *, crs: str = "EPSG:27700", csv_crs: str = "EPSG:4326"):
    """Read a boundary file as a GeoDataFrame in ``crs``.

    Parameters
    ----------
    path : path
        ``.geojson``, ``.gpkg``, ``.shp``, ``.parquet`` or ``.csv`` with WKT.
    crs : str, default "EPSG:27700"
        CRS of the result (British National Grid, metres).
    csv_crs : str, default "EPSG:4326"
        CRS of the WKT in a CSV (CSV has no CRS of its own).

    Returns
    -------
    geopandas.GeoDataFrame

    Raises
    ------
    InputFileError
        If the file is missing, unreadable, has no geometry or no CRS.

    Examples
    --------
    >>> gdf = read_boundary("data/boundaries/la/boundary_bristol.geojson")
    >>> gdf.crs.to_epsg()
    27700
    """
    import geopandas as gpd
    path = Path(path)
    if not path.exists():
        raise InputFileError(str(path), "boundary file not found", "check data.boundary in the config")
    if path.is_dir() and path.suffix.lower() not in (".gdb", ".shp"):
        raise InputFileError(str(path), "is a folder, not a boundary file", "give the .geojson, .gpkg or .shp file")
    try:
        if path.suffix.lower() == ".csv":
            df = pd.read_csv(path, dtype=str)
            col = next((c for c in _WKT_COLUMNS if c in df.columns), None)
            if col is None:
                raise InputFileError(
                    str(path),
                    f"CSV has no WKT geometry column (looked for {', '.join(_WKT_COLUMNS)})",
                    "export the boundary as GeoJSON or GeoPackage, or add a WKT column",
                )
            geom = shapely.from_wkt(df[col].to_numpy(), on_invalid="ignore")
            gdf = gpd.GeoDataFrame(df.drop(columns=[col]), geometry=geom, crs=csv_crs)
        elif path.suffix.lower() == ".parquet":
            gdf = gpd.read_parquet(path)
        else:
            gdf = gpd.read_file(path)
    except InputFileError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # a damaged or foreign file: say so plainly (the type only: messages may quote data)
        raise InputFileError(
            str(path), f"cannot be read as a boundary ({type(exc).__name__})", "check the file opens in QGIS"
        ) from None
    if "geometry" not in gdf or not hasattr(gdf, "crs"):
        raise InputFileError(str(path), "has no geometry column", "export the boundary as GeoJSON or GeoPackage")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if gdf.empty:
        raise InputFileError(str(path), "has no polygon geometry", "check the file opens in QGIS")
    if gdf.crs is None:
        raise InputFileError(str(path), "has no CRS", "set the CRS in QGIS (Layer > Set CRS) and save again")
    try:
        gdf = gdf.to_crs(crs)
    except Exception as exc:  # pyproj: a CRS it cannot transform from
        raise InputFileError(
            str(path), f"its CRS cannot be converted to {crs} ({type(exc).__name__})", "save it in EPSG:27700 or 4326"
        ) from None
    gdf["geometry"] = shapely.make_valid(gdf.geometry.to_numpy())
    return gdf
