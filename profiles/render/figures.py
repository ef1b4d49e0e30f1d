"""Every figure of the force profile, drawn from its numbers: ``render_figures(numbers) -> {key: png}``.

Keys are output paths, ``"figures/<name>.png"``, and each figure belongs to a
report section (:func:`figure_captions` gives section, alt text, caption and
note, in report order, for exactly the figures :func:`render_figures` draws):

============  ==========================================================
section       figures
============  ==========================================================
``trend``     ``trend``
``where``     ``kde``, ``gistar``, ``dbscan``
``when``      ``weekday_hour_<source>`` (sources sorted)
``what``      ``offence_mix``, ``harm``, ``puk_mix``
``venue``     ``risky_facilities``
``dep``       ``deciles``, ``pai_curve``
============  ==========================================================

A figure is drawn only when its numbers are there (no RMS: no offence mix;
a shared version without event points: the DBSCAN hulls alone). Nothing here
reads a file, computes a statistic or applies a threshold: a value withheld
in shared numbers (None/NA) is drawn as ``[c]``, never as zero. Every figure
carries the security marking top and bottom and a source line; figures of
synthetic data carry the "SYNTHETIC DATA" stamp. The same numbers give the
same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hotspots.grid import cells_to_polygons
from hotspots.nte_window import parse_nte_window
from profiles.numbers import ProfileNumbers
from profiles.render.charts import bar_chart, decile_chart, pai_curve_chart, trend_chart
from profiles.render.staticmaps import (
    MapContext,
    clusters_png,
    concentration_png,
    gistar_png,
    kde_png,
    weekday_hour_png,
)

__all__ = ["FigureCaption", "SECTIONS", "figure_captions", "render_figures"]

SECTIONS = ("trend", "where", "when", "what", "venue", "dep")
WITHHELD = "[c]"
VENUE_NOTE = "venues: Open Pubs, FSA ratings, NightCapp closing times (OGL)"


@dataclass(frozen=True)
class FigureCaption:
    """Where a figure goes in the report and what it says.

    section : one of :data:`SECTIONS`
    alt : alternative text of the image
    title : caption shown above or below it
    note : a reading note (may be empty)
    """

    section: str
    alt: str
    title: str
    note: str = ""


_Plan = list[tuple[str, FigureCaption, Callable[[], bytes]]]


def _key(name: str) -> str:
    return f"figures/{name}.png"


def _label(numbers: ProfileNumbers, source: str) -> tuple[str, bool]:
    """A source's label and whether it is synthetic."""
    synthetic = source in set(numbers.meta.synthetic_sources)
    for sq in numbers.sources:
        if sq.source == source:
            return sq.label, synthetic or sq.synthetic
    return source, synthetic


def _values(series: pd.Series | None) -> pd.Series | None:
    """A series for a bar chart, ascending (withheld values first, drawn as [c]); None when empty."""
    if series is None or not len(series):
        return None
    v = pd.to_numeric(series, errors="coerce").astype(float)
    return v.sort_values(na_position="first")


def _monthly(monthly: pd.DataFrame, params: Any) -> pd.DataFrame | None:
    """The trend frame with ``month`` as period[M], as the chart reads it (control-limit rule in its attrs)."""
    if monthly is None or not len(monthly) or "month" not in monthly.columns:
        return None
    df = monthly.copy()
    df.attrs.update({k: v for k, v in dict(params or {}).items() if k in ("method", "k", "run_length")})
    df["month"] = pd.PeriodIndex(df["month"].astype(str), freq="M")
    df["count"] = pd.to_numeric(df["count"], errors="coerce").astype("Float64")
    return df


def _shares(values: Any) -> list[float] | None:
    """Ten decile shares, or None when absent or withheld."""
    if values is None:
        return None
    a = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(float)
    return a.tolist() if a.shape == (10,) and np.isfinite(a).all() and abs(a.sum() - 1) <= 0.01 else None


