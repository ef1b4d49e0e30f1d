"""The numbers stage (profiles.compute): planted signals come back, counted by hand; nothing is written.

A tiny force (a 19 x 18 km box around Bath, 24 months of police.uk crime with
one planted hot point, four RMS rapes at known times) is built in a temporary
folder; every expected number below is worked out by hand from how the rows
were written, not from the code under test. One session-scoped run of the
demo config checks the numbers against the pre-refactor demo output.
"""

from __future__ import annotations

import dataclasses
import json
import math
import statistics

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, cid, puk_row, write_puk
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.config import load_config
from hotspots.fusion import place_scores, source_grids
from hotspots.grid import cells_to_int, cells_to_latlng, cells_to_str, latlng_to_cells
from hotspots.ingest.common import bng_to_wgs84, wgs84_to_bng
from profiles.cells import CellGroups
from profiles.compute import compute_numbers, compute_profile
from profiles.findings import build_findings
from profiles.fused import fused_grids
from profiles.numbers import ProfileNumbers
from profiles.sources import load_sources
from profiles.where import describe_cells

HOT = (-2.36, 51.38)  # lng, lat of the planted hot point
MONTHS = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)]
# per month: crimes at the hot point, and scattered single crimes (one of them Public order)
HOT_PER_MONTH = [6] * 12 + [9] * 12
SCATTERED_PER_MONTH = [4] * 12 + [6] * 12
BURGLARIES_PER_MONTH = 2  # not VAWG-relevant: in the grid products, never in the VAWG numbers
RMS = [  # committed from, committed to (local time) -> share of the window inside Fri,Sat 21:00-06:00
    ("05/01/2024 22:00", "05/01/2024 23:00", 1.0),  # Friday night
    ("06/01/2024 01:00", "06/01/2024 02:00", 1.0),  # small hours of Saturday: still Friday's night
    ("06/01/2024 05:00", "06/01/2024 07:00", 0.5),  # half before 06:00
    ("09/01/2024 12:00", "09/01/2024 12:00", 0.0),  # Tuesday noon
]


