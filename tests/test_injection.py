"""No template or markup injection: every string from data is neutralised for where it lands.

Unit tests check each helper of :mod:`profiles.escape` against the payloads of
issue 10 (Jinja2 delimiters that folium would evaluate, ``</script>``, an
attribute break-out, a ``javascript:`` URL, matplotlib mathtext, ``]]>`` and
U+2028). The end-to-end test plants the same payloads in every text field of
every source (police.uk, venues, RMS, StreetSafe, A&E) and in the config's
own strings, runs ``profile``, and then parses every HTML output: nothing
evaluated (no directory made, no ``49`` where ``{{7*7}}`` was planted), no
element gained an ``on*`` attribute or a ``javascript:`` link, no script
holds the payload as markup, and the payloads are still shown as text.
"""

from __future__ import annotations

import gzip
import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from jinja2 import Template

from profiles.escape import (
    UNSAFE_URL,
    folium_text,
    folium_texts,
    html_attr,
    html_environment,
    html_text,
    mpl_text,
    safe_url,
    script_json,
)
from tests.conftest import DATA, ROOT

MARK = "ZQ{{7*7}}QZ"  # evaluated, this becomes ZQ49QZ: a string no output can hold by chance
PWN = "{{ cycler.__init__.__globals__.os.mkdir('PWNED') }}"
SCRIPT = "</script><script>alert(1)</script>"
ATTR = '"><img src=x onerror=alert(1)>'
MATH = "$\\alpha$ and $\\notacommand{$"  # mathtext would fail on the unknown command
PAYLOADS = [
    "{{7*7}}",
    MARK,
    PWN,
    "The {% Bar",
    "{# x",
    SCRIPT,
    ATTR,
    "javascript:alert(1)",
    MATH,
    "]]>",
    "line\u2028sep\u2029para",
]


# --------------------------------------------------------------------------- helpers, one context each


