"""National: the STRA's choropleth, funnel plots and threat-area matrix (when `make demo` has built them)."""

from __future__ import annotations

import json

import pandas as pd
import planner_ui as ui
import streamlit as st

from profiles.escape import md_text

ui.banner()
st.title("National STRA")
folder = ui.NATIONAL_OUT / ("shared" if ui.sharing() else "")
if not (folder / "stra.json").exists():
    st.info("No national STRA yet: `make demo` builds it (safer-spaces national configs/national-demo.toml).")
    st.stop()
obj = json.loads((folder / "stra.json").read_text(encoding="utf-8"))
st.caption(md_text(f"{obj['title']}, {obj['period']} · {obj['security_classification']} · {len(obj['inputs'])} "
                   f"forces, {len(obj['missing_forces'])} missing: "
                   f"{', '.join(m['force'] for m in obj['missing_forces'])}"))
for f in obj["findings"]:
    st.markdown(f"**{md_text(f['id'])}.** {md_text(f['text'])}")  # names and street labels come from data files
figs = ui.NATIONAL_OUT / "figures" if not ui.sharing() else folder / "figures"
c1, c2 = st.columns(2)
if (figs / "choropleth.png").exists():
    c1.image(str(figs / "choropleth.png"), caption="Rate by police force area (grey: no data)")
for p in sorted(figs.glob("funnel_*.png")):
    c2.image(str(p), caption="Funnel plot (over-dispersed limits)")
scores = pd.DataFrame(obj["morile"]["scores"])
if len(scores):
    st.subheader("Threat-area matrix (MoRiLE-style, local calibration)")
    st.dataframe(scores.pivot_table(index="force", columns="threat_area", values="score", aggfunc="first"),
                 width="stretch")
st.download_button("Download stra.json", (folder / "stra.json").read_bytes(), file_name="stra.json",
                   mime="application/json")