def _scattered_points(n: int) -> list[tuple[float, float]]:
    """n points on a ~600 m lattice across the box (two never share a ~350 m cell), 1 km or more from the hot point."""
    pts = [
        (lng, lat)
        for lng in np.arange(-2.49, -2.23, 0.0085)
        for lat in np.arange(51.31, 51.45, 0.0054)
        if abs(lng - HOT[0]) > 0.015 or abs(lat - HOT[1]) > 0.009
    ]
    assert len(pts) >= n
    return [(round(float(x), 6), round(float(y), 6)) for x, y in pts[:n]]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny force on disk: its config path and the folder."""
    root = tmp_path_factory.mktemp("tiny")
    n_scattered = sum(SCATTERED_PER_MONTH) + BURGLARIES_PER_MONTH * len(MONTHS)
    points = iter(_scattered_points(n_scattered))
    i = 0
    for m, month in enumerate(MONTHS):
        rows = []
        for _ in range(HOT_PER_MONTH[m]):
            i += 1
            rows.append(puk_row(cid(i), month, f"{HOT[0]:.6f}", f"{HOT[1]:.6f}", "On or near Hot Street"))
        for k in range(SCATTERED_PER_MONTH[m]):
            i += 1
            lng, lat = next(points)
            kind = "Public order" if k == 0 else "Violence and sexual offences"
            rows.append(puk_row(cid(i), month, f"{lng:.6f}", f"{lat:.6f}", "On or near Side Road", crime_type=kind))
        for _ in range(BURGLARIES_PER_MONTH):
            i += 1
            lng, lat = next(points)
            rows.append(puk_row(cid(i), month, f"{lng:.6f}", f"{lat:.6f}", "On or near Lane", crime_type="Burglary"))
        write_puk(root / "puk" / month / f"{month}-avon-and-somerset-street.csv", rows)
    box = [[-2.50, 51.30], [-2.22, 51.30], [-2.22, 51.46], [-2.50, 51.46], [-2.50, 51.30]]
    (root / "boundary.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [box]}}]}),
        encoding="utf-8",
    )
    x, y = wgs84_to_bng(np.array([HOT[0]]), np.array([HOT[1]]))
    header = ("Occurrence Ref,HO Code,Offence Description,Committed From,Committed To,Easting,Northing,"
              "Location Type,DA Flag,Alcohol Flag,NTE Flag,Victim Sex,Victim Age Band,Outcome Code")
    lines = [
        f"T{j},19C,Rape of a female aged 16 and over,{a},{b},{x[0]:.0f},{y[0]:.0f},Street,N,N,N,F,25-34,15"
        for j, (a, b, _) in enumerate(RMS)
    ]
    (root / "rms.csv").write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    cfg = root / "force.toml"
    cfg.write_text(
        '[force]\nname = "Tiny Force"\nslug = "tiny"\n'
        '[data]\npolice_uk = ["puk"]\nboundary = "boundary.geojson"\n'
        '[rms]\nfiles = ["rms.csv"]\n',
        encoding="utf-8",
    )
    return cfg


@pytest.fixture(scope="module")
def numbers(tiny) -> ProfileNumbers:
    return compute_profile(load_config(tiny))


def _hot_cell(res: int = 9) -> str:
    return str(cells_to_str(latlng_to_cells(np.array([HOT[1]]), np.array([HOT[0]]), resolution=res))[0])


def test_volume_and_the_planted_hot_point_counted_by_hand(numbers):
    total = sum(HOT_PER_MONTH) + sum(SCATTERED_PER_MONTH)  # 180 + 120
    assert numbers.volume.total == total == 300
    top = numbers.hotspots.places.iloc[0]
    assert (top["rank"], top["h3_cell"], top["count"]) == (1, _hot_cell(), sum(HOT_PER_MONTH))
    assert top["label"] == "On or near Hot Street (100%)"
    assert (numbers.hotspots.places["count"].iloc[1:] == 1).all()  # every scattered crime alone in its cell
    assert _hot_cell() in numbers.hotspots.hot_cells
    # the busiest 1% of cells (rounded, at least 1): the hot cell alone holds 180 of 300
    k = max(1, round(0.01 * numbers.meta.n_study_cells))
    assert numbers.volume.top_cells == k
    assert numbers.volume.top_share == pytest.approx((180 + (k - 1)) / 300)
    assert numbers.hotspots.counts["count"].sum() == 300


def test_counts_by_threat_area_and_month_by_hand(numbers):
    totals = dict(zip(numbers.threats.totals["threat_area"], numbers.threats.totals["count"].astype(int), strict=True))
    assert totals == {"police_uk_public_order": 24, "police_uk_violence_sexual": 276, "rape": 4}
    t = numbers.threats.table.set_index(["threat_area", "month"])
    assert t.loc[("police_uk_violence_sexual", "2023-01"), "count"] == 6 + 4 - 1
    assert t.loc[("police_uk_violence_sexual", "2024-12"), "count"] == 9 + 6 - 1
    assert bool(t.loc[("rape", "2024-01"), "available"]) and not bool(t.loc[("rape", "2023-12"), "available"])
    assert numbers.threats.sources == {"police_uk_public_order": "police_uk", "police_uk_violence_sexual":
                                       "police_uk", "rape": "rms"}


def test_control_limits_and_year_on_year_by_hand(numbers):
    monthly = [h + s for h, s in zip(HOT_PER_MONTH, SCATTERED_PER_MONTH, strict=True)]  # 10 x 12, then 15 x 12
    mean, sd = statistics.mean(monthly), statistics.stdev(monthly)
    m = numbers.trend.monthly
    assert m["count"].astype(int).tolist() == monthly
    # limits from the baseline (the first 12 months, all 10): mean 10, sd 0, so every later month (15) signals
    assert m["baseline"].tolist() == [True] * 12 + [False] * 12
    base = monthly[:12]
    assert m["mean"].iloc[0] == pytest.approx(statistics.mean(base)) == 10
    assert m["ucl"].iloc[0] == pytest.approx(10 + 2 * statistics.stdev(base))
    assert (m["signal"].iloc[12:] == "above").all() and m["signal"].iloc[:12].isna().all()
    assert mean == 12.5 and sd > 0  # the whole series' limits (Phase I) would have held the shift inside them
    yoy = numbers.trend.yoy  # like for like: every month present in both years
    assert (yoy["recent"], yoy["previous"], yoy["n_pairs"]) == (180, 120, 12)
    assert yoy["change_pct"] == pytest.approx(50.0) and yoy["direction"] == "up"
    assert numbers.trend.chart["words"].startswith("12 months above the upper limit of the baseline 2023-01 to 2023-12")


def test_nte_share_by_hand(numbers):
    share = sum(s for *_, s in RMS) / len(RMS)  # 2.5 / 4
    window = 18 / 168  # Fri and Sat, 21:00-06:00
    nte = numbers.when.nte
    assert nte["share"] == pytest.approx(share) == 0.625
    assert nte["window_share"] == pytest.approx(window)
    assert nte["rate_ratio"] == pytest.approx((share / window) / ((1 - share) / (1 - window)))
    by = numbers.when.nte_by_source.set_index("source")
    assert by.loc["rms", "nte_share"] == pytest.approx(share) and by.loc["rms", "events"] == 4
    assert by.loc["police_uk", "nte_share"] is None and not by.loc["police_uk", "time_resolved"]
    assert set(numbers.when.weekday_hour) == {"rms"}
    assert numbers.when.weekday_hour["rms"].to_numpy().sum() == pytest.approx(4)


def test_fused_places_use_one_recorded_source(numbers):
    places = numbers.fused.places
    p = places.iloc[0]
    assert "police_uk_count" not in places.columns  # RMS supplied: police.uk (the same crimes) is not added
    assert numbers.fused.basis["recorded"] == "rms" and numbers.fused.basis["sources"] == ["rms"]
    assert numbers.fused.basis["months"] == ["2024-01"]  # every RMS offence is in January 2024
    assert p["h3_cell"] == _hot_cell()
    assert p["rms_count"] == 4 and p["place_score"] == pytest.approx(100.0)
    assert not p["eligible"]  # 4 recorded crimes < fusion.min_recorded (20): listed, flagged as not rankable
    assert p["label"] == "On or near Hot Street, Bath and North East Somerset 010A"
    assert numbers.fused.grids["nte_rms_ae"][["h3_cell", "count"]].values.tolist() == [[_hot_cell(), 2]]  # 2.5


def test_products_and_quality(numbers):
    grid = numbers.products.grid
    assert grid["count_all"].sum() == 300 + BURGLARIES_PER_MONTH * len(MONTHS)
    assert grid["count_interest"].sum() == 300 and grid["in_study_area"].all()
    assert numbers.products.monthly["count"].sum() == 348
    assert numbers.hotspots.split["test_months"] == MONTHS[-6:]
    q = numbers.hotspots.quality.set_index("method")
    assert list(q.index) == ["gi_star", "top_cells", "dbscan", "kde_top5pct"]
    assert q.loc["top_cells", "n_test"] == 6 * 15  # every test-month crime
    # DBSCAN: only the hot point is dense (180 crimes >= 60; 126 training crimes >= 60 * 18 / 24 = 45)
    assert len(numbers.hotspots.clusters) == 1
    # its hull is one map point (buffered 1 m): no cell centre lies inside, so the layer has no cell
    assert q.loc["dbscan", "n_cells"] == 0 and q.loc["dbscan", "n_test_hot"] == 0
    assert numbers.sources[0].rows_read == 348 and numbers.sources[1].rows_accepted == 4
    assert numbers.quality.stacking_share == pytest.approx(180 / 300)  # the hot point holds 10 or more


def test_grids_on_cells_computed_once_equal_gridding_lat_lng(tiny):
    """The cells load_sources computed once give exactly the grids of indexing every event's lat/lng."""
    s = load_sources(load_config(tiny))
    ev = s.events[s.events["in_force_area"]]
    got = fused_grids(ev, resolution=9, weighted=True)
    for name, band, weight in (("all", None, "harm_weight"), ("nte", "nte", None), ("other", "other", None)):
        want = source_grids(ev, resolution=9, band=band, weight=weight)
        pd.testing.assert_frame_equal(got[name].reset_index(drop=True), want.reset_index(drop=True))
        assert got[name].attrs == want.attrs


