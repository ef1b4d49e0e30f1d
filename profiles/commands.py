"""What the single-purpose commands do (``ingest``, ``kde``, ``gistar``, ``dbscan``), as package functions.

Each function checks its options, reads its inputs and returns the content
the command writes (an ingest result, a raster, a table); the command line
(:mod:`profiles.cli`) only parses arguments, checks the output path, hands
the content to the writer inside an atomic write and prints counts. The app
and scripts call the same functions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from hotspots.boundaries import read_boundary
from hotspots.clustering import dbscan
from hotspots.config import Config
from hotspots.errors import ParameterError, require_memory
from hotspots.getis_ord import MAX_K, gi_star
from hotspots.grid import average_cell_area_km2, boundary_to_cells, events_to_cells
from hotspots.ingest.ae import read_ae
from hotspots.ingest.assets import read_assets
from hotspots.ingest.incidents import read_incidents
from hotspots.ingest.police_uk import IngestResult, read_police_uk
from hotspots.ingest.rms import read_rms
from hotspots.ingest.streetsafe import read_streetsafe
from hotspots.ingest.venues import read_venues
from hotspots.io import read_points
from hotspots.kde import KDEResult, kde

__all__ = [
    "INGEST_SOURCES",
    "read_source",
    "check_crs",
    "projected_points",
    "kde_surface",
    "check_gistar_options",
    "gistar_study_area",
    "gistar_cells",
    "permutation_cells_needed",
    "dbscan_targets",
    "dbscan_clusters",
]

#: ``ingest`` sources besides police-uk, with the help line of each
INGEST_SOURCES = {
    "rms": "force RMS crime export (columns mapped by [rms.columns] in --config)",
    "streetsafe": "StreetSafe report extract",
    "ae": "A&E assault extract (ISTV / Cardiff Model)",
    "venues": "NTE venues: Open Pubs, FSA hygiene ratings, licensing register, closing times",
    "cctv": "CCTV camera locations",
    "street-lights": "street light locations",
    "incidents": "partner incident log with date-times (default layout: Avon Fire & Rescue open data)",
}


def read_source(
    source: str,
    paths: Sequence[str | Path],
    *,
    cfg: Config | None = None,
    boundary: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> IngestResult:
    """Read one source's files with its reader (options from ``cfg`` where the config has them).

    Parameters
    ----------
    source : str
        ``police-uk`` or one of :data:`INGEST_SOURCES`.
    paths : sequence of path
        The files (police.uk: files or folders).
    cfg : Config, optional
        Force config whose column mapping and options to use.
    boundary : path, optional
        police.uk only: force boundary; events outside it are flagged.
    progress : bool, optional
        police.uk only: progress bars.

    Returns
    -------
    IngestResult
        Events, quarantine and reconciliation.

    Examples
    --------
    >>> res = read_source("police-uk", ["data/policeuk/avon-and-somerset/2023-01"], progress=False)
    >>> res.reconciliation["rows_read"] == res.reconciliation["rows_accepted"] + res.reconciliation["rows_quarantined"]
    True
    """
    if source == "police-uk":
        area = shapely.union_all(read_boundary(boundary).geometry.to_numpy()) if boundary else None
        return read_police_uk(paths, boundary=area, progress=progress)
    if source == "rms":
        r = cfg.rms if cfg else None
        return read_rms(
            paths,
            columns=r.columns if r else None,
            dayfirst=r.dayfirst if r else True,
            synthetic=r.synthetic if r else None,
        )
    if source == "streetsafe":
        s = cfg.streetsafe if cfg else None
        return read_streetsafe(
            paths,
            columns=s.columns if s else None,
            keep_demographics=s.keep_demographics if s else False,
            synthetic=s.synthetic if s else None,
        )
    if source == "ae":
        a = cfg.ae if cfg else None
        return read_ae(
            paths,
            columns=a.columns if a else None,
            dayfirst=a.dayfirst if a else True,
            synthetic=a.synthetic if a else None,
        )
    if source == "venues":
        return read_venues(paths)
    if source in ("cctv", "street-lights"):
        return read_assets(paths, kind=source.replace("-", "_"))
    if source == "incidents":
        return read_incidents(paths)
    raise ParameterError(f"unknown source {source!r}. Fix: give police-uk or one of {', '.join(INGEST_SOURCES)}")


def check_crs(crs: str | None) -> None:
    """Refuse a ``--crs`` pyproj does not know, before reading anything.

    Examples
    --------
    >>> check_crs("EPSG:27700")
    >>> check_crs("EPSG:99999999")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hotspots.errors.ParameterError: --crs 'EPSG:99999999' is not a coordinate reference system pyproj knows...
    """
    if not crs:
        return
    try:
        CRS.from_user_input(crs)
    except CRSError:
        raise ParameterError(
            f"--crs {crs!r} is not a coordinate reference system pyproj knows. Fix: give e.g. EPSG:27700 "
            "(British National Grid) or EPSG:4326 (longitude/latitude)"
        ) from None


def projected_points(
    points: str | os.PathLike,
    *,
    x_col: str | None = None,
    y_col: str | None = None,
    crs: str | None = None,
    metre_options: str,
) -> gpd.GeoDataFrame:
    """Read points whose options are in metres; refuse degrees with the fix.

    Parameters
    ----------
    points : path
    x_col, y_col, crs
        As :func:`hotspots.io.read_points`.
    metre_options : str
        The options in metres, for the message (``"--eps-m"``).

    Returns
    -------
    GeoDataFrame
        In a projected CRS, with ``x``/``y``.

    Examples
    --------
    >>> pts = projected_points("tests/fixtures/qgis_kde/points.csv", metre_options="--eps-m")
    >>> len(pts), pts.crs.to_epsg()
    (235, 27700)
    """
    check_crs(crs)
    pts = read_points(points, x_col=x_col, y_col=y_col, crs=crs)
    if pts.crs is not None and pts.crs.is_geographic:
        raise ParameterError(
            f"{points} is in {pts.crs.to_string()} (degrees) but {metre_options} are metres; reproject it "
            "to EPSG:27700 first (QGIS: Export > Save Features As, or ogr2ogr -t_srs EPSG:27700)"
        )
    return pts


def kde_surface(
    points: str | os.PathLike,
    *,
    pixel_m: float,
    radius_m: float | None = None,
    grid: str = "qgis",
    boundary: str | os.PathLike | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    crs: str | None = None,
    **options: Any,
) -> KDEResult:
    """The ``kde`` command: a kernel density surface of the points in a file.

    Parameters
    ----------
    points : path
        CSV, GeoPackage/GeoJSON or (Geo)Parquet of points in metres.
    pixel_m, radius_m : float
        Pixel size and kernel radius in metres.
    grid : {"qgis", "boundary"}
        The QGIS Heatmap grid, or a grid over ``boundary``.
    boundary : path, optional
        Needed for ``grid="boundary"``.
    x_col, y_col, crs
        As :func:`hotspots.io.read_points`.
    **options
        Passed to :func:`hotspots.kde.kde` (kernel, decay, output, weight, bandwidth, ...).

    Returns
    -------
    KDEResult

    Examples
    --------
    >>> res = kde_surface("tests/fixtures/qgis_kde/points.csv", radius_m=200, pixel_m=50)
    >>> res.params["n_points"], res.params["kernel"]
    (235, 'quartic')
    """
    if grid == "boundary" and not boundary:
        raise ParameterError("--grid boundary needs --boundary FILE (the force or study-area polygon)")
    pts = projected_points(points, x_col=x_col, y_col=y_col, crs=crs, metre_options="--radius-m/--pixel-m")
    area = read_boundary(boundary, crs=pts.crs.to_string()) if grid == "boundary" and boundary else None
    return kde(pts, radius_m=radius_m, pixel_m=pixel_m, boundary=area, **options)


def check_gistar_options(
    *, resolution: int, k: int, permutations: int, alpha: float, study_area: str, crs: str | None = None
) -> None:
    """Check the Gi* options that need no data, before reading anything.

    Examples
    --------
    >>> check_gistar_options(resolution=9, k=1, permutations=0, alpha=0.05, study_area="ring:1")
    >>> check_gistar_options(resolution=9, k=1, permutations=0, alpha=2, study_area="ring:1")
    Traceback (most recent call last):
    ...
    hotspots.errors.ParameterError: --alpha must be between 0 and 1 (e.g. 0.05); got 2
    """
    if not 0 <= resolution <= 15:
        raise ParameterError(f"--resolution must be an H3 resolution 0-15 (7-11 for Gi*); got {resolution}")
    if not 1 <= k <= MAX_K:
        raise ParameterError(
            f"--k must be 1 to {MAX_K} grid steps (1: the six touching cells); got {k}. Fix: for a wider "
            "neighbourhood use a coarser --resolution"
        )
    if permutations < 0:
        raise ParameterError(f"--permutations must be 0 or more (999 is usual); got {permutations}")
    if not 0 < alpha < 1:
        raise ParameterError(f"--alpha must be between 0 and 1 (e.g. 0.05); got {alpha}")
    ring = str(study_area).removeprefix("ring:")
    if str(study_area).startswith("ring:") and not (ring.isdigit() and 1 <= int(ring) <= MAX_K):
        raise ParameterError(
            f"--study-area {study_area!r}: K in ring:K must be 1 to {MAX_K}. Fix: use ring:1 (the cells touching "
            "an event), occupied, or a boundary file"
        )
    check_crs(crs)


def gistar_study_area(study_area: str) -> Path | None:
    """The boundary file a ``--study-area`` names, or None for ``occupied`` / ``ring:K``.

    Examples
    --------
    >>> gistar_study_area("ring:1"), gistar_study_area("force.geojson")
    (None, PosixPath('force.geojson'))
    """
    return None if study_area == "occupied" or str(study_area).startswith("ring:") else Path(study_area)


def _check_boundary_cells(boundary: gpd.GeoDataFrame, resolution: int) -> None:
    """Refuse a boundary study area whose H3 cells would not fit the memory budget (before listing them)."""
    area = float(boundary.to_crs("EPSG:27700").area.sum())
    cells = area / (average_cell_area_km2(resolution) * 1e6)
    require_memory(
        cells * 200,  # cell id, its string and its share of the k=1 weights
        what=f"the study area of about {cells:,.0f} H3 cells at resolution {resolution}",
        fix="use a coarser --resolution (each step coarser has 7 times fewer cells) or --study-area ring:1",
    )


def gistar_cells(
    points: str | os.PathLike,
    *,
    resolution: int = 9,
    study_area: str = "ring:1",
    k: int = 1,
    permutations: int = 0,
    alpha: float = 0.05,
    fdr: bool = True,
    seed: int | None = None,
    weight: str | None = None,
    lng_col: str | None = None,
    lat_col: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    crs: str | None = None,
) -> pd.DataFrame:
    """The ``gistar`` command: Getis-Ord Gi* on H3 cells of the points in a file.

    Parameters
    ----------
    points : path
        CSV, GeoPackage/GeoJSON or (Geo)Parquet of points.
    resolution, k, permutations, alpha, fdr, seed
        As :func:`hotspots.getis_ord.gi_star`.
    study_area : str
        ``occupied``, ``ring:K`` or a boundary file (every cell of it).
    weight : str, optional
        Column to sum per cell instead of counting.
    lng_col, lat_col, x_col, y_col, crs
        Coordinate columns (``lng``/``lat`` imply EPSG:4326) and the CRS of x/y.

    Returns
    -------
    DataFrame
        One row per cell: ``h3_cell``, the value, ``gi_z``, ``gi_p``, ``gi_p_fdr``, ``gi_significant``, ``gi_bin``.

    Examples
    --------
    >>> gi = gistar_cells("tests/fixtures/qgis_kde/points.csv", resolution=10)
    >>> int(gi["count"].sum()), {"gi_z", "gi_significant"} <= set(gi.columns)
    (235, True)
    """
    check_gistar_options(
        resolution=resolution, k=k, permutations=permutations, alpha=alpha, study_area=study_area, crs=crs
    )
    area_file = gistar_study_area(study_area)
    pts = read_points(points, x_col=lng_col or x_col, y_col=lat_col or y_col, crs="EPSG:4326" if lng_col else crs)
    ll = pts.to_crs("EPSG:4326") if not pts.crs.is_geographic else pts
    frame = pd.DataFrame({"lat": ll.geometry.y.to_numpy(), "lng": ll.geometry.x.to_numpy()})
    if weight:
        if weight not in pts.columns:
            raise ParameterError(f"--weight column {weight!r} is not in {points}")
        frame["w"] = pd.to_numeric(pts[weight], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = int((~np.isfinite(frame["w"].to_numpy())).sum())
        if bad:
            raise ParameterError(
                f"--weight column {weight!r} of {points} has {bad:,} missing or non-numeric values. "
                "Fix: fill them (0 = no weight) or drop those rows"
            )
    cells = events_to_cells(frame, resolution=resolution, by=[], weight="w" if weight else None)
    value = "weight" if weight else "count"
    study: Any = study_area
    if area_file is not None:
        boundary = read_boundary(area_file)
        _check_boundary_cells(boundary, resolution)
        study = boundary_to_cells(boundary, resolution=resolution)
    return gi_star(
        cells[["h3_cell", value]],
        value=value,
        study_area=study,
        k=k,
        permutations=permutations,
        alpha=alpha,
        fdr=fdr,
        seed=seed,
    )


def permutation_cells_needed(n_cells: int, *, permutations: int, alpha: float) -> int:
    """How many cells must reach the permutation p-value floor before FDR lets any be significant.

    Examples
    --------
    >>> permutation_cells_needed(1000, permutations=99, alpha=0.05)
    200
    """
    floor = 1.0 / (permutations + 1)
    return int(np.ceil(floor * n_cells / alpha))


def dbscan_targets(out: str | os.PathLike) -> list[Path]:
    """The files ``dbscan --out OUT`` writes: labels (and hulls beside them unless a GeoPackage holds both).

    Examples
    --------
    >>> [p.name for p in dbscan_targets("c.csv")]
    ['c.csv', 'c_clusters.geojson']
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        return [out, out.with_name(out.stem + "_clusters.geojson")]
    if suffix == ".parquet":
        return [out, out.with_name(out.stem + "_clusters.parquet")]
    if suffix == ".gpkg":
        return [out]
    raise ParameterError(f"--out {out}: unknown output format {out.suffix!r}. Fix: end it with .csv, .gpkg or .parquet")


def dbscan_clusters(
    points: str | os.PathLike,
    *,
    eps_m: float,
    min_samples: int,
    weight: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    crs: str | None = None,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The ``dbscan`` command: labels and cluster hulls of the points in a file.

    Returns
    -------
    labels : DataFrame
        ``dbscan_cluster`` per point (-1 noise).
    clusters : GeoDataFrame
        One hull per cluster.
    points : GeoDataFrame
        The points read (their geometry goes with the labels in GeoPackage/Parquet outputs).

    Examples
    --------
    >>> labels, clusters, pts = dbscan_clusters("tests/fixtures/qgis_kde/points.csv", eps_m=60, min_samples=8)
    >>> len(labels) == len(pts) == 235, len(clusters) == int(labels["dbscan_cluster"].max()) + 1
    (True, True)
    """
    pts = projected_points(points, x_col=x_col, y_col=y_col, crs=crs, metre_options="--eps-m")
    labels, clusters = dbscan(pts, eps_m=eps_m, min_samples=min_samples, weight=weight)
    return labels, clusters, pts
