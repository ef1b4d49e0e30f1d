"""Maps of H3 counts: an interactive folium map and a static PNG.

Classes are quantile breaks of the non-zero counts (so a few extreme cells
do not wash the map out), always printed in the legend. Text from data
reaches folium only through :func:`profiles.escape.folium_text` (tooltip
values, field names and titles) and matplotlib only through
:func:`profiles.escape.mpl_text` (titles, markings, source notes), so a
``{{ }}`` or ``$...$`` in a name is shown as written.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots.errors import ParameterError
from profiles.escape import folium_text, folium_texts, mpl_text, mpl_texts
from profiles.render.charts import without_tex

__all__ = ["check_no_template_code", "count_breaks", "fixed_html", "hex_count_map", "hex_count_png"]

# ColorBrewer YlOrRd, 6 classes
PALETTE = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")


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


def check_no_template_code(m) -> None:
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


def _strings_of(value) -> str:
    """The text of an attribute value as JSON; for GeoJSON, all but the geometries (coordinates hold no text)."""
    if isinstance(value, dict) and value.get("type") == "FeatureCollection" and isinstance(value.get("features"), list):
        feats = value["features"]
        props = [{k: v for k, v in f.items() if k != "geometry"} if isinstance(f, dict) else f for f in feats]
        rest = {k: v for k, v in value.items() if k != "features"}
        return json.dumps([rest, props], default=_opaque)
    return json.dumps(value, default=_opaque)


def _opaque(obj) -> str:
    """JSON stand-in for what json cannot write (functions, elements): their type only, never their text."""
    return type(obj).__name__


def fixed_html(text: str):
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

    el = Element()
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


def _tooltip_values(col) -> list:
    """Tooltip values: numbers as they are, anything else as :func:`folium_text`."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return col.tolist()
    return folium_texts(col)


def hex_count_map(cells, *, value: str, title: str, tooltip_fields: list[str], boundary=None):
    """Folium map of hexagons coloured by ``value``.

    Parameters
    ----------
    cells : GeoDataFrame
        Hexagons (any CRS; reprojected to WGS84) with ``value`` and ``tooltip_fields``.
    value : str
        Count column to colour by; zero cells are not drawn.
    title : str
        Legend caption.
    tooltip_fields : list of str
        Columns shown on hover.
    boundary : GeoDataFrame, optional
        Drawn as an outline.

    Returns
    -------
    folium.Map
    """
    import branca.colormap as cm
    import folium

    g = cells[cells[value] > 0].to_crs("EPSG:4326")
    breaks = count_breaks(g[value].to_numpy())
    colours = list(PALETTE[-len(breaks) :]) if len(breaks) < len(PALETTE) else list(PALETTE)
    cls = _classify(g[value].to_numpy(), breaks)
    g = g.assign(_fill=np.array(colours, dtype=object)[cls])
    g["geometry"] = g.geometry.set_precision(1e-5)
    keys = [f"f{i}" for i in range(len(tooltip_fields))]  # property keys never come from data
    props = pd.DataFrame(
        {k: _tooltip_values(g[c]) for k, c in zip(keys, tooltip_fields, strict=True)}, index=g.index
    ).assign(_fill=g["_fill"].to_numpy())
    shapes = g.set_geometry(g.geometry)[["geometry"]].join(props)
    minx, miny, maxx, maxy = g.total_bounds if len(g) else (-2.7, 51.3, -2.4, 51.5)
    m = folium.Map(tiles="OpenStreetMap", control_scale=True, prefer_canvas=True)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    if boundary is not None:
        folium.GeoJson(
            boundary.to_crs("EPSG:4326").simplify(0.0005).geometry.__geo_interface__,
            name="force boundary",
            style_function=lambda _: {"color": "#333333", "weight": 2, "fill": False},
        ).add_to(m)
    folium.GeoJson(
        shapes.__geo_interface__,
        name=folium_text(title),
        style_function=lambda f: {
            "fillColor": f["properties"]["_fill"],
            "color": f["properties"]["_fill"],
            "weight": 0.3,
            "fillOpacity": 0.75,
        },
        tooltip=folium.GeoJsonTooltip(fields=keys, aliases=folium_texts(tooltip_fields)),
    ).add_to(m)
    lows = np.concatenate([[1], breaks[:-1] + 1])
    legend = cm.StepColormap(
        colours, index=[0, *breaks.tolist()], vmin=0, vmax=float(breaks[-1]), caption=_caption(title)
    )
    legend.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    m.get_root().html.add_child(
        fixed_html("<!-- classes: " + ", ".join(f"{lo}-{hi}" for lo, hi in zip(lows, breaks, strict=True)) + " -->")
    )
    check_no_template_code(m)
    return m


