"""Static maps and heat tables for the problem profile: KDE, Gi*, DBSCAN, weekday x hour, risky facilities.

Every map is drawn in British National Grid (EPSG:27700) on a
:class:`matplotlib.figure.Figure` outside pyplot, with the force boundary
(solid) and local authorities (dashed), a scale bar, and the security
marking and source line of :func:`profiles.render.charts.add_marking`.
Synthetic data get the "SYNTHETIC DATA" stamp. Text from data goes through
:func:`profiles.escape.mpl_text`. Each function returns PNG bytes (same
input, same bytes); nothing is read or written here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hotspots.nte_window import WEEKDAYS, NTEWindow
from hotspots.towns import TOWNS_CREDIT
from profiles.escape import mpl_text, mpl_texts
from profiles.render.charts import INK, LIGHT, MID, _figure, _save, add_marking

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from hotspots.kde import KDEResult

__all__ = [
    "GI_STYLE",
    "MapContext",
    "callout_positions",
    "clusters_png",
    "concentration_png",
    "gistar_png",
    "kde_png",
    "weekday_hour_png",
]

# --------------------------------------------------------------------------- map frame


def _rings(shapes: Any, *, exterior: bool = False) -> list[np.ndarray]:
    """Every ring (or only exteriors) of the polygons in ``shapes``, as (n, 2) coordinate arrays."""
    import shapely

    geoms = np.asarray(getattr(shapes, "geometry", shapes), dtype=object)
    parts = shapely.get_parts(geoms[~shapely.is_missing(geoms)])
    polygons = parts[shapely.get_type_id(parts) == 3]
    rings = shapely.get_exterior_ring(polygons) if exterior else shapely.get_rings(polygons)
    if not len(rings):
        return []
    coords, idx = shapely.get_coordinates(rings, return_index=True)
    return np.split(coords, np.flatnonzero(np.diff(idx)) + 1)


def _bng(shapes: Any) -> Any:
    """``shapes`` in EPSG:27700 (no re-projection when they are already)."""
    if shapes is not None and shapes.crs is not None and shapes.crs.to_epsg() != 27700:
        return shapes.to_crs("EPSG:27700")
    return shapes


def _outline(ax: Axes, shapes: Any, **style: Any) -> None:
    """Outlines of polygons, as one line collection (drawn once, not through geopandas)."""
    from matplotlib.collections import LineCollection

    if shapes is None or not len(shapes):
        return
    ax.add_collection(LineCollection(_rings(_bng(shapes)), **style))
    ax.autoscale_view()


def _fill(ax: Axes, shapes: Any, **style: Any) -> None:
    """Filled polygons (exteriors), as one collection."""
    from matplotlib.collections import PolyCollection

    ax.add_collection(PolyCollection(_rings(_bng(shapes), exterior=True), **style))
    ax.autoscale_view()


def _map_frame(boundary: Any, las: Any, *, width_in: float = 8.5, height_in: float = 8.0) -> tuple[Figure, Axes]:
    fig = _figure(width_in, height_in)
    ax = fig.add_subplot()
    _outline(ax, las, colors="#9a9a9a", linewidths=0.5, linestyles="--")
    _outline(ax, boundary, colors="#333333", linewidths=0.8)
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig, ax


@dataclass(frozen=True)
class MapContext:
    """What a reader needs to find their way on a static map (all EPSG:27700).

    la_labels : DataFrame name, x, y (a point inside each local authority)
    towns : DataFrame name, x, y (main towns; credit GeoNames)
    places : DataFrame number, x, y, label (ranked places, numbered on the map and listed in a key)
    """

    la_labels: pd.DataFrame | None = None
    towns: pd.DataFrame | None = None
    places: pd.DataFrame | None = None
    key_title: str = "Ranked places"


def _inside(frame: pd.DataFrame, xlim: tuple[float, float], ylim: tuple[float, float]) -> pd.DataFrame:
    x, y = frame["x"].to_numpy(float), frame["y"].to_numpy(float)
    return frame[(x >= xlim[0]) & (x <= xlim[1]) & (y >= ylim[0]) & (y <= ylim[1])]


def callout_positions(y: np.ndarray, *, y0: float, y1: float, gap: float) -> np.ndarray:
    """Label heights for callouts stacked beside the map: each label as near its point's height as the others allow.

    Labels keep their points' vertical order and sit at least ``gap`` apart inside ``[y0, y1]``, so no two
    overlap, however close their points are.

    Examples
    --------
    >>> callout_positions(np.array([5.0, 5.1, 5.2]), y0=0.0, y1=10.0, gap=1.0).tolist()
    [4.1, 5.1, 6.1]
    """
    order = np.argsort(y, kind="stable")
    want = np.clip(np.asarray(y, float)[order], y0, y1)
    n = len(want)
    if n == 0:
        return np.zeros(0)
    gap = min(gap, (y1 - y0) / max(n - 1, 1)) if n > 1 else gap
    # shift by the mean displacement of each cluster (pool adjacent violators), then clip into [y0, y1]
    z = want - gap * np.arange(n)
    blocks: list[list[float]] = []  # [mean, count]
    for v in z:
        blocks.append([v, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    fitted = np.concatenate([np.full(int(c), m) for m, c in blocks]) + gap * np.arange(n)
    lo = y0 + gap * np.arange(n)
    hi = y1 - gap * np.arange(n)[::-1]
    fitted = np.minimum(np.maximum(fitted, lo), hi)
    out = np.empty(n)
    out[order] = np.round(fitted, 9)
    return out


def _context(ax: Axes, ctx: MapContext | None) -> None:
    """Local-authority names, towns, numbered places with callouts beside the map and a key in the sea."""
    if ctx is None:
        return
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    w, h = xlim[1] - xlim[0], ylim[1] - ylim[0]
    towns = _inside(ctx.towns, xlim, ylim) if ctx.towns is not None and len(ctx.towns) else None
    if ctx.la_labels is not None and len(ctx.la_labels):
        la = _inside(ctx.la_labels, xlim, ylim)
        tx = towns["x"].to_numpy(float) if towns is not None else np.zeros(0)
        ty = towns["y"].to_numpy(float) if towns is not None else np.zeros(0)
        tn = set(towns["name"].astype(str)) if towns is not None else set()
        for name, x, y in zip(la["name"].astype(str), la["x"].to_numpy(float), la["y"].to_numpy(float), strict=True):
            # a handful of authorities; one named like a town (Bristol) or beside a town label is left to the town
            if name in tn or (len(tx) and np.hypot(tx - x, ty - y).min() < 0.06 * w):
                continue
            ax.text(x, y, mpl_text(name).upper(), fontsize=6.5, color="#6a6a6a", ha="center", va="center",
                    style="italic", zorder=4)
    if towns is not None:
        ax.scatter(towns["x"], towns["y"], s=9, color=INK, zorder=6, linewidths=0)
        for name, x, y in zip(towns["name"].astype(str), towns["x"].to_numpy(float), towns["y"].to_numpy(float),
                              strict=True):
            ax.annotate(mpl_text(name), (x, y), xytext=(3, 3), textcoords="offset points", fontsize=7.5,
                        color=INK, zorder=6, fontweight="bold",
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6})
    if ctx.places is not None and len(ctx.places):
        p = _inside(ctx.places, xlim, ylim)
        if len(p):
            ys = callout_positions(p["y"].to_numpy(float), y0=ylim[0] + 0.05 * h, y1=ylim[1] - 0.05 * h,
                                   gap=0.045 * h)
            lx = xlim[1] + 0.03 * w
            for (num, x, y), ly in zip(p[["number", "x", "y"]].itertuples(index=False), ys, strict=True):
                ax.plot([x, lx], [y, ly], color="#1f78b4", lw=0.5, zorder=7, clip_on=False)
                ax.scatter([x], [y], s=10, color="#1f78b4", zorder=8, clip_on=False)
                ax.text(lx, ly, f" {num}", fontsize=7, va="center", ha="left", color="#1f78b4", fontweight="bold",
                        zorder=8, clip_on=False)
            key = "\n".join(f"{n}  {mpl_text(str(lab))[:48]}" for n, lab in zip(p["number"], p["label"], strict=True))
            ax.text(0.01, 0.99, f"{ctx.key_title}\n" + key, transform=ax.transAxes, fontsize=6, va="top", ha="left",
                    zorder=9, bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#999999", "alpha": 0.9})
        ax.set_xlim(xlim)
        ax.set_ylim(ylim)


def _north_arrow(ax: Axes) -> None:
    ax.annotate("N", xy=(0.96, 0.96), xytext=(0.96, 0.88), xycoords="axes fraction", textcoords="axes fraction",
                ha="center", va="center", fontsize=9, fontweight="bold",
                arrowprops={"arrowstyle": "-|>", "color": INK, "lw": 1.2})


def _finish_map(
    fig: Figure,
    ax: Axes,
    *,
    title: str,
    marking: str,
    source_note: str,
    zoom: Any = None,
    synthetic: bool = False,
    context: MapContext | None = None,
) -> bytes:
    if zoom is not None:
        ax.set_xlim(zoom[0], zoom[2])
        ax.set_ylim(zoom[1], zoom[3])
    ax.set_title(mpl_text(title), fontsize=10)
    _context(ax, context)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bar = 10000 if (x1 - x0) > 60000 else 5000 if (x1 - x0) > 20000 else 1000  # scale bar
    bx, by = x0 + 0.05 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([bx, bx + bar], [by, by], color=INK, lw=3)
    ax.plot([bx, bx + bar / 2], [by, by], color="white", lw=1.2)
    ax.text(bx + bar / 2, by + 0.01 * (y1 - y0), f"{bar // 1000} km", ha="center", va="bottom", fontsize=8)
    _north_arrow(ax)
    if context is not None and context.towns is not None and len(context.towns):
        source_note = f"{source_note}; {TOWNS_CREDIT}"
    add_marking(fig, marking, source_note, synthetic=synthetic)
    return _save(fig)


# --------------------------------------------------------------------------- KDE, Gi*, DBSCAN


def _density(result: KDEResult) -> np.ndarray:
    d = np.asarray(result.density, dtype=float)
    return np.where((d == result.nodata) | ~(d > 0), np.nan, d)


def kde_png(
    result: KDEResult,
    *,
    boundary: Any = None,
    las: Any = None,
    title: str,
    marking: str,
    source_note: str,
    zoom: Any = None,
    radius_m: float | None = None,
    synthetic: bool = False,
    context: MapContext | None = None,
) -> bytes:
    r"""Static KDE surface (greyscale, square-root stretch, nodata transparent) over the boundaries.

    Parameters
    ----------
    result : hotspots.kde.KDEResult
        A density surface in EPSG:27700.
    boundary, las : GeoSeries or GeoDataFrame, optional
        Force area (solid) and local authorities (dashed), EPSG:27700.
    title, marking, source_note : str
        See :func:`profiles.render.charts.add_marking`.
    zoom : (xmin, ymin, xmax, ymax), optional
        Window in EPSG:27700 metres.
    radius_m : float, optional
        Kernel radius, named in the colour-bar label.
    synthetic : bool, default False
        Stamp "SYNTHETIC DATA".

    Returns
    -------
    bytes
        The PNG image.

    Examples
    --------
    >>> from hotspots.kde import kde
    >>> r = kde(pd.DataFrame({"x": [1000.0, 1100.0], "y": [1000.0, 1050.0]}), radius_m=200, pixel_m=50)
    >>> kde_png(r, title="KDE", marking="OFFICIAL", source_note="test")[:4]
    b'\x89PNG'
    """
    from matplotlib.colors import PowerNorm

    fig, ax = _map_frame(boundary, las)
    d = _density(result)
    g = result.grid
    extent = (g.x0, g.x0 + g.cols * g.pixel_m, g.y_top - g.rows * g.pixel_m, g.y_top)
    vmax = float(np.nanpercentile(d, 99.9)) if np.isfinite(d).any() else 1.0
    norm = PowerNorm(gamma=0.5, vmin=0, vmax=vmax)  # square-root stretch: small towns stay visible beside the city
    im = ax.imshow(d, extent=extent, cmap="Greys", norm=norm, interpolation="nearest", zorder=0)
    cb = fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01)
    within = f" within {radius_m:,.0f} m" if radius_m else ""
    cb.set_label(f"density: kernel-weighted crimes{within} (square-root scale)", fontsize=8)
    return _finish_map(fig, ax, title=title, marking=marking, source_note=source_note, zoom=zoom,
                       synthetic=synthetic, context=context)


GI_STYLE = {  # gi_bin -> (face colour, hatch, label); distinguishable in greyscale by hatching
    3: ("#67000d", "", "hot spot, 99% confidence"),
    2: ("#cb181d", "///", "hot spot, 95%"),
    1: ("#fc9272", "...", "hot spot, 90%"),
    -1: ("#9ecae1", "...", "cold spot, 90%"),
    -2: ("#4292c6", "\\\\\\", "cold spot, 95%"),
    -3: ("#08306b", "", "cold spot, 99%"),
}


def gistar_png(
    cells: Any,
    *,
    boundary: Any = None,
    las: Any = None,
    title: str,
    marking: str,
    source_note: str,
    zoom: Any = None,
    legend_title: str = "Gi* (FDR 5%)",
    context: MapContext | None = None,
) -> bytes:
    r"""Gi* hot and cold spot hexagons (ArcGIS bins, FDR-adjusted) over the boundaries.

    ``cells``: GeoDataFrame (any CRS; drawn in EPSG:27700) with ``gi_bin``;
    bins 0 are not drawn. Returns the PNG bytes.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"gi_bin": [3, -1]}, geometry=[box(0, 0, 300, 300), box(400, 0, 700, 300)], crs=27700)
    >>> gistar_png(g, title="Gi*", marking="OFFICIAL", source_note="test")[:4]
    b'\x89PNG'
    """
    from matplotlib.patches import Patch

    fig, ax = _map_frame(boundary, las)
    g = _bng(cells[cells["gi_bin"] != 0])
    handles = []
    bins = g["gi_bin"].to_numpy()
    for b, (colour, hatch, label) in GI_STYLE.items():
        sel = g[bins == b]
        if len(sel):
            _fill(ax, sel, facecolors=colour, hatch=hatch, edgecolors="#222222", linewidths=0.1)
            handles.append(Patch(facecolor=colour, hatch=hatch, edgecolor="#222222", label=f"{label} ({len(sel):,})"))
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize=7, title=mpl_text(legend_title))
    return _finish_map(fig, ax, title=title, marking=marking, source_note=source_note, zoom=zoom, context=context)


def clusters_png(
    clusters: Any,
    points: pd.DataFrame | None,
    *,
    boundary: Any = None,
    las: Any = None,
    title: str,
    marking: str,
    source_note: str,
    zoom: Any = None,
    numbered: int = 10,
    context: MapContext | None = None,
) -> bytes:
    r"""DBSCAN cluster hulls (outlined, the largest ``numbered`` numbered by size) over the points.

    ``clusters``: GeoDataFrame (EPSG:27700) with ``weighted_size`` (or
    ``n_events``), ``centroid_x``/``centroid_y`` (else the hull centroid);
    ``points``: x, y of the events (optional: shared numbers hold none).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> c = gpd.GeoDataFrame({"weighted_size": [70]}, geometry=[box(0, 0, 300, 300)], crs=27700)
    >>> clusters_png(c, None, title="DBSCAN", marking="OFFICIAL", source_note="test")[:4]
    b'\x89PNG'
    """
    fig, ax = _map_frame(boundary, las)
    if points is not None and len(points):
        ax.scatter(points["x"].to_numpy(), points["y"].to_numpy(), s=0.2, color="#bbbbbb", linewidths=0,
                   rasterized=True)
    c = _bng(clusters)
    if len(c):
        _outline(ax, c.buffer(30), colors=INK, linewidths=0.8)
        size = next((s for s in ("weighted_size", "n_events", "n_points", "size") if s in c.columns), None)
        top = c.sort_values(size, ascending=False).head(numbered) if size else c.head(numbered)
        if {"centroid_x", "centroid_y"} <= set(top.columns):
            cx, cy = top["centroid_x"].to_numpy(float), top["centroid_y"].to_numpy(float)
        else:
            cen = top.geometry.centroid
            cx, cy = cen.x.to_numpy(), cen.y.to_numpy()
        sizes = pd.to_numeric(top[size], errors="coerce").to_numpy(float) if size else np.full(len(top), np.nan)
        labels = [f"{v:,.0f} crimes" if np.isfinite(v) else "size withheld" for v in sizes]
        numbered_places = pd.DataFrame({"number": np.arange(1, len(top) + 1), "x": cx, "y": cy, "label": labels})
        context = MapContext(la_labels=context.la_labels if context else None,
                             towns=context.towns if context else None, places=numbered_places,
                             key_title="Largest clusters")
    return _finish_map(fig, ax, title=title, marking=marking, source_note=source_note, zoom=zoom, context=context)


# --------------------------------------------------------------------------- time of week, venues


def weekday_hour_png(
    table: pd.DataFrame,
    *,
    title: str,
    window: NTEWindow | None = None,
    marking: str = "OFFICIAL",
    source_note: str = "",
    synthetic: bool = False,
) -> bytes:
    r"""Heat table of events by weekday (rows) and hour (columns), with the NTE window outlined.

    Parameters
    ----------
    table : DataFrame
        7 x 24 from :func:`hotspots.timebands.weekday_hour_table` (aoristic
        counts); a missing value (withheld for sharing) is drawn hatched and
        labelled ``[c]``.
    title : str
        Chart title (say what is counted and over which period).
    window : NTEWindow, optional
        Outlined in red: the hours it covers on the days it starts, dashed
        the next morning.
    marking, source_note : str
        See :func:`profiles.render.charts.add_marking`.
    synthetic : bool, default False
        Stamp "SYNTHETIC DATA".

    Returns
    -------
    bytes
        The PNG image.

    Examples
    --------
    >>> from hotspots.timebands import parse_nte_window
    >>> t = pd.DataFrame(np.ones((7, 24)), index=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    >>> weekday_hour_png(t, title="RMS", window=parse_nte_window("Fri,Sat 21:00-06:00"))[:4]
    b'\x89PNG'
    """
    from matplotlib.patches import Rectangle

    values = table.apply(pd.to_numeric, errors="coerce").astype("Float64").to_numpy(float, na_value=np.nan)
    fig = _figure(11, 4.6)
    ax = fig.add_subplot()
    im = ax.imshow(values, cmap="Greys", aspect="auto")  # readable in greyscale by construction
    withheld = np.argwhere(np.isnan(values))
    for r, c in withheld:
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor="white", edgecolor=MID, hatch="///", lw=0))
        ax.text(c, r, "[c]", ha="center", va="center", fontsize=6, color=INK)
    ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)], fontsize=8)
    ax.set_yticks(range(len(table.index)), mpl_texts(table.index), fontsize=9)
    ax.set_xlabel("hour of day (local time)")
    cb = fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01)
    cb.set_label("events (aoristic share)", fontsize=8)
    if window is not None:
        start = window.start_min / 60
        end = start + window.duration_min / 60
        for d in window.days:
            row = WEEKDAYS.index(d)
            ax.add_patch(Rectangle((start - 0.5, row - 0.5), min(end, 24.0) - start, 1, fill=False, lw=2, ec="#d00000"))
            if end > 24:
                nxt = (row + 1) % 7
                ax.add_patch(Rectangle((-0.5, nxt - 0.5), end - 24, 1, fill=False, lw=2, ec="#d00000", ls="--"))
        title = f"{title}\nNTE window outlined in red: {window} (dashed: the morning after)"
    ax.set_title(mpl_text(title), fontsize=10)
    note = source_note + ("; [c]: withheld for sharing" if len(withheld) else "")
    add_marking(fig, marking, note, synthetic=synthetic)
    return _save(fig)


def concentration_png(
    curve: pd.DataFrame,
    *,
    title: str,
    marking: str = "OFFICIAL",
    source_note: str = "",
    summary: Mapping[str, Any] | None = None,
    synthetic: bool = False,
) -> bytes:
    r"""Risky-facilities curve: cumulative share of venues vs cumulative share of incidents.

    ``curve`` has ``cum_venue_share`` and ``cum_incident_share`` (0-1,
    busiest venue first; :func:`hotspots.venues.risky_facilities`);
    ``summary`` (default ``curve.attrs["summary"]``) gives ``gini`` and
    ``top10_share`` for the title (omitted when None).

    Examples
    --------
    >>> c = pd.DataFrame({"cum_venue_share": [0.5, 1.0], "cum_incident_share": [0.8, 1.0]})
    >>> concentration_png(c, title="Risky facilities", summary={"gini": 0.3, "top10_share": 0.4})[:4]
    b'\x89PNG'
    """
    fig = _figure(6.4, 6.0)
    ax = fig.add_subplot()
    x = np.concatenate([[0.0], pd.to_numeric(curve["cum_venue_share"], errors="coerce").to_numpy(float)]) * 100
    y = np.concatenate([[0.0], pd.to_numeric(curve["cum_incident_share"], errors="coerce").to_numpy(float)]) * 100
    ax.plot(x, y, color=INK, lw=2, label="venues, busiest first")
    ax.plot([0, 100], [0, 100], color=MID, ls="--", lw=1, label="incidents spread evenly")
    s = dict(curve.attrs.get("summary", {}) if summary is None else summary)
    text = mpl_text(title)
    gini, top10 = s.get("gini"), s.get("top10_share")
    parts = []
    if gini is not None and np.isfinite(gini):
        parts.append(f"Gini {gini:.2f}")
    if top10 is not None and np.isfinite(top10):
        parts.append(f"top 10% of venues: {100 * top10:.0f}% of incidents")
    if parts:
        text = f"{text}\n{'; '.join(parts)}"
    ax.set_title(text, fontsize=10)
    ax.set_xlabel("share of NTE venues (%)")
    ax.set_ylabel("share of NTE-window incidents nearby (%)")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(color=LIGHT, lw=0.6)
    add_marking(fig, marking, source_note, synthetic=synthetic)
    return _save(fig)
