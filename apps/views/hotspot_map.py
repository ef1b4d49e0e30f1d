"""Hotspot map: hexagons (counts or harm), Gi* classes, KDE, DBSCAN, venues, StreetSafe, with a ranked table."""

from __future__ import annotations

import planner_ui as ui
import streamlit as st

from profiles import planner as P
from profiles.labels import SOURCE_LABELS
from profiles.render.deck import hex_deck

ui.banner()
st.title("Hotspot map")
d = ui.data()
f, layers = ui.filter_sidebar()
sources, alpha, resolution, harm = f.sources, f.alpha, f.resolution, f.harm
months = f.months or (d.months[0], d.months[-1])

if ui.sharing():
    sh = ui.shared_numbers()
    table = P.shared_hex_table(sh, sources[0])
    st.caption(f"Sharing mode: {SOURCE_LABELS.get(sources[0], sources[0])} as the shared version publishes it "
               f"(counts below {ui.threshold()} withheld and not drawn); filters need the restricted view.")
    view = {"table": table, "gi": None, "kde": None, "hulls": [], "notes": [], "places": None}
    unit = "records"
else:
    view = ui.view_tables(f, tuple(sorted(set(layers) & {"gi", "kde", "dbscan"})))
    table = view["table"]
    unit = "harm units" if harm else "records"
ui.synthetic_note(list(sources))
for n in view["notes"]:
    st.caption(n)
venues = None
if "venues" in layers and d.venues is not None and not ui.sharing():
    venues = d.venues[["lng", "lat"]].dropna()
perception = None
if "streetsafe" in layers and not ui.sharing():
    ss = ui.view_tables(P.Filters(sources=("streetsafe",), resolution=int(resolution)), ())
    perception = ss["table"][["h3_cell"]].head(3000)
left, right = st.columns([3, 2])
with left:
    deck = hex_deck(table, value_label=unit, view=ui.view(), gi=view["gi"], boundary=d.boundary,
                    local_authorities=d.local_authorities, towns=d.towns, kde=view["kde"], hulls=view["hulls"],
                    venues=venues, perception=perception)
    st.pydeck_chart(deck, height=560)
    st.caption(ui.source_line(ui.period_text(tuple(months) if not ui.sharing() else d.months), list(sources)))
with right:
    st.markdown(f"**{len(table):,} cells** drawn" + ("" if ui.sharing() else f" · {view['records']:,} records"))
    ui.legend(table["value"].to_numpy(float) if len(table) else [], unit=f"{unit} a cell", extra=[
        "Hexagons: H3 cells (resolution 9 ≈ 0.1 km², 10 ≈ 0.015 km²), coloured in five quantile bands.",
        f"Gi* outlines: orange hot, purple cold spots at a {alpha} false discovery rate (Getis-Ord, k=1 ring)."
        if "gi" in layers and not ui.sharing() else "",
        "KDE: quartic kernel, 400 m radius, 150 m pixels (shading, no units)." if "kde" in layers else "",
        "DBSCAN: clusters of 30+ records within 100 m (orange outlines)." if "dbscan" in layers else "",
        "Black dots: NTE venues." if venues is not None else "",
        "Black outlines: cells with StreetSafe reports (where women felt unsafe)." if perception is not None else ""])
    ranked = view["places"]
    if ranked is None:
        ranked = table.head(15).assign(rank=range(1, min(15, len(table)) + 1))
    cols = [c for c in ("rank", "place", "local_authority", "grid_ref", "value", "count") if c in ranked.columns]
    if "place" not in cols:
        cols.insert(1, "h3_cell")
    st.dataframe(ranked[cols], hide_index=True, width="stretch", height=420,
                 column_config={"value": st.column_config.NumberColumn(unit, format="%.1f")})
    st.download_button("Download the table (CSV)", ui.csv_bytes(ranked[cols]), file_name="hotspots.csv",
                       mime="text/csv")