def _map_context(numbers: ProfileNumbers, *, places: int = 10) -> MapContext:
    """Local-authority names, towns and the top ``places`` ranked police.uk places (numbered) for static maps."""
    geo = numbers.geography
    la = None
    if geo.local_authorities is not None and len(geo.local_authorities):
        pts = geo.local_authorities.geometry.representative_point()
        la = pd.DataFrame({"name": geo.local_authorities["name"].astype(str).str.replace(r"\s*\(B\)$", "", regex=True)
                           .str.replace(r"^City of ", "", regex=True).str.replace(" County", "", regex=False),
                           "x": pts.x.to_numpy(), "y": pts.y.to_numpy()})
    top = None
    p = numbers.hotspots.places
    if places and p is not None and len(p):
        p = p.head(places)
        centres = cells_to_polygons(p["h3_cell"].astype(str).to_numpy(), crs="EPSG:27700").centroid
        label = (p["streets"] if "streets" in p.columns else p["label"]).astype(str).str.split(";").str[0]
        top = pd.DataFrame({"number": p["rank"].astype(int).to_numpy(), "x": centres.x.to_numpy(),
                            "y": centres.y.to_numpy(), "label": (label + ", " + p["lsoa"].astype(str)).to_numpy()})
    return MapContext(la_labels=la, towns=geo.towns, places=top)


def _where(numbers: ProfileNumbers, marking: str, puk_note: str) -> _Plan:
    """KDE, Gi* and DBSCAN maps."""
    plan: _Plan = []
    hs, geo, params = numbers.hotspots, numbers.geography, numbers.meta.params
    boundary, las = geo.boundary, geo.local_authorities
    ctx, ctx_plain = _map_context(numbers), _map_context(numbers, places=0)
    kp = params.get("kde", {})
    kde = hs.kde
    if kde is not None:
        how = ", ".join(
            s for s in (
                str(kp["kernel"]) if kp.get("kernel") else "",
                f"{kp['radius_m']:g} m radius" if kp.get("radius_m") else "",
                f"{kp['pixel_m']:g} m pixels" if kp.get("pixel_m") else "",
            ) if s
        )
        title = "Kernel density of VAWG-relevant crime" + (f" ({how})" if how else "")
        radius = kp.get("radius_m")
        plan.append((
            _key("kde"),
            FigureCaption("where", "Kernel density surface", "Kernel density (KDE)",
                          f"Darker = more crime within {radius:g} m. Force boundary solid, local authorities dashed."
                          if radius else "Darker = more crime nearby. Force boundary solid, local authorities dashed."),
            lambda: kde_png(kde, boundary=boundary, las=las, marking=marking, source_note=puk_note, context=ctx,
                                title=title, radius_m=radius),
        ))
    gi = hs.gi
    if gi is not None and len(gi) and "gi_bin" in gi.columns:
        gp = params.get("gi_star", {})
        alpha = gp.get("alpha")
        fdr = f"FDR {alpha:.0%}" if isinstance(alpha, int | float) else "FDR"

        def draw_gi() -> bytes:
            sig = gi.loc[_passing(gi)]
            poly = cells_to_polygons(sig["h3_cell"].astype(str).to_numpy(), crs="EPSG:27700")
            g = poly.to_frame(name="geometry").set_geometry("geometry").reset_index(drop=True)
            g["gi_bin"] = pd.to_numeric(sig["gi_bin"]).astype(int).to_numpy()
            return gistar_png(g, boundary=boundary, las=las, marking=marking, source_note=puk_note, context=ctx,
                                  title=f"Getis-Ord Gi* hot and cold spots, H3 resolution {numbers.meta.resolution}"
                                  f" ({fdr})", legend_title=f"Gi* ({fdr})")

        plan.append((
            _key("gistar"),
            FigureCaption("where", "Gi* hot spots", "Statistically significant hot spots (Gi*)",
                          f"Exactly the cells that pass the stated level ({fdr}, Benjamini-Hochberg), shaded by "
                          "ArcGIS's confidence bins (99% darkest). " + _study_area_note(numbers)),
            draw_gi,
        ))
    if hs.clusters is not None:
        dp = params.get("dbscan", {})
        zoom = dp.get("zoom")
        eps, min_samples = dp.get("eps_m"), dp.get("min_samples")
        how = f" (eps {eps:g} m, min {min_samples})" if eps is not None and min_samples is not None else ""
        where = f", {dp['zoom_name']}" if dp.get("zoom_name") else (", the densest area" if zoom else "")
        plan.append((
            _key("dbscan"),
            FigureCaption("where", "DBSCAN clusters", "Clusters (DBSCAN)" + where.replace(", the densest area", ""),
                          f"{len(hs.clusters):,} clusters force-wide; many are a single busy police.uk map point."),
            lambda: clusters_png(hs.clusters, hs.points, boundary=boundary, las=las, marking=marking, context=ctx_plain,
                                     source_note=puk_note, zoom=zoom,
                                     title=f"DBSCAN clusters of VAWG-relevant crime{where}{how}, top 10 numbered"),
        ))
    return plan


