"""Identifiable places: OS grid references (OS worked examples) and street labels / artefact flags (by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspots.errors import ParameterError
from hotspots.grid import cells_to_str, latlng_to_cells
from hotspots.gridref import os_grid_reference
from profiles.places import identify_places, local_authority_of


@pytest.mark.parametrize(
    ("e", "n", "digits", "ref"),
    [
        (651409, 313177, 10, "TG 51409 13177"),  # OS guide worked example
        (216666, 771288, 10, "NN 16666 71288"),  # Ben Nevis
        (529090, 179645, 6, "TQ 290 796"),  # Buckingham Palace
        (0, 0, 4, "SV 00 00"),  # false origin
        (699999, 0, 2, "TW 9 0"),  # south-east corner square
        (400000, 1000000, 4, "HZ 00 00"),
        (358799.99, 172999.99, 8, "ST 5879 7299"),  # truncated, never rounded up
    ],
)
def test_os_grid_reference_against_published_examples(e, n, digits, ref):
    assert os_grid_reference([e], [n], digits=digits).tolist() == [ref]


def test_os_grid_reference_every_letter_square_against_the_letter_grid():
    # the 100 km squares of the National Grid, row by row from the north (OS guide figure)
    rows = {
        12: "HL HM HN HO HP JL JM", 11: "HQ HR HS HT HU JQ JR", 10: "HV HW HX HY HZ JV JW",
        9: "NA NB NC ND NE OA OB", 8: "NF NG NH NJ NK OF OG", 7: "NL NM NN NO NP OL OM",
        6: "NQ NR NS NT NU OQ OR", 5: "NV NW NX NY NZ OV OW", 4: "SA SB SC SD SE TA TB",
        3: "SF SG SH SJ SK TF TG", 2: "SL SM SN SO SP TL TM", 1: "SQ SR SS ST SU TQ TR",
        0: "SV SW SX SY SZ TV TW",
    }
    for n100, letters in rows.items():
        e = np.arange(7) * 100_000 + 50_000
        got = [r.split()[0] for r in os_grid_reference(e, np.full(7, n100 * 100_000 + 50_000), digits=2)]
        assert got == letters.split(), n100


def test_os_grid_reference_outside_and_bad_arguments():
    assert os_grid_reference([-1, 700000, 1, np.nan], [1, 1, 1300000, 1]).tolist() == ["", "", "", ""]
    with pytest.raises(ParameterError, match="digits"):
        os_grid_reference([1], [1], digits=7)
    with pytest.raises(ParameterError, match="same length"):
        os_grid_reference([1, 2], [1])


def _cell(lng: float, lat: float) -> str:
    return str(cells_to_str(latlng_to_cells(np.array([lat]), np.array([lng]), resolution=9))[0])


def test_identify_places_by_hand():
    a = _cell(-2.5936, 51.4545)  # Bristol
    b = _cell(-2.3590, 51.3811)  # Bath
    ev = pd.DataFrame({
        "h3": np.array([int(a, 16)] * 5 + [int(b, 16)] * 4, dtype=np.uint64),
        "x": [358712.0, 358712.0, 358700.0, 358650.0, 358650.0, 375100.0, 375100.0, 375200.0, 375300.0],
        "y": [172911.0, 172911.0, 172900.0, 172950.0, 172950.0, 164800.0, 164800.0, 164900.0, 165000.0],
        "location": ["On or near Marsh Street", "On or near Marsh Street", "On or near Nightclub",
                     "On or near Marsh Street", None, "On or near Hospital", "On or near Hospital",
                     "On or near Bus/Coach Station", "On or near Westgate Street"],
        "lsoa_name": ["Bristol 061A"] * 4 + ["Bristol 061C"] + ["Bath and North East Somerset 007A"] * 4,
    })
    before = ev.copy()
    empty = _cell(-2.9, 51.2)
    out = identify_places(ev, [b, a, empty])
    pd.testing.assert_frame_equal(ev, before)  # input untouched
    assert list(out.index) == [b, a, empty]
    # cell a: Marsh Street 3 of 5, Nightclub 1, a missing label 1 (ties in label order; missing reads "no label")
    assert out.loc[a, "streets"] == "Marsh Street (60%); Nightclub (20%); no label (20%)"
    assert out.loc[a, "main_point_share"] == pytest.approx(2 / 5)  # two points hold 2 each: the first in order
    assert out.loc[a, "lsoa_name"] == "Bristol 061A" and out.loc[a, "local_authority"] == "Bristol"
    assert not out.loc[a, "artefact"] and out.loc[a, "artefact_reason"] == ""
    # cell b: a hospital map point with half the crimes: an institution, not (yet) most of the cell
    assert out.loc[b, "streets"].startswith("Hospital (50%)")
    assert out.loc[b, "artefact"] and "reporting location or institution (Hospital)" in out.loc[b, "artefact_reason"]
    assert "map point holds" not in out.loc[b, "artefact_reason"]  # 50% is not more than half
    assert out.loc[b, "grid_ref"] == "ST 7510 6480"
    assert out.loc[empty, "streets"] == "" and not out.loc[empty, "artefact"]


def test_one_point_holding_most_of_a_cell_is_flagged():
    a = _cell(-2.5936, 51.4545)
    ev = pd.DataFrame({"h3": np.array([int(a, 16)] * 10, dtype=np.uint64), "x": [358712.0] * 7 + [358800.0] * 3,
                       "y": [172911.0] * 7 + [172990.0] * 3, "location": ["On or near Shopping Area"] * 10,
                       "lsoa_name": "Bristol 054D"})
    row = identify_places(ev, [a]).iloc[0]
    assert row["artefact"] and row["artefact_reason"] == "one map point holds 70% of the crimes"


def test_local_authority_of_lsoa_names():
    assert local_authority_of(["Sedgemoor 009E", "City of London 001A", None]).tolist() == [
        "Sedgemoor", "City of London", ""]


def test_demo_ranked_places_are_identifiable(demo_numbers):
    places = demo_numbers.hotspots.places
    assert (places["grid_ref"].str.match(r"^S[STU] \d{4} \d{4}$")).all()  # Avon and Somerset: ST, SS, SU squares
    assert (places["streets"].str.len() > 0).all() and (places["local_authority"].str.len() > 0).all()
    hospital = places[places["streets"].str.startswith("Hospital")]
    assert len(hospital) and hospital["artefact"].all()  # the Bristol Royal Infirmary map point is flagged
    fused = demo_numbers.fused.places.head(10)
    assert (fused["streets"] == "").all() and (fused["grid_ref"] == "").all()  # synthetic ranking: no street
    assert (fused["local_authority"] != "").all()


def test_artefact_pattern_names_institutions_not_streets():
    from profiles.places import ARTEFACT_PATTERN

    for label in ("Police Station", "Hospital", "Petrol Station", "HMP Bristol", "Magistrates' Court", "Prison"):
        assert ARTEFACT_PATTERN.search(label), label
    for label in ("Callowhill Court", "Marsh Street", "Nightclub", "Courtenay Road"):
        assert not ARTEFACT_PATTERN.search(label), label


def test_shared_street_shares_never_tell_a_small_count():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from profiles.shared import _streets_shares

    @settings(max_examples=300, deadline=None)
    @given(st.integers(1, 400), st.lists(st.integers(1, 60), min_size=1, max_size=3), st.sampled_from([5, 10]))
    def check(n, raw, k):
        # crimes at each listed label (at most n in all), their shares as the report prints them
        at = []
        left = n
        for r in raw:
            c = min(r, left)
            if c <= 0:
                break
            at.append(c)
            left -= c
        text = "; ".join(f"L{i} ({100 * c / n:.0f}%)" for i, c in enumerate(at))
        out, strip = _streets_shares(pd.Series([text]), np.array([float(n)]), k)
        if strip[0]:
            assert "%" not in out.iloc[0]
            return
        # the attacker: every count consistent with a printed share (and the cell's count n)
        printed = [round(100 * c / n) for c in at]
        consistent = [[x for x in range(n + 1) if round(100 * x / n) == p] for p in printed]
        for xs in consistent:  # a listed count is never pinned inside 1..k-1
            assert max(xs) >= k or min(xs) == 0 == max(xs), (n, at, k)
        rest_max = n - sum(min(xs) for xs in consistent)
        rest_min = n - sum(max(xs) for xs in consistent)
        assert not (0 < rest_max < k) and not (rest_min > 0 and rest_max < k), (n, at, k)

    check()
