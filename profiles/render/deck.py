"""The planners' app maps: pydeck decks with no base map (no tile server, no token, nothing fetched).

Every layer is built from tables the app already computed (``profiles.planner``):
H3 hexagons (deck.gl's H3HexagonLayer, shipped inside Streamlit), the force and
local-authority outlines and town names as layers of their own, an optional KDE
bitmap, DBSCAN hulls and venues. Colours are colour-blind safe (a cividis-like
sequential ramp in quantile bands; Gi* hot/cold in orange/purple, PuOr), and
:func:`legend_rows` gives the legend the app prints beside the map with its units.
Only what is drawn is sent: cells with a value, at most ``max_cells`` of them.

Examples
--------
>>> t = pd.DataFrame({"h3_cell": ["89195839223ffff"], "value": [5.0], "count": [5.0]})
>>> d = hex_deck(t, value_label="crimes", view=(51.45, -2.59, 10))
>>> d.map_style.startswith("data:"), [layer.type for layer in d.layers]
(True, ['H3HexagonLayer'])
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
import pydeck as pdk

__all__ = ["BANDS", "GI_COLOURS", "CompactDeck", "band_colours", "hex_deck", "legend_rows"]

#: sequential ramp (dark blue -> yellow, cividis-like: readable with every common colour-vision deficiency)
BANDS = ((0, 34, 78), (56, 74, 112), (124, 123, 120), (190, 175, 100), (254, 232, 56))
GI_COLOURS = {"hot": (179, 88, 6), "cold": (84, 39, 136)}
#: a map style with no sources: a plain background, so the viewer fetches no tiles, fonts or style from anywhere
EMPTY_STYLE = "data:application/json;charset=utf-8," + quote(json.dumps(
    {"version": 8, "sources": {}, "layers": [{"id": "background", "type": "background",
                                              "paint": {"background-color": "#f4f4f2"}}]}, separators=(",", ":")))


class CompactDeck(pdk.Deck):
    """A deck whose JSON is compact (no indentation, no key sorting): half the bytes, a third of the time."""

    def to_json(self) -> str:
        """The deck's JSON spec, as the viewer reads it."""
        from pydeck.bindings.json_tools import default_serialize

        return json.dumps(self, default=default_serialize, separators=(",", ":"))


def band_colours(values: np.ndarray, *, bands: int = 5) -> tuple[np.ndarray, list[float]]:
    """Quantile band (0..bands-1) of each value and the band edges (equal numbers of cells per band).

    Examples
    --------
    >>> b, edges = band_colours(np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
    >>> b.tolist(), [round(e, 1) for e in edges]
    ([0, 0, 1, 1, 2, 2, 3, 3, 4, 4], [1.0, 2.8, 4.6, 6.4, 8.2, 10.0])
    """
    v = np.asarray(values, float)
    if not len(v):
        return np.zeros(0, int), []
    edges = np.quantile(v, np.linspace(0, 1, bands + 1))
    idx = np.clip(np.searchsorted(edges[1:-1], v, side="right"), 0, bands - 1)
    return idx.astype(int), [float(e) for e in edges]


def legend_rows(values: np.ndarray, *, unit: str, bands: int = 5) -> list[dict[str, str]]:
    """The legend of a hexagon layer: one row per band with its colour (hex) and range in ``unit``."""
    _, edges = band_colours(values, bands=bands)
    rows = []
    for i in range(len(edges) - 1):
        r, g, b = BANDS[i]
        lo, hi = edges[i], edges[i + 1]
        fmt = "{:,.0f}" if max(abs(lo), abs(hi)) >= 10 else "{:,.1f}"
        rows.append({"colour": f"#{r:02x}{g:02x}{b:02x}", "range": f"{fmt.format(lo)} to {fmt.format(hi)} {unit}"})
    return rows


def _path_layer(rings: Sequence[Any], *, colour: tuple[int, int, int], width: float, layer_id: str) -> pdk.Layer:
    data = [{"path": ring} for ring in rings]
    return pdk.Layer("PathLayer", data, id=layer_id, get_path="path", get_color=list(colour),
                     get_width=0, width_min_pixels=width, pickable=False)


