"""Source grids, place scores and the perception gap: conservation, hand-worked cases and planted signals."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest

from hotspots.errors import ParameterError
from hotspots.fusion import place_scores, source_grids
from hotspots.perception_gap import GAP_FELT, GAP_NONE, GAP_RECORDED, perception_gap, perception_gap_cells

NAN = np.nan
LAT0, LNG0 = 51.38, -2.36  # Bath


def _random_events(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    source = rng.choice(["police_uk", "rms", "streetsafe", "ae"], n)
    share = rng.uniform(0, 1, n)
    share[rng.uniform(size=n) < 0.1] = 0.0
    share[source == "police_uk"] = NAN  # police.uk has no time of day
    share[(source == "rms") & (rng.uniform(size=n) < 0.2)] = NAN
    return pd.DataFrame({
        "source": source,
        "lat": LAT0 + rng.normal(0, 0.01, n),
        "lng": LNG0 + rng.normal(0, 0.015, n),
        "weight": rng.choice([1.0, 2.0, 5.0], n),
        "nte_share": share,
    })


# ---- source_grids ----------------------------------------------------------------------------------------------


def test_source_grids_conserves_counts():
    ev = _random_events()
    plain = source_grids(ev, resolution=9)
    assert plain["count"].sum() == len(ev) and plain["count"].dtype == np.int64
    assert plain.groupby("source")["count"].sum().to_dict() == ev["source"].value_counts().to_dict()
    nte = source_grids(ev, resolution=9, band="nte")
    other = source_grids(ev, resolution=9, band="other")
    resolved = ev["nte_share"].notna()
    assert nte.attrs["not_time_resolved"] == other.attrs["not_time_resolved"] == int((~resolved).sum())
    assert nte.attrs["not_time_resolved_by_source"]["police_uk"] == int((ev["source"] == "police_uk").sum())
    # nte + other = the time-resolved total, per source and per cell
    both = nte.merge(other, on=["h3_cell", "source"], suffixes=("_nte", "_other"), validate="1:1")
    np.testing.assert_allclose(both["count_nte"] + both["count_other"], both["n_events_nte"])
    assert (both["n_events_nte"] == both["n_events_other"]).all()
    assert both["n_events_nte"].sum() == resolved.sum()
    per_source = ev[resolved].groupby("source").size()
    got = nte.groupby("source")["count"].sum() + other.groupby("source")["count"].sum()
    np.testing.assert_allclose(got.sort_index(), per_source.sort_index())
    assert "police_uk" not in set(nte["source"])


@pytest.mark.parametrize("band", [None, "nte", "other"])
def test_source_grids_on_a_precomputed_cell_column_equal_gridding_lat_lng(band):
    ev = _random_events(seed=3)
    ev["cell"] = [h3.latlng_to_cell(a, b, 9) for a, b in zip(ev["lat"], ev["lng"], strict=True)]  # oracle: h3-py
    want = source_grids(ev, resolution=9, band=band, weight="weight")
    got = source_grids(ev.drop(columns=["lat", "lng"]), resolution=9, band=band, weight="weight", cell_col="cell")
    pd.testing.assert_frame_equal(got, want)
    assert got.attrs == want.attrs


def test_source_grids_cell_column_at_another_resolution_refused():
    ev = _random_events(n=10).assign(cell=h3.latlng_to_cell(LAT0, LNG0, 8))
    with pytest.raises(ParameterError, match="resolution 8, not 9"):
        source_grids(ev, resolution=9, cell_col="cell")


def test_source_grids_hand_case_with_weights():
    here, there = (51.3813, -2.359), (51.45, -2.58)
    ev = pd.DataFrame({
        "source": ["rms", "rms", "rms", "ae", "police_uk"],
        "lat": [here[0], here[0], there[0], here[0], here[0]],
        "lng": [here[1], here[1], there[1], here[1], here[1]],
        "nte_share": [0.25, 1.0, 0.5, 0.0, NAN],
        "weight": [2.0, 4.0, 1.0, 3.0, 10.0],
    })
    c_here = h3.latlng_to_cell(*here, 9)
    g = source_grids(ev, resolution=9, band="nte", weight="weight").set_index(["h3_cell", "source"])
    assert g.loc[(c_here, "rms"), "count"] == pytest.approx(1.25)
    assert g.loc[(c_here, "rms"), "n_events"] == 2
    assert g.loc[(c_here, "rms"), "weight_sum"] == pytest.approx(0.25 * 2 + 1.0 * 4)
    assert g.loc[(c_here, "ae"), "count"] == 0.0 and g.loc[(c_here, "ae"), "n_events"] == 1
    o = source_grids(ev, resolution=9, band="other", weight="weight").set_index(["h3_cell", "source"])
    assert o.loc[(c_here, "rms"), "weight_sum"] == pytest.approx(0.75 * 2 + 0.0 * 4)
    assert set(o["band"]) == {"other"}
    p = source_grids(ev, resolution=9, weight="weight").set_index(["h3_cell", "source"])
    assert p.loc[(c_here, "police_uk"), "weight_sum"] == 10.0
    assert list(p.columns) == ["count", "weight_sum"]


def test_source_grids_categorical_source_same_counts():
    ev = _random_events(500)
    for band in (None, "nte"):
        plain = source_grids(ev, resolution=9, band=band)
        cat = source_grids(ev.assign(source=ev["source"].astype("category")), resolution=9, band=band)
        np.testing.assert_array_equal(plain["h3_cell"], cat["h3_cell"])
        np.testing.assert_array_equal(plain["source"].astype(str), cat["source"].astype(str))
        np.testing.assert_allclose(plain["count"], cat["count"])


def test_source_grids_does_not_mutate():
    ev = _random_events(200)
    ev0 = ev.copy()
    source_grids(ev, resolution=9, band="nte", weight="weight")
    pd.testing.assert_frame_equal(ev, ev0)


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (lambda e: e, {"band": "night"}, "band must be None, 'nte' or 'other'"),
        (lambda e: e, {"resolution": 6}, "resolution must be an integer 7-11"),
        (lambda e: e.drop(columns="nte_share"), {"band": "nte"}, "no column.*nte_share"),
        (lambda e: e.drop(columns="source"), {}, "no column.*source"),
        (lambda e: e.assign(source=None), {}, "without a source"),
        (lambda e: e.assign(nte_share=1.5), {"band": "nte"}, "nte_share must be between 0 and 1"),
        (lambda e: e, {"weight": "harm"}, "no column.*harm"),
    ],
)
def test_source_grids_bad_inputs(change, kwargs, match):
    kwargs = {"resolution": 9, **kwargs}
    with pytest.raises(ParameterError, match=match):
        source_grids(change(_random_events(50)), **kwargs)


# ---- place_scores ----------------------------------------------------------------------------------------------


def _toy_grids():
    return pd.DataFrame({"h3_cell": ["A", "B", "B", "C"], "source": ["police_uk", "police_uk", "ae", "ae"],
                         "count": [1, 3, 1, 1]})


def test_place_scores_hand_case():
    s = place_scores(_toy_grids(), sources=["police_uk", "ae"]).set_index("h3_cell")
    # police.uk total 4, A&E total 2
    np.testing.assert_allclose(s.loc[["A", "B", "C"], "police_uk_share"], [0.25, 0.75, 0.0])
    np.testing.assert_allclose(s.loc[["A", "B", "C"], "ae_share"], [0.0, 0.5, 0.5])
    np.testing.assert_allclose(s.loc[["A", "B", "C"], "place_score"], [12.5, 62.5, 25.0])
    assert s.loc[["A", "B", "C"], "place_rank"].tolist() == [3, 1, 2]
    # percentage of the 3 cells with a strictly smaller count
    np.testing.assert_allclose(s.loc[["A", "B", "C"], "police_uk_rank_pct"], [100 / 3, 200 / 3, 0.0])
    np.testing.assert_allclose(s.loc[["A", "B", "C"], "ae_rank_pct"], [0.0, 100 / 3, 100 / 3])
    assert s.loc[["A", "B", "C"], "n_sources"].tolist() == [1, 2, 1]
    assert s["police_uk_count"].dtype == np.int64


def test_place_scores_weights_and_rank_method():
    s = place_scores(_toy_grids(), sources=["police_uk", "ae"], source_weights={"police_uk": 3, "ae": 1})
    s = s.set_index("h3_cell")
    np.testing.assert_allclose(s.loc[["A", "B", "C"], "place_score"], [75 / 4, (225 + 50) / 4, 50 / 4])
    r = place_scores(_toy_grids(), sources=["police_uk", "ae"], method="rank_pct").set_index("h3_cell")
    np.testing.assert_allclose(r.loc[["A", "B", "C"], "place_score"], [50 / 3, 50.0, 50 / 3])
    assert r.loc[["A", "B", "C"], "place_rank"].tolist() == [2, 1, 2]  # ties share the best rank


def test_place_scores_max_is_100_and_sums_over_repeats():
    grids = pd.DataFrame({"h3_cell": ["A", "A", "A"], "source": ["rms", "rms", "ae"], "count": [2, 3, 1]})
    s = place_scores(grids, sources=["rms", "ae"])
    assert s["rms_count"].tolist() == [5] and s["place_score"].tolist() == [100.0]


def test_planted_hotspot_is_rank_one():
    rng = np.random.default_rng(7)
    sizes = {"police_uk": 2000, "rms": 500, "streetsafe": 200, "ae": 100}
    parts = [pd.DataFrame({"source": s, "lat": rng.uniform(51.36, 51.40, n), "lng": rng.uniform(-2.40, -2.32, n)})
             for s, n in sizes.items()]
    planted = (51.3813, -2.3590)
    decoy = (51.3900, -2.3300)  # a police.uk snap point with many crimes but nothing else
    parts += [pd.DataFrame({"source": s, "lat": planted[0], "lng": planted[1]}, index=range(n))
              for s, n in {"police_uk": 40, "rms": 25, "ae": 15}.items()]
    parts.append(pd.DataFrame({"source": "police_uk", "lat": decoy[0], "lng": decoy[1]}, index=range(120)))
    ev = pd.concat(parts, ignore_index=True)
    grids = source_grids(ev, resolution=9)
    s = place_scores(grids, sources=list(sizes))
    assert s.loc[0, "h3_cell"] == h3.latlng_to_cell(*planted, 9)
    assert s.loc[0, "place_rank"] == 1 and (s["place_rank"] == 1).sum() == 1
    assert s.loc[0, "n_sources"] >= 3
    # police.uk alone would have picked the decoy: fusion is what finds the planted place
    top_puk = grids[grids["source"] == "police_uk"].sort_values("count").iloc[-1]["h3_cell"]
    assert top_puk == h3.latlng_to_cell(*decoy, 9)


def test_place_scores_does_not_mutate():
    g = _toy_grids()
    g0 = g.copy()
    place_scores(g, sources=["police_uk", "ae"])
    pd.testing.assert_frame_equal(g, g0)


@pytest.mark.parametrize(
    ("grids", "kwargs", "match"),
    [
        (_toy_grids(), {"sources": ["police_uk", "rms"]}, r"source\(s\) \['rms'\] have no count"),
        (_toy_grids(), {"sources": []}, "sources is empty"),
        (_toy_grids(), {"sources": "ae"}, "list of source names"),
        (_toy_grids(), {"sources": ["ae"], "method": "mean"}, "method must be"),
        (_toy_grids(), {"sources": ["ae", "police_uk"], "source_weights": {"ae": 1}}, "no weight for"),
        (_toy_grids(), {"sources": ["ae"], "source_weights": {"ae": -1}}, ">= 0"),
        (_toy_grids(), {"sources": ["ae"], "value": "weight_sum"}, "no column.*weight_sum"),
        (_toy_grids().assign(band=["nte", "other", "nte", "nte"]), {"sources": ["ae"]}, "mixes time bands"),
        (_toy_grids().assign(count=[1, -1, 1, 1]), {"sources": ["ae", "police_uk"]}, "non-negative"),
    ],
)
def test_place_scores_bad_inputs(grids, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        place_scores(grids, **kwargs)


# ---- perception gap ------------------------------------------------------------------------------------------


def _pts(x, y, n):
    return pd.DataFrame({"x": np.full(n, float(x)), "y": np.full(n, float(y))})


def _pixel(gap, x, y):
    g = gap.grid
    return int((g.y_top - y) // g.pixel_m), int((x - g.x0) // g.pixel_m)


def test_perception_gap_planted_places():
    felt, recorded, both = (375000, 165000), (377000, 165000), (376000, 166500)
    ss = pd.concat([_pts(*felt, 20), _pts(*both, 30)])
    crime = pd.concat([_pts(*recorded, 20), _pts(*both, 30)])
    gap = perception_gap(ss, crime, radius_m=300, pixel_m=50)
    assert gap.perception_share.sum() == pytest.approx(1.0) and gap.recorded_share.sum() == pytest.approx(1.0)
    assert gap.gap_class[_pixel(gap, *felt)] == GAP_FELT
    assert gap.gap_class[_pixel(gap, *recorded)] == GAP_RECORDED
    assert gap.gap_class[_pixel(gap, *both)] == GAP_NONE
    assert gap.gap_ratio[_pixel(gap, *both)] == pytest.approx(1.0)  # same shares on both surfaces
    # where crime is absent the ratio is (p + eps) / eps, eps = prior / reached pixels
    i, j = _pixel(gap, *felt)
    eps = gap.params["smoothing"]
    assert eps == pytest.approx(1.0 / ((gap.perception_share > 0) | (gap.recorded_share > 0)).sum())
    assert gap.gap_ratio[i, j] == pytest.approx((gap.perception_share[i, j] + eps) / eps)
    assert gap.gap_log2[i, j] == pytest.approx(np.log2(gap.gap_ratio[i, j]))
    # pixels neither surface reaches are exactly "as expected"
    assert gap.gap_ratio[0, 0] == 1.0 and gap.gap_class[0, 0] == GAP_NONE
    t = gap.to_frame()
    assert set(t["gap_class"]) == {GAP_FELT, GAP_RECORDED, GAP_NONE}
    assert len(t) == ((gap.perception_share > 0) | (gap.recorded_share > 0)).sum()


def test_perception_gap_floor_keeps_thin_places_unclassed():
    ss = pd.concat([_pts(375000, 165000, 50), _pts(377000, 165000, 1)])
    crime = _pts(375000, 165000, 50)
    # a small prior so that the lone report is not smoothed away; then only the floor decides
    strict = perception_gap(ss, crime, radius_m=300, pixel_m=50, prior=0.01, floor=5.0)
    loose = perception_gap(ss, crime, radius_m=300, pixel_m=50, prior=0.01, floor=0.0)
    px = _pixel(strict, 377000, 165000)
    assert loose.gap_class[px] == GAP_FELT and strict.gap_class[px] == GAP_NONE


def test_perception_gap_cells_planted_places():
    felt, recorded, both = (51.3813, -2.3590), (51.4000, -2.3000), (51.3700, -2.3900)
    rows = [("streetsafe", felt, 20), ("police_uk", recorded, 20), ("rms", recorded, 10),
            ("streetsafe", both, 20), ("police_uk", both, 25), ("rms", both, 5), ("ae", felt, 50)]
    ev = pd.concat([pd.DataFrame({"source": s, "lat": p[0], "lng": p[1]}, index=range(n)) for s, p, n in rows])
    t = perception_gap_cells(source_grids(ev, resolution=9)).set_index("h3_cell")
    cell = {k: h3.latlng_to_cell(*p, 9) for k, p in {"felt": felt, "recorded": recorded, "both": both}.items()}
    assert t.loc[cell["felt"], "gap_class"] == GAP_FELT
    assert t.loc[cell["recorded"], "gap_class"] == GAP_RECORDED
    assert t.loc[cell["both"], "gap_class"] == GAP_NONE
    assert t.loc[cell["recorded"], "recorded_count"] == 30  # police_uk + rms summed; A&E not recorded crime
    # hand: 40 reports, 60 crimes, 3 cells -> eps = 1/3
    assert t.loc[cell["felt"], "gap_ratio"] == pytest.approx((20 / 40 + 1 / 3) / (1 / 3))  # 2.5
    assert t.loc[cell["recorded"], "gap_ratio"] == pytest.approx((1 / 3) / (30 / 60 + 1 / 3))  # 0.4
    assert t.loc[cell["both"], "gap_ratio"] == pytest.approx(1.0)
    assert t.attrs["recorded_sources"] == ["police_uk", "rms"]


def test_perception_gap_cells_min_reports():
    grids = pd.DataFrame({"h3_cell": ["A", "B", "C"], "source": ["streetsafe", "streetsafe", "police_uk"],
                          "count": [2, 10, 10]})
    # prior 0.1, 3 cells: eps = 1/30; A: (2/12 + 1/30) / (1/30) = 6 >= 2, so only min_reports decides
    strict = perception_gap_cells(grids, min_reports=3, prior=0.1).set_index("h3_cell")
    loose = perception_gap_cells(grids, min_reports=1, prior=0.1).set_index("h3_cell")
    assert loose.loc["A", "gap_ratio"] == pytest.approx(6.0)
    assert strict.loc["A", "gap_class"] == GAP_NONE and loose.loc["A", "gap_class"] == GAP_FELT
    assert strict.loc["B", "gap_class"] == GAP_FELT


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"perception": "nope"}, "no 'nope' rows"),
        ({"recorded": ["rms"]}, "none of the recorded sources"),
        ({"prior": 0}, "prior must be a positive"),
        ({"threshold": 1}, "threshold must be a ratio above 1"),
        ({"min_reports": -1}, "min_reports must be a count"),
    ],
)
def test_perception_gap_cells_bad_inputs(kwargs, match):
    grids = pd.DataFrame({"h3_cell": ["A", "C"], "source": ["streetsafe", "police_uk"], "count": [2, 10]})
    with pytest.raises(ParameterError, match=match):
        perception_gap_cells(grids, **kwargs)


@pytest.mark.parametrize(
    ("ss", "crime", "kwargs", "match"),
    [
        (_pts(0, 0, 0), _pts(1000, 0, 3), {}, "streetsafe has no rows"),
        (_pts(375000, 0, 3).drop(columns="y"), _pts(376000, 0, 3), {}, "streetsafe has no column"),
        (_pts(375000, 0, 3), _pts(NAN, 0, 3), {}, "crime x/y contain NaN"),
        (_pts(375000, 0, 3), _pts(376000, 0, 3), {"floor": -1}, "floor must be >= 0"),
        (_pts(375000, 0, 3), _pts(376000, 0, 3), {"pixel_m": 0}, "pixel_m must be a positive"),
    ],
)
def test_perception_gap_bad_inputs(ss, crime, kwargs, match):
    kwargs = {"radius_m": 200, "pixel_m": 50, **kwargs}
    with pytest.raises(ParameterError, match=match):
        perception_gap(ss, crime, **kwargs)
