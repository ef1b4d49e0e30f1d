"""The report renderer (profiles.render.report): ProfileNumbers in, report.html/.pdf out, formatting only.

The numbers here are built by hand with values that appear nowhere else
(4,321 crimes, score 6.58, ...), so each test can look for exactly the number
it gave and nothing the renderer could have made up. A shared copy is built
the way ``to_shared`` leaves one: withheld values are None/NA with their
suppressed flags set, and a partner handling line.
"""

from __future__ import annotations

import base64
import dataclasses
import html as htmllib
import re
import shutil
import subprocess

import pandas as pd
import pytest

from profiles.findings import Finding, Gap, Recommendation
from profiles.numbers import (
    Context,
    DataQuality,
    Disclosure,
    Findings,
    Fused,
    Hotspots,
    InputFile,
    Meta,
    ProfileNumbers,
    SourceQuality,
    ThreatCounts,
    Trend,
    Venues,
    Volume,
    What,
    When,
)
from profiles.render.report import method_annex, render_report, render_report_html, report_context

CELLS = ("89195823073ffff", "8919582300bffff", "89195839267ffff")
MONTHS = ("2024-01", "2024-02", "2024-03")
RESTRICTED_HANDLING = "Restricted: force analysts only; do not share."
PARTNER_HANDLING = "Partner release under the ISA; do not publish."
PNG = b"\x89PNG\r\n\x1a\nnot-really-a-png"


