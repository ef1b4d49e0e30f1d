"""The force problem profile's interactive ``map.html``, for operational planners.

One folium map with a toggleable layer per source grid (H3 counts in quantile
classes), Gi* hot and cold spots, DBSCAN cluster hulls, NTE venues, an optional
KDE surface and the force boundary, under a title box and the security marking
(top and bottom), with one legend for every layer.

Sharing rules built in:

- a cell flagged ``suppressed`` is drawn with a dashed grey outline and its
  tooltip and popup say ``"[c] (suppressed for sharing: fewer than k, or would
  reveal one)"``; its
  count and every other number on its row are never written into the HTML;
- every string from the data (layer names, cell fields and column names,
  venue names, the title, the marking and the source note) goes through
  :func:`profiles.escape.folium_text` before it reaches folium: HTML-escaped,
  and with ``{`` ``}`` written as character references, because branca
  compiles each element's rendered output again as a Jinja2 template. A venue
  named ``<script>`` or ``{{7*7}}`` is shown as written, never run; GeoJSON
  property keys are column names only when they are plain identifiers, and
  generated otherwise; the title box, legend and CSS are inserted by an
  element whose template is fixed (:func:`fixed_html`), never compiled from them.

The saved file holds all the data (GeoJSON and the KDE PNG are embedded), but
folium links Leaflet and its CSS from public CDNs and the base map comes from
OpenStreetMap's tile servers, so by default the page needs a network to draw.
``map_html(m, inline_assets=True)`` (what :func:`render_map` does) embeds a local Leaflet (Debian's
``libjs-leaflet``) instead, so the page opens with no network at all (on a grey
background where the tiles would be).
"""

from __future__ import annotations

import base64
import functools
import io
import json
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hotspots.errors import ParameterError
from hotspots.grid import average_cell_area_km2, cells_resolution, cells_to_int, cells_to_polygons
from profiles.escape import folium_text, folium_texts
from profiles.numbers import ProfileNumbers

if TYPE_CHECKING:
    import geopandas as gpd

    from hotspots.kde import KDEResult

__all__ = [
    "GI_CLASSES",
    "PALETTE",
    "check_no_template_code",
    "count_breaks",
    "fixed_html",
    "kde_overlay",
    "map_html",
    "numbers_map",
    "profile_map",
    "render_map",
]

log = logging.getLogger("safer_spaces")

PALETTE = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")
POLICE_UK_MIN = 20
"""police.uk cells drawn on the map: this many crimes or more (the busiest ~1,900 cells of the demo)."""
PARTNER_MIN = 3
"""Cells of the other layers drawn on the restricted map: this many events or more (the shared map: k or more)."""


def count_breaks(counts: np.ndarray, *, n_classes: int = 6) -> np.ndarray:
    """Upper class limits for non-zero counts: quantiles, made unique and integer.

    Examples
    --------
    >>> count_breaks(np.array([1, 1, 2, 3, 5, 8, 13, 100]), n_classes=4).tolist()
    [2, 4, 10, 100]
    """
    c = np.asarray(counts, dtype=float)
    c = c[c > 0]
    if not len(c):
        return np.array([1])
    q = np.quantile(c, np.linspace(0, 1, n_classes + 1)[1:])
    return np.unique(np.ceil(q).astype(int))


def _classify(counts: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(breaks, counts, side="left"), len(breaks) - 1)




_DELIMITER = re.compile(r"\{[{%#]")
_SKIP_ATTRS = frozenset({"_parent", "_children", "_template", "_env"})


def check_no_template_code(m: Any) -> None:
    """Refuse a folium map if any value in it holds a Jinja2 delimiter (``{{``, ``{%``, ``{#``).

    Branca compiles every element's rendered output again as a template, so
    such a value would run when the map is rendered. Every renderer passes
    data through :func:`profiles.escape.folium_text` (no ``{`` left), so this
    is a tripwire for a path that forgot: it looks at every element's
    attributes (GeoJSON data and tooltip fields included) before anything is
    rendered.

    Raises
    ------
    ParameterError
        Naming the element and attribute.

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(tiles=None)
    >>> _ = folium.FeatureGroup(name="{{7*7}}").add_to(m)
    >>> check_no_template_code(m)
    Traceback (most recent call last):
    ...
    hotspots.errors.ParameterError: map element feature_group_...: attribute 'layer_name' holds a Jinja2 delimiter ...
    """
    from branca.element import Element

    stack, seen = [m.get_root()], set()
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        stack.extend(el._children.values())
        for key, value in vars(el).items():
            if key in _SKIP_ATTRS:
                continue
            if isinstance(value, Element):  # a figure's header, html and script parts
                stack.append(value)
                continue
            text = value if isinstance(value, str) else _strings_of(value)
            if _DELIMITER.search(text):
                raise ParameterError(
                    f"map element {el.get_name()}: attribute {key!r} holds a Jinja2 delimiter ({{{{, {{% or {{#}}) "
                    "that folium would run; pass every string from data through profiles.escape.folium_text"
                )


def _strings_of(value: Any) -> str:
    """The text of an attribute value as JSON; for GeoJSON, all but the geometries (coordinates hold no text)."""
    if isinstance(value, dict) and value.get("type") == "FeatureCollection" and isinstance(value.get("features"), list):
        feats = value["features"]
        props = [{k: v for k, v in f.items() if k != "geometry"} if isinstance(f, dict) else f for f in feats]
        rest = {k: v for k, v in value.items() if k != "features"}
        return json.dumps([rest, props], default=_opaque)
    return json.dumps(value, default=_opaque)


def _opaque(obj: object) -> str:
    """JSON stand-in for what json cannot write (functions, elements): their type only, never their text."""
    return type(obj).__name__


def fixed_html(text: str) -> Any:
    """A branca Element that inserts ``text`` through the constant template ``{{ this.markup }}``.

    ``folium.Element(text)`` compiles ``text`` itself as a Jinja2 template, so
    a ``{{`` in it would run; here the text is only a value, never compiled.
    Neutralise data in ``text`` with :func:`profiles.escape.folium_text` all the same.

    Examples
    --------
    >>> el = fixed_html("<p>{{7*7}} {% Bar</p>")
    >>> el.render()
    '<p>{{7*7}} {% Bar</p>'
    """
    from branca.element import Element
    from jinja2 import Template

    el: Any = Element()
    el._template = Template("{{ this.markup }}")
    el.markup = text
    return el