def _jinja_twice(text: str) -> str:
    """What folium/branca does to a rendered element: compile the output again as a template."""
    return Template(text).render()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_folium_text_survives_a_second_jinja_pass(payload, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    safe = folium_text(payload)
    assert _jinja_twice(safe) == safe  # no delimiter left: the second pass is the identity
    assert not re.search(r"\{[{%#]", safe)
    assert not list(tmp_path.iterdir())  # nothing ran
    # the browser shows exactly the payload
    assert unescape(safe) == payload


def test_folium_text_on_the_raw_payloads_would_have_run(tmp_path, monkeypatch):
    """The test can fail: html.escape alone leaves the delimiters, and the second pass evaluates them."""
    from html import escape

    monkeypatch.chdir(tmp_path)
    assert _jinja_twice(escape("{{7*7}}")) == "49"
    _jinja_twice(escape(PWN, quote=False))
    assert (tmp_path / "PWNED").is_dir()


def test_folium_texts_matches_the_scalar_helper():
    values = [*PAYLOADS, None, 7]
    assert folium_texts(values) == [folium_text(v) for v in PAYLOADS] + ["", "7"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_text_is_what_jinja_autoescape_writes(payload):
    import markupsafe

    assert html_text(payload) == str(markupsafe.escape(payload))
    assert folium_text(payload) == html_text(payload).replace("{", "&#123;").replace("}", "&#125;")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_text_and_attr_leave_no_markup(payload):
    for helper in (html_text, html_attr):
        parsed = _parse(f'<p title="{helper(payload)}">{helper(payload)}</p>')
        assert parsed.tags == [("p", [("title", payload)])]  # one element, one attribute: the payload as data
        assert parsed.text == [payload.replace("\r", "")]
    assert not set(html_attr(payload)) & set("\"'<>=` \t\n")


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("map.html", True),
        ("figures/trend.png", True),
        ("data:image/png;base64,iVBORw0KGgo=", True),
        ("javascript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("//evil.example/a.js", False),
        ("https://evil.example/", False),
        ('x.png" onerror="alert(1)', False),
    ],
)
def test_safe_url(url, kept):
    assert safe_url(url) == (url if kept else UNSAFE_URL)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_script_json_cannot_close_the_script(payload):
    text = script_json({"name": payload, "n": [1, 2]})
    assert json.loads(text) == {"name": payload, "n": [1, 2]}
    assert not set(text) & {"<", ">", "&", "\u2028", "\u2029"}
    parsed = _parse(f"<script>var d = {text};</script><p>after</p>")
    assert [t for t, _ in parsed.tags] == ["script", "p"]
    assert len(parsed.scripts) == 1


def test_script_json_refuses_nan():
    with pytest.raises(ValueError):
        script_json(float("nan"))


@pytest.mark.parametrize("payload", [MATH, "$x$", "cost $5 and $6", "\\$ and $", "$\\frac{1"])
def test_mpl_text_draws_literally(payload, tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    t = fig.text(0.1, 0.5, mpl_text(payload))
    shown, is_math = t._preprocess_math(t.get_text())
    assert (shown, is_math) == (payload, False)
    fig.savefig(tmp_path / "x.png")  # no mathtext parse error


@pytest.mark.parametrize("chart", ["bar", "weekday"])
def test_charts_never_use_tex_even_when_the_user_asks(chart, tmp_path):
    """A matplotlibrc with text.usetex on must not hand names to LaTeX (``\\input`` reads files)."""
    import matplotlib

    from hotspots.timebands import WEEKDAYS
    from profiles.render.charts import bar_chart
    from profiles.render.staticmaps import weekday_hour_png

    tex = "\\input{/etc/hostname} \\write18{touch PWNED} " + MATH
    with matplotlib.rc_context({"text.usetex": True}):
        if chart == "bar":
            p = bar_chart(pd.Series([3, 1], index=[tex, "b"]), title=tex, xlabel=tex, marking="OFFICIAL",
                          source_note=tex)
        else:
            table = pd.DataFrame([[1.0] * 24] * 7, index=[tex] + list(WEEKDAYS[1:]))
            p = weekday_hour_png(table, title=tex, marking=tex, source_note=tex)
    assert len(p) > 1000 and not (tmp_path / "PWNED").exists()


def test_mpl_text_is_needed():
    """Unescaped, the same strings are mathtext (the check above can fail)."""
    from matplotlib.text import Text

    assert Text(text=MATH)._preprocess_math(MATH)[1] is True


def test_html_environment_autoescapes_every_template(tmp_path):
    (tmp_path / "t.txt").write_text("{{ v }}|<img src=\"{{ u|url }}\">", encoding="utf-8")
    out = html_environment(tmp_path).get_template("t.txt").render(v=ATTR, u="javascript:alert(1)")
    assert out == f'{html_text(ATTR)}|<img src="{UNSAFE_URL}">'


def test_svg_chart_keeps_payloads_as_text(tmp_path):
    """A chart saved as SVG: matplotlib's XML writer escapes the text; no element comes from a name."""
    import xml.etree.ElementTree as ET

    from profiles.render.charts import bar_chart

    series = pd.Series(range(1, len(PAYLOADS) + 1), index=PAYLOADS)
    svg = bar_chart(series, title=SCRIPT, xlabel=MATH, marking=ATTR, source_note="]]> {{7*7}}", fmt="svg")
    root = ET.fromstring(svg)  # well-formed XML: ]]> and </script> did not break it
    tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
    assert "script" not in tags and "img" not in tags and "foreignObject" not in tags
    assert not any(k.lower().startswith("on") for el in root.iter() for k in el.attrib)


def test_profile_map_every_input_neutralised(tmp_path, monkeypatch):
    """Payloads in every string profile_map takes: layer names, cell fields and column names, venues, texts."""
    import geopandas as gpd
    import h3
    from shapely.geometry import Point

    from hotspots.grid import cells_to_polygons
    from profiles.render.webmap import map_html, profile_map

    monkeypatch.chdir(tmp_path)
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(51.38, -2.36, 9), 2))[: len(PAYLOADS)]
    n = len(cells)
    extra = {p: PAYLOADS for p in PAYLOADS[:3]}  # column names from data too
    layers = {
        p: gpd.GeoDataFrame(
            {
                "h3_cell": cells,
                "count": range(1, n + 1),
                "street": PAYLOADS[:n],
                "suppressed": [True] + [False] * (n - 1),
                **{k: v[:n] for k, v in extra.items()},
            },
            geometry=cells_to_polygons(cells).values,
            crs=4326,
        )
        for p in PAYLOADS
    }
    venues = gpd.GeoDataFrame(
        {"name": PAYLOADS, "nearest_nte": PAYLOADS, "risk_rank": range(1, len(PAYLOADS) + 1)},
        geometry=[Point(-2.36 + i / 1000, 51.38) for i in range(len(PAYLOADS))],
        crs=4326,
    )
    m = profile_map(layers=layers, venues=venues, title=" ".join(PAYLOADS), marking=MARK + ATTR,
                    source_note=SCRIPT + PWN, suppressed_label="{% Bar")
    path = tmp_path / "map.html"
    path.write_text(map_html(m), encoding="utf-8")
    assert not (tmp_path / "PWNED").exists()
    shown = _check_page(path)
    for p in PAYLOADS:
        assert p in shown  # each payload is still there, as the text a reader sees


