"""Deprivation and venue context: hand-worked cases, planted signals and the bundled IMD / police.uk data."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.deprivation import hotspot_deprivation
from hotspots.errors import InputFileError, ParameterError
from hotspots.ingest.imd import read_imd
from hotspots.lsoa import lsoa_crosswalk
from hotspots.venue_concentration import venue_concentration

ROOT = Path(__file__).resolve().parents[1]
IMD_FILE = ROOT / "data/deprivation/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
POP_FILE = ROOT / "data/deprivation/File_6_-_IoD2019_Population_Denominators.csv.gz"
PUK_DIR = ROOT / "data/policeuk/avon-and-somerset"

IMD_HEADER = (
    "\ufeffLSOA code (2011),LSOA name (2011),Local Authority District code (2019),"
    "Local Authority District name (2019),Index of Multiple Deprivation (IMD) Rank,"
    "Index of Multiple Deprivation (IMD) Decile\r\n"
)


def _write(path: Path, text: str, *, gz: bool = False) -> Path:
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


# ----------------------------------------------------------------------------- read_imd


@pytest.fixture(scope="module")
def imd_full():
    return read_imd(IMD_FILE, population=POP_FILE)


def test_read_imd_bundled_file(imd_full):
    imd = imd_full
    assert len(imd) == 32844
    assert list(imd.columns) == ["lsoa_code", "lsoa_name", "la_code", "la_name", "imd_rank", "imd_decile", "population"]
    assert imd["lsoa_code"].is_unique and imd["lsoa_code"].str.match(r"^E01\d{6}$").all()  # England only
    shares = imd["imd_decile"].value_counts(normalize=True).sort_index()
    assert shares.index.tolist() == list(range(1, 11))
    np.testing.assert_allclose(shares.to_numpy(), 0.1, atol=0.001)
    # ranks with thousands separators parsed; 1 = most deprived, and deciles are cut on rank
    assert imd["imd_rank"].min() == 1 and imd["imd_rank"].max() == 32844
    assert (imd.groupby("imd_decile")["imd_rank"].max().diff().dropna() > 0).all()
    # published facts: the most deprived LSOA in England in IMD 2019 is Tendring 018A (Jaywick)
    assert imd.loc[imd["imd_rank"] == 1, "lsoa_name"].tolist() == ["Tendring 018A"]
    # mid-2015 population of England excluding prisoners, about 54.7 million
    assert 54.0e6 < imd["population"].sum() < 55.5e6
    assert imd.loc[imd["lsoa_code"] == "E01000001", "population"].item() == 1296  # "1,296" in the file


def test_read_imd_small_file_with_bom_and_thousands(tmp_path):
    f = _write(
        tmp_path / "imd.csv.gz",
        IMD_HEADER + 'E01000001,A 001A,E09000001,A,"29,199",9\r\nE01000002,B 001B,E09000001,A,17,1\r\n',
        gz=True,
    )
    imd = read_imd(f)
    assert imd["lsoa_code"].tolist() == ["E01000001", "E01000002"]
    assert imd["imd_rank"].tolist() == [29199, 17]
    assert imd["imd_decile"].tolist() == [9, 1]
    assert imd["imd_rank"].dtype == np.int64


@pytest.mark.parametrize(
    ("content", "population", "match"),
    [
        (None, None, "IMD file not found"),
        ("pop-as-imd", None, "File 6"),
        ("garbage", None, "not a readable"),
        ("a,b\n1,2\n", None, "no column"),
        (IMD_HEADER + "E01000001,A,E1,A,5,11\r\n", None, r"line 2: column .*Decile.* '11'"),
        (IMD_HEADER + "E01000001,A,E1,A,abc,1\r\n", None, r"line 2: column .*Rank.* 'abc'"),
        (IMD_HEADER + "E01000001,A,E1,A,5,1\r\nE01000001,A,E1,A,6,1\r\n", None, "line 3: LSOA E01000001 appears twice"),
        (IMD_HEADER + "E01000001,A,E1,A,5,1\r\n", "imd-as-pop", "File 6"),
        (IMD_HEADER + "E01999999,A,E1,A,5,1\r\n", "pop", "1 LSOAs of the IMD file have no population"),
    ],
)
def test_read_imd_bad_files(tmp_path, content, population, match):
    path = tmp_path / "imd.csv"
    if content == "pop-as-imd":
        path = POP_FILE
    elif content == "garbage":
        path.write_bytes(b"\x1f\x8b\x08garbage")
        path = path.rename(tmp_path / "imd.csv.gz")
    elif content is not None:
        _write(path, content)
    pop = {None: None, "imd-as-pop": IMD_FILE, "pop": POP_FILE}[population]
    with pytest.raises(InputFileError, match=match):
        read_imd(path, population=pop)


# ----------------------------------------------------------------------------- hotspot_deprivation


def _tiny_imd():
    # one LSOA per decile, rank = decile * 1000 (lower = more deprived), population 100 * decile
    return pd.DataFrame({
        "lsoa_code": [f"E{d:02d}" for d in range(1, 11)],
        "imd_rank": [d * 1000 for d in range(1, 11)],
        "imd_decile": list(range(1, 11)),
        "population": [100 * d for d in range(1, 11)],
    })


def _tiny_events():
    # hot cell "h": 2 events in decile 1, 1 in decile 2, 1 in decile 5; cold cell "c": deciles 5, 6, 9, 10
    # plus one Welsh event (no IMD) in "c"
    codes = ["E01", "E01", "E02", "E05", "E05", "E06", "E09", "E10", "W01000001"]
    cells = ["h", "h", "h", "h", "c", "c", "c", "c", "c"]
    return pd.DataFrame({"h3_cell": cells, "lsoa_code": codes, "harm": [1.0, 1.0, 2.0, 4.0, 1, 1, 1, 1, 1]})


def test_hand_worked_shares_and_means():
    ev = _tiny_events()
    before = ev.copy()
    res = hotspot_deprivation(ev, ["h"], imd=_tiny_imd())
    pd.testing.assert_frame_equal(ev, before)  # inputs not mutated
    exp_hot = np.zeros(10)
    exp_hot[[0, 1, 4]] = [2 / 4, 1 / 4, 1 / 4]
    np.testing.assert_allclose(res.hotspot_event_shares, exp_hot)
    exp_force = np.zeros(10)
    exp_force[[0, 1, 4, 5, 8, 9]] = [2 / 8, 1 / 8, 2 / 8, 1 / 8, 1 / 8, 1 / 8]
    np.testing.assert_allclose(res.force_event_shares, exp_force)
    # distinct LSOAs: hot {1, 2, 5}; force {1, 2, 5, 6, 9, 10}
    deciles = np.arange(1, 11)
    np.testing.assert_allclose(res.hotspot_lsoa_shares, np.where(np.isin(deciles, [1, 2, 5]), 1 / 3, 0))
    np.testing.assert_allclose(res.force_lsoa_shares, np.where(np.isin(deciles, [1, 2, 5, 6, 9, 10]), 1 / 6, 0))
    assert res.hotspot_mean_decile == pytest.approx((1 + 1 + 2 + 5) / 4)
    assert res.force_mean_decile == pytest.approx((1 + 1 + 2 + 5 + 5 + 6 + 9 + 10) / 8)
    assert res.hotspot_lsoa_mean_decile == pytest.approx(8 / 3)
    assert res.force_lsoa_mean_decile == pytest.approx(33 / 6)
    assert res.hotspot_deprived_share == pytest.approx(3 / 4)
    assert res.force_deprived_share == pytest.approx(3 / 8)
    assert res.other_deprived_share == pytest.approx(0.0, abs=1e-12)
    assert (res.n_hotspot_events, res.n_other_events, res.n_unmatched_events) == (4, 4, 1)
    assert res.match_rate == pytest.approx(8 / 9)
    assert (res.n_hotspot_lsoas, res.n_force_lsoas) == (3, 6)
    # population of the force's LSOAs {1, 2, 5, 6, 9, 10} = 100 * (1+2+5+6+9+10) = 3300
    pop = np.where(np.isin(np.arange(1, 11), [1, 2, 5, 6, 9, 10]), 100 * np.arange(1, 11) / 3300, 0)
    np.testing.assert_allclose(res.force_population_shares, pop)
    frame = res.to_frame()
    assert frame.columns.tolist() == ["imd_decile", "hotspot_events", "force_events", "hotspot_lsoas",
                                      "force_lsoas", "force_population"]
    assert "75% of events in hotspot cells" in res.finding and "against 38% across the force" in res.finding
    json.dumps(res.to_dict(), allow_nan=False)


def test_weights_move_shares_not_tests():
    res = hotspot_deprivation(_tiny_events(), ["h"], imd=_tiny_imd(), weight="harm")
    unweighted = hotspot_deprivation(_tiny_events(), ["h"], imd=_tiny_imd())
    # hot weights: decile 1: 1 + 1, decile 2: 2, decile 5: 4 -> total 8
    assert res.hotspot_event_shares[0] == pytest.approx(2 / 8)
    assert res.hotspot_event_shares[4] == pytest.approx(4 / 8)
    assert res.hotspot_mean_decile == pytest.approx((1 + 1 + 2 * 2 + 4 * 5) / 8)
    assert res.mw_events_p == unweighted.mw_events_p and res.deprived_p == unweighted.deprived_p
    assert "harm-weighted" in res.finding


def test_mann_whitney_u_and_binomial_against_hand_oracles():
    res = hotspot_deprivation(_tiny_events(), ["h"], imd=_tiny_imd())
    hot = np.array([1000, 1000, 2000, 5000])
    other = np.array([5000, 6000, 9000, 10000])
    # U of the hot sample: pairs with hot > other, ties half
    u = (hot[:, None] > other[None, :]).sum() + 0.5 * (hot[:, None] == other[None, :]).sum()
    assert res.mw_events_u == pytest.approx(u)  # = 0.5
    # binomial: 3 of 4 hotspot events in deciles 1-3 against a non-hotspot share of 0 -> P(X >= 3 | p = 0) = 0
    assert res.deprived_p == pytest.approx(0.0, abs=1e-12)
    # a case with a non-trivial null share: 3 of 3 hot deprived, other share 1/2 -> p = 1/8
    imd = _tiny_imd()
    ev = pd.DataFrame({"h3_cell": ["h"] * 3 + ["c"] * 4,
                       "lsoa_code": ["E01", "E02", "E03", "E01", "E02", "E08", "E09"]})
    res = hotspot_deprivation(ev, ["h"], imd=imd)
    assert res.deprived_p == pytest.approx(1 / 8)
    # LSOA-level test: hot LSOAs {1, 2, 3} vs the force's others {8, 9}; exact one-sided p = 1 / C(5, 2)
    assert res.mw_lsoas_p == pytest.approx(1 / math.comb(5, 2))


def _synthetic_force(rng, *, planted: bool):
    # 200 LSOAs, 20 per decile; ranks spread within each decile
    n = 200
    dec = np.repeat(np.arange(1, 11), 20)
    imd = pd.DataFrame({"lsoa_code": [f"E{i:05d}" for i in range(n)], "imd_rank": np.arange(1, n + 1) * 10,
                        "imd_decile": dec})
    other = rng.integers(0, n, 3000)  # non-hotspot events: uniform over LSOAs
    hot = rng.integers(0, 20, 300) if planted else rng.integers(0, n, 300)  # decile 1 only, or uniform
    ev = pd.DataFrame({"h3_cell": np.r_[np.full(300, "hot"), rng.choice(["a", "b", "c"], 3000)],
                       "lsoa_code": imd["lsoa_code"].to_numpy()[np.r_[hot, other]]})
    return ev, imd


def test_planted_deprived_hotspot_is_significant():
    ev, imd = _synthetic_force(np.random.default_rng(1), planted=True)
    res = hotspot_deprivation(ev, ["hot"], imd=imd)
    assert res.hotspot_event_shares[0] == pytest.approx(1.0)
    assert res.force_event_shares[0] == pytest.approx((300 + 0.1 * 3000) / 3300, abs=0.02)
    assert res.mw_events_p < 1e-6 and res.mw_lsoas_p < 1e-6 and res.deprived_p < 1e-6
    assert res.finding.startswith("100% of events in hotspot cells")


def test_uniform_hotspot_is_not_significant():
    # under the null the tests must reject about 5% of the time at 0.05 (the binomial, being discrete, less)
    ps = []
    for seed in range(200):
        ev, imd = _synthetic_force(np.random.default_rng(seed), planted=False)
        res = hotspot_deprivation(ev, ["hot"], imd=imd)
        ps.append((res.mw_events_p, res.mw_lsoas_p, res.deprived_p))
    ps = np.array(ps)
    rejected = (ps < 0.05).mean(axis=0)
    assert (rejected < 0.1).all(), rejected
    assert (np.abs(ps.mean(axis=0) - 0.5) < 0.1).all(), ps.mean(axis=0)
    assert res.hotspot_deprived_share == pytest.approx(0.3, abs=0.08)


def test_force_lsoas_and_lookup():
    imd = _tiny_imd()
    ev = pd.DataFrame({"h3_cell": ["h", "h", "c"], "lsoa_code": ["E01", "E99", "E10"]})
    # E99 is a new (2021) code for a part of E02; the force's LSOA list has 4 LSOAs plus a code IMD lacks
    res = hotspot_deprivation(ev, ["h"], imd=imd, force_lsoas=["E01", "E02", "E03", "E10", "W01000001"],
                              lsoa_lookup={"E99": "E02"})
    assert (res.n_recoded_events, res.n_unmatched_events) == (1, 0)
    np.testing.assert_allclose(res.hotspot_event_shares[:2], [0.5, 0.5])
    assert res.n_force_lsoas == 4
    np.testing.assert_allclose(np.asarray(res.force_lsoa_shares)[[0, 1, 2, 9]], 0.25)
    frame_lookup = pd.DataFrame({"lsoa_code": ["E99"], "imd_lsoa_code": ["E02"]})
    assert hotspot_deprivation(ev, ["h"], imd=imd, lsoa_lookup=frame_lookup).n_recoded_events == 1
    assert hotspot_deprivation(ev, ["h"], imd=imd).n_unmatched_events == 1


def test_lsoa_crosswalk_split_and_merge():
    imd = _tiny_imd()
    # point 1-3 were in E01, later E91 (a split: one parent); points 4-6 later E92, formerly E02 (2) and E03 (1)
    ev = pd.DataFrame({
        "snap_point_id": [1, 2, 3, 1, 2, 4, 5, 6, 4, 5, 6, 7],
        "lsoa_code": ["E01", "E01", "E01", "E91", "E91", "E02", "E02", "E03", "E92", "E92", "E92", "E93"],
    })
    cw = lsoa_crosswalk(ev, imd=imd).set_index("lsoa_code")
    assert cw.index.tolist() == ["E91", "E92"]  # E93 has no point seen with an IMD code
    assert cw.loc["E91"].tolist() == ["E01", 2, 1, 1.0]
    assert cw.loc["E92", "imd_lsoa_code"] == "E02" and cw.loc["E92", "n_parents"] == 2
    assert cw.loc["E92", "share_points"] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hot_cells": []}, "hot_cells is empty"),
        ({"hot_cells": "h"}, "list of cell ids"),
        ({"hot_cells": ["zzz"]}, "no event in hot_cells"),
        ({"deprived_deciles": 0}, "deprived_deciles"),
        ({"deprived_deciles": 10}, "deprived_deciles"),
        ({"deprived_deciles": True}, "deprived_deciles"),
        ({"cell_col": "cell"}, r"events has no column\(s\) 'cell'"),
        ({"weight": "nope"}, "'nope'"),
        ({"imd": pd.DataFrame({"lsoa_code": ["E01"]})}, "imd has no column"),
        ({"imd": pd.DataFrame({"lsoa_code": ["E01", "E01"], "imd_rank": [1, 2], "imd_decile": [1, 1]})}, "repeats"),
        ({"lsoa_lookup": ["E99"]}, "lsoa_lookup must be"),
    ],
)
def test_hotspot_deprivation_bad_inputs(kwargs, match):
    args = {"hot_cells": ["h"], "imd": _tiny_imd(), **kwargs}
    hot = args.pop("hot_cells")
    with pytest.raises(ParameterError, match=match):
        hotspot_deprivation(_tiny_events(), hot, **args)


def test_negative_weight_is_refused():
    ev = _tiny_events().assign(harm=[-1.0] + [1.0] * 8)
    with pytest.raises(ParameterError, match="negative"):
        hotspot_deprivation(ev, ["h"], imd=_tiny_imd(), weight="harm")


# ----------------------------------------------------------------------------- venue_concentration

X0, Y0 = 370000.0, 160000.0  # near Bath: real BNG coordinates (small ones look like degrees and are refused)
SQUARE = shapely.box(X0, Y0, X0 + 2000, Y0 + 2000)  # 4 km2 study area, EPSG:27700 metres


def _pts(x, y):
    return pd.DataFrame({"x": X0 + np.asarray(x, dtype=np.float64), "y": Y0 + np.asarray(y, dtype=np.float64)})


def test_buffer_area_of_one_isolated_venue_is_pi_r_squared():
    venues = _pts([1000.0], [1000.0])
    ev = _pts([10.0], [10.0])
    res = venue_concentration(ev, venues, distance_m=100, area=SQUARE)
    assert res.near_area_km2 * 1e6 == pytest.approx(math.pi * 100**2, rel=5e-4)  # 128-gon inscribed: -0.04%
    assert res.area_share == pytest.approx(math.pi * 100**2 / 4e6, rel=5e-4)
    assert res.study_area_km2 == pytest.approx(4.0)


def test_buffer_clipped_at_corner_and_overlap_counted_once():
    # a venue on the corner of the square: a quarter of its disc is inside
    res = venue_concentration(_pts([5.0], [5.0]), _pts([0.0], [0.0]),
                              distance_m=100, area=SQUARE)
    assert res.near_area_km2 * 1e6 == pytest.approx(math.pi * 100**2 / 4, rel=5e-4)
    # two venues 100 m apart, r = 100: union = 2 pi r^2 - lens, lens = 2 r^2 acos(d / 2r) - (d / 2) sqrt(4 r^2 - d^2)
    r, d = 100.0, 100.0
    lens = 2 * r**2 * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r**2 - d**2)
    res = venue_concentration(_pts([5.0], [5.0]),
                              _pts([950.0, 1050.0], [1000.0, 1000.0]), distance_m=r, area=SQUARE)
    assert res.near_area_km2 * 1e6 == pytest.approx(2 * math.pi * r**2 - lens, rel=5e-4)


VENUES = _pts([300.0, 700.0, 1000.0, 1400.0, 1700.0], [300.0, 1500.0, 1000.0, 400.0, 1700.0])


def _disc_points(rng, n, radius):
    k = rng.integers(0, len(VENUES), n)
    r = radius * np.sqrt(rng.random(n))
    t = rng.random(n) * 2 * np.pi
    vx, vy = VENUES["x"].to_numpy()[k], VENUES["y"].to_numpy()[k]
    return pd.DataFrame({"x": vx + r * np.cos(t), "y": vy + r * np.sin(t)})


def _uniform_points(rng, n):
    return _pts(rng.random(n) * 2000, rng.random(n) * 2000)


def test_planted_cluster_near_venues_is_significant():
    rng = np.random.default_rng(3)
    ev = pd.concat([_disc_points(rng, 200, 45.0), _uniform_points(rng, 50)], ignore_index=True)
    other = _uniform_points(rng, 2000)
    res = venue_concentration(ev, VENUES, distance_m=50, area=SQUARE, other_events=other)
    area_share = 5 * math.pi * 50**2 / 4e6
    assert res.area_share == pytest.approx(area_share, rel=5e-4)
    assert res.n_events_near >= 200 and res.event_share >= 0.8
    assert res.location_quotient > 50 and res.binomial_p < 1e-12
    assert res.relative_share > 10 and res.fisher_p < 1e-12
    assert "the better test" in res.finding
    json.dumps(res.to_dict(), allow_nan=False)


def test_uniform_events_give_quotient_near_one():
    rng = np.random.default_rng(4)
    ev = _uniform_points(rng, 20000)
    other = _uniform_points(rng, 20000)
    res = venue_concentration(ev, VENUES, distance_m=50, area=SQUARE, other_events=other)
    # expected near count 20000 * 0.0098 = 196 (sd 14)
    assert 0.8 < res.location_quotient < 1.2
    assert res.binomial_p > 0.01 and res.fisher_p > 0.01
    assert 0.8 < res.relative_share < 1.2


def test_fisher_against_hand_hypergeometric():
    # VAWG: 6 of 10 near; other crime: 3 of 10 near -> P(X >= 6), X ~ Hypergeom(N=20, K=9, n=10)
    venues = _pts([1000.0], [1000.0])
    ev = _pts([1000.0] * 6 + [100.0] * 4, [1000.0] * 6 + [100.0] * 4)
    other = _pts([1000.0] * 3 + [100.0] * 7, [1000.0] * 3 + [100.0] * 7)
    res = venue_concentration(ev, venues, distance_m=50, area=SQUARE, other_events=other)
    p = sum(math.comb(9, x) * math.comb(11, 10 - x) for x in range(6, 10)) / math.comb(20, 10)
    assert res.fisher_p == pytest.approx(p)
    assert res.odds_ratio == pytest.approx((6 * 7) / (4 * 3))
    assert res.relative_share == pytest.approx(2.0)


def test_events_outside_study_area_are_left_out_and_inputs_unchanged():
    venues = _pts([1000.0], [1000.0])
    ev = _pts([1000.0, 5000.0, 2000.0], [1000.0, 5000.0, 2000.0])  # (2000, 2000) on the edge
    before = ev.copy()
    res = venue_concentration(ev, venues, distance_m=50, area=SQUARE)
    pd.testing.assert_frame_equal(ev, before)
    assert (res.n_events, res.n_events_outside, res.n_events_near) == (2, 1, 1)
    assert res.n_other is None and math.isnan(res.fisher_p)
    assert res.to_dict()["fisher_p"] is None


def test_study_area_from_h3_cells():
    import h3

    from hotspots.grid import cells_to_polygons

    cells = list(h3.grid_disk(h3.latlng_to_cell(51.3813, -2.359, 9), 2))
    centre = cells_to_polygons(cells, crs="EPSG:27700").union_all().centroid
    venues = pd.DataFrame({"x": [centre.x], "y": [centre.y]})
    ev = pd.DataFrame({"x": [centre.x + 10], "y": [centre.y]})
    res = venue_concentration(ev, venues, distance_m=30, cells=cells)
    expected_km2 = sum(h3.cell_area(c, unit="km^2") for c in cells)  # spherical areas; BNG differs by < 1%
    assert res.study_area_km2 == pytest.approx(expected_km2, rel=0.01)
    assert res.near_area_km2 * 1e6 == pytest.approx(math.pi * 30**2, rel=5e-4)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"distance_m": 0}, "distance_m must be a positive"),
        ({"distance_m": float("nan")}, "distance_m must be a positive"),
        ({"area": None}, "exactly one of area= .* or cells="),
        ({"cells": ["89195da49b7ffff"]}, "exactly one of area="),
        ({"area": shapely.box(-3, 51, -2, 52)}, "longitude/latitude"),
        ({"area": "Bath"}, "area must be a shapely polygon"),
        ({"area": shapely.box(X0 + 5000, Y0 + 5000, X0 + 6000, Y0 + 6000)}, "none of the 1 events is inside"),
        ({"area": shapely.LineString([(X0, Y0), (X0 + 1, Y0 + 1)])}, "no area"),
        ({"venues": _pts([], [])}, "venues has no rows"),
        ({"venues": pd.DataFrame({"lng": [1.0]})}, r"venues has no column\(s\) x, y"),
        ({"quad_segs": 0}, "quad_segs"),
    ],
)
def test_venue_concentration_bad_inputs(kwargs, match):
    args = {"venues": _pts([100.0], [100.0]), "area": SQUARE, **kwargs}
    venues = args.pop("venues")
    with pytest.raises(ParameterError, match=match):
        venue_concentration(_pts([100.0], [100.0]), venues, **args)


def test_area_geoseries_needs_bng():
    import geopandas as gpd

    gs = gpd.GeoSeries([SQUARE], crs="EPSG:27700")
    ev = _pts([100.0], [100.0])
    venues = _pts([100.0], [100.0])
    assert venue_concentration(ev, venues, area=gpd.GeoDataFrame(geometry=gs)).n_events_near == 1
    with pytest.raises(ParameterError, match="to_crs"):
        venue_concentration(ev, venues, area=gs.to_crs(4326))
    with pytest.raises(ParameterError, match="no CRS"):
        venue_concentration(ev, venues, area=gpd.GeoSeries([SQUARE]))


# ----------------------------------------------------------------------------- real data smoke


@pytest.fixture(scope="module")
def puk_events():
    from hotspots.grid import latlng_to_cells
    from hotspots.ingest.police_uk import read_police_uk

    ev = read_police_uk([PUK_DIR]).events.to_pandas()
    return ev.assign(h3_cell=latlng_to_cells(ev["lat"].to_numpy(), ev["lng"].to_numpy(), resolution=9))


@pytest.mark.slow
def test_avon_and_somerset_events_get_a_decile(puk_events, imd_full):
    ev = puk_events
    english = ev["lsoa_code"].str.startswith("E")
    assert english.mean() > 0.999  # a handful of Welsh LSOAs over the Severn
    early = ev["month"].astype(str) < "2023-05"  # police.uk used LSOA 2011 codes until mid-2023
    assert ev.loc[early, "lsoa_code"].isin(imd_full["lsoa_code"]).mean() > 0.99
    # afterwards LSOA 2021 codes: about 10% of events are in LSOAs that changed (Bristol centre among them)
    assert ev.loc[~early, "lsoa_code"].isin(imd_full["lsoa_code"]).mean() < 0.95
    cw = lsoa_crosswalk(ev, imd=imd_full)
    assert (cw["n_parents"] == 1).mean() > 0.8
    vawg = ev[ev["crime_type"].isin(["Violence and sexual offences", "Public order"])]
    top = vawg["h3_cell"].value_counts().index[:15].tolist()
    res = hotspot_deprivation(vawg, top, imd=imd_full, lsoa_lookup=cw)
    assert res.match_rate > 0.99
    assert res.n_hotspot_events == vawg["h3_cell"].isin(top).sum()
    # the force's LSOAs are less deprived than England's (mean decile above 5.5), its busiest VAWG cells are not
    assert res.force_lsoa_mean_decile > 5.5
    assert res.hotspot_mean_decile < res.force_mean_decile
    assert res.mw_lsoas_p < 0.05