def _caption(title: str) -> str:
    """A colour-scale caption with braces as parentheses (it still passes branca's second Jinja2 pass).

    Branca draws the caption with d3 ``.text()``, plain text, so it is not
    HTML-escaped (an entity would show as written).

    Examples
    --------
    >>> _caption("counts {{7*7}} & <more>")
    'counts ((7*7)) & <more>'
    """
    return str(title).translate({ord("{"): "(", ord("}"): ")"})




# ArcGIS Hot Spot Analysis colours for Gi_Bin (ColorBrewer RdYlBu), significant bins only.
GI_CLASSES = {
    3: ("#d73027", "hot spot, 99% confidence"),
    2: ("#fc8d59", "hot spot, 95% confidence"),
    1: ("#fee090", "hot spot, 90% confidence"),
    -1: ("#e0f3f8", "cold spot, 90% confidence"),
    -2: ("#91bfdb", "cold spot, 95% confidence"),
    -3: ("#4575b4", "cold spot, 99% confidence"),
}

ST_STYLE = {  # class -> (colour, meaning)
    "persistent hotspot": ("#7a0177", "hot in at least 80% of months"),
    "emerging hotspot": ("#f768a1", "hot recently, rarely before"),
    "former hotspot": ("#bdbdbd", "hot before, no longer"),
}

_DP = 5  # coordinate decimals written (about 1 m: an H3 resolution-10 cell is about 65 m across)
_SUPPRESSED_STYLE = {"fillColor": "#d9d9d9", "fillOpacity": 0.35, "color": "#525252", "weight": 1.5, "dashArray": "4 3"}
_LEAFLET_DIRS = ("/usr/share/javascript/leaflet", "/usr/share/nodejs/leaflet/dist")
_CSS = """
<style>
  html, body { margin: 0; padding: 0; height: 100%; font-family: Arial, Helvetica, sans-serif; }
  .folium-map { position: absolute !important; top: 24px !important; bottom: 24px !important;
                height: auto !important; }
  .ss-marking { position: fixed; left: 0; right: 0; height: 24px; line-height: 24px; z-index: 1100;
                background: #fff; color: #000; text-align: center; font-weight: bold; font-size: 13px;
                letter-spacing: 0.05em; }
  .ss-marking-top { top: 0; border-bottom: 1px solid #000; }
  .ss-marking-bottom { bottom: 0; border-top: 1px solid #000; }
  .ss-title { position: fixed; top: 34px; left: 60px; max-width: 45%; z-index: 1050; background: #fff;
              border: 1px solid #777; border-radius: 4px; padding: 6px 10px; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
  .ss-title h1 { font-size: 16px; margin: 0; }
  .ss-title p { font-size: 11px; margin: 3px 0 0 0; color: #333; }
  .ss-legend { position: fixed; bottom: 64px; left: 10px; z-index: 1050; background: #fff; max-height: 55vh;
               overflow-y: auto; border: 1px solid #777; border-radius: 4px; padding: 6px 8px; font-size: 11px;
               box-shadow: 0 1px 4px rgba(0,0,0,.3); max-width: 300px; }
  .ss-legend summary { font-size: 12px; cursor: pointer; }
  .ss-legend h3 { font-size: 11px; margin: 6px 0 2px 0; }
  .ss-legend table { border-collapse: collapse; }
  .ss-legend td { padding: 0 2px 0 0; vertical-align: middle; }
  .ss-sw { display: inline-block; width: 14px; height: 12px; border: 1px solid #555; vertical-align: middle; }
  .ss-strip td { text-align: center; font-size: 10px; padding: 0 1px; }
  .ss-strip .ss-sw { width: 30px; }
</style>
"""


_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _prop_keys(columns) -> list[str]:
    """GeoJSON property keys for extra columns: the name when it is a plain identifier, else ``_x<i>``."""
    return [c if isinstance(c, str) and _KEY.fullmatch(c) else f"_x{i}" for i, c in enumerate(columns)]


def _fmt(value: Any, missing: str = "") -> str:
    """A number for a tooltip: thousands separators, at most 3 decimals; ``missing`` for None/NA/NaN."""
    if value is None or value is pd.NA or (isinstance(value, float | np.floating) and np.isnan(value)):
        return missing
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer) or (isinstance(value, float | np.floating) and float(value).is_integer()):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):,.3f}".rstrip("0").rstrip(".")
    return folium_text(value)


def _wgs84(frame, *, what: str):
    """Validate a GeoDataFrame with a CRS and return it in EPSG:4326."""
    if not hasattr(frame, "geometry") or not hasattr(frame, "to_crs"):
        raise ParameterError(f"{what}: expected a GeoDataFrame, got {type(frame).__name__}; build one with geopandas")
    if frame.crs is None:
        raise ParameterError(f"{what}: the GeoDataFrame has no CRS; set it with .set_crs('EPSG:4326') or the real one")
    return frame if frame.crs.to_epsg() == 4326 else frame.to_crs("EPSG:4326")


def _round_geometry(geoms):
    """Coordinates rounded to 5 decimal places (about 1 m), keeping every vertex."""
    import shapely

    return shapely.transform(np.asarray(geoms, dtype=object), lambda xy: np.round(xy, _DP))


def _geojson(geoms: Any, props: pd.DataFrame) -> dict:
    """A FeatureCollection with short integer ids and string properties (no per-feature bbox).

    Geometries are written by shapely in one vectorised call and read back
    by one ``json.loads`` (no per-feature Python geometry objects).

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> fc = _geojson([Point(-2.1234567, 51.0)], pd.DataFrame({"name": ["a"]}))
    >>> fc["features"][0]["geometry"], fc["features"][0]["properties"]
    ({'type': 'Point', 'coordinates': [-2.12346, 51.0]}, {'name': 'a'})
    """
    import shapely

    rounded = _round_geometry(geoms)
    shapes = json.loads("[" + ",".join(shapely.to_geojson(rounded).tolist()) + "]") if len(rounded) else []
    records = props.to_dict("records")
    feats = [
        {"type": "Feature", "id": i, "properties": p, "geometry": g}
        for i, (g, p) in enumerate(zip(shapes, records, strict=True))
    ]
    return {"type": "FeatureCollection", "features": feats}


