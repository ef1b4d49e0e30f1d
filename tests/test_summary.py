import copy
import json

import pytest
from jsonschema import Draft202012Validator

from profiles.summary import (
    SCHEMA_ID,
    SummaryInvalid,
    example_summary,
    load_schema,
    summary_errors,
    validate_summary,
    write_summary,
)

# The required fields, written out from the national team's brief (not read back from the schema).
REQUIRED = [
    ("schema_version",),
    ("security_classification",),
    ("disclosure",),
    ("disclosure", "shared"),
    ("disclosure", "threshold"),
    ("disclosure", "method"),
    ("disclosure", "suppressed_cells"),
    ("synthetic_sources",),
    ("force",),
    ("force", "name"),
    ("force", "slug"),
    ("period",),
    ("period", "first_month"),
    ("period", "last_month"),
    ("period", "months"),
    ("period", "missing_months"),
    ("definitions",),
    ("definitions", "nte_window"),
    ("definitions", "vawg_offence_table"),
    ("definitions", "harm_index"),
    ("definitions", "h3_resolution"),
    ("definitions", "police_uk_crime_types"),
    ("definitions", "threat_areas"),
    ("counts",),
    ("counts", "by_threat_area_month"),
    ("counts", "totals_by_threat_area"),
    ("counts", "by_threat_area_month", 0, "threat_area"),
    ("counts", "by_threat_area_month", 0, "month"),
    ("counts", "by_threat_area_month", 0, "count"),
    ("counts", "by_threat_area_month", 0, "suppressed"),
    ("counts", "by_threat_area_month", 0, "available"),
    ("counts", "totals_by_threat_area", 0, "threat_area"),
    ("counts", "totals_by_threat_area", 0, "count"),
    ("counts", "totals_by_threat_area", 0, "suppressed"),
    ("top_places",),
    *[("top_places", 0, k) for k in ("rank", "h3_cell", "place_score", "components", "label", "lsoa_code",
                                      "imd_decile")],
    ("nte",),
    ("nte", "share_in_window"),
    ("nte", "time_resolved_sources"),
    ("harm",),
    ("harm", "index"),
    ("harm", "total"),
    ("harm", "by_threat_area"),
    ("harm", "approximate"),
    ("harm", "by_threat_area", 0, "threat_area"),
    ("harm", "by_threat_area", 0, "total"),
    ("hotspot_quality",),
    *[("hotspot_quality", 0, k) for k in ("method", "train_months", "test_months", "area_share", "hit_rate", "pai",
                                          "pei", "rri")],
    ("data_quality",),
    ("data_quality", "sources"),
    ("data_quality", "snap_point_stacking"),
    ("data_quality", "month_only_sources"),
    *[("data_quality", "sources", 0, k) for k in ("source", "rows_read", "rows_accepted", "rows_quarantined",
                                                  "quarantined_by_reason", "synthetic", "share_without_coordinates")],
    ("gaps",),
    *[("gaps", 0, k) for k in ("id", "text", "evidence")],
    ("recommendations",),
    *[("recommendations", 0, k) for k in ("id", "text", "finding_id", "place", "time", "partner", "tactic")],
    ("key_findings",),
    *[("key_findings", 0, k) for k in ("id", "text", "numbers")],
    ("provenance",),
    *[("provenance", k) for k in ("tool", "tool_version", "run_utc", "config_sha256", "inputs", "python")],
    *[("provenance", "inputs", 0, k) for k in ("file", "sha256", "source")],
]


def json_path(parts):
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def get_parent(obj, parts):
    for p in parts[:-1]:
        obj = obj[p]
    return obj


def modified(parts, value):
    s = example_summary()
    get_parent(s, parts)[parts[-1]] = value
    return s


def test_schema_is_valid_2020_12_and_has_its_id():
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID == "https://safer-spaces.invalid/schema/summary-v2.json"
    assert schema["additionalProperties"] is False


def test_example_validates_against_the_raw_schema_and_the_full_checks():
    s = example_summary()
    assert list(Draft202012Validator(load_schema()).iter_errors(s)) == []
    validate_summary(s)
    assert summary_errors(s) == []
    assert set(s["synthetic_sources"]) == {src["source"] for src in s["data_quality"]["sources"]}
    json.dumps(s, allow_nan=False)  # plain JSON


def test_example_and_schema_are_fresh_copies_and_validation_does_not_mutate():
    a = example_summary()
    a["force"]["name"] = "changed"
    assert example_summary()["force"]["name"] != "changed"
    s = example_summary()
    before = copy.deepcopy(s)
    validate_summary(s)
    assert s == before


