"""Old home of the partnership readers; kept so existing imports work. Import from the new modules.

- :func:`read_venues`, :func:`postcode_lookup`, :func:`normalise_postcode`, :data:`VENUE_FORMATS`:
  :mod:`hotspots.ingest.venues`
- :func:`read_assets` (CCTV, street lights): :mod:`hotspots.ingest.assets`
- :func:`read_incidents` (partner incident logs): :mod:`hotspots.ingest.incidents`
"""

from hotspots.ingest.assets import ASSET_COLUMNS, read_assets
from hotspots.ingest.incidents import INCIDENT_COLUMNS, read_incidents
from hotspots.ingest.venues import NTE_BUSINESS_TYPES, VENUE_FORMATS, normalise_postcode, postcode_lookup, read_venues

__all__ = [
    "ASSET_COLUMNS",
    "INCIDENT_COLUMNS",
    "NTE_BUSINESS_TYPES",
    "VENUE_FORMATS",
    "normalise_postcode",
    "postcode_lookup",
    "read_assets",
    "read_incidents",
    "read_venues",
]
