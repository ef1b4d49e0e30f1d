"""Force configuration: TOML loaded into frozen, keyword-only dataclasses.

Unknown keys fail with the key's dotted name, the file and the nearest known
key; values are checked in ``__post_init__``. Relative paths are resolved
against the folder of the TOML file, so a config works from any directory.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from hotspots.errors import ConfigError

__all__ = [
    "Config",
    "ForceConfig",
    "DataConfig",
    "GridConfig",
    "OffenceConfig",
    "RMSConfig",
    "StreetSafeConfig",
    "AEConfig",
    "PartnershipConfig",
    "TimeConfig",
    "HarmConfig",
    "FusionConfig",
    "DisclosureConfig",
    "load_config",
    "config_to_dict",
]

H3_RESOLUTIONS = range(7, 12)
CLASSIFICATIONS = ("OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET", "TOP SECRET")


@dataclass(frozen=True, kw_only=True)
class ForceConfig:
    """Who the profile is for and how its outputs are marked."""

    name: str
    slug: str
    security_classification: str = "OFFICIAL"
    handling: str = "Handle in line with the Government Security Classifications."

    def __post_init__(self) -> None:
        if self.security_classification not in CLASSIFICATIONS:
            raise ConfigError(
                f"force.security_classification must be one of {', '.join(CLASSIFICATIONS)}; "
                f"got {self.security_classification!r}"
            )
        if not self.slug or not self.slug.replace("-", "").isalnum():
            raise ConfigError(f"force.slug must be letters, digits and '-'; got {self.slug!r}")


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    """Where the force's data lives (relative to the config file)."""

    police_uk: tuple[Path, ...]
    boundary: Path | None = None
    local_authorities: tuple[Path, ...] = ()
    venues: tuple[Path, ...] = ()
    imd: Path | None = None
    comparators: tuple[Path, ...] = ()
    population: Path | None = None

    def __post_init__(self) -> None:
        if not self.police_uk:
            raise ConfigError("data.police_uk must list at least one file or folder")


@dataclass(frozen=True, kw_only=True)
class GridConfig:
    """H3 gridding."""

    h3_resolution: int = 9

    def __post_init__(self) -> None:
        if self.h3_resolution not in H3_RESOLUTIONS:
            raise ConfigError(f"grid.h3_resolution must be 7-11 (9 is ~174 m edge, 10 ~66 m); got {self.h3_resolution}")


@dataclass(frozen=True, kw_only=True)
class OffenceConfig:
    """Which police.uk crime types count as VAWG-relevant for this profile."""

    crime_types_of_interest: tuple[str, ...] = ("Violence and sexual offences", "Public order")
    definition_version: str = "police-uk-categories-v1"

    def __post_init__(self) -> None:
        if not self.crime_types_of_interest:
            raise ConfigError("offences.crime_types_of_interest must not be empty")


def _check_columns(section: str, columns: dict[str, str], known: dict[str, str]) -> None:
    unknown = sorted(set(columns) - set(known))
    if unknown:
        near = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise ConfigError(
            f"unknown key '{section}.columns.{unknown[0]}'{hint}; the logical columns are: {', '.join(known)}"
        )