@pytest.mark.parametrize("parts", REQUIRED, ids=json_path)
def test_each_required_field_removed_is_invalid_and_named(parts):
    s = example_summary()
    del get_parent(s, parts)[parts[-1]]
    with pytest.raises(SummaryInvalid) as info:
        validate_summary(s)
    assert isinstance(info.value, ValueError)
    assert any(e.startswith(f"{json_path(parts)}: required field is missing") for e in info.value.errors)


@pytest.mark.parametrize(
    ("parts", "value", "match"),
    [
        # counts: integers >= 0 or null
        (("counts", "by_threat_area_month", 0, "count"), 3.5, r"\$\.counts\.by_threat_area_month\[0\]\.count: 3\.5"),
        (("counts", "by_threat_area_month", 0, "count"), -1, r"\.count: -1 is less than the minimum of 0"),
        (("counts", "totals_by_threat_area", 1, "count"), 3.5, r"totals_by_threat_area\[1\]\.count: 3\.5"),
        (("counts", "totals_by_threat_area", 1, "count"), -1, r"totals_by_threat_area\[1\]\.count: -1"),
        (("top_places", 0, "components", "rms"), 3.5, r"\$\.top_places\[0\]\.components\.rms: 3\.5"),
        (("top_places", 0, "components", "rms"), -1, r"\$\.top_places\[0\]\.components\.rms: -1"),
        (("disclosure", "suppressed_cells"), -1, r"\$\.disclosure\.suppressed_cells: -1"),
        (("data_quality", "sources", 0, "rows_read"), 3.5, r"sources\[0\]\.rows_read: 3\.5"),
        (("data_quality", "sources", 0, "quarantined_by_reason", "no_coordinates"), -1, r"no_coordinates: -1"),
        (("counts", "by_threat_area_month", 0, "count"), "12", r"\.count: '12' is not of type"),
        # H3 cells
        (("top_places", 0, "h3_cell"), "not-a-cell", r"\$\.top_places\[0\]\.h3_cell: .*H3 cell id"),
        (("top_places", 0, "h3_cell"), "89195839227FFFF", r"h3_cell: .*does not match"),
        (("top_places", 0, "h3_cell"), "89195839227ffff0", r"h3_cell: .*does not match"),
        (("top_places", 0, "h3_cell"), "8f195839227ffff", r"top_places\[0\]\.h3_cell: .* not a valid H3 cell"),
        (("top_places", 0, "h3_cell"), "88195839227ffff", r"top_places\[0\]\.h3_cell: .* not a valid H3 cell"),
        (("top_places", 0, "h3_cell"), "8819583923fffff", r"h3_cell: .* resolution 8, definitions\.h3_resolution is 9"),
        # enums, consts, patterns, ranges
        (("schema_version",), "summary-v3", r"\$\.schema_version: 'summary-v2' was expected"),
        (("security_classification",), "RESTRICTED", r"\$\.security_classification: 'RESTRICTED' is not one of"),
        (("provenance", "tool"), "other", r"\$\.provenance\.tool: 'safer-spaces' was expected"),
        (("provenance", "config_sha256"), "abc", r"config_sha256: .*64 lowercase hex"),
        (("provenance", "inputs", 0, "sha256"), "A" * 64, r"inputs\[0\]\.sha256"),
        (("provenance", "run_utc"), "2026-01-20 10:15", r"\$\.provenance\.run_utc"),
        (("provenance", "run_utc"), "2026-01-20T10:15:00+01:00", r"\$\.provenance\.run_utc"),
        (("provenance", "run_utc"), "2026-02-30T10:15:00Z", r"run_utc: .*not a real date"),
        (("period", "first_month"), "2024-13", r"\$\.period\.first_month: .*YYYY-MM"),
        (("period", "months"), 4, r"\$\.period\.months: 4 but 2024-01 to 2024-03 spans 3"),
        (("period", "missing_months"), ["2023-12"], r"missing_months\[0\]: 2023-12 is outside"),
        (("definitions", "h3_resolution"), 6, r"h3_resolution: 6 is less than the minimum of 7"),
        (("definitions", "h3_resolution"), 12, r"h3_resolution: 12 is greater than the maximum of 11"),
        (("definitions", "h3_resolution"), 10, r"h3_cell: .* resolution 9, definitions\.h3_resolution is 10"),
        (("definitions", "nte_window"), "Fri 9pm-6am", r"\$\.definitions\.nte_window: .*does not match"),
        (("definitions", "nte_window"), "Sat,Fri 21:00-06:00", r"nte_window: write the canonical form"),
        (("top_places", 0, "imd_decile"), 11, r"imd_decile: 11 is greater than the maximum of 10"),
        (("top_places", 0, "imd_decile"), 0, r"imd_decile: 0 is less than the minimum of 1"),
        (("top_places", 0, "lsoa_code"), "Bristol", r"lsoa_code: .*LSOA code"),
        (("top_places", 0, "rank"), 2, r"\$\.top_places\[0\]\.rank: 2, expected 1"),
        (("nte", "share_in_window", "rms"), 1.2, r"share_in_window\.rms: 1\.2 is greater than the maximum of 1"),
        (("data_quality", "snap_point_stacking"), -0.1, r"snap_point_stacking: -0\.1"),
        (("hotspot_quality", 0, "method"), "Gi*", r"hotspot_quality\[0\]\.method"),
        (("hotspot_quality", 0, "test_months"), [], r"test_months: \[\] should be non-empty"),
        (("force", "slug"), "Avon and Somerset", r"\$\.force\.slug: .*lowercase"),
        (("key_findings",), [], r"\$\.key_findings: \[\] (is too short|should be non-empty)"),
        (("gaps", 0, "evidence", "ae_rows"), "none", r"gaps\[0\]\.evidence\.ae_rows: 'none' is not of type"),
        # consistency between fields
        (("counts", "by_threat_area_month", 1, "count"), 3, r"month\[1\]\.count: 3 is not of type 'null'"),
        (("counts", "by_threat_area_month", 0, "count"), None, r"\[0\]\.count: None is not of type 'integer'"),
        (("counts", "totals_by_threat_area", 0, "count"), 30, r"totals_by_threat_area\[0\]\.count: 30 is not of"),
        (("counts", "by_threat_area_month", 0, "count"), 3, r"\[0\]\.count: count 3 is below the disclosure threshold"),
        (("top_places", 1, "components", "police_uk"), 2, r"top_places\[1\]\.components\.police_uk: count 2 is below"),
        (("counts", "by_threat_area_month", 0, "threat_area"), "fraud", r"threat_area: 'fraud' is not in definitions"),
        (("counts", "by_threat_area_month", 0, "month"), "2023-12", r"\[0\]\.month: 2023-12 is outside"),
        (("recommendations", 0, "finding_id"), "F9", r"recommendations\[0\]\.finding_id: 'F9' is not the id"),
        (("gaps", 0, "id"), "F1", r"id 'F1' is used more than once"),
        (("data_quality", "sources", 1, "synthetic"), False, r"sources\[1\]\.synthetic: 'rms' is listed in"),
        (("synthetic_sources",), ["police_uk"], r"sources\[1\]\.synthetic: 'rms' is synthetic but not listed"),
        (("data_quality", "sources", 0, "rows_read"), 5211, r"sources\[0\]: rows_read 5211 != rows_accepted"),
        (("disclosure", "threshold"), None, r"\$\.disclosure\.threshold: None is not of type 'integer'.*sharing"),
        (("disclosure", "suppressed_cells"), 1, r"suppressed_cells: 1 but 2 counts are marked suppressed"),
        (("counts", "totals_by_threat_area", 0), {"threat_area": "rape", "count": 21, "suppressed": False},
         r"one suppressed month of 'rape' can be recovered"),
    ],
    ids=lambda v: json_path(v) if isinstance(v, tuple) else None,
)
def test_bad_values_are_invalid_with_their_path(parts, value, match):
    s = modified(parts, value)
    with pytest.raises(SummaryInvalid, match=match):
        validate_summary(s)


