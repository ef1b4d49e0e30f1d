"""The profile's numbers: one frozen, typed result that every later stage reads.

``compute_profile(cfg) -> ProfileNumbers`` fills it (ingest, combine,
statistics, findings; no file written, nothing rendered);
``to_shared(numbers, threshold) -> ProfileNumbers`` returns a disclosure-
controlled copy (the only place a threshold is applied); renderers (report,
figures, map, summary) take a ``ProfileNumbers`` and return content.

Frames are documented column by column. A ``ProfileNumbers`` is never
changed in place: stages that need a different version build a new one with
:func:`dataclasses.replace` and new frames.

Conventions
-----------
* A count withheld by disclosure control is ``None`` (object columns) or
  ``pd.NA`` (nullable ``Int64`` columns) and its row or cell carries
  ``suppressed=True`` where a table has that column; a derived value
  withheld for the same reason is ``None``/NaN and named in
  :attr:`Disclosure.withheld`.
* ``h3_cell`` is the H3 cell as a 15-hex-digit string.
* x/y are EPSG:27700 metres; lng/lat WGS84.
* Months are ``"YYYY-MM"`` strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # typing only: numbers hold these objects, never call into their modules
    import geopandas as gpd

    from hotspots.comparators import ForceComparison
    from hotspots.deprivation import DeprivationContext
    from hotspots.kde import KDEResult
    from hotspots.lsoa_deprivation import LSOADeprivation
    from hotspots.venue_concentration import VenueConcentration
    from profiles.findings import Finding, Gap, Recommendation

__all__ = [
    "InputFile",
    "SourceQuality",
    "Disclosure",
    "Meta",
    "Volume",
    "Hotspots",
    "Trend",
    "ThreatCounts",
    "Fused",
    "Venues",
    "When",
    "What",
    "Context",
    "DataQuality",
    "Findings",
    "Products",
    "Geography",
    "ProfileNumbers",
]


@dataclass(frozen=True)
class InputFile:
    """One input file read by the run (for provenance)."""

    source: str  # police_uk, rms, streetsafe, ae, venues, ...
    file: str  # file name
    sha256: str
    path: str = ""  # as the config named it (run.json)


@dataclass(frozen=True)
class SourceQuality:
    """One source's reconciliation: rows read = accepted + quarantined."""

    source: str
    label: str  # human label, e.g. "force RMS recorded crime"
    licence: str
    synthetic: bool
    first_month: str | None
    last_month: str | None
    rows_read: int | None  # None: withheld by disclosure control (shared versions)
    rows_accepted: int | None
    rows_quarantined: int | None
    quarantined_by_reason: Mapping[str, int | None]
    share_without_coordinates: float | None


@dataclass(frozen=True)
class Disclosure:
    """Which version these numbers are, and what disclosure control did to them.

    ``release`` is ``"restricted"`` (no control), ``"partner"`` (partner
    release, default threshold 10) or ``"publication"`` (default 5).
    ``handling`` is the handling line printed on every page of this version.
    ``withheld`` names every derived value withheld or coarsened and why
    (one short sentence each, for the method annex).
    """

    release: str = "restricted"
    threshold: int | None = None
    handling: str = ""
    method: str = "none (restricted)"
    suppressed_cells: int = 0
    withheld: tuple[str, ...] = ()

    @property
    def shared(self) -> bool:
        """True for any version that went through disclosure control."""
        return self.release != "restricted"


