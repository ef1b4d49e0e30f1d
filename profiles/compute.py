"""The numbers stage: ``compute_profile(cfg) -> ProfileNumbers``, pure (no file written, nothing rendered).

The story::

    sources = load_sources(cfg)                 # read every input once, grid the events once
    numbers = compute_numbers(cfg, sources)     # where, when, fused, context, quality, findings

``compute_profile`` is both; the national runner calls it per force and the
app caches it. Every analytic parameter comes from the config
(:func:`analysis_params` echoes them into ``meta.params``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import platform
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots.config import Config, config_to_dict
from hotspots.grid import average_cell_area_km2, cells_to_int
from hotspots.kernel_warmup import background_compile
from hotspots.repeats import repeat_locations
from hotspots.towns import towns_in_area
from profiles import context_numbers as ctx
from profiles.cells import StudyArea
from profiles.findings import build_findings
from profiles.fused import (
    FusedBasis,
    fused_events,
    fused_grids,
    fused_places,
    label_places,
    perception_cells,
    present_sources,
    recorded_source,
    surfaces,
    venue_ranking,
    venue_summary,
)
from profiles.numbers import (
    Context,
    DataQuality,
    Disclosure,
    Findings,
    Fused,
    Geography,
    Hotspots,
    InputFile,
    Meta,
    Products,
    ProfileNumbers,
    ThreatCounts,
    Trend,
    Venues,
    Volume,
    What,
    When,
)
from profiles.places import identify_places
from profiles.sources import Sources, load_sources
from profiles.when import monthly_trend, nte_by_source, nte_numbers, trend_chart_numbers, weekday_hour
from profiles.where import (
    HotspotLayers,
    analyse_hotspots,
    describe_cells,
    monthly_products,
    spacetime_classes,
    study_area_grid,
    top_places,
    volume_numbers,
)

__all__ = ["compute_profile", "compute_numbers", "analysis_params", "tool_version"]

def compute_profile(cfg: Config, *, progress: bool | None = None) -> ProfileNumbers:
    """Every number of a force profile: ingest, combine, statistics and findings. Writes no file.

    Parameters
    ----------
    cfg : Config
        The force config (:func:`hotspots.config.load_config`).
    progress : bool, optional
        Progress bars for the police.uk read.

    Returns
    -------
    ProfileNumbers
        Restricted numbers (no disclosure control); ``profiles.shared.to_shared`` makes the shared copy.
    """
    with background_compile():  # first run with an empty numba cache: the other core compiles kernels too
        return compute_numbers(cfg, load_sources(cfg, progress=progress))


def compute_numbers(cfg: Config, sources: Sources) -> ProfileNumbers:
    """The profile's numbers from sources already read (no I/O).

    Parameters
    ----------
    cfg : Config
        The force config: every analytic parameter.
    sources : Sources
        :func:`profiles.sources.load_sources`.

    Returns
    -------
    ProfileNumbers
    """
    interest = tuple(cfg.offences.crime_types_of_interest)
    study = StudyArea(sources.study_cells)
    police = sources.police
    vawg = police[police["crime_type"].isin(list(interest)).to_numpy()]
    events = sources.events[sources.events["in_force_area"].to_numpy()]
    missing = _missing_months(sources.police_uk.reconciliation)

    layers = analyse_hotspots(vawg, study=study, boundary=sources.boundary, params=cfg.hotspots,
                              missing_months=missing)
    top = layers.counts.sort_values("count", ascending=False).head(cfg.hotspots.top_places)
    hot = layers.hot_cells if len(layers.hot_cells) else top["h3_cell"].to_numpy()
    dep, cell_imd = ctx.deprivation(police, vawg, hot, imd=sources.imd)
    n_months = len(set(vawg["month"].astype(str)) - set(missing))
    lsoa_dep, la_rates = ctx.lsoa_numbers(police, vawg, hot, imd=sources.imd, months=n_months)
    fev, basis = fused_events(events, recorded=recorded_source(events, choice=cfg.fusion.recorded_source),
                              public_space=cfg.fusion.public_space)
    fused = _fused(cfg, sources, fev, basis, vawg, cell_imd)
    published, no_location = ctx.published_coverage(sources.police_uk, police, interest=interest)
    numbers = ProfileNumbers(
        meta=_meta(cfg, sources, study, missing),
        disclosure=Disclosure(handling=cfg.force.handling),
        sources=ctx.source_quality(sources.police_uk, sources.partners),
        volume=Volume(
            **volume_numbers(layers, n_study=len(study), top_cells_share=cfg.hotspots.evaluation.top_cells_share),
            published=published,
        ),
        hotspots=dataclasses.replace(_hotspots(cfg, layers, vawg, cell_imd, study=study, missing=missing),
                                     built_cells=_built_cells(police, study),
                                     repeats=_repeats(vawg, events)),
        trend=_trend(cfg, vawg, missing),
        threats=_threats(events, sources, missing),
        fused=fused,
        venues=_venues(cfg, sources, police, fev, interest),
        when=When(
            weekday_hour=weekday_hour(events),
            nte_by_source=nte_by_source(events, synthetic=sources.synthetic_sources),
            nte=nte_numbers(events, window=sources.window),
        ),
        what=dataclasses.replace(_what(vawg, events, sources, recorded=basis.recorded),
                                 outcomes=ctx.outcome_numbers(sources.rms, events)),
        context=Context(
            lsoa=lsoa_dep,
            rates=la_rates,
            deprivation=dep,
            comparison=ctx.comparison(sources.comparators, sources.population, force=cfg.force.name,
                                      crime_types=interest),
            cell_imd=cell_imd,
        ),
        quality=dataclasses.replace(_quality(cfg, sources, vawg), no_location_by_month=no_location),
        findings=Findings(findings=(), gaps=(), recommendations=()),
        products=Products(grid=study_area_grid(police, study, interest=interest), monthly=monthly_products(police)),
        geography=Geography(
            boundary=gpd.GeoSeries([sources.area], crs="EPSG:27700") if sources.area is not None else None,
            local_authorities=sources.local_authorities,
            towns=towns_in_area(sources.area),
        ),
    )
    return dataclasses.replace(numbers, findings=build_findings(numbers))  # findings read the numbers alone


def _missing_months(rec: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(sorted({m for cov in rec["coverage"].values() for m in cov["missing_months"]}))


def tool_version() -> str:
    """The installed safer-spaces version ("unknown" when run from a source tree without installing)."""
    try:
        return version("safer-spaces")
    except PackageNotFoundError:
        return "unknown"


def analysis_params(cfg: Config) -> dict[str, Any]:
    """Every analytic parameter of the run, in the layout the method annex, run.json and summary.json echo.

    Examples
    --------
    >>> from hotspots.config import load_config
    >>> p = analysis_params(load_config("configs/avon-and-somerset.toml"))
    >>> p["kde"]["radius_m"], p["gi_star"]["alpha"], p["dbscan"]["min_samples"], p["test_months"]
    (400.0, 0.05, 60, 6)
    """
    h, f, d = cfg.hotspots, cfg.fusion, cfg.disclosure
    return {
        "kde": {"kernel": h.kde.kernel, "radius_m": h.kde.radius_m, "pixel_m": h.kde.pixel_m,
                "grid": "force boundary", "output": "raw"},
        "gi_star": {
            "k": h.gi_star.k,
            "weights": f"binary k-ring, k={h.gi_star.k}, self included",
            "study_area": "every H3 cell of the force area",
            "alpha": h.gi_star.alpha,
            "fdr": h.gi_star.fdr,
            "correction": "Benjamini-Hochberg FDR" if h.gi_star.fdr else "none",
            "inference": "analytical (normal)",
        },
        "dbscan": {
            "eps_m": h.dbscan.eps_m,
            "min_samples": h.dbscan.min_samples,
            "zoom": list(h.dbscan.zoom) if h.dbscan.zoom is not None else None,
            "zoom_name": h.dbscan.zoom_name,
            "note": "police.uk map points clustered once, weighted",
        },
        "top_cells": {"share_of_cells": h.evaluation.top_cells_share},
        "kde_top": {"share_of_area": h.evaluation.kde_top_share},
        "test_months": h.evaluation.test_months,
        "min_train_months": h.evaluation.min_train_months,
        "top_places": h.top_places,
        "surfaces": {"kernel": "quartic", "radius_m": f.kde.radius_m, "pixel_m": f.kde.pixel_m},
        "place_score": {"method": f.place_score, "value": f.place_score_value, "top_places": f.top_places,
                        "source_weights": dict(f.source_weights)},
        "venue_distance_m": f.venue_distance_m,
        "trend": {"method": cfg.trends.method, "k": cfg.trends.k, "run_length": cfg.trends.run_length,
                  "yoy_months": cfg.trends.yoy_months},
        "disclosure": {"release": d.release, "threshold": d.threshold, "handling": d.shared_handling},
    }


def _sha256(path: Path | None) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else "0" * 64


def _meta(cfg: Config, sources: Sources, study: StudyArea, missing: tuple[str, ...]) -> Meta:
    rec = sources.police_uk.reconciliation
    cov = rec["coverage"].values()
    first = min(c["first_month"] for c in cov) if cov else ""
    last = max(c["last_month"] for c in cov) if cov else ""
    months = tuple(pd.period_range(first, last, freq="M").astype(str)) if first else ()
    inputs = [InputFile("police_uk", f["file"], f["sha256"], str(f.get("path", ""))) for f in rec["files"]]
    for name, r in sources.partners.items():
        inputs += [InputFile(name, f["file"], f["sha256"], str(f.get("path", ""))) for f in r.reconciliation["files"]]
    res = cfg.grid.h3_resolution
    return Meta(
        force_name=cfg.force.name,
        force_slug=cfg.force.slug,
        marking=cfg.force.security_classification,
        created_utc=dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        tool_version=tool_version(),
        python=platform.python_version(),
        config_file=str(cfg.source_file) if cfg.source_file is not None else None,
        config_sha256=_sha256(cfg.source_file),
        config=config_to_dict(cfg),
        params=analysis_params(cfg),
        resolution=res,
        n_study_cells=len(study),
        cell_area_km2=average_cell_area_km2(res),
        first_month=first,
        last_month=last,
        months=months,
        missing_months=missing,
        crime_types=tuple(cfg.offences.crime_types_of_interest),
        definitions=dict(sources.definitions),
        synthetic_sources=sources.synthetic_sources,
        inputs=tuple(inputs),
    )


def _hotspots(cfg: Config, layers: HotspotLayers, vawg: pd.DataFrame, cell_imd: pd.DataFrame | None, *,
              study: StudyArea, missing: tuple[str, ...]) -> Hotspots:
    top = layers.counts.sort_values("count", ascending=False).head(cfg.hotspots.top_places)
    labels = describe_cells(vawg, top["h3_cell"])
    have = sorted(set(vawg["month"].astype(str)) - set(missing))
    st = None
    if len(have) >= 4:  # sfhotspot needs a recent window of at least one period besides the older ones
        st = spacetime_classes(vawg, list(study.cells), months=have, k=cfg.hotspots.gi_star.k)
        st = st[st["st_class"] != "no pattern"].reset_index(drop=True)
    return Hotspots(
        counts=layers.counts,
        gi=layers.gi,
        kde=layers.kde,
        clusters=layers.clusters,
        points=vawg[["x", "y"]].reset_index(drop=True),
        places=top_places(layers, labels, cell_imd, n=cfg.hotspots.top_places,
                          identity=identify_places(vawg, top["h3_cell"])),
        quality=layers.quality,
        pai_curve=layers.pai_curve,
        split=layers.split,
        spacetime=st,
    )


def _repeats(vawg: pd.DataFrame, events: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Repeat locations of police.uk VAWG-relevant crime (map points) and of RMS VAWG offences (coordinates)."""
    out = {"police_uk": repeat_locations(vawg).to_dict()}
    rms = events[(events["source"] == "rms").to_numpy()]
    if len(rms):
        out["rms"] = repeat_locations(rms).to_dict()
    return out