def test_unknown_keys_are_invalid_at_top_level_and_inside_objects():
    s = example_summary()
    s["notes"] = "x"
    s["disclosure"]["k"] = 5
    s["top_places"][0]["colour"] = "red"
    with pytest.raises(SummaryInvalid) as info:
        validate_summary(s)
    errors = info.value.errors
    assert any(e.startswith("$.notes: unknown field 'notes'") for e in errors)
    assert any(e.startswith("$.disclosure.k: unknown field 'k'") for e in errors)
    assert any(e.startswith("$.top_places[0].colour: unknown field 'colour'") for e in errors)


def test_open_maps_accept_any_source_name():
    s = example_summary()
    s["nte"]["share_in_window"]["ae"] = 0.5
    s["top_places"][0]["components"]["ae"] = 7
    s["key_findings"][0]["numbers"]["anything"] = None
    validate_summary(s)


def test_every_violation_is_listed_not_just_the_first():
    s = example_summary()
    s["counts"]["by_threat_area_month"][0]["count"] = 3.5
    s["counts"]["by_threat_area_month"][2]["count"] = -1
    del s["provenance"]["python"]
    s["extra"] = 1
    with pytest.raises(SummaryInvalid) as info:
        validate_summary(s)
    paths = [e.split(":")[0] for e in info.value.errors]
    assert len(info.value.errors) == len(set(info.value.errors))  # no repeated lines
    assert set(paths) == {
        "$.counts.by_threat_area_month[0].count",
        "$.counts.by_threat_area_month[2].count",
        "$.provenance.python",
        "$.extra",
    }
    assert f"{len(info.value.errors)} problem(s)" in str(info.value)