def _class_labels(breaks: np.ndarray, lowest: int) -> list[str]:
    lows = np.concatenate([[lowest], breaks[:-1] + 1])
    return [f"{lo:,}" if lo >= hi else f"{lo:,}-{hi:,}" for lo, hi in zip(lows, breaks, strict=True)]


def _resolution_note(cells: pd.Series) -> str:
    """The legend's cell size, e.g. "per H3 cell (resolution 9, about 0.11 km²)".

    Examples
    --------
    >>> _resolution_note(pd.Series(["89195823077ffff"]))
    'per H3 cell (resolution 9, about 0.11 km²)'
    """
    try:
        res = int(cells_resolution(cells_to_int(cells.iloc[:1].astype(str).to_numpy()))[0])
        return f"per H3 cell (resolution {res}, about {average_cell_area_km2(res):.2g} km\u00b2)"
    except Exception:  # noqa: BLE001 - a legend nicety, never worth failing the map
        return "per H3 cell"


def _count_layer(name: str, cells, *, show: bool, suppressed_text: str):
    """One FeatureGroup of classed hexagons and its legend HTML; ``(group, legend, n_suppressed)``."""
    import folium

    what = f"layers[{name!r}]"
    g = _wgs84(cells, what=what)
    missing = [c for c in ("h3_cell", "count") if c not in g.columns]
    if missing:
        raise ParameterError(f"{what}: missing column(s) {missing}; expected h3_cell and count per H3 cell")
    sup = (
        g["suppressed"].fillna(False).astype(bool).to_numpy()
        if "suppressed" in g.columns
        else np.zeros(len(g), dtype=bool)
    )
    counts = pd.to_numeric(g["count"], errors="coerce").to_numpy(dtype=float)
    bad = ~sup & np.isnan(counts)
    if bad.any():
        raise ParameterError(
            f"{what}: count is missing or not a number in {int(bad.sum()):,} cell(s) not flagged suppressed; "
            "fill the count or set suppressed=True for those cells"
        )
    n_withheld = int((sup & (np.nan_to_num(counts, nan=1.0) != 0)).sum())
    keep = ~sup & (counts > 0)  # published, occupied cells only: a withheld cell is not drawn at all
    g, sup, counts = g[keep], sup[keep], counts[keep]
    visible = counts[~sup]
    breaks = count_breaks(visible)
    colours = list(PALETTE[-len(breaks) :]) if len(breaks) < len(PALETTE) else list(PALETTE)
    cls = np.where(sup, -1, _classify(np.nan_to_num(counts), breaks))

    extras = [c for c in g.columns if c not in ("h3_cell", "count", "suppressed", g.geometry.name) and c[:1] != "_"]
    props = pd.DataFrame({"count": [suppressed_text if s else _fmt(v) for s, v in zip(sup, counts, strict=True)]})
    keys = _prop_keys(extras)
    for c, key in zip(extras, keys, strict=True):  # on a suppressed row every number goes, not only the count
        vals = g[c].to_numpy(dtype=object)
        numeric = pd.api.types.is_numeric_dtype(g[c]) or pd.api.types.is_bool_dtype(g[c])
        props[key] = [suppressed_text if s and numeric else _fmt(v) for s, v in zip(sup, vals, strict=True)]
    props["_s"] = cls.astype(int)

    styles = {-1: _SUPPRESSED_STYLE}
    styles.update(
        {i: {"fillColor": c, "fillOpacity": 0.75, "color": "#636363", "weight": 0.4} for i, c in enumerate(colours)}
    )
    group = folium.FeatureGroup(name=folium_text(name), show=show)
    if len(g):
        fields = ["count", *keys]
        aliases = [folium_text(name.split(":")[0])[:40] + ": count", *[folium_text(c) for c in extras]]
        folium.GeoJson(
            _geojson(g.geometry.to_numpy(), props),
            style_function=lambda f: styles[f["properties"]["_s"]],
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
            control=False,
        ).add_to(group)

    if len(visible):
        labels = _class_labels(breaks, int(visible[visible > 0].min()))
        swatches = "".join(f'<td><span class="ss-sw" style="background:{c}"></span></td>' for c in colours)
        texts = "".join(f"<td>{lab}</td>" for lab in labels)
        strip = f'<table class="ss-strip"><tr>{swatches}</tr><tr>{texts}</tr></table>'
    else:
        strip = "<div>no cells to show</div>" if not sup.any() else "<div>every cell suppressed</div>"
    note = _resolution_note(g["h3_cell"]) if len(g) else ""
    held = f"; {n_withheld:,} cells withheld for sharing are not drawn" if n_withheld else ""
    legend = (f"<h3>{folium_text(name)}</h3><div>count {note}; quantile classes (each band about the same "
              f"number of cells, so the busiest places stand apart){held}</div>{strip}")
    return group, legend, n_withheld