def _built_cells(police: pd.DataFrame, study: StudyArea) -> int:
    """Study-area cells holding any police.uk crime map point (any type): the built-up-area proxy."""
    occupied = np.unique(police["h3"].to_numpy(np.uint64))
    return int(np.isin(cells_to_int(list(study.cells)), occupied).sum())


def _trend(cfg: Config, vawg: pd.DataFrame, missing: tuple[str, ...]) -> Trend:
    monthly, yoy, by_type = monthly_trend(vawg, missing_months=missing, params=cfg.trends)
    return Trend(monthly=monthly, yoy=yoy, chart=trend_chart_numbers(monthly, yoy), by_type=by_type)


def _threats(events: pd.DataFrame, sources: Sources, missing: tuple[str, ...]) -> ThreatCounts:
    rec = sources.police_uk.reconciliation
    cov = rec["coverage"].values()
    months = list(pd.period_range(min(c["first_month"] for c in cov), max(c["last_month"] for c in cov),
                                  freq="M").astype(str)) if cov else []
    table, totals, src = ctx.threat_counts(events, months=months, missing_months=missing)
    return ThreatCounts(table=table, totals=totals, sources=src)


def _fused(cfg: Config, sources: Sources, events: pd.DataFrame, basis: FusedBasis, vawg: pd.DataFrame,
           cell_imd: pd.DataFrame | None) -> Fused:
    """The fused analyses on ``events`` already cut to one recorded source, public space and the common period."""
    harm = sources.definitions["harm_index"]
    harm_label = None if harm == "none" else str(harm)
    grids = fused_grids(events, resolution=cfg.grid.h3_resolution, weighted=harm_label is not None)
    present = present_sources(events)
    places = fused_places(grids, sources=present, params=cfg.fusion, recorded=basis.recorded)
    labels = describe_cells(vawg, places["h3_cell"].head(cfg.fusion.top_places))
    synthetic = bool(events["synthetic"].any())
    places = label_places(places, labels, cell_imd, n=cfg.fusion.top_places, synthetic=synthetic,
                          identity=identify_places(vawg, places["h3_cell"].head(cfg.fusion.top_places)))
    recorded, gap_raster = surfaces(events, harm_label=harm_label, params=cfg.fusion,
                                    perception="streetsafe" in present)
    return Fused(
        grids=grids,
        places=places,
        perception=perception_cells(grids, sources.reasons, sources=present),
        kde_recorded=recorded,
        perception_raster=gap_raster,
        basis=basis.to_dict(),
    )


