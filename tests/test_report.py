"""The force problem profile's report and summary, end to end: restricted and shared, as a reader gets them.

The demo is built once for the whole session (``demo_build`` in conftest: the
demo config through ``profiles.pipeline.run`` with the shared version). The
PDF checks render every page to PNG with poppler's pdftoppm and read its text
with pdftotext, so they look at what an analyst would see: pages exist, the
marking and the version's own handling line are on every page, figures are
not blank. A second, small profile (two months, small synthetic layers) goes
compute -> to_shared -> render to make disclosure control do real work.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from hotspots.config import load_config
from tests.conftest import ROOT

needs_pdf = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils not installed (make test installs it with apt-get where allowed)",
)


@pytest.fixture(scope="module")
def profile(demo_build):
    """(out_dir, result) of the demo through profiles.pipeline.run with the shared version (conftest's demo_build)."""
    return demo_build


def test_every_output_is_written_and_the_shared_version_sits_beside(profile):
    out, _ = profile
    for name in ("report.html", "map.html", "summary.json"):
        assert (out / name).stat().st_size > 1000
        assert (out / "shared" / name).stat().st_size > 1000


def test_summary_validates_and_echoes_definitions(profile):
    from profiles.summary import validate_summary

    out, _ = profile
    for path in (out / "summary.json", out / "shared" / "summary.json"):
        s = json.loads(path.read_text())
        validate_summary(s)
        assert s["definitions"]["nte_window"] == "Fri,Sat 21:00-06:00"
        assert s["synthetic_sources"] == ["ae", "rms", "streetsafe"]
        assert 5 <= len(s["key_findings"]) <= 12
        assert s["period"]["missing_months"] == ["2024-07", "2024-08"]
    restricted = json.loads((out / "summary.json").read_text())
    shared = json.loads((out / "shared" / "summary.json").read_text())
    assert restricted["disclosure"]["shared"] is False and restricted["disclosure"]["release"] == "restricted"
    assert shared["disclosure"]["release"] == "partner" and shared["disclosure"]["threshold"] == 10
    assert shared["disclosure"]["handling"] != restricted["disclosure"]["handling"]


def _no_small_or_recoverable(s: dict) -> None:
    k = s["disclosure"]["threshold"]
    rows = s["counts"]["by_threat_area_month"]
    assert not any(r["count"] is not None and 0 < r["count"] < k for r in rows)
    for t in s["counts"]["totals_by_threat_area"]:
        mine = [r for r in rows if r["threat_area"] == t["threat_area"] and r["available"]]
        hidden = [r for r in mine if r["suppressed"]]
        if t["count"] is not None and hidden:
            # what the total leaves for the hidden months must be split over two or more and reach k
            rest = t["count"] - sum(r["count"] for r in mine if not r["suppressed"])
            assert len(hidden) >= 2 and rest >= k, t["threat_area"]
    for p in s["top_places"]:
        assert not any(v is not None and 0 < v < k for v in p["components"].values())


def test_shared_summary_has_no_small_counts_and_totals_reveal_none(profile):
    out, _ = profile
    _no_small_or_recoverable(json.loads((out / "shared" / "summary.json").read_text()))


COUNT_TABLES = ("<th>month</th>", "StreetSafe reports</th>", "crimes within</th>", "score</th>", "crimes</th>")
NOT_COUNTS = ("month", "rank", "H3 cell", "ratio", "venue", "postcode", "closing (2014 list)",
              "NTE incidents (nearest)", "most given reasons", "main map point (share)", "LSOA", "IMD decile", "Gi* z",
              "score", "place", "OS grid ref", "local authority", "residents (mid-2015)", "per 1,000 a year",
              "95% interval", "PAI (built-up area)", "locations of", "crimes at repeat locations",
              "crimes at the busiest 10%", "ratio (smoothed)")


def _count_cells_ok(html: str, k: int) -> int:
    tables = [t for t in re.findall(r'<table class="data[^"]*">.*?</table>', html, flags=re.S)
              if any(h in t for h in COUNT_TABLES)]
    checked = 0
    for table in tables:
        header = re.findall(r"<th[^>]*>([^<]*)</th>", table)
        for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
            for name, cell in zip(header, cells, strict=False):
                if name in NOT_COUNTS:
                    continue
                v = re.sub(r"<[^>]+>", "", cell).strip().replace(",", "")
                assert v == "[c]" or (v.isdigit() and (int(v) == 0 or int(v) >= k)), (name, v)
                checked += 1
    return checked


def test_shared_report_shows_withheld_cells_and_no_small_counts(profile):
    out, _ = profile
    html = (out / "shared" / "report.html").read_text()
    k = json.loads((out / "shared" / "summary.json").read_text())["disclosure"]["threshold"]
    assert "[c]" in html
    assert _count_cells_ok(html, k) > 100
    restricted = (out / "report.html").read_text()
    assert "SHARED VERSION" not in restricted and f"SHARED VERSION, partner release: counts below {k}" in html


def test_report_is_self_contained_and_marked(profile):
    out, _ = profile
    for path in (out / "report.html", out / "shared" / "report.html"):
        html = path.read_text()
        assert "OFFICIAL-SENSITIVE" in html
        assert not re.search(r'<img[^>]+src="(?!data:)', html)  # every figure embedded
        assert len(re.findall(r'<img[^>]+src="data:image/png', html)) >= 8
        assert "<script" not in html.lower()
        assert "SYNTHETIC" in html


def _handling(html: str) -> str:
    return re.search(r'<thead>.*?<span class="handling">(.*?)</span>', html, flags=re.S).group(1)


def test_restricted_and_shared_reports_carry_different_handling_lines(profile):
    out, _ = profile
    restricted, shared = (out / "report.html").read_text(), (out / "shared" / "report.html").read_text()
    assert _handling(restricted) and _handling(shared) and _handling(restricted) != _handling(shared)


@needs_pdf
@pytest.mark.parametrize("version", ["", "shared"])
def test_pdf_pages_are_marked_and_figures_are_not_blank(profile, tmp_path, version):
    from matplotlib.image import imread

    out, _ = profile
    pdf = out / version / "report.pdf"
    if not pdf.exists():
        pytest.skip("report.pdf not written: Chromium is not installed on this machine")
    handling = re.sub(r"\s+", " ", _handling((out / version / "report.html").read_text()))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 8
    for i, page in enumerate(pages, start=1):
        assert page.count("OFFICIAL-SENSITIVE") >= 2, f"page {i} lacks the marking top and bottom"
        assert handling[:40] in re.sub(r"\s+", " ", page), f"page {i} lacks its handling line"
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "pg")], check=True)
    pngs = sorted(tmp_path.glob("pg-*.png"))
    assert len(pngs) == len(pages)
    dark = []
    for p in pngs:
        img = imread(p)
        grey = img[..., :3].mean(axis=2)
        assert grey.std() > 0.01, f"{p.name} is blank"
        dark.append((grey < 0.5).mean())
    # the map and chart pages carry real ink, not just a header
    assert sum(d > 0.02 for d in dark) >= 3


