"""The restricted data products as tables and rasters: ``ProfileNumbers`` in, content by output path out.

These are the analyst's files of the restricted version (place scores,
perception gap, venue risk, the study-area grid, monthly cell counts, the
fused source grids and the two rasters). They hold small counts and point
locations, so they are never part of a shared version: :func:`render_tables`
refuses numbers that went through disclosure control. Every CSV carries a
``synthetic_sources`` column naming the sources built from synthetic data.
Nothing is computed here: frames are selected, labelled and handed to the
writer (:func:`hotspots.io.write_files`), which picks the format from the name.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from profiles.numbers import ProfileNumbers

__all__ = ["FUSED_BANDS", "render_tables"]

#: Bands of the fused source grids written to ``grid_fused.parquet`` (the map's NTE layer is not one).
FUSED_BANDS = ("all", "nte", "other")


def _tagged(frame: pd.DataFrame, tag: str) -> pd.DataFrame:
    return frame.assign(synthetic_sources=tag)


def render_tables(numbers: ProfileNumbers) -> dict[str, Any]:
    """The restricted tables and rasters of a profile, keyed by output path.

    ========================================= ==================================================
    ``place_scores.csv``                      ``numbers.fused.places``
    ``perception_gap.csv``                    ``numbers.fused.perception`` (with StreetSafe)
    ``venue_risk.csv``, ``risky_facilities.csv`` ``numbers.venues.risk``, ``.risky`` (with venues)
    ``weekday_hour_<source>.csv``             ``numbers.when.weekday_hour`` (weekday x hour)
    ``grid_fused.parquet``                    ``numbers.fused.grids`` bands all/nte/other, long form
    ``grid_h3r<res>.parquet``/``.geojson``    ``numbers.products.grid`` (GeoJSON: cells with count_all > 0)
    ``counts_h3r<res>_monthly.parquet``       ``numbers.products.monthly``
    ``kde_recorded_harm.tif``                 ``numbers.fused.kde_recorded`` (``kde_recorded.tif``
                                              without a harm index)
    ``perception_gap_log2.tif``               ``numbers.fused.perception_raster``
    ========================================= ==================================================

    Parameters
    ----------
    numbers : ProfileNumbers
        Restricted numbers (``compute_profile``).

    Returns
    -------
    dict
        Output path -> DataFrame or KDEResult; a part the numbers do not hold is left out.

    Raises
    ------
    ValueError
        For a shared version: these products are restricted.

    Examples
    --------
    >>> import sys; sys.path.insert(0, "tests")
    >>> from numbers_factory import make_numbers
    >>> files = render_tables(make_numbers(0))
    >>> "place_scores.csv" in files, all("/" not in k for k in files)
    (True, True)
    """
    if numbers.disclosure.shared:
        raise ValueError(
            f"render_tables: these numbers are a {numbers.disclosure.release} version; the restricted tables are "
            "rendered from the restricted numbers only"
        )
    tag = ";".join(numbers.meta.synthetic_sources)
    res = numbers.meta.resolution
    f, v = numbers.fused, numbers.venues
    out: dict[str, Any] = {"place_scores.csv": _tagged(f.places, tag)}
    if f.perception is not None:
        out["perception_gap.csv"] = _tagged(f.perception, tag)
    if v.risk is not None:
        out["venue_risk.csv"] = _tagged(v.risk, tag)
    if v.risky is not None:
        out["risky_facilities.csv"] = _tagged(v.risky, tag)
    for source, table in numbers.when.weekday_hour.items():
        out[f"weekday_hour_{source}.csv"] = _tagged(table.reset_index(), tag)
    bands = [g if "band" in g else g.assign(band=b) for b, g in f.grids.items() if b in FUSED_BANDS]
    if bands:
        out["grid_fused.parquet"] = pd.concat(bands, ignore_index=True)
    grid = numbers.products.grid
    if grid is not None:
        out[f"grid_h3r{res}.parquet"] = grid
        if isinstance(grid, gpd.GeoDataFrame) and "count_all" in grid:  # the occupied cells, for GIS
            out[f"grid_h3r{res}.geojson"] = grid[grid["count_all"].to_numpy() > 0]
    if numbers.products.monthly is not None:
        out[f"counts_h3r{res}_monthly.parquet"] = numbers.products.monthly
    if f.kde_recorded is not None:
        harm = str(f.kde_recorded.params.get("harm_index", "none"))
        out["kde_recorded.tif" if harm == "none" else "kde_recorded_harm.tif"] = f.kde_recorded
    if f.perception_raster is not None:
        out["perception_gap_log2.tif"] = f.perception_raster
    return out
