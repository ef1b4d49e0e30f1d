"""Safer Spaces hotspot engine: events -> H3 cells -> statistics.

Pure functions over arrays and (Geo)DataFrames; no UI and no report code.
"""

from hotspots.config import Config, load_config
from hotspots.errors import ConfigError, InputFileError, ParameterError, SaferSpacesError
from hotspots.grid import boundary_to_cells, cells_to_polygons, events_to_cells, latlng_to_cells
from hotspots.ingest.police_uk import IngestResult, read_police_uk
from hotspots.io import read_events, write_ingest_outputs

__all__ = [
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