@dataclass(frozen=True)
class Meta:
    """Who, when, what definitions and parameters (echoed in every output)."""

    force_name: str
    force_slug: str
    marking: str  # security classification
    created_utc: str  # ISO 8601, Z
    tool_version: str
    python: str
    config_file: str | None
    config_sha256: str
    config: Mapping[str, Any]  # config_to_dict(cfg)
    # every analytic parameter used (profiles.compute.analysis_params): "kde" {kernel, radius_m, pixel_m, grid,
    # output}, "gi_star" {k, weights, study_area, alpha, fdr, correction, inference}, "dbscan" {eps_m,
    # min_samples, zoom (xmin, ymin, xmax, ymax EPSG:27700 or None), zoom_name (str or None), note},
    # "top_cells" {share_of_cells}, "kde_top" {share_of_area}, "test_months", "min_train_months",
    # "surfaces" {kernel, radius_m, pixel_m},
    # "place_score" {method, value, top_places, source_weights}, "venue_distance_m", "top_places",
    # "trend" {method, k, run_length, yoy_months},
    # "disclosure" {release, threshold, handling}
    params: Mapping[str, Any]
    resolution: int
    n_study_cells: int
    cell_area_km2: float
    first_month: str
    last_month: str
    months: tuple[str, ...]  # every month of the period, first..last
    missing_months: tuple[str, ...]
    crime_types: tuple[str, ...]  # police.uk crime types of interest
    definitions: Mapping[str, Any]  # nte_window, harm index, offence table version, source weights, ...
    synthetic_sources: tuple[str, ...]
    inputs: tuple[InputFile, ...]


@dataclass(frozen=True)
class Volume:
    """police.uk VAWG-relevant crime mapped inside the force area over the period."""

    total: int | None
    top_cells: int  # number of cells in "the top 1% of cells"
    top_share: float | None  # share of crime in those cells
    top_area_share: float
    gi_hot_cells: int
    gi_hot_share: float | None
    gi_hot_area_share: float
    published: int | None = None  # police.uk rows of these categories published (located or not, any place)


@dataclass(frozen=True)
class Hotspots:
    """Where: KDE, Gi*, DBSCAN on police.uk VAWG-relevant crime, and their held-out quality.

    counts : h3_cell, count (every study-area cell, zeros included)
    gi : h3_cell, count, gi_z, gi_p, gi_p_fdr, gi_significant, gi_bin (-3..3), over the study area
    clusters : GeoDataFrame (EPSG:27700) as hotspots.clustering.dbscan gives: dbscan_cluster, n_points
        (crimes in the cluster), weighted_size, centroid_x, centroid_y, extent_m, area_m2, geometry (hull)
    points : x, y of the events clustered (restricted only; figures)
    places : the top police.uk cells, columns rank, h3_cell, count, label, lsoa, lsoa_code,
        imd_decile, gi_z
    quality : method, n_cells, area_share, hit_rate, pai, pei, rri, n_test_hot, n_test
    pai_curve : as hotspots.evaluation.evaluate_cells without hot_cells (None when too few months)
    split : {"train_months": [...], "test_months": [...]} (empty when too few months)
    spacetime : cells with a space-time class other than "no pattern" (profiles.where.spacetime_classes):
        h3_cell, st_class, st_hot_periods, st_cold_periods, st_periods; None when not computed
    """

    counts: pd.DataFrame | None
    gi: pd.DataFrame
    kde: KDEResult | None
    clusters: gpd.GeoDataFrame | None
    points: pd.DataFrame | None
    places: pd.DataFrame
    quality: pd.DataFrame
    pai_curve: pd.DataFrame | None
    split: Mapping[str, list[str]]
    spacetime: pd.DataFrame | None = None
    # study-area cells holding any police.uk map point over the period (any crime type): a proxy for the
    # built-up area (map points are street and building locations), for PAI against the built-up area
    built_cells: int | None = None
    # repeat locations per source ("police_uk": map points, an upper bound; "rms": offence coordinates):
    # hotspots.repeats.RepeatLocations.to_dict()
    repeats: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def hot_cells(self) -> tuple[str, ...]:
        """Gi* hot spots that pass the FDR level (positive bin; works on shared numbers without gi_z)."""
        g = self.gi
        return tuple(g.loc[g["gi_significant"].astype(bool) & (g["gi_bin"] > 0), "h3_cell"].astype(str))