@pytest.mark.parametrize("how", ["layer", "element", "tooltip", "property", "feature_id"])
def test_folium_tripwire_refuses_raw_delimiters_before_rendering(how, tmp_path, monkeypatch):
    """A path that forgot folium_text is refused with ParameterError before folium renders (so nothing runs)."""
    import folium
    import geopandas as gpd
    import h3

    from hotspots.errors import ParameterError
    from hotspots.grid import cells_to_polygons
    from profiles.render.webmap import map_html, profile_map

    monkeypatch.chdir(tmp_path)
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(51.38, -2.36, 9), 1))
    g = gpd.GeoDataFrame({"h3_cell": cells, "count": range(1, len(cells) + 1)},
                         geometry=cells_to_polygons(cells).values, crs=4326)
    m = profile_map(layers={"police.uk": g}, title="t", marking="OFFICIAL")
    map_html(m)  # clean map: rendered (and rendered again below if refused)
    if how == "layer":
        folium.FeatureGroup(name=PWN).add_to(m)
    elif how == "element":
        m.get_root().html.add_child(folium.Element(f"<p>{PWN}</p>"))
    elif how == "tooltip":
        folium.GeoJson(g.__geo_interface__, tooltip=folium.GeoJsonTooltip(fields=["h3_cell"], aliases=[PWN])).add_to(m)
    else:
        data = g.assign(name=PWN).__geo_interface__
        if how == "feature_id":
            data = g.__geo_interface__
            data["features"][0]["id"] = PWN
        folium.GeoJson(data).add_to(m)
    with pytest.raises(ParameterError, match="Jinja2 delimiter"):
        map_html(m)
    assert not (tmp_path / "PWNED").exists()


def _csp(html: str) -> str | None:
    """The Content-Security-Policy of a page, if it is set before anything from data (the first <meta>s)."""
    head = html[: html.index("<title>")]
    m = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', head)
    return m.group(1) if m else None


def test_report_page_runs_no_script_and_loads_nothing(tmp_path):
    """Defence in depth: even markup that slipped through could not run a script or fetch a URL."""
    from profiles.render.report import render_report_html
    from tests.test_report import _minimal_context

    html = render_report_html(_minimal_context(SCRIPT))
    policy = _csp(html)
    assert policy is not None and "default-src 'none'" in policy
    assert "script-src" not in policy and "connect-src" not in policy
    assert re.search(r"img-src data:;", policy)  # figures are embedded: no file or network image


# --------------------------------------------------------------------------- HTML inspection


