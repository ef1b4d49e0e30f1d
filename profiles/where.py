"""Where: KDE, Gi* and DBSCAN of police.uk VAWG-relevant crime, their held-out quality, and the top places.

Run on recorded VAWG-relevant crime from police.uk (real data; the RMS layer
of the demo is synthetic and is analysed in its own sections). The quality
of each hotspot layer is measured the only honest way: the layer is drawn
from the *training* months and scored on the *test* months that follow (the
last ``test_months`` available months), with hit rate, PAI, PEI and RRI
(:mod:`hotspots.evaluation`). Every parameter comes from the config's
``[hotspots]`` section.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots.clustering import dbscan
from hotspots.config import HotspotsConfig
from hotspots.evaluation import cells_in_polygons, hotspot_measures, pai_curve, raster_units
from hotspots.getis_ord import gi_star
from hotspots.grid import cells_area_m2, cells_to_int, cells_to_polygons
from hotspots.kde import NODATA, KDEResult, kde
from hotspots.spacetime import classify_hotspots
from profiles.cells import CellGroups, StudyArea, cells_to_strings, str_values

__all__ = [
    "HotspotLayers",
    "analyse_hotspots",
    "describe_cells",
    "top_places",
    "volume_numbers",
    "study_area_grid",
    "monthly_products",
    "QUALITY_COLUMNS",
]

QUALITY_COLUMNS = ["method", "n_cells", "area_share", "hit_rate", "pai", "pei", "rri", "n_test_hot", "n_test"]


@dataclass(frozen=True)
class HotspotLayers:
    """What :func:`analyse_hotspots` found (see :class:`profiles.numbers.Hotspots` for the columns)."""

    counts: pd.DataFrame
    gi: pd.DataFrame
    kde: KDEResult
    clusters: gpd.GeoDataFrame
    quality: pd.DataFrame
    pai_curve: pd.DataFrame | None
    split: dict[str, list[str]]

    @property
    def hot_cells(self) -> np.ndarray:
        """Gi* hot spots that pass FDR (z > 0)."""
        g = self.gi
        return g.loc[g["gi_significant"].astype(bool) & (g["gi_z"] > 0), "h3_cell"].to_numpy()


def analyse_hotspots(
    events: pd.DataFrame,
    *,
    study: StudyArea,
    boundary: gpd.GeoDataFrame | None,
    params: HotspotsConfig,
    missing_months: Sequence[str] = (),
) -> HotspotLayers:
    """KDE, Gi* and DBSCAN of recorded events, and their quality on held-out months.

    Parameters
    ----------
    events : DataFrame
        ``x``, ``y`` (EPSG:27700), ``h3`` (uint64 cell), ``month`` (period[M])
        of the events inside the force area.
    study : StudyArea
        Every H3 cell of the force area.
    boundary : GeoDataFrame or None
        Force boundary (EPSG:27700), for the KDE grid and mask.
    params : HotspotsConfig
        The config's ``[hotspots]`` section.
    missing_months : sequence of str
        Months without data (never test months).

    Returns
    -------
    HotspotLayers
    """
    ev = events[np.isfinite(events["x"].to_numpy(float))]
    h3 = ev["h3"].to_numpy(np.uint64)
    counts = study.frame(h3)
    gp, kp, dp, ep = params.gi_star, params.kde, params.dbscan, params.evaluation
    gi = gi_star(counts, study_area=study.cells, k=gp.k, alpha=gp.alpha, fdr=gp.fdr)
    surface = kde(ev, radius_m=kp.radius_m, pixel_m=kp.pixel_m, kernel=kp.kernel, boundary=boundary)
    _, clusters = dbscan(ev, eps_m=dp.eps_m, min_samples=int(dp.min_samples))
    clusters = clusters.set_crs("EPSG:27700", allow_override=True)

    # train on the earlier months, test on the last available ones
    ords = ev["month"].array.asi8
    present = np.unique(ords)
    labels = _months_of(present)
    keep = ~np.isin(labels, list(missing_months))
    months, month_ords = list(labels[keep]), present[keep]
    n_test = int(ep.test_months)
    quality = pd.DataFrame(columns=QUALITY_COLUMNS)
    split: dict[str, list[str]] = {}
    curve = None
    if len(months) >= n_test + ep.min_train_months:
        split = {"train_months": months[:-n_test], "test_months": months[-n_test:]}
        is_train = np.isin(ords, month_ords[:-n_test])
        is_test = np.isin(ords, month_ords[-n_test:])
        train_ev, test_ev = ev[is_train], ev[is_test]
        train = study.frame(h3[is_train])
        tr, te = train["count"].to_numpy(float), study.counts(h3[is_test]).astype(float)
        area = cells_area_m2(study.ints)
        gi_tr = gi_star(train, study_area=study.cells, k=gp.k, alpha=gp.alpha, fdr=gp.fdr)
        hot = gi_tr.loc[gi_tr["gi_significant"] & (gi_tr["gi_z"] > 0), "h3_cell"].to_numpy()
        layers: dict[str, np.ndarray] = {"gi_star": hot}
        k = max(1, int(round(len(study) * ep.top_cells_share)))
        layers["top_cells"] = train.sort_values("count", ascending=False)["h3_cell"].to_numpy()[:k]
        min_tr = max(5, int(dp.min_samples * len(split["train_months"]) / len(months)))  # same density per month
        _, cl_tr = dbscan(train_ev, eps_m=dp.eps_m, min_samples=min_tr)
        cl_tr = cl_tr.set_crs("EPSG:27700", allow_override=True)
        if len(cl_tr):
            layers["dbscan"] = cells_in_polygons(study.cells, cl_tr.geometry.buffer(1.0))
        curve = pai_curve(tr, te, tr, area)
        rows = []
        for name, cells in layers.items():
            m = hotspot_measures(pd.Index(study.cells).isin(set(cells)), te, tr, area)
            rows.append({"method": name, "n_cells": int(len(cells)), **_clean(m)})
        rows.append(_kde_top(train_ev, test_ev, boundary=boundary, params=params))
        quality = pd.DataFrame(rows, columns=QUALITY_COLUMNS)
    return HotspotLayers(
        counts=counts, gi=gi, kde=surface, clusters=clusters, quality=quality, pai_curve=curve, split=split
    )


def _kde_top(train_ev: pd.DataFrame, test_ev: pd.DataFrame, *, boundary, params: HotspotsConfig) -> dict[str, Any]:
    """The KDE layer: the top share of the force area's pixels by training density, scored on the test months."""
    kp = params.kde
    ks = kde(train_ev, radius_m=kp.radius_m, pixel_m=kp.pixel_m, kernel=kp.kernel, boundary=boundary)
    valid = ks.density != NODATA
    score = np.where(valid, ks.density, -np.inf).ravel()
    n_top = max(1, int(round(valid.sum() * params.evaluation.kde_top_share)))
    top = np.zeros(score.shape, bool)
    top[np.argsort(-score, kind="stable")[:n_top]] = True
    tr_u = raster_units(ks, train_ev["x"].to_numpy(), train_ev["y"].to_numpy()).ravel()
    te_u = raster_units(ks, test_ev["x"].to_numpy(), test_ev["y"].to_numpy()).ravel()
    v = valid.ravel()
    m = hotspot_measures(top[v], te_u[v], tr_u[v], np.ones(int(v.sum())))
    name = f"kde_top{params.evaluation.kde_top_share * 100:g}pct"
    return {"method": name, "n_cells": int(n_top), **_clean(m)}