def test_text_from_data_is_escaped():
    from profiles.render.report import render_report_html

    evil = "<script>alert('x')</script>{{ 7*7 }}"
    html = render_report_html(_minimal_context(evil))
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html and "{{ 7*7 }}" in html


def _minimal_context(text: str) -> dict:
    place = {"rank": "1", "h3_cell": "89195823073ffff", "label": text, "lsoa": text, "imd_decile": "1", "count": "9",
             "gi_z": "3.0", "grid_ref": text, "check": text}
    return {
        "places_show_z": True,
        "venues_show_postcode": True,
        "venues_synthetic": True,
        "marking": "OFFICIAL",
        "handling": text,
        "force": text,
        "period_text": "2024-01 to 2024-12",
        "missing_months": [],
        "shared": True,
        "release": "partner",
        "release_text": text,
        "release_label": text,
        "threshold": 10,
        "suppressed_cells": 3,
        "created": "now",
        "version": "0",
        "config_file": text,
        "config_sha256": "0" * 64,
        "synthetic_sources": [text],
        "findings": [{"id": "F1", "text": text, "grade": text, "confidence": text, "basis": text}],
        "recommendations": [
            {"id": "R1", "text": text, "finding_id": "F1", "place": text, "time": text, "partner": text, "tactic": text,
             "pillar": text, "owner": text, "measure": text, "priority": text, "review": text}
        ],
        "gaps": [{"id": "G1", "text": text, "collect": text, "source": text, "owner": text}],
        "product": {"requester": text, "requirement": text, "aims": [text], "key_questions": [text], "author": text,
                    "reviewer": text, "distribution": [text], "review": text},
        "fused_basis": {"recorded": text, "period": text, "public_space": True, "private_excluded": text,
                        "min_recorded": text, "synthetic": [text]},
        "harm_sources": [{"source": text, "events": text, "harm": text, "verified": text}],
        "space_rows": [{"area": text, "public": text, "private": text}],
        "yardstick": [{"term": text, "range": text}],
        "spacetime_rows": [{"cls": text, "cells": "1", "meaning": text}],
        "outcome_rows": [{"group": text, "offences": text, "assigned": text, "charged": text, "o14": text, "o15": text,
                          "o16": text, "share_charged": text, "share_14_16": text}],
        "definitions": {"police_uk_crime_types": [text], "vawg_offence_table": text, "nte_window": text,
                        "harm_index": text},
        "n_study_cells": 1,
        "cell_area_km2": "0.1",
        "sources": [{"name": text, "licence": text, "synthetic": True, "period": text, "read": "1", "accepted": "1",
                     "quarantined": "0", "reasons": {text: text}}],
        "trend_charts": [{"src": "javascript:alert(1)", "alt": text, "title": text, "note": text}],
        "trend_text": text,
        "trend_table": {"columns": [text], "rows": [{"month": text, "values": [text]}]},
        "where_maps": [],
        "places": [place],
        "combined_places": [{"rank": "1", "h3_cell": text, "label": text, "values": [text], "score": text}],
        "combined_sources": [("rms", text)],
        "nte_rows": [{"source": text, "events": text, "share": text}],
        "when_charts": [],
        "what_charts": [],
        "harm_text": text,
        "perception": [{"h3_cell": text, "reports": text, "recorded": text, "ratio": text, "eb": text,
                        "reasons": text}],
        "perception_charts": [],
        "venues": [{"rank": 1, "name": text, "postcode": text, "closing": text, "crime": 1, "ae": 1, "nte": "1"}],
        "venue_distance": "50",
        "venue_charts": [],
        "deprivation_text": text,
        "deprivation_charts": [],
        "venue_concentration_text": text,
        "quality": [{"method": text, "area_share": text, "hit_rate": text, "pai": text, "pei": text, "rri": text,
                     "pai_built": text}],
        "rate_rows": [{"area": text, "count": text, "population": text, "rate": text, "ci": text}],
        "built_share": text,
        "repeat_rows": [{"source": text, "events": text, "locations": text, "repeats": text, "share": text,
                         "top10": text}],
        "quality_split": text,
        "annex": [(text, text)],
        "inputs": [{"source": text, "file": text, "sha256": text}],
        "credits": [text],
    }


