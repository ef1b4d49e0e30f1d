"""STRA inputs: every file is either read or excluded with its reason; definition mismatches are named."""

from __future__ import annotations

import json

import pytest

from profiles.stra.inputs import ForceSummary, definition_mismatches, read_summaries
from profiles.summary import example_summary, write_summary


def _write(folder, name, obj):
    d = folder / name
    d.mkdir()
    return write_summary(obj, d / "summary.json")


@pytest.fixture
def inputs(tmp_path):
    good = example_summary()
    _write(tmp_path, "a", good)
    v1 = example_summary("summary-v1")
    v1["force"] = {"name": "Old Constabulary", "slug": "old"}
    _write(tmp_path, "old", v1)
    (tmp_path / "bad_json").mkdir()
    (tmp_path / "bad_json" / "summary.json").write_text('{"schema_version": "summary-v2", ', encoding="utf-8")
    (tmp_path / "future").mkdir()
    (tmp_path / "future" / "summary.json").write_text(json.dumps({**good, "schema_version": "summary-v9"}))
    broken = example_summary()
    broken["force"] = {"name": "Broken Police", "slug": "broken"}
    broken["counts"]["by_threat_area_month"][0]["count"] = -4
    (tmp_path / "invalid").mkdir()
    (tmp_path / "invalid" / "summary.json").write_text(json.dumps(broken), encoding="utf-8")
    return tmp_path


def test_every_file_is_read_or_excluded_with_its_reason(inputs):
    ok, excluded = read_summaries([str(inputs)])
    assert len(ok) + len(excluded) == 5  # never dropped silently
    assert sorted(f.summary["schema_version"] for f in ok) == ["summary-v1", "summary-v2"]  # v1 still read
    by_file = {e.file.split("/")[-2]: e for e in excluded}
    assert set(by_file) == {"bad_json", "future", "invalid"}
    assert "schema_version" in by_file["future"].field
    assert by_file["invalid"].force == "Broken Police" and "by_threat_area_month" in by_file["invalid"].field
    assert all(e.fix for e in excluded)


def test_globs_and_duplicates(inputs):
    ok, excluded = read_summaries([str(inputs / "*" / "summary.json"), str(inputs / "a" / "summary.json")])
    assert len(ok) + len(excluded) == 5  # the same file named twice is read once
    missing_ok, missing = read_summaries([str(inputs / "nope.json")])
    assert not missing_ok and len(missing) == 1


def test_definition_mismatches_are_named():
    base = [example_summary() for _ in range(4)]
    base[1]["definitions"]["h3_resolution"] = 10
    base[2]["disclosure"]["threshold"] = 10
    base[3]["measures"]["fused_basis"]["recorded"] = "police_uk"
    for i, s in enumerate(base):
        s["force"] = {"name": f"Force {i}", "slug": f"f{i}"}
    m = definition_mismatches([ForceSummary(f"{i}", "0" * 64, s) for i, s in enumerate(base)])
    got = sorted(map(tuple, m[["force", "definition"]].values.tolist()))
    assert got == [("Force 1", "H3 resolution"), ("Force 2", "suppression threshold"),
                   ("Force 3", "recorded-crime source")]
