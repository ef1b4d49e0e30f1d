"""H3 gridding: conservation, hand-checked cells, study-area coverage without holes."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import DATA
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.boundaries import read_boundary
from hotspots.errors import ParameterError
from hotspots.grid import boundary_to_cells, cells_to_int, cells_to_polygons, events_to_cells, latlng_to_cells


def test_hand_checked_cell():
    # All Bar One, 11-12 High Street, Bath (Open Pubs lat/lng). Cell checked by hand with h3-py and on
    # https://h3geo.org: resolution 9 cell 89195823077ffff; at resolution 7 it is 871958230ffffff.
    c9 = latlng_to_cells(np.array([51.381912]), np.array([-2.359463]), resolution=9)
    assert h3.int_to_str(int(c9[0])) == "89195823077ffff"
    c7 = latlng_to_cells(np.array([51.381912]), np.array([-2.359463]), resolution=7)
    assert h3.int_to_str(int(c7[0])) == "871958230ffffff"
    ev = pd.DataFrame({"lat": [51.381912], "lng": [-2.359463], "source": ["x"], "month": ["2024-01"]})
    out = events_to_cells(ev, resolution=9)
    assert out["h3_cell"].tolist() == [h3.latlng_to_cell(51.381912, -2.359463, 9)]
    assert h3.cell_to_parent(out["h3_cell"].iloc[0], 7) == h3.latlng_to_cell(51.381912, -2.359463, 7)
    # the point is inside the hexagon polygon we return for that cell
    poly = cells_to_polygons(out["h3_cell"].tolist()).iloc[0]
    assert poly.contains(shapely.Point(-2.359463, 51.381912))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(50.8, 51.6),
            st.floats(-3.5, -2.2),
            st.sampled_from(["a", "b"]),
            st.sampled_from(["2024-01", "2024-02"]),
            st.floats(0, 10),
        ),
        min_size=1,
        max_size=60,
    ),
    st.sampled_from([7, 9, 11]),
)
def test_counts_conserved_and_match_h3py(rows, res):
    ev = pd.DataFrame(rows, columns=["lat", "lng", "source", "month", "w"])
    out = events_to_cells(ev, resolution=res, weight="w")
    assert out["count"].sum() == len(ev)
    assert out["weight"].sum() == pytest.approx(ev["w"].sum())
    expect = ev.assign(h3_cell=[h3.latlng_to_cell(a, b, res) for a, b in zip(ev.lat, ev.lng, strict=True)])
    expect = expect.groupby(["h3_cell", "source", "month"]).size().rename("n").reset_index()
    merged = out.merge(expect, on=["h3_cell", "source", "month"], how="outer")
    assert (merged["count"] == merged["n"]).all()


def test_input_not_mutated_and_no_groups():
    ev = pd.DataFrame({"lat": [51.38, 51.38], "lng": [-2.36, -2.36]})
    before = ev.copy()
    out = events_to_cells(ev, by=[])
    pd.testing.assert_frame_equal(ev, before)
    assert out["count"].tolist() == [2]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"resolution": 12}, "7-11"),
        ({"resolution": 6}, "7-11"),
        ({"resolution": 9.5}, "7-11"),
        ({"by": ["nope"]}, "no column"),
    ],
)
def test_bad_parameters(kwargs, match):
    ev = pd.DataFrame({"lat": [51.38], "lng": [-2.36], "source": ["a"], "month": ["2024-01"]})
    with pytest.raises(ParameterError, match=match):
        events_to_cells(ev, **kwargs)


def test_metres_given_as_degrees_is_refused():
    ev = pd.DataFrame({"lat": [164824.0], "lng": [375081.0]})
    with pytest.raises(ParameterError, match="degrees"):
        events_to_cells(ev, by=[])


def test_boundary_coverage_has_no_holes():
    bath = read_boundary(DATA / "boundaries" / "la" / "boundary_bathandnortheastsomerset.geojson")
    cells = boundary_to_cells(bath, resolution=8)
    cell_set = set(cells)
    # 1. every point inside the boundary falls in a study-area cell (dense random sample + the vertices)
    poly = shapely.union_all(bath.to_crs(4326).geometry.to_numpy())
    rng = np.random.default_rng(0)
    xmin, ymin, xmax, ymax = poly.bounds
    pts = rng.uniform([xmin, ymin], [xmax, ymax], size=(20000, 2))
    inside = shapely.contains_xy(poly, pts[:, 0], pts[:, 1])
    verts = shapely.get_coordinates(poly)
    lng = np.concatenate([pts[inside, 0], verts[:, 0]])
    lat = np.concatenate([pts[inside, 1], verts[:, 1]])
    got = latlng_to_cells(lat, lng, resolution=8)
    assert set(np.unique(got)) <= set(cells_to_int(cells).tolist())
    # 2. no interior holes: no missing cell is surrounded by study cells on all six sides
    ring = {n for c in cells for n in h3.grid_ring(c, 1)} - cell_set
    holes = [c for c in ring if all(n in cell_set for n in h3.grid_ring(c, 1))]
    assert holes == []
    # 3. coverage is tight: cells whose centre lies outside the polygon touch its edge
    polys = cells_to_polygons(cells)
    assert polys.intersects(poly).all()


def _intersects_boundary(geom, resolution):
    """Oracle: h3ronpy's own IntersectsBoundary cover, polygon by polygon."""
    from h3ronpy import ContainmentMode
    from h3ronpy.vector import geometry_to_cells

    parts = shapely.get_parts(geom)
    cells = [
        np.asarray(geometry_to_cells(p, resolution, containment_mode=ContainmentMode.IntersectsBoundary)) for p in parts
    ]
    return np.unique(np.concatenate(cells))