@pytest.mark.parametrize("n", [0, 13])
def test_key_findings_number_one_to_twelve(n):
    s = example_summary()
    s["key_findings"] = [{"id": f"F{i}", "text": "t", "numbers": {}, "grade": "likely", "confidence": "moderate"}
                         for i in range(1, n + 1)]
    with pytest.raises(SummaryInvalid, match=r"\$\.key_findings: .*(too short|too long|non-empty|fewer|more)"):
        validate_summary(s)


def test_top_places_at_most_fifty():
    s = example_summary()
    s["top_places"] = [dict(s["top_places"][0], rank=i + 1) for i in range(51)]
    with pytest.raises(SummaryInvalid, match=r"\$\.top_places: .*(too long|more than 50)"):
        validate_summary(s)


def test_unsuppressed_zero_and_unshared_small_counts_are_allowed():
    s = example_summary()
    s["top_places"][1]["components"]["rms"] = 0
    validate_summary(s)
    s = example_summary()
    s["disclosure"].update(shared=False, threshold=None)
    s["counts"]["by_threat_area_month"][0]["count"] = 3
    validate_summary(s)


def test_write_summary_writes_valid_json_that_round_trips(tmp_path):
    s = example_summary()
    out = write_summary(s, tmp_path / "summary.json")
    assert out == tmp_path / "summary.json"
    back = json.loads(out.read_text(encoding="utf-8"))
    assert back == s
    validate_summary(back)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_write_summary_refuses_invalid_and_writes_nothing(tmp_path):
    s = example_summary()
    s["counts"]["by_threat_area_month"][0]["count"] = -1
    target = tmp_path / "summary.json"
    with pytest.raises(SummaryInvalid, match=r"(?s)summary for .*summary\.json.*\[0\]\.count: -1"):
        write_summary(s, target)
    assert list(tmp_path.iterdir()) == []


def test_write_summary_leaves_an_existing_file_alone_when_invalid(tmp_path):
    target = tmp_path / "summary.json"
    target.write_text("previous", encoding="utf-8")
    s = example_summary()
    s["top_places"][0]["h3_cell"] = "zzz"
    with pytest.raises(SummaryInvalid):
        write_summary(s, target)
    assert target.read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_write_summary_refuses_nan_before_writing(tmp_path):
    s = example_summary()
    s["harm"]["total"] = float("nan")
    with pytest.raises(SummaryInvalid):
        write_summary(s, tmp_path / "summary.json")
    assert list(tmp_path.iterdir()) == []


def test_write_summary_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_summary(example_summary(), tmp_path / "nope" / "summary.json")


@pytest.mark.parametrize("value", [None, [], "summary", 3])
def test_non_objects_are_invalid(value):
    with pytest.raises(SummaryInvalid, match=r"\$: .*is not of type 'object'"):
        validate_summary(value)


# ---------------------------------------------------------------------------------------------------------------
# release, handling and withheld (added to summary-v1 as optional fields: files without them stay valid)


def test_release_handling_and_withheld_are_optional_and_checked():
    s = example_summary()  # written before the fields existed: still valid
    assert "release" not in s["disclosure"]
    s["disclosure"].update(release="partner", handling="Partner release under the ISA.", withheld=["a score"])
    validate_summary(s)
    s["disclosure"]["release"] = "restricted"  # a restricted file is never shared
    with pytest.raises(SummaryInvalid, match=r"\$\.disclosure\.release: 'restricted' but shared is true"):
        validate_summary(s)
    s["disclosure"]["release"] = "secret"
    with pytest.raises(SummaryInvalid, match=r"\$\.disclosure\.release: 'secret' is not one of"):
        validate_summary(s)


