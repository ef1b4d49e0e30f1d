"""Profile: open the force problem profile built by `make demo`, or build it; download HTML, PDF, summary.json."""

from __future__ import annotations

import planner_ui as ui
import streamlit as st

from profiles.pipeline import run

ui.banner()
st.title("Force problem profile")
folder = ui.OUT / ("shared" if ui.sharing() else "")
files = {"report.html": "text/html", "report.pdf": "application/pdf", "summary.json": "application/json",
         "map.html": "text/html"}
have = {name: folder / name for name in files if (folder / name).exists()}
if have:
    st.success(f"Profile found in {ui.OUT}" + (" (shared version)" if ui.sharing() else ""))
    for name, path in have.items():
        st.download_button(f"Download {name}", path.read_bytes(), file_name=name, mime=files[name], key=f"dl_{name}")
else:
    st.info("No profile built yet for this force.")
if not ui.sharing() and st.button("Build (or rebuild) the profile now (about 20 s)"):
    with st.spinner("Building the profile..."):
        res = run(ui.config(), ui.OUT, share=True, progress=False)
    st.success(f"Built: {len(res['outputs'])} files in {ui.OUT}")
    st.rerun()
