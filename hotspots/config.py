"""Force configuration: TOML loaded into frozen, keyword-only dataclasses.

Unknown keys fail with the key's dotted name, the file and the nearest known
key; values are checked in ``__post_init__``. Relative paths are resolved
against the folder of the TOML file, so a config works from any directory.
Whatever the file holds (other encodings, broken TOML, wrong types, NaN,
a folder instead of a file), loading either returns a :class:`Config` or
raises :class:`~hotspots.errors.ConfigError` naming the file, the key and the
fix. :func:`check_inputs` then checks every input file the config names
before any work starts.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from hotspots.errors import ConfigError
from hotspots.ingest.ae import AE_COLUMNS
from hotspots.ingest.rms import RMS_COLUMNS
from hotspots.ingest.streetsafe import STREETSAFE_COLUMNS
from hotspots.nte_window import parse_nte_window

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
    "SurfaceConfig",
    "KDEConfig",
    "GiStarConfig",
    "DBSCANConfig",
    "EvaluationConfig",
    "HotspotsConfig",
    "TrendConfig",
    "DisclosureConfig",
    "RELEASES",
    "load_config",
    "check_inputs",
    "config_to_dict",
]

H3_RESOLUTIONS = range(7, 12)
CLASSIFICATIONS = ("OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET", "TOP SECRET")
MAX_CONFIG_BYTES = 1 << 20  # a force config is a few KB; refuse anything that cannot be one
_SLUG = re.compile(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*")
_CSV_NAME = re.compile(r".*\.csv(\.gz)?$", re.IGNORECASE)


def _show(value, limit: int = 60) -> str:
    """``repr`` of a config value for an error message: one line, at most ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
                f"got {_show(self.security_classification)}"
            )
        if len(self.slug) > 64 or not _SLUG.fullmatch(self.slug):
            raise ConfigError(
                f"force.slug must be 1-64 ASCII letters, digits and single '-' (e.g. 'avon-and-somerset'); "
                f"got {_show(self.slug)}"
            )
        if not self.name.strip():
            raise ConfigError("force.name must not be blank; give the force's name as it appears on reports")


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
    lsoa_population: Path | None = None  # IoD 2019 File 6: residents per LSOA (rates per 1,000)

    def __post_init__(self) -> None:
        if not self.police_uk:
            raise ConfigError("data.police_uk must list at least one file or folder")


@dataclass(frozen=True, kw_only=True)
class GridConfig:
    """H3 gridding."""

    h3_resolution: int = 9

    def __post_init__(self) -> None:
        if self.h3_resolution not in H3_RESOLUTIONS:
            raise ConfigError(
                f"grid.h3_resolution must be 7-11 (9 is ~174 m edge, 10 ~66 m); got {_show(self.h3_resolution)}"
            )


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
            f"unknown key '{section}.columns.{_show(unknown[0])[1:-1]}'{hint}; the logical columns are: "
            f"{', '.join(known)}"
        )


