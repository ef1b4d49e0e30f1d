"""Venues: NTE venue ranking with the concentration (risky facilities) curve."""

from __future__ import annotations

import planner_ui as ui
import streamlit as st

ui.banner()
st.title("NTE venues")
n = ui.shared_numbers() if ui.sharing() else ui.numbers()
v = n.venues
if v.risk is None or not len(v.risk):
    st.info("No NTE venue data for this force.")
else:
    synthetic = bool((v.summary or {}).get("synthetic"))
    if synthetic:
        st.info("The incidents counted at venues come from SYNTHETIC layers: venues carry stand-in names "
                "(Venue A, B, ...) and no address, so synthetic counts never make a real business look risky.")
    cols = [c for c in ("risk_rank", "name", "kind", "closing_times", "all_within_nte", "all_within", "crime_within",
                        "ae_within") if c in v.risk.columns]
    st.dataframe(v.risk[cols].head(30).round(1), hide_index=True, width="stretch")
    if v.summary:
        top10 = float(v.summary.get("top10_share") or 0)
        st.caption(f"{v.summary.get('n_venues', 0)} venues; top 10% hold {top10:.0%} "
                   f"of incidents within {v.summary.get('distance_m')} m; Gini "
                   f"{float(v.summary.get('gini') or 0):.2f}.")
    if v.risky is not None and len(v.risky):
        st.subheader("Concentration: share of venues against share of incidents (risky facilities)")
        st.line_chart(v.risky.set_index("cum_venue_share")[["cum_incident_share"]])
    st.download_button("Download the ranking (CSV)", ui.csv_bytes(v.risk[cols]), file_name="venues.csv",
                       mime="text/csv")