def _dissolve(geoms: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union the polygons of each key (adjacent hexagons merge); one polygon per connected part, its key beside it."""
    import shapely

    out_g: list[Any] = []
    out_k: list[Any] = []
    for key in pd.unique(keys):  # a handful of classes
        merged = shapely.coverage_union_all(np.asarray(geoms, dtype=object)[keys == key])
        parts = shapely.get_parts(merged)
        out_g.extend(parts.tolist())
        out_k.extend([key] * len(parts))
    return np.asarray(out_g, dtype=object), np.asarray(out_k)


def _spacetime_layer(cells):
    """Persistent / emerging / former hot spots as merged areas with their class."""
    import folium

    g = _wgs84(cells, what="spacetime")
    geoms, cls = _dissolve(g.geometry.to_numpy(), g["st_class"].astype(str).to_numpy())
    props = pd.DataFrame({"class": [folium_text(c) for c in cls],
                          "_c": [list(ST_STYLE).index(c) if c in ST_STYLE else 0 for c in cls]})
    colours = list(ST_STYLE.values())
    group = folium.FeatureGroup(name="Hot spots over time (persistent, emerging, former)", show=False)
    if len(geoms):
        folium.GeoJson(
            _geojson(geoms, props),
            style_function=lambda f: {"fillColor": colours[f["properties"]["_c"]][0], "fillOpacity": 0.7,
                                      "color": "#444444", "weight": 0.6},
            tooltip=folium.GeoJsonTooltip(fields=["class"], aliases=["over time"], sticky=True),
            control=False,
        ).add_to(group)
    rows = "".join(f'<tr><td><span class="ss-sw" style="background:{c}"></span></td><td>{k}: {m}</td></tr>'
                   for k, (c, m) in ST_STYLE.items() if k in set(cls.tolist()))
    return group, f"<h3>Hot spots over time</h3><div>monthly Gi*, sfhotspot classes</div><table>{rows}</table>"


def _places_layer(places, missing: str = ""):
    """The ranked police.uk places as numbered markers; the tooltip names the streets, area, grid reference."""
    import folium

    g = _wgs84(places, what="places")
    props = pd.DataFrame({
        "rank": [str(int(r)) for r in g["rank"]],
        "streets": folium_texts(g["streets"].fillna("").astype(str)),
        "where": folium_texts(g["lsoa"].fillna("").astype(str)),
        "grid_ref": folium_texts(g["grid_ref"].fillna("").astype(str)),
        "crimes": [_fmt(v, missing) for v in g["count"]],
        "check": folium_texts(g["artefact_reason"].fillna("").astype(str)),
    })
    fields = ["rank", "streets", "where", "grid_ref", "crimes", "check"]
    aliases = ["rank", "police.uk street labels", "LSOA", "OS grid ref", "crimes", "check"]
    group = folium.FeatureGroup(name="Ranked places (police.uk)", show=True)
    if len(g):
        folium.GeoJson(
            _geojson(g.geometry.to_numpy(), props),
            marker=folium.CircleMarker(radius=7, weight=2, color="#1f78b4", fill=True, fill_opacity=0.9,
                                       fill_color="#ffffff"),
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
            control=False,
        ).add_to(group)
    return group, ("<h3>Ranked places</h3><table><tr><td><span class=\"ss-sw\" style=\"border-radius:50%;"
                   "border:2px solid #1f78b4;background:#fff\"></span></td><td>busiest police.uk cells; hover for "
                   "street labels, OS grid reference and any check</td></tr></table>")


def _gi_layer(gi, missing: str = ""):
    import folium

    g = _wgs84(gi, what="gi")
    for c in ("h3_cell", "gi_bin"):
        if c not in g.columns:
            raise ParameterError(f"gi: missing column {c!r}; pass the output of hotspots.gi_star with polygons")
    b = pd.to_numeric(g["gi_bin"], errors="coerce").fillna(0).astype(int).to_numpy()
    if ((b < -3) | (b > 3)).any():
        raise ParameterError(f"gi: gi_bin must lie in -3..3, got {sorted(set(b[(b < -3) | (b > 3)].tolist()))[:5]}")
    keep = b != 0  # significant cells only
    g, b = g[keep], b[keep]
    # adjacent cells of one class drawn as one area: the map shows the same cells with far fewer vertices
    geoms, bins = _dissolve(g.geometry.to_numpy(), b)
    props = pd.DataFrame({"class": [GI_CLASSES[int(v)][1] for v in bins], "_b": bins.astype(int)})
    fields, aliases = ["class"], ["Gi*"]
    group = folium.FeatureGroup(name="Gi* hot and cold spots", show=False)
    if len(geoms):
        folium.GeoJson(
            _geojson(geoms, props),
            style_function=lambda f: {
                "fillColor": GI_CLASSES[f["properties"]["_b"]][0],
                "fillOpacity": 0.75,
                "color": "#636363",
                "weight": 0.4,
            },
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
            control=False,
        ).add_to(group)
    rows = "".join(
        f'<tr><td><span class="ss-sw" style="background:{c}"></span></td><td>{lab}</td></tr>'
        for k, (c, lab) in GI_CLASSES.items() if k in set(bins.tolist())
    )
    legend = f"<h3>Gi* hot and cold spots</h3><div>significant cells only</div><table>{rows}</table>"
    return group, legend


def _cluster_layer(clusters, missing: str = ""):
    import folium

    if clusters.crs is None:
        raise ParameterError("clusters: the GeoDataFrame has no CRS; set it (DBSCAN hulls come in EPSG:27700)")
    id_col = next((c for c in ("cluster", "cluster_id", "dbscan_cluster") if c in clusters.columns), None)
    size_col = next((c for c in ("size", "n_events", "weighted_size", "n_points") if c in clusters.columns), None)
    if id_col is None or size_col is None:
        raise ParameterError(
            "clusters: expected columns cluster (or dbscan_cluster) and size (or weighted_size / n_points), "
            f"got {list(clusters.columns)}"
        )
    g = clusters if clusters.crs.to_epsg() == 27700 else clusters.to_crs("EPSG:27700")
    flat = ~g.geom_type.isin(["Polygon", "MultiPolygon"])  # one point or a line of points: draw a 15 m halo
    geoms = g.geometry.where(~flat, g.geometry.buffer(15.0)).simplify(5.0).to_crs("EPSG:4326")  # 5 m: outlines
    props = pd.DataFrame(
        {"cluster": [_fmt(v, missing) for v in g[id_col]], "size": [_fmt(v, missing) for v in g[size_col]]}
    )
    group = folium.FeatureGroup(name="DBSCAN clusters (outlines)", show=True)
    if len(g):
        folium.GeoJson(
            _geojson(geoms.to_numpy(), props),
            style_function=lambda _: {"fill": False, "color": "#000000", "weight": 2.5, "dashArray": "8 4"},
            tooltip=folium.GeoJsonTooltip(fields=["cluster", "size"], aliases=["DBSCAN cluster", "events"]),
            control=False,
        ).add_to(group)
    legend = (
        '<h3>DBSCAN clusters</h3><table><tr><td><span class="ss-sw" style="border:2px dashed #000;'
        'background:transparent"></span></td><td>convex hull of a density cluster of events</td></tr></table>'
    )
    return group, legend


def _venue_layer(venues, missing: str = ""):
    import folium

    g = _wgs84(venues, what="venues")
    if "name" not in g.columns:
        raise ParameterError(f"venues: missing column 'name'; got {list(g.columns)}")
    if len(g) and not g.geom_type.eq("Point").all():
        raise ParameterError("venues: every geometry must be a Point (one per venue)")
    props = pd.DataFrame({"name": folium_texts(g["name"])})
    fields, aliases = ["name"], ["venue"]
    rank = None
    if "risk_rank" in g.columns:
        rank = pd.to_numeric(g["risk_rank"], errors="coerce").to_numpy(dtype=float)
        props["risk_rank"] = [_fmt(v, missing) for v in rank]
        fields.append("risk_rank")
        aliases.append("risk rank (1 = highest)")
    if "nearest_nte" in g.columns:
        props["nearest_nte"] = [_fmt(v, missing) for v in g["nearest_nte"]]
        fields.append("nearest_nte")
        aliases.append("nearest NTE")
    top = (rank <= 10) if rank is not None else np.zeros(len(g), dtype=bool)
    props["_t"] = top.astype(int)
    group = folium.FeatureGroup(name="NTE venues", show=True)
    if len(g):
        folium.GeoJson(
            _geojson(g.geometry.to_numpy(), props),
            marker=folium.CircleMarker(radius=4, weight=1.5, color="#000000", fill=True, fill_opacity=1.0),
            style_function=lambda f: (
                {"radius": 6, "fillColor": "#000000"}
                if f["properties"]["_t"]
                else {"radius": 3.5, "fillColor": "#ffffff"}
            ),
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases),
            popup=folium.GeoJsonPopup(fields=fields, aliases=aliases),
            control=False,
        ).add_to(group)
    rows = (
        '<tr><td><span class="ss-sw" style="border-radius:50%;width:10px;height:10px;background:#000"></span></td>'
        "<td>venue in the top 10 by risk</td></tr>"
        if rank is not None
        else ""
    ) + (
        '<tr><td><span class="ss-sw" style="border-radius:50%;width:7px;height:7px;background:#fff"></span></td>'
        "<td>other NTE venue</td></tr>"
    )
    return group, f"<h3>NTE venues</h3><table>{rows}</table>"


def _kde_layer(kde_png):
    import folium

    try:
        png, bounds = kde_png
        (south, west), (north, east) = bounds
        south, west, north, east = (float(v) for v in (south, west, north, east))
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            "kde_png: expected (png bytes, [[south, west], [north, east]]) in degrees, "
            f"got a {type(kde_png).__name__}"
        ) from exc
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise ParameterError(f"kde_png: bounds must be [[south, west], [north, east]] in degrees, got {bounds!r}")
    if not isinstance(png, bytes) or png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ParameterError(f"kde_png: expected PNG bytes (kde_overlay gives them), got a {type(png).__name__}")
    image = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    group = folium.FeatureGroup(name="KDE surface", show=False)
    folium.raster_layers.ImageOverlay(
        image=image, bounds=[[south, west], [north, east]], opacity=0.6, interactive=False, control=False
    ).add_to(group)
    legend = "<h3>KDE surface</h3><div>kernel density of events (darker = denser), relative scale</div>"
    return group, legend, (west, south, east, north)


def profile_map(
    *,
    layers: Mapping,
    boundary=None,
    venues=None,
    clusters=None,
    gi=None,
    kde_png=None,
    spacetime=None,
    places=None,
    title: str,
    marking: str,
    suppressed_label: str = "[c]",
    suppression_k: int | None = None,
    source_note: str = "",
    handling: str = "",
    withheld: str = "",
):
    """Interactive problem-profile map: one toggleable layer per source grid and per analysis.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name (shown in the layer control and legend, e.g. ``"RMS, NTE
        window [SYNTHETIC]"``) to H3 hexagons (any CRS with a CRS set) with
        ``h3_cell``, ``count`` and optionally ``suppressed`` (bool) and extra
        columns shown in the tooltip and popup. Zero cells are not drawn;
        ``count`` may be missing (None) only on suppressed cells. Classes are
        quantiles of the non-suppressed, non-zero counts. The first layer is
        shown when the page opens, the others are ticked on by the user.
    boundary : GeoDataFrame, optional
        Force boundary, drawn as an outline (simplified to about 20 m).
    venues : GeoDataFrame, optional
        NTE venue points with ``name`` and optionally ``risk_rank`` (1 =
        highest; the top 10 are drawn larger and black) and ``nearest_nte``.
    clusters : GeoDataFrame, optional
        DBSCAN hulls with ``cluster`` (or ``dbscan_cluster``) and ``size`` (or
        ``weighted_size``/``n_points``), any projected or geographic CRS;
        points and lines (clusters of one place) get a 15 m halo.
    gi : GeoDataFrame, optional
        Gi* result with hexagon polygons, ``h3_cell``, ``gi_bin`` (-3..3) and
        optionally ``gi_z``; only significant cells (``gi_bin != 0``) are drawn,
        in ArcGIS hot (red) and cold (blue) colours. No counts are shown.
    kde_png : (bytes, [[south, west], [north, east]]), optional
        A KDE PNG (transparent where empty; :func:`kde_overlay`) and its
        bounds in degrees, embedded as a data URI image overlay. Leaflet
        stretches it in Web Mercator, so warp the raster to EPSG:3857 first.
    title : str
        Shown in the title box and as the page title.
    marking : str
        Security marking (e.g. ``"OFFICIAL-SENSITIVE"``), shown at the top and
        bottom of the page.
    suppressed_label : str, default "[c]"
        Shown in place of a suppressed count.
    suppression_k : int, optional
        The sharing threshold, written as "fewer than k" when not given.
    source_note : str, default ""
        A line under the title (sources, period, "SYNTHETIC" where it is).
    handling : str, default ""
        The handling line of this version, shown under the title.
    withheld : str, default ""
        Shown for a missing value in a tooltip (``"[c]"`` in a shared version).

    Returns
    -------
    folium.Map
        Turn it into the page with :func:`map_html`.

    Raises
    ------
    ParameterError
        On a frame without a CRS or a required column, a missing count on a
        cell not flagged suppressed, ``gi_bin`` outside -3..3, or a bad
        ``kde_png``.

    Examples
    --------
    >>> import geopandas as gpd, h3
    >>> from hotspots.grid import average_cell_area_km2, cells_resolution, cells_to_int, cells_to_polygons
    >>> cells = [h3.latlng_to_cell(51.38, -2.36, 9)]
    >>> g = gpd.GeoDataFrame({"h3_cell": cells, "count": [12]}, geometry=cells_to_polygons(cells).values, crs=4326)
    >>> m = profile_map(layers={"police.uk recorded crime": g}, title="Bath", marking="OFFICIAL")
    >>> "police.uk recorded crime" in m.get_root().render()
    True
    """
    import folium

    if not isinstance(layers, Mapping) or not layers:
        raise ParameterError("layers: expected a non-empty dict of layer name -> GeoDataFrame of H3 cells")
    k = "k" if suppression_k is None else f"{int(suppression_k):,}"
    # secondary suppression withholds counts of k or more too: the note never claims every one is small
    suppressed_text = folium_text(f"{suppressed_label} (suppressed for sharing: fewer than {k}, or would reveal one)")

    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True, zoom_start=11, location=[51.38, -2.36])
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap (needs a network)", control=False).add_to(m)
    legend_parts: list[str] = []
    bounds: list[tuple[float, float, float, float]] = []
    n_suppressed = 0

    for i, (name, cells) in enumerate(layers.items()):
        group, legend, n_sup = _count_layer(str(name), cells, show=i == 0, suppressed_text=suppressed_text)
        group.add_to(m)
        legend_parts.append(legend)
        n_suppressed += n_sup
        if len(cells):
            bounds.append(tuple(_wgs84(cells, what=f"layers[{str(name)!r}]").total_bounds))
    if gi is not None:
        group, legend = _gi_layer(gi, withheld)
        group.add_to(m)
        legend_parts.append(legend)
    if spacetime is not None and len(spacetime):
        group, legend = _spacetime_layer(spacetime)
        group.add_to(m)
        legend_parts.append(legend)
    if places is not None and len(places):
        group, legend = _places_layer(places, withheld)
        group.add_to(m)
        legend_parts.append(legend)
    if kde_png is not None:
        group, legend, kde_bounds = _kde_layer(kde_png)
        group.add_to(m)
        legend_parts.append(legend)
    if clusters is not None:
        group, legend = _cluster_layer(clusters, withheld)
        group.add_to(m)
        legend_parts.append(legend)
    if venues is not None:
        group, legend = _venue_layer(venues, withheld)
        group.add_to(m)
        legend_parts.append(legend)
    if boundary is not None:
        b = _wgs84(boundary, what="boundary")
        group = folium.FeatureGroup(name="Force boundary", show=True)
        outline = b.geometry.simplify(0.0002)
        folium.GeoJson(
            _geojson(outline.to_numpy(), pd.DataFrame(index=range(len(b)))),
            style_function=lambda _: {"fill": False, "color": "#252525", "weight": 2},
            control=False,
        ).add_to(group)
        group.add_to(m)
        bounds.append(tuple(b.total_bounds))
    elif not bounds and kde_png is not None:
        bounds.append(kde_bounds)
    if n_suppressed:
        legend_parts.append(
            f"<h3>Withheld cells</h3><div>{n_suppressed:,} cells whose count is withheld for sharing "
            f"({suppressed_text}) are not drawn: an empty place on this map may hold crime.</div>"
        )

    b = np.array([x for x in bounds if np.all(np.isfinite(x))])
    if len(b):
        fit = folium.FitBounds([[b[:, 1].min(), b[:, 0].min()], [b[:, 3].max(), b[:, 2].max()]], max_zoom=16)
        fit.options["animate"] = False  # open at the data, not mid-zoom from the default view
        m.add_child(fit)
    folium.LayerControl(collapsed=True).add_to(m)

    root: Any = m.get_root()
    root.title = folium_text(title)
    root.header.add_child(fixed_html(_CSS), name="ss_css")
    mark = folium_text(marking)
    note = f"<p>{folium_text(source_note)}</p>" if source_note else ""
    if handling:
        note += f"<p><b>Handling:</b> {folium_text(handling)}</p>"
    root.html.add_child(
        fixed_html(
            f'<div class="ss-marking ss-marking-top">{mark}</div>\n'
            f'<div class="ss-title"><h1>{folium_text(title)}</h1>{note}</div>\n'
            f'<details class="ss-legend" open><summary><b>Legend</b></summary>{"".join(legend_parts)}</details>\n'
            f'<div class="ss-marking ss-marking-bottom">{mark}</div>'
        ),
        name="ss_overlay",
    )
    check_no_template_code(m)
    return m


_EXTERNAL = re.compile(
    r'[ \t]*<script src="https?://[^"]*"></script>\n?|[ \t]*<link rel="stylesheet" href="https?://[^"]*"/>\n?'
)


def _find_leaflet(leaflet_dir: str | os.PathLike | None) -> Path:
    dirs = [Path(leaflet_dir)] if leaflet_dir is not None else [Path(d) for d in _LEAFLET_DIRS]
    for d in dirs:
        if (d / "leaflet.css").is_file() and ((d / "leaflet.min.js").is_file() or (d / "leaflet.js").is_file()):
            return d
    raise FileNotFoundError(
        f"no Leaflet (leaflet.js and leaflet.css) in {[str(d) for d in dirs]}; install Debian's libjs-leaflet "
        "(apt-get install libjs-leaflet), pass leaflet_dir=, or save with inline_assets=False"
    )


@functools.lru_cache(maxsize=4)
def _leaflet_bundle(d: Path) -> str:
    """Leaflet's CSS and JavaScript from ``d`` as inline ``<style>``/``<script>`` (a static asset, read once)."""
    js_file = d / "leaflet.min.js" if (d / "leaflet.min.js").is_file() else d / "leaflet.js"
    js = js_file.read_text(encoding="utf-8").replace("</script", "<\\/script")
    css = (d / "leaflet.css").read_text(encoding="utf-8")
    return f"<style>\n{css}\n</style>\n<script>\n{js}\n</script>\n"


def map_html(m: Any, *, inline_assets: bool = False, leaflet_dir: str | os.PathLike | None = None) -> str:
    """The map as one HTML page (a string; the writer writes it).

    Parameters
    ----------
    m : folium.Map
        From :func:`profile_map`.
    inline_assets : bool, default False
        False: Leaflet, jQuery and Bootstrap are linked from public CDNs, as
        folium does (the page needs a network). True: Leaflet's JavaScript and
        CSS are embedded from a local copy and every other CDN link is dropped
        (this map uses none of them), so the page works with no network apart
        from the base map tiles.
    leaflet_dir : path, optional
        Folder holding ``leaflet.js`` (or ``leaflet.min.js``) and
        ``leaflet.css``; default: Debian's ``/usr/share/javascript/leaflet``.

    Returns
    -------
    str

    Raises
    ------
    FileNotFoundError
        With ``inline_assets`` when no local Leaflet is found.

    Examples
    --------
    >>> import folium
    >>> "<html>" in map_html(folium.Map(tiles=None))
    True
    """
    check_no_template_code(m)  # anything added to the map after profile_map is checked too
    text = m.get_root().render()
    if inline_assets:
        bundle = _leaflet_bundle(_find_leaflet(leaflet_dir))
        first = _EXTERNAL.search(text)
        text = _EXTERNAL.sub("", text)
        at = first.start() if first else text.index("</head>")
        text = text[:at] + bundle + text[at:]
    return text


# --------------------------------------------------------------------------- from the numbers


def kde_overlay(result: KDEResult) -> tuple[bytes, list[list[float]]]:
    r"""The KDE surface warped to Web Mercator as a transparent PNG, with its bounds for a Leaflet overlay.

    Returns ``(png_bytes, [[south, west], [north, east]])`` in degrees.
    Relative scale: 0 to the 99.9th percentile, ``magma_r``, pixels under
    2 % of it transparent.

    Examples
    --------
    >>> from hotspots.kde import kde
    >>> r = kde(pd.DataFrame({"x": [360000.0, 360100.0], "y": [170000.0, 170050.0]}), radius_m=200, pixel_m=50)
    >>> png, ((s, w), (n, e)) = kde_overlay(r)
    >>> png[:4], s < n, w < e
    (b'\x89PNG', True, True)
    """
    import matplotlib
    from matplotlib.image import imsave
    from pyproj import Transformer
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    d = np.asarray(result.density, dtype=np.float32)
    src = np.where(d == result.nodata, np.nan, d).astype(np.float32)
    g = result.grid
    left, top = g.x0, g.y_top
    right, bottom = g.x0 + g.cols * g.pixel_m, g.y_top - g.rows * g.pixel_m
    transform, w, h = calculate_default_transform("EPSG:27700", "EPSG:3857", g.cols, g.rows, left, bottom, right, top)
    dst = np.full((h, w), np.nan, np.float32)
    reproject(src, dst, src_transform=result.transform, src_crs="EPSG:27700", dst_transform=transform,
              dst_crs="EPSG:3857", resampling=Resampling.bilinear, src_nodata=np.nan, dst_nodata=np.nan)
    vmax = float(np.nanpercentile(dst, 99.9)) if np.isfinite(dst).any() else 1.0
    norm = np.clip(dst / (vmax or 1.0), 0, 1)
    rgba = matplotlib.colormaps["magma_r"](np.nan_to_num(norm))
    rgba[..., 3] = np.where(np.isfinite(dst) & (norm > 0.02), 0.75, 0.0)
    buf = io.BytesIO()
    no_version: dict[str, Any] = {"Software": None}  # same surface, same bytes
    imsave(buf, rgba, format="png", metadata=no_version)
    x0, y1 = transform.c, transform.f
    x1, y0 = transform.c + transform.a * w, transform.f + transform.e * h
    lon, lat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True).transform([x0, x1], [y0, y1])
    return buf.getvalue(), [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]]