def _weekday_hour(table: pd.DataFrame, **kw: Any) -> Callable[[], bytes]:
    """The drawing of one weekday x hour figure, for later."""
    return lambda: weekday_hour_png(table, **kw)


def _when(numbers: ProfileNumbers, marking: str) -> _Plan:
    plan: _Plan = []
    text = numbers.meta.definitions.get("nte_window")
    window = parse_nte_window(text) if text else None
    for source, table in sorted(numbers.when.weekday_hour.items()):
        if table is None or not len(table):
            continue
        label, synthetic = _label(numbers, source)
        shown = label + (" [SYNTHETIC]" if synthetic else "")
        note = label  # the synthetic stamp says "SYNTHETIC DATA: not real crimes" itself
        plan.append((
            _key(f"weekday_hour_{source}"),
            FigureCaption("when", f"{shown} by weekday and hour", f"{shown} by weekday and hour"),
            _weekday_hour(table, title=f"{shown} by weekday and hour (aoristic: time windows spread over their "
                          "hours)", window=window, marking=marking, source_note=note, synthetic=synthetic),
        ))
    return plan


def _what(numbers: ProfileNumbers, marking: str, puk_note: str) -> _Plan:
    plan: _Plan = []
    what = numbers.what
    missing = WITHHELD if numbers.disclosure.shared else "n/a"
    mix, harm, puk = _values(what.rms_mix), _values(what.rms_harm), _values(what.police_uk_mix)
    if harm is not None:  # the weights support two significant figures, no more
        harm = harm.map(_two_figures)
    if mix is not None:
        plan.append((
            _key("offence_mix"),
            FigureCaption("what", "Offence mix", "Offence mix"),
            lambda: bar_chart(mix, title="RMS VAWG offences by group", xlabel="offences", ylabel="offence group",
                                  marking=marking, source_note="force RMS export", synthetic=what.rms_synthetic,
                                  missing_label=missing),
        ))
    if harm is not None:
        index = str(numbers.meta.definitions.get("harm_index") or "")
        short = index.split("@", 1)[0]
        plan.append((
            _key("harm"),
            FigureCaption("what", "Harm by offence group", "Harm by offence group"),
            lambda: bar_chart(harm, title=(f"Harm by group ({short}), two significant figures" if short
                                           else "Harm by group, two significant figures"),
                                  xlabel="harm (index units: days of imprisonment equivalent)", ylabel="offence group",
                                  marking=marking, source_note=f"force RMS export; harm index {index}".rstrip(),
                                  synthetic=what.rms_synthetic, missing_label=missing),
        ))
    if puk is not None:
        plan.append((
            _key("puk_mix"),
            FigureCaption("what", "police.uk categories", "police.uk categories"),
            lambda: bar_chart(puk, title="police.uk VAWG-relevant categories (a proxy: all victims), whole period",
                                  xlabel="crimes",
                                  ylabel="police.uk category", marking=marking, source_note=puk_note,
                                  missing_label=missing),
        ))
    return plan