def test_compute_writes_nothing_and_leaves_inputs_alone(tiny, tmp_path, monkeypatch):
    def snapshot():
        return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in tiny.parent.rglob("*")}

    before = snapshot()
    monkeypatch.chdir(tmp_path)
    cfg = load_config(tiny)
    sources = load_sources(cfg)
    n = compute_numbers(cfg, sources)
    assert n.volume.total == 300
    assert list(tmp_path.iterdir()) == [] and snapshot() == before


def test_numbers_are_frozen_and_findings_rebuild_from_numbers(numbers):
    with pytest.raises(dataclasses.FrozenInstanceError):
        numbers.volume = None  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        numbers.volume.total = 1  # type: ignore[misc]
    assert build_findings(numbers) == numbers.findings
    f1 = numbers.findings.findings[0]
    assert f1.id == "F1" and f1.text.startswith("300 VAWG-relevant crimes") and f1.numbers == {"total": 300}
    withheld = dataclasses.replace(
        numbers,
        volume=dataclasses.replace(numbers.volume, total=None, top_share=None, gi_hot_share=float("nan")),
        quality=dataclasses.replace(numbers.quality, no_coordinates=None, no_coordinates_share=None,
                                    stacking_share=None),
        when=dataclasses.replace(numbers.when, nte={**numbers.when.nte, "share": None}),
    )
    f = build_findings(withheld)  # a shared version: every part that needs a withheld number is left out
    assert {x.id for x in f.findings}.isdisjoint({"F1", "F3", "F4", "F5"})
    assert {g.id for g in f.gaps}.isdisjoint({"G3", "G4"}) and "None" not in str(f) and "nan" not in str(f)