class _Parsed(HTMLParser):
    """Elements, attributes, text and script bodies of a page, as a browser's tokenizer sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)


def _parse(html: str) -> _Parsed:
    p = _Parsed()
    p.feed(html)
    p.close()
    return p


def _unjs(text: str) -> str:
    """Undo JSON/JS string escapes (\\uXXXX, \\/, \\") to see what a script hands to innerHTML."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return text.replace("\\/", "/").replace('\\"', '"')


def _check_page(path: Path) -> str:
    """Assert one HTML output holds the payloads only as inert text; return its visible text."""
    html = path.read_text(encoding="utf-8")
    page = _parse(html)
    name = path.name
    for tag, attrs in page.tags:
        for key, value in attrs:
            assert not key.startswith("on"), f"{name}: <{tag} {key}=...> event handler from data"
            if key in ("src", "href", "action", "formaction"):
                assert not (value or "").strip().lower().startswith("javascript:"), f"{name}: {key}={value!r}"
        assert tag != "img" or dict(attrs).get("src") != "x", f"{name}: injected <img>"
    for body in page.scripts:
        assert body.strip() != "alert(1)", f"{name}: injected script element"
        seen = _unjs(body)  # what folium's code passes to innerHTML/bindTooltip
        for raw in ("<script>alert", "<img src=x", "{{7*7}}", "{{ cycler", "{% Bar", "{# x"):
            assert raw not in seen, f"{name}: {raw!r} reaches a script unneutralised"
    assert "ZQ49QZ" not in html, f"{name}: a planted {{{{7*7}}}} was evaluated"
    return "".join(page.text) + "".join(unescape(_unjs(s)) for s in page.scripts)  # as innerHTML shows it


# --------------------------------------------------------------------------- end to end


def _plant(frame: pd.DataFrame, free: list[str], strict: list[str] = ()) -> pd.DataFrame:
    """Payloads in ``free`` columns on rows 0, 3, 6, ... and in ``strict`` columns on rows 1, 4, 7, ...

    Free-text fields keep the row valid, so the payloads travel into the
    outputs; strict fields (codes, flags, demographics) may send their row to
    quarantine, which must not fail the run either.
    """
    out = frame.copy()
    n = len(out)
    for k, col in enumerate(free):
        rows = list(range(0, n, 3))
        out[col] = out[col].astype(object)
        out.loc[out.index[rows], col] = [PAYLOADS[(i + k) % len(PAYLOADS)] for i in range(len(rows))]
    for k, col in enumerate(strict):
        rows = list(range(1, n, 3))
        out[col] = out[col].astype(object)
        out.loc[out.index[rows], col] = [PAYLOADS[(i + k) % len(PAYLOADS)] for i in range(len(rows))]
    return out


PUK_FREE = ["Crime ID", "Location", "LSOA name", "Last outcome category", "Context"]
PUK_STRICT = ["Reported by", "Falls within", "Crime type"]
VENUE_FIELDS = {
    "Open_Pubs_-_Bath__North_East_Somerset.csv": ["name", "address", "local authority"],
    "Bath__North_East_Somerset_Food_Hygiene_Ratings.csv": [
        "BusinessName", "BusinessType", "AddressLine1", "AddressLine2", "AddressLine3", "AddressLine4",
    ],
    "Premises_License_-_17.09.14.csv": [
        "OrganisationLabel", "ServiceTypeLabel", "PremisesName", "LocationText", "EntertainmentTypeLabel",
        "StatusLabel", "Conditions", "LicenceURL",
    ],
    "Bath_Bar__Pub_closing_times.csv": ["name", "day", "Ward"],
}
RMS_FREE = ["Occurrence Ref", "Offence Description", "Location Type"]
RMS_STRICT = ["DA Flag", "Alcohol Flag", "NTE Flag", "Victim Sex", "Victim Age Band"]
SS_FREE = ["id", "place_reasons", "behaviour_reasons", "not_reported_reasons"]
SS_STRICT = ["gender", "age_range"]
AE_FREE = ["Attendance ID", "Incident Location", "Primary Means of Assault"]
AE_STRICT = ["Patient Sex", "Patient Age Band"]
PAYLOAD_CRIME_TYPE = "Public {{7*7}} order </script><script>alert(1)</script> " + MATH
FORCE_NAME = "Avon {{7*7}} & Somerset {% Bar {# x " + ATTR + " " + SCRIPT + " $\\alpha$"


CCTV_FREE = ["camera_id", "location", "area_name", "area_code"]
INCIDENT_FREE = [
    "incident_number", "ward", "incident_category", "type_0", "type_1", "property_type", "false_alarm_reason",
]


def test_cctv_and_incident_text_is_read_as_data(tmp_path, monkeypatch):
    """CCTV and partner incident logs reach no HTML today (``ingest`` only): their readers take payloads as text."""
    from hotspots.ingest.assets import read_assets
    from hotspots.ingest.incidents import read_incidents

    monkeypatch.chdir(tmp_path)
    cctv = pd.read_csv(DATA / "partnership" / "trafford_cctv_cameras.csv", dtype=str, keep_default_na=False)
    inc = pd.read_csv(DATA / "partnership" / "Avon_Fire_and_Rescue_Incidents_BANES.csv.gz", dtype=str,
                      keep_default_na=False, nrows=300)
    results = [
        read_assets([_write_csv(_plant(cctv, CCTV_FREE), tmp_path / "cctv {{7*7}}.csv")], kind="cctv"),
        read_incidents([_write_csv(_plant(inc, INCIDENT_FREE), tmp_path / "incidents {% Bar.csv")]),
    ]
    for res in results:
        t = res.reconciliation["total"]
        assert t["rows_read"] == t["rows_accepted"] + t["rows_quarantined"] and t["rows_accepted"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cctv {{7*7}}.csv", "incidents {% Bar.csv"]  # nothing made


def _write_csv(frame: pd.DataFrame, path: Path, *, gz: bool = False) -> Path:
    text = frame.to_csv(index=False)
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0) if gz else text.encode("utf-8"))
    return path


def _toml(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid TOML basic string


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    from hotspots.config import load_config
    from profiles.demo import synth
    from profiles.pipeline import run
    from profiles.synth_cli import default_anchors

    tmp = tmp_path_factory.mktemp("inject")
    src = tmp / "in {{7*7}} $\\alpha$"
    src.mkdir()
    puk = []
    for month in ("2024-01", "2024-02"):
        f = DATA / "policeuk" / "avon-and-somerset" / month / f"{month}-avon-and-somerset-street.csv.gz"
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        df = _plant(df, PUK_FREE)
        strict_rows = df.index[1::50]  # a few rows with payload force/category (quarantined or counted)
        for k, col in enumerate(PUK_STRICT):
            df.loc[strict_rows, col] = [PAYLOADS[(i + k) % len(PAYLOADS)] for i in range(len(strict_rows))]
        df.loc[df.index[2::7], "Crime type"] = PAYLOAD_CRIME_TYPE  # a category of interest named by a payload
        puk.append(_write_csv(df, src / f"{month}-avon-and-somerset-street.csv.gz", gz=True))
    venues = []
    for name, cols in VENUE_FIELDS.items():
        df = pd.read_csv(DATA / "venues" / name, dtype=str, keep_default_na=False, encoding_errors="replace")
        venues.append(_write_csv(_plant(df, cols), src / name))
    anchors = default_anchors()
    layers = {}
    for kind, gen, n, free, strict in (
        ("rms", synth.generate_rms, 400, RMS_FREE, RMS_STRICT),
        ("streetsafe", synth.generate_streetsafe, 150, SS_FREE, SS_STRICT),
        ("ae", synth.generate_ae, 120, AE_FREE, AE_STRICT),
    ):
        df = gen(n, anchors=anchors, start="2024-01", end="2024-02", seed=11)
        name = f"SYNTHETIC_{kind} {{{{7*7}}}} {{% Bar <b onmouseover=alert(1)>.csv"  # file names are shown too
        layers[kind] = _write_csv(_plant(df, free, strict), src / name)

    text = (ROOT / "configs" / "avon-and-somerset.toml").read_text(encoding="utf-8")
    text = text.replace(
        'police_uk = ["../data/policeuk/avon-and-somerset"]', f"police_uk = [{', '.join(_toml(str(p)) for p in puk)}]"
    )
    for kind, path in layers.items():
        text = text.replace(f'"../data/synthetic/SYNTHETIC_{kind}_avon-and-somerset.csv.gz"', _toml(str(path)))
    for v in venues:
        text = text.replace(_toml(f"../data/venues/{v.name}"), _toml(str(v)))
    text = text.replace('name = "Avon and Somerset Constabulary"', f"name = {_toml(FORCE_NAME)}")
    handling = f"handling = {_toml(' | '.join(PAYLOADS))}"
    text = re.sub(r"(?m)^handling = .*$", lambda _: handling, text)
    text = text.replace(
        'crime_types_of_interest = ["Violence and sexual offences", "Public order"]',
        f'crime_types_of_interest = ["Violence and sexual offences", "Public order", {_toml(PAYLOAD_CRIME_TYPE)}]',
    )
    text = text.replace("../data", str(DATA))
    for s in ("police_uk = [", FORCE_NAME[:10], "handling = ", PAYLOAD_CRIME_TYPE[:10]):
        assert _toml(s)[1:-1] in text or s in text, s  # every planted config string made it into the file
    cfg_path = tmp / "force {{7*7}}.toml"  # a file name from data is shown in the outputs too
    cfg_path.write_text(text, encoding="utf-8")
    cwd = tmp / "cwd"
    cwd.mkdir()
    out = tmp / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        result = run(load_config(cfg_path), out, share=True, progress=False)
    return tmp, out, result


def test_run_succeeds_and_nothing_ran(planted):
    tmp, out, result = planted
    assert (out / "report.html").is_file() and (out / "map.html").is_file() and not (out / "index.html").exists()
    assert not list((tmp / "cwd").iterdir())  # the mkdir payload ran nowhere
    made = [p for p in [*tmp.rglob("*"), *ROOT.glob("*"), *Path.cwd().glob("*")] if "PWNED" in p.name]
    assert made == []


def test_every_html_output_holds_payloads_as_text_only(planted):
    _, out, _ = planted
    pages = sorted(p for p in out.rglob("*.html"))
    names = {p.relative_to(out).as_posix() for p in pages}
    assert {"report.html", "map.html", "shared/report.html", "shared/map.html"} <= names
    shown = {p.relative_to(out).as_posix(): _check_page(p) for p in pages}
    # the payloads are still there, shown literally (escaped, not dropped and not evaluated)
    assert "{{7*7}}" in shown["report.html"] and ATTR in shown["report.html"] and SCRIPT in shown["report.html"]
    assert "SYNTHETIC_rms {{7*7}} {% Bar <b onmouseover=alert(1)>.csv" in shown["report.html"]
    for page in ("report.html", "shared/report.html"):  # pages with no script of their own
        policy = _csp((out / page).read_text(encoding="utf-8"))
        assert policy and "default-src 'none'" in policy and "script-src" not in policy, page
    map_html = (out / "map.html").read_text(encoding="utf-8")
    assert folium_text(FORCE_NAME) in map_html  # the title box, as a browser will show FORCE_NAME
    assert any(folium_text(p) in _unjs(map_html) for p in ("{{7*7}}", MARK, "The {% Bar"))  # venue names


def test_no_evaluated_marker_in_any_text_output(planted):
    _, out, _ = planted
    for p in out.rglob("*"):
        if p.suffix in {".html", ".json", ".csv", ".txt", ".geojson"}:
            assert "ZQ49QZ" not in p.read_text(encoding="utf-8", errors="replace"), p.name


def test_pdf_prints_the_payloads_as_text(planted):
    import shutil
    import subprocess

    _, out, _ = planted
    if shutil.which("pdftotext") is None or not (out / "report.pdf").is_file():
        pytest.skip("no Chromium or poppler-utils: report.pdf not printed or not readable here")
    res = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True)
    text = res.stdout
    assert "{{7*7}}" in text and "ZQ49QZ" not in text and "alert(1)" in text


def test_summaries_still_validate(planted):
    from profiles.summary import validate_summary

    _, out, _ = planted
    for p in (out / "summary.json", out / "shared" / "summary.json"):
        validate_summary(json.loads(p.read_text(encoding="utf-8")))


def test_figures_are_written_and_readable(planted):
    from PIL import Image

    _, out, _ = planted
    pngs = sorted((out / "figures").glob("*.png")) + sorted(out.glob("*.png"))
    assert len(pngs) >= 5
    names = {p.name for p in pngs}
    assert {"puk_mix.png", "trend.png"} <= names  # puk_mix labels include the payload crime type
    for p in pngs:
        with Image.open(p) as im:
            im.verify()
        assert p.stat().st_size > 1000
