"""Render the demo HTML page (map, top cells, coverage, reconciliation, credits)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import h3

from hotspots.config import Config
from profiles.maps import hex_count_map, hex_count_png

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
    cfg: Config, *, grid, top, boundary, reconciliation: dict, map_title: str, out_dir: Path, n_grid_events: int
) -> dict[str, str]:
    """Write ``index.html`` with its map files; returns the paths written."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

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
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html", "j2"])
    )
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
    )
    page = out_dir / "index.html"
    page.write_text(html, encoding="utf-8")
    return {"page": str(page), "map": str(out_dir / map_file), "map_png": str(out_dir / png_file)}