def test_a_withheld_place_score_is_null():
    s = example_summary()
    s["top_places"][1]["place_score"] = None
    validate_summary(s)
    s["top_places"][1]["place_score"] = "high"
    with pytest.raises(SummaryInvalid, match=r"top_places\[1\]\.place_score"):
        validate_summary(s)


# ---------------------------------------------------------------------------------------------------------------
# build_summary / render_summary (profiles.render.summary): the numbers laid out, nothing computed


def test_build_summary_lays_out_exactly_the_given_numbers():
    from profiles.render.summary import build_summary
    from tests.test_render_report import CELLS, RESTRICTED_HANDLING, make_numbers

    s = build_summary(make_numbers())
    validate_summary(s)
    assert s["disclosure"] == {"shared": False, "threshold": None, "method": "none (restricted)",
                               "suppressed_cells": 0, "release": "restricted", "handling": RESTRICTED_HANDLING}
    assert s["period"] == {"first_month": "2024-01", "last_month": "2024-03", "months": 3,
                           "missing_months": ["2024-02"]}
    assert s["definitions"]["threat_areas"] == ["police_uk_violence_sexual", "rape"]
    rows = {(r["threat_area"], r["month"]): (r["count"], r["available"], r["suppressed"])
            for r in s["counts"]["by_threat_area_month"]}
    assert rows == {
        ("police_uk_violence_sexual", "2024-01"): (4_424, True, False),
        ("police_uk_violence_sexual", "2024-02"): (None, False, False),  # unavailable month: null, not 0
        ("police_uk_violence_sexual", "2024-03"): (4_169, True, False),
        ("rape", "2024-01"): (31, True, False),
        ("rape", "2024-02"): (0, True, False),
        ("rape", "2024-03"): (29, True, False),
    }
    assert s["counts"]["totals_by_threat_area"] == [
        {"threat_area": "police_uk_violence_sexual", "count": 8_593, "suppressed": False},
        {"threat_area": "rape", "count": 60, "suppressed": False},
    ]
    assert [(p["rank"], p["h3_cell"], p["place_score"], p["components"]) for p in s["top_places"]] == [
        (1, CELLS[0], 6.5817, {"police_uk": 270, "rms": 751}),
        (2, CELLS[1], 6.1546, {"police_uk": 306, "rms": 717}),
        (3, CELLS[2], 4.7759, {"police_uk": 184, "rms": 472}),
    ]
    assert s["top_places"][1]["label"] == "no police.uk crime mapped here"  # no label: the schema's fallback text
    assert [p["imd_decile"] for p in s["top_places"]] == [4, None, 6]
    assert s["nte"] == {"share_in_window": {"police_uk": None, "rms": 0.2115}, "time_resolved_sources": ["rms"]}
    assert s["harm"]["total"] == 25_274.5
    assert s["harm"]["by_threat_area"] == [{"threat_area": "police_uk_violence_sexual", "total": 22_147.5},
                                           {"threat_area": "rape", "total": 3_127.0}]
    assert [q["method"] for q in s["hotspot_quality"]] == ["gi_star", "top_cells"]
    assert s["hotspot_quality"][1]["rri"] is None  # NaN -> null
    assert s["hotspot_quality"][0]["test_months"] == ["2024-03"]
    assert s["data_quality"]["snap_point_stacking"] == 0.6911
    assert [src["rows_read"] for src in s["data_quality"]["sources"]] == [9_100, 3_000]
    assert [f["id"] for f in s["key_findings"]] == ["F1", "F2", "F3", "F4", "F5"]
    assert s["recommendations"][0]["finding_id"] == "F1"
    assert s["provenance"]["run_utc"] == "2026-01-20T10:15:00Z" and s["provenance"]["tool_version"] == "9.8.7"
    assert [i["source"] for i in s["provenance"]["inputs"]] == ["police_uk", "rms"]