def hex_count_png(
    cells, path: str | os.PathLike, *, value: str, title: str, boundary=None, marking: str = "OFFICIAL"
) -> Path:
    """Static PNG of the same classed hexagon map, in British National Grid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    path = Path(path)
    g = cells[cells[value] > 0].to_crs("EPSG:27700")
    breaks = count_breaks(g[value].to_numpy())
    colours = list(PALETTE[-len(breaks) :]) if len(breaks) < len(PALETTE) else list(PALETTE)
    cls = _classify(g[value].to_numpy(), breaks)
    fig, ax = plt.subplots(figsize=(10, 9), dpi=110)
    if boundary is not None:
        boundary.to_crs("EPSG:27700").boundary.plot(ax=ax, color="#555555", linewidth=0.6)
    g.plot(ax=ax, color=np.array(colours, dtype=object)[cls], linewidth=0)
    lows = np.concatenate([[1], breaks[:-1] + 1])
    handles = [
        Patch(color=c, label=f"{lo:,}" if lo == hi else f"{lo:,}-{hi:,}")
        for c, lo, hi in zip(colours, lows, breaks, strict=True)
    ]
    ax.legend(handles=handles, title="count per cell", loc="lower right", fontsize=8)
    ax.set_title(mpl_text(title), fontsize=11)
    ax.set_axis_off()
    ax.set_aspect("equal")
    fig.text(0.5, 0.985, mpl_text(marking), ha="center", va="top", fontsize=10, weight="bold")
    fig.text(
        0.5,
        0.01,
        f"{mpl_text(marking)}  |  Contains public sector information licensed under the Open "
        "Government Licence v3.0 (data.police.uk)",
        ha="center",
        fontsize=7,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    without_tex(fig).savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def weekday_hour_png(
    table, path: str | os.PathLike, *, title: str, window=None, marking: str = "OFFICIAL", source_note: str = ""
) -> Path:
    """Heat table of events by weekday (rows) and hour (columns), with the NTE window outlined.

    Parameters
    ----------
    table : DataFrame
        7 x 24 from :func:`hotspots.timebands.weekday_hour_table` (aoristic counts).
    path : path
        PNG written.
    title : str
        Chart title (say what is counted and over which period).
    window : NTEWindow, optional
        Outlined in black: the hours it covers on the days it starts and the next morning.
    marking : str
        Security marking printed top and bottom.
    source_note : str
        Source line printed at the bottom (say "SYNTHETIC" where it is).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    path = Path(path)
    values = np.asarray(table, dtype=float)
    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=110)
    im = ax.imshow(values, cmap="Greys", aspect="auto")  # readable in greyscale by construction
    ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)], fontsize=8)
    ax.set_yticks(range(7), mpl_texts(table.index), fontsize=9)
    ax.set_xlabel("hour of day (local time)")
    cb = fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01)
    cb.set_label("events (aoristic share)", fontsize=8)
    if window is not None:
        from hotspots.timebands import WEEKDAYS

        start = window.start_min / 60
        for d in window.days:
            row = WEEKDAYS.index(d)
            end = start + window.duration_min / 60
            first = min(end, 24.0)
            ax.add_patch(Rectangle((start - 0.5, row - 0.5), first - start, 1, fill=False, lw=2, ec="#d00000"))
            if end > 24:
                nxt = (row + 1) % 7
                ax.add_patch(Rectangle((-0.5, nxt - 0.5), end - 24, 1, fill=False, lw=2, ec="#d00000", ls="--"))
        title = f"{title}\nNTE window outlined in red: {window} (dashed: the morning after)"
    ax.set_title(mpl_text(title), fontsize=10)
    fig.text(0.5, 1.0, mpl_text(marking), ha="center", va="top", fontsize=10, weight="bold")
    fig.text(0.5, -0.02, mpl_text(f"{marking}  |  {source_note}"), ha="center", fontsize=7)
    path.parent.mkdir(parents=True, exist_ok=True)
    without_tex(fig).savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def concentration_png(curve, path: str | os.PathLike, *, title: str, marking: str = "OFFICIAL", source_note: str = ""):
    """Risky-facilities curve: cumulative share of venues vs cumulative share of incidents."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, ax = plt.subplots(figsize=(6, 5), dpi=110)
    x = np.concatenate([[0.0], curve["cum_venue_share"].to_numpy(float)]) * 100
    y = np.concatenate([[0.0], curve["cum_incident_share"].to_numpy(float)]) * 100
    ax.plot(x, y, color="black", lw=2, label="venues, busiest first")
    ax.plot([0, 100], [0, 100], color="grey", ls="--", lw=1, label="incidents spread evenly")
    s = curve.attrs.get("summary", {})
    title = mpl_text(title)
    if s:
        ax.set_title(f"{title}\nGini {s.get('gini', float('nan')):.2f}; top 10% of venues: "
                     f"{100 * s.get('top10_share', float('nan')):.0f}% of incidents", fontsize=10)
    else:
        ax.set_title(title, fontsize=10)
    ax.set_xlabel("share of NTE venues (%)")
    ax.set_ylabel("share of NTE-window incidents nearby (%)")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.text(0.5, 1.02, mpl_text(marking), ha="center", va="bottom", fontsize=10, weight="bold")
    import textwrap

    note = mpl_text(textwrap.fill(f"{marking}  |  {source_note}", 110))
    fig.text(0.5, -0.02, note, ha="center", va="top", fontsize=7)
    without_tex(fig).savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def _map_frame(boundary, las, *, figsize=(9, 8)):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize, dpi=110)
    if las is not None and len(las):
        las.to_crs("EPSG:27700").boundary.plot(ax=ax, color="#9a9a9a", linewidth=0.5, linestyle="--")
    if boundary is not None:
        boundary.to_crs("EPSG:27700").boundary.plot(ax=ax, color="#333333", linewidth=0.8)
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig, ax


def _finish_map(fig, ax, path, *, title, marking, source_note, zoom=None):
    import textwrap

    import matplotlib.pyplot as plt

    if zoom is not None:
        ax.set_xlim(zoom[0], zoom[2])
        ax.set_ylim(zoom[1], zoom[3])
    ax.set_title(mpl_text(title), fontsize=10)
    # scale bar: 5 km (or 1 km when zoomed in)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bar = 5000 if (x1 - x0) > 20000 else 1000
    bx, by = x0 + 0.05 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([bx, bx + bar], [by, by], color="black", lw=3)
    ax.text(bx + bar / 2, by + 0.01 * (y1 - y0), f"{bar // 1000} km", ha="center", va="bottom", fontsize=8)
    fig.text(0.5, 0.995, mpl_text(marking), ha="center", va="top", fontsize=10, weight="bold")
    note = mpl_text(textwrap.fill(f"{marking}  |  {source_note}", 130))
    fig.text(0.5, 0.005, note, ha="center", va="bottom", fontsize=6.5)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    without_tex(fig).savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def kde_png(result, path, *, boundary=None, las=None, title: str, marking: str, source_note: str, zoom=None) -> Path:
    """Static KDE surface (greyscale ramp, nodata transparent) over the force and local-authority boundaries."""
    fig, ax = _map_frame(boundary, las)
    d = np.asarray(result.density, dtype=float)
    d = np.where(d == result.nodata, np.nan, d)
    d = np.where(d > 0, d, np.nan)
    g = result.grid
    extent = (g.x0, g.x0 + g.cols * g.pixel_m, g.y_top - g.rows * g.pixel_m, g.y_top)
    from matplotlib.colors import PowerNorm

    vmax = np.nanpercentile(d, 99.9) if np.isfinite(d).any() else 1
    norm = PowerNorm(gamma=0.5, vmin=0, vmax=vmax)  # square-root stretch: small towns stay visible beside the city
    im = ax.imshow(d, extent=extent, cmap="Greys", norm=norm, interpolation="nearest", zorder=0)
    cb = fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01)
    cb.set_label("density: kernel-weighted crimes within 400 m (square-root scale)", fontsize=8)
    return _finish_map(fig, ax, path, title=title, marking=marking, source_note=source_note, zoom=zoom)


GI_STYLE = {  # gi_bin -> (face colour, hatch, label); distinguishable in greyscale by hatching
    3: ("#67000d", "", "hot spot, 99% confidence"),
    2: ("#cb181d", "///", "hot spot, 95%"),
    1: ("#fc9272", "...", "hot spot, 90%"),
    -1: ("#9ecae1", "...", "cold spot, 90%"),
    -2: ("#4292c6", "\\\\\\", "cold spot, 95%"),
    -3: ("#08306b", "", "cold spot, 99%"),
}


def gistar_png(cells, path, *, boundary=None, las=None, title: str, marking: str, source_note: str, zoom=None):
    """Gi* hot and cold spot hexagons (ArcGIS bins, FDR-adjusted) over the boundaries.

    ``cells``: GeoDataFrame (any CRS) with ``gi_bin``.
    """
    from matplotlib.patches import Patch

    fig, ax = _map_frame(boundary, las)
    g = cells[cells["gi_bin"] != 0].to_crs("EPSG:27700")
    handles = []
    for b, (colour, hatch, label) in GI_STYLE.items():
        sel = g[g["gi_bin"] == b]
        if len(sel):
            sel.plot(ax=ax, color=colour, hatch=hatch, edgecolor="#222222", linewidth=0.1)
            handles.append(Patch(facecolor=colour, hatch=hatch, edgecolor="#222222", label=f"{label} ({len(sel):,})"))
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize=7, title="Gi* (FDR 5%)")
    return _finish_map(fig, ax, path, title=title, marking=marking, source_note=source_note, zoom=zoom)


def clusters_png(clusters, points, path, *, boundary=None, las=None, title: str, marking: str, source_note: str,
                 zoom=None) -> Path:
    """DBSCAN cluster hulls (outlined, numbered by size) over the points, with the boundaries."""
    fig, ax = _map_frame(boundary, las)
    if points is not None and len(points):
        ax.scatter(points["x"], points["y"], s=0.2, color="#bbbbbb", linewidths=0, rasterized=True)
    c = clusters.to_crs("EPSG:27700") if clusters.crs is not None else clusters
    if len(c):
        c.buffer(30).boundary.plot(ax=ax, color="black", linewidth=0.8)
        top = c.sort_values("weighted_size", ascending=False).head(10)
        for i, (_, r) in enumerate(top.iterrows(), start=1):
            ax.annotate(str(i), (r["centroid_x"], r["centroid_y"]), fontsize=7, weight="bold",
                        xytext=(3, 3), textcoords="offset points")
    return _finish_map(fig, ax, path, title=title, marking=marking, source_note=source_note, zoom=zoom)


def kde_overlay_png(result, path: str | os.PathLike) -> tuple[Path, list[list[float]]]:
    """The KDE surface warped to Web Mercator as a transparent PNG, with its bounds for a Leaflet image overlay.

    Returns ``(path, [[south, west], [north, east]])`` in degrees.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
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
    vmax = np.nanpercentile(dst, 99.9) if np.isfinite(dst).any() else 1.0
    norm = np.clip(dst / vmax, 0, 1)
    rgba = plt.get_cmap("magma_r")(np.nan_to_num(norm))
    rgba[..., 3] = np.where(np.isfinite(dst) & (norm > 0.02), 0.75, 0.0)
    path = Path(path)
    plt.imsave(path, rgba)
    x0, y1 = transform.c, transform.f
    x1, y0 = transform.c + transform.a * w, transform.f + transform.e * h
    lon, lat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True).transform([x0, x1], [y0, y1])
    return path, [[lat[0], lon[0]], [lat[1], lon[1]]]