def make_numbers() -> ProfileNumbers:
    """Restricted numbers with distinctive values (no disclosure control)."""
    meta = Meta(
        force_name="Testshire Police",
        force_slug="testshire",
        marking="OFFICIAL-SENSITIVE",
        created_utc="2026-01-20T10:15:00Z",
        tool_version="9.8.7",
        python="3.11.7",
        config_file="configs/testshire.toml",
        config_sha256="ab" * 32,
        config={},
        params={
            "kde": {"kernel": "quartic", "radius_m": 437.0, "pixel_m": 91.0},
            "gi_star": {"weights": "binary k-ring, k=1", "inference": "analytical", "correction": "BH FDR",
                        "alpha": 0.05},
            "dbscan": {"eps_m": 123.0, "min_samples": 61, "zoom": None, "zoom_name": None},
            "test_months": 6,
        },
        resolution=9,
        n_study_cells=50_973,
        cell_area_km2=0.1053,
        first_month=MONTHS[0],
        last_month=MONTHS[-1],
        months=MONTHS,
        missing_months=("2024-02",),
        crime_types=("Violence and sexual offences", "Public order"),
        definitions={
            "nte_window": "Fri,Sat 21:00-06:00",
            "vawg_offence_table": "vawg-offences-test.1",
            "harm_index": "harm-test@1",
            "harm_weights": {"events_weighted": 2_468, "verified": 1_357},
            "venue_distance_m": 55.0,
        },
        synthetic_sources=("rms",),
        inputs=(InputFile("police_uk", "2024-01-street.csv", "cd" * 32), InputFile("rms", "rms.csv", "ef" * 32)),
    )
    sources = (
        SourceQuality("police_uk", "police.uk recorded crime", "data.police.uk, OGL v3.0", False, "2024-01",
                      "2024-03", 9_100, 9_000, 100, {"no_coordinates": 100}, 100 / 9_100),
        SourceQuality("rms", "force RMS recorded crime", "force RMS export", True, "2024-01", "2024-03",
                      3_000, 2_990, 10, {"no_coordinates": 10}, 10 / 3_000),
    )
    gi = pd.DataFrame({"h3_cell": list(CELLS), "count": [4_321, 1_234, 876], "gi_z": [7.71, 5.55, 3.33],
                       "gi_p": [0.0, 0.0, 0.001], "gi_significant": [True, True, True], "gi_bin": [3, 3, 2]})
    places = pd.DataFrame({
        "rank": [1, 2, 3], "h3_cell": list(CELLS), "count": [4_321, 1_234, 876],
        "label": ["On or near Nightclub (32%)", "On or near <Market> Street (30%)", "On or near Park (25%)"],
        "lsoa": ["Bristol 061A", "Bristol 061C", "Bath 007A"], "lsoa_code": ["E01014370", "E01014371", None],
        "imd_decile": [4, 6, None], "gi_z": [7.71, 5.55, 3.33],
    })
    quality = pd.DataFrame({"method": ["gi_star", "top_cells"], "n_cells": [10, 5], "area_share": [0.0329, 0.01],
                            "hit_rate": [0.7036, 0.4643], "pai": [21.41, 46.57], "pei": [0.8589, 0.9385],
                            "rri": [0.9907, float("nan")], "n_test_hot": [7, 4], "n_test": [10, 10]})
    hotspots = Hotspots(counts=None, gi=gi, kde=None, clusters=None, points=None, places=places, quality=quality,
                        pai_curve=None, split={"train_months": ["2024-01"], "test_months": ["2024-03"]})
    monthly = pd.DataFrame({"month": list(MONTHS), "count": [2_100, 0, 2_200], "available": [True, False, True]})
    by_type = pd.DataFrame({
        "month": [m for m in MONTHS for _ in range(2)],
        "crime_type": ["Public order", "Violence and sexual offences"] * 3,
        "count": pd.array([1_149, 4_424, 0, 0, 1_301, 4_169], dtype="Int64"),
        "available": [True, True, False, False, True, True],
    })
    trend = Trend(monthly=monthly, yoy={"available": False, "reason": "only 3 months"}, chart=None, by_type=by_type)
    table = pd.DataFrame({
        "threat_area": ["police_uk_violence_sexual"] * 3 + ["rape"] * 3,
        "month": list(MONTHS) * 2,
        "count": pd.array([4_424, 0, 4_169, 31, 0, 29], dtype="Int64"),
        "available": [True, False, True, True, True, True],
        "suppressed": [False] * 6,
    })
    totals = pd.DataFrame({"threat_area": ["police_uk_violence_sexual", "rape"],
                           "count": pd.array([8_593, 60], dtype="Int64"), "suppressed": [False, False]})
    threats = ThreatCounts(table=table, totals=totals,
                           sources={"police_uk_violence_sexual": "police_uk", "rape": "rms"})
    fused_places = pd.DataFrame({
        "h3_cell": list(CELLS), "police_uk_count": [270, 306, 184], "rms_count": [751, 717, 472],
        "police_uk_share": [0.01, 0.02, 0.03], "rms_share": [0.04, 0.05, 0.06],
        "place_score": [6.5817, 6.1546, 4.7759], "place_rank": [1, 2, 3],
        "label": ["On or near Westgate Street, Bath 007A", None, "On or near Park, Bath 007A"],
        "lsoa_code": ["E01014370", None, "E01014372"], "imd_decile": [4, None, 6],
    })
    perception = pd.DataFrame({
        "h3_cell": list(CELLS), "perception_count": [322, 312, 40], "recorded_count": [15, 1_021, 4_000],
        "gap_ratio": [539.8, 16.1, 0.2], "gap_class": ["felt unsafe, little recorded"] * 2 + ["as recorded"],
        "reasons": ["Badly lit (59%)", "Verbal harassment (43%)", ""],
    })
    fused = Fused(grids={}, places=fused_places, perception=perception, kde_recorded=None, perception_raster=None)
    risk = pd.DataFrame({"name": ["Slug And Lettuce", "The Westgate"], "postcode": ["BA1 2EE", "BA1 1EL"],
                         "closing_times": ["Fri 0:00", ""], "x": [1.0, 2.0], "y": [1.0, 2.0],
                         "crime_within": [161, 194], "ae_within": [85, 75], "nearest_nte": [55.2, 51.5],
                         "risk_rank": [1, 2]})
    venues = Venues(risk=risk, risky=None, summary=None, concentration_area=None, concentration=None)
    nte_by_source = pd.DataFrame({
        "source": ["police_uk", "rms"], "label": ["police.uk recorded crime", "force RMS recorded crime"],
        "synthetic": [False, True], "events": [8_593, 2_990], "nte_share": [None, 0.2115],
        "time_resolved": [False, True],
    })
    when = When(weekday_hour={}, nte_by_source=nte_by_source, nte=None)
    what = What(police_uk_mix=pd.Series({"Violence and sexual offences": 8_593}), rms_mix=None, rms_harm=None,
                rms_synthetic=True,
                harm_by_group=pd.DataFrame({"threat_area": ["police_uk_violence_sexual", "rape"],
                                            "harm": [22_147.5, 3_127.0]}),
                harm_total=25_274.5, harm_text="Harm (harm-test@1): 25,275 index units in all.")
    findings = Findings(
        findings=tuple(Finding(f"F{i}", f"Finding number {i} says 4,321.", {"value": float(i)}) for i in range(1, 6)),
        gaps=(Gap("G1", "No CCTV data.", {"missing_sources": 1}),),
        recommendations=(Recommendation("R1", "Walk the top cell.", "F1", "top cell", "all hours", "CSP", "SARA",
                                        pillar="Prevent", owner="CSP chair", measure="crime in the cell",
                                        priority="medium", review="2026-07-20"),),
    )
    return ProfileNumbers(
        meta=meta,
        disclosure=Disclosure(handling=RESTRICTED_HANDLING),
        sources=sources,
        volume=Volume(total=8_593, top_cells=1, top_share=0.5, top_area_share=0.01, gi_hot_cells=3,
                      gi_hot_share=0.7, gi_hot_area_share=0.03),
        hotspots=hotspots,
        trend=trend,
        threats=threats,
        fused=fused,
        venues=venues,
        when=when,
        what=what,
        context=Context(deprivation=None, comparison=None),
        quality=DataQuality(no_coordinates=100, no_coordinates_share=100 / 9_100, stacking_share=0.6911,
                            harm_unverified=0.45),
        findings=findings,
    )


