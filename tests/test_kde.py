"""KDE against scikit-learn, hand-computed cases, QGIS's documented grid and planted clusters."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspots.errors import ParameterError
from hotspots.kde import (
    NODATA,
    bandwidth_arcgis,
    bandwidth_nrd,
    boundary_grid,
    kde,
    kde_array,
    qgis_grid,
)

X0, Y0 = 375_000.0, 164_000.0  # Bath, EPSG:27700


def _pixel_centres(res):
    g = res.grid
    cx = g.x0 + (np.arange(g.cols) + 0.5) * g.pixel_m
    cy = g.y_top - (np.arange(g.rows) + 0.5) * g.pixel_m
    return np.meshgrid(cx, cy)


def test_qgis_grid_by_hand():
    # extent 1000..1230 x 2000..2100, r = 50, px = 20 -> x 950..1280 (330 m), y 1950..2150 (200 m)
    g = qgis_grid(np.array([1000.0, 1230.0]), np.array([2000.0, 2100.0]), radius_m=50, pixel_m=20)
    assert (g.x0, g.y_top) == (950.0, 2150.0)
    assert (g.cols, g.rows) == (math.ceil(330 / 20) + 1, math.ceil(200 / 20) + 1) == (18, 11)
    assert tuple(g.transform)[:6] == (20.0, 0.0, 950.0, 0.0, -20.0, 2150.0)


def test_single_point_hand_computed_quartic():
    res = kde_array(np.array([X0 + 3.0]), np.array([Y0 - 4.0]), radius_m=25.0, pixel_m=10.0)
    xx, yy = _pixel_centres(res)
    d = np.hypot(xx - (X0 + 3.0), yy - (Y0 - 4.0))
    expect = np.where(d <= 25.0, (1 - (d / 25.0) ** 2) ** 2, NODATA)
    np.testing.assert_allclose(res.density, expect.astype(np.float32), rtol=1e-6)
    # by hand: the grid starts at X0 - 22 (x - r), so pixel centres fall on X0 + 3 + 10k and Y0 - 4 + 10k;
    # the centre (X0 + 13, Y0 + 6) is 10*sqrt(2) m away: u^2 = 200/625, value (1 - 0.32)^2 = 0.4624
    i = int(np.argmin(np.abs(yy[:, 0] - (Y0 + 6))))
    j = int(np.argmin(np.abs(xx[0] - (X0 + 13))))
    assert res.density[i, j] == pytest.approx(0.4624, rel=1e-6)
    assert res.density.max() == 1.0  # the point sits on a pixel centre


def test_scaled_epanechnikov_equals_sklearn_density():
    from sklearn.neighbors import KernelDensity

    rng = np.random.default_rng(1)
    x = X0 + rng.normal(0, 300, 400)
    y = Y0 + rng.normal(0, 200, 400)
    r = 150.0
    res = kde_array(x, y, radius_m=r, pixel_m=25.0, kernel="epanechnikov", output="scaled")
    xx, yy = _pixel_centres(res)
    kd = KernelDensity(kernel="epanechnikov", bandwidth=r).fit(np.c_[x, y])
    with np.errstate(divide="ignore"):
        sk = np.exp(kd.score_samples(np.c_[xx.ravel(), yy.ravel()])).reshape(xx.shape) * len(x)
    ours = np.where(res.density == NODATA, 0.0, res.density)
    np.testing.assert_allclose(ours, sk, rtol=2e-6, atol=1e-12)


@pytest.mark.parametrize("kernel", ["quartic", "triangular", "uniform", "triweight", "epanechnikov"])
def test_scaled_surfaces_integrate_to_total_weight(kernel):
    rng = np.random.default_rng(2)
    x = X0 + rng.uniform(0, 2000, 200)
    y = Y0 + rng.uniform(0, 2000, 200)
    w = rng.uniform(0.5, 3, 200)
    res = kde_array(x, y, weights=w, radius_m=200.0, pixel_m=5.0, kernel=kernel, output="scaled")
    mass = np.where(res.density == NODATA, 0, res.density).sum() * 25.0
    assert mass == pytest.approx(w.sum(), rel=5e-3)


def test_weights_equal_repeated_points_and_input_not_mutated():
    x = np.array([X0, X0 + 40.0, X0 + 40.0, X0 + 40.0])
    y = np.array([Y0, Y0 + 10.0, Y0 + 10.0, Y0 + 10.0])
    before = x.copy()
    a = kde_array(x, y, radius_m=100, pixel_m=10)
    b = kde_array(np.array([X0, X0 + 40.0]), np.array([Y0, Y0 + 10.0]), weights=np.array([1.0, 3.0]),
                  radius_m=100, pixel_m=10, grid=a.grid)
    np.testing.assert_allclose(a.density, b.density, rtol=1e-6)
    np.testing.assert_array_equal(x, before)


def test_planted_clusters_are_the_top_peaks():
    rng = np.random.default_rng(3)
    centres = [(X0 + 1500, Y0 + 1500), (X0 + 4000, Y0 + 800), (X0 + 2500, Y0 + 4200)]
    pts = [np.c_[rng.uniform(X0, X0 + 5000, 3000), rng.uniform(Y0, Y0 + 5000, 3000)]]
    for cx, cy in centres:
        pts.append(np.c_[rng.normal(cx, 60, 400), rng.normal(cy, 60, 400)])
    p = np.vstack(pts)
    res = kde_array(p[:, 0], p[:, 1], radius_m=300, pixel_m=50)
    xx, yy = _pixel_centres(res)
    dens = np.where(res.density == NODATA, 0, res.density)
    found = []
    for _ in range(3):  # take the peak, blank 800 m around it, repeat
        i, j = np.unravel_index(np.argmax(dens), dens.shape)
        found.append((xx[i, j], yy[i, j]))
        dens[np.hypot(xx - xx[i, j], yy - yy[i, j]) < 800] = 0
    for cx, cy in centres:
        assert min(math.hypot(fx - cx, fy - cy) for fx, fy in found) < 100


def test_fft_close_to_exact():
    rng = np.random.default_rng(4)
    x = X0 + rng.normal(0, 500, 5000)
    y = Y0 + rng.normal(0, 500, 5000)
    a = kde_array(x, y, radius_m=400, pixel_m=20)
    b = kde_array(x, y, radius_m=400, pixel_m=20, method="fft")
    da = np.where(a.density == NODATA, 0, a.density)
    db = np.where(b.density == NODATA, 0, b.density)
    assert np.abs(da - db).max() < 0.02 * da.max()


def test_qgis_compat_scaled_quartic_constant_and_shift():
    rng = np.random.default_rng(5)
    x = X0 + rng.uniform(0, 3000, 500)
    y = Y0 + rng.uniform(0, 3000, 500)
    text = kde_array(x, y, radius_m=400, pixel_m=50, output="scaled")
    qgis = kde_array(x, y, radius_m=400, pixel_m=50, output="scaled", qgis_compat=True)
    t = np.where(text.density == NODATA, 0, text.density)
    q = np.where(qgis.density == NODATA, 0, qgis.density) / 7.25  # QGIS 3.22's 116/16 constant
    assert qgis.density.dtype == np.float32
    # QGIS measures y to a row centre mirrored within the point's pixel: about 1% of the maximum apart
    assert np.abs(t - q).max() < 0.10 * t.max()
    assert np.abs(t - q).mean() < 0.01 * t.max()


QGIS_DIR = Path(__file__).parent / "fixtures" / "qgis_kde"
QGIS_CASES = json.loads((QGIS_DIR / "cases.json").read_text())


def _qgis_case(c):
    import rasterio

    with rasterio.open(QGIS_DIR / c["file"]) as ds:
        return ds.read(1), ds.transform, ds.nodata


@pytest.mark.parametrize("case", QGIS_CASES, ids=[c["file"][:-4] for c in QGIS_CASES])
def test_against_qgis_3_22(case):
    """Fixtures made by QGIS 3.22.16 itself (tests/fixtures/make_qgis_kde.py)."""
    pts = pd.read_csv(QGIS_DIR / "points.csv")
    q, transform, nodata = _qgis_case(case)
    kw = dict(
        weights=pts["w"].to_numpy() if case["weight"] else None,
        radius_m=case["radius"],
        pixel_m=case["pixel"],
        kernel=case["kernel"],
        output=case["output"],
        decay=case["decay"],
    )
    x, y = pts["x"].to_numpy(), pts["y"].to_numpy()
    compat = kde_array(x, y, qgis_compat=True, **kw)
    # same grid, same nodata, same Float32 bits
    assert tuple(compat.transform)[:6] == pytest.approx(tuple(transform)[:6])
    assert nodata == NODATA
    np.testing.assert_array_equal(compat.density, q)
    # textbook distances on the same grid: close to QGIS for continuous kernels
    text = kde_array(x, y, **kw).density
    qq = np.where(q == NODATA, 0.0, q)
    if case["kernel"] == "quartic" and case["output"] == "scaled":
        qq = qq / 7.25  # QGIS 3.22's scaled-quartic constant (116 for 16)
    tt = np.where(text == NODATA, 0.0, text)
    smooth = case["kernel"] != "uniform" and not (case["kernel"] == "triangular" and case["decay"] > 0)
    if smooth and case["radius"] / case["pixel"] >= 8:
        assert np.abs(qq - tt).max() < 0.015 * qq.max()
    else:  # kernels with a step at the radius flip whole edge pixels; agreement is on average
        assert np.abs(qq - tt).mean() < 0.01 * qq.max()


def test_boundary_grid_masks_outside_and_zero_inside():
    import geopandas as gpd
    from shapely.geometry import box

    b = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 1000, Y0 + 600)], crs="EPSG:27700")
    pts = pd.DataFrame({"x": [X0 + 100.0], "y": [Y0 + 100.0]})
    res = kde(pts, radius_m=150, pixel_m=50, boundary=b)
    assert res.grid == boundary_grid((X0, Y0, X0 + 1000, Y0 + 600), pixel_m=50)
    assert (res.density >= 0).all()  # every pixel centre is inside this box: none is nodata
    assert (res.density == 0).sum() > 0.8 * res.density.size
    assert res.params["grid_kind"] == "boundary"


def test_bandwidth_rules_by_hand():
    # square of four points: SD = Dm = 70.71 m -> 0.9 * 70.71 * 4^-0.2
    x = np.array([0.0, 0, 100, 100])
    y = np.array([0.0, 100, 0, 100])
    assert bandwidth_arcgis(x, y) == pytest.approx(0.9 * math.sqrt(5000) * 4**-0.2)
    # MASS::bandwidth.nrd(0:9): var = 55/6, IQR = 6.75 - 2.25 = 4.5 (R quantile type 7), n = 10
    expect = 4 * 1.06 * min(math.sqrt(55 / 6), 4.5 / 1.34) * 10**-0.2
    assert bandwidth_nrd(np.arange(10.0), np.zeros(10)) == pytest.approx(expect, rel=1e-12)
    pts = pd.DataFrame({"x": X0 + np.arange(10.0) * 30, "y": Y0 + np.arange(10.0)})
    res = kde(pts, pixel_m=20, bandwidth="nrd", bandwidth_adjust=0.5)
    assert res.params["radius_m"] == pytest.approx(0.5 * bandwidth_nrd(pts.x.to_numpy(), pts.y.to_numpy()))
    assert res.params["bandwidth_rule"] == "nrd x 0.5"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"radius_m": -5, "pixel_m": 10}, "radius_m must be a positive"),
        ({"radius_m": 100, "pixel_m": 0}, "pixel_m must be a positive"),
        ({"radius_m": 100, "pixel_m": 10, "kernel": "gaussian"}, "kernel must be one of"),
        ({"radius_m": 100, "pixel_m": 10, "output": "density"}, "output must be"),
        ({"radius_m": 100, "pixel_m": 10, "crs": "EPSG:4326"}, "in degrees"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        kde_array(np.array([X0]), np.array([Y0]), **kwargs)


def test_lonlat_and_empty_input_refused():
    with pytest.raises(ParameterError, match="longitude/latitude"):
        kde_array(np.array([-2.36, -2.35]), np.array([51.38, 51.39]), radius_m=400, pixel_m=50)
    with pytest.raises(ParameterError, match="no points"):
        kde_array(np.array([]), np.array([]), radius_m=400, pixel_m=50)