def test_build_summary_of_shared_numbers_writes_null_where_withheld():
    from profiles.render.summary import build_summary
    from tests.test_render_report import PARTNER_HANDLING, make_shared

    s = build_summary(make_shared())
    validate_summary(s)
    d = s["disclosure"]
    assert (d["shared"], d["threshold"], d["release"], d["handling"], d["suppressed_cells"]) == (
        True, 10, "partner", PARTNER_HANDLING, 7)
    assert d["withheld"] == ["place_score of places with a withheld component: recoverable from it."]
    rape = [r for r in s["counts"]["by_threat_area_month"] if r["threat_area"] == "rape"]
    assert [(r["count"], r["suppressed"]) for r in rape] == [(None, True), (0, False), (None, True)]
    assert s["top_places"][1]["components"] == {"police_uk": 306, "rms": None}
    assert s["top_places"][1]["place_score"] is None
    k = d["threshold"]
    published = [r["count"] for r in s["counts"]["by_threat_area_month"] if r["count"] is not None]
    published += [v for p in s["top_places"] for v in p["components"].values() if v is not None]
    assert not any(0 < v < k for v in published)


def test_build_summary_refuses_numbers_that_make_an_invalid_summary():
    import dataclasses

    from profiles.render.summary import build_summary
    from tests.test_render_report import make_shared

    n = make_shared()
    table = n.threats.table.copy()
    table.loc[table["threat_area"].eq("rape") & table["month"].eq("2024-02"), "count"] = 3  # a small count shown
    bad = dataclasses.replace(n, threats=dataclasses.replace(n.threats, table=table))
    with pytest.raises(SummaryInvalid, match=r"count 3 is below the disclosure threshold 10"):
        build_summary(bad)


def test_render_summary_is_the_summary_as_json_text():
    from profiles.render.summary import build_summary, render_summary
    from tests.test_render_report import make_numbers

    out = render_summary(make_numbers())
    assert list(out) == ["summary.json"]
    assert json.loads(out["summary.json"]) == build_summary(make_numbers())
    assert out["summary.json"].endswith("\n")


def test_withheld_ingest_counts_are_null_and_small_published_ones_refused():
    s = example_summary()
    k = s["disclosure"]["threshold"]
    src = s["data_quality"]["sources"][0]
    src.update(rows_read=None, rows_quarantined=None, quarantined_by_reason={"no_coordinates": None})
    validate_summary(s)  # withheld: the balance checks skip what they cannot see
    s = example_summary()
    s["data_quality"]["sources"][0]["quarantined_by_reason"] = {"no_coordinates": k - 1, "bad_month": 0}
    s["data_quality"]["sources"][0]["rows_quarantined"] = k - 1
    s["data_quality"]["sources"][0]["rows_read"] = s["data_quality"]["sources"][0]["rows_accepted"] + k - 1
    with pytest.raises(SummaryInvalid, match=r"sources\[0\]\.rows_quarantined: count .* is below the disclosure"):
        validate_summary(s)


# ---------------------------------------------------------------------------------------------------------------
# the demo: build_summary(compute_profile(demo config)) says what the code before issue 11 said


def _same(new, old, path="$"):
    """Every difference between two JSON values as '<path>: ...' lines (floats equal to 1e-9 relative)."""
    if isinstance(new, dict) and isinstance(old, dict):
        out = [f"{path}.{k}: only in one" for k in sorted(set(new) ^ set(old))]
        return out + [e for k in sorted(set(new) & set(old)) for e in _same(new[k], old[k], f"{path}.{k}")]
    if isinstance(new, list) and isinstance(old, list):
        out = [f"{path}: {len(new)} items, baseline {len(old)}"] if len(new) != len(old) else []
        return out + [e for i, (a, b) in enumerate(zip(new, old, strict=False)) for e in _same(a, b, f"{path}[{i}]")]
    if isinstance(new, float) or isinstance(old, float):
        ok = new is not None and old is not None and new == pytest.approx(old, rel=1e-9, abs=1e-12)
        return [] if ok else [f"{path}: {new!r} != baseline {old!r}"]
    return [] if new == old and type(new) is type(old) else [f"{path}: {new!r} != baseline {old!r}"]


def test_demo_summary_equals_the_baseline(demo_numbers):
    from profiles.render.summary import build_summary
    from tests.conftest import ROOT

    baseline = json.loads((ROOT / "tests" / "fixtures" / "demo_summary_baseline.json").read_text(encoding="utf-8"))
    del baseline["_comment"]
    new = build_summary(demo_numbers)
    validate_summary(new)
    # deliberate additions: which release this is and its handling line (the restricted line of the config)
    assert new["disclosure"].pop("release") == "restricted"
    assert new["disclosure"].pop("handling").startswith("Share only with partners under the information-sharing")
    for key in ("run_utc", "config_sha256", "tool_version", "python"):  # the run, not the numbers
        del new["provenance"][key]
    for r in new["recommendations"]:  # the review date follows the run date
        assert r.pop("review")
    assert _same(new, baseline) == []
