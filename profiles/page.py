"""Render the demo HTML page (map, top cells, coverage, reconciliation, credits)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import h3

from hotspots.config import Config
from profiles.escape import html_environment
from profiles.render.staticmaps import hex_count_map, hex_count_png

__all__ = ["render_demo_page", "CREDITS"]

CREDITS = (
    "Crime data: data.police.uk street-level crime, Avon and Somerset Constabulary. Contains public sector "
    "information licensed under the Open Government Licence v3.0.",
    "Force boundary: Bath: Hacked datastore (B&NES Council open data), OGL v3.0.",
    "Local authority boundaries: Contains OS data © Crown copyright and database right 2017 (OGL v3.0), via "
    "LibrariesWest/opendata.",
    "Basemap: © OpenStreetMap contributors (ODbL).",
    "H3 hexagonal grid: Uber Technologies, Apache 2.0.",
)


def render_demo_page(
    cfg: Config,
    *,
    grid,
    top,
    boundary,
    reconciliation: dict,
    map_title: str,
    out_dir: Path,
    n_grid_events: int,
    combined=None,
) -> dict[str, str]:
    """Write ``index.html`` with its map files; returns the paths written."""
    from profiles.force_profile import _version

    res = cfg.grid.h3_resolution
    marking = cfg.force.security_classification
    interest = list(cfg.offences.crime_types_of_interest)
    slug_cols = [c for c in grid.columns if c.startswith("count_") and c not in ("count_all", "count_interest")]
    tooltip = ["h3_cell", "count_interest", *slug_cols, "count_all"]
    m = hex_count_map(
        grid, value="count_interest", title="VAWG-relevant crimes per cell", tooltip_fields=tooltip, boundary=boundary
    )
    map_file = f"map_interest_h3r{res}.html"
    m.save(str(out_dir / map_file))
    png_file = f"map_interest_h3r{res}.png"
    hex_count_png(grid, out_dir / png_file, value="count_interest", title=map_title, boundary=boundary, marking=marking)
    env = html_environment(Path(__file__).parent / "templates", strict=False)
    html = env.get_template("demo_page.html.j2").render(
        marking=marking,
        handling=cfg.force.handling,
        force=cfg.force.name,
        created=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=_version(),
        config_file=str(cfg.source_file),
        map_title=map_title,
        interest=interest,
        definition_version=cfg.offences.definition_version,
        resolution=res,
        cell_area_km2=f"{h3.average_hexagon_area(res, unit='km^2'):.3f}",
        n_cells_occupied=int((grid["count_interest"] > 0).sum()),
        n_cells_study=int(grid["in_study_area"].sum()),
        map_file=map_file,
        png_file=png_file,
        top=top.to_dict("records"),
        top_cols=["count_interest", *slug_cols, "count_all"],
        coverage=reconciliation["coverage"],
        outside=reconciliation.get("rows_outside_boundary"),
        rec=reconciliation,
        credits=CREDITS,
        n_grid_events=n_grid_events,
        comb=_combined_context(cfg, combined, out_dir) if combined is not None else None,
    )
    page = out_dir / "index.html"
    if "<script" in html.split("<iframe", 1)[0].lower():  # data text is escaped; only the iframe may load scripts
        raise RuntimeError("unescaped script in the page")
    page.write_text(html, encoding="utf-8")
    return {"page": str(page), "map": str(out_dir / map_file), "map_png": str(out_dir / png_file)}



def _combined_context(cfg: Config, comb, out_dir: Path) -> dict:
    """Tables and charts of the combine stage, with every synthetic source named."""
    from hotspots.timebands import parse_nte_window
    from profiles.combine import SOURCE_LABELS
    from profiles.render.staticmaps import concentration_png, weekday_hour_png

    marking = cfg.force.security_classification
    synthetic = set(comb.synthetic_sources)

    def label(src: str) -> str:
        return SOURCE_LABELS.get(src, src) + (" [SYNTHETIC]" if src in synthetic else "")

    sources = []
    for name, rec in comb.reconciliations.items():
        t = rec["total"]
        cov = rec.get("coverage") or {}
        sources.append(
            {
                "name": label(name) if name in SOURCE_LABELS else name,
                "read": t["rows_read"],
                "accepted": t["rows_accepted"],
                "quarantined": t["rows_quarantined"],
                "reasons": t["quarantined_by_reason"],
                "period": f"{cov.get('first_month')} to {cov.get('last_month')}" if cov else "",
                "synthetic": bool(rec.get("synthetic")),
                "balanced": t["balanced"],
            }
        )
    window = parse_nte_window(comb.definitions["nte_window"])
    ev = comb.events[comb.events["in_force_area"]]
    counts = ev.groupby("source", observed=True).agg(n=("x", "size"), nte=("nte_share", "sum"))
    nte_rows = [
        {
            "source": label(s),
            "events": int(r.n),
            "nte_share": None if s in ("police_uk", "streetsafe") else r.nte / r.n if r.n else None,
        }
        for s, r in counts.iterrows()
    ]
    charts = []
    for s, table in comb.weekday_hour.items():
        f = f"weekday_hour_{s}.png"
        note = "SYNTHETIC DATA, not real records" if s in synthetic else "source data"
        weekday_hour_png(
            table,
            out_dir / f,
            title=f"{label(s)} by weekday and hour (aoristic: time windows spread over their hours)",
            window=window,
            marking=marking,
            source_note=f"{SOURCE_LABELS.get(s, s)}: {note}",
        )
        charts.append({"file": f, "source": label(s)})
    places = comb.places.head(10).to_dict("records")
    place_sources = [s for s in SOURCE_LABELS if f"{s}_count" in comb.places.columns]
    gap = None
    if comb.perception is not None:
        g = comb.perception[comb.perception["gap_class"] == "felt unsafe, little recorded"]
        gap = g.sort_values(["perception_count", "gap_ratio"], ascending=False).head(10).to_dict("records")
    venues = risky = None
    if comb.venue_risk is not None:
        cols = ["name", "kind", "postcode", "closing_times", "crime_within", "ae_within", "nearest_nte", "risk_rank"]
        venues = comb.venue_risk.head(10).reindex(columns=cols).to_dict("records")
        risky = comb.risky.attrs.get("summary")
        concentration_png(
            comb.risky,
            out_dir / "risky_facilities.png",
            title="Risky facilities: NTE-window incidents within "
            f"{comb.definitions['venue_distance_m']:.0f} m of each venue",
            marking=marking,
            source_note="venues: Open Pubs, FSA ratings, NightCapp closing times (OGL); incidents: "
            + ", ".join(label(s) for s in ("rms", "ae") if s in place_sources)
            + " (police.uk is month-only, so it has no NTE-window share)",
        )
    return {
        "sources": sources,
        "definitions": comb.definitions,
        "synthetic": sorted(label(s) for s in synthetic),
        "nte_rows": nte_rows,
        "charts": charts,
        "places": places,
        "place_sources": [(s, label(s)) for s in place_sources],
        "gap": gap,
        "venues": venues,
        "risky": risky,
        "risky_png": "risky_facilities.png" if venues is not None else None,
    }