def test_parameters_come_from_the_config(tiny):
    text = tiny.read_text(encoding="utf-8") + "[hotspots.evaluation]\ntest_months = 3\n[hotspots]\ntop_places = 4\n"
    other = tiny.parent / "other.toml"
    other.write_text(text, encoding="utf-8")
    n = compute_profile(load_config(other))
    assert n.hotspots.split["test_months"] == MONTHS[-3:] and len(n.hotspots.places) == 4
    assert n.meta.params["test_months"] == 3 and n.meta.params["top_places"] == 4
    assert n.meta.params["kde"] == {"kernel": "quartic", "radius_m": 400.0, "pixel_m": 100.0, "grid": "force boundary",
                                    "output": "raw"}


def test_police_uk_alone_without_a_boundary(tiny):
    """No boundary, no partner data: the study area is the occupied cells and the partner parts are empty."""
    cfg = tiny.parent / "alone.toml"
    cfg.write_text('[force]\nname = "Alone"\nslug = "alone"\n[data]\npolice_uk = ["puk"]\n', encoding="utf-8")
    n = compute_profile(load_config(cfg))
    assert n.volume.total == 300 and n.meta.n_study_cells == 1 + 120 + 48  # hot cell, scattered, burglaries
    assert n.when.nte is None and n.venues.summary is None and n.fused.perception is None
    assert n.geography.boundary is None and n.context.deprivation is None
    assert n.fused.places.iloc[0]["police_uk_count"] == 180 and "rms_count" not in n.fused.places
    assert [f.id for f in n.findings.findings] == ["F1", "F2", "F3", "F4", "F10"]  # F10: hot spots over time


# ----------------------------------------------------------------------------------------------------------------
# the demo force, once: the numbers the pre-refactor pipeline produced (its summary.json and run.json)

# Issue 12 changed these on purpose: the combined analyses use ONE recorded-crime source (RMS, never police.uk
# added to it), public space only (RMS offences at dwellings out), A&E female patients only, the months every
# combined source covers; course-of-conduct offences are not placed in hours. The police.uk numbers are unchanged.
BASELINE_TOP = [  # rank, cell, rms, streetsafe, ae, place_score
    ("89195823073ffff", 697, 312, 114, 9.622230528006975),
    ("8919582300bffff", 675, 274, 130, 9.575058194913922),
]
BASELINE_TOTALS = {
    "ae_assault": 1147, "controlling_coercive": 1480, "da_violence": 4739, "other_sexual_offences": 1904,
    "police_uk_public_order": 29802, "police_uk_violence_sexual": 114041, "public_space_violence": 3592,
    "rape": 1224, "stalking_harassment": 4101, "streetsafe_felt_unsafe": 2998,
}
BASELINE_QUALITY = {  # method: hit_rate, pai
    "gi_star": (0.7035646430833258, 21.405362373405644),
    "top_cells": (0.4642857142857143, 46.571660265266324),
    "dbscan": (0.08741970505745046, 106.50539749000222),
    "kde_top5pct": (0.8683162942187641, 17.366184314913436),
}


@pytest.fixture(scope="module")
def demo(demo_numbers) -> ProfileNumbers:
    """The demo force's numbers (conftest's session-wide ``demo_numbers``)."""
    return demo_numbers


