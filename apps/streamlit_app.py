"""Safer Spaces planners' app: where and when to deploy tonight and this weekend.

Run ``streamlit run apps/streamlit_app.py`` after ``make demo`` (it binds to localhost by default:
``.streamlit/config.toml``). Every page is a thin layout over cached calls into ``profiles`` and
``hotspots`` (``apps/planner_ui.py``); the sidebar's sharing mode shows only what the shared version
publishes (``profiles.shared.to_shared``), on screen and in downloads.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pages import planner_ui from this folder

import planner_ui as ui  # noqa: E402

st.set_page_config(page_title="Safer Spaces: planners", layout="wide", initial_sidebar_state="expanded")
with st.sidebar:
    st.markdown(f"**{ui.config().force.security_classification}**")
    st.caption(ui.md_text(ui.config().force.name))
    st.toggle("Sharing mode (partner release)", key=ui.SHARING_KEY,
              help="Show only what the shared version publishes: counts below the threshold, and whatever would "
                   "reveal them, withheld. Downloads follow.")

pages = [
    st.Page("views/tonight.py", title="Tonight", default=True),
    st.Page("views/hotspot_map.py", title="Hotspot map"),
    st.Page("views/when.py", title="When"),
    st.Page("views/venues.py", title="Venues"),
    st.Page("views/profile.py", title="Profile"),
]
if (ui.NATIONAL_OUT / "stra.json").exists():
    pages.append(st.Page("views/national.py", title="National"))
st.navigation(pages).run()
