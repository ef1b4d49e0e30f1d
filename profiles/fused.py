"""Sources fused on H3 cells: per-source grids, the place score, the perception gap, the fused surfaces, venues.

Every source is gridded on its own (from the cells :mod:`profiles.sources`
computed once), turned into shares of its own force-wide total and only then
combined (:func:`hotspots.fusion.place_scores`); see :mod:`hotspots.fusion`
for the definitions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hotspots.config import FusionConfig
from hotspots.fusion import place_scores, source_grids
from hotspots.grid import cells_to_str, latlng_to_cells
from hotspots.ingest.streetsafe import BEHAVIOUR_REASONS, PLACE_REASONS
from hotspots.kde import KDEResult, kde
from hotspots.perception_gap import GAP_FELT, perception_gap, perception_gap_cells
from hotspots.venues import risky_facilities, venue_risk
from profiles.cells import CellGroups, cells_to_strings
from profiles.labels import SOURCES

__all__ = [
    "FusedBasis",
    "recorded_source",
    "fused_events",
    "fused_grids",
    "fused_places",
    "label_places",
    "present_sources",
    "perception_cells",
    "surfaces",
    "venue_ranking",
    "venue_summary",
]


RECORDED = ("police_uk", "rms")


def recorded_source(events: pd.DataFrame, *, choice: str = "auto") -> str:
    """The one recorded-crime source the fused analyses use: the force RMS where supplied, else police.uk.

    police.uk and the force RMS describe the same crimes (police.uk is
    published from the RMS), so an analysis that added them would count each
    crime twice. ``choice`` is the config's ``fusion.recorded_source``.

    Examples
    --------
    >>> recorded_source(pd.DataFrame({"source": ["police_uk", "rms"]}))
    'rms'
    >>> recorded_source(pd.DataFrame({"source": ["police_uk", "ae"]}))
    'police_uk'
    >>> recorded_source(pd.DataFrame({"source": ["police_uk", "rms"]}), choice="police_uk")
    'police_uk'
    """
    have = {str(v) for v in events["source"].unique()}
    if choice == "police_uk" or (choice == "auto" and "rms" not in have):
        return "police_uk"
    return "rms" if "rms" in have else "police_uk"


@dataclasses.dataclass(frozen=True)
class FusedBasis:
    """What the fused analyses (place score, perception gap, venues, fused surfaces) were built on.

    recorded : the one recorded-crime source ("rms" or "police_uk")
    sources : every source fused (recorded first)
    months : the months every fused source covers (the common period; "YYYY-MM")
    public_space : True when offences at dwellings were left out
    private_excluded : RMS VAWG offences at dwellings left out (reported separately)
    dropped_months : events outside the common period left out, per source
    """

    recorded: str
    sources: tuple[str, ...]
    months: tuple[str, ...]
    public_space: bool
    private_excluded: int
    dropped_months: Mapping[str, int]

    @property
    def period(self) -> str:
        """The common period as text ("2024-01 to 2024-12", or "no common month")."""
        return f"{self.months[0]} to {self.months[-1]}" if self.months else "no common month"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "recorded": self.recorded, "sources": list(self.sources), "months": list(self.months),
            "period": self.period, "public_space": self.public_space, "private_excluded": self.private_excluded,
            "dropped_months": dict(self.dropped_months),
        }


def fused_events(events: pd.DataFrame, *, recorded: str, public_space: bool = True) -> tuple[pd.DataFrame, FusedBasis]:
    """The events the fused analyses use: one recorded-crime source, public space, the common period.

    * police.uk and RMS are never both used (``recorded`` names the one);
    * with ``public_space``, RMS offences at a dwelling (``private_space``) are left out;
    * only months that every fused source covers are kept, so a comparison
      (perception against recorded crime, venues' crime against A&E) sets
      like periods against each other.

    Examples
    --------
    >>> ev = pd.DataFrame({"source": ["police_uk", "rms", "rms", "ae", "ae"],
    ...                    "month": pd.PeriodIndex(["2023-05", "2024-01", "2024-01", "2024-01", "2024-02"], freq="M"),
    ...                    "private_space": [False, False, True, False, False]})
    >>> fev, basis = fused_events(ev, recorded="rms")
    >>> fev["source"].tolist(), basis.months, basis.private_excluded, dict(basis.dropped_months)
    (['rms', 'ae'], ('2024-01',), 1, {'ae': 1})
    """
    if recorded not in RECORDED:
        raise ValueError(f"recorded must be 'police_uk' or 'rms'; got {recorded!r}")
    src = events["source"].astype(str)
    keep = ~src.isin([r for r in RECORDED if r != recorded]).to_numpy()
    has = "private_space" in events.columns
    private = events["private_space"].to_numpy(bool) if has else np.zeros(len(events), bool)
    n_private = int((keep & private & (src == recorded).to_numpy()).sum()) if public_space else 0
    if public_space:
        keep &= ~private
    ev = events[keep]
    order = [recorded, *[s for s in SOURCES if s not in RECORDED]]
    sources = tuple(s for s in order if (ev["source"] == s).any())
    month = ev["month"].astype(str)
    common: set[str] | None = None
    for s in sources:
        have = set(month[(ev["source"] == s).to_numpy()].unique())
        common = have if common is None else common & have
    months = tuple(sorted(common or ()))
    if not months and sources:  # no month that every source covers: the recorded source alone, over its own months
        alone = (ev["source"] == sources[0]).to_numpy()
        months = tuple(sorted(set(month[alone].unique())))
        sources = sources[:1]
        inside = alone & month.isin(months).to_numpy()
        dropped = ev.loc[~inside, "source"].astype(str).value_counts()
        basis = FusedBasis(recorded=recorded, sources=sources, months=months, public_space=public_space,
                           private_excluded=n_private, dropped_months={str(k): int(v) for k, v in dropped.items()})
        return ev[inside], basis
    inside = month.isin(months).to_numpy()
    dropped = ev.loc[~inside, "source"].astype(str).value_counts()
    basis = FusedBasis(recorded=recorded, sources=sources, months=months, public_space=public_space,
                       private_excluded=n_private, dropped_months={str(k): int(v) for k, v in dropped.items()})
    return ev[inside], basis


def fused_grids(events: pd.DataFrame, *, resolution: int, weighted: bool) -> dict[str, pd.DataFrame]:
    """Per-source grids: all hours (harm ``weight_sum`` when ``weighted``), NTE and other bands, and NTE RMS + A&E.

    :func:`hotspots.fusion.source_grids` on the events' own cells (``h3``,
    uint64, from :func:`profiles.sources.load_sources`): no point is indexed again.

    ``"nte_rms_ae"`` is the NTE-window aoristic count of RMS and A&E summed
    per cell and rounded (``h3_cell, source="rms+ae", count``; cells with count > 0);
    ``"nte_rms_ae_r10"`` the same on the finer H3 resolution ``resolution + 1``
    (about 65 m edges at resolution 10: the NTE street view; restricted only, see
    :func:`profiles.shared.to_shared`). Events need ``lat``/``lng`` for it.

    Examples
    --------
    >>> ev = pd.DataFrame({"h3": np.array([617439010317926399] * 3, dtype=np.uint64),
    ...                    "source": ["rms", "ae", "police_uk"], "nte_share": [1.0, 0.75, np.nan],
    ...                    "harm_weight": [10.0, np.nan, 2.0]})
    >>> g = fused_grids(ev, resolution=9, weighted=True)
    >>> g["all"]["weight_sum"].tolist(), g["nte_rms_ae"]["count"].tolist()
    ([0.0, 2.0, 10.0], [2])
    """
    ev = events.assign(h3_cell=cells_to_str(events["h3"].to_numpy(np.uint64)))  # the cells computed once
    grids = {
        "all": source_grids(ev, resolution=resolution, weight="harm_weight" if weighted else None, cell_col="h3_cell"),
        "nte": source_grids(ev, resolution=resolution, band="nte", cell_col="h3_cell"),
        "other": source_grids(ev, resolution=resolution, band="other", cell_col="h3_cell"),
    }
    band = grids["nte"]
    summed = band[band["source"].isin(["rms", "ae"])].groupby("h3_cell")["count"].sum()
    count = np.round(summed.to_numpy(np.float64)).astype(np.int64)
    keep = count > 0
    grids["nte_rms_ae"] = pd.DataFrame(
        {"h3_cell": summed.index.to_numpy(dtype=object)[keep], "source": "rms+ae", "count": count[keep]}
    )
    if {"lat", "lng"} <= set(events.columns) and resolution < 15:
        grids["nte_rms_ae_r10"] = _nte_fine(events, resolution=resolution + 1)
    return grids


def _nte_fine(events: pd.DataFrame, *, resolution: int) -> pd.DataFrame:
    """NTE-window aoristic RMS + A&E counts per cell of a finer resolution (cells with a rounded count > 0)."""
    ev = events[events["source"].isin(["rms", "ae"]).to_numpy()]
    share = pd.to_numeric(ev["nte_share"], errors="coerce").to_numpy(np.float64)
    lat, lng = ev["lat"].to_numpy(np.float64), ev["lng"].to_numpy(np.float64)
    ok = np.isfinite(share) & (share > 0) & np.isfinite(lat) & np.isfinite(lng)
    if not ok.any():
        return pd.DataFrame({"h3_cell": pd.Series(dtype=object), "source": "rms+ae",
                             "count": pd.Series(dtype=np.int64)})
    cells = latlng_to_cells(lat[ok], lng[ok], resolution=resolution)
    g = CellGroups(cells)
    count = np.round(g.sum(share[ok])).astype(np.int64)
    keep = count > 0
    return pd.DataFrame({"h3_cell": cells_to_strings(g.cells)[keep], "source": "rms+ae", "count": count[keep]})


def fused_places(grids: Mapping[str, pd.DataFrame], *, sources: Sequence[str], params: FusionConfig,
                 recorded: str | None = None) -> pd.DataFrame:
    """Place scores over every cell (:func:`hotspots.fusion.place_scores` with the config's rules).

    With ``recorded`` named, a cell needs ``params.min_recorded`` crimes of
    that source to be ranked (the small-number rule; the others rank after).

    Examples
    --------
    >>> from hotspots.config import FusionConfig
    >>> grids = {"all": pd.DataFrame({"h3_cell": ["a", "b", "a"], "source": ["rms", "rms", "ae"],
    ...                               "count": [3, 1, 2]})}
    >>> fused_places(grids, sources=["rms", "ae"], params=FusionConfig())[["h3_cell", "place_score"]].values.tolist()
    [['a', 87.5], ['b', 12.5]]
    """
    weights = {s: float(params.source_weights.get(s, 0.0)) for s in sources}
    minima = None
    if recorded is not None and recorded in sources and params.min_recorded:
        minima = {recorded: float(params.min_recorded)}
    return place_scores(
        grids["all"], sources=list(sources), source_weights=weights, method=params.place_score,
        value=params.place_score_value,
        min_counts=minima,
    )


def label_places(places: pd.DataFrame, labels: pd.DataFrame, cell_imd: pd.DataFrame | None, *, n: int,
                 synthetic: bool = False, identity: pd.DataFrame | None = None) -> pd.DataFrame:
    """``label``, ``lsoa_code``, ``imd_decile`` for the first ``n`` places (None/NA beyond).

    ``label`` is "main police.uk map point, LSOA name" (:func:`profiles.where.describe_cells`)
    or "no police.uk crime mapped here". When the ranking rests on a
    synthetic layer (``synthetic``) the places carry stand-in names ("Place A
    (SYNTHETIC)", ...) instead: a synthetic score must never name a real street.
    With ``identity`` (:func:`profiles.places.identify_places`) the first ``n`` places also carry
    ``local_authority`` and, unless ``synthetic``, ``streets``, ``grid_ref``, ``artefact`` and
    ``artefact_reason`` (a synthetic ranking names the area, never the street or the point).

    Examples
    --------
    >>> places = pd.DataFrame({"h3_cell": ["a", "b", "c"]})
    >>> lab = pd.DataFrame({"top_location": ["On or near X"], "top_lsoa_name": ["Bath 001A"]}, index=["a"])
    >>> label_places(places, lab, None, n=2)["label"].tolist()
    ['On or near X, Bath 001A', 'no police.uk crime mapped here', None]
    """
    n = min(n, len(places))
    top = places["h3_cell"].to_numpy()[:n]
    lab = labels.reindex(top)
    has = lab["top_location"].notna().to_numpy()
    text = np.where(has, lab["top_location"].astype(str) + ", " + lab["top_lsoa_name"].astype(str),
                    "no police.uk crime mapped here")
    if synthetic:
        text = np.asarray([f"{stand_in_label(i, 'Place')} (SYNTHETIC ranking)" for i in range(n)], dtype=object)
    label = np.full(len(places), None, dtype=object)
    label[:n] = text
    code = np.full(len(places), None, dtype=object)
    decile = pd.array([pd.NA] * len(places), dtype="Int64")
    if cell_imd is not None:
        imd = cell_imd.reindex(top)
        code[:n] = imd["lsoa_code"].astype(object).where(imd["lsoa_code"].notna(), None).to_numpy(dtype=object)
        decile[:n] = pd.array(imd["imd_decile"].to_numpy(np.float64), dtype="Int64")
    idx = places.index
    extra: dict[str, Any] = {}
    if identity is not None:
        ident = identity.reindex(top)
        for col in ("local_authority", "streets", "grid_ref", "artefact_reason"):
            v = np.full(len(places), "", dtype=object)
            if col == "local_authority" or not synthetic:
                v[:n] = ident[col].fillna("").astype(str).to_numpy(dtype=object)
            extra[col] = pd.Series(v, index=idx, dtype=object)
        art = np.zeros(len(places), dtype=bool)
        if not synthetic:
            art[:n] = ident["artefact"].fillna(False).astype(bool).to_numpy()
        extra["artefact"] = pd.Series(art, index=idx)
    return places.assign(
        label=pd.Series(label, index=idx, dtype=object),
        lsoa_code=pd.Series(code, index=idx, dtype=object),
        imd_decile=pd.Series(decile, index=idx),
        **extra,
    )


def perception_cells(grids: Mapping[str, pd.DataFrame], reasons: pd.DataFrame | None, *,
                     sources: Sequence[str]) -> pd.DataFrame | None:
    """The perception gap per cell with, for felt-unsafe cells, the two commonest StreetSafe answers (``reasons``).

    None without StreetSafe. ``reasons`` reads "badly lit (60%); isolated (40%)": the share of the
    cell's reports giving each answer; "" elsewhere.
    """
    if "streetsafe" not in sources:
        return None
    recorded = tuple(s for s in RECORDED if s in sources)[:1]  # one recorded-crime source (fused_events)
    gap = perception_gap_cells(grids["all"], perception="streetsafe", recorded=recorded)
    text = np.full(len(gap), "", dtype=object)
    if reasons is not None and len(reasons):
        names = {v: k for k, v in {**PLACE_REASONS, **BEHAVIOUR_REASONS}.items()}
        cols = [c for c in reasons.columns if c in names]
        g = CellGroups(reasons["h3"].to_numpy(np.uint64))
        n = g.count()
        share = np.column_stack([g.sum(reasons[c].to_numpy(np.float64)) / n for c in cols]) if cols else None
        cell_names = cells_to_strings(g.cells)
        felt = (gap["gap_class"] == GAP_FELT).to_numpy()
        pos = pd.Index(cell_names).get_indexer(gap["h3_cell"].to_numpy())
        rows = np.flatnonzero(felt & (pos >= 0))
        if share is not None and len(rows):
            sub = share[pos[rows]]
            order = np.argsort(-sub, axis=1, kind="stable")[:, :2]
            top_v = np.take_along_axis(sub, order, axis=1)
            labels = np.asarray([names[c] for c in cols], dtype=object)
            text[rows] = [
                "; ".join(f"{labels[k]} ({v:.0%})" for k, v in zip(ks, vs, strict=True) if v > 0)
                for ks, vs in zip(order.tolist(), top_v.tolist(), strict=True)
            ]
    return gap.assign(reasons=text)


def surfaces(
    events: pd.DataFrame, *, harm_label: str | None, params: FusionConfig, perception: bool
) -> tuple[KDEResult | None, KDEResult | None]:
    """Harm-weighted KDE of recorded VAWG (the one recorded source of ``events``) and the perception gap (log2).

    Quartic kernel on QGIS's grid, ``params.kde`` radius and pixel; the
    parameters are kept in each result's ``params``.
    """
    rec = events[events["source"].isin(RECORDED) & np.isfinite(events["x"].to_numpy(float))]
    used = sorted(str(s) for s in rec["source"].unique())
    recorded = gap_raster = None
    sp = params.kde
    if len(rec):
        weight = None
        if harm_label is not None:
            rec = rec[np.isfinite(rec["harm_weight"].to_numpy(float))]
            weight = "harm_weight"
        res = kde(rec, radius_m=sp.radius_m, pixel_m=sp.pixel_m, weight=weight)
        recorded = dataclasses.replace(
            res, crs="EPSG:27700",
            params={**res.params, "harm_index": harm_label or "none", "sources": used},
        )
    if perception:
        ss = events[events["source"] == "streetsafe"]
        gap = perception_gap(ss, rec, radius_m=sp.radius_m, pixel_m=sp.pixel_m)
        p = {**gap.params, "layer": "log2(StreetSafe share / recorded-crime share), smoothed"}
        gap_raster = KDEResult(density=gap.gap_log2.astype(np.float32), grid=gap.grid, crs="EPSG:27700", params=p)
    return recorded, gap_raster


def venue_ranking(
    nte_venues: pd.DataFrame | None, events: pd.DataFrame, *, distance_m: float
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """NTE-window incidents near each NTE venue (nearest venue only) and the risky-facilities curve.

    When the incidents come from a synthetic layer the venues carry stand-in
    names (:func:`stand_in_venues`): a synthetic count never ranks a real,
    named business.
    """
    if nte_venues is None:
        return None, None
    risk = venue_risk(nte_venues, events, distance_m=distance_m, nte_only=True)
    risky = risky_facilities(risk)
    return stand_in_venues(risk, risky) if _synthetic_incidents(events) else (risk, risky)


def _synthetic_incidents(events: pd.DataFrame) -> bool:
    """True when the incidents that rank venues (RMS, A&E) include synthetic records."""
    return bool(events.loc[events["source"].isin(["rms", "ae"]), "synthetic"].any())


def stand_in_label(i: int, prefix: str = "Venue") -> str:
    """The ``i``-th stand-in name (0-based): ``Venue A`` ... ``Venue Z``, ``Venue AA`` ...

    Examples
    --------
    >>> [stand_in_label(i) for i in (0, 25, 26, 27)]
    ['Venue A', 'Venue Z', 'Venue AA', 'Venue AB']
    """
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(65 + r) + letters
    return f"{prefix} {letters}"


_VENUE_IDENTIFIERS = ("postcode", "address", "source_file")


def stand_in_venues(
    risk: pd.DataFrame | None, risky: pd.DataFrame | None
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The venue ranking with every real name and identifier replaced by ``Venue A``, ``Venue B``... by rank.

    Used when the incidents that rank the venues come from a synthetic layer:
    a synthetic count must never make a real, named business look risky. The
    venues keep their kind and position (the synthetic incidents were placed
    around them); names, ids, postcodes, addresses and source lines go.

    Examples
    --------
    >>> risk = pd.DataFrame({"venue_id": ["op:1", "op:2"], "name": ["The Crown", "The Swan"],
    ...                      "postcode": ["BA1 1AA", "BA1 1AB"], "nearest_nte": [3.0, 9.0], "risk_rank": [2, 1]})
    >>> r, _ = stand_in_venues(risk, None)
    >>> r[["venue_id", "name", "postcode"]].values.tolist()
    [['Venue B', 'Venue B', ''], ['Venue A', 'Venue A', '']]
    """
    if risk is None:
        return None, risky
    order = np.argsort(pd.to_numeric(risk["risk_rank"], errors="coerce").to_numpy(float), kind="stable")
    names = np.empty(len(risk), dtype=object)
    names[order] = [stand_in_label(i) for i in range(len(risk))]
    blank: dict[str, Any] = {c: "" for c in _VENUE_IDENTIFIERS if c in risk.columns}
    if "source_line" in risk.columns:
        blank["source_line"] = -1
    out = risk.assign(**blank, name=names, venue_id=names)
    if risky is not None:
        stand = risky["venue_id"].map(dict(zip(risk["venue_id"], names, strict=True)))
        risky = risky.assign(venue_id=stand, name=stand)
    return out, risky


def venue_summary(
    risk: pd.DataFrame | None, risky: pd.DataFrame | None, events: pd.DataFrame, *, distance_m: float
) -> dict[str, Any] | None:
    """n_venues, top10_share, gini, distance_m, top_name, synthetic (None without venues).

    Examples
    --------
    >>> venue_summary(None, None, pd.DataFrame(), distance_m=50.0) is None
    True
    """
    if risk is None or risky is None or not len(risk):
        return None
    s = risky.attrs.get("summary", {})
    return {
        "n_venues": int(s.get("n_venues", 0)),
        "top10_share": s.get("top10_share"),
        "gini": s.get("gini"),
        "distance_m": distance_m,
        "top_name": str(risk.iloc[0]["name"]),
        "synthetic": _synthetic_incidents(events),
    }


def present_sources(events: pd.DataFrame) -> list[str]:
    """The fused sources with events, in the profile's order (police_uk, rms, streetsafe, ae).

    Examples
    --------
    >>> present_sources(pd.DataFrame({"source": ["ae", "police_uk", "ae"]}))
    ['police_uk', 'ae']
    """
    have = {str(v) for v in events["source"].unique()}
    return [s for s in SOURCES if s in have]