@dataclass(frozen=True, kw_only=True)
class RMSConfig:
    """A force RMS crime export: files, column mapping and date order."""

    files: tuple[Path, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    dayfirst: bool = True
    synthetic: bool | None = None

    def __post_init__(self) -> None:
        _check_columns("rms", self.columns, RMS_COLUMNS)


@dataclass(frozen=True, kw_only=True)
class StreetSafeConfig:
    """StreetSafe report extracts."""

    files: tuple[Path, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    keep_demographics: bool = False
    synthetic: bool | None = None

    def __post_init__(self) -> None:
        _check_columns("streetsafe", self.columns, STREETSAFE_COLUMNS)


@dataclass(frozen=True, kw_only=True)
class AEConfig:
    """A&E assault (ISTV / Cardiff Model) extracts."""

    files: tuple[Path, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    dayfirst: bool = True
    synthetic: bool | None = None

    def __post_init__(self) -> None:
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
            raise ConfigError(f"harm.index must be 'cambridge_chi', 'ons_css' or 'none'; got {_show(self.index)}")


KERNELS = ("quartic", "triangular", "uniform", "triweight", "epanechnikov")
PLACE_SCORE_METHODS = ("share", "rank_pct")
PLACE_SCORE_VALUES = ("count", "weight_sum")
RELEASES = ("partner", "publication")
DEFAULT_THRESHOLDS = {"partner": 10, "publication": 5}
DEFAULT_SHARED_HANDLING = (
    "Disclosure-controlled version for partners under the information-sharing agreement: counts below "
    "{threshold} and the values that would reveal them are withheld. Do not publish."
)


def _check_metres(name: str, value: float, lo: float, hi: float, hint: str) -> None:
    if not lo < value <= hi:
        raise ConfigError(f"{name} must be in ({lo:g}, {hi:g}] metres ({hint}); got {_show(value)}")


@dataclass(frozen=True, kw_only=True)
class SurfaceConfig:
    """The fused KDE surfaces (harm-weighted recorded crime, perception gap): radius and pixel size."""

    radius_m: float = 400.0
    pixel_m: float = 100.0

    def __post_init__(self) -> None:
        _check_metres("fusion.kde.radius_m", self.radius_m, 0, 10_000, "400 m is a street-level hotspot scale")
        _check_metres("fusion.kde.pixel_m", self.pixel_m, 0, 1_000, "100 m pixels; at most the radius")
        if self.pixel_m > self.radius_m:
            raise ConfigError(
                f"fusion.kde.pixel_m ({self.pixel_m:g}) must not exceed fusion.kde.radius_m ({self.radius_m:g}); "
                "make the pixels smaller"
            )


@dataclass(frozen=True, kw_only=True)
class FusionConfig:
    """How sources combine into a place score, venue-risk distance, and the fused surfaces."""

    source_weights: dict[str, float] = field(
        default_factory=lambda: {"police_uk": 1.0, "rms": 1.0, "streetsafe": 1.0, "ae": 1.0}
    )
    venue_distance_m: float = 50.0
    place_score: str = "share"
    place_score_value: str = "count"
    top_places: int = 20
    recorded_source: str = "auto"
    min_recorded: int = 20
    public_space: bool = True
    kde: SurfaceConfig = field(default_factory=SurfaceConfig)

    def __post_init__(self) -> None:
        if self.recorded_source not in ("auto", "rms", "police_uk"):
            raise ConfigError(
                "fusion.recorded_source must be 'auto' (the force RMS where supplied, else police.uk), 'rms' or "
                f"'police_uk'; got {_show(self.recorded_source)}"
            )
        if not 0 <= self.min_recorded <= 100_000:
            raise ConfigError(
                f"fusion.min_recorded must be 0-100000 (recorded crimes a place needs to be ranked); got "
                f"{self.min_recorded}"
            )
        unknown = sorted(set(self.source_weights) - {"police_uk", "rms", "streetsafe", "ae"})
        if unknown:
            raise ConfigError(
                f"unknown key 'fusion.source_weights.{_show(unknown[0])[1:-1]}'; the sources are police_uk, rms, "
                "streetsafe and ae"
            )
        bad = [k for k, v in self.source_weights.items() if not v >= 0]
        if bad:
            raise ConfigError(f"fusion.source_weights must be >= 0; got {bad[0]} = {self.source_weights[bad[0]]}")
        if self.source_weights and not any(self.source_weights.values()):
            raise ConfigError("fusion.source_weights are all 0; give at least one source a weight above 0")
        if not 0 < self.venue_distance_m <= 1000:
            raise ConfigError(f"fusion.venue_distance_m must be in (0, 1000] metres; got {self.venue_distance_m}")
        if self.place_score not in PLACE_SCORE_METHODS:
            raise ConfigError(
                f"fusion.place_score must be 'share' (mean share of each source's total) or 'rank_pct' (mean "
                f"percentile); got {_show(self.place_score)}"
            )
        if self.place_score_value not in PLACE_SCORE_VALUES:
            raise ConfigError(
                f"fusion.place_score_value must be 'count' or 'weight_sum' (harm-weighted); got "
                f"{_show(self.place_score_value)}"
            )
        if not 1 <= self.top_places <= 1000:
            raise ConfigError(f"fusion.top_places must be 1-1000 (places listed with labels); got {self.top_places}")


@dataclass(frozen=True, kw_only=True)
class KDEConfig:
    """Kernel density of police.uk VAWG-relevant crime (QGIS Heatmap conventions)."""

    kernel: str = "quartic"
    radius_m: float = 400.0
    pixel_m: float = 100.0

    def __post_init__(self) -> None:
        if self.kernel not in KERNELS:
            raise ConfigError(f"hotspots.kde.kernel must be one of {', '.join(KERNELS)}; got {_show(self.kernel)}")
        _check_metres("hotspots.kde.radius_m", self.radius_m, 0, 10_000, "400 m is a street-level hotspot scale")
        _check_metres("hotspots.kde.pixel_m", self.pixel_m, 0, 1_000, "100 m pixels; at most the radius")
        if self.pixel_m > self.radius_m:
            raise ConfigError(
                f"hotspots.kde.pixel_m ({self.pixel_m:g}) must not exceed hotspots.kde.radius_m "
                f"({self.radius_m:g}); make the pixels smaller"
            )


@dataclass(frozen=True, kw_only=True)
class GiStarConfig:
    """Getis-Ord Gi* over every H3 cell of the force area."""

    k: int = 1
    alpha: float = 0.05
    fdr: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.k <= 10:
            raise ConfigError(f"hotspots.gi_star.k must be 1-10 grid steps (1 = the six touching cells); got {self.k}")
        if not 0 < self.alpha < 0.5:
            raise ConfigError(f"hotspots.gi_star.alpha must be in (0, 0.5), e.g. 0.05; got {_show(self.alpha)}")


@dataclass(frozen=True, kw_only=True)
class DBSCANConfig:
    """DBSCAN clusters of police.uk map points, and the optional zoom box of its figure."""

    eps_m: float = 100.0
    min_samples: int = 60
    zoom: tuple[float, ...] | None = None
    zoom_name: str | None = None

    def __post_init__(self) -> None:
        _check_metres("hotspots.dbscan.eps_m", self.eps_m, 0, 5_000, "100 m groups points on one street block")
        if not 2 <= self.min_samples <= 100_000:
            raise ConfigError(f"hotspots.dbscan.min_samples must be 2-100000; got {self.min_samples}")
        if self.zoom is not None:
            z = self.zoom
            if len(z) != 4 or not (z[0] < z[2] and z[1] < z[3]):
                raise ConfigError(
                    "hotspots.dbscan.zoom must be [xmin, ymin, xmax, ymax] in EPSG:27700 metres with xmin < xmax "
                    f"and ymin < ymax (e.g. [353000, 168000, 365000, 177500] for Bristol); got {_show(list(z))}"
                )


@dataclass(frozen=True, kw_only=True)
class EvaluationConfig:
    """Held-out quality of the hotspot layers: train on earlier months, test on the last ones."""

    test_months: int = 6
    min_train_months: int = 6
    top_cells_share: float = 0.01
    kde_top_share: float = 0.05

    def __post_init__(self) -> None:
        if not 1 <= self.test_months <= 60:
            raise ConfigError(f"hotspots.evaluation.test_months must be 1-60; got {self.test_months}")
        if not 1 <= self.min_train_months <= 120:
            raise ConfigError(f"hotspots.evaluation.min_train_months must be 1-120; got {self.min_train_months}")
        for name in ("top_cells_share", "kde_top_share"):
            v = getattr(self, name)
            if not 0 < v <= 0.5:
                raise ConfigError(
                    f"hotspots.evaluation.{name} must be a share in (0, 0.5], e.g. 0.01 for 1%; got {_show(v)}"
                )


@dataclass(frozen=True, kw_only=True)
class HotspotsConfig:
    """Every parameter of the 'where' analyses (KDE, Gi*, DBSCAN, held-out evaluation)."""

    top_places: int = 15
    kde: KDEConfig = field(default_factory=KDEConfig)
    gi_star: GiStarConfig = field(default_factory=GiStarConfig)
    dbscan: DBSCANConfig = field(default_factory=DBSCANConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)

    def __post_init__(self) -> None:
        if not 1 <= self.top_places <= 1000:
            raise ConfigError(f"hotspots.top_places must be 1-1000 (police.uk cells listed); got {self.top_places}")


@dataclass(frozen=True, kw_only=True)
class TrendConfig:
    """Monthly control limits and the year-on-year window of police.uk VAWG-relevant crime."""

    method: str = "sd"
    k: float = 2.0
    run_length: int = 8
    yoy_months: int = 12
    baseline_months: int = 12

    def __post_init__(self) -> None:
        if not 6 <= self.baseline_months <= 60:
            raise ConfigError(
                "trends.baseline_months must be 6-60 (the first months of the period that set the control limits); "
                f"got {self.baseline_months}"
            )
        if self.method not in ("sd", "c-chart"):
            raise ConfigError(
                "trends.method must be 'sd' (mean +- k sd: counts of thousands are overdispersed) or 'c-chart' "
                f"(Poisson); got {_show(self.method)}"
            )
        if not 0 < self.k <= 6:
            raise ConfigError(f"trends.k must be in (0, 6] standard deviations, e.g. 2; got {_show(self.k)}")
        if not 2 <= self.run_length <= 24:
            raise ConfigError(f"trends.run_length must be 2-24 months (8 is the usual rule); got {self.run_length}")
        if not 1 <= self.yoy_months <= 36:
            raise ConfigError(f"trends.yoy_months must be 1-36 months (12 compares years); got {self.yoy_months}")


PILLARS = ("Prevent", "Pursue", "Protect", "Prepare")


@dataclass(frozen=True, kw_only=True)
class ProductConfig:
    """The product around the analysis: terms of reference, owners of the 4P plan, sign-off and distribution.

    Every value is printed in the profile as given (placeholders in square
    brackets are for the force to fill in before sign-off).

    Examples
    --------
    >>> ProductConfig().review_months, ProductConfig().owners["Pursue"]
    (6, 'Head of Crime (investigations)')
    """

    requester: str = "[requester: e.g. ACC Local Policing, VAWG strategic lead]"
    requirement: str = "A VAWG problem profile (national VAWG framework, action 10), including partnership data " \
        "and where women feel unsafe."
    aims: tuple[str, ...] = (
        "Describe where and when VAWG in public space, above all in the night-time economy, concentrates.",
        "Identify the places, times and venues where partners' action would prevent most harm.",
        "Set out what the data cannot show and how to fill the gaps.",
    )
    key_questions: tuple[str, ...] = (
        "Where and when does VAWG in public space concentrate, and is it persistent or emerging?",
        "Is it rising or falling, like for like?",
        "Which NTE venues and places account for most incidents?",
        "Where do women feel unsafe that recorded crime does not show?",
        "How are VAWG offences resolved (outcomes), and where do investigations stall?",
    )
    author: str = "[author: analyst name, role]"
    reviewer: str = "[reviewer: head of analysis]"
    review_months: int = 6
    owners: dict[str, str] = field(
        default_factory=lambda: {
            "Prevent": "Community Safety Partnership (chair)",
            "Pursue": "Head of Crime (investigations)",
            "Protect": "Local policing commander (NTE)",
            "Prepare": "Head of Analysis",
        }
    )
    distribution: tuple[str, ...] = (
        "VAWG strategic lead (ACC)",
        "Local policing commanders",
        "Head of Crime",
        "Community Safety Partnership managers",
        "Licensing authority (shared version only)",
    )

    def __post_init__(self) -> None:
        unknown = sorted(set(self.owners) - set(PILLARS))
        if unknown:
            raise ConfigError(
                f"product.owners has unknown pillar {_show(unknown[0])}; the 4P pillars are {', '.join(PILLARS)}"
            )
        if not 1 <= self.review_months <= 24:
            raise ConfigError(f"product.review_months must be 1-24 (months to the review date); got "
                              f"{self.review_months}")


@dataclass(frozen=True, kw_only=True)
class DisclosureConfig:
    """Disclosure control of the shared version (written beside the restricted outputs, never over them).

    ``release`` is ``"partner"`` (default threshold 10) or ``"publication"``
    (default 5); ``threshold`` overrides the default (after loading it always
    holds the threshold in force); ``handling`` is the handling line of the
    shared version (``{threshold}`` is filled in by :attr:`shared_handling`).

    Examples
    --------
    >>> DisclosureConfig(release="publication").threshold, DisclosureConfig().threshold
    (5, 10)
    """

    share: bool = False
    release: str = "partner"
    threshold: int | None = None
    handling: str = DEFAULT_SHARED_HANDLING

    def __post_init__(self) -> None:
        if self.release not in RELEASES:
            raise ConfigError(
                f"disclosure.release must be 'partner' (threshold 10) or 'publication' (threshold 5); got "
                f"{_show(self.release)}"
            )
        if self.threshold is None:  # the release's default: 10 for partners, 5 for publication
            object.__setattr__(self, "threshold", DEFAULT_THRESHOLDS[self.release])
        elif not 2 <= self.threshold <= 100:
            raise ConfigError(
                f"disclosure.threshold must be 2-100 (5 for publication, 10 for partners); got {_show(self.threshold)}"
            )
        if not self.handling.strip():
            raise ConfigError("disclosure.handling must not be blank; give the shared version's handling line")

    @property
    def shared_handling(self) -> str:
        """The shared version's handling line with the threshold filled in."""
        return self.handling.replace("{threshold}", str(self.threshold))


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
    hotspots: HotspotsConfig = field(default_factory=HotspotsConfig)
    trends: TrendConfig = field(default_factory=TrendConfig)
    product: ProductConfig = field(default_factory=ProductConfig)
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
            shown = _show(key)[1:-1]
            dotted = f"{where}.{shown}" if where else shown
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


_TYPE_NAMES = {bool: "true or false", str: "a string in quotes", int: "a whole number", float: "a number"}


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
        return {str(k_): _convert(args[1], v, f"{dotted}.{_show(k_)[1:-1]}", file, base) for k_, v in value.items()}
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{file}: '{dotted}' must be a list, got {type(value).__name__}")
        return tuple(_convert(args[0], v, f"{dotted}[{i}]", file, base) for i, v in enumerate(value))
    if tp is Path:
        if not isinstance(value, str) or not value.strip() or "\x00" in value:
            raise ConfigError(
                f"{file}: '{dotted}' must be a path string (relative to the config's folder), got {_show(value)}"
            )
        p = Path(value)
        return p if p.is_absolute() else (base / p)
    if tp is bool or tp is str or tp is int or tp is float:
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        ok = isinstance(value, tp) and not (tp is int and isinstance(value, bool))
        if not ok:
            raise ConfigError(f"{file}: '{dotted}' must be {tp.__name__} ({_TYPE_NAMES[tp]}), got {_show(value)}")
        if tp is float and not math.isfinite(value):
            raise ConfigError(f"{file}: '{dotted}' must be a finite number, got {value}")
        if tp is str and "\x00" in value:
            raise ConfigError(f"{file}: '{dotted}' contains a NUL character; retype the value")
        return value
    raise TypeError(f"unsupported config type {tp!r}")  # a bug in this module


def _read_text(path: Path) -> str:
    """The config file's text, or a ConfigError saying why it cannot be read and the fix."""
    try:
        is_dir, size = path.is_dir(), path.stat().st_size
        data = b"" if is_dir or size > MAX_CONFIG_BYTES else path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found; check the path") from None
    except PermissionError:
        raise ConfigError(f"{path}: config file cannot be read (permission denied); fix its permissions") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: config file cannot be read ({type(exc).__name__}); check the path") from None
    if is_dir:
        raise ConfigError(f"{path}: is a folder, not a config file; give the .toml file inside it")
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: is {size:,} bytes, too large for a force config (a few KB); check you named the .toml file"
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ConfigError(f"{path}: is UTF-16 text; save it as UTF-8 (Notepad: Save as, Encoding UTF-8)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}: is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8 "
            "(Notepad: Save as, Encoding UTF-8)"
        ) from None


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
    text = _read_text(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    except RecursionError:
        raise ConfigError(
            f"{path}: not valid TOML (nested too deeply); a force config has at most two levels"
        ) from None
    cfg = _build(Config, raw, "", str(path), path.parent)
    return dataclasses.replace(cfg, source_file=path)


def _named_inputs(cfg: Config) -> list[tuple[str, Path, bool]]:
    """``(dotted key, path, may be a folder)`` for every input the config names, in config order."""
    named: list[tuple[str, Path, bool]] = []
    for section, fields in (
        ("data", ("police_uk", "boundary", "local_authorities", "venues", "imd", "comparators", "population",
                  "lsoa_population")),
        ("rms", ("files",)),
        ("streetsafe", ("files",)),
        ("ae", ("files",)),
        ("partnership", ("venues", "cctv", "street_lights", "incidents")),
    ):
        part = getattr(cfg, section)
        for name in fields:
            value = getattr(part, name)
            folders = section == "data" and name in ("police_uk", "comparators")
            if isinstance(value, tuple):
                named.extend((f"{section}.{name}[{i}]", p, folders) for i, p in enumerate(value))
            elif value is not None:
                named.append((f"{section}.{name}", value, folders))
    return named


def _input_problem(path: Path, folder_ok: bool) -> tuple[str | None, list[Path]]:
    """Why ``path`` cannot be read (None if it can) and the input files it stands for."""
    try:
        if path.is_dir():
            if not folder_ok:
                return "is a folder, not a file", []
            files = sorted(q for q in path.rglob("*") if q.is_file() and _CSV_NAME.match(q.name))
            return (None, files) if files else ("folder holds no .csv or .csv.gz file", [])
        if not path.exists():
            return "not found", []
        if not path.is_file():
            return "is not a regular file", []
        with path.open("rb") as fh:
            if not fh.read(1):
                return "is empty", []
        return None, [path]
    except PermissionError:
        return "cannot be read (permission denied)", []
    except (OSError, ValueError) as exc:
        return f"cannot be read ({type(exc).__name__})", []


def check_inputs(cfg: Config) -> tuple[Path, ...]:
    """Check every input the config names before any work starts; return the input files.

    Each file must exist, be readable and not be empty; ``data.police_uk``
    and ``data.comparators`` may also be folders, which must hold at least
    one ``.csv`` or ``.csv.gz`` file. Every problem is listed in one error, so
    a run that would fail late fails first, having written nothing.

    Parameters
    ----------
    cfg : Config
        As returned by :func:`load_config`.

    Returns
    -------
    tuple of Path
        Every input file, folders expanded to the ``.csv``/``.csv.gz`` files
        in them (sorted), in config order: the inputs to record with a run.

    Raises
    ------
    ConfigError
        One line: the config file, each bad key with its path and problem,
        and the fix.

    Examples
    --------
    >>> files = check_inputs(load_config("configs/avon-and-somerset.toml"))
    >>> files[0].name
    '2023-01-avon-and-somerset-street.csv.gz'
    >>> import dataclasses, pathlib
    >>> cfg = load_config("configs/avon-and-somerset.toml")
    >>> bad = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, imd=pathlib.Path("/nope.csv")))
    >>> try:
    ...     check_inputs(bad)
    ... except ConfigError as exc:
    ...     print(str(exc).split(". Fix")[0])
    configs/avon-and-somerset.toml: 1 input cannot be used: data.imd = /nope.csv (not found)
    """
    problems: list[str] = []
    files: list[Path] = []
    for key, path, folder_ok in _named_inputs(cfg):
        problem, found = _input_problem(path, folder_ok)
        if problem is None:
            files.extend(found)
        else:
            problems.append(f"{key} = {path} ({problem})")
    if problems:
        where = cfg.source_file if cfg.source_file is not None else "config"
        n = len(problems)
        raise ConfigError(
            f"{where}: {n} input{'s' if n > 1 else ''} cannot be used: {'; '.join(problems)}. Fix: correct the "
            f"path{'s' if n > 1 else ''} in the config (relative paths are from the config's folder) or remove the "
            f"key{'s' if n > 1 else ''}"
        )
    return tuple(files)


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
