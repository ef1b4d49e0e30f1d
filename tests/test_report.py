"""The force problem profile: report.html/.pdf, map.html, summary.json, restricted and shared.

The demo profile is built once (module fixture, ~20 s). The PDF checks render every
page to PNG with poppler's pdftoppm and read its text with pdftotext, so they look
at what an analyst would see: pages exist, the marking is on every page, figures
are not blank.
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
def profile(tmp_path_factory):
    from profiles.force_profile import run

    out = tmp_path_factory.mktemp("profile")
    cfg = load_config(ROOT / "configs" / "avon-and-somerset.toml")
    res = run(cfg, out_dir=out, share=True)
    return out, res


def test_every_output_is_written_and_the_shared_version_sits_beside(profile):
    out, res = profile
    for name in ("report.html", "map.html", "summary.json"):
        assert (out / name).stat().st_size > 1000
        assert (out / "shared" / name).stat().st_size > 1000
    times = res["run"]["stage_seconds"]
    assert {"ingest police.uk", "combine sources", "charts and maps"} <= set(times)


def test_summary_validates_and_echoes_definitions(profile):
    from profiles.summary import validate_summary

    out, _ = profile
    for path in (out / "summary.json", out / "shared" / "summary.json"):
        s = json.loads(path.read_text())
        validate_summary(s)
        assert s["definitions"]["nte_window"] == "Fri,Sat 21:00-06:00"
        assert s["synthetic_sources"] == ["ae", "rms", "streetsafe"]
        assert 5 <= len(s["key_findings"]) <= 8
        assert s["period"]["missing_months"] == ["2024-07", "2024-08"]
    restricted = json.loads((out / "summary.json").read_text())
    assert restricted["disclosure"]["shared"] is False


def test_shared_summary_has_no_small_counts_and_totals_reveal_none(profile):
    out, _ = profile
    s = json.loads((out / "shared" / "summary.json").read_text())
    k = s["disclosure"]["threshold"]
    rows = s["counts"]["by_threat_area_month"]
    published = [r["count"] for r in rows if r["count"] is not None]
    assert not any(0 < c < k for c in published)
    totals = {t["threat_area"]: t for t in s["counts"]["totals_by_threat_area"]}
    for area, t in totals.items():
        mine = [r for r in rows if r["threat_area"] == area and r["available"]]
        hidden = [r for r in mine if r["suppressed"]]
        if t["count"] is not None and hidden:
            # what the total leaves for the hidden months must be split over two or more and reach k
            rest = t["count"] - sum(r["count"] for r in mine if not r["suppressed"])
            assert len(hidden) >= 2 and rest >= k, area
    for p in s["top_places"]:
        assert not any(v is not None and 0 < v < k for v in p["components"].values())


def test_shared_report_shows_suppressed_cells_and_no_small_counts(profile):
    out, _ = profile
    html = (out / "shared" / "report.html").read_text()
    assert "[c]" in html
    k = 5
    count_tables = [
        t
        for t in re.findall(r'<table class="data">.*?</table>', html, flags=re.S)
        if "<th>month</th>" in t or "StreetSafe reports</th>" in t or "crimes within</th>" in t
    ]
    assert count_tables
    for table in count_tables:
        header = re.findall(r"<th[^>]*>([^<]*)</th>", table)
        for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
            for name, cell in zip(header, cells, strict=False):
                if name in (
                    "month",
                    "rank",
                    "H3 cell",
                    "ratio",
                    "venue",
                    "postcode",
                    "closing (2014 list)",
                    "NTE incidents (nearest)",
                    "most given reasons",
                ):
                    continue
                v = cell.strip().replace(",", "")
                assert v == "[c]" or (v.isdigit() and (int(v) == 0 or int(v) >= k)), (name, v)
    restricted = (out / "report.html").read_text()
    assert "SHARED VERSION" not in restricted and "SHARED VERSION" in html


def test_report_is_self_contained_and_marked(profile):
    out, _ = profile
    html = (out / "report.html").read_text()
    assert "OFFICIAL-SENSITIVE" in html
    assert not re.search(r'<img[^>]+src="(?!data:)', html)  # every figure embedded
    assert "<script" not in html.lower()
    assert "SYNTHETIC" in html


@needs_pdf
def test_pdf_pages_are_marked_and_figures_are_not_blank(profile, tmp_path):
    from matplotlib.image import imread

    out, _ = profile
    pdf = out / "report.pdf"
    if not pdf.exists():
        pytest.skip("report.pdf not written: Chromium is not installed on this machine")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) >= 8
    for i, page in enumerate(pages, start=1):
        assert page.count("OFFICIAL-SENSITIVE") >= 2, f"page {i} lacks the marking top and bottom"
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


def test_text_from_data_is_escaped(tmp_path):
    from profiles.report import render_report_html

    evil = "<script>alert('x')</script>"
    ctx = _minimal_context(evil)
    html = render_report_html(ctx, tmp_path / "r.html").read_text()
    assert evil not in html
    assert "&lt;script&gt;" in html


def _minimal_context(text: str) -> dict:
    place = {
        "rank": 1,
        "h3_cell": "89195823073ffff",
        "label": text,
        "lsoa": text,
        "imd_decile": "1",
        "count": "9",
        "gi_z": "3.0",
    }
    return {
        "marking": "OFFICIAL",
        "handling": text,
        "force": text,
        "period_text": "2024-01 to 2024-12",
        "missing_months": [],
        "shared": False,
        "threshold": 5,
        "created": "now",
        "version": "0",
        "config_file": text,
        "config_sha256": "0" * 64,
        "synthetic_sources": [],
        "findings": [{"id": "F1", "text": text}],
        "recommendations": [
            {"id": "R1", "text": text, "finding_id": "F1", "place": text, "time": text, "partner": text, "tactic": text}
        ],
        "gaps": [{"id": "G1", "text": text}],
        "definitions": {
            "police_uk_crime_types": [text],
            "vawg_offence_table": "v",
            "nte_window": "w",
            "harm_index": "h",
        },
        "n_study_cells": 1,
        "cell_area_km2": "0.1",
        "sources": [],
        "trend_charts": [],
        "trend_text": text,
        "trend_table": None,
        "where_maps": [],
        "places": [place],
        "combined_places": [],
        "combined_sources": [],
        "nte_rows": [],
        "when_charts": [],
        "what_charts": [],
        "harm_text": text,
        "perception": [],
        "perception_charts": [],
        "venues": [{"rank": 1, "name": text, "postcode": text, "closing": text, "crime": 1, "ae": 1, "nte": "1"}],
        "venue_distance": "50",
        "venue_charts": [],
        "deprivation_text": text,
        "deprivation_charts": [],
        "venue_concentration_text": text,
        "quality": [],
        "quality_split": text,
        "annex": [(text, text)],
        "inputs": [],
        "credits": [text],
    }


def test_map_html_marks_synthetic_layers_and_hides_small_counts(profile):
    out, _ = profile
    m = (out / "shared" / "map.html").read_text()
    assert "[SYNTHETIC]" in m and "OFFICIAL-SENSITIVE" in m
    assert "suppressed for sharing" in m


def test_findings_recommendations_are_tied(profile):
    out, _ = profile
    s = json.loads((out / "summary.json").read_text())
    ids = {f["id"] for f in s["key_findings"]}
    for r in s["recommendations"]:
        assert r["finding_id"] in ids
        assert all(r[k] for k in ("place", "time", "partner", "tactic"))
    assert np.isfinite([q["pai"] for q in s["hotspot_quality"] if q["pai"] is not None]).all()


def test_shared_profile_suppresses_small_counts_end_to_end(tmp_path):
    """Small layers force suppression through the real pipeline; nothing small or recoverable is published."""
    from hotspots import synth
    from profiles.force_profile import run
    from profiles.summary import validate_summary
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
    text = text.replace("threshold = 5", "threshold = 10")
    text = text.replace("../data", str(DATA)).replace("PUK", str(DATA / "policeuk" / "avon-and-somerset"))
    cfg_path = tmp_path / "force.toml"
    cfg_path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    run(load_config(cfg_path), out_dir=out, share=True)
    s = json.loads((out / "shared" / "summary.json").read_text())
    validate_summary(s)
    k = s["disclosure"]["threshold"]
    assert k == 10 and s["disclosure"]["suppressed_cells"] > 0
    rows = s["counts"]["by_threat_area_month"]
    assert any(r["suppressed"] for r in rows)
    assert not any(r["count"] is not None and 0 < r["count"] < k for r in rows)
    for t in s["counts"]["totals_by_threat_area"]:
        mine = [r for r in rows if r["threat_area"] == t["threat_area"] and r["available"]]
        hidden = [r for r in mine if r["suppressed"]]
        if t["count"] is not None and hidden:
            rest = t["count"] - sum(r["count"] for r in mine if not r["suppressed"])
            assert len(hidden) >= 2 and rest >= k, t["threat_area"]
    for p in s["top_places"]:
        assert not any(v is not None and 0 < v < k for v in p["components"].values())
    restricted = json.loads((out / "summary.json").read_text())
    assert not any(r["suppressed"] for r in restricted["counts"]["by_threat_area_month"])
