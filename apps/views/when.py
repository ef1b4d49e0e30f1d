"""When: hour x weekday and the monthly trend for the current filter."""

from __future__ import annotations

import pandas as pd
import planner_ui as ui
import streamlit as st

from profiles import planner as P
from profiles.labels import SOURCE_LABELS

ui.banner()
st.title("When")
d = ui.data()
timed = [s for s in d.sources if s != "police_uk"]
sources = tuple(st.multiselect("Source", d.sources, default=timed[:1] or ["police_uk"], key="when_sources",
                               format_func=lambda s: SOURCE_LABELS.get(s, s)) or d.sources[:1])
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
    f = P.Filters(sources=sources, groups=tuple(st.multiselect("VAWG group", d.groups(sources), key="when_groups")))
    v = ui.when_tables(f)
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
