"""What every page of the planners' app shares: cached data, the marking banner, the sharing switch, legends.

Statistics are never written here: the cached calls go to ``profiles.planner`` (filters, hexagons, Gi*,
KDE, DBSCAN, the tonight list), ``profiles.compute`` (the profile's numbers) and ``profiles.shared``
(the one disclosure step); maps are drawn by ``profiles.render.deck``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from hotspots.config import Config, load_config
from hotspots.errors import SaferSpacesError
from hotspots.io import neutralise_frame
from profiles import planner as P
from profiles.compute import compute_profile
from profiles.escape import md_text
from profiles.labels import SOURCE_LABELS
from profiles.numbers import ProfileNumbers
from profiles.planner import PlannerData, load_planner
from profiles.render.deck import legend_rows
from profiles.shared import to_shared

ROOT = Path(__file__).resolve().parents[1]
CONFIG = Path(os.environ.get("SAFER_SPACES_APP_CONFIG", ROOT / "configs" / "avon-and-somerset.toml"))
OUT = Path(os.environ.get("SAFER_SPACES_APP_OUT", ROOT / "out" / "avon-and-somerset"))
NATIONAL_OUT = Path(os.environ.get("SAFER_SPACES_APP_NATIONAL", ROOT / "out" / "national"))
SHARING_KEY = "sharing_mode"


@st.cache_resource(show_spinner="Reading the force's data (once per server)...")
def _config(path: str) -> Config:
    return load_config(path)


@st.cache_resource(show_spinner="Reading the force's data (once per server)...")
def _data(path: str) -> PlannerData:
    return load_planner(_config(path))


def _or_stop(read):
    """What ``read`` returns, or one line naming the file, problem and fix on the page (no traceback) and stop."""
    try:
        return read(str(CONFIG))
    except SaferSpacesError as exc:
        st.error(md_text(f"{exc} (the app serves SAFER_SPACES_APP_CONFIG, default configs/avon-and-somerset.toml)"))
        st.stop()


def config() -> Config:
    """The force config the app serves (``SAFER_SPACES_APP_CONFIG``, default the demo force)."""
    return _or_stop(_config)


def data() -> PlannerData:
    """Every source of the force, read once per server process."""
    return _or_stop(_data)


@st.cache_resource(show_spinner="Computing the profile's numbers (once per server, about 6 s)...")
def numbers() -> ProfileNumbers:
    """The force profile's restricted numbers, exactly as ``safer-spaces profile`` computes them."""
    return compute_profile(config(), progress=False)


@st.cache_resource(show_spinner="Applying disclosure control (once per server)...")
def shared_numbers() -> ProfileNumbers:
    """What the shared version publishes: ``to_shared`` of the profile's numbers, as the config sets it."""
    d = config().disclosure
    return to_shared(numbers(), d.threshold, release=d.release, handling=d.handling)


def sharing() -> bool:
    """True when the sidebar's sharing mode is on (every page then shows only the shared version)."""
    return bool(st.session_state.get(SHARING_KEY, False))


def threshold() -> int:
    """The shared version's threshold k."""
    return int(config().disclosure.threshold or 10)


def banner() -> None:
    """The security marking and handling line, at the top of every page."""
    cfg = config()
    if sharing():
        line = config().disclosure.shared_handling
        st.error(f"**{cfg.force.security_classification}** · SHARED VIEW (partner release: counts below "
                 f"{threshold()} withheld) · {md_text(line)}")
    else:
        st.warning(f"**{cfg.force.security_classification}** · {md_text(cfg.force.handling)}")


def synthetic_note(sources: tuple[str, ...] | list[str]) -> None:
    """Say SYNTHETIC wherever a synthetic source is on screen."""
    syn = [s for s in sources if s in data().synthetic_sources]
    if syn:
        st.info(f"SYNTHETIC data on this view ({', '.join(syn)}): the demo's RMS, StreetSafe and A&E layers are "
                "generated and describe no real incident. Rankings resting on them name no real place.")


def legend(values, *, unit: str, extra: list[str] | None = None) -> None:
    """The map's legend: colour bands with their range in ``unit``, then one line per other layer."""
    rows = legend_rows(values, unit=unit)
    html = "".join(f"<span style='display:inline-block;width:14px;height:14px;background:{r['colour']};"
                   f"margin-right:4px;vertical-align:middle'></span>{r['range']}<br>" for r in rows)
    st.markdown(f"<div style='font-size:0.85em'>{html}</div>", unsafe_allow_html=True)
    for line in extra or []:
        st.caption(line)


def source_line(period: str, sources: list[str]) -> str:
    """The data source and period printed under every map."""
    names = ", ".join(SOURCE_LABELS.get(s, s) for s in sources)
    return (f"Source: {names}; {period}. police.uk: Open Government Licence v3.0. Boundaries: OS data © Crown "
            "copyright and database right (OGL). Town names: GeoNames (CC BY 4.0). No base map is loaded.")


def period_text(months: tuple[str, ...]) -> str:
    """``2023-01 to 2024-12``."""
    return f"{months[0]} to {months[-1]}" if months else "no months"