def _clean(m: dict) -> dict[str, float | None]:
    keep = ("hit_rate", "pai", "pei", "rri", "area_share", "n_test_hot", "n_test")
    return {k: (None if m.get(k) is None or not np.isfinite(m[k]) else float(m[k])) for k in keep}


def describe_cells(events: pd.DataFrame, cells: Iterable[str]) -> pd.DataFrame:
    """The main police.uk map point and LSOA of each given cell, from its events.

    Parameters
    ----------
    events : DataFrame
        ``h3`` (uint64 cell), ``location``, ``lsoa_name`` of the events to describe.
    cells : iterable of str
        H3 cells wanted.

    Returns
    -------
    DataFrame
        Indexed by ``h3_cell`` (cells with events only): ``top_location``,
        ``top_location_share`` (of the cell's events), ``top_lsoa_name``. Ties
        go to the first location or LSOA in alphabetical order.

    Examples
    --------
    >>> ev = pd.DataFrame({"h3": np.array([617439010317926399] * 3, dtype=np.uint64),
    ...                    "location": ["On or near A", "On or near B", "On or near B"], "lsoa_name": "Bath 001A"})
    >>> describe_cells(ev, ["89195823077ffff"]).to_dict("records")
    [{'top_location': 'On or near B', 'top_location_share': 0.6666666666666666, 'top_lsoa_name': 'Bath 001A'}]
    """
    cols = ["top_location", "top_location_share", "top_lsoa_name"]
    h3 = events["h3"].to_numpy(np.uint64)
    wanted = np.unique(cells_to_int(list(cells)))
    sub = np.isin(h3, wanted)
    if not sub.any():
        return pd.DataFrame(columns=cols, index=pd.Index([], name="h3_cell", dtype=object))
    h3 = h3[sub]
    loc = CellGroups(h3, str_values(events["location"][sub]))
    lsoa = CellGroups(h3, str_values(events["lsoa_name"][sub]))
    first_loc = _first_by_count(loc)
    first_lsoa = _first_by_count(lsoa)
    total = CellGroups(h3)
    cell_names = cells_to_strings(total.cells)
    return pd.DataFrame(
        {
            "top_location": loc.keys[0][first_loc],
            "top_location_share": loc.count()[first_loc] / total.count(),
            "top_lsoa_name": lsoa.keys[0][first_lsoa],
        },
        index=pd.Index(cell_names, name="h3_cell"),
    )


