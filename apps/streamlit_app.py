"""Safer Spaces planner app (placeholder until the app issue lands).

Run with ``streamlit run apps/streamlit_app.py`` after ``make demo``. For now
it shows the demo force's static hexagon map and reconciliation, and says
what is coming.
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

OUT = Path(__file__).resolve().parent.parent / "out" / "avon-and-somerset"

st.set_page_config(page_title="Safer Spaces", layout="wide")
st.title("Safer Spaces: VAWG hotspots for operational planning")
st.info(
    "Coming next: filterable hotspot maps (KDE, Gi*, DBSCAN) by month, crime type and time band, "
    "StreetSafe perception layers and partnership data. This page shows the demo force's outputs."
)
png = OUT / "figures" / "kde.png"
rec = OUT / "reconciliation.json"
if png.exists() and rec.exists():
    r = json.loads(rec.read_text(encoding="utf-8"))
    c1, c2, c3 = st.columns(3)
    c1.metric("rows read", f"{r['rows_read']:,}")
    c2.metric("accepted", f"{r['rows_accepted']:,}")
    c3.metric("quarantined", f"{r['rows_quarantined']:,}")
    st.image(str(png), caption="Where VAWG-relevant recorded crime concentrates (kernel density, demo force)")
else:
    st.warning("No demo outputs yet: run `make demo` first.")
st.caption("Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk).")