_BOX = shapely.box(-2.40, 51.36, -2.33, 51.40)
_SHAPES = {
    "box": _BOX,
    "box with a hole": _BOX.difference(shapely.box(-2.38, 51.37, -2.35, 51.39)),
    "two boxes": shapely.union_all([shapely.box(-2.40, 51.36, -2.39, 51.37), shapely.box(-2.30, 51.30, -2.28, 51.31)]),
    "10 m triangle": shapely.Polygon([(-2.3590, 51.3813), (-2.35888, 51.3813), (-2.3590, 51.38139)]),
    "sliver": shapely.Polygon([(-2.5, 51.30), (-2.2, 51.45), (-2.2, 51.4501)]),
}


@pytest.mark.parametrize("resolution", [7, 9, 11])
@pytest.mark.parametrize("shape", list(_SHAPES))
def test_boundary_cells_equal_h3_intersects_boundary(shape, resolution):
    got = cells_to_int(boundary_to_cells(_SHAPES[shape], resolution=resolution))
    assert np.array_equal(np.sort(got), _intersects_boundary(_SHAPES[shape], resolution))


@pytest.mark.parametrize("resolution", [8, 10])
def test_boundary_cells_equal_h3_on_a_real_boundary(resolution):
    bath = read_boundary(DATA / "boundaries" / "la" / "boundary_bathandnortheastsomerset.geojson")
    geom = shapely.make_valid(shapely.union_all(bath.to_crs(4326).geometry.to_numpy()))
    got = cells_to_int(boundary_to_cells(bath, resolution=resolution))
    assert np.array_equal(np.sort(got), _intersects_boundary(geom, resolution))


def test_average_cell_area():
    from hotspots.grid import average_cell_area_km2

    assert average_cell_area_km2(9) == pytest.approx(h3.average_hexagon_area(9, unit="km^2"))
    assert 0.1 < average_cell_area_km2(9) < 0.11  # H3's table: 0.1053 km2
    with pytest.raises(ParameterError, match="resolution"):
        average_cell_area_km2(3)


def test_boundary_in_metres_without_crs_refused():
    with pytest.raises(ParameterError, match="not degrees"):
        boundary_to_cells(shapely.box(370000, 160000, 371000, 161000), resolution=9)


def test_unique_points_exact_even_below_police_uk_precision():
    from hotspots.grid import unique_points

    lng = np.array([-2.5, -2.5, -2.5000000001, -2.4, -2.5])
    lat = np.array([51.4, 51.4, 51.4, 51.4, 51.4])
    codes, first = unique_points(lng, lat)
    # same key to 1e-6 degrees, but not the same float: must not be merged
    assert codes[0] == codes[1] == codes[4] and codes[2] != codes[0] and codes[3] not in (codes[0], codes[2])
    assert (lng[first][codes] == lng).all() and (lat[first][codes] == lat).all()


def test_groups_by_period_and_category_match_pandas():
    rng = np.random.default_rng(3)
    n = 2000
    ev = pd.DataFrame(
        {
            "lat": rng.uniform(51.3, 51.5, n).round(3),
            "lng": rng.uniform(-2.7, -2.5, n).round(3),
            "month": pd.PeriodIndex.from_ordinals(rng.integers(640, 660, n), freq="M"),
            "crime_type": pd.Categorical(rng.choice(["b", "a", "c"], n), categories=["c", "b", "a", "unused"]),
        }
    )
    out = events_to_cells(ev, resolution=8, by=["month", "crime_type"])
    ref = ev.assign(h3_cell=[h3.latlng_to_cell(a, b, 8) for a, b in zip(ev.lat, ev.lng, strict=True)])
    ref = ref.groupby(["h3_cell", "month", "crime_type"], observed=True).size().rename("n").reset_index()
    merged = out.merge(ref, on=["h3_cell", "month", "crime_type"], how="outer")
    assert len(merged) == len(out) == len(ref) and (merged["count"] == merged["n"]).all()