SOURCE_NOTE = "police.uk (OGL v3.0); layers marked [SYNTHETIC] are synthetic stand-ins"
WITHHELD = "[c]"


def _cell_layers(numbers: ProfileNumbers) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
    """Count layers (name -> h3_cell, count, suppressed) and the significant Gi* cells, from the numbers."""
    shared = numbers.disclosure.shared
    synthetic = set(numbers.meta.synthetic_sources)
    tag = " [SYNTHETIC]"
    frames: dict[str, pd.DataFrame] = {}
    counts = numbers.hotspots.counts
    if counts is not None and len(counts):
        least = max(numbers.disclosure.threshold or 0, POLICE_UK_MIN)
        c = pd.to_numeric(counts["count"], errors="coerce")
        busy = counts[(c >= least).fillna(False).to_numpy(bool)]
        frames[f"police.uk VAWG-relevant crime (a proxy), cells with {least} or more"] = busy.assign(
            source="police_uk")
    grids = numbers.fused.grids
    every = grids.get("all")
    if every is not None and len(every):
        src = every["source"].astype(str).to_numpy()
        for sq in numbers.sources:
            sub = every[src == sq.source]
            if len(sub):
                frames[sq.label + (tag if sq.synthetic or sq.source in synthetic else "")] = sub
    window = numbers.meta.definitions.get("nte_window", "")
    fine = grids.get("nte_rms_ae_r10")
    nte = grids.get("nte_rms_ae")
    if fine is not None and len(fine):  # the street view (restricted only)
        frames[f"NTE street view {window}: RMS + A&E, H3 res 10 (aoristic)"
               + (tag if {"rms", "ae"} & synthetic else "")] = fine
    elif nte is not None and len(nte):
        frames[f"NTE window {window}: RMS + A&E (aoristic)" + (tag if {"rms", "ae"} & synthetic else "")] = nte
    layers = {}
    least = max(numbers.disclosure.threshold or 0, PARTNER_MIN)
    for name, f in frames.items():
        if not name.startswith("police.uk"):
            c = pd.to_numeric(f["count"], errors="coerce")
            f = f[(c >= least).fillna(False).to_numpy(bool) | c.isna().to_numpy()]
            name = f"{name}, cells with {least} or more"
        count = f["count"]
        sup = f["suppressed"].fillna(False).astype(bool) if "suppressed" in f.columns else pd.Series(False, f.index)
        if shared:  # a withheld count is NA: drawn as suppressed, never as a number
            sup = sup | count.isna()
        layers[name] = pd.DataFrame(
            {"h3_cell": f["h3_cell"].astype(str).to_numpy(), "count": count.to_numpy(dtype=object),
             "suppressed": sup.to_numpy(dtype=bool)}
        )
    gi = numbers.hotspots.gi
    sig = None
    if gi is not None and len(gi) and "gi_bin" in gi.columns:
        passing = pd.to_numeric(gi["gi_bin"], errors="coerce").fillna(0).to_numpy() != 0
        if "gi_significant" in gi.columns:  # exactly the cells that pass the stated (FDR) level
            passing &= gi["gi_significant"].fillna(False).astype(bool).to_numpy()
        sig = gi.loc[passing]
        sig = sig[[c for c in ("h3_cell", "gi_bin", "gi_z") if c in sig.columns]]
    return layers, sig


