"""The STRA's typed config: marking, population, boundaries, threat areas, MoRiLE scales, data-quality rules.

Every parameter of the national compilation lives here with its default and,
where it is a judgement, its source. ``configs/stra.toml`` and the ``[stra]``
table of ``configs/national-demo.toml`` set them; an unknown key or a value
out of range is a :class:`~hotspots.errors.ConfigError` naming the key and the fix.

Examples
--------
>>> cfg = StraConfig()
>>> cfg.security_classification, cfg.disclosure.threshold
('OFFICIAL-SENSITIVE', 10)
>>> sorted(cfg.threat_areas)[:2]
['domestic_abuse', 'police_uk_public_order']
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotspots.config import CLASSIFICATIONS, DisclosureConfig, _build, _read_text
from hotspots.errors import ConfigError, ParameterError
from hotspots.morile import MorileMatrix

__all__ = ["GAP_AREAS", "THREAT_AREA_LABELS", "StraConfig", "load_stra_config", "stra_config_from"]

DATA = Path(__file__).resolve().parents[2] / "data"

#: STRA threat areas -> the force summaries' threat-area ids they add up (DOMAIN.md: the national STRA's areas;
#: police.uk categories are kept as their own proxy areas: they mix domestic, sexual and public violence).
DEFAULT_THREAT_AREAS: dict[str, tuple[str, ...]] = {
    "domestic_abuse": ("da_violence", "controlling_coercive"),
    "rasso": ("rape", "other_sexual_offences"),
    "public_space_nte": ("public_space_violence",),
    "stalking_harassment": ("stalking_harassment",),
    "police_uk_violence_sexual": ("police_uk_violence_sexual",),
    "police_uk_public_order": ("police_uk_public_order",),
}

THREAT_AREA_LABELS: dict[str, str] = {
    "domestic_abuse": "Domestic abuse (force RMS)",
    "rasso": "Rape and serious sexual offences (force RMS)",
    "public_space_nte": "Public-space and NTE violence (force RMS)",
    "stalking_harassment": "Stalking and harassment (force RMS)",
    "police_uk_violence_sexual": "Violence and sexual offences (police.uk proxy: all victims, DA, RASSO and "
                                 "public violence together)",
    "police_uk_public_order": "Public order (police.uk proxy for public-space harassment)",
    "csa": "Child sexual abuse",
    "tech_enabled": "Technology-enabled VAWG",
}

#: threat areas the national STRA names that no force summary measures: always listed as intelligence gaps
GAP_AREAS: dict[str, str] = {
    "csa": "no force summary separates child sexual abuse (victim age is not in police.uk; RMS extracts in "
           "the profile do not flag it)",
    "tech_enabled": "no force summary flags technology-enabled offences (online or device-enabled); police.uk "
                    "has no such flag",
}


@dataclass(frozen=True, kw_only=True)
class StraConfig:
    """The national compilation's parameters (config table ``[stra]``)."""

    title: str = "National VAWG strategic threat and risk assessment"
    security_classification: str = "OFFICIAL-SENSITIVE"
    handling: str = ("National VAWG analysis team and force VAWG leads only; do not publish. police.uk data are "
                     "OGL v3.0; the rest derives from force summaries shared under the national agreement.")
    #: residents per force (``Force,...,Population``), attributed in the report
    population: Path = DATA / "population" / "police-population_2020.csv"
    population_source: str = ("Police force area populations, 2020 (House of Commons Library, from ONS mid-year "
                              "estimates; Open Parliament Licence)")
    #: police force area polygons for the choropleth (PFA20CD / PFA20NM)
    boundaries: Path = DATA / "boundaries" / "police_force_areas.geojson"
    boundaries_source: str = "Police Force Areas (December 2020), ONS Open Geography portal (OGL v3.0)"
    #: forces expected beside the population file's territorial forces (reported, never rated: no residents)
    non_territorial: tuple[str, ...] = ("British Transport Police",)
    threat_areas: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_THREAT_AREAS))
    morile: MorileMatrix = field(default_factory=lambda: MorileMatrix(
        harm_bands=(100.0, 1000.0, 5000.0), rate_bands=(0.8, 1.0, 1.25), likelihood="ratio",
        source=("Local calibration of the MoRiLE structure, not the official NPCC tables: harm = harm-index units per "
                "1,000 residents a year (cut at 100 / 1,000 / 5,000: the spread of the police.uk categories and the "
                "demo force's RMS areas); likelihood = the force's rate over the national rate of the same threat "
                "(cut at 0.8 / 1.0 / 1.25), moved one step by a significant like-for-like rise or fall")))
    funnel_winsor: float = 0.1
    #: a force's share of police.uk rows without a location is flagged this far above the national median
    location_share_margin: float = 0.05
    #: a force's published police.uk volume per resident-month below this funnel level is flagged
    low_volume_level: str = "below 99.8%"
    top_places: int = 20
    disclosure: DisclosureConfig = field(default_factory=lambda: DisclosureConfig(share=True))

    def __post_init__(self) -> None:
        if self.security_classification not in CLASSIFICATIONS:
            raise ConfigError(f"stra.security_classification must be one of {', '.join(CLASSIFICATIONS)}; "
                              f"got {self.security_classification!r}")
        unknown = sorted(set(self.threat_areas) - set(THREAT_AREA_LABELS))
        if unknown:
            raise ConfigError(f"stra.threat_areas: unknown area(s) {unknown}; use {sorted(DEFAULT_THREAT_AREAS)}")
        if not 0 <= self.funnel_winsor < 0.5:
            raise ConfigError(f"stra.funnel_winsor must be in [0, 0.5) (0.1 is Spiegelhalter's); got "
                              f"{self.funnel_winsor!r}")
        if not 0 < self.location_share_margin < 1:
            raise ConfigError(f"stra.location_share_margin must be a share in (0, 1), e.g. 0.05; got "
                              f"{self.location_share_margin!r}")
        if self.low_volume_level not in ("below 95%", "below 99.8%"):
            raise ConfigError(f"stra.low_volume_level must be 'below 95%' or 'below 99.8%'; got "
                              f"{self.low_volume_level!r}")
        if not 1 <= self.top_places <= 100:
            raise ConfigError(f"stra.top_places must be 1-100; got {self.top_places!r}")


