"""Safer Spaces hotspot engine: events -> H3 cells -> statistics.

Pure functions over arrays and (Geo)DataFrames; no UI and no report code.
"""

from hotspots import _numba_cache  # noqa: F401  first: a writable numba cache before any kernel is defined
from hotspots.clustering import dbscan, dbscan_labels
from hotspots.comparators import compare_force
from hotspots.config import Config, load_config
from hotspots.deprivation import hotspot_deprivation
from hotspots.disclosure import audit_table, suppress_cells, suppress_series, suppress_table
from hotspots.errors import ConfigError, InputFileError, ParameterError, SaferSpacesError
from hotspots.evaluation import evaluate_cells, hotspot_measures, pai_curve
from hotspots.fusion import place_scores, source_grids
from hotspots.getis_ord import gi_star, kring_weights, study_area_cells
from hotspots.grid import boundary_to_cells, cells_to_polygons, events_to_cells, latlng_to_cells
from hotspots.harm import assign_harm, harm_weights, load_harm_index
from hotspots.ingest.ae import read_ae
from hotspots.ingest.assets import read_assets
from hotspots.ingest.imd import read_imd
from hotspots.ingest.incidents import read_incidents
from hotspots.ingest.police_uk import IngestResult, read_police_uk
from hotspots.ingest.rms import read_rms
from hotspots.ingest.streetsafe import read_streetsafe
from hotspots.ingest.venues import read_venues
from hotspots.io import read_events, read_points, write_ingest_outputs, write_raster
from hotspots.kde import KDEResult, bandwidth_arcgis, bandwidth_nrd, kde, kde_array
from hotspots.lsoa import lsoa_crosswalk
from hotspots.nte_window import NTEWindow, parse_nte_window
from hotspots.offences import classify_offences, classify_police_uk, load_offence_table
from hotspots.perception_gap import perception_gap, perception_gap_cells
from hotspots.publication import force_month_table
from hotspots.spacetime import classify_hotspots, mann_kendall
from hotspots.timebands import aoristic_weekday_hour, nte_share, weekday_hour_table
from hotspots.trends import control_limits, monthly_counts, year_on_year
from hotspots.venue_concentration import venue_concentration
from hotspots.venues import risky_facilities, venue_risk

__all__ = [
    "audit_table",
    "compare_force",
    "control_limits",
    "force_month_table",
    "hotspot_deprivation",
    "lsoa_crosswalk",
    "monthly_counts",
    "read_imd",
    "suppress_cells",
    "suppress_series",
    "suppress_table",
    "venue_concentration",
    "year_on_year",
    "NTEWindow",
    "aoristic_weekday_hour",
    "assign_harm",
    "classify_offences",
    "classify_police_uk",
    "harm_weights",
    "load_harm_index",
    "load_offence_table",
    "nte_share",
    "parse_nte_window",
    "perception_gap",
    "perception_gap_cells",
    "place_scores",
    "read_ae",
    "read_assets",
    "read_incidents",
    "read_rms",
    "read_streetsafe",
    "read_venues",
    "risky_facilities",
    "source_grids",
    "venue_risk",
    "weekday_hour_table",
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