def view() -> tuple[float, float, float]:
    """The initial map view: the force's events' centre, zoom 9."""
    ev = data().events
    return (float(ev["lat"].median()), float(ev["lng"].median()), 9.0)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as CSV that no spreadsheet runs as a formula (``hotspots.io.neutralise_frame``)."""
    return neutralise_frame(frame).to_csv(index=False).encode("utf-8")


@st.cache_data(max_entries=64, show_spinner=False)
def view_tables(f: P.Filters, layers: tuple[str, ...] = ("gi",)) -> dict:
    """Everything the map, its side table and the when page show for one filter (cached per filter)."""
    d = data()
    sub, w, notes = P.select(d, f)
    table = P.hex_table(sub, w, resolution=f.resolution)
    out: dict = {"table": table, "notes": notes, "records": int(len(sub)), "total": float(w.sum()),
                 "sources": sorted(str(x) for x in sub["source"].unique())}
    out["gi"] = P.gi_classes(table, alpha=f.alpha) if "gi" in layers else None
    out["kde"] = P.kde_overlay(sub, w) if "kde" in layers else None
    out["hulls"] = P.dbscan_hulls(sub, w) if "dbscan" in layers else []
    out["places"] = P.ranked_places(d, table, sub, top=15)
    return out


@st.cache_data(max_entries=64, show_spinner=False)
def when_tables(f: P.Filters) -> dict:
    """The when page's hour x weekday table and records a month for one filter (cached per filter)."""
    sub, w, notes = P.select(data(), f)
    return {"when": P.when_table(sub, harm=f.harm), "monthly": P.monthly_by_source(sub, w), "notes": notes}


@st.cache_data(max_entries=32, show_spinner=False)
def tonight_list(weekday: str, hours: tuple[int, int], sources: tuple[str, ...]) -> tuple[pd.DataFrame, list[str]]:
    """The tonight list (cached per choice)."""
    return P.tonight(data(), weekday, hours, sources=sources)


_KEPT = "_kept_filters"


def filter_sidebar(page: str = "map", *, with_layers: bool = True) -> tuple[P.Filters, list[str]]:
    """The filters shared by the map and when pages, and the map layers chosen.

    Streamlit forgets a widget's state while its page is not shown, so each page has its own widget keys
    (``<page>_sources`` ...) whose starting values come from the filters last chosen on any page.
    """
    d = data()
    on = sharing()
    kept = st.session_state.setdefault(_KEPT, {})
    hours = list(P.HOUR_PRESETS)
    with st.sidebar:
        st.subheader("Filters")
        sources = st.multiselect("Source", d.sources, key=f"{page}_sources",
                                 default=[s for s in kept.get("sources", ["police_uk"]) if s in d.sources],
                                 format_func=lambda s: SOURCE_LABELS.get(s, s)) or ["police_uk"]
        groups = st.multiselect("VAWG group", d.groups(tuple(sources)), key=f"{page}_groups", disabled=on,
                                default=[g for g in kept.get("groups", []) if g in d.groups(tuple(sources))])
        months = st.select_slider("Months", options=list(d.months), key=f"{page}_months", disabled=on,
                                  value=tuple(kept.get("months", (d.months[0], d.months[-1]))))
        days = ["any", *P.WEEKDAYS]
        weekday = st.selectbox("Weekday", days, key=f"{page}_weekday", disabled=on,
                               index=days.index(kept.get("weekday", "any")))
        preset = st.selectbox("Hours", hours, key=f"{page}_hours", disabled=on,
                              index=hours.index(kept.get("hours", "All day")))
        harm = st.toggle("Harm-weighted (harm index)", key=f"{page}_harm", disabled=on,
                         value=bool(kept.get("harm", False)))
        alpha = st.select_slider("Gi* significance (FDR level)", options=[0.01, 0.05, 0.1], key=f"{page}_alpha",
                                 disabled=on, value=kept.get("alpha", 0.05))
        resolution = st.radio("H3 resolution", [9, 10], horizontal=True, key=f"{page}_res", disabled=on,
                              index=[9, 10].index(kept.get("resolution", 9)))
        layers: list[str] = list(kept.get("layers", ["gi"]))
        if with_layers:
            layers = st.multiselect("Layers", ["gi", "kde", "dbscan", "venues", "streetsafe"], key=f"{page}_layers",
                                    disabled=on, default=layers,
                                    format_func={"gi": "Gi* hot/cold", "kde": "KDE surface",
                                                 "dbscan": "DBSCAN clusters", "venues": "NTE venues",
                                                 "streetsafe": "StreetSafe reports"}.get)
    kept.update(sources=list(sources), groups=list(groups), months=tuple(months), weekday=weekday, hours=preset,
                harm=bool(harm), alpha=alpha, resolution=int(resolution), layers=list(layers))
    f = P.Filters(sources=tuple(sources), groups=tuple(groups), months=tuple(months),
                  weekday=None if weekday == "any" else weekday, hours=P.HOUR_PRESETS[preset], harm=bool(harm),
                  alpha=float(alpha), resolution=int(resolution))
    return f, list(layers)
