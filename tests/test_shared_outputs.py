"""End to end: every file of the demo's shared version, read as a partner would, publishes no count in 1..k-1.

The scanners (``tests/shared_scan.py``) are tested first on planted leaks in
each format, so a clean scan of the real output means something.
"""

from __future__ import annotations

import json
import re

import pytest
from shared_scan import scan_csv, scan_folder, scan_html_tables, scan_json, scan_map_html

SHARED_FILES = {"report.html", "report.pdf", "map.html", "summary.json"}  # and figures/*.png


def test_scanners_find_planted_leaks(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"top_places": [{"components": {"ae": 2, "rms": 50}}]}))
    (tmp_path / "report.html").write_text(
        "<table><tr><th>rank</th><th>StreetSafe reports</th></tr><tr><td>1</td><td>4</td></tr></table>"
    )
    (tmp_path / "map.html").write_text('{"properties": {"h3_cell": "8", "nearest_nte": "3.2", "name": "Venue A"}}')
    (tmp_path / "t.csv").write_text("h3_cell,count\n89,7\n8a,40\n")
    leaks = scan_folder(tmp_path, 10)
    assert sorted((f, v) for f, _, v in leaks) == [("map.html", 3.2), ("report.html", 4.0), ("summary.json", 2.0),
                                                    ("t.csv", 7.0)]


def test_scanners_leave_safe_values():
    assert not list(scan_json({"top_places": [{"components": {"ae": None, "rms": 0}}], "nte": {"rms": 0.2}}, 10))
    assert not list(scan_html_tables("<table><tr><th>crimes</th></tr><tr><td>[c]</td></tr></table>", 10))
    assert not list(scan_map_html('{"properties": {"count": "[c] (fewer than 10)", "risk_rank": "3"}}', 10))
    assert not list(scan_csv("rank,count\n1,12\n", 10))


@pytest.fixture(scope="module")
def shared_dir(demo_build):
    out, _ = demo_build
    return out / "shared"


def test_shared_folder_holds_only_the_shared_products(shared_dir):
    files = {p.relative_to(shared_dir).as_posix() for p in shared_dir.rglob("*") if p.is_file()}
    figures = {f for f in files if f.startswith("figures/")}
    assert files - figures <= SHARED_FILES
    assert all(f.endswith(".png") and f.count("/") == 1 for f in figures), figures
    assert {"report.html", "map.html", "summary.json"} <= {p.name for p in shared_dir.iterdir()}


def test_no_small_count_in_any_shared_file(shared_dir):
    summary = json.loads((shared_dir / "summary.json").read_text(encoding="utf-8"))
    k = summary["disclosure"]["threshold"]
    assert k == 10  # partner release is the default
    assert scan_folder(shared_dir, k) == []


def test_restricted_and_shared_carry_different_handling_lines(demo_build):
    out, _ = demo_build

    def handling(p):
        m = re.search(r'class="handling">([^<]+)<', p.read_text(encoding="utf-8"))
        assert m, p
        return m.group(1)

    assert handling(out / "report.html") != handling(out / "shared" / "report.html")


def test_shared_map_carries_no_gi_z_and_no_event_points(shared_dir):
    html = (shared_dir / "map.html").read_text(encoding="utf-8")
    assert '"gi_z"' not in html


def test_shared_findings_quote_only_what_is_shared(shared_dir, demo_build):
    out, _ = demo_build
    restricted = {f["id"]: f for f in json.loads((out / "summary.json").read_text(encoding="utf-8"))["key_findings"]}
    shared = {f["id"]: f for f in json.loads((shared_dir / "summary.json").read_text(encoding="utf-8"))["key_findings"]}
    # a gap class is shared only where both counts are: the shared count is a lower bound, and says so
    cells = shared["F7"]["numbers"]["cells"]
    k = json.loads((shared_dir / "summary.json").read_text(encoding="utf-8"))["disclosure"]["threshold"]
    if cells is None:  # fewer than k shareable places: the shared version does not quote the number
        assert shared["F7"]["text"].startswith("Some places") and restricted["F7"]["numbers"]["cells"] > 0
    else:
        assert k <= cells <= restricted["F7"]["numbers"]["cells"]
        assert "or more places" in shared["F7"]["text"]
    assert "or more" not in restricted["F7"]["text"] and "(Counted among" in shared["F7"]["text"]
