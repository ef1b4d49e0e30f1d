"""Safer Spaces hotspot engine: events -> H3 cells -> statistics.

Pure functions over arrays and (Geo)DataFrames; no UI and no report code.
"""

from hotspots.clustering import dbscan, dbscan_labels
from hotspots.config import Config, load_config
from hotspots.errors import ConfigError, InputFileError, ParameterError, SaferSpacesError
from hotspots.evaluation import evaluate_cells, hotspot_measures, pai_curve
from hotspots.getis_ord import gi_star, kring_weights, study_area_cells
from hotspots.grid import boundary_to_cells, cells_to_polygons, events_to_cells, latlng_to_cells
from hotspots.ingest.police_uk import IngestResult, read_police_uk
from hotspots.io import read_events, read_points, write_ingest_outputs, write_raster
from hotspots.kde import KDEResult, bandwidth_arcgis, bandwidth_nrd, kde, kde_array
from hotspots.spacetime import classify_hotspots, mann_kendall

__all__ = [
    "KDEResult",
    "bandwidth_arcgis",
    "bandwidth_nrd",
    "classify_hotspots",
    "dbscan",
    "dbscan_labels",
    "evaluate_cells",
    "gi_star",
    "hotspot_measures",
    "kde",
    "kde_array",
    "kring_weights",
    "mann_kendall",
    "pai_curve",
    "read_points",
    "study_area_cells",
    "write_raster",
    "Config",
    "ConfigError",
    "IngestResult",
    "InputFileError",
    "ParameterError",
    "SaferSpacesError",
    "boundary_to_cells",
    "cells_to_polygons",
    "events_to_cells",
    "latlng_to_cells",
    "load_config",
    "read_events",
    "read_police_uk",
    "write_ingest_outputs",
]