def _with_polygons(frames: Mapping[str, pd.DataFrame | None]) -> dict[str, gpd.GeoDataFrame]:
    """Each frame with its H3 hexagons (WGS84); every distinct cell is turned into a polygon once."""
    import geopandas as gpd

    cells = pd.unique(np.concatenate([f["h3_cell"].astype(str).to_numpy() for f in frames.values() if f is not None]))
    poly = pd.Series(cells_to_polygons(cells).to_numpy(), index=cells)
    return {
        name: gpd.GeoDataFrame(
            f.reset_index(drop=True), geometry=poly.reindex(f["h3_cell"].astype(str)).to_numpy(), crs="EPSG:4326"
        )
        for name, f in frames.items()
        if f is not None
    }


def _spacetime(st: pd.DataFrame | None) -> gpd.GeoDataFrame | None:
    """The persistent, emerging and former hot-spot cells with their hexagons (None when there are none)."""
    import geopandas as gpd

    if st is None or not len(st):
        return None
    st = st[st["st_class"].isin(list(ST_STYLE))]
    if not len(st):
        return None
    return gpd.GeoDataFrame(st[["h3_cell", "st_class"]].reset_index(drop=True),
                            geometry=cells_to_polygons(st["h3_cell"].astype(str).to_numpy()).to_numpy(),
                            crs="EPSG:4326")