def test_a_script_url_never_reaches_an_img_src():
    from profiles.render.report import render_report_html

    html = render_report_html(_minimal_context("x"))
    assert "javascript:" not in html and 'src="about:invalid#unsafe-url"' in html


def test_map_html_marks_synthetic_layers_and_hides_small_counts(profile):
    out, _ = profile
    m = (out / "shared" / "map.html").read_text()
    assert "[SYNTHETIC]" in m and "OFFICIAL-SENSITIVE" in m


def test_findings_recommendations_are_tied(profile):
    out, _ = profile
    s = json.loads((out / "summary.json").read_text())
    ids = {f["id"] for f in s["key_findings"]}
    for r in s["recommendations"]:
        assert r["finding_id"] in ids
        assert all(r[k] for k in ("place", "time", "partner", "tactic"))
    assert np.isfinite([q["pai"] for q in s["hotspot_quality"] if q["pai"] is not None]).all()


def test_shared_profile_of_small_layers_withholds_small_counts(tmp_path):
    """Small layers make disclosure control work: compute -> to_shared -> render publishes nothing small."""
    from profiles.compute import compute_profile
    from profiles.demo import synth
    from profiles.render.report import render_report_html, report_context
    from profiles.render.summary import build_summary
    from profiles.shared import to_shared
    from profiles.synth_cli import default_anchors
    from tests.conftest import DATA

    anchors = default_anchors()
    small = {}  # small synthetic layers: per-group monthly counts in the tens, many below the threshold
    for kind, gen, n in (
        ("rms", synth.generate_rms, 400),
        ("streetsafe", synth.generate_streetsafe, 150),
        ("ae", synth.generate_ae, 120),
    ):
        df = gen(n, anchors=anchors, start="2024-01", end="2024-02", seed=11)
        small[kind] = tmp_path / f"SYNTHETIC_{kind}.csv"
        df.to_csv(small[kind], index=False)
    text = (ROOT / "configs" / "avon-and-somerset.toml").read_text(encoding="utf-8")
    text = text.replace(
        'police_uk = ["../data/policeuk/avon-and-somerset"]', 'police_uk = ["PUK/2024-01", "PUK/2024-02"]'
    )
    for kind, path in small.items():
        text = text.replace(f'"../data/synthetic/SYNTHETIC_{kind}_avon-and-somerset.csv.gz"', f'"{path}"')
    text = text.replace("../data", str(DATA)).replace("PUK", str(DATA / "policeuk" / "avon-and-somerset"))
    cfg_path = tmp_path / "force.toml"
    cfg_path.write_text(text, encoding="utf-8")
    restricted = compute_profile(load_config(cfg_path))
    shared = to_shared(restricted, 10)
    s = build_summary(shared)  # validated: no count 1..k-1, no month recoverable from its total
    assert s["disclosure"]["threshold"] == 10 and s["disclosure"]["suppressed_cells"] > 0
    assert any(r["suppressed"] for r in s["counts"]["by_threat_area_month"])
    _no_small_or_recoverable(s)
    html = render_report_html(report_context(shared, {}))
    assert "[c]" in html and _count_cells_ok(html, 10) > 0
    r = build_summary(restricted)
    assert not any(row["suppressed"] for row in r["counts"]["by_threat_area_month"])
