"""Tonight: the places to be on a chosen night and hour band, with what a patrol sergeant needs."""

from __future__ import annotations

import datetime as dt

import planner_ui as ui
import streamlit as st

from profiles import planner as P
from profiles.render.briefing import briefing_html, briefing_pdf
from profiles.render.charts import briefing_map
from profiles.render.deck import hex_deck

ui.banner()
st.title("Tonight: where to deploy")
d = ui.data()
c1, c2, c3 = st.columns([1, 2, 2])
today = P.WEEKDAYS[dt.date.today().weekday()]
weekday = c1.selectbox("Night", P.WEEKDAYS, index=P.WEEKDAYS.index(today), key="tonight_day")
preset = c2.selectbox("Hours", list(P.HOUR_PRESETS), key="tonight_hours")
timed = [s for s in d.sources if s != "police_uk"]
sources = tuple(c3.multiselect("Sources (time-recorded)", timed, default=[s for s in ("rms", "ae") if s in timed],
                               key="tonight_sources") or timed[:1])
hours = P.HOUR_PRESETS[preset]

if ui.sharing():
    sh = ui.shared_numbers()
    table = P.shared_hex_table(sh, sources[0], band="nte").head(10)
    st.caption(f"Sharing mode: the shared version publishes {sources[0]} counts in the force's NTE window only "
               f"({ui.md_text(d.definitions.get('nte_window', ''))}); night and hour choices need the restricted "
               "view.")
    synthetic = sources[0] in d.synthetic_sources
    places = table.assign(rank=range(1, len(table) + 1))
    places["place"] = [f"Place {chr(65 + i)} (SYNTHETIC ranking)" if synthetic else c
                       for i, c in enumerate(places["h3_cell"])]
    places = places.rename(columns={"value": "count_in_window"})
    notes: list[str] = []
    shown = places[["rank", "place", "count_in_window"]]
else:
    places, notes = ui.tonight_list(weekday, hours, sources)
    synthetic = bool(places["synthetic"].any()) if len(places) else False
    shown = places[[c for c in ("rank", "place", "local_authority", "grid_ref", "per_night", "last_4_weeks",
                                "previous_4_week_average", "trend", "hotspot_class", "venues_nearby")
                    if c in places.columns]]
ui.synthetic_note(list(sources))
for n in notes:
    st.caption(n)
st.subheader(f"{weekday} {preset}: top {len(shown)} places")
st.dataframe(shown, hide_index=True, width="stretch",
             column_config={"per_night": st.column_config.NumberColumn("a night", format="%.1f"),
                            "last_4_weeks": st.column_config.NumberColumn("last 4 weeks", format="%.1f"),
                            "previous_4_week_average": st.column_config.NumberColumn("4-week average before",
                                                                                     format="%.1f")})
if len(places):
    if synthetic:  # a map would point at real streets from generated records: the list is enough to show the method
        st.caption("No map for a SYNTHETIC ranking: its places would point at real streets.")
    else:
        deck = hex_deck(places.assign(value=places.get("per_night", places.get("count_in_window")), count=1.0),
                        value_label="a night" if not ui.sharing() else "in the NTE window", view=ui.view(),
                        boundary=d.boundary, local_authorities=d.local_authorities, towns=d.towns)
        st.pydeck_chart(deck, height=420)
        vals = places.get("per_night", places.get("count_in_window"))
        ui.legend(vals.to_numpy(float), unit="a night" if not ui.sharing() else "in the NTE window",
                  extra=["Hexagons: the listed places (H3 cells, about 0.1 km² each), coloured in five quantile "
                         "bands."])
    st.caption(ui.source_line(ui.period_text(d.months), list(sources)))
    csv = ui.csv_bytes(shown)
    st.download_button("Download the list (CSV)", csv, file_name=f"tonight_{weekday}.csv", mime="text/csv")
    if st.button("Make the printable A4 briefing (PDF)"):
        meta = {"marking": d.marking, "handling": ui.config().disclosure.shared_handling if ui.sharing()
                else d.handling, "force": d.force, "night": f"{weekday} {preset}",
                "basis": "Expected incidents a night from time-recorded sources (aoristic share of each record's "
                         "from/to window in these hours), last 4 weeks against the 12 before, hot spot class "
                         "from police.uk over the months.", "synthetic": synthetic, "notes": notes,
                "created": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
                "source": ui.source_line(ui.period_text(d.months), list(sources))}
        png = None if synthetic else briefing_map(
            d.boundary, d.local_authorities, places, marking=d.marking, title=f"{d.force}: {weekday} {preset}",
            source_note="Safer Spaces; police.uk OGL v3.0; OS boundaries OGL")
        html = briefing_html(shown, meta, png)
        try:
            st.download_button("Download the briefing (PDF)", briefing_pdf(html), file_name=f"briefing_{weekday}.pdf",
                               mime="application/pdf")
        except Exception:  # no Chromium on this machine: the HTML prints the same page from any browser
            st.download_button("Download the briefing (HTML, print to PDF)", html.encode("utf-8"),
                               file_name=f"briefing_{weekday}.html", mime="text/html")
else:
    st.info("No time-recorded incidents for this choice.")
