"""End to end: profiles.pipeline.run on two real months (one missing between them) with the real force boundary."""

from __future__ import annotations

import json
import os
import re

import geopandas as gpd
import pandas as pd
import pytest
from conftest import DATA, ROOT

from hotspots.config import load_config
from hotspots.io import RUN_RECORD, read_events, verify_output
from profiles import pipeline

pytestmark = pytest.mark.slow

RESTRICTED = [
    "events.parquet",
    "quarantine.csv",
    "reconciliation.json",
    "grid_h3r9.parquet",
    "grid_h3r9.geojson",
    "counts_h3r9_monthly.parquet",
    "grid_fused.parquet",
    "place_scores.csv",
    "perception_gap.csv",
    "venue_risk.csv",
    "risky_facilities.csv",
    "kde_recorded_harm.tif",
    "kde_recorded_harm.tif.json",
    "perception_gap_log2.tif",
    "report.html",
    "map.html",
    "summary.json",
    "figures/trend.png",
    "figures/kde.png",
    "sources/rms/events.parquet",
    "sources/streetsafe/quarantine.csv",
    "sources/ae/reconciliation.json",
    "sources/venues/events.parquet",
    "run.json",
    RUN_RECORD,
]
SHARED = ["shared/report.html", "shared/map.html", "shared/summary.json"]
GONE = ["index.html", "map_interest_h3r9.html", "map_interest_h3r9.png", "kde_overlay.png", "shared/kde_overlay.png"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("profile")
    cfg_text = (ROOT / "configs" / "avon-and-somerset.toml").read_text(encoding="utf-8")
    cfg_text = cfg_text.replace(
        'police_uk = ["../data/policeuk/avon-and-somerset"]', 'police_uk = ["PUK/2023-01", "PUK/2023-03"]'
    )
    cfg_text = cfg_text.replace("../data", str(DATA)).replace("PUK", str(DATA / "policeuk" / "avon-and-somerset"))
    p = tmp / "force.toml"
    p.write_text(cfg_text, encoding="utf-8")
    out = tmp / "out"
    result = pipeline.run(load_config(p), out, share=True, progress=False)
    return out, result


def test_outputs_written_and_old_demo_page_gone(built):
    out, result = built
    for name in RESTRICTED + SHARED:
        assert (out / name).stat().st_size > 0, name
    for name in GONE:
        assert not (out / name).exists(), name
    assert verify_output(out) == []  # every file listed in the completion record, nothing else
    listed = {os.path.relpath(p, out) for p in result["outputs"].values()}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert listed == on_disk


def test_shared_version_has_no_restricted_tables(built):
    out, _ = built
    shared = {p.relative_to(out / "shared").as_posix() for p in (out / "shared").rglob("*") if p.is_file()}
    assert not [n for n in shared if n.endswith((".csv", ".parquet", ".geojson", ".tif"))]
    restricted = json.loads((out / "summary.json").read_text())
    partner = json.loads((out / "shared" / "summary.json").read_text())
    assert partner["disclosure"]["handling"] != restricted["disclosure"]["handling"]


def test_files_are_private(built):
    out, _ = built
    for p in [out, *out.rglob("*")]:
        want = 0o700 if p.is_dir() else 0o600
        assert p.stat().st_mode & 0o777 == want, p


def test_events_geoparquet_reads_back(built):
    out, _ = built
    ev = read_events(out / "events.parquet")
    assert ev.crs.to_epsg() == 27700
    assert str(ev["month"].dtype) == "period[M]"
    assert (ev.geometry.x == ev["x"]).all() and (ev.geometry.y == ev["y"]).all()
    assert set(ev["month"].astype(str)) == {"2023-01", "2023-03"}


def test_grid_totals_and_gaps(built):
    out, result = built
    rec = result["reconciliation"]
    grid = gpd.read_parquet(out / "grid_h3r9.parquet")
    ev = read_events(out / "events.parquet", columns=["in_force_area", "crime_type"])
    inside = ev[ev["in_force_area"]]
    assert grid["count_all"].sum() == len(inside)  # conserved: every in-area event in exactly one cell
    interest = inside["crime_type"].isin(["Violence and sexual offences", "Public order"]).sum()
    assert grid["count_interest"].sum() == interest
    assert grid["in_study_area"].sum() > 40000  # every cell of the force area, not just occupied ones
    assert rec["coverage"]["Avon and Somerset Constabulary"]["missing_months"] == ["2023-02"]
    geo = gpd.read_file(out / "grid_h3r9.geojson")
    assert len(geo) == int((grid["count_all"] > 0).sum()) and geo["count_all"].sum() == len(inside)
    monthly = pd.read_parquet(out / "counts_h3r9_monthly.parquet")
    assert monthly["count"].sum() == len(inside)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("OFFICIAL") >= 2 and "2023-02" in html
    assert "Open Government Licence" in html


def test_csv_tables_name_synthetic_sources(built):
    out, _ = built
    for name in ("place_scores.csv", "perception_gap.csv", "venue_risk.csv", "risky_facilities.csv"):
        tag = pd.read_csv(out / name, usecols=["synthetic_sources"])["synthetic_sources"]
        assert set(tag) == {"ae;rms;streetsafe"}, name


def test_run_record_echoes_config_params_hashes_and_stages(built):
    out, result = built
    run_rec = json.loads((out / "run.json").read_text())
    assert run_rec == json.loads(json.dumps(result["run"], default=str))
    assert run_rec["config"]["grid"]["h3_resolution"] == 9
    assert run_rec["config"]["offences"]["definition_version"] == "police-uk-categories-v1"
    assert all(re.fullmatch(r"[0-9a-f]{64}", i["sha256"]) for i in run_rec["inputs"])
    assert len(run_rec["inputs"]) == 2
    assert run_rec["security_classification"] == "OFFICIAL-SENSITIVE"
    assert run_rec["params"]["kde"]["radius_m"] > 0 and "gi_star" in run_rec["params"]
    assert set(run_rec["sources"]) == {"rms", "streetsafe", "ae", "venues"}
    assert run_rec["synthetic_sources"] == ["ae", "rms", "streetsafe"]
    grid = gpd.read_parquet(out / "grid_h3r9.parquet")
    assert run_rec["grid"]["count_all_total"] == int(grid["count_all"].sum()) == run_rec["grid"]["events_gridded"]
    stages = run_rec["stage_seconds"]
    assert list(stages) == ["load sources", "numbers", "render (restricted)", "disclosure control",
                            "render (shared)", "write"]
    assert run_rec["total_seconds"] == pytest.approx(sum(stages.values()), abs=0.01)


def test_no_share_writes_no_shared_folder(built, tmp_path):
    out, result = built
    cfg_path = next(p for p in out.parent.glob("force.toml"))
    second = pipeline.run(load_config(cfg_path), tmp_path / "out", share=False, progress=False)
    assert second["shared"] is None and not (tmp_path / "out" / "shared").exists()
    assert "disclosure control" not in second["run"]["stage_seconds"]


def test_prefixed_and_stages():
    assert pipeline.prefixed("shared/", {"a.html": "x", "figures/b.png": b"y"}) == {
        "shared/a.html": "x",
        "shared/figures/b.png": b"y",
    }
    ticks = iter([1.0, 3.5])
    stages = pipeline.Stages(clock=lambda: next(ticks))
    with stages("a"):
        pass
    assert stages.seconds == {"a": 2.5}