def hex_deck(table: pd.DataFrame, *, value_label: str, view: tuple[float, float, float],
             gi: pd.DataFrame | None = None, boundary: Sequence[Any] = (), local_authorities: Sequence[dict] = (),
             towns: pd.DataFrame | None = None, kde: dict[str, Any] | None = None,
             hulls: Sequence[dict[str, Any]] = (), venues: pd.DataFrame | None = None,
             perception: pd.DataFrame | None = None, max_cells: int = 8000) -> pdk.Deck:
    """A deck of the hexagon table (``h3_cell``, ``value``, ``count``) and the context layers asked for.

    ``view`` is (latitude, longitude, zoom). Hover shows the cell's value and records.
    """
    layers: list[pdk.Layer] = []
    if kde is not None:
        w, s, e, n = kde["bounds"]
        layers.append(pdk.Layer("BitmapLayer", id="kde", image=kde["image"], bounds=[[w, s], [w, n], [e, n], [e, s]],
                                opacity=0.8))
    t = table[table["value"] > 0].head(max_cells)
    if len(t):
        band, _ = band_colours(t["value"].to_numpy(float))
        cols = np.array(BANDS)[band]
        data = pd.DataFrame({"h3": t["h3_cell"].astype(str).to_numpy(),
                             "value": np.round(t["value"].to_numpy(float), 1),
                             "records": t["count"].to_numpy(float).round(0).astype(np.int64),
                             "r": cols[:, 0], "g": cols[:, 1], "b": cols[:, 2]})
        layers.append(pdk.Layer("H3HexagonLayer", data.to_dict("records"), id="hexagons", get_hexagon="h3",
                                get_fill_color="[r, g, b, 170]", stroked=False, filled=True, extruded=False,
                                pickable=True, auto_highlight=True))
    if gi is not None and len(gi):
        sig = gi[gi["gi_class"].isin(["hot", "cold"])]
        if len(sig):
            gd = pd.DataFrame({"h3": sig["h3_cell"].astype(str).to_numpy(), "cls": sig["gi_class"].to_numpy()})
            gd["r"] = [GI_COLOURS[c][0] for c in gd["cls"]]
            gd["g"] = [GI_COLOURS[c][1] for c in gd["cls"]]
            gd["b"] = [GI_COLOURS[c][2] for c in gd["cls"]]
            layers.append(pdk.Layer("H3HexagonLayer", gd.to_dict("records"), id="gi", get_hexagon="h3", filled=False,
                                    stroked=True, extruded=False,
                                    get_line_color="[r, g, b]", line_width_min_pixels=2, pickable=False))
    if perception is not None and len(perception):
        layers.append(pdk.Layer("H3HexagonLayer", perception, id="streetsafe", get_hexagon="h3_cell", filled=False,
                                stroked=True, extruded=False, get_line_color=[0, 0, 0], line_width_min_pixels=1,
                                pickable=False))
    if hulls:
        layers.append(pdk.Layer("PolygonLayer", list(hulls), id="dbscan", get_polygon="polygon", filled=False,
                                stroked=True, get_line_color=[230, 97, 1], line_width_min_pixels=2, pickable=False))
    if venues is not None and len(venues):
        layers.append(pdk.Layer("ScatterplotLayer", venues, id="venues", get_position="[lng, lat]", get_radius=30,
                                radius_min_pixels=3, get_fill_color=[0, 0, 0], pickable=False))
    if boundary:
        layers.append(_path_layer(boundary, colour=(40, 40, 40), width=2.0, layer_id="force"))
    for la in local_authorities:
        layers.append(_path_layer(la["path"], colour=(120, 120, 120), width=1.0, layer_id=f"la-{la['name']}"))
    labels = []
    if local_authorities:
        labels += [{"name": la["name"], "lng": la["lng"], "lat": la["lat"], "size": 13} for la in local_authorities]
    if towns is not None and len(towns):
        labels += [{"name": str(n), "lng": float(x), "lat": float(y), "size": 12}
                   for n, x, y in zip(towns["name"], towns["lng"], towns["lat"], strict=True)]
    if labels:
        layers.append(pdk.Layer("TextLayer", labels, id="names", get_position="[lng, lat]", get_text="name",
                                get_size="size", get_color=[20, 20, 20], background=True,
                                get_background_color=[255, 255, 255, 200], pickable=False))
    lat, lng, zoom = view
    return CompactDeck(layers=layers, initial_view_state=pdk.ViewState(latitude=lat, longitude=lng, zoom=zoom),
                    map_style=EMPTY_STYLE, map_provider=None,
                    tooltip={"text": f"{{value}} {value_label}\n{{records}} records\ncell {{h3}}"})