@dataclass(frozen=True, kw_only=True)
class RMSConfig:
    """A force RMS crime export: files, column mapping and date order."""

    files: tuple[Path, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    dayfirst: bool = True
    synthetic: bool | None = None

    def __post_init__(self) -> None:
        from hotspots.ingest.rms import RMS_COLUMNS

        _check_columns("rms", self.columns, RMS_COLUMNS)


@dataclass(frozen=True, kw_only=True)
class StreetSafeConfig:
    """StreetSafe report extracts."""

    files: tuple[Path, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    keep_demographics: bool = False
    synthetic: bool | None = None

    def __post_init__(self) -> None:
        from hotspots.ingest.streetsafe import STREETSAFE_COLUMNS

        _check_columns("streetsafe", self.columns, STREETSAFE_COLUMNS)


@dataclass(frozen=True, kw_only=True)
class AEConfig:
    """A&E assault (ISTV / Cardiff Model) extracts."""

    files: tuple[Path, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    dayfirst: bool = True
    synthetic: bool | None = None

    def __post_init__(self) -> None:
        from hotspots.ingest.ae import AE_COLUMNS

        _check_columns("ae", self.columns, AE_COLUMNS)


@dataclass(frozen=True, kw_only=True)
class PartnershipConfig:
    """Partner layers: venues (licensing, FSA, Open Pubs, closing times), CCTV, street lights, incidents."""

    venues: tuple[Path, ...] = ()
    cctv: tuple[Path, ...] = ()
    street_lights: tuple[Path, ...] = ()
    incidents: tuple[Path, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TimeConfig:
    """Time bands: the night-time-economy window (local time; may cross midnight)."""

    nte_window: str = "Fri,Sat 21:00-06:00"

    def __post_init__(self) -> None:
        from hotspots.timebands import parse_nte_window

        try:
            parse_nte_window(self.nte_window)
        except ValueError as exc:
            raise ConfigError(f"time.nte_window: {exc}") from None


@dataclass(frozen=True, kw_only=True)
class HarmConfig:
    """Which harm index weights events (one per profile, never mixed)."""

    index: str = "cambridge_chi"

    def __post_init__(self) -> None:
        if self.index not in ("cambridge_chi", "ons_css", "none"):
            raise ConfigError(f"harm.index must be 'cambridge_chi', 'ons_css' or 'none'; got {self.index!r}")


@dataclass(frozen=True, kw_only=True)
class FusionConfig:
    """How sources combine into a place score, and venue-risk distance."""

    source_weights: dict[str, float] = field(
        default_factory=lambda: {"police_uk": 1.0, "rms": 1.0, "streetsafe": 1.0, "ae": 1.0}
    )
    venue_distance_m: float = 50.0

    def __post_init__(self) -> None:
        bad = [k for k, v in self.source_weights.items() if v < 0]
        if bad:
            raise ConfigError(f"fusion.source_weights must be >= 0; got {bad[0]} = {self.source_weights[bad[0]]}")
        if not 0 < self.venue_distance_m <= 1000:
            raise ConfigError(f"fusion.venue_distance_m must be in (0, 1000] metres; got {self.venue_distance_m}")


@dataclass(frozen=True, kw_only=True)
class DisclosureConfig:
    """Small-number suppression for outputs marked for sharing (written beside the restricted ones)."""

    share: bool = False
    threshold: int = 5

    def __post_init__(self) -> None:
        if not 2 <= self.threshold <= 100:
            raise ConfigError(
                f"disclosure.threshold must be 2-100 (5 for publication, 10 for partners); got {self.threshold}"
            )


@dataclass(frozen=True, kw_only=True)
class Config:
    """A force's configuration, as loaded from ``configs/<force>.toml``."""

    force: ForceConfig
    data: DataConfig
    grid: GridConfig = field(default_factory=GridConfig)
    offences: OffenceConfig = field(default_factory=OffenceConfig)
    rms: RMSConfig = field(default_factory=RMSConfig)
    streetsafe: StreetSafeConfig = field(default_factory=StreetSafeConfig)
    ae: AEConfig = field(default_factory=AEConfig)
    partnership: PartnershipConfig = field(default_factory=PartnershipConfig)
    time: TimeConfig = field(default_factory=TimeConfig)
    harm: HarmConfig = field(default_factory=HarmConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    disclosure: DisclosureConfig = field(default_factory=DisclosureConfig)
    source_file: Path | None = None


def _build(cls, raw: dict, where: str, file: str, base: Path):
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: [{where}] must be a table, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source_file"}
    for key in raw:
        if key not in fields:
            near = difflib.get_close_matches(key, fields, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else f" (known: {', '.join(fields)})"
            dotted = f"{where}.{key}" if where else key
            raise ConfigError(f"{file}: unknown key '{dotted}'{hint}")
    kwargs = {}
    for name, f in fields.items():
        dotted = f"{where}.{name}" if where else name
        if name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{file}: missing required key '{dotted}'")
            continue
        kwargs[name] = _convert(hints[name], raw[name], dotted, file, base)
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{file}: {exc}") from None


def _convert(tp, value, dotted: str, file: str, base: Path):
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, dotted, file, base)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return None if value is None else _convert(inner[0], value, dotted, file, base)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{file}: [{dotted}] must be a table of key = value, got {type(value).__name__}")
        return {str(k_): _convert(args[1], v, f"{dotted}.{k_}", file, base) for k_, v in value.items()}
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{file}: '{dotted}' must be a list, got {type(value).__name__}")
        return tuple(_convert(args[0], v, dotted, file, base) for v in value)
    if tp is Path:
        if not isinstance(value, str):
            raise ConfigError(f"{file}: '{dotted}' must be a path string")
        p = Path(value)
        return p if p.is_absolute() else (base / p)
    if tp is bool or tp is str or tp is int or tp is float:
        ok = isinstance(value, tp) and not (tp is int and isinstance(value, bool))
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not ok:
            raise ConfigError(f"{file}: '{dotted}' must be {tp.__name__}, got {value!r}")
        return value
    raise TypeError(f"unsupported config type {tp!r}")  # a bug in this module


def load_config(path: str | os.PathLike) -> Config:
    """Load and validate a force config.

    Parameters
    ----------
    path : path
        A TOML file such as ``configs/avon-and-somerset.toml``.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        On a missing file, invalid TOML, an unknown key (named, with the file)
        or a value out of range.

    Examples
    --------
    >>> cfg = load_config("configs/avon-and-somerset.toml")
    >>> cfg.grid.h3_resolution
    9
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found; check the path") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    cfg = _build(Config, raw, "", str(path), path.parent)
    return dataclasses.replace(cfg, source_file=path)


def config_to_dict(cfg: Config) -> dict:
    """The config as plain JSON-able data, for echoing into outputs.

    Examples
    --------
    >>> config_to_dict(load_config("configs/avon-and-somerset.toml"))["grid"]
    {'h3_resolution': 9}
    """

    def conv(v):
        if dataclasses.is_dataclass(v):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, dict):
            return {k_: conv(x) for k_, x in v.items()}
        if isinstance(v, tuple):
            return [conv(x) for x in v]
        if isinstance(v, Path):
            return str(v)
        return v

    return conv(cfg)
