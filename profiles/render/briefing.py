"""The patrol briefing: tonight's places as a printable A4 page (HTML, and PDF through Chromium).

Formatting only: the places table comes from ``profiles.planner.tonight`` (or the shared view); the map from
:func:`profiles.render.charts.briefing_map`. Autoescaped; marking at top and bottom.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from profiles.escape import html_environment
from profiles.report import html_to_pdf_bytes

__all__ = ["briefing_html", "briefing_pdf"]

TEMPLATES = Path(__file__).parent / "templates"
COLUMNS = (("rank", "#"), ("place", "place"), ("local_authority", "local authority"), ("grid_ref", "OS grid ref"),
           ("per_night", "a night"), ("trend", "last 4 weeks"), ("hotspot_class", "hot spot"),
           ("venues_nearby", "venues nearby (closing)"))


def _cell(v: Any, col: str) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "[c]"
    if col == "per_night":
        return f"{float(v):.1f}"
    return str(v)


def briefing_html(places: pd.DataFrame, meta: Mapping[str, Any], map_png: bytes | None) -> str:
    """The briefing page: marking, title (force, night, hours), the map, the numbered places, notes."""
    cols = [(c, h) for c, h in COLUMNS if c in places.columns]
    rows = [[_cell(r.get(c), c) for c, _ in cols] for r in places.to_dict("records")]
    env = html_environment(TEMPLATES, strict=True)
    return env.get_template("briefing.html.j2").render(
        meta=meta, headers=[h for _, h in cols], rows=rows,
        map_uri=None if map_png is None else "data:image/png;base64," + base64.b64encode(map_png).decode("ascii"))


def briefing_pdf(html: str) -> bytes:
    """The briefing printed to A4 PDF by headless Chromium."""
    return html_to_pdf_bytes(html, timeout_s=60)