def _venues(cfg: Config, sources: Sources, police: pd.DataFrame, events: pd.DataFrame,
            interest: tuple[str, ...]) -> Venues:
    have = sources.venue_rows is not None and len(sources.venue_rows) > 0
    risk, risky = venue_ranking(sources.nte_venues if have else None, events, distance_m=cfg.fusion.venue_distance_m)
    area, conc = ctx.venue_concentration(police, sources.nte_venues, sources.local_authorities, interest=interest,
                                         distance_m=cfg.fusion.venue_distance_m)
    return Venues(
        risk=risk,
        risky=risky,
        summary=venue_summary(risk, risky, events, distance_m=cfg.fusion.venue_distance_m),
        concentration_area=area,
        concentration=conc,
    )


def _what(vawg: pd.DataFrame, events: pd.DataFrame, sources: Sources, *, recorded: str) -> What:
    puk, rms_mix, rms_harm, rms_syn = ctx.offence_mix(vawg, events)
    by_source, by, total, text = ctx.harm_numbers(events, harm_index=str(sources.definitions["harm_index"]),
                                                  recorded=recorded)
    return What(police_uk_mix=puk, rms_mix=rms_mix, rms_harm=rms_harm, rms_synthetic=rms_syn, harm_by_group=by,
                harm_total=total, harm_text=text, harm_by_source=by_source, space=ctx.space_split(events))


def _quality(cfg: Config, sources: Sources, vawg: pd.DataFrame) -> DataQuality:
    rec = sources.police_uk.reconciliation
    no_coord = int(rec["by_reason"].get("no_coordinates", 0))
    hw = sources.definitions.get("harm_weights", {})
    missing = [
        name
        for name, have in (
            ("CCTV", bool(cfg.partnership.cctv)),
            ("street lighting", bool(cfg.partnership.street_lights)),
            ("A&E (ISTV)", bool(cfg.ae.files)),
            ("StreetSafe", bool(cfg.streetsafe.files)),
        )
        if not have
    ]
    return DataQuality(
        no_coordinates=no_coord,
        no_coordinates_share=no_coord / rec["rows_read"] if rec["rows_read"] else 0.0,
        stacking_share=ctx.stacking_share(vawg),
        harm_unverified=1 - hw.get("verified", 0) / hw["events_weighted"] if hw.get("events_weighted") else None,
        missing_sources=tuple(missing),
    )