def test_demo_numbers_equal_the_baseline(demo):
    places = demo.fused.places
    for i, (cell, rms, ss, ae, score) in enumerate(BASELINE_TOP):
        r = places.iloc[i]
        assert (r["h3_cell"], r["rms_count"], r["streetsafe_count"], r["ae_count"]) == (cell, rms, ss, ae)
        assert r["place_score"] == pytest.approx(score, rel=1e-12)
    assert "police_uk_count" not in places.columns
    assert places["label"].iloc[0] == "Place A (SYNTHETIC ranking)"  # a synthetic ranking names no street
    assert (places["lsoa_code"].iloc[0], int(places["imd_decile"].iloc[0])) == ("E01014370", 4)
    totals = dict(zip(demo.threats.totals["threat_area"], demo.threats.totals["count"].astype(int), strict=True))
    assert totals == BASELINE_TOTALS
    q = demo.hotspots.quality.set_index("method")
    for method, (hit, pai) in BASELINE_QUALITY.items():
        assert q.loc[method, "hit_rate"] == pytest.approx(hit, rel=1e-12) and q.loc[method, "pai"] == pytest.approx(pai)
    by = demo.when.nte_by_source.set_index("source")["nte_share"]
    assert by["ae"] == pytest.approx(0.5044681778552746) and by["rms"] == pytest.approx(0.23399500324314268)
    assert by["police_uk"] is None and by["streetsafe"] is None
    assert demo.what.harm_total == pytest.approx(4875114.0)  # the RMS alone: police.uk harm is beside it, not in it
    assert demo.volume.total == 143843 and demo.meta.n_study_cells == 50973
    assert int(demo.products.grid["count_all"].sum()) == 304055
    assert demo.meta.missing_months == ("2024-07", "2024-08")
    assert demo.quality.stacking_share == pytest.approx(0.6911285220692005)
    assert [f.id for f in demo.findings.findings] == [f"F{i}" for i in range(1, 12)]
    assert demo.meta.synthetic_sources == ("ae", "rms", "streetsafe")
    assert not math.isnan(demo.volume.gi_hot_share or math.nan)


# planted signals of the demo's synthetic layers (ported from the combine stage's tests)


@pytest.fixture(scope="module")
def truth():
    path = ROOT / "data" / "synthetic" / "SYNTHETIC_rms_avon-and-somerset.synthetic.json"
    return json.loads(path.read_text(encoding="utf-8"))["ground_truth"]


def _cell_of(x: float, y: float, res: int = 9) -> str:
    lng, lat = bng_to_wgs84(np.array([x]), np.array([y]))
    return str(cells_to_str(latlng_to_cells(lat, lng, resolution=res))[0])


def test_demo_every_source_reconciles_and_synthetic_is_named(demo):
    for s in demo.sources:
        assert s.rows_read == s.rows_accepted + s.rows_quarantined, s.source
    assert [s.source for s in demo.sources] == ["police_uk", "rms", "streetsafe", "ae", "venues"]
    syn = {s.source: s.synthetic for s in demo.sources}
    assert syn == {"police_uk": False, "rms": True, "streetsafe": True, "ae": True, "venues": False}


def test_demo_planted_nte_hotspot_is_the_top_nte_place(demo, truth):
    hot = truth["planted_hotspot"]
    scores = place_scores(demo.fused.grids["nte"], sources=["rms", "ae"])
    top = scores.iloc[0]["h3_cell"]
    lat, lng = cells_to_latlng(cells_to_int([top]))
    x, y = wgs84_to_bng(np.asarray(lng), np.asarray(lat))
    assert np.hypot(x[0] - hot["x"], y[0] - hot["y"]) < hot["radius_m"] + 200
    top5 = set(demo.fused.places.head(5)["h3_cell"])
    assert _cell_of(hot["x"], hot["y"]) in top5 or top in top5


def test_demo_planted_unsafe_places_are_felt_unsafe_little_recorded(demo, truth):
    gap = demo.fused.perception.set_index("h3_cell")
    for place in truth["unsafe_places"]:
        cell = _cell_of(place["x"], place["y"])
        assert gap.loc[cell, "gap_class"] == "felt unsafe, little recorded", place["name"]
        assert gap.loc[cell, "reasons"], place["name"]  # the commonest StreetSafe answers are named


def test_demo_aoristic_tables_keep_every_time_resolved_event(demo):
    events = demo.when.nte_by_source.set_index("source")["timed"]  # course-of-conduct offences are not in hours
    for src, table in demo.when.weekday_hour.items():
        assert table.to_numpy().sum() == pytest.approx(events[src], rel=1e-9), src
    nte = demo.fused.grids["nte"].groupby("source")["count"].sum()
    other = demo.fused.grids["other"].groupby("source")["count"].sum()
    # the fused grids hold public space only: every timed A&E attendance, RMS less the offences at dwellings
    assert nte["ae"] + other["ae"] == pytest.approx(events["ae"])
    assert nte["rms"] + other["rms"] < events["rms"]


