"""What each analysis counts: one recorded-crime source, public space, female A&E patients, course of conduct.

Independent truths: hand-built RMS files whose rows are counted by eye, the raw demo CSVs read with pandas,
and planted place-score cases.
"""

from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.fusion import place_scores
from hotspots.ingest.rms import read_rms
from hotspots.offence_scope import is_course_of_conduct, is_private_space
from hotspots.offences import load_offence_table
from profiles.fused import fused_events, recorded_source
from profiles.sources import _rms_events
from tests.conftest import ROOT

HEADER = ("Occurrence Ref,HO Code,Offence Description,Committed From,Committed To,Easting,Northing,"
          "Location Type,DA Flag,Alcohol Flag,NTE Flag,Victim Sex,Victim Age Band,Outcome Code")


def test_rms_course_of_conduct_is_not_placed_in_hours_and_dwellings_are_private(tmp_path):
    rows = [
        "R1,8Q,Stalking,05/01/2024 22:00,05/03/2024 23:00,375000,165000,Street,N,N,N,F,25-34,",  # course of conduct
        "R2,19C,Rape of a female aged 16 and over,06/01/2024 01:00,06/01/2024 02:00,375000,165000,Dwelling,N,N,N,F,"
        "25-34,15",
        "R3,19C,Rape of a female aged 16 and over,06/01/2024 01:00,06/01/2024 02:00,375000,165000,Street,N,N,N,F,"
        "25-34,",
        "R4,8U,Controlling or coercive behaviour,01/01/2024 00:00,30/06/2024 00:00,375000,165000,Dwelling,Y,N,N,F,"
        "35-44,16",
    ]
    f = tmp_path / "rms.csv"
    f.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    ev = _rms_events(read_rms([f], offence_table=load_offence_table()), harm=None, notes={})
    ev = ev.set_index("event_id").loc[["R1", "R2", "R3", "R4"]]
    assert ev["time_resolved"].tolist() == [False, True, True, False]
    assert ev["private_space"].tolist() == [False, True, False, True]


def test_private_space_and_course_of_conduct_rules():
    assert is_private_space(["DWELLING", "Residential - house", "Street", "Homebase car park", None]).tolist() == [
        True, True, False, False, False]
    assert is_course_of_conduct(["stalking_harassment", "controlling_coercive", "rape"]).tolist() == [True, True, False]


def test_demo_ae_counts_female_patients_only(demo_numbers):
    with gzip.open(ROOT / "data" / "synthetic" / "SYNTHETIC_ae_avon-and-somerset.csv.gz", "rb") as fh:
        raw = pd.read_csv(io.BytesIO(fh.read()), dtype=str)
    scope = demo_numbers.meta.definitions["ae_scope"]
    assert scope["attendances"] + 0 <= len(raw)  # rows the reader accepted
    located = raw["Incident Easting"].notna() & raw["Incident Northing"].notna()
    assert scope["female"] == int(((raw["Patient Sex"] == "F") & located).sum())
    ae = demo_numbers.threats.totals.set_index("threat_area").loc["ae_assault", "count"]
    assert ae <= scope["female"]  # inside the force area, female patients only
    assert demo_numbers.when.nte_by_source.set_index("source").loc["ae", "events"] == ae


def test_demo_combined_analyses_use_rms_in_public_space_over_the_common_period(demo_numbers):
    b = demo_numbers.fused.basis
    assert b["recorded"] == "rms" and b["sources"] == ["rms", "streetsafe", "ae"]
    assert b["months"][0] == "2024-01" and b["months"][-1] == "2024-12" and b["public_space"]
    space = demo_numbers.what.space.set_index("threat_area")
    assert b["private_excluded"] == int(space["private"].sum())  # the split reported in section 6
    places = demo_numbers.fused.places
    assert "police_uk_count" not in places.columns
    top10 = places.head(10)
    assert (top10["rms_count"] >= 20).all() and top10["eligible"].all()
    harm = demo_numbers.what.harm_by_source.set_index("source")
    assert demo_numbers.what.harm_total == pytest.approx(harm.loc["rms", "harm"])  # never police.uk + RMS