def _first_by_count(groups: CellGroups) -> np.ndarray:
    """Per cell, the group with the most rows (ties: the first key in sorted order)."""
    n = groups.count()
    order = np.lexsort((np.arange(len(n)), -n, groups.cells))
    cells = groups.cells[order]
    first = np.r_[True, cells[1:] != cells[:-1]] if len(cells) else np.zeros(0, bool)
    return order[first]


def top_places(
    layers: HotspotLayers,
    labels: pd.DataFrame,
    cell_imd: pd.DataFrame | None,
    *,
    n: int,
    identity: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The busiest police.uk cells: rank, h3_cell, count, label, lsoa, lsoa_code, imd_decile, gi_z (+ identity).

    ``label`` is the main map point with its share of the cell's crimes
    ("On or near X (40%)"), ``lsoa`` its LSOA name; ``lsoa_code`` and
    ``imd_decile`` the cell's main LSOA and its IMD 2019 decile (None without IMD).
    With ``identity`` (:func:`profiles.places.identify_places` of these cells) the places also carry
    ``streets``, ``local_authority``, ``grid_ref``, ``artefact`` and ``artefact_reason``.

    Examples
    --------
    >>> counts = pd.DataFrame({"h3_cell": ["a", "b"], "count": [3, 7]})
    >>> gi = pd.DataFrame({"h3_cell": ["a", "b"], "gi_z": [0.5, 2.0], "gi_significant": False, "gi_bin": 0})
    >>> L = HotspotLayers(counts, gi, None, None, pd.DataFrame(), None, {})
    >>> lab = pd.DataFrame({"top_location": ["On or near B"], "top_location_share": [0.5],
    ...                     "top_lsoa_name": ["X 001A"]}, index=["b"])
    >>> top_places(L, lab, None, n=1)[["rank", "h3_cell", "count", "label", "gi_z"]].values.tolist()
    [[1, 'b', 7, 'On or near B (50%)', 2.0]]
    """
    top = layers.counts.sort_values("count", ascending=False).head(n)
    cells = top["h3_cell"].to_numpy()
    lab = labels.reindex(cells)
    has = lab["top_location"].notna().to_numpy()
    label = np.where(
        has,
        lab["top_location"].astype(str) + " (" + lab["top_location_share"].map("{:.0%}".format) + ")",
        "",
    )
    gi = layers.gi.set_index("h3_cell")["gi_z"].reindex(cells)
    if cell_imd is not None:
        imd = cell_imd.reindex(cells)
        lsoa_code = imd["lsoa_code"].astype(object).where(imd["lsoa_code"].notna(), None).to_numpy(dtype=object)
        decile = pd.array(imd["imd_decile"].to_numpy(np.float64), dtype="Int64")
    else:
        lsoa_code = np.full(len(cells), None, dtype=object)
        decile = pd.array([pd.NA] * len(cells), dtype="Int64")
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(top) + 1),
            "h3_cell": cells,
            "count": top["count"].to_numpy(np.int64),
            "label": label,
            "lsoa": np.where(has, lab["top_lsoa_name"].astype(str), ""),
            "lsoa_code": pd.Series(lsoa_code, dtype=object),
            "imd_decile": decile,
            "gi_z": gi.to_numpy(float),
            **_identity_columns(identity, cells),
        }
    )


IDENTITY_COLUMNS = ("streets", "local_authority", "grid_ref", "artefact", "artefact_reason")


def _identity_columns(identity: pd.DataFrame | None, cells: np.ndarray) -> dict[str, Any]:
    """The identity columns of ``cells`` (empty text / False where unknown); none without ``identity``."""
    if identity is None:
        return {}
    ident = identity.reindex(cells)
    out: dict[str, Any] = {}
    for c in IDENTITY_COLUMNS:
        if c == "artefact":
            out[c] = ident[c].fillna(False).astype(bool).to_numpy()
        else:
            out[c] = ident[c].fillna("").astype(str).to_numpy(dtype=object)
    return out


def volume_numbers(layers: HotspotLayers, *, n_study: int, top_cells_share: float) -> dict[str, Any]:
    """Total, concentration in the top cells, and in the Gi* hot spots (a :class:`profiles.numbers.Volume`'s fields).

    Examples
    --------
    >>> counts = pd.DataFrame({"h3_cell": list("abcd"), "count": [6, 2, 1, 1]})
    >>> gi = pd.DataFrame({"h3_cell": list("abcd"), "gi_z": [3.0, 1, 0, 0],
    ...                    "gi_significant": [True, False, False, False], "gi_bin": [3, 0, 0, 0]})
    >>> v = volume_numbers(HotspotLayers(counts, gi, None, None, pd.DataFrame(), None, {}), n_study=4,
    ...                    top_cells_share=0.25)
    >>> v["total"], v["top_cells"], v["top_share"], v["gi_hot_cells"], v["gi_hot_area_share"]
    (10, 1, 0.6, 1, 0.25)
    """
    counts = layers.counts.sort_values("count", ascending=False)
    total = int(counts["count"].sum())
    k = max(1, int(round(top_cells_share * n_study)))
    hot = layers.hot_cells
    hot_n = int(counts.loc[counts["h3_cell"].isin(set(hot)), "count"].sum())
    return {
        "total": total,
        "top_cells": k,
        "top_share": float(counts.head(k)["count"].sum() / total) if total else None,
        "top_area_share": k / n_study,
        "gi_hot_cells": int(len(hot)),
        "gi_hot_share": hot_n / total if total else None,
        "gi_hot_area_share": len(hot) / n_study,
    }


def _slug(name: str) -> str:
    return "count_" + "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_").replace("__", "_")


def study_area_grid(police: pd.DataFrame, study: StudyArea, *, interest: Sequence[str]) -> gpd.GeoDataFrame:
    """Per-cell counts over the whole study area (zeros included).

    Parameters
    ----------
    police : DataFrame
        Events inside the force area: ``h3`` (uint64 cell), ``crime_type``.
    study : StudyArea
        Every cell of the force area.
    interest : sequence of str
        Crime types counted in ``count_interest``.

    Returns
    -------
    GeoDataFrame
        ``h3_cell``, ``count_all``, one ``count_<type>`` per type of
        interest, ``count_interest``, ``in_study_area``, ``geometry`` (WGS84
        hexagons); cells with events outside the study area are added.
        ``count_all`` sums to the number of events given.
    """
    h3 = police["h3"].to_numpy(np.uint64)
    extra = np.setdiff1d(np.unique(h3), study.ints)
    ints = np.union1d(study.ints, extra)
    cells = cells_to_strings(ints)
    pos = np.searchsorted(ints, h3)
    out = pd.DataFrame({"h3_cell": cells, "count_all": np.bincount(pos, minlength=len(ints)).astype(np.int64)})
    codes, types = _codes(police["crime_type"])
    for t in interest:
        hit = np.flatnonzero(types == t)
        sel = pos[codes == hit[0]] if len(hit) else pos[:0]
        out[_slug(t)] = np.bincount(sel, minlength=len(ints)).astype(np.int64)
    out["count_interest"] = out[[_slug(t) for t in interest]].sum(axis=1)
    out["in_study_area"] = np.isin(ints, study.ints)
    return gpd.GeoDataFrame(out, geometry=cells_to_polygons(cells).to_numpy(), crs="EPSG:4326")


def monthly_products(police: pd.DataFrame) -> pd.DataFrame:
    """Crimes per cell, source, month and crime type: ``h3_cell, source, month (str), crime_type, count``.

    Examples
    --------
    >>> ev = pd.DataFrame({"h3": np.array([617439010317926399] * 2, dtype=np.uint64),
    ...                    "month": pd.PeriodIndex(["2024-01", "2024-01"], freq="M"), "crime_type": ["A", "A"]})
    >>> monthly_products(ev).values.tolist()
    [['89195823077ffff', 'police_uk', '2024-01', 'A', 2]]
    """
    ords = police["month"].array.asi8
    codes, types = _codes(police["crime_type"])
    rank = np.empty(len(types), dtype=np.int64)
    rank[np.argsort(types, kind="stable")] = np.arange(len(types))  # sort crime types by name
    g = CellGroups(police["h3"].to_numpy(np.uint64), ords, rank[codes])
    order = np.argsort(types, kind="stable")
    return pd.DataFrame(
        {
            "h3_cell": cells_to_strings(g.cells),
            "source": "police_uk",
            "month": _months_of(g.keys[0].astype(np.int64)),
            "crime_type": types[order][g.keys[1]],
            "count": g.count(),
        }
    )


def spacetime_classes(vawg: pd.DataFrame, study: Sequence[str], *, months: Sequence[str], k: int = 1) -> pd.DataFrame:
    """Persistent / emerging / former / intermittent hot spots of police.uk VAWG-relevant crime (sfhotspot rules).

    :func:`hotspots.spacetime.classify_hotspots` on the monthly counts of
    every study-area cell over ``months`` (the months with data: a missing
    month is left out, not counted as a quiet one).

    Returns
    -------
    DataFrame
        ``h3_cell, st_class, st_hot_periods, st_cold_periods, st_periods`` for every study cell.

    Examples
    --------
    >>> from hotspots.grid import cells_to_str, grid_disks
    >>> centre = 617439010317926399
    >>> ring = [str(c) for c in cells_to_str(np.unique(grid_disks(np.array([centre], dtype=np.uint64), 5)[1]))]
    >>> months = [f"2024-{m:02d}" for m in range(1, 11)]
    >>> ev = pd.DataFrame({"h3": np.array([centre] * 200, dtype=np.uint64),
    ...                    "month": pd.PeriodIndex(np.repeat(months, 20), freq="M")})
    >>> st = spacetime_classes(ev, ring, months=months)
    >>> st.set_index("h3_cell").loc[cells_to_str(np.array([centre], dtype=np.uint64))[0], "st_class"]
    'persistent hotspot'
    """
    ords = vawg["month"].array.asi8
    g = CellGroups(vawg["h3"].to_numpy(np.uint64), ords)
    frame = pd.DataFrame({"h3_cell": cells_to_strings(g.cells), "month": _months_of(g.keys[0].astype(np.int64)),
                          "count": g.count()})
    frame = frame[frame["month"].isin(list(months))]
    return classify_hotspots(frame, periods=list(months), study_area=np.asarray(study, dtype=object), k=k)


def _months_of(ordinals: np.ndarray) -> np.ndarray:
    """'YYYY-MM' of monthly Period ordinals."""
    index = cast(Any, pd.PeriodIndex).from_ordinals(ordinals, freq="M")  # pandas-stubs lacks from_ordinals
    return np.asarray(index.astype(str), dtype=object)


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and the values they stand for (str), without converting every row to a string."""
    codes, values = pd.factorize(col)
    return codes, np.asarray([str(v) for v in values], dtype=object)
