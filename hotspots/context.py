"""Old home of the context statistics; kept so existing imports work. Import from the new modules.

- :func:`read_imd`: :mod:`hotspots.ingest.imd`
- :func:`lsoa_crosswalk`: :mod:`hotspots.lsoa`
- :func:`hotspot_deprivation`, :class:`DeprivationContext`: :mod:`hotspots.deprivation`
- :func:`venue_concentration`, :class:`VenueConcentration`: :mod:`hotspots.venue_concentration`
"""

from hotspots.deprivation import DeprivationContext, hotspot_deprivation
from hotspots.ingest.imd import read_imd
from hotspots.lsoa import lsoa_crosswalk
from hotspots.venue_concentration import VenueConcentration, venue_concentration

__all__ = [
    "DeprivationContext",
    "VenueConcentration",
    "hotspot_deprivation",
    "lsoa_crosswalk",
    "read_imd",
    "venue_concentration",
]