def _venue(numbers: ProfileNumbers, marking: str) -> _Plan:
    v = numbers.venues
    if v.risky is None or not len(v.risky):
        return []
    summary = dict(v.summary or {})
    distance = summary.get("distance_m", numbers.meta.params.get("venue_distance_m"))
    grids = numbers.fused.grids.get("all")
    present = set(grids["source"].astype(str)) if grids is not None and len(grids) else set()
    labels = [_label(numbers, s) for s in ("rms", "ae") if s in present]
    incidents = ", ".join(lab + (" [SYNTHETIC]" if syn else "") for lab, syn in labels) or "none"
    synthetic = any(syn for _, syn in labels) or bool(summary.get("synthetic"))
    within = f" within {distance:.0f} m" if isinstance(distance, int | float) else " nearby"
    return [(
        _key("risky_facilities"),
        FigureCaption("venue", "Risky facilities curve", "Risky facilities curve"),
        lambda: concentration_png(
            v.risky, title=f"Risky facilities: NTE-window incidents{within} of each venue", marking=marking,
            source_note=f"{VENUE_NOTE}; incidents: {incidents} (police.uk is month-only: no NTE-window share)",
            summary=summary, synthetic=synthetic),
    )]


def _study_area_note(numbers: ProfileNumbers) -> str:
    """What the Gi* study area implies: every cell of the force, most of it rural."""
    built, n = numbers.hotspots.built_cells, numbers.meta.n_study_cells
    if not built or not n:
        return ""
    hot = numbers.volume.gi_hot_cells
    return (f"The study area is every cell of the force area; only {built / n:.0%} of it holds any police.uk map "
            "point (the built-up area), so each cell is compared with a force mean that empty rural cells pull "
            f"down and the bar is low: {hot / built:.0%} of built-up cells pass. Read the map as where crime "
            "concentrates within towns, not as risk per resident.")


def _passing(gi: pd.DataFrame) -> np.ndarray:
    """Cells that pass the stated significance level (FDR-adjusted when asked): the map shows exactly these."""
    binned = pd.to_numeric(gi["gi_bin"], errors="coerce").fillna(0).to_numpy() != 0
    if "gi_significant" in gi.columns:
        binned &= gi["gi_significant"].fillna(False).astype(bool).to_numpy()
    return binned


def _two_figures(v: Any) -> Any:
    """``v`` rounded to two significant figures (missing values as they are).

    Examples
    --------
    >>> _two_figures(3127320.0), _two_figures(14800.4), _two_figures(None)
    (3100000.0, 15000.0, None)
    """
    x = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
    if not np.isfinite(x) or x == 0:
        return v
    return float(round(x, 1 - int(np.floor(np.log10(abs(x))))))


def _dep(numbers: ProfileNumbers, marking: str, puk_note: str) -> _Plan:
    plan: _Plan = []
    dep = numbers.context.deprivation
    hot = _shares(getattr(dep, "hotspot_event_shares", None))
    force = _shares(getattr(dep, "force_event_shares", None))
    ld = numbers.context.lsoa
    if ld is not None and len(ld.by_decile):
        b = ld.by_decile
        rates = pd.Series(pd.to_numeric(b["rate_per_1000"], errors="coerce").to_numpy(float),
                          index=[f"decile {d}" + (" (most deprived)" if d == 1 else " (least deprived)" if d == 10
                                                  else "") for d in b["imd_decile"]])
        plan.append((
            _key("deciles"),
            FigureCaption("dep", "Crime per resident by IMD decile", "Crime per resident by IMD decile"),
            lambda: bar_chart(rates, title="VAWG-relevant crime per 1,000 residents per year, by the IMD 2019 "
                                           "decile of the LSOA", xlabel="crimes per 1,000 residents per year "
                                           "(police.uk proxy; residents mid-2015)", marking=marking,
                              source_note="police.uk (OGL); English indices of deprivation 2019, Files 1 and 6 "
                                          "(OGL)", value_format="{:.0f}"),
        ))
    elif hot is not None and force is not None:
        plan.append((
            _key("deciles"),
            FigureCaption("dep", "IMD decile distribution", "IMD decile distribution"),
            lambda: decile_chart(hot, force, title="IMD 2019 decile of VAWG-relevant crime: Gi* hot spots vs the "
                                     "whole force", marking=marking,
                                     source_note="police.uk (OGL); English indices of deprivation 2019 (OGL)",
                                     hotspot_label="crimes in hot-spot cells", force_label="all crimes in the force",
                                     ylabel="share of crimes (%)"),
        ))
    curve = numbers.hotspots.pai_curve
    if curve is not None and len(curve):
        c = curve[["area_share", "hit_rate", "pai"]].apply(pd.to_numeric, errors="coerce")
        if (np.isfinite(c).all(axis=1) & (c["area_share"] > 0)).any():
            test = numbers.hotspots.split.get("test_months") or []
            last = f"the last {len(test)} months" if test else "later months"
            plan.append((
                _key("pai_curve"),
                FigureCaption("dep", "PAI curve", "PAI curve"),
                lambda: pai_curve_chart(curve, marking=marking, source_note=puk_note,
                                            title=f"PAI and hit rate of the top cells, trained on earlier months, "
                                            f"tested on {last}"),
            ))
    return plan