def _places(places: pd.DataFrame | None) -> gpd.GeoDataFrame | None:
    """The ranked places at their cells' centres, with the identity columns the tooltip shows."""
    import geopandas as gpd

    if places is None or not len(places):
        return None
    p = places.copy()
    for c in ("streets", "grid_ref", "artefact_reason", "lsoa"):
        if c not in p.columns:
            p[c] = p["label"] if c == "streets" and "label" in p.columns else ""
    centres = cells_to_polygons(p["h3_cell"].astype(str).to_numpy(), crs="EPSG:27700").centroid.to_crs("EPSG:4326")
    return gpd.GeoDataFrame(p[["rank", "streets", "lsoa", "grid_ref", "count", "artefact_reason"]]
                            .reset_index(drop=True), geometry=centres.to_numpy(), crs="EPSG:4326")


def _venues(risk: pd.DataFrame | None) -> gpd.GeoDataFrame | None:
    import geopandas as gpd

    if risk is None or not len(risk) or not {"name", "x", "y"} <= set(risk.columns):
        return None
    xy = risk[["x", "y"]].apply(pd.to_numeric, errors="coerce")
    placed = xy.notna().all(axis=1).to_numpy()
    v = risk.loc[placed, [c for c in ("name", "risk_rank", "nearest_nte") if c in risk.columns]].reset_index(drop=True)
    return gpd.GeoDataFrame(
        v, geometry=gpd.points_from_xy(xy["x"].to_numpy()[placed], xy["y"].to_numpy()[placed]), crs="EPSG:27700"
    )


