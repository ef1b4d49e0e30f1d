"""Names the profile prints for its sources and threat areas (definitions, no logic).

Shared by the numbers stage (which stores labels and licences in
:class:`profiles.numbers.SourceQuality`) and the renderers.
"""

from __future__ import annotations

__all__ = ["SOURCES", "SOURCE_LABELS", "SOURCE_SHORT", "THREAT_AREA_LABELS", "LICENCES"]

SOURCES = ("police_uk", "rms", "streetsafe", "ae")
SOURCE_LABELS = {
    "police_uk": "police.uk recorded crime",
    "rms": "force RMS recorded crime",
    "streetsafe": "StreetSafe reports (felt unsafe)",
    "ae": "A&E assault attendances",
}
SOURCE_SHORT = {"police_uk": "police.uk", "rms": "RMS crimes", "streetsafe": "StreetSafe reports",
                "ae": "A&E (female)"}
"""Column headers for tables with one column per source."""

THREAT_AREA_LABELS = {
    "police_uk_violence_sexual": "police.uk (proxy, all victims): violence and sexual offences",
    "police_uk_public_order": "police.uk (proxy, all victims): public order",
    "rape": "RMS: rape",
    "other_sexual_offences": "RMS: other sexual offences",
    "stalking_harassment": "RMS: stalking and harassment",
    "controlling_coercive": "RMS: controlling or coercive behaviour",
    "da_violence": "RMS: domestic-abuse violence",
    "public_space_violence": "RMS: violence against women, not DA",
    "spiking": "RMS: spiking",
    "homicide": "RMS: homicide",
    "streetsafe_felt_unsafe": "StreetSafe: felt unsafe",
    "ae_assault": "A&E: assault attendances",
}
LICENCES = {
    "police_uk": "data.police.uk, OGL v3.0",
    "rms": "force RMS export",
    "streetsafe": "StreetSafe (police.uk)",
    "ae": "ED ISTV data (Cardiff Model)",
    "venues": "Open Pubs, FSA FHRS, B&NES licensing register, NightCapp (OGL/open data)",
}