@dataclass(frozen=True)
class Trend:
    """When over months (police.uk VAWG-relevant crime).

    monthly : month, count, available, mean, ucl, lcl, signal, run (hotspots.trends.control_limits)
    yoy : hotspots.trends.year_on_year's dict (``available`` False with ``reason`` when not computable)
    chart : when yoy is unavailable, what the control chart shows (above, below, months, mean,
        last_month, last_count, run_months, reason); else None
    by_type : crime_type, month, count, available
    """

    monthly: pd.DataFrame
    yoy: Mapping[str, Any]
    chart: Mapping[str, Any] | None
    by_type: pd.DataFrame


@dataclass(frozen=True)
class ThreatCounts:
    """Counts by threat area and month, every source (summary and shared tables).

    table : threat_area, month, count, available (bool: the source covers that month), suppressed
        (bool), long form, every month of the period for every threat area (count 0 where the source
        has no event that month; count of an unavailable month is 0 and not published)
    totals : threat_area, count (Int64: the sum of the area's available months), suppressed (bool)
    sources : threat_area -> source
    """

    table: pd.DataFrame
    totals: pd.DataFrame
    sources: Mapping[str, str]


@dataclass(frozen=True)
class Fused:
    """Sources fused on H3 cells.

    grids : band ("all", "nte", "other") -> h3_cell, source, count[, n_events, weight_sum]
        (hotspots.fusion.source_grids); plus "nte_rms_ae" -> h3_cell, source ("rms+ae"), count (int:
        the NTE-window aoristic counts of RMS and A&E summed per cell and rounded, cells with count > 0;
        map.html's NTE layer)
    places : place_scores over all cells: h3_cell, <source>_count, <source>_share, place_score,
        place_rank, and for the top rows label, lsoa_code, imd_decile
    perception : h3_cell, perception_count, recorded_count, perception_share, recorded_share, gap_ratio,
        gap_log2, gap_class, reasons (str: the two commonest StreetSafe answers of a felt-unsafe cell, else "")
    perception_raster, kde_recorded : the restricted rasters (KDEResult, EPSG:27700)
    basis : profiles.fused.FusedBasis.to_dict(): the one recorded-crime source, the sources fused, the common
        months, whether dwellings were left out (public space) and how many events each rule left out
    """

    grids: Mapping[str, pd.DataFrame]
    places: pd.DataFrame
    perception: pd.DataFrame | None
    kde_recorded: KDEResult | None
    perception_raster: KDEResult | None
    basis: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Venues:
    """NTE venues.

    risk : hotspots.venues.venue_risk: the venue's columns (venue_id, name, kind, postcode, address, x, y,
        lng, lat, ...), closing_times, crime_within[_nte], ae_within[_nte], all_within[_nte],
        crime_nearest[_nte], ae_nearest[_nte], nearest_count, nearest_nte, risk_rank; ordered by risk_rank
    risky : the risky-facilities curve (hotspots.venues.risky_facilities): venue_id, name, incidents,
        venue_rank, cum_venue_share, cum_incidents, cum_incident_share; attrs["summary"]
    summary : n_venues, top10_share, gini, distance_m, top_name, synthetic
    concentration_area : local authority whose venues were used
    """

    risk: pd.DataFrame | None
    risky: pd.DataFrame | None
    summary: Mapping[str, Any] | None
    concentration_area: str | None
    concentration: VenueConcentration | None


@dataclass(frozen=True)
class When:
    """Time of week.

    weekday_hour : source -> hotspots.timebands.weekday_hour_table (weekday x hour, aoristic)
    nte_by_source : source, label, synthetic, time_resolved (bool), events, nte_share (None when not
        time-resolved)
    nte : share, window, window_share, rate_ratio, synthetic (RMS); None without RMS
    """

    weekday_hour: Mapping[str, pd.DataFrame]
    nte_by_source: pd.DataFrame
    nte: Mapping[str, Any] | None