def test_recorded_source_prefers_rms_and_follows_the_config():
    both = pd.DataFrame({"source": ["police_uk", "rms", "ae"]})
    assert recorded_source(both) == "rms"
    assert recorded_source(both, choice="police_uk") == "police_uk"
    assert recorded_source(pd.DataFrame({"source": ["police_uk"]}), choice="rms") == "police_uk"


@settings(max_examples=60, deadline=None)
@given(
    sources=st.lists(st.sampled_from(["police_uk", "rms", "streetsafe", "ae"]), min_size=1, max_size=40),
    months=st.data(),
    recorded=st.sampled_from(["police_uk", "rms"]),
)
def test_fused_events_never_mix_recorded_sources_and_keep_only_common_months(sources, months, recorded):
    n = len(sources)
    m = months.draw(st.lists(st.sampled_from(["2024-01", "2024-02", "2024-03"]), min_size=n, max_size=n))
    private = months.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    ev = pd.DataFrame({"source": sources, "month": pd.PeriodIndex(m, freq="M"), "private_space": private})
    out, basis = fused_events(ev, recorded=recorded)
    other = {"police_uk", "rms"} - {recorded}
    assert not set(out["source"]) & other
    assert not out["private_space"].any()
    for s in basis.sources:  # every kept month is covered by every fused source
        have = set(out.loc[out["source"] == s, "month"].astype(str))
        assert have == set(basis.months)
    assert len(out) + basis.private_excluded + sum(basis.dropped_months.values()) <= n


def test_a_cell_with_six_crimes_cannot_rank_in_the_top_ten():
    # 12 ordinary cells with 30..140 recorded crimes and a few StreetSafe reports; one cell with 6 crimes and a
    # flood of StreetSafe reports, which an average of shares alone would put first
    cells = [f"c{i:02d}" for i in range(12)]
    rows = [(c, "rms", 30 + 10 * i) for i, c in enumerate(cells)] + [(c, "streetsafe", 2) for c in cells]
    rows += [("small", "rms", 6), ("small", "streetsafe", 400)]
    grids = pd.DataFrame(rows, columns=["h3_cell", "source", "count"])
    plain = place_scores(grids, sources=["rms", "streetsafe"])
    assert plain.iloc[0]["h3_cell"] == "small"  # the flaw the rule answers
    ruled = place_scores(grids, sources=["rms", "streetsafe"], min_counts={"rms": 20})
    small = ruled.set_index("h3_cell").loc["small"]
    assert not small["eligible"] and small["place_rank"] == 13
    assert ruled.head(10)["eligible"].all()
    assert ruled["place_score"].sort_values().tolist() == plain["place_score"].sort_values().tolist()  # same scores


def test_min_counts_checks_its_arguments():
    grids = pd.DataFrame({"h3_cell": ["a"], "source": ["rms"], "count": [3]})
    with pytest.raises(Exception, match="min_counts"):
        place_scores(grids, sources=["rms"], min_counts={"ae": 1})
    with pytest.raises(Exception, match="min_counts"):
        place_scores(grids, sources=["rms"], min_counts={"rms": np.nan})


def test_the_small_number_rule_holds_in_the_shared_ranking(demo_numbers):
    from profiles.shared import to_shared

    places = to_shared(demo_numbers).fused.places
    eligible = places["eligible"].to_numpy(bool)
    n = int(eligible.sum())
    assert eligible[:n].all() and not eligible[n:].any()  # every eligible place ranks before every other
    assert places["place_rank"].is_monotonic_increasing


def test_sources_with_no_common_month_fall_back_to_the_recorded_source():
    ev = pd.DataFrame({"source": ["rms", "rms", "streetsafe"],
                       "month": pd.PeriodIndex(["2024-01", "2024-02", "2022-05"], freq="M"),
                       "private_space": False})
    out, basis = fused_events(ev, recorded="rms")
    assert basis.sources == ("rms",) and basis.months == ("2024-01", "2024-02")
    assert out["source"].tolist() == ["rms", "rms"] and basis.dropped_months == {"streetsafe": 1}