def _plan(numbers: ProfileNumbers) -> _Plan:
    """Every figure the numbers allow, in report order: (key, caption, draw)."""
    marking = numbers.meta.marking
    types = ", ".join(numbers.meta.crime_types)
    puk_note = "police.uk street-level crime (OGL v3.0)" + (f", {types}" if types else "")
    plan: _Plan = []
    monthly = _monthly(numbers.trend.monthly, numbers.meta.params.get("trend"))
    base = (numbers.trend.chart or {}).get("baseline", "")
    if monthly is not None and monthly["count"].notna().any():
        plan.append((
            _key("trend"),
            FigureCaption("trend", "Monthly VAWG-relevant crime with control limits",
                          "Monthly VAWG-relevant crime with control limits"),
            lambda: trend_chart(monthly, title="VAWG-relevant crime per month with control limits (mean ± 2 sd "
                                    + (f"of the baseline {base})" if base else "of the available months)"),
                                    marking=marking, source_note=puk_note),
        ))
    plan += _where(numbers, marking, puk_note)
    plan += _when(numbers, marking)
    plan += _what(numbers, marking, puk_note)
    plan += _venue(numbers, marking)
    plan += _dep(numbers, marking, puk_note)
    return plan


def figure_captions(numbers: ProfileNumbers) -> dict[str, FigureCaption]:
    """Section, alt text, caption and note of every figure :func:`render_figures` draws, in report order.

    Cheap (nothing is drawn), so the report can lay out its sections first.

    Parameters
    ----------
    numbers : ProfileNumbers
        Restricted or shared numbers.

    Returns
    -------
    dict of str to FigureCaption
        Keyed like :func:`render_figures` (``"figures/<name>.png"``).

    Examples
    --------
    >>> from profiles.compute import compute_profile  # doctest: +SKIP
    >>> caps = figure_captions(compute_profile(cfg))  # doctest: +SKIP
    >>> caps["figures/kde.png"].section  # doctest: +SKIP
    'where'
    """
    return {key: caption for key, caption, _ in _plan(numbers)}


def render_figures(numbers: ProfileNumbers) -> dict[str, bytes]:
    r"""Every figure of the profile as PNG bytes, keyed ``"figures/<name>.png"``.

    Parameters
    ----------
    numbers : ProfileNumbers
        Restricted numbers, or the copy :func:`profiles.shared.to_shared`
        made: shared numbers give shared figures (withheld values as ``[c]``,
        no event points).

    Returns
    -------
    dict of str to bytes
        Same keys, in the same order, as :func:`figure_captions`.

    Examples
    --------
    >>> figs = render_figures(numbers)  # doctest: +SKIP
    >>> figs["figures/trend.png"][:4]  # doctest: +SKIP
    b'\x89PNG'
    """
    return {key: draw() for key, _, draw in _plan(numbers)}