def numbers_map(numbers: ProfileNumbers) -> Any:
    """The profile's folium map, drawn from ``numbers`` alone (see :func:`render_map`)."""
    shared = numbers.disclosure.shared
    layers, gi = _cell_layers(numbers)
    frames: dict[str, pd.DataFrame | None] = {**layers, "\0gi": gi}
    geo = _with_polygons(frames) if any(f is not None and len(f) for f in frames.values()) else {}
    gi_poly = geo.pop("\0gi", None)
    if not geo:
        raise ParameterError("numbers: no source grid to map (numbers.fused.grids['all'] is empty)")
    kde = numbers.hotspots.kde
    return profile_map(
        layers=geo,
        boundary=numbers.geography.boundary,
        venues=_venues(numbers.venues.risk),
        clusters=numbers.hotspots.clusters,
        gi=gi_poly,
        kde_png=kde_overlay(kde) if kde is not None else None,
        spacetime=_spacetime(numbers.hotspots.spacetime),
        places=_places(numbers.hotspots.places),
        title=f"{numbers.meta.force_name}: VAWG problem profile map" + (" (shared version)" if shared else ""),
        marking=numbers.meta.marking,
        suppression_k=numbers.disclosure.threshold if shared else None,
        source_note=SOURCE_NOTE,
        handling=numbers.disclosure.handling,
        withheld=WITHHELD if shared else "",
    )


def render_map(numbers: ProfileNumbers, *, inline_assets: bool = True) -> dict[str, str]:
    """The interactive ``map.html`` of a profile, from its numbers only.

    One toggleable layer per source grid (``numbers.fused.grids["all"]``,
    labelled by :attr:`SourceQuality.label`, "[SYNTHETIC]" where it is), the
    NTE-window layer (``grids["nte_rms_ae"]``), Gi* hot and cold spots, the
    KDE surface (inlined as a data URI), DBSCAN hulls, NTE venues and the
    force boundary, under the marking, title and handling line.

    Nothing is decided here: a cell or value the numbers withheld (None/NA,
    or ``suppressed``) is shown as ``[c]`` in a shared version, and every
    other value is shown as the numbers hold it. No threshold is applied.

    Parameters
    ----------
    numbers : ProfileNumbers
        Restricted numbers, or the copy :func:`profiles.shared.to_shared` made.
    inline_assets : bool, default True
        Embed Leaflet from the local copy (the page then needs no network
        but for the base map tiles); without a local Leaflet the page links
        the CDN, with a warning.

    Returns
    -------
    dict
        ``{"map.html": html}``.

    Examples
    --------
    >>> from profiles.shared import to_shared  # doctest: +SKIP
    >>> page = render_map(to_shared(numbers, 10))["map.html"]  # doctest: +SKIP
    >>> "(shared version)" in page  # doctest: +SKIP
    True
    """
    m = numbers_map(numbers)
    try:
        html = map_html(m, inline_assets=inline_assets)
    except FileNotFoundError as exc:  # no local Leaflet: the page loads its scripts from the CDN instead
        log.warning("map.html uses online map scripts (%s)", exc)
        html = map_html(m)
    return {"map.html": html}