def make_shared(numbers: ProfileNumbers | None = None) -> ProfileNumbers:
    """A shared copy as to_shared leaves one: some counts and derived values withheld (None/NA), partner release."""
    n = numbers or make_numbers()
    table = n.threats.table.copy()
    hide = table["threat_area"].eq("rape") & table["month"].isin(["2024-01", "2024-03"])
    table.loc[hide, "count"] = pd.NA
    table.loc[hide, "suppressed"] = True
    totals = n.threats.totals.copy()
    places = n.fused.places.copy()
    places["rms_count"] = places["rms_count"].astype(object)
    places.loc[1, ["rms_count", "place_score", "rms_share"]] = None
    perception = n.fused.perception.copy().astype({"recorded_count": object})
    perception.loc[0, "recorded_count"] = None
    risk = n.venues.risk.copy().astype({"ae_within": object})
    risk.loc[1, "ae_within"] = None
    hs_places = n.hotspots.places.copy().astype({"gi_z": object})
    hs_places.loc[2, "gi_z"] = None
    by_type = n.trend.by_type.copy()
    by_type.loc[0, "count"] = pd.NA
    definitions = {**n.meta.definitions, "harm_weights": {"events_weighted": 2_468, "verified": None}}
    return dataclasses.replace(
        n,
        meta=dataclasses.replace(n.meta, definitions=definitions),
        disclosure=Disclosure(release="partner", threshold=10, handling=PARTNER_HANDLING,
                              method="primary < k, secondary suppression, audited", suppressed_cells=7,
                              withheld=("place_score of places with a withheld component: recoverable from it.",)),
        threats=dataclasses.replace(n.threats, table=table, totals=totals),
        fused=dataclasses.replace(n.fused, places=places, perception=perception),
        venues=dataclasses.replace(n.venues, risk=risk),
        hotspots=dataclasses.replace(n.hotspots, places=hs_places),
        trend=dataclasses.replace(n.trend, by_type=by_type),
    )


