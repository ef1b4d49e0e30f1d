"""The combine stage on the demo force: planted signals come back out of the fused grids."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hotspots.config import load_config
from hotspots.grid import _cells_to_str, latlng_to_cells
from hotspots.ingest.common import bng_to_wgs84
from tests.conftest import DATA, ROOT


@pytest.fixture(scope="module")
def combined(tmp_path_factory):
    from profiles.combine import combine_sources

    cfg = load_config(ROOT / "configs" / "avon-and-somerset.toml")
    return combine_sources(cfg, out_dir=tmp_path_factory.mktemp("combine"))


@pytest.fixture(scope="module")
def truth():
    return json.loads((DATA / "synthetic" / "SYNTHETIC_rms_avon-and-somerset.synthetic.json").read_text())[
        "ground_truth"
    ]


def _cell(x, y, res=9):
    lng, lat = bng_to_wgs84(np.array([x]), np.array([y]))
    return _cells_to_str(latlng_to_cells(lat, lng, resolution=res))[0]


def test_every_source_reconciles_and_synthetic_is_named(combined):
    for name, rec in combined.reconciliations.items():
        t = rec["total"]
        assert t["rows_read"] == t["rows_accepted"] + t["rows_quarantined"], name
    assert combined.synthetic_sources == ["ae", "rms", "streetsafe"]
    assert not combined.events.loc[combined.events["source"] == "police_uk", "synthetic"].any()


def test_planted_nte_hotspot_is_the_top_nte_place(combined, truth):
    from hotspots.fusion import place_scores

    hot = truth["planted_hotspot"]
    nte = combined.grids["nte"]
    scores = place_scores(nte, sources=["rms", "ae"])
    # the planted place spans its cell and the neighbours; the top NTE cell must be within the planted radius + a cell
    top = scores.iloc[0]["h3_cell"]
    import h3

    lat, lng = h3.cell_to_latlng(top)
    from hotspots.ingest.common import wgs84_to_bng

    x, y = wgs84_to_bng(np.array([lng]), np.array([lat]))
    assert np.hypot(x[0] - hot["x"], y[0] - hot["y"]) < hot["radius_m"] + 200
    # and it is among the top places on the all-hours fused score too
    assert _cell(hot["x"], hot["y"]) in set(combined.places.head(5)["h3_cell"]) or top in set(
        combined.places.head(5)["h3_cell"]
    )


def test_planted_unsafe_places_are_felt_unsafe_little_recorded(combined, truth):
    gap = combined.perception.set_index("h3_cell")
    for place in truth["unsafe_places"]:
        cell = _cell(place["x"], place["y"])
        assert gap.loc[cell, "gap_class"] == "felt unsafe, little recorded", place["name"]


def test_aoristic_tables_keep_every_time_resolved_event(combined):
    ev = combined.events[combined.events["in_force_area"]]
    for src, table in combined.weekday_hour.items():
        n = int((ev["source"] == src).sum())
        assert table.to_numpy().sum() == pytest.approx(n, rel=1e-9), src
    # banded grids: nte + other = every time-resolved event, per source
    nte = combined.grids["nte"].groupby("source", observed=True)["count"].sum()
    other = combined.grids["other"].groupby("source", observed=True)["count"].sum()
    for src in ("rms", "ae"):
        assert nte[src] + other[src] == pytest.approx(int((ev["source"] == src).sum()))


def test_definitions_are_echoed(combined):
    d = combined.definitions
    assert d["nte_window"] == "Fri,Sat 21:00-06:00"
    assert d["vawg_offence_table"].startswith("vawg-offences-")
    assert d["harm_index"].startswith("cambridge_chi@")
    assert "police.uk is month-only" in d["time_basis"]


def test_police_uk_is_never_placed_in_hours(combined):
    puk = combined.events[combined.events["source"] == "police_uk"]
    assert puk["nte_share"].isna().all() and not puk["time_resolved"].any()
    assert "police_uk" not in combined.weekday_hour


def test_fused_tables_say_which_sources_are_synthetic(combined):
    import pandas as pd

    places = pd.read_csv(combined.outputs["place_scores"])
    assert set(places["synthetic_sources"]) == {"ae;rms;streetsafe"}
