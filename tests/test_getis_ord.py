"""Gi*: esda's worked example, esda itself on H3 data, planted signals, exact permutation nulls, bad inputs."""

from __future__ import annotations

import itertools
import warnings

import h3
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import distance_matrix
from scipy.stats import false_discovery_control

from hotspots.errors import ParameterError
from hotspots.getis_ord import (
    _bh_adjust,
    _gi_star_p_sim,
    _gi_star_z,
    _gi_star_z_csr,
    _hash_index,
    _kring_csr,
    _study_area_added,
    gi_star,
    kring_weights,
    study_area_cells,
)
from hotspots.grid import cells_to_int

CENTRE = h3.latlng_to_cell(51.3813, -2.3590, 9)  # Bath
ESDA_POINTS = np.array([(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)], dtype=float)
ESDA_Y = np.array([2, 3, 3.2, 5, 8, 7])
ESDA_Z = np.array([-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331])


def _esda_weights():
    """DistanceBand(threshold=15), inclusive, with self: built with scipy, not libpysal."""
    return sp.csr_matrix((distance_matrix(ESDA_POINTS, ESDA_POINTS) <= 15).astype(float))


def _disk(radius):
    return np.array(sorted(h3.grid_disk(CENTRE, radius)), dtype=object)


def _planted(radius=10, seed=1, background=3.0, boost=10):
    """Poisson counts over a hexagon of cells with a 7-cell hot cluster around a known cell."""
    cells = _disk(radius)
    rng = np.random.default_rng(seed)
    counts = rng.poisson(background, len(cells))
    hot_centre = sorted(h3.grid_ring(CENTRE, radius // 2))[0]
    hot = np.isin(cells, list(h3.grid_disk(hot_centre, 1)))
    counts[hot] += boost
    return pd.DataFrame({"h3_cell": cells, "count": counts}), hot_centre, hot


def _esda_g_local(cells, y, **kw):
    """esda Gi* with weights built independently by libpysal from h3-py (Graph.build_h3), in ``cells`` order."""
    import esda
    from libpysal.graph import Graph

    graph = Graph.build_h3(list(cells), order=1, weight="binary").assign_self_weight(1)
    order = pd.Index(graph.unique_ids).get_indexer(cells)
    y_graph = np.empty(len(y))
    y_graph[order] = y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # esda's DeprecationWarning about the crand alternative
        lg = esda.G_Local(y_graph, graph, transform="B", star=True, n_jobs=1, **kw)
    return lg, order


# -- analytical z ------------------------------------------------------------------------------------------------


def test_esda_docstring_worked_example():
    np.testing.assert_allclose(_gi_star_z(ESDA_Y, _esda_weights()), ESDA_Z, atol=1e-8)


def test_z_columns_are_independent_periods():
    w = _esda_weights()
    two = np.column_stack([ESDA_Y, ESDA_Y[::-1], np.full(6, 4.0)])
    z = _gi_star_z(two, w)
    np.testing.assert_allclose(z[:, 0], ESDA_Z, atol=1e-8)
    np.testing.assert_allclose(z[:, 1], _gi_star_z(ESDA_Y[::-1], w), atol=1e-12)
    np.testing.assert_array_equal(z[:, 2], 0.0)  # no spread: z = 0


def test_z_equals_esda_on_h3_cells():
    frame, _, _ = _planted()
    lg, order = _esda_g_local(frame["h3_cell"], frame["count"].to_numpy(float), permutations=0)
    out = gi_star(frame, study_area="occupied")
    np.testing.assert_allclose(out["gi_z"], lg.Zs[order], atol=1e-9, rtol=0)
    # esda's p_norm is one-sided; ours is two-sided
    np.testing.assert_allclose(out["gi_p"], 2 * lg.p_norm[order], atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(0, 50), min_size=19, max_size=19),
    st.floats(0.01, 1000),
    st.floats(-100, 100),
    st.randoms(use_true_random=False),
)
def test_z_invariant_to_scale_shift_and_row_order(counts, scale, shift, rnd):
    cells = _disk(2)
    frame = pd.DataFrame({"h3_cell": cells, "count": np.asarray(counts, float)})
    base = gi_star(frame, study_area="occupied").set_index("h3_cell")
    scaled = gi_star(frame.assign(count=frame["count"] * scale + shift), study_area="occupied").set_index("h3_cell")
    np.testing.assert_allclose(scaled["gi_z"], base["gi_z"], atol=1e-7)
    rows = list(range(len(frame)))
    rnd.shuffle(rows)
    shuffled = gi_star(frame.iloc[rows], study_area="occupied")
    assert shuffled["h3_cell"].tolist() == frame["h3_cell"].iloc[rows].tolist()
    np.testing.assert_allclose(shuffled.set_index("h3_cell").loc[base.index, "gi_z"], base["gi_z"], atol=1e-12)


# -- weights and study area ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2])
def test_kring_weights_match_h3py(k):
    cells = _disk(5)
    rng = np.random.default_rng(0)
    cells = cells[rng.permutation(len(cells))][:70]  # a ragged subset: out-of-list neighbours must drop
    w = kring_weights(cells, k=k).toarray()
    pos = {c: i for i, c in enumerate(cells)}
    expect = np.zeros_like(w)
    for i, c in enumerate(cells):
        for nb in h3.grid_disk(c, k):
            if nb in pos:
                expect[i, pos[nb]] = 1.0
    np.testing.assert_array_equal(w, expect)
    assert (np.diag(w) == 1).all() and (w == w.T).all()


def test_kring_weights_match_libpysal_build_h3():
    from libpysal.graph import Graph

    cells = _disk(6)
    graph = Graph.build_h3(list(cells), order=1, weight="binary")
    order = pd.Index(graph.unique_ids).get_indexer(cells)
    expect = (graph.sparse.toarray() + np.eye(len(cells)))[np.ix_(order, order)]
    np.testing.assert_array_equal(kring_weights(cells, k=1).toarray(), expect)


def test_study_area_modes():
    occupied = [CENTRE, CENTRE]
    assert study_area_cells(occupied, mode="occupied").tolist() == [CENTRE]
    assert set(study_area_cells(occupied, mode="ring:1")) == set(h3.grid_disk(CENTRE, 1))
    assert set(study_area_cells(occupied, mode="ring:3")) == set(h3.grid_disk(CENTRE, 3))
    far = h3.grid_ring(CENTRE, 10)[0]
    boundary = _disk(2)
    area = study_area_cells([CENTRE, far], mode=boundary)
    assert set(area) == set(boundary) | {far}  # every boundary cell, and no event lost


def test_study_area_zeros_change_the_answer():
    # Gi* is relative: the same counts with an empty ring added compute over more cells, all with count 0
    frame, _, _ = _planted(radius=4)
    ring = gi_star(frame, study_area="ring:2")
    assert len(ring) == len(_disk(6))
    assert (ring["count"].iloc[len(frame) :] == 0).all()
    assert ring["h3_cell"].iloc[: len(frame)].tolist() == frame["h3_cell"].tolist()
    boundary = gi_star(frame, study_area=_disk(5))
    assert set(boundary["h3_cell"]) == set(_disk(5))


# -- planted signal and noise --------------------------------------------------------------------------------------


def test_planted_cluster_is_hot_at_99_percent():
    frame, hot_centre, hot = _planted(boost=12)
    out = gi_star(frame)
    assert out.loc[out["h3_cell"] == hot_centre, "gi_bin"].item() == 3
    assert out.loc[out["h3_cell"] == hot_centre, "gi_significant"].item()
    assert out["gi_z"].idxmax() == out.index[out["h3_cell"] == hot_centre][0]  # the top hotspot
    assert (out["gi_bin"].iloc[: len(frame)][hot] >= 2).all()


def test_uniform_noise_gives_at_most_a_handful_of_fdr_hotspots():
    cells = _disk(25)  # 1951 cells
    assert len(cells) > 1900
    counts = np.random.default_rng(7).poisson(4.0, len(cells))
    out = gi_star(pd.DataFrame({"h3_cell": cells, "count": counts}), study_area="occupied")
    assert out["gi_significant"].sum() <= 5
    raw = gi_star(pd.DataFrame({"h3_cell": cells, "count": counts}), study_area="occupied", fdr=False)
    assert 0.01 < raw["gi_significant"].mean() < 0.10  # about alpha without the correction


def test_bins_follow_arcgis_levels():
    frame, _, _ = _planted(boost=6)
    for fdr in (False, True):
        out = gi_star(frame, fdr=fdr)
        p = out["gi_p_fdr"] if fdr else out["gi_p"]
        level = np.select([p < 0.01, p < 0.05, p < 0.10], [3, 2, 1], 0)
        np.testing.assert_array_equal(out["gi_bin"], np.sign(out["gi_z"]).astype(int) * level)
        assert set(np.abs(out["gi_bin"])) <= {0, 1, 2, 3}
    assert (out["gi_p_fdr"] >= out["gi_p"] - 1e-15).all()


def test_all_equal_values_are_not_hot():
    frame = pd.DataFrame({"h3_cell": _disk(3), "count": 4})
    out = gi_star(frame, study_area="occupied", permutations=99, seed=0)
    assert (out["gi_z"] == 0).all() and (out["gi_p"] == 1).all() and (out["gi_p_sim"] == 1).all()
    assert not out["gi_significant"].any() and (out["gi_bin"] == 0).all()


def test_does_not_mutate_input_and_keeps_int_counts():
    frame, _, _ = _planted(radius=4)
    before = frame.copy(deep=True)
    out = gi_star(frame, permutations=19, seed=1)
    pd.testing.assert_frame_equal(frame, before)
    assert out["count"].dtype == frame["count"].dtype
    assert list(out.columns) == [
        "h3_cell",
        "count",
        "gi_z",
        "gi_p",
        "gi_p_sim",
        "gi_p_fdr",
        "gi_significant",
        "gi_bin",
    ]
    assert "gi_p_sim" not in gi_star(frame).columns


# -- permutation inference -----------------------------------------------------------------------------------------


def test_p_sim_matches_exact_conditional_randomisation():
    # 6 cells: the null (own value fixed, W_i - 1 others drawn without replacement) can be enumerated exactly
    w = _esda_weights()
    y = ESDA_Y
    n = len(y)
    exact = []
    for i in range(n):
        row = w.indices[w.indptr[i] : w.indptr[i + 1]]
        obs = y[row].sum()
        m = len(row) - 1
        others = np.delete(y, i)
        sums = np.array([y[i] + others[list(c)].sum() for c in itertools.combinations(range(n - 1), m)])
        mu = y[i] + m * others.mean()
        exact.append(np.mean(np.abs(sums - mu) >= abs(obs - mu) - 1e-12))
    p = _gi_star_p_sim(y, w, permutations=20_000, seed=42)
    np.testing.assert_allclose(p, exact, atol=0.015)


@pytest.mark.slow
def test_p_sim_agrees_with_esda():
    frame, hot_centre, hot = _planted(boost=8)
    y = frame["count"].to_numpy(float)
    lg, order = _esda_g_local(frame["h3_cell"], y, permutations=999, seed=3, keep_simulations=True)
    ours = gi_star(frame, study_area="occupied", permutations=999, seed=3)["gi_p_sim"].to_numpy()
    w = kring_weights(frame["h3_cell"])
    wi, n, total = w.sum(axis=1).A1, len(y), y.sum()
    null_mean = (y + (wi - 1) * (total - y) / (n - 1)) / total  # esda's G is the k-ring sum over sum(y)
    sims, observed = lg.rGs[order], lg.Gs[order]
    folded = ((np.abs(sims - null_mean[:, None]) >= np.abs(observed - null_mean)[:, None] - 1e-12).sum(1) + 1) / 1000
    assert np.corrcoef(ours, folded)[0, 1] > 0.95
    # esda's default p_sim is directed (one tail): about half of our two-sided value
    assert np.corrcoef(ours, np.minimum(1, 2 * lg.p_sim[order]))[0, 1] > 0.95
    # the same verdict on the planted cells: significant at 5 % two-sided in both
    assert (ours[hot] < 0.05).all() and (2 * lg.p_sim[order][hot] < 0.05).all()
    centre = frame["h3_cell"].eq(hot_centre).to_numpy()
    assert ours[centre].item() == pytest.approx(0.001) == lg.p_sim[order][centre].item()  # esda: float32


def test_p_sim_seeded_shape_and_range():
    frame, _, _ = _planted(radius=6)
    x = frame["count"].to_numpy(float)
    w = kring_weights(frame["h3_cell"])
    a = _gi_star_p_sim(x, w, permutations=99, seed=5)
    b = _gi_star_p_sim(x, w, permutations=99, seed=5)
    c = _gi_star_p_sim(x, w, permutations=99, seed=6)
    assert a.shape == (len(x),)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert (a >= 1 / 100).all() and (a <= 1).all()
    np.testing.assert_allclose(a * 100, np.round(a * 100))  # (extreme + 1) / (permutations + 1)
    out1 = gi_star(frame, permutations=99, seed=5)
    out2 = gi_star(frame, permutations=99, seed=5)
    pd.testing.assert_frame_equal(out1, out2)


# -- bad inputs ----------------------------------------------------------------------------------------------------

_GOOD = pd.DataFrame({"h3_cell": _disk(1), "count": np.arange(7)})


@pytest.mark.parametrize(
    ("frame", "kwargs", "match"),
    [
        (_GOOD.iloc[:2], {"study_area": "occupied"}, "at least 3 study-area cells"),
        (_GOOD.drop(columns="count"), {}, "no column.*count"),
        (_GOOD.assign(count=[1, 2, np.nan, 4, 5, 6, 7]), {}, "missing or non-numeric"),
        (pd.concat([_GOOD, _GOOD.iloc[:1]]), {}, "repeats cells; aggregate"),
        (_GOOD, {"k": 0}, "k must be an integer >= 1"),
        (_GOOD, {"k": 1.5}, "k must be an integer"),
        (_GOOD, {"permutations": -1}, "permutations must be an integer >= 0"),
        (_GOOD, {"alpha": 1.5}, "alpha must be between 0 and 1"),
        (_GOOD, {"alpha": "0.05"}, "alpha must be between 0 and 1"),
        (_GOOD, {"study_area": "ring:x"}, "mode must be 'ring:K'"),
        (_GOOD, {"study_area": "ring:0"}, "mode must be 'ring:K'"),
        (_GOOD, {"study_area": []}, "empty array of cells"),
        (_GOOD.assign(h3_cell=["nonsense"] * 7), {}, "not an H3 cell id"),
        (_GOOD.assign(h3_cell=[*_disk(1)[:6], h3.cell_to_parent(CENTRE, 8)]), {}, "mixes H3 resolutions"),
        ("not a frame", {}, "must be a pandas DataFrame"),
    ],
)
def test_bad_inputs(frame, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        gi_star(frame, **kwargs)


def test_kring_weights_bad_inputs():
    with pytest.raises(ParameterError, match="repeated ids"):
        kring_weights([CENTRE, CENTRE])
    with pytest.raises(ParameterError, match="k must be an integer >= 0"):
        kring_weights([CENTRE], k=-1)
    assert kring_weights([], k=1).shape == (0, 0)


# -- fast paths: hash-table weights, reused study-area disks, Arrow cell columns, one-sort BH ----------------------


def _pentagon_cells():
    """Cells around a res-6 pentagon (5 neighbours) and its ragged surroundings."""
    pentagon = next(c for c in h3.get_res0_cells() if h3.is_pentagon(c))
    centre = h3.cell_to_center_child(pentagon, 6)
    return np.array(sorted(h3.grid_disk(centre, 4)), dtype=object), centre


@pytest.mark.parametrize("k", [1, 2, 4])
def test_kring_weights_at_a_pentagon_match_h3py(k):
    cells, centre = _pentagon_cells()
    cells = cells[np.random.default_rng(3).permutation(len(cells))][: len(cells) - 9]  # ragged edge
    w = kring_weights(cells, k=k)
    assert w.has_sorted_indices
    pos = {c: i for i, c in enumerate(cells)}
    expect = np.zeros((len(cells), len(cells)))
    for i, c in enumerate(cells):
        for nb in h3.grid_disk(c, k):
            if nb in pos:
                expect[i, pos[nb]] = 1.0
    np.testing.assert_array_equal(w.toarray(), expect)
    if centre in pos and k == 1:
        assert w[pos[centre]].sum() <= 6  # a pentagon touches 5 cells


def test_csr_kernel_matches_sparse_weights():
    cells = _disk(6)[np.random.default_rng(1).permutation(len(_disk(6)))]
    ints = cells_to_int(cells)
    indptr, indices = _kring_csr(ints, k=1)
    w = kring_weights(cells, k=1)
    np.testing.assert_array_equal(indptr, w.indptr)
    np.testing.assert_array_equal(indices, w.indices)
    x = np.random.default_rng(2).poisson(3.0, len(cells)).astype(float)
    np.testing.assert_array_equal(_gi_star_z_csr(x, indptr, indices), _gi_star_z(x, w))


def test_reused_study_area_disks_give_the_same_weights():
    occupied = cells_to_int(_disk(3)[::2])
    for ring, k in [(1, 1), (2, 2), (1, 2)]:
        added, reuse = _study_area_added(occupied, f"ring:{ring}")
        expect = np.setdiff1d(cells_to_int(study_area_cells(_disk(3)[::2], mode=f"ring:{ring}")), occupied)
        np.testing.assert_array_equal(added, expect)
        assert reuse[0] == ring
        ints = np.concatenate([occupied, added])
        fresh = _kring_csr(ints, k=k)
        if ring == k:
            reused = _kring_csr(ints, k=k, head=reuse[1])
            for a, b in zip(fresh, reused, strict=True):
                np.testing.assert_array_equal(a, b)


def test_repeated_ids_are_found_by_the_hash_table():
    ints = cells_to_int(_disk(4))
    assert _hash_index(ints)[1] == -1
    repeated = np.concatenate([ints, ints[[17]]])
    assert _hash_index(repeated)[1] == len(ints)
    with pytest.raises(ParameterError, match="repeated ids"):
        _kring_csr(repeated, k=1)


@pytest.mark.parametrize("dtype", [object, "string[pyarrow]", "str"])
def test_cell_column_dtypes_give_the_same_answer(dtype):
    frame, _, _ = _planted(radius=5)
    base = gi_star(frame.astype({"h3_cell": object}), study_area="ring:1")
    out = gi_star(frame.astype({"h3_cell": dtype}), study_area="ring:1")
    pd.testing.assert_frame_equal(out, base)
    assert out["h3_cell"].dtype == pd.Series(np.array(["a"], dtype=object)).dtype  # what pandas infers for str


def test_bad_cell_in_an_arrow_column_names_the_problem():
    frame = _GOOD.assign(h3_cell=pd.array([*_disk(1)[:6], "nonsense"], dtype="string[pyarrow]"))
    with pytest.raises(ParameterError, match="not an H3 cell id"):
        gi_star(frame)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=0, max_size=60))
def test_bh_adjust_equals_scipy(p):
    p = np.array(p + p[:5], dtype=float)  # with ties
    np.testing.assert_array_equal(_bh_adjust(p), false_discovery_control(p, method="bh") if len(p) else p)
