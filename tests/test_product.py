"""Product discipline: graded judgements, the 4P plan, the collection plan, summary-v2 (v1 still read)."""

from __future__ import annotations

import json

import pytest

from profiles.findings import (
    GRADE_FACT,
    GRADE_SYNTHETIC,
    PHIA_YARDSTICK,
    Finding,
    grade_findings,
    phia_grade,
    review_date,
)
from profiles.render.summary import build_summary
from profiles.summary import READ_VERSIONS, example_summary, load_summary, summary_errors, write_summary

TERMS = {t for t, _ in PHIA_YARDSTICK}


@pytest.mark.parametrize(
    ("p", "term"),
    [(0.0, "almost certain"), (0.000999, "almost certain"), (0.001, "highly likely"), (0.0099, "highly likely"),
     (0.01, "likely"), (0.049, "likely"), (0.05, "a realistic possibility"), (0.19, "a realistic possibility"),
     (0.2, "unlikely"), (1.0, "unlikely")],
)
def test_phia_grade_edges(p, term):
    assert phia_grade(p) == term and term in TERMS


def test_synthetic_findings_are_not_graded_and_counts_are_facts():
    f = grade_findings([Finding("F5", "x", {"p_value": 1e-9}, synthetic=True), Finding("F1", "y", {"total": 3})], {})
    assert [(g.grade, g.confidence) for g in f] == [(GRADE_SYNTHETIC, "low"), (GRADE_FACT, "moderate")]


def test_review_date_month_arithmetic():
    assert review_date("2026-08-31T00:00:00Z", 6) == "2027-02-28"
    assert review_date("2026-12-04T10:00:00Z", 1) == "2027-01-04"


def test_demo_plan_is_4p_with_owner_measure_priority_and_review(demo_numbers):
    f = demo_numbers.findings
    by_id = {x.id: x for x in f.findings}
    assert f.recommendations and all(r.finding_id in by_id for r in f.recommendations)
    want_review = review_date(demo_numbers.meta.created_utc, 6)
    for r in f.recommendations:
        assert r.pillar in ("Prevent", "Pursue", "Protect", "Prepare")
        assert r.owner and r.measure and r.priority and r.review == want_review
        if by_id[r.finding_id].synthetic:
            assert r.priority.startswith("low")
    pillars = [r.pillar for r in f.recommendations]
    assert pillars == sorted(pillars, key=("Prevent", "Pursue", "Protect", "Prepare").index)
    assert all(g.collect and g.source and g.owner for g in f.gaps)
    for x in f.findings:
        assert x.confidence in ("high", "moderate", "low")
        assert x.grade in (GRADE_FACT, GRADE_SYNTHETIC) or any(x.grade.startswith(t) for t in TERMS)


def test_demo_venue_concentration_is_a_key_finding_whichever_way(demo_numbers):
    f9 = {x.id: x for x in demo_numbers.findings.findings}["F9"]
    vc = demo_numbers.venues.concentration
    assert ("no more concentrated" in f9.text) == (not (vc.relative_share > 1 and vc.fisher_p < 0.05))
    assert "Venue data cover" in f9.text and f9.numbers["p_value"] == vc.fisher_p


def test_summary_v2_carries_grades_plan_and_measures(demo_numbers):
    s = build_summary(demo_numbers)
    assert s["schema_version"] == "summary-v2" and summary_errors(s) == []
    assert all(k["grade"] and k["confidence"] for k in s["key_findings"])
    assert all(r["pillar"] and r["review"] for r in s["recommendations"])
    m = s["measures"]
    assert m["fused_basis"]["recorded"] == "rms"
    assert [h["source"] for h in m["harm_by_source"]] == ["police_uk", "rms"]


def test_summary_v1_files_are_still_read(tmp_path):
    assert READ_VERSIONS == ("summary-v1", "summary-v2")
    for version in READ_VERSIONS:
        (tmp_path / version).mkdir()
        path = write_summary(example_summary(version), tmp_path / version / "summary.json")
        assert load_summary(path)["schema_version"] == version


def test_v2_requires_its_new_fields_and_v1_refuses_them():
    s = example_summary()
    del s["measures"]
    assert any("measures" in e for e in summary_errors(s))
    v1 = example_summary("summary-v1")
    v1["measures"] = example_summary()["measures"]
    assert any("measures" in e for e in summary_errors(v1))  # v1 is closed: a v1 file cannot smuggle v2 fields
    s = example_summary()
    s["recommendations"][0]["pillar"] = "Persuade"
    assert any("pillar" in e for e in summary_errors(s))
    json.dumps(example_summary())  # JSON-able


def test_summary_v2_measures_carry_the_like_for_like_change_and_rates(demo_numbers):
    m = build_summary(demo_numbers)["measures"]
    y = demo_numbers.trend.yoy
    assert m["like_for_like"]["words"] == y["words"] and m["like_for_like"]["n_pairs"] == y["n_pairs"]
    assert m["like_for_like"]["recent"] == y["recent"]
    assert m["like_for_like"]["missing_months"] == ["2024-07", "2024-08"]
    rates = {r["area"]: r for r in m["rates"]}
    assert rates["Somerset"]["count"] == int(demo_numbers.context.rates.set_index("area").loc["Somerset", "count"])
    assert m["spacetime"]["persistent hotspot"] > 0 and len(m["outcomes"]) == 6
