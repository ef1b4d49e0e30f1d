"""The Streamlit page runs (placeholder until the app issue lands)."""

from __future__ import annotations

from conftest import ROOT


def test_app_runs_without_error():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "apps" / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    assert "Safer Spaces" in at.title[0].value