def _text(cell: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", cell))


def _tables(html: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every data table as (header, rows of cell texts)."""
    out = []
    for t in re.findall(r'<table class="data[^"]*">(.*?)</table>', html, flags=re.S):
        header = [_text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", t, flags=re.S)]
        rows = [
            [_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S)]
            for r in re.findall(r"<tr>(.*?)</tr>", t, flags=re.S)
        ]
        out.append((header, [r for r in rows if r]))
    return out


def _table(html: str, first_header: str, contains: str) -> tuple[list[str], list[list[str]]]:
    found = [t for t in _tables(html) if t[0] and t[0][0] == first_header and contains in t[0]]
    assert len(found) == 1, (first_header, contains)
    return found[0]


NOT_COUNTS = {
    "month", "rank", "H3 cell", "ratio", "venue", "postcode", "closing (2014 list)", "NTE incidents (nearest)",
    "most given reasons", "main map point (share)", "LSOA", "IMD decile", "Gi* z", "score", "source",
    "licence / status", "period", "main reasons", "layer", "area share", "hit rate", "PAI", "PEI", "RRI",
    "share in the NTE window", "item", "value", "file", "sha256", "id", "recommendation", "finding", "place", "time",
    "partner", "tactic",
    # product tables: sign-off, collection plan, 4P plan, harm per source (amounts, not counts)
    "role", "name", "date", "signature", "gap", "collect", "from", "owner", "by", "4P · id", "action",
    "owner · partner", "measure of success", "priority · review", "recorded-crime source", "harm (2 s.f.)",
    "weights verified", "threat area", "OS grid ref",
    # space-time classes: numbers of places (cells), not of crimes or people
    "class", "cells", "meaning", "ratio (smoothed)", "charged share", "14-16 share", "PAI (built-up area)",
    "local authority",
    "residents (mid-2015)", "per 1,000 a year", "95% interval", "locations of", "crimes at repeat locations",
    "crimes at the busiest 10%",
}
"""Report table columns that hold no count (every other column of a data table is a count)."""


def _count_cells(html: str, *, k: int) -> int:
    """Assert every count cell of every data table is [c], 0 or >= k; return how many were checked."""
    counted = 0
    for header, rows in _tables(html):
        for row in rows:
            for name, cell in zip(header, row, strict=False):
                if name in NOT_COUNTS:
                    continue
                v = cell.replace(",", "")
                assert v == "[c]" or (v.isdigit() and (int(v) == 0 or int(v) >= k)), (name, v)
                counted += 1
    return counted


@pytest.fixture(scope="module")
def restricted_html() -> str:
    return render_report_html(report_context(make_numbers(), {}))


@pytest.fixture(scope="module")
def shared_html() -> str:
    return render_report_html(report_context(make_shared(), {}))


def test_context_shows_exactly_the_given_numbers(restricted_html):
    html = restricted_html
    _, places = _table(html, "rank", "main map point (share)")
    assert [r[6] for r in places] == ["4,321", "1,234", "876"]
    assert [r[7] for r in places] == ["7.7", "5.5", "3.3"]
    assert [r[5] for r in places] == ["4", "6", "–"]  # no IMD decile: a dash, not [c]
    assert places[1][2] == "On or near <Market> Street (30%)"  # text unescaped back from &lt; (escaped in HTML)
    header, combined = _table(html, "rank", "score")
    assert header[2:] == ["place", "police.uk", "RMS crimes [SYNTHETIC]", "score"]
    assert [r[:2] + r[3:] for r in combined] == [["1", CELLS[0], "270", "751", "6.58"],
                                                 ["2", CELLS[1], "306", "717", "6.15"],
                                                 ["3", CELLS[2], "184", "472", "4.78"]]
    header, trend = _table(html, "month", "Public order")
    assert header == ["month", "Public order", "Violence and sexual offences"]
    assert trend == [["2024-01", "1,149", "4,424"], ["2024-03", "1,301", "4,169"]]  # the unavailable month left out
    _, perception = _table(html, "H3 cell", "StreetSafe reports")
    assert perception == [[CELLS[0], "322", "15", "539.8", "539.8", "Badly lit (59%)"],  # no EB column: the raw
                          [CELLS[1], "312", "1,021", "16.1", "16.1", "Verbal harassment (43%)"]]
    _, venues = _table(html, "rank", "venue")
    assert [r[4:] for r in venues] == [["161", "85", "55.2"], ["194", "75", "51.5"]]
    _, nte = _table(html, "source", "share in the NTE window")
    assert nte == [["police.uk recorded crime", "8,593", "not time-resolved"],
                   ["force RMS recorded crime [SYNTHETIC]", "2,990", "21.1%"]]
    _, quality = _table(html, "layer", "PAI")
    assert [r[:4] + r[5:] for r in quality] == [["gi_star", "3.3%", "70.4%", "21.4", "0.86", "0.99"],
                                                ["top_cells", "1.0%", "46.4%", "46.6", "0.94", "–"]]
    _, sources = _table(html, "source", "rows read")
    assert sources[0][:6] == ["police.uk recorded crime", "data.police.uk, OGL v3.0", "2024-01 to 2024-03",
                              "9,100", "9,000", "100"]
    assert "50,973 H3 cells of ~0.105 km²" in html
    assert "Harm (harm-test@1): 25,275 index units in all." in html
    assert "Year-on-year change not computed: only 3 months." in html
    assert "2026-01-20 10:15 UTC by safer-spaces 9.8.7" in html
    assert "(no data for 2024-02)" in html
    assert "[c]" not in re.sub(r"<h2 class=\"pb\">Annex A.*", "", html, flags=re.S)  # restricted: nothing withheld
    assert "SHARED VERSION" not in html


def test_shared_numbers_render_c_where_withheld_and_no_small_counts(shared_html):
    html = shared_html
    _, combined = _table(html, "rank", "score")
    combined = [r[:2] + r[3:] for r in combined]  # the place column (a label) aside
    assert combined[1] == ["2", CELLS[1], "306", "[c]", "[c]"]  # withheld component and score
    assert combined[0] == ["1", CELLS[0], "270", "751", "6.58"]
    _, trend = _table(html, "month", "Public order")
    assert trend[0] == ["2024-01", "[c]", "4,424"]
    _, perception = _table(html, "H3 cell", "StreetSafe reports")
    assert perception[0][2] == "[c]"
    _, venues = _table(html, "rank", "venue")
    assert venues[1][5] == "[c]"
    _, places = _table(html, "rank", "main map point (share)")
    assert places[2][7] == "[c]" and places[2][5] == "–"  # withheld z vs a decile that does not exist
    assert _count_cells(html, k=10) > 20


def test_restricted_and_shared_carry_different_handling_lines_and_the_shared_names_its_release(
    restricted_html, shared_html
):
    assert RESTRICTED_HANDLING in restricted_html and PARTNER_HANDLING not in restricted_html
    assert PARTNER_HANDLING in shared_html and RESTRICTED_HANDLING not in shared_html
    foot = re.search(r"<tfoot>(.*?)</tfoot>", shared_html, flags=re.S).group(1)
    assert "SHARED VERSION, partner release: counts below 10 withheld ([c])" in foot
    assert "partner release (disclosure-controlled: counts below 10 withheld)" in shared_html
    assert "7 counts withheld" in shared_html
    assert "restricted (full counts)" in restricted_html
    assert re.search(r"<thead>.*" + re.escape(PARTNER_HANDLING), shared_html, flags=re.S)


def test_a_column_with_every_value_withheld_is_left_out(restricted_html):
    n = make_shared()
    places = n.hotspots.places.copy().astype({"gi_z": object})
    places["gi_z"] = None  # to_shared withholds every Gi* z
    n = dataclasses.replace(n, hotspots=dataclasses.replace(n.hotspots, places=places))
    html = render_report_html(report_context(n, {}))
    header, rows = _table(html, "rank", "main map point (share)")
    assert "Gi* z" not in header and all(len(r) == len(header) for r in rows)
    assert "Gi* z" in _table(restricted_html, "rank", "main map point (share)")[0]


def test_method_annex_echoes_parameters_definitions_and_what_was_withheld():
    restricted = dict(method_annex(make_numbers()))
    assert "quartic kernel, fixed radius 437 m, pixel 91 m" in restricted["KDE"]
    assert "eps 123 m, min_samples 61" in restricted["DBSCAN"]
    assert "last 6 available months" in restricted["hotspot quality"]
    assert "weights verified for 1,357 of 2,468" in restricted["harm index"]
    assert "within 55 m" in restricted["venue risk"]
    assert restricted["VAWG offence table"] == "vawg-offences-test.1"
    params = restricted["parameters (config)"]
    assert "kde.radius_m = 437.0" in params and "dbscan.min_samples = 61" in params
    assert "disclosure (shared version)" in restricted
    rows = method_annex(make_shared())
    shared = dict(rows)
    assert shared["disclosure (this version)"].startswith("partner release, threshold 10: primary < k")
    assert ("withheld", "place_score of places with a withheld component: recoverable from it.") in rows
    assert "weights verified for [c] of 2,468 weighted events" in shared["harm index"]


def test_figures_are_embedded_in_their_sections():
    figures = {"figures/trend.png": PNG, "figures/gistar.png": PNG + b"g", "figures/puk_mix.png": PNG + b"p",
               "figures/new_chart.png": PNG + b"n"}
    ctx = report_context(make_numbers(), figures)
    assert [c["alt"] for c in ctx["trend_charts"]] == ["Monthly VAWG-relevant crime with control limits"]
    assert [c["title"] for c in ctx["where_maps"]] == ["Statistically significant hot spots (Gi*)"]
    assert ctx["where_maps"][0]["note"].startswith("Exactly the cells that pass the stated level")
    assert [c["alt"] for c in ctx["what_charts"]] == ["police.uk categories", "new_chart"]  # unknown: shown last
    assert ctx["when_charts"] == [] and ctx["deprivation_charts"] == []
    html = render_report_html(ctx)
    srcs = re.findall(r'<img[^>]+src="([^"]+)"', html)
    assert sorted(srcs) == sorted("data:image/png;base64," + base64.b64encode(b).decode() for b in figures.values())
    assert "<script" not in html.lower()


def test_text_from_numbers_is_escaped():
    evil = "<script>alert('x')</script>{{ 7*7 }}"
    n = make_numbers()
    n = dataclasses.replace(
        n,
        meta=dataclasses.replace(n.meta, force_name=evil),
        venues=dataclasses.replace(n.venues, risk=n.venues.risk.assign(name=[evil, "ok"])),
    )
    html = render_report_html(report_context(n, {}))
    assert evil not in html and "<script" not in html
    assert "&lt;script&gt;" in html and "{{ 7*7 }}" in html


def test_render_report_returns_html_and_pdf_or_warns(monkeypatch, caplog):
    import profiles.render.report as rr
    from hotspots.errors import SaferSpacesError

    def no_chromium(html, **kw):
        raise SaferSpacesError("report.pdf needs Chromium, which is not installed")

    monkeypatch.setattr(rr, "html_to_pdf_bytes", no_chromium)
    with caplog.at_level("WARNING", logger="safer_spaces"):
        out = render_report(make_numbers(), {})
    assert set(out) == {"report.html"} and isinstance(out["report.html"], str)
    assert "report.pdf not written" in caplog.text


@pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None, reason="poppler-utils not installed"
)
def test_pdf_pages_carry_the_marking_and_the_handling_line(tmp_path):
    from profiles.report import find_chromium

    if find_chromium() is None:
        pytest.skip("Chromium is not installed")
    out = render_report(make_shared(), {"figures/trend.png": _real_png()})
    pdf = out["report.pdf"]
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-")
    (tmp_path / "r.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 3
    for i, page in enumerate(pages, start=1):
        assert page.count("OFFICIAL-SENSITIVE") >= 2, f"page {i} lacks the marking top and bottom"
        assert "SHARED VERSION" in page, f"page {i} lacks the shared footer"
        assert "Partner release under the ISA" in page, f"page {i} lacks the partner handling line"


def _real_png() -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


@pytest.mark.parametrize("seed", range(3))
def test_random_profiles_through_to_shared_render_no_small_count(seed):
    """Random consistent profiles (tests/numbers_factory), shared by to_shared: report and summary hold no 1..k-1."""
    from profiles.render.summary import build_summary
    from profiles.shared import to_shared
    from tests.numbers_factory import make_numbers

    restricted = make_numbers(seed)
    shared = to_shared(restricted, 10)
    html = render_report_html(report_context(shared, {}))
    assert "[c]" in html and _count_cells(html, k=10) > 0
    assert shared.disclosure.handling in html and restricted.disclosure.handling not in html
    summary = build_summary(shared)  # validation refuses any published count 1..k-1 and any recoverable month
    assert summary["disclosure"]["threshold"] == 10 and summary["disclosure"]["release"] == "partner"


def test_a_publication_release_names_itself_and_its_threshold():
    n = make_shared()
    pub = dataclasses.replace(n, disclosure=dataclasses.replace(n.disclosure, release="publication", threshold=5,
                                                                handling="Publication: open."))
    html = render_report_html(report_context(pub, {}))
    foot = re.search(r"<tfoot>(.*?)</tfoot>", html, flags=re.S).group(1)
    assert "SHARED VERSION, publication: counts below 5 withheld ([c])" in foot
    assert "publication (disclosure-controlled: counts below 5 withheld)" in html
    assert "Publication: open." in html and PARTNER_HANDLING not in html
    assert dict(method_annex(pub))["disclosure (this version)"].startswith("publication, threshold 5:")


def test_without_chromium_the_pdf_step_says_how_to_get_it(monkeypatch):
    import profiles.report as pr
    from hotspots.errors import SaferSpacesError

    monkeypatch.setattr(pr, "find_chromium", lambda: None)
    with pytest.raises(SaferSpacesError, match=r"needs Chromium.*apt-get install chromium"):
        pr.html_to_pdf_bytes("<p>x</p>")
