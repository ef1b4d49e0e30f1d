"""End to end: the demo profile on two real months with the real force boundary."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from conftest import DATA, ROOT

from hotspots.config import load_config
from hotspots.io import read_events
from profiles.force_profile import run


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
    result = run(load_config(p), out_dir=out, progress=False)
    return out, result


def test_outputs_written(built):
    out, _ = built
    for name in [
        "events.parquet",
        "quarantine.csv",
        "reconciliation.json",
        "grid_h3r9.parquet",
        "grid_h3r9.geojson",
        "counts_h3r9_monthly.parquet",
        "index.html",
        "map_interest_h3r9.html",
        "map_interest_h3r9.png",
        "run.json",
    ]:
        assert (out / name).stat().st_size > 0, name


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
    html = (out / "index.html").read_text(encoding="utf-8")
    assert html.count("OFFICIAL") >= 2 and "Missing months: 2023-02" in html
    assert "Open Government Licence v3.0" in html
    assert "main map point" in html and "On or near" in html  # top cells are described by place
    monthly = pd.read_parquet(out / "counts_h3r9_monthly.parquet")
    assert monthly["count"].sum() == len(inside)


def test_run_record_echoes_config_and_hashes(built):
    out, _ = built
    run_rec = json.loads((out / "run.json").read_text())
    assert run_rec["config"]["grid"]["h3_resolution"] == 9
    assert run_rec["config"]["offences"]["definition_version"] == "police-uk-categories-v1"
    assert all(len(i["sha256"]) == 64 for i in run_rec["inputs"])
    assert run_rec["security_classification"] == "OFFICIAL-SENSITIVE"


def test_describe_cells_hand_case():
    import h3

    from profiles.force_profile import describe_cells

    ev = pd.DataFrame(
        {
            "lat": [51.3813, 51.3813, 51.3813, 51.45],
            "lng": [-2.3590, -2.3590, -2.3590, -2.58],
            "location": ["On or near Nightclub", "On or near Nightclub", "On or near High Street", "On or near Park"],
            "lsoa_name": ["Bath 010A", "Bath 010A", "Bath 010A", "Bristol 032B"],
        }
    )
    cell = h3.latlng_to_cell(51.3813, -2.3590, 9)
    d = describe_cells(ev, [cell], resolution=9)
    assert d.loc[cell, "top_location"] == "On or near Nightclub"
    assert d.loc[cell, "top_location_share"] == pytest.approx(2 / 3)
    assert d.loc[cell, "top_lsoa_name"] == "Bath 010A"
    assert len(d) == 1