def stra_config_from(raw: dict[str, Any], *, file: str, base: Path) -> StraConfig:
    """A :class:`StraConfig` from a parsed ``[stra]`` table (paths relative to ``base``).

    Examples
    --------
    >>> stra_config_from({"top_places": 5}, file="x.toml", base=Path(".")).top_places
    5
    >>> stra_config_from({"morile": {"trend_step": 7}}, file="x.toml", base=Path("."))
    Traceback (most recent call last):
    ...
    hotspots.errors.ConfigError: x.toml: stra.morile: trend_step must be 0, 1 or 2; got 7
    """
    try:
        cfg = _build(StraConfig, raw, "stra", file, base)
    except ParameterError as exc:  # MorileMatrix checks its own scales
        raise ConfigError(f"{file}: stra.morile: {exc}") from None
    return dataclasses.replace(cfg)


def load_stra_config(path: str | Path | None) -> StraConfig:
    """The ``[stra]`` table of a TOML file (``configs/stra.toml``), or the defaults when ``path`` is None."""
    if path is None:
        return StraConfig()
    path = Path(path)
    try:
        raw = tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    table = raw.get("stra", {})
    extra = sorted(set(raw) - {"stra", "national", "force"})
    if extra:
        raise ConfigError(f"{path}: unknown table(s) {extra}; the STRA reads [stra] (and [national] for the runner)")
    return stra_config_from(table, file=str(path), base=path.parent)