def test_demo_definitions_are_echoed(demo):
    d = demo.meta.definitions
    assert d["nte_window"] == "Fri,Sat 21:00-06:00"
    assert d["vawg_offence_table"].startswith("vawg-offences-")
    assert d["harm_index"].startswith("cambridge_chi@")
    assert "police.uk is month-only" in d["time_basis"]
    p = demo.meta.params
    assert p["dbscan"]["zoom"] == [353000.0, 168000.0, 365000.0, 177500.0] and p["dbscan"]["zoom_name"] == "Bristol"
    assert p["disclosure"] == {"release": "partner", "threshold": 10, "handling": p["disclosure"]["handling"]}


def test_demo_police_uk_is_never_placed_in_hours(demo):
    by = demo.when.nte_by_source.set_index("source")
    assert by.loc["police_uk", "nte_share"] is None and not by.loc["police_uk", "time_resolved"]
    assert "police_uk" not in demo.when.weekday_hour
    assert "police_uk" not in set(demo.fused.grids["nte"]["source"])
    assert "police_uk" not in set(demo.fused.grids["all"]["source"])  # RMS is the one recorded-crime source


# ----------------------------------------------------------------------------------------------------------------
# counting on cells computed once: pandas groupby is the oracle


@settings(max_examples=60, deadline=None)
@given(
    cells=st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=60),
    keys=st.data(),
)
def test_cell_groups_equal_pandas_groupby(cells, keys):
    n = len(cells)
    names = keys.draw(st.lists(st.sampled_from(["b", "a", "c"]), min_size=n, max_size=n))
    weights = keys.draw(st.lists(st.floats(min_value=0, max_value=10), min_size=n, max_size=n))
    h3 = np.asarray(cells, dtype=np.uint64) + np.uint64(617439010317926399)
    g = CellGroups(h3, pd.Series(names, dtype="category"))
    want = pd.DataFrame({"c": h3, "k": names, "w": weights}).groupby(["c", "k"])["w"].agg(["size", "sum"])
    assert list(zip(g.cells.tolist(), g.keys[0].tolist(), strict=True)) == list(want.index)
    assert g.count().tolist() == want["size"].tolist()
    np.testing.assert_allclose(g.sum(np.asarray(weights)), want["sum"].to_numpy())


def test_describe_cells_picks_the_commonest_point_and_lsoa_ties_alphabetical():
    a, b = cells_to_int(["89195823073ffff", "89195823077ffff"])
    h3 = np.array([a, a, a, a, b, b], dtype=np.uint64)
    ev = pd.DataFrame({
        "h3": h3,
        "location": ["On or near B", "On or near A", "On or near B", "On or near A", "On or near Z", "On or near Y"],
        "lsoa_name": ["L2", "L2", "L1", "L1", "L9", "L9"],
    })
    cells = ["89195823073ffff", "89195823077ffff"]
    got = describe_cells(ev, cells).reindex(cells)
    assert got["top_location"].tolist() == ["On or near A", "On or near Y"]  # 2-2 and 1-1 ties: first by name
    assert got["top_location_share"].tolist() == [0.5, 0.5] and got["top_lsoa_name"].tolist() == ["L1", "L9"]
    assert describe_cells(ev, [cells[1]]).index.tolist() == [cells[1]]


def test_synthetic_incidents_never_rank_a_real_named_venue(demo):
    """The demo's venue ranking rests on synthetic RMS/A&E: every name is a stand-in, no real id or address left."""
    real = set(pd.concat([pd.read_csv(p, usecols=[1], encoding="latin-1").iloc[:, 0]
                          for p in sorted((ROOT / "data" / "venues").glob("Open_Pubs*.csv"))]).astype(str))
    assert "Slug And Lettuce" in real  # the open data does name it
    risk, risky = demo.venues.risk, demo.venues.risky
    assert risk["name"].str.fullmatch(r"Venue [A-Z]+").all()
    assert risk.sort_values("risk_rank")["name"].iloc[0] == "Venue A" == demo.venues.summary["top_name"]
    assert not (set(risk["name"]) | set(risky["name"])) & real
    assert (risk["postcode"] == "").all() and (risk["address"] == "").all()
    assert not risk["venue_id"].str.contains(":").any()  # no open_pubs:NNN / fhrs:NNN id
    text = " ".join(f.text for f in demo.findings.findings) + " ".join(
        f"{r.text} {r.place}" for r in demo.findings.recommendations)
    assert not any(name in text for name in real if len(name) > 4)
