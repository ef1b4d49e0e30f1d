"""The 'where' analyses of a force profile: KDE, Gi*, DBSCAN and their measured quality.

Run on recorded VAWG-relevant crime from police.uk (real data; the RMS
layer of the demo is synthetic and is analysed in its own sections). The
quality of each hotspot layer is measured the only honest way: the layer is
drawn from the *training* months and scored on the *test* months that follow
(the last ``test_months`` available months), with hit rate, PAI, PEI and RRI
(:mod:`hotspots.evaluation`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["HotspotAnalysis", "analyse_hotspots", "HOTSPOT_PARAMS"]

HOTSPOT_PARAMS = {
    "kde": {"kernel": "quartic", "radius_m": 400.0, "pixel_m": 100.0, "grid": "force boundary", "output": "raw"},
    "gi_star": {"weights": "binary k-ring, k=1, self included", "study_area": "every H3 cell of the force area",
                "alpha": 0.05, "correction": "Benjamini-Hochberg FDR", "inference": "analytical (normal)"},
    "dbscan": {"eps_m": 100.0, "min_samples": 60, "note": "police.uk map points clustered once, weighted"},
    "top_cells": {"share_of_cells": 0.01},
    "kde_top": {"share_of_area": 0.05},
    "test_months": 6,
}


@dataclass
class HotspotAnalysis:
    """What :func:`analyse_hotspots` found (frames in memory)."""

    counts: pd.DataFrame  # h3_cell, count over the whole period (study area, zeros included)
    gi: pd.DataFrame  # gi_star output over the study area
    kde: object  # KDEResult
    clusters: pd.DataFrame  # DBSCAN cluster polygons (EPSG:27700)
    quality: list[dict] = field(default_factory=list)
    pai_curve: pd.DataFrame | None = None
    split: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    @property
    def hot_cells(self) -> np.ndarray:
        """Gi* hot spots that pass FDR (z > 0)."""
        g = self.gi
        return g.loc[g["gi_significant"] & (g["gi_z"] > 0), "h3_cell"].to_numpy()


def _cells(events: pd.DataFrame, *, resolution: int) -> pd.DataFrame:
    from hotspots.grid import events_to_cells

    if len(events) == 0:
        return pd.DataFrame({"h3_cell": pd.Series(dtype=str), "count": pd.Series(dtype=np.int64)})
    c = events_to_cells(events, resolution=resolution, by=[])
    return c[["h3_cell", "count"]]


def _on_study(counts: pd.DataFrame, study: np.ndarray) -> pd.DataFrame:
    s = counts.set_index("h3_cell")["count"].reindex(study, fill_value=0)
    return pd.DataFrame({"h3_cell": study, "count": s.to_numpy()})


def analyse_hotspots(
    events: pd.DataFrame,
    *,
    study_cells: np.ndarray,
    boundary,
    resolution: int,
    missing_months: list[str] = (),
    params: dict | None = None,
) -> HotspotAnalysis:
    """KDE, Gi* and DBSCAN of recorded events, and their quality on held-out months.

    Parameters
    ----------
    events : DataFrame
        ``x``, ``y`` (EPSG:27700), ``lng``, ``lat``, ``month`` (period[M]) of the
        events inside the force area.
    study_cells : ndarray of str
        Every H3 cell of the force area.
    boundary : GeoDataFrame
        Force boundary (EPSG:27700), for the KDE grid and mask.
    resolution : int
        H3 resolution of ``study_cells``.
    missing_months : list of str
        Months without data (not used as test months).
    params : dict, optional
        Overrides of :data:`HOTSPOT_PARAMS`.

    Returns
    -------
    HotspotAnalysis
    """
    from hotspots.clustering import dbscan
    from hotspots.evaluation import cells_in_polygons, evaluate_cells, hotspot_measures, raster_units
    from hotspots.getis_ord import gi_star
    from hotspots.kde import NODATA, kde

    p = {k: (dict(v) if isinstance(v, dict) else v) for k, v in HOTSPOT_PARAMS.items()}
    for k, v in (params or {}).items():
        p[k] = {**p[k], **v} if isinstance(v, dict) and isinstance(p.get(k), dict) else v
    ev = events[np.isfinite(events["x"].to_numpy(float))]
    study = np.asarray(study_cells)
    counts = _on_study(_cells(ev, resolution=resolution), study)
    gi = gi_star(counts, study_area=study, alpha=p["gi_star"]["alpha"])
    kp = p["kde"]
    surface = kde(ev, radius_m=kp["radius_m"], pixel_m=kp["pixel_m"], kernel=kp["kernel"], boundary=boundary)
    dp = p["dbscan"]
    _, clusters = dbscan(ev, eps_m=dp["eps_m"], min_samples=int(dp["min_samples"]))
    clusters = clusters.set_crs("EPSG:27700", allow_override=True)

    # train on the earlier months, test on the last available ones
    months = np.sort(ev["month"].astype(str).unique())
    months = [m for m in months if m not in set(missing_months)]
    n_test = int(p["test_months"])
    quality: list[dict] = []
    split = {}
    pai_curve = None
    if len(months) >= n_test + 6:
        test_m, train_m = months[-n_test:], months[:-n_test]
        split = {"train_months": list(train_m), "test_months": list(test_m)}
        mstr = ev["month"].astype(str)
        train_ev, test_ev = ev[mstr.isin(train_m)], ev[mstr.isin(test_m)]
        train = _on_study(_cells(train_ev, resolution=resolution), study)
        test = _on_study(_cells(test_ev, resolution=resolution), study)
        gi_tr = gi_star(train, study_area=study, alpha=p["gi_star"]["alpha"])
        hot = gi_tr.loc[gi_tr["gi_significant"] & (gi_tr["gi_z"] > 0), "h3_cell"].to_numpy()
        layers = {"gi_star": hot}
        k = max(1, int(round(len(study) * p["top_cells"]["share_of_cells"])))
        layers["top_cells"] = train.sort_values("count", ascending=False)["h3_cell"].to_numpy()[:k]
        min_tr = max(5, int(dp["min_samples"] * len(train_m) / len(months)))  # same density per month
        _, cl_tr = dbscan(train_ev, eps_m=dp["eps_m"], min_samples=min_tr)
        cl_tr = cl_tr.set_crs("EPSG:27700", allow_override=True)
        if len(cl_tr):
            layers["dbscan"] = cells_in_polygons(study, cl_tr.geometry.buffer(1.0))
        pai_curve = evaluate_cells(train, test, study_cells=study)
        for name, cells in layers.items():
            m = evaluate_cells(train, test, study_cells=study, hot_cells=cells)
            quality.append({"method": name, "n_cells": int(len(cells)), **_clean(m)})
        # KDE: the top share of the force area's pixels by training density
        ks = kde(train_ev, radius_m=kp["radius_m"], pixel_m=kp["pixel_m"], kernel=kp["kernel"], boundary=boundary)
        valid = ks.density != NODATA
        score = np.where(valid, ks.density, -np.inf).ravel()
        n_top = max(1, int(round(valid.sum() * p["kde_top"]["share_of_area"])))
        top = np.zeros(score.shape, bool)
        top[np.argsort(-score, kind="stable")[:n_top]] = True
        tr_u = raster_units(ks, train_ev["x"].to_numpy(), train_ev["y"].to_numpy()).ravel()
        te_u = raster_units(ks, test_ev["x"].to_numpy(), test_ev["y"].to_numpy()).ravel()
        v = valid.ravel()
        m = hotspot_measures(top[v], te_u[v], tr_u[v], np.ones(int(v.sum())))
        quality.append({"method": "kde_top5pct", "n_cells": int(n_top), **_clean(m)})
    return HotspotAnalysis(
        counts=counts, gi=gi, kde=surface, clusters=clusters, quality=quality, split=split, params=p,
        pai_curve=pai_curve,
    )


def _clean(m: dict) -> dict:
    keep = ("hit_rate", "pai", "pei", "rri", "area_share", "n_test_hot", "n_test")
    return {k: (None if m.get(k) is None or not np.isfinite(m[k]) else float(m[k])) for k in keep}
