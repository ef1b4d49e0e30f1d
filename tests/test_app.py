"""The planners' app through streamlit.testing (AppTest): every page, the main filters, sharing mode."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = Path(__file__).resolve().parents[1] / "apps" / "streamlit_app.py"
sys.path.insert(0, str(APP.parent))
import planner_ui  # noqa: E402

from profiles.escape import md_text  # noqa: E402

PAGES = ["views/tonight.py", "views/hotspot_map.py", "views/when.py", "views/venues.py", "views/profile.py"]


def _app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    return " ".join(str(m.value) for m in [*at.markdown, *at.caption, *at.warning, *at.error, *at.info])


@pytest.fixture(scope="module")
def national_out(tmp_path_factory):
    from profiles.stra.config import StraConfig
    from profiles.stra.pipeline import run_stra

    out = tmp_path_factory.mktemp("national") / "out"
    run_stra([str(Path(__file__).parent / "fixtures" / "stra")], out, StraConfig(), pdf=False)
    return out


def test_every_page_runs_and_carries_the_marking(national_out, monkeypatch):
    monkeypatch.setattr(planner_ui, "NATIONAL_OUT", national_out)
    at = _app()
    for page in [*PAGES, "views/national.py"]:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert "OFFICIAL-SENSITIVE" in " ".join(str(w.value) for w in at.warning), page
    assert any("Metropolitan" in str(c.value) for c in at.caption)  # the national page names missing forces


def test_map_filters_change_the_numbers():
    at = _app()
    at.switch_page("views/hotspot_map.py").run()
    first = at.dataframe[0].value.copy()
    cells_all = _texts(at)
    at.multiselect(key="map_sources").set_value(["rms"]).run()
    assert not at.exception
    assert _texts(at) != cells_all
    assert not at.dataframe[0].value.equals(first)
    at.selectbox(key="map_weekday").set_value("Fri").run()
    at.selectbox(key="map_hours").set_value("NTE night 21:00-06:00").run()
    assert not at.exception
    assert "month only" in _texts(at)  # RMS records without times are said to be left out
    at.radio(key="map_res").set_value(10).run()
    assert not at.exception
    at.multiselect(key="map_layers").set_value(["gi", "kde", "dbscan", "venues", "streetsafe"]).run()
    assert not at.exception
    assert len(at.get("deck_gl_json_chart")) == 1


def test_tonight_changes_with_the_night_and_names_no_real_place_from_synthetic_data():
    at = _app()
    at.selectbox(key="tonight_day").set_value("Fri").run()
    fri = at.dataframe[0].value.copy()
    assert fri["place"].str.contains("SYNTHETIC").all()  # the demo's RMS and A&E are synthetic
    assert len(at.get("deck_gl_json_chart")) == 0  # and no map points at real streets from them
    at.selectbox(key="tonight_day").set_value("Tue").run()
    tue = at.dataframe[0].value
    assert not fri.equals(tue)
    assert any(b.label.startswith("Download the list") for b in at.get("download_button"))


def test_sharing_mode_shows_no_small_count():
    at = _app()
    k = planner_ui.threshold()
    at.toggle(key=planner_ui.SHARING_KEY).set_value(True).run()
    for page in PAGES[:4]:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert "SHARED VIEW" in " ".join(str(e.value) for e in at.error)
        if page.endswith("hotspot_map.py"):  # the shared map draws the published cells, never nothing
            assert "**0 cells**" not in _texts(at) and "cells** drawn" in _texts(at)
        for df in at.dataframe:
            frame = df.value if isinstance(df.value, pd.DataFrame) else pd.DataFrame(df.value)
            for col in frame.columns:
                v = pd.to_numeric(frame[col], errors="coerce").dropna()
                whole = v[(v == v.round()) & (v > 0)]
                assert not ((whole >= 1) & (whole < k)).any() or col in ("rank", "risk_rank"), (page, col)


def test_when_page_follows_the_map_filters():
    at = _app()
    at.switch_page("views/hotspot_map.py").run()
    at.multiselect(key="map_sources").set_value(["ae"]).run()
    at.switch_page("views/when.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "A&E" in _texts(at)  # the kept filter, not the default police.uk
    table = at.dataframe[0].value
    assert table.shape[0] == 7 and float(pd.DataFrame(table).select_dtypes("number").to_numpy().sum()) > 0


def test_a_bad_config_is_one_line_on_the_page(tmp_path, monkeypatch):
    monkeypatch.setattr(planner_ui, "CONFIG", tmp_path / "missing.toml")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception
    assert any("config file not found" in str(e.value) and md_text("SAFER_SPACES_APP_CONFIG") in str(e.value)
               for e in at.error)
    bad = tmp_path / "bad.toml"
    bad.write_text("[force]\nname = 'X'\nslug = 'x'\n[data]\npolice_uk = ['nowhere']\n"
                   "[grid]\nh3_resolutoin = 9\n")
    monkeypatch.setattr(planner_ui, "CONFIG", bad)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception and any(md_text("did you mean 'h3_resolution'") in str(e.value) for e in at.error)


def test_text_from_data_files_cannot_become_markdown(tmp_path, monkeypatch):
    import json
    import shutil

    from profiles.stra.config import StraConfig
    from profiles.stra.pipeline import run_stra

    src = tmp_path / "in"
    shutil.copytree(Path(__file__).parent / "fixtures" / "stra", src)
    p = src / "leicestershire" / "summary.json"
    s = json.loads(p.read_text())
    s["top_places"][0]["label"] = "![x](https://evil.example/a.png) *bold*"  # the busiest place nationally
    p.write_text(json.dumps(s))
    out = tmp_path / "out"
    run_stra([str(src)], out, StraConfig(), pdf=False)
    monkeypatch.setattr(planner_ui, "NATIONAL_OUT", out)
    at = _app()
    at.switch_page("views/national.py").run()
    text = " ".join(str(m.value) for m in at.markdown)
    assert md_text("evil.example") in text  # shown as text
    assert "![x](" not in text and "\\!\\[x\\]\\(" in text  # never an image the browser would fetch