@dataclass(frozen=True)
class What:
    """Offence mix and harm.

    police_uk_mix : crime_type -> count
    rms_mix : vawg_group label -> count (None without RMS)
    rms_harm : vawg_group label -> harm sum (None without RMS)
    harm_by_group : threat_area, harm (the one recorded-crime source; NaN-free)
    harm_total : the recorded-crime source's harm (police.uk and RMS are never added)
    harm_by_source : source, events, weighted, verified_share, harm, harm_rounded (police.uk and RMS side by side)
    space : RMS VAWG offences by place: threat_area (label), public (int), private (int: at a dwelling); None
        without RMS
    outcomes : RMS VAWG offences by outcome (hotspots.outcomes.outcome_shares): group (threat-area label),
        offences, open, assigned, charged, outcome_14, outcome_15, outcome_16, other, share_charged, share_14_16;
        None without RMS
    """

    police_uk_mix: pd.Series
    rms_mix: pd.Series | None
    rms_harm: pd.Series | None
    rms_synthetic: bool
    harm_by_group: pd.DataFrame
    harm_total: float | None
    harm_text: str
    harm_by_source: pd.DataFrame | None = None
    space: pd.DataFrame | None = None
    outcomes: pd.DataFrame | None = None


@dataclass(frozen=True)
class Context:
    """Deprivation and comparator forces."""

    deprivation: DeprivationContext | None
    comparison: ForceComparison | None
    cell_imd: pd.DataFrame | None = None  # index h3_cell: lsoa_code (main LSOA of the cell's VAWG crime), imd_decile
    lsoa: LSOADeprivation | None = None  # hotspot LSOAs against the others; crime per resident by IMD decile
    # crime per 1,000 residents by local authority: area, count, population, rate_per_1000, ci_low, ci_high
    rates: pd.DataFrame | None = None


@dataclass(frozen=True)
class DataQuality:
    """Data-quality measures beyond the reconciliations."""

    no_coordinates: int | None  # None: withheld by disclosure control (shared versions)
    no_coordinates_share: float | None
    stacking_share: float | None
    harm_unverified: float | None
    missing_sources: tuple[str, ...] = ()  # partner data not supplied: "CCTV", "street lighting", "A&E (ISTV)", ...
    # police.uk rows without a location by month: month, rows, without_location, share
    no_location_by_month: pd.DataFrame | None = None


@dataclass(frozen=True)
class Findings:
    """Key findings, intelligence gaps and recommendations (built from the numbers above)."""

    findings: tuple[Finding, ...]
    gaps: tuple[Gap, ...]
    recommendations: tuple[Recommendation, ...]


@dataclass(frozen=True)
class Products:
    """Restricted data products (never in a shared version: ``to_shared`` drops them).

    grid : study_area_grid (h3_cell, count_all, count_interest, count_<type>..., in_study_area, geometry)
    monthly : h3_cell, source, month, crime_type, count
    """

    grid: pd.DataFrame | None = None
    monthly: pd.DataFrame | None = None


@dataclass(frozen=True)
class Geography:
    """Outlines drawn on figures and maps (EPSG:27700).

    boundary : GeoSeries, the force area as one (multi)polygon; None without a boundary
    local_authorities : GeoDataFrame name, geometry (one row per local authority); None when none given
    towns : name, population, x, y (EPSG:27700): the main towns inside the force area (hotspots.towns)
    """

    boundary: gpd.GeoSeries | None = None
    local_authorities: gpd.GeoDataFrame | None = None
    towns: pd.DataFrame | None = None


@dataclass(frozen=True)
class ProfileNumbers:
    """Everything the force profile found, before any rendering.

    See the module docstring for conventions; each part documents its columns.
    """

    meta: Meta
    disclosure: Disclosure
    sources: tuple[SourceQuality, ...]
    volume: Volume
    hotspots: Hotspots
    trend: Trend
    threats: ThreatCounts
    fused: Fused
    venues: Venues
    when: When
    what: What
    context: Context
    quality: DataQuality
    findings: Findings
    products: Products = field(default_factory=Products)
    geography: Geography = field(default_factory=Geography)

