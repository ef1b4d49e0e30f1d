"""When: hour x weekday and the monthly trend for the current filter."""

from __future__ import annotations

import dataclasses

import pandas as pd
import planner_ui as ui
import streamlit as st

from profiles.labels import SOURCE_LABELS

ui.banner()
st.title("When")
d = ui.data()
f, _ = ui.filter_sidebar("when", with_layers=False)
sources = f.sources
st.caption("The hotspot map's filters (sidebar): " + ", ".join(SOURCE_LABELS.get(s, s) for s in sources)
           + (f"; groups {', '.join(f.groups)}" if f.groups else "") + f"; {f.months[0]} to {f.months[1]}"
           + ("; harm-weighted" if f.harm else "") + ". The table spans every weekday and hour.")
ui.synthetic_note(list(sources))
if ui.sharing():
    sh = ui.shared_numbers()
    st.caption("Sharing mode: the weekday x hour tables as the shared version publishes them.")
    for s in sources:
        tab = sh.when.weekday_hour.get(s)
        if tab is None:
            st.caption(f"{SOURCE_LABELS.get(s, s)}: month only or not published by hour.")
            continue
        st.subheader(f"{SOURCE_LABELS.get(s, s)}: hour x weekday (aoristic, shared)")
        st.dataframe(tab.round(0), width="stretch")
else:
    v = ui.when_tables(dataclasses.replace(f, weekday=None, hours=(0, 24)))
    tab: pd.DataFrame = v["when"]
    if tab.attrs.get("not_time_resolved"):
        st.caption(f"{tab.attrs['not_time_resolved']:,} month-only records are not placed in an hour.")
    st.subheader("Hour x weekday (aoristic: each record's from/to window shared over its hours)")
    st.dataframe(tab.style.format("{:.0f}").background_gradient(cmap="cividis", axis=None), width="stretch")
    st.subheader("Records a month")
    m = v["monthly"]
    if len(m):
        st.line_chart(m.pivot_table(index="month", columns="source", values="value", fill_value=0))
    st.caption(ui.source_line(ui.period_text(d.months), list(sources)))
    st.download_button("Download hour x weekday (CSV)", ui.csv_bytes(tab.reset_index()), file_name="when.csv",
                       mime="text/csv")
