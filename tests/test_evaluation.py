"""Hotspot quality measures: hand-computed cases and a planted, stable hotspot."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest

from hotspots.errors import ParameterError
from hotspots.evaluation import evaluate_cells, hotspot_measures, pai_curve, raster_units
from hotspots.kde import NODATA, kde_array


def test_hand_computed_measures():
    # 5 equal cells; hotspot = cells 0 and 1 (40 % of the area)
    test = [10, 4, 3, 2, 1]  # N = 20, n = 14
    train = [8, 2, 5, 3, 2]  # N1 = 20, n1 = 10
    m = hotspot_measures([True, True, False, False, False], test, train, [1, 1, 1, 1, 1])
    assert m["hit_rate"] == pytest.approx(14 / 20)
    assert m["pai"] == pytest.approx((14 / 20) / (2 / 5))
    assert m["pei"] == pytest.approx(14 / 14)  # cells 0 and 1 are also the best two for the test data
    assert m["rri"] == pytest.approx((14 / 10) / (20 / 20))
    m2 = hotspot_measures([False, False, True, True, False], test, train, [1, 1, 1, 1, 1])
    assert m2["pei"] == pytest.approx(5 / 14)


def test_pei_uses_equal_area_with_unequal_units():
    # hotspot: unit 0 of area 2 holding 4 test crimes; densest first, the best area-2 choice is unit 1
    # (area 1, 6 crimes, 6 per unit area) plus half of unit 0 (2 per unit area -> 2 crimes) = 8
    m = hotspot_measures([True, False, False], [4, 6, 2], [1, 1, 1], [2, 1, 2])
    assert m["area_share"] == pytest.approx(2 / 5)
    assert m["pei"] == pytest.approx(4 / 8)


def test_pai_curve_is_monotone_in_hit_rate():
    rng = np.random.default_rng(0)
    score = rng.random(500)
    test = rng.poisson(score * 5)
    train = rng.poisson(score * 5)
    c = pai_curve(score, test, train, np.ones(500))
    assert (np.diff(c["hit_rate"]) >= 0).all()
    assert (c["area_share"] >= c["area_share_target"] - 1e-12).all()
    assert (c["pai"] > 1).all()  # the score predicts the test counts


def test_planted_stable_hotspot_on_h3_cells():
    rng = np.random.default_rng(1)
    centre = (51.3813, -2.3590)
    study = list(h3.grid_disk(h3.latlng_to_cell(*centre, 9), 12))
    hot = set(h3.grid_disk(h3.latlng_to_cell(*centre, 9), 1))
    lam = np.array([20.0 if c in hot else 1.0 for c in study])
    train = pd.DataFrame({"h3_cell": study, "count": rng.poisson(lam)})
    test = pd.DataFrame({"h3_cell": study, "count": rng.poisson(lam)})
    curve = evaluate_cells(train, test, study_cells=study, shares=[len(hot) / len(study)])
    assert curve["pai"].iloc[0] > 5
    m = evaluate_cells(train, test, study_cells=study, hot_cells=hot)
    assert m["pei"] > 0.8 and 0.8 < m["rri"] < 1.25


def test_kde_pixels_as_units():
    rng = np.random.default_rng(2)
    x0, y0 = 375000.0, 164000.0
    def sample(n):  # noqa: E306
        a = np.c_[rng.uniform(x0, x0 + 3000, n), rng.uniform(y0, y0 + 3000, n)]
        b = np.c_[rng.normal(x0 + 1000, 80, n // 3), rng.normal(y0 + 2000, 80, n // 3)]
        return np.vstack([a, b])
    tr, te = sample(900), sample(900)
    res = kde_array(tr[:, 0], tr[:, 1], radius_m=250, pixel_m=50)
    valid = res.density != NODATA
    test_counts = raster_units(res, te[:, 0], te[:, 1])
    train_counts = raster_units(res, tr[:, 0], tr[:, 1])
    c = pai_curve(res.density[valid], test_counts[valid], train_counts[valid], np.full(valid.sum(), 2500.0),
                  shares=[0.02])
    assert c["pai"].iloc[0] > 5 and c["hit_rate"].iloc[0] > 0.15


@pytest.mark.parametrize(
    "args, match",
    [
        (([True], [1, 2], [1], [1]), "one value per unit"),
        (([True], [1], [1], [0]), "positive area"),
        (([], [], [], []), "no units"),
        (([True], [-1], [1], [1]), "cannot be negative"),
    ],
)
def test_bad_inputs(args, match):
    with pytest.raises(ParameterError, match=match):
        hotspot_measures(*args)


def test_dbscan_hulls_evaluated_on_the_h3_grid():
    import geopandas as gpd
    from pyproj import Transformer

    from hotspots.clustering import dbscan
    from hotspots.evaluation import cells_in_polygons

    rng = np.random.default_rng(7)
    x0, y0 = 375000.0, 164000.0
    def sample(n):  # noqa: E306 - background + one dense cluster at a fixed place
        a = np.c_[rng.uniform(x0, x0 + 4000, n), rng.uniform(y0, y0 + 4000, n)]
        b = np.c_[rng.normal(x0 + 1500, 60, n // 2), rng.normal(y0 + 2500, 60, n // 2)]
        return np.vstack([a, b])
    tr, te = sample(1500), sample(1500)
    pts = gpd.GeoDataFrame({"x": tr[:, 0], "y": tr[:, 1]}, geometry=gpd.points_from_xy(tr[:, 0], tr[:, 1]),
                           crs="EPSG:27700")
    _, hulls = dbscan(pts, eps_m=40, min_samples=20)
    assert len(hulls) >= 1
    to_ll = Transformer.from_crs(27700, 4326, always_xy=True)
    def counts(p):  # noqa: E306
        lng, lat = to_ll.transform(p[:, 0], p[:, 1])
        from hotspots.grid import events_to_cells
        return events_to_cells(pd.DataFrame({"lat": lat, "lng": lng}), resolution=10, by=[])
    ctr, cte = counts(tr), counts(te)
    study = np.union1d(ctr["h3_cell"].to_numpy(dtype=str), cte["h3_cell"].to_numpy(dtype=str))
    hot = cells_in_polygons(study, hulls)
    m = evaluate_cells(ctr, cte, study_cells=study, hot_cells=hot)
    assert len(hot) > 0 and m["pai"] > 3 and m["hit_rate"] > 0.2
