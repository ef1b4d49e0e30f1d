"""Exact DBSCAN against scikit-learn, planted clusters, and the frame layer's checks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import sklearn.cluster as sklearn_cluster  # noqa: E402
import sklearn.neighbors as sklearn_neighbors  # noqa: E402

from hotspots import _dbscan, clustering
from hotspots.clustering import dbscan, dbscan_labels
from hotspots.errors import ParameterError

ORIGIN = np.array([350_000.0, 150_000.0])  # EPSG:27700 metres (near Bath)


def _uniform(rng, n=3000, side_m=5000.0):
    return rng.uniform(0, side_m, (n, 2)) + ORIGIN


def _blobs(rng, n=3000, k=15, sd_m=60.0, side_m=5000.0, noise=0.2):
    centres = rng.uniform(0, side_m, (k, 2))
    n_noise = int(n * noise)
    pts = rng.normal(0, sd_m, (n - n_noise, 2)) + centres[rng.integers(0, k, n - n_noise)]
    return np.vstack([pts, rng.uniform(0, side_m, (n_noise, 2))]) + ORIGIN


def _stacked(rng, n=4000, n_snap=400, side_m=3000.0):
    """police.uk-like: many crimes on few snap points (exact duplicates), popularity skewed."""
    snaps = _blobs(rng, n=n_snap, k=8, sd_m=120.0, side_m=side_m)
    p = rng.pareto(1.2, n_snap) + 1
    return snaps[rng.choice(n_snap, n, p=p / p.sum())]


def _lattice():
    """Integer grid with spacing 100 m: with eps 100 every neighbour sits exactly on the boundary."""
    gx, gy = np.meshgrid(np.arange(0, 3000, 100.0), np.arange(0, 2000, 100.0))
    keep = (gx // 100 + gy // 100) % 7 != 0  # holes, so cores, borders and noise all occur
    return np.column_stack([gx[keep], gy[keep]]) + ORIGIN


def assert_like_sklearn(pts, eps, min_samples, weight=None, algorithm="kd_tree"):
    """Same core and noise sets, same partition of core points, same border labels where unambiguous."""
    labels, core = dbscan_labels(pts[:, 0], pts[:, 1], eps_m=eps, min_samples=min_samples, sample_weight=weight)
    ref = sklearn_cluster.DBSCAN(eps=eps, min_samples=min_samples, algorithm=algorithm).fit(pts, sample_weight=weight)
    ref_core = np.zeros(len(pts), bool)
    ref_core[ref.core_sample_indices_] = True
    np.testing.assert_array_equal(core, ref_core)
    np.testing.assert_array_equal(labels == -1, ref.labels_ == -1)
    assert labels.dtype == np.int64 and core.dtype == bool
    # ids 0..K-1 in order of first point
    seen = pd.unique(labels[labels >= 0])
    np.testing.assert_array_equal(seen, np.arange(len(seen)))
    # core partition identical up to relabelling: the (ours, theirs) pairs are a bijection
    pairs = np.unique(np.column_stack([labels[core], ref.labels_[core]]), axis=0)
    assert len(pairs) == len(np.unique(labels[core])) == len(np.unique(ref.labels_[core]))
    to_ref = dict(pairs.tolist())
    # border points within eps of core points of one cluster only must agree
    border = np.flatnonzero(~core & (labels >= 0))
    if len(border):
        nn = sklearn_neighbors.NearestNeighbors(radius=eps, algorithm="kd_tree").fit(pts[core])
        near = nn.radius_neighbors(pts[border], return_distance=False)
        core_ref = ref.labels_[core]
        for b, idx in zip(border, near, strict=True):
            clusters = np.unique(core_ref[idx])
            assert len(clusters) >= 1
            if len(clusters) == 1:
                assert to_ref[labels[b]] == clusters[0] == ref.labels_[b]
            else:
                assert to_ref[labels[b]] in clusters
    return labels, core


PARAMS = [(30.0, 1), (50.0, 4), (100.0, 10), (250.0, 60), (100.0, 10_000)]


@pytest.mark.parametrize(("eps", "min_samples"), PARAMS)
@pytest.mark.parametrize("kind", ["uniform", "blobs", "stacked"])
def test_matches_sklearn(kind, eps, min_samples):
    rng = np.random.default_rng([("uniform", "blobs", "stacked").index(kind), int(eps), min_samples])
    pts = {"uniform": _uniform, "blobs": _blobs, "stacked": _stacked}[kind](rng)
    labels, core = assert_like_sklearn(pts, eps, min_samples)
    if min_samples == 1:
        assert core.all()
    if min_samples > len(pts):
        assert (labels == -1).all()


@pytest.mark.parametrize("algorithm", ["kd_tree", "ball_tree"])
def test_distance_is_inclusive_like_sklearn(algorithm):
    pts = _lattice()
    for min_samples in (3, 4, 5):
        labels, core = assert_like_sklearn(pts, 100.0, min_samples, algorithm=algorithm)
        assert core.any() and (~core).any()


def test_hand_computed_line():
    # 100 m apart, eps 100 m inclusive: inner points have 3 neighbours (themselves included)
    x = ORIGIN[0] + np.array([0.0, 100, 200, 300, 5000, 5100])
    y = np.full(6, ORIGIN[1])
    labels, core = dbscan_labels(x, y, eps_m=100, min_samples=3)
    assert labels.tolist() == [0, 0, 0, 0, -1, -1]
    assert core.tolist() == [False, True, True, False, False, False]
    labels, core = dbscan_labels(x, y, eps_m=100, min_samples=2)
    assert labels.tolist() == [0, 0, 0, 0, 1, 1] and core.all()


@pytest.mark.parametrize("side", [1.0, 0.7072, 0.5])  # >= 0.5: neighbours within two cells
def test_cells_that_are_not_compact(monkeypatch, side):
    """Cells wider than eps/sqrt(2) take the exact pairwise path; the answer must not change."""
    monkeypatch.setattr(clustering, "_SIDE", side)
    rng = np.random.default_rng(7)
    for eps, min_samples in [(40.0, 3), (100.0, 12)]:
        assert_like_sklearn(_blobs(rng, n=2000), eps, min_samples)
        assert_like_sklearn(_stacked(rng, n=2000), eps, min_samples)


@pytest.mark.parametrize(
    "paths",
    [
        {"_DENSE": 10**9},  # counting sort over the whole grid (cells looked up in a map)
        {"_DENSE": 0},  # argsort of the occupied cells (cells found by search)
        {"_INT32": 0},  # int64 indices, as for more than 2**31 points
        {"_DEDUPE": 0.0},  # duplicates left in the grid
        {"_DEDUPE": 1.01},  # always cluster the distinct points, weighted
        {"_FEW": 0},  # every neighbouring cell bounded by its box before its points are tested
        {"_FEW": 10**9},  # every neighbouring cell's points tested one by one
        {"_TWO": 0},  # cells in two ranges on two threads, joined across the split
        {"_TWO": 0, "_DENSE": 0},  # the same with cells found by search
    ],
)
def test_every_code_path_matches_sklearn(monkeypatch, paths):
    for name, value in paths.items():
        monkeypatch.setattr(clustering, name, value)
    rng = np.random.default_rng(21)
    for eps, min_samples in [(30.0, 3), (100.0, 12), (250.0, 60)]:
        assert_like_sklearn(_blobs(rng, n=2500), eps, min_samples)
        assert_like_sklearn(_stacked(rng, n=2500), eps, min_samples)
    pts = np.unique(_stacked(rng, n=2500), axis=0)
    assert_like_sklearn(pts, 60.0, 8, weight=rng.integers(0, 6, len(pts)).astype(float))


def test_code_paths_give_identical_labels(monkeypatch):
    """Sorting, index width and de-duplication change the work, never the answer (border ties included)."""
    rng = np.random.default_rng(22)
    pts = np.vstack([_blobs(rng, n=60_000, k=40, sd_m=90.0, side_m=20_000.0), _stacked(rng, n=5000)])
    want = dbscan_labels(pts[:, 0], pts[:, 1], eps_m=80, min_samples=10)
    for paths in [{"_DENSE": 0}, {"_INT32": 0}, {"_DEDUPE": 1.01}, {"_FEW": 0}, {"_FEW": 10**9}, {"_TWO": 10**9}]:
        with monkeypatch.context() as m:
            for name, value in paths.items():
                m.setattr(clustering, name, value)
            got = dbscan_labels(pts[:, 0], pts[:, 1], eps_m=80, min_samples=10)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_float32_box_bounds_round_outward():
    """Cell boxes are float32: a bound rounded toward the points would prune pairs within eps."""
    rng = np.random.default_rng(5)
    v = np.concatenate([rng.uniform(-1e6, 1e6, 5000), rng.uniform(-1, 1, 500), 2.0 ** np.arange(-30, 30), [0.0]])
    v = np.concatenate([v, -v, np.nextafter(v, np.inf)])
    down = np.array([_dbscan._down(t) for t in v], np.float64)
    assert (down <= v).all()
    step = np.spacing(np.abs(v).astype(np.float32)).astype(np.float64)
    assert (v - down <= 2 * step + 1e-45).all()


@pytest.mark.parametrize(("eps", "min_samples"), [(50.0, 1), (60.0, 8), (120.0, 25)])
def test_sample_weight_matches_sklearn(eps, min_samples):
    rng = np.random.default_rng(11)
    pts = np.unique(_stacked(rng, n=3000), axis=0)
    assert_like_sklearn(pts, eps, min_samples, weight=rng.integers(0, 6, len(pts)).astype(float))
    assert_like_sklearn(pts, eps, min_samples, weight=rng.integers(0, 12, len(pts)) / 2.0)  # exact sums


def test_weights_equal_repeated_points():
    rng = np.random.default_rng(3)
    pts = np.unique(_blobs(rng, n=2500, sd_m=80.0), axis=0)
    w = rng.integers(1, 5, len(pts))
    rep = np.repeat(pts, w, axis=0)
    for eps, min_samples in [(40.0, 4), (80.0, 15), (150.0, 60)]:
        lw, cw = dbscan_labels(pts[:, 0], pts[:, 1], eps_m=eps, min_samples=min_samples, sample_weight=w)
        lr, cr = dbscan_labels(rep[:, 0], rep[:, 1], eps_m=eps, min_samples=min_samples)
        np.testing.assert_array_equal(np.repeat(cw, w), cr)
        np.testing.assert_array_equal(np.repeat(lw, w), lr)


def test_row_order_only_permutes():
    rng = np.random.default_rng(5)
    pts = _blobs(rng, n=3000)
    perm = rng.permutation(len(pts))
    la, ca = dbscan_labels(pts[:, 0], pts[:, 1], eps_m=70, min_samples=6)
    lb, cb = dbscan_labels(pts[perm, 0], pts[perm, 1], eps_m=70, min_samples=6)
    np.testing.assert_array_equal(ca[perm], cb)
    pairs = np.unique(np.column_stack([la[perm], lb]), axis=0)
    assert len(pairs) == len(np.unique(la))  # a bijection, noise to noise
    assert ((pairs[:, 0] == -1) == (pairs[:, 1] == -1)).all()


def test_arrays_not_mutated():
    rng = np.random.default_rng(2)
    pts = _blobs(rng, n=500)
    x, y, w = pts[:, 0].copy(), pts[:, 1].copy(), rng.integers(0, 4, 500).astype(float)
    before = (x.copy(), y.copy(), w.copy())
    dbscan_labels(x, y, eps_m=50, min_samples=5, sample_weight=w)
    for a, b in zip((x, y, w), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_empty_input():
    labels, core = dbscan_labels(np.zeros(0), np.zeros(0), eps_m=50, min_samples=3)
    assert labels.shape == core.shape == (0,)
    labelled, clusters = dbscan(pd.DataFrame({"x": [], "y": []}, dtype=float), eps_m=50, min_samples=3)
    assert len(labelled) == 0 and len(clusters) == 0 and "dbscan_cluster" in labelled


CENTRES = ORIGIN + np.array([[1200.0, 800.0], [4500.0, 3900.0], [7600.0, 1500.0]])


def _planted(rng):
    noise = rng.uniform(0, 10_000, (2000, 2)) + ORIGIN
    blobs = np.vstack([rng.normal(c, 30.0, (300, 2)) for c in CENTRES])
    pts = np.vstack([noise, blobs])
    return pd.DataFrame({"x": pts[:, 0], "y": pts[:, 1], "month": "2024-01"})


def test_planted_blobs_found():
    frame = _planted(np.random.default_rng(1))
    labelled, clusters = dbscan(frame, eps_m=50, min_samples=20)
    assert len(clusters) == 3
    found = clusters[["centroid_x", "centroid_y"]].to_numpy()
    dist = np.linalg.norm(found[:, None, :] - CENTRES[None, :, :], axis=2)
    assert sorted(dist.argmin(axis=1).tolist()) == [0, 1, 2]
    assert dist.min(axis=1).max() < 5.0
    assert (labelled["dbscan_cluster"].iloc[:2000] == -1).mean() > 0.98  # the uniform noise stays noise


def test_planted_blobs_found_from_stacked_counts():
    """police.uk style: crimes snapped to a 15 m lattice, one row per snap point with its count."""
    frame = _planted(np.random.default_rng(4))
    snapped = frame.assign(x=(frame["x"] / 15).round() * 15, y=(frame["y"] / 15).round() * 15)
    counts = snapped.groupby(["x", "y"], as_index=False).size().rename(columns={"size": "crimes"})
    gdf = gpd.GeoDataFrame(counts, geometry=gpd.points_from_xy(counts["x"], counts["y"]), crs="EPSG:27700")
    labelled, clusters = dbscan(gdf, eps_m=50, min_samples=20, weight="crimes")
    assert isinstance(labelled, gpd.GeoDataFrame) and clusters.crs == gdf.crs
    assert len(clusters) == 3
    found = clusters[["centroid_x", "centroid_y"]].to_numpy()
    dist = np.linalg.norm(found[:, None, :] - CENTRES[None, :, :], axis=2)
    assert dist.min(axis=1).max() < 5.0
    assert (clusters["weighted_size"] > clusters["n_points"]).all()


def test_cluster_table_against_groupby_and_shapely():
    rng = np.random.default_rng(9)
    pts = _stacked(rng, n=3000)
    frame = pd.DataFrame({"x": pts[:, 0], "y": pts[:, 1], "w": rng.integers(1, 4, 3000)})
    frame.index = frame.index * 3 + 10  # a non-default index must carry through
    labelled, clusters = dbscan(frame, eps_m=60, min_samples=25, weight="w")
    pd.testing.assert_index_equal(labelled.index, frame.index)
    assert labelled["dbscan_cluster"].dtype == np.int64 and labelled["dbscan_core"].dtype == bool
    assert isinstance(clusters, gpd.GeoDataFrame) and clusters.crs is None and len(clusters) > 1
    members = labelled[labelled["dbscan_cluster"] >= 0]
    g = members.assign(wx=members["w"] * members["x"], wy=members["w"] * members["y"]).groupby("dbscan_cluster")
    expect = pd.DataFrame(
        {
            "n_points": g.size(),
            "weighted_size": g["w"].sum().astype(float),
            "centroid_x": g["wx"].sum() / g["w"].sum(),
            "centroid_y": g["wy"].sum() / g["w"].sum(),
            "extent_m": np.maximum(g["x"].max() - g["x"].min(), g["y"].max() - g["y"].min()),
        }
    )
    got = clusters.set_index("dbscan_cluster")[expect.columns]
    pd.testing.assert_frame_equal(got, expect, check_dtype=False, check_names=False, rtol=1e-9)
    hulls = [shapely.MultiPoint(grp[["x", "y"]].to_numpy()).convex_hull for _, grp in members.groupby("dbscan_cluster")]
    np.testing.assert_allclose(clusters["area_m2"], [h.area for h in hulls], rtol=1e-9)
    assert all(clusters.geometry.iloc[i].equals(h) for i, h in enumerate(hulls))


def test_frame_not_mutated():
    frame = _planted(np.random.default_rng(6))
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs="EPSG:27700")
    before_df, before_gdf = frame.copy(), gdf.copy()
    dbscan(frame, eps_m=50, min_samples=20)
    dbscan(gdf, eps_m=50, min_samples=20)
    pd.testing.assert_frame_equal(frame, before_df)
    pd.testing.assert_frame_equal(gdf, before_gdf)


def test_geometry_used_when_no_xy_columns():
    frame = _planted(np.random.default_rng(8))
    gdf = gpd.GeoDataFrame({"month": frame["month"]}, geometry=gpd.points_from_xy(frame["x"], frame["y"]))
    gdf = gdf.set_crs("EPSG:27700")
    a, _ = dbscan(gdf, eps_m=50, min_samples=20)
    b, _ = dbscan(frame, eps_m=50, min_samples=20)
    np.testing.assert_array_equal(a["dbscan_cluster"], b["dbscan_cluster"])


def test_small_metre_coordinates_allowed_with_projected_crs():
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0, 5, 10, 80], [0.0, 0, 0, 80]), crs="EPSG:27700")
    labelled, clusters = dbscan(pts, eps_m=6, min_samples=2)
    assert labelled["dbscan_cluster"].tolist() == [0, 0, 0, -1] and len(clusters) == 1


GOOD = pd.DataFrame({"x": ORIGIN[0] + np.arange(5.0), "y": ORIGIN[1] + np.zeros(5), "n": [1, 2, 3, 1, 1]})
LONLAT = pd.DataFrame({"x": [-2.36, -2.35], "y": [51.38, 51.39]})
GEOGRAPHIC = gpd.GeoDataFrame(geometry=gpd.points_from_xy([-2.36, -2.35], [51.38, 51.39]), crs="EPSG:4326")


@pytest.mark.parametrize(
    ("points", "kwargs", "match"),
    [
        (GOOD, {"eps_m": 0}, "eps_m must be a positive distance"),
        (GOOD, {"eps_m": -5}, "eps_m must be a positive distance"),
        (GOOD, {"eps_m": float("nan")}, "eps_m must be a positive distance"),
        (GOOD, {"eps_m": "100"}, "eps_m must be a positive distance"),
        (GOOD, {"min_samples": 0}, "min_samples must be an integer >= 1"),
        (GOOD, {"min_samples": 2.5}, "min_samples must be an integer >= 1"),
        (GOOD, {"min_samples": True}, "min_samples must be an integer >= 1"),
        (GOOD, {"x_col": "easting"}, "no column 'easting'.*pass the right x_col="),
        (GOOD.assign(y=["a"] * 5), {}, "'y' \\(y_col\\) is not numeric.*pd.to_numeric"),
        (GOOD.assign(x=[np.nan, 1, 2, 3, 4]), {}, "1 missing or infinite values; fill or drop"),
        (GOOD, {"weight": "crimes"}, "no column 'crimes'.*pass the right weight="),
        (GOOD.assign(n=[1, -1, 1, 1, 1]), {"weight": "n"}, "negative values"),
        (GOOD.assign(n=[1, np.nan, 1, 1, 1]), {"weight": "n"}, "'n' \\(weight\\) has 1 missing"),
        (LONLAT, {}, "look like degrees.*EPSG:27700"),
        (GEOGRAPHIC, {}, "geographic CRS.*to_crs\\('EPSG:27700'\\)"),
        (GOOD.to_numpy(), {}, "must be a DataFrame"),
    ],
)
def test_bad_parameters(points, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        dbscan(points, **{"eps_m": 100, "min_samples": 3, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": np.zeros(3), "y": np.zeros(2)}, "same length"),
        ({"x": np.array([0.0, np.inf]), "y": np.zeros(2)}, "NaN or infinite"),
        ({"sample_weight": np.ones(3)}, "one value per point"),
        ({"sample_weight": np.array([1.0, -1.0])}, "finite and >= 0"),
        ({"eps_m": 1e-12, "x": np.array([0.0, 1e9])}, "too small"),
    ],
)
def test_bad_array_parameters(kwargs, match):
    args = {"x": np.zeros(2), "y": np.zeros(2), "eps_m": 10.0, "min_samples": 2, **kwargs}
    with pytest.raises(ParameterError, match=match):
        dbscan_labels(args.pop("x"), args.pop("y"), **args)


def test_stacked_points_path_matches_sklearn():
    """Over 10,000 points with many exact duplicates (police.uk map points): the weighted-distinct path."""
    from sklearn.cluster import DBSCAN

    from hotspots.clustering import dbscan_labels

    rng = np.random.default_rng(11)
    sites = np.c_[rng.uniform(350_000, 353_000, 1500), rng.uniform(150_000, 153_000, 1500)]
    pick = rng.integers(0, len(sites), 20_000)
    x, y = sites[pick, 0], sites[pick, 1]
    labels, core = dbscan_labels(x, y, eps_m=80, min_samples=25)
    sk = DBSCAN(eps=80, min_samples=25).fit(np.c_[x, y])
    sk_core = np.zeros(len(x), bool)
    sk_core[sk.core_sample_indices_] = True
    assert (core == sk_core).all()
    assert ((labels == -1) == (sk.labels_ == -1)).all()
    # the partition of core points is the same up to relabelling
    pairs = set(zip(labels[core], sk.labels_[core], strict=True))
    assert len(pairs) == len(set(labels[core])) == len(set(sk.labels_[core]))
