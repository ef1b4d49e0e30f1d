"""The planners' app builders (profiles.planner, profiles.render.deck) against planted truths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspots.grid import cells_to_str, latlng_to_cells
from profiles import planner as P
from profiles.render.deck import BANDS, band_colours, hex_deck, legend_rows


def _data(events: pd.DataFrame) -> P.PlannerData:
    return P.PlannerData(force="Test", marking="OFFICIAL", handling="h", events=events, police=events.iloc[:0],
                         venues=None, boundary=[], local_authorities=[], towns=pd.DataFrame(columns=["name", "lng",
                                                                                                      "lat"]),
                         study_cells=np.array([]), months=("2024-03",), synthetic_sources=(),
                         spacetime=pd.DataFrame(columns=["h3_cell", "st_class"]))


def _events() -> pd.DataFrame:
    lat = np.array([51.455, 51.455, 51.455, 51.40, 51.40])
    lng = np.array([-2.59, -2.59, -2.59, -2.50, -2.50])
    h9 = latlng_to_cells(lat, lng, resolution=9)
    t_from = pd.to_datetime(["2024-03-01 21:30", "2024-03-01 23:30", "2024-03-04 10:00", None, "2024-03-02 01:00"])
    t_to = pd.to_datetime(["2024-03-01 22:30", None, None, None, None])
    return pd.DataFrame({
        "source": ["rms", "rms", "rms", "police_uk", "ae"], "synthetic": False, "x": [0.0] * 5, "y": [0.0] * 5,
        "lng": lng, "lat": lat, "month": pd.PeriodIndex(["2024-03"] * 5, freq="M"), "t_from": t_from,
        "t_to": t_to, "time_resolved": [True, True, True, False, True], "vawg_group": "x",
        "harm_weight": [10.0, 20.0, 30.0, 40.0, 50.0], "h3_9": h9,
        "h3_10": latlng_to_cells(lat, lng, resolution=10)})


def test_night_selection_by_hand():
    d = _data(_events())
    # Friday 21:00-03:00: the 21:30-22:30 window (all of it), the 23:30 point, and Saturday 01:00 (A&E) count;
    # Monday 10:00 does not; police.uk (month only) is left out and said so
    sub, w, notes = P.select(d, P.Filters(sources=("rms", "ae", "police_uk"), weekday="Fri", hours=(21, 3)))
    assert sorted(sub["source"]) == ["ae", "rms", "rms"] and np.allclose(sorted(w), [1, 1, 1])
    assert notes and "month only" in notes[0] and "(1 records)" in notes[0]
    # 22:00-03:00 takes half of the 21:30-22:30 window (aoristic), and the 23:30 point whole
    sub, w, _ = P.select(d, P.Filters(sources=("rms",), weekday="Fri", hours=(22, 3)))
    assert sorted(w.round(3).tolist()) == [0.5, 1.0]
    sub, w, _ = P.select(d, P.Filters(sources=("rms",), weekday="Fri", hours=(23, 3)))
    assert sorted(w.round(3).tolist()) == [1.0]  # only the 23:30 point
    # harm weights multiply the share
    sub, w, _ = P.select(d, P.Filters(sources=("rms",), weekday="Fri", hours=(21, 3), harm=True))
    assert sorted(w.tolist()) == [10.0, 20.0]
    # no time filter: police.uk is in, everything counts 1
    sub, w, notes = P.select(d, P.Filters(sources=("police_uk", "rms")))
    assert len(sub) == 4 and w.sum() == 4 and not notes


def test_hex_table_adds_up():
    ev = _events()
    t = P.hex_table(ev, np.ones(len(ev)))
    assert t["value"].sum() == len(ev) and t["value"].iloc[0] == 3
    assert t["h3_cell"].iloc[0] == cells_to_str(ev["h3_9"].to_numpy()[:1])[0]
    t10 = P.hex_table(ev, np.ones(len(ev)), resolution=10)
    assert t10["h3_cell"].str[1].eq("a").all()  # resolution 10 ids


def test_venues_open_reads_closing_times():
    v = pd.DataFrame({"name": ["Late", "Early", "Unknown"], "kind": "Pub/bar", "x": 0.0, "y": 0.0,
                      "closing_times": ["Fri 2:00; Sat 2:30", "Fri 23:00", ""]})
    got = P.venues_open(v, "Fri", 23).set_index("name")
    assert got.loc["Late", "closes"] == "02:00" and got.loc["Late", "open"] == "yes"
    assert got.loc["Early", "open"] == "closed" and got.loc["Unknown", "open"] == "not known"
    assert P.venues_open(v, "Fri", 1).set_index("name").loc["Late", "open"] == "yes"
    assert P.venues_open(v, "Fri", 3).set_index("name").loc["Late", "open"] == "closed"


def test_synthetic_rankings_never_name_a_real_place():
    ev = _events().assign(synthetic=True)
    d = _data(ev)
    sub, w, _ = P.select(d, P.Filters(sources=("rms",)))
    places = P.ranked_places(d, P.hex_table(sub, w), sub)
    assert places["place"].str.contains("SYNTHETIC").all() and (places["grid_ref"] == "").all()


def test_shared_hex_table_drops_withheld_and_zero():
    class _F:
        grids = {"all": pd.DataFrame({"h3_cell": ["89195839223ffff", "89195876c93ffff", "8919583922fffff"],
                                      "source": "rms", "count": pd.array([12, pd.NA, 0], dtype="Int64")})}

    class _N:
        fused = _F()

    t = P.shared_hex_table(_N(), "rms")
    assert t["value"].tolist() == [12.0]


def test_band_colours_and_legend():
    b, edges = band_colours(np.arange(1, 11, dtype=float))
    assert b.min() == 0 and b.max() == 4 and edges[0] == 1 and edges[-1] == 10
    rows = legend_rows(np.arange(1, 11, dtype=float), unit="records a cell")
    r, g, b = BANDS[0]
    assert len(rows) == 5 and rows[0]["colour"] == f"#{r:02x}{g:02x}{b:02x}" and "records a cell" in rows[0]["range"]


def test_deck_has_no_base_map_and_sends_only_drawn_cells():
    t = pd.DataFrame({"h3_cell": ["89195839223ffff", "89195876c93ffff", "8919583922fffff"],
                      "value": [5.0, 0.0, 2.0], "count": [5.0, 0.0, 2.0]})
    d = hex_deck(t, value_label="records", view=(51.45, -2.59, 10), boundary=[[[-2.6, 51.4], [-2.5, 51.5]]])
    j = d.to_json()
    assert '"mapProvider"' not in j or '"mapProvider": null' in j
    assert "http" not in j.split('"mapStyle"')[1][:200]  # an inline style: nothing fetched
    hexes = next(layer for layer in d.layers if layer.type == "H3HexagonLayer")
    assert len(hexes.data) == 2  # the zero cell is not sent
    assert "@@=pixels" not in j  # literal strings are not expressions


@pytest.mark.parametrize("day,hours,n", [("Fri", (21, 6), 9), ("Sun", (23, 1), 2), (None, (0, 24), 168)])
def test_night_pairs(day, hours, n):
    assert len(P.night_pairs(day, hours)) == n


def test_shared_police_uk_comes_from_the_shared_hotspot_counts():
    class _F:
        grids = {"all": pd.DataFrame({"h3_cell": ["89195839223ffff"], "source": "rms", "count": [40]})}

    class _H:
        counts = pd.DataFrame({"h3_cell": ["89195839223ffff", "89195876c93ffff"],
                               "count": pd.array([25, pd.NA], dtype="Int64")})

    class _N:
        fused = _F()
        hotspots = _H()

    assert P.shared_hex_table(_N(), "police_uk")["value"].tolist() == [25.0]
    assert P.shared_hex_table(_N(), "rms")["value"].tolist() == [40.0]


def test_briefing_is_marked_escaped_and_one_page():
    import shutil

    from profiles.render.briefing import briefing_html, briefing_pdf

    places = pd.DataFrame({"rank": [1], "place": ["<script>alert(1)</script> =SUM(A1)"], "per_night": [2.25],
                           "grid_ref": ["ST 5897 7319"]})
    meta = {"marking": "OFFICIAL-SENSITIVE", "handling": "h", "force": "Test", "night": "Fri", "basis": "b",
            "synthetic": False, "notes": [], "created": "now", "source": "s"}
    html = briefing_html(places, meta, None)
    assert html.count("OFFICIAL-SENSITIVE") >= 3 and "<script>alert" not in html and "2.2" in html
    if shutil.which("chromium"):
        pdf = briefing_pdf(html)
        import re

        assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1


def test_tonight_with_real_time_recorded_data_names_venues_open_that_night():
    from pyproj import Transformer

    ev = _events()
    x, y = Transformer.from_crs(4326, 27700, always_xy=True).transform(ev["lng"].to_numpy(), ev["lat"].to_numpy())
    ev = ev.assign(x=x, y=y)
    police = pd.DataFrame({"h3": ev["h3_9"].to_numpy()[:1], "h3_10": ev["h3_10"].to_numpy()[:1],
                           "location": ["On or near Queen Square"], "lsoa_name": ["Bristol 032B"],
                           "x": x[:1], "y": y[:1], "lng": ev["lng"].to_numpy()[:1], "lat": ev["lat"].to_numpy()[:1],
                           "snap_point_id": [1]})
    venues = pd.DataFrame({"name": ["The Late Bar", "Far Away Inn"], "kind": "Pub/bar",
                           "closing_times": ["Fri 2:00", "Fri 2:00"], "x": [x[0] + 40, x[0] + 5000], "y": [y[0], y[0]]})
    d = P.PlannerData(force="Test", marking="OFFICIAL", handling="h", events=ev, police=police, venues=venues,
                      boundary=[], local_authorities=[], towns=pd.DataFrame(columns=["name", "lng", "lat"]),
                      study_cells=np.array([]), months=("2024-03",), synthetic_sources=(),
                      spacetime=pd.DataFrame({"h3_cell": cells_to_str(ev["h3_9"].to_numpy()[:1]),
                                              "st_class": ["persistent hotspot"]}))
    places, notes = P.tonight(d, "Fri", (21, 6), sources=("rms", "ae"))
    top = places.iloc[0]
    assert top["value"] == 2 and top["venues_nearby"] == "The Late Bar (closes 02:00)"
    assert top["hotspot_class"] == "persistent hotspot" and top["grid_ref"].startswith("ST")
    assert "Queen Square" in top["place"] and not top["synthetic"]
