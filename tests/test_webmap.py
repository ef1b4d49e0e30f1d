"""The profile's interactive map.html: layers, legend, marking, suppression and escaping."""

from __future__ import annotations

import html
import re

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from hotspots.errors import ParameterError
from hotspots.grid import cells_to_polygons
from profiles.render.webmap import _find_leaflet, map_html, profile_map

CENTRE = h3.latlng_to_cell(51.38, -2.36, 9)
CELLS = sorted(h3.grid_disk(CENTRE, 2))  # 19 cells around Bath
MARKING = "OFFICIAL-SENSITIVE [TEST]"
SCRIPT = "<script>alert(1)</script>"
# distinctive true counts of the suppressed cells: they must never reach the HTML
SECRET = {CELLS[0]: 98761, CELLS[1]: 98762, CELLS[2]: 98763}


def _cells(counts, **extra):
    return gpd.GeoDataFrame(
        {"h3_cell": CELLS, "count": counts, **extra}, geometry=cells_to_polygons(CELLS).values, crs="EPSG:4326"
    )


def _unjs(text: str) -> str:
    """Undo the \\uXXXX escapes folium's tojson writes into the layer control."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda mo: chr(int(mo.group(1), 16)), text)


@pytest.fixture
def inputs():
    n = len(CELLS)
    police = _cells(np.arange(n) % 7)  # includes zeros: not drawn
    sup = np.isin(CELLS, list(SECRET))
    rms_counts = pd.array([None if s else 10 + i for i, s in enumerate(sup)], dtype="Int64")
    rms = _cells(rms_counts, suppressed=sup, rms_count=[None if s else 10 + i for i, s in enumerate(sup)])
    # a second layer where the caller forgot to blank the count: the flag alone must hide it
    ae = _cells([SECRET.get(c, 5 + i) for i, c in enumerate(CELLS)], suppressed=sup, ae_share=np.linspace(0, 1, n))
    gi = _cells(np.arange(n), gi_bin=[3, 2, 1, 0, 0, -1, -2, -3] + [0] * (n - 8), gi_z=np.linspace(-3, 3, n))
    venues = gpd.GeoDataFrame(
        {"name": [SCRIPT, "The Bell & Crown", "Moles"], "risk_rank": [1, 2, 30], "nearest_nte": ["a", "b", "c"]},
        geometry=[Point(-2.36, 51.38), Point(-2.362, 51.381), Point(-2.358, 51.379)],
        crs="EPSG:4326",
    ).to_crs("EPSG:27700")
    clusters = gpd.GeoDataFrame(
        {"cluster": [0, 1], "size": [42, 7]},
        geometry=[Point(375000, 164800).buffer(150), Point(375400, 165000)],  # a hull and a one-place cluster
        crs="EPSG:27700",
    )
    boundary = gpd.GeoDataFrame(geometry=[box(-2.40, 51.36, -2.32, 51.40)], crs="EPSG:4326")
    png = (
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e5270ade0000000049454e44ae426082"
        )
    )
    return {
        "layers": {
            "police.uk recorded crime": police,
            "RMS, NTE window [SYNTHETIC]": rms,
            "A&E assaults [SYNTHETIC]": ae,
        },
        "gi": gi,
        "venues": venues,
        "clusters": clusters,
        "boundary": boundary,
        "kde_png": (png, [[51.37, -2.37], [51.39, -2.35]]),
    }


@pytest.fixture
def saved(inputs):
    m = profile_map(**inputs, title="Bath NTE <profile>", marking=MARKING, suppression_k=5, source_note="test data")
    return map_html(m)


def test_layer_names_in_control(saved):
    text = _unjs(saved)
    for name in (
        "police.uk recorded crime",
        "RMS, NTE window [SYNTHETIC]",
        "A&amp;E assaults [SYNTHETIC]",
        "Gi* hot and cold spots",
        "DBSCAN clusters (outlines)",
        "NTE venues",
        "KDE surface",
        "Force boundary",
    ):
        assert f'"{name}" : feature_group_' in text, name
    assert '"collapsed": true' in saved  # the layer list opens on demand: the map stays visible


def test_legend_title_and_marking(saved):
    assert saved.count('class="ss-legend"') == 1
    assert "<h3>police.uk recorded crime</h3>" in saved
    assert "hot spot, 99% confidence" in saved and "cold spot, 99% confidence" in saved
    assert "<h3>Withheld cells</h3>" in saved and "are not drawn" in saved
    assert saved.count(f">{MARKING}</div>") == 2
    assert saved.count(MARKING) == 2
    assert "<h1>Bath NTE &lt;profile&gt;</h1>" in saved
    assert "<title>Bath NTE &lt;profile&gt;</title>" in saved


def test_suppressed_counts_never_written(saved):
    assert "[c] (suppressed for sharing: fewer than 5, or would reveal one)" in saved  # named in the legend
    for v in SECRET.values():
        assert str(v) not in saved and f"{v:,}" not in saved
    # a withheld cell is not drawn at all (RMS and A&E hold three each): no feature carries a [c] count
    assert not re.findall(r'"count": "\[c\]', saved)
    assert "6 cells whose count is withheld for sharing" in saved


def test_only_occupied_cells_and_rounded_coordinates(saved, inputs):
    police = inputs["layers"]["police.uk recorded crime"]
    n_features_police = int((police["count"] > 0).sum())
    first = saved.index('"count": ')
    assert n_features_police < len(CELLS)
    assert '"count": "0"' not in saved
    assert not re.search(r"-?\d+\.\d{6,}", saved[first:])  # 5 dp at most in the data (about 1 m)
    assert len(saved) < 200_000


def test_names_escaped(saved):
    text = _unjs(saved)  # folium writes the GeoJSON with \u0026-style escapes; undo them, then look
    assert SCRIPT not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "The Bell &amp; Crown" in text
    assert "<script>alert" not in text.lower()


def test_gi_only_significant_and_clusters(saved):
    assert saved.count('"class": "hot spot') == 3 and saved.count('"class": "cold spot') == 3
    assert '"size": "42"' in saved and '"size": "7"' in saved


def test_self_contained_apart_from_cdn(saved):
    refs = re.findall(r'(?:src|href)="([^"]+)"', saved)
    for ref in refs:
        assert ref.startswith("https://"), ref  # no local files beside map.html
        host = ref.split("/")[2]
        assert host in {"cdn.jsdelivr.net", "code.jquery.com", "cdnjs.cloudflare.com", "netdna.bootstrapcdn.com"}
    assert "data:image/png;base64," in saved  # the KDE PNG travels inside the file


def test_inline_assets_needs_no_cdn(inputs):
    try:
        _find_leaflet(None)
    except FileNotFoundError:
        pytest.skip("no local Leaflet (Debian libjs-leaflet)")
    m = profile_map(**inputs, title="t", marking=MARKING)
    text = map_html(m, inline_assets=True)
    assert not re.search(r'<script src=|<link rel="stylesheet" href=', text)
    assert "L.map(" in text and text.index("Leaflet") < text.index("L.map(")
    urls = set(re.findall(r"https?://[^\"'\s)\\]+", text[text.index("L.map(") :]))
    assert {u.split("/")[2] for u in urls} <= {"tile.openstreetmap.org", "www.openstreetmap.org"}


def test_does_not_mutate_inputs(inputs):
    before = {k: v.copy() for k, v in inputs["layers"].items()}
    profile_map(**inputs, title="t", marking=MARKING)
    for k, v in inputs["layers"].items():
        pd.testing.assert_frame_equal(v, before[k])


def test_minimal_map_without_optional_layers(inputs):
    m = profile_map(layers={"only": inputs["layers"]["police.uk recorded crime"]}, title="t", marking="OFFICIAL")
    text = map_html(m)
    assert "Gi* hot and cold spots" not in text and "NTE venues" not in text and "Suppressed cells" not in text


def _bad(inputs, **change):
    kw = {"layers": inputs["layers"], "title": "t", "marking": "OFFICIAL"}
    kw.update(change)
    return kw


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"layers": {}}, "non-empty dict"),
        ({"layers": {"x": _cells([1] * len(CELLS)).set_crs(None, allow_override=True)}}, "no CRS"),
        ({"layers": {"x": _cells([1] * len(CELLS)).drop(columns="count")}}, "missing column"),
        ({"layers": {"x": _cells([None] + [1] * (len(CELLS) - 1))}}, "set suppressed=True"),
        ({"gi": _cells([1] * len(CELLS), gi_bin=[4] * len(CELLS))}, "-3..3"),
        ({"gi": _cells([1] * len(CELLS))}, "gi_bin"),
        ({"kde_png": ("nofile.png", [[51.37, -2.37], [51.39, -2.35]])}, "expected PNG bytes"),
        ({"kde_png": ("x.png", [[51.39, -2.37], [51.37, -2.35]])}, "bounds"),
        ({"kde_png": "x.png"}, "expected"),
        ({"clusters": gpd.GeoDataFrame({"c": [1]}, geometry=[Point(0, 0)], crs=27700)}, "cluster"),
        ({"venues": gpd.GeoDataFrame({"n": [1]}, geometry=[Point(0, 0)], crs=4326)}, "'name'"),
    ],
)
def test_bad_inputs(inputs, change, match):
    with pytest.raises(ParameterError, match=match):
        profile_map(**_bad(inputs, **change))


def test_inline_assets_missing_leaflet(inputs, tmp_path):
    m = profile_map(**_bad(inputs))
    with pytest.raises(FileNotFoundError, match="libjs-leaflet"):
        map_html(m, inline_assets=True, leaflet_dir=tmp_path / "none")


# --------------------------------------------------------------------------- render_map(numbers)


def _numbers(seed=0):
    from numbers_factory import make_numbers

    return make_numbers(seed)


def _withheld(numbers, k=10):
    """A hand-made shared copy: counts 1..k-1 of every grid and venue NA, release partner (no profiles.shared)."""
    import dataclasses

    def hide(frame):
        f = frame.copy()
        c = pd.to_numeric(f["count"], errors="coerce")
        f["count"] = c.where(~((c > 0) & (c < k))).astype("Float64")
        return f

    grids = {band: hide(g) for band, g in numbers.fused.grids.items()}
    clusters = numbers.hotspots.clusters.copy()
    clusters["n_events"] = clusters["n_events"].astype(float).where(lambda v: v >= k)
    gi = numbers.hotspots.gi.assign(gi_z=np.nan)  # z-scores give the counts back: a shared version has none
    risk = numbers.venues.risk.copy()
    risk["nearest_nte"] = risk["nearest_nte"].astype(float).where(lambda v: ~((v > 0) & (v < k)))
    return dataclasses.replace(
        numbers,
        disclosure=dataclasses.replace(numbers.disclosure, release="partner", threshold=k, handling="Partners only."),
        fused=dataclasses.replace(numbers.fused, grids=grids),
        venues=dataclasses.replace(numbers.venues, risk=risk),
        hotspots=dataclasses.replace(numbers.hotspots, gi=gi, clusters=clusters),
    )


def _legend_labels(page: str) -> list[str]:
    return re.findall(r"<td>([0-9][0-9,]*(?:-[0-9][0-9,]*)?)</td>", page)


def _small_legend(page: str, k: int) -> list[str]:
    return [lab for lab in _legend_labels(page) if 0 < int(lab.split("-")[0].replace(",", "")) < k]


def test_render_map_from_numbers():
    from profiles.render.webmap import render_map

    n = _numbers()
    out = render_map(n)
    assert list(out) == ["map.html"]
    page = _unjs(out["map.html"])
    assert "data:image/png;base64," in page and "kde_overlay.png" not in page  # KDE inlined, no side file
    for sq in n.sources:
        if sq.source in set(n.fused.grids["all"]["source"]):
            tag = " [SYNTHETIC]" if sq.synthetic or sq.source in n.meta.synthetic_sources else ""
            assert html.escape(sq.label + tag, quote=False) in page
    assert "RMS + A&amp;E (aoristic)" in page or "RMS + A&E (aoristic)" in page
    assert n.meta.marking in page and "Handling:" in page
    assert "(shared version)" not in page
    assert "<script src=" not in page  # Leaflet inlined (a static asset), no CDN


def test_render_map_withheld_shown_as_c_and_no_small_count():
    import shared_scan

    from profiles.render.webmap import render_map

    n = _withheld(_numbers(1))
    page = render_map(n)["map.html"]
    assert "(shared version)" in page and "Partners only." in page
    assert "[c] (suppressed for sharing: fewer than 10, or would reveal one)" in page  # the legend names the rule
    assert not re.search(r'"count": "\[c\]', page)  # withheld cells are not drawn
    assert '"nearest_nte": "[c]"' in page and '"size": "[c]"' in page
    assert '"gi_z"' not in page  # every z withheld: no z-score line in the tooltip at all
    assert list(shared_scan.scan_map_html(page, 10)) == []
    assert _small_legend(page, 10) == []


def test_render_map_restricted_refuses_missing_counts():
    import dataclasses

    from profiles.render.webmap import render_map

    n = _withheld(_numbers(2))
    restricted = dataclasses.replace(n, disclosure=dataclasses.replace(n.disclosure, release="restricted"))
    with pytest.raises(ParameterError, match="not flagged suppressed"):
        render_map(restricted)


@pytest.mark.parametrize("seed", [0, 3])
def test_render_map_of_shared_numbers_shows_no_small_count(seed):
    import shared_scan

    from profiles.render.webmap import render_map

    shared = pytest.importorskip("profiles.shared")
    n = shared.to_shared(_numbers(seed), 10)
    page = render_map(n)["map.html"]
    assert list(shared_scan.scan_map_html(page, 10)) == []
    assert _small_legend(page, 10) == []
    assert "[c]" in page


def test_demo_maps_are_small_and_name_their_places(demo_build):
    out, _ = demo_build
    restricted = (out / "map.html").read_text(encoding="utf-8")
    shared = (out / "shared" / "map.html").read_text(encoding="utf-8")
    assert len(restricted.encode()) < 2_000_000 and len(shared.encode()) < 2_000_000
    for page in (restricted, shared):
        assert '"collapsed": true' in page
        assert "Ranked places (police.uk)" in page and '"streets": "Nightclub (32%)' in page  # tooltips name streets
        assert '"grid_ref": "ST ' in page
        assert "quantile classes" in page
        assert "Hot spots over time" in page
    assert "NTE street view" in restricted and "H3 res 10" in restricted
    assert "NTE street view" not in shared  # the finer grid is restricted (differencing against res 9)
