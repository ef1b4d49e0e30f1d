"""The STRA's numbers: ``compile_stra(forces, exclusions, cfg) -> StraNumbers``, pure (no file written).

The story::

    forces, excluded = read_summaries(paths)          # profiles.stra.inputs: validated, never a silent drop
    numbers = compile_stra(forces, excluded, cfg)     # rates, funnels, data quality, MoRiLE, places, findings

Every per-force number carries the SHA-256 of the summary it came from
(``input_sha256``) and every national number the list of summaries it sums
(``from_inputs``), so ``audit.jsonl`` can trace each figure to a force's file.
Comparisons rest on the definitions they share: a force whose definitions
differ from the national majority is kept out of the funnel fit and carries
the difference as a caveat on every row it appears in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots.forces import force_key
from hotspots.funnel import funnel_fit, funnel_limits, funnel_positions
from hotspots.morile import MorileMatrix, morile_scores
from hotspots.rates import rate_interval
from profiles.stra.config import GAP_AREAS, THREAT_AREA_LABELS, StraConfig
from profiles.stra.inputs import Exclusion, ForceSummary, definition_mismatches

__all__ = ["StraNumbers", "compile_stra", "definition_common", "expected_forces", "funnels_for", "morile_for",
           "national_for", "read_population", "rebuild_words"]

#: definitions each threat area's comparison rests on (a force differing on one is caveated on that area)
_AREA_DEFINITIONS = {
    "police_uk_violence_sexual": ("police.uk crime types", "schema version"),
    "police_uk_public_order": ("police.uk crime types", "schema version"),
}
_RMS_DEFINITIONS = ("VAWG offence table", "recorded-crime source", "schema version")
_HARM_DEFINITIONS = ("harm index",)


@dataclass(frozen=True)
class StraNumbers:
    """Every number of the national STRA, restricted (``profiles.shared.to_shared`` makes the shared copy).

    Tables (DataFrames) have one row per force, per (force, threat area) or per place; every row that comes
    from one force carries ``input_sha256``.
    """

    meta: dict[str, Any]
    inputs: pd.DataFrame  # force, slug, file, sha256, schema_version, period, months, population, rated
    exclusions: tuple[Exclusion, ...]
    missing: pd.DataFrame  # force, reason
    mismatches: pd.DataFrame  # force, definition, value, common, forces_with_common
    measures: pd.DataFrame  # force x threat area: count, person_years, rate, ci, harm, trend, confidence, caveats
    national: pd.DataFrame  # threat area: forces, count, person_years, rate, ci, from_inputs
    funnels: dict[str, dict[str, Any]]  # threat area -> theta0, phi, tau2, limits (DataFrame), units
    quality: pd.DataFrame  # force: share without location, volume position, missing months, flags
    morile: pd.DataFrame  # morile_scores rows + caveats
    places: pd.DataFrame  # national top places
    findings: tuple[dict[str, Any], ...]
    recommendations: tuple[dict[str, Any], ...]
    gaps: tuple[dict[str, Any], ...]
    disclosure: dict[str, Any] = field(default_factory=lambda: {"shared": False, "threshold": None,
                                                                "release": "restricted", "suppressed": 0})
    config: StraConfig = field(default_factory=StraConfig)  # the parameters it was compiled with


# --------------------------------------------------------------------------- reference data

def read_population(cfg: StraConfig) -> pd.Series:
    """Residents per force, keyed by :func:`hotspots.forces.force_key` (the bundled House of Commons file).

    Examples
    --------
    >>> pop = read_population(StraConfig())
    >>> int(pop["avon and somerset"])
    1711500
    """
    df = pd.read_csv(cfg.population, dtype={"Force": str})
    pop = pd.to_numeric(df["Population"].astype(str).str.replace(",", ""), errors="coerce")
    out = pd.Series(pop.to_numpy(float), index=[force_key(f) for f in df["Force"]])
    return out[np.isfinite(out.to_numpy()) & (out.to_numpy() > 0)]


def expected_forces(cfg: StraConfig) -> dict[str, str]:
    """Every force the STRA expects a summary from: key -> name (the force-area polygons plus BTP).

    Examples
    --------
    >>> f = expected_forces(StraConfig())
    >>> len(f), f["metropolitan"], f["british transport"]
    (44, 'Metropolitan Police', 'British Transport Police')
    """
    pfa = gpd.read_file(cfg.boundaries, columns=["PFA20NM"], ignore_geometry=True)
    names = {force_key(n): str(n) for n in pfa["PFA20NM"]}
    names.update({force_key(n): n for n in cfg.non_territorial})
    return dict(sorted(names.items()))


# --------------------------------------------------------------------------- per-force rows

def _force_of(s: dict) -> tuple[str, str]:
    f = s.get("force", {})
    return str(f.get("name", "")), str(f.get("slug", ""))


def _available_months(s: dict) -> int:
    p = s.get("period", {})
    return max(int(p.get("months", 0)) - len(p.get("missing_months", []) or []), 0)


def _inputs_table(forces: Sequence[ForceSummary], pop: pd.Series) -> pd.DataFrame:
    rows = []
    for f in forces:
        name, slug = _force_of(f.summary)
        key = force_key(name or slug)
        p = f.summary.get("period", {})
        n = pop.get(key)
        rows.append({"force": name, "slug": slug, "key": key, "file": f.file, "input_sha256": f.sha256,
                     "schema_version": f.summary.get("schema_version"),
                     "first_month": p.get("first_month"), "last_month": p.get("last_month"),
                     "months": _available_months(f.summary),
                     "missing_months": list(p.get("missing_months", []) or []),
                     "population": None if n is None else int(n), "rated": n is not None,
                     "synthetic_sources": list(f.summary.get("synthetic_sources", []) or []),
                     "classification": f.summary.get("security_classification"),
                     "release": (f.summary.get("disclosure") or {}).get("release", "restricted")})
    return pd.DataFrame(rows, columns=["force", "slug", "key", "file", "input_sha256", "schema_version",
                                       "first_month", "last_month", "months", "missing_months", "population",
                                       "rated", "synthetic_sources", "classification", "release"])


def _duplicates(inputs: pd.DataFrame, forces: Sequence[ForceSummary]) -> tuple[pd.DataFrame, list[Exclusion],
                                                                              list[ForceSummary]]:
    """One summary per force: a second summary of the same force is an exclusion (the newer period is kept)."""
    order = inputs.sort_values(["key", "last_month", "file"], ascending=[True, False, True])
    keep = ~order.duplicated("key")
    dropped = order[~keep]
    excl = [Exclusion(file=str(r.file), force=str(r.force), field="$.force",
                      problem=f"a second summary for {r.force} (the one ending {r.last_month} is older or later "
                              "in file order)",
                      fix="send one summary per force; remove the duplicate") for r in dropped.itertuples()]
    kept_idx = sorted(order.index[keep])
    return inputs.loc[kept_idx].reset_index(drop=True), excl, [forces[i] for i in kept_idx]


def _area_counts(s: dict, ids: Sequence[str]) -> tuple[int | None, bool]:
    """A threat area's count in one summary: the sum of its ids (None when one is withheld), and if any is there."""
    totals = {t.get("threat_area"): t for t in s.get("counts", {}).get("totals_by_threat_area", [])}
    have = [totals[i] for i in ids if i in totals]
    if not have:
        return None, False
    if any(t.get("suppressed") or t.get("count") is None for t in have):
        return None, True
    return int(sum(int(t["count"]) for t in have)), True


def _area_harm(s: dict, ids: Sequence[str]) -> float | None:
    harm = {t.get("threat_area"): t.get("total") for t in (s.get("harm") or {}).get("by_threat_area", [])}
    vals = [harm.get(i) for i in ids if i in harm]
    if not vals or any(v is None for v in vals):
        return None
    return float(sum(float(v) for v in vals if v is not None))


def _trend(s: dict, area: str) -> str:
    """The like-for-like direction for the police.uk areas (the measure is of police.uk); else unknown."""
    lfl = (s.get("measures") or {}).get("like_for_like") or {}
    if not area.startswith("police_uk_") or not lfl.get("available"):
        return "not known"
    return str(lfl.get("direction") or "no clear change")


def _confidence(row: dict, area: str, caveats: list[str]) -> tuple[str, str]:
    """High / moderate / low confidence in one (force, area) figure, and why."""
    why = []
    syn = row["synthetic_sources"]
    if syn and not area.startswith("police_uk_"):
        why.append(f"rests on SYNTHETIC data ({', '.join(syn)})")
    if row["missing_months"]:
        why.append(f"{len(row['missing_months'])} month(s) without data")
    if caveats:
        why.append("definitions differ from most forces")
    if area.startswith("police_uk_"):
        why.append("police.uk categories are a proxy (all victims, no sex recorded)")
    if any(w.startswith("rests on SYNTHETIC") for w in why):
        return "low", "; ".join(why)
    if row["missing_months"] or caveats:
        return "low" if len(why) > 2 else "moderate", "; ".join(why)
    return ("moderate" if why else "high"), ("; ".join(why) or "complete months, common definitions")


def _caveats(mm: pd.DataFrame, force: str, area: str) -> list[str]:
    relevant = _AREA_DEFINITIONS.get(area, _RMS_DEFINITIONS)
    rows = mm[(mm["force"] == force) & mm["definition"].isin(list(relevant) + list(_HARM_DEFINITIONS))]
    return [f"{r.definition} is {r.value} (most forces: {r.common})" for r in rows.itertuples()]


def _measures(inputs: pd.DataFrame, forces: Sequence[ForceSummary], mm: pd.DataFrame,
              cfg: StraConfig) -> pd.DataFrame:
    rows = []
    for row, f in zip(inputs.to_dict("records"), forces, strict=True):
        s = f.summary
        for area, ids in cfg.threat_areas.items():
            count, present = _area_counts(s, ids)
            if not present:
                continue
            caveats = _caveats(mm, row["force"], area)
            conf, basis = _confidence(row, area, caveats)
            years = row["months"] / 12
            py = row["population"] * years if row["rated"] and years > 0 else None
            rate = lo = hi = harm_rate = None
            if py and count is not None:
                rate, lo, hi = (float(v) for v in rate_interval(count, py))
                harm = _area_harm(s, ids)
                harm_rate = None if harm is None else 1000 * harm / py
            rows.append({"force": row["force"], "slug": row["slug"], "threat_area": area,
                         "label": THREAT_AREA_LABELS[area], "count": count, "months": row["months"],
                         "population": row["population"], "person_years": py, "rate_per_1000": rate,
                         "ci_low": lo, "ci_high": hi, "harm_per_1000": harm_rate, "trend": _trend(s, area),
                         "confidence": conf, "confidence_basis": basis, "caveats": caveats,
                         "synthetic": bool(row["synthetic_sources"]) and not area.startswith("police_uk_"),
                         "input_sha256": row["input_sha256"]})
    return pd.DataFrame(rows, columns=["force", "slug", "threat_area", "label", "count", "months", "population",
                                       "person_years", "rate_per_1000", "ci_low", "ci_high", "harm_per_1000",
                                       "trend", "confidence", "confidence_basis", "caveats", "synthetic",
                                       "input_sha256"])


def _downgrade(measures: pd.DataFrame, quality: pd.DataFrame) -> pd.DataFrame:
    """Low confidence in every figure of a force whose publication or locations are flagged."""
    flagged = quality[quality["volume_flag"].astype(bool) | quality["location_flag"].astype(bool)]
    hit = measures["force"].isin(list(flagged["force"])).to_numpy()
    if not hit.any():
        return measures
    out = measures.copy()
    out.loc[hit, "confidence"] = "low"
    out.loc[hit, "confidence_basis"] = [f"{b}; data-quality concern (section 7)" for b in out.loc[hit,
                                                                                               "confidence_basis"]]
    return out


# --------------------------------------------------------------------------- comparisons

def funnels_for(measures: pd.DataFrame, winsor: float) -> tuple[dict[str, dict[str, Any]], pd.Series]:
    """A funnel per threat area over the forces with a rate and no caveat; every force placed against it."""
    out: dict[str, dict[str, Any]] = {}
    position = pd.Series("not compared", index=measures.index, dtype=object)
    for area, grp in measures.groupby("threat_area", sort=True):
        rated = grp[grp["person_years"].notna() & grp["count"].notna()]
        fit_rows = rated[[not c for c in rated["caveats"]]]
        if len(fit_rows) < 3:
            position[rated.index] = "too few forces to compare"
            continue
        fit = funnel_fit(pd.Series(fit_rows["count"].astype(float).to_numpy(), index=fit_rows["force"]),
                         pd.Series(fit_rows["person_years"].astype(float).to_numpy(), index=fit_rows["force"]),
                         winsor=winsor)
        _, pos = funnel_positions(fit, rated["count"].astype(float).to_numpy(),
                                  rated["person_years"].astype(float).to_numpy())
        out_of_fit = np.array([bool(c) for c in rated["caveats"]], dtype=bool)  # placed, not fitted: said so
        position[rated.index] = np.where(out_of_fit, np.char.add(pos.astype(str),
                                                                 " (definitions differ: not in the fit)"), pos)
        py = rated["person_years"].astype(float)
        grid = np.geomspace(max(py.min() * 0.5, 1.0), py.max() * 1.5, 80)
        out[str(area)] = {"theta0_per_1000": 1000 * fit.theta0, "phi": fit.phi, "tau2": fit.tau2,
                          "forces_in_fit": int(len(fit_rows)), "winsor": fit.winsor,
                          "limits": funnel_limits(fit, grid)}
    return out, position


def national_for(measures: pd.DataFrame) -> pd.DataFrame:
    """Per threat area: forces, the count over every force with a count, and the rate over the rated ones."""
    rows = []
    for area, grp in measures.groupby("threat_area", sort=True):
        ok = grp[grp["count"].notna()]
        rated = ok[ok["person_years"].notna()]
        count = int(ok["count"].sum())
        py = float(rated["person_years"].sum())
        c_r = float(rated["count"].sum())
        rate = lo = hi = None
        if py:
            rate, lo, hi = (float(v) for v in rate_interval(c_r, py))
        rows.append({"threat_area": area, "label": THREAT_AREA_LABELS[str(area)], "forces": int(len(ok)),
                     "forces_withheld": int(len(grp) - len(ok)), "count": count, "rated_count": int(c_r),
                     "person_years": py, "rate_per_1000": rate, "ci_low": lo, "ci_high": hi,
                     "from_inputs": sorted(ok["input_sha256"])})
    return pd.DataFrame(rows, columns=["threat_area", "label", "forces", "forces_withheld", "count", "rated_count",
                                       "person_years", "rate_per_1000", "ci_low", "ci_high", "from_inputs"])


def _quality(inputs: pd.DataFrame, forces: Sequence[ForceSummary], cfg: StraConfig,
             common_last: str | None) -> pd.DataFrame:
    """Per force: share of police.uk rows without a location, published volume against similar forces, months."""
    rows = []
    for row, f in zip(inputs.to_dict("records"), forces, strict=True):
        src = {q.get("source"): q for q in f.summary.get("data_quality", {}).get("sources", [])}
        puk = src.get("police_uk", {})
        rows.append({"force": row["force"], "slug": row["slug"], "population": row["population"],
                     "months": row["months"], "missing_months": row["missing_months"],
                     "last_month": row["last_month"], "rows_read": puk.get("rows_read"),
                     "share_without_location": puk.get("share_without_coordinates"),
                     "input_sha256": row["input_sha256"]})
    q = pd.DataFrame(rows, columns=["force", "slug", "population", "months", "missing_months", "last_month",
                                    "rows_read", "share_without_location", "input_sha256"])
    share = pd.to_numeric(q["share_without_location"], errors="coerce")
    median = float(share.median()) if share.notna().any() else float("nan")
    q["location_flag"] = share > median + cfg.location_share_margin
    q["volume_position"] = "not compared"
    vol = q[q["population"].notna() & q["rows_read"].notna() & (q["months"] > 0)]
    if len(vol) >= 3:
        exposure = vol["population"].astype(float) * vol["months"].astype(float)
        fit = funnel_fit(pd.Series(vol["rows_read"].astype(float).to_numpy(), index=vol["force"]),
                         pd.Series(exposure.to_numpy(), index=vol["force"]), winsor=cfg.funnel_winsor)
        q.loc[vol.index, "volume_position"] = fit.units["position"].to_numpy()
        q.loc[vol.index, "rows_per_1000_month"] = 1000 * fit.units["rate"].to_numpy()
        q.attrs["volume_per_1000_month"] = 1000 * fit.theta0
    levels = ("below 99.8%",) if cfg.low_volume_level == "below 99.8%" else ("below 95%", "below 99.8%")
    q["volume_flag"] = q["volume_position"].isin(levels)
    q.attrs["median_share_without_location"] = median
    flags: list[list[str]] = []
    for r in q.itertuples():
        said: list[str] = []
        if r.location_flag:
            said.append(f"{r.share_without_location:.1%} of police.uk rows have no location (national median "
                     f"{median:.1%})")
        if r.volume_flag:
            said.append(f"publishes far fewer crimes per resident than forces of similar size ({r.volume_position} "
                     "funnel limit)")
        if r.missing_months:
            said.append(f"no data for {', '.join(map(str, list(r.missing_months)))}")  # type: ignore[arg-type]
        if common_last is not None and r.last_month != common_last:
            said.append(f"period ends {r.last_month} (most forces: {common_last})")
        if r.population is None or pd.isna(r.population):  # type: ignore[arg-type]
            said.append("no resident population: reported, not rated")
        flags.append(said)
    q["concerns"] = flags
    return q


def _places(forces: Sequence[ForceSummary], inputs: pd.DataFrame, common_res: Any, top: int) -> pd.DataFrame:
    """The busiest places across forces: police.uk VAWG-relevant crimes a month in an H3 cell (one resolution)."""
    rows = []
    for row, f in zip(inputs.to_dict("records"), forces, strict=True):
        res = f.summary.get("definitions", {}).get("h3_resolution")
        if res != common_res or row["months"] <= 0:
            continue
        for p in f.summary.get("top_places", []):
            c = (p.get("components") or {}).get("police_uk")
            if c is None or "SYNTHETIC" in str(p.get("label", "")):
                continue
            rows.append({"force": row["force"], "h3_cell": p["h3_cell"], "label": p.get("label") or "",
                         "count": int(c), "months": row["months"], "per_month": int(c) / row["months"],
                         "input_sha256": row["input_sha256"]})
    df = pd.DataFrame(rows, columns=["force", "h3_cell", "label", "count", "months", "per_month", "input_sha256"])
    df = df.sort_values(["per_month", "force", "h3_cell"], ascending=[False, True, True]).head(top)
    return df.reset_index(drop=True).assign(rank=lambda d: np.arange(1, len(d) + 1))


def morile_for(measures: pd.DataFrame, national: pd.DataFrame, matrix: MorileMatrix) -> pd.DataFrame:
    """MoRiLE-style scores of every (force, area) with a rate and a harm rate, likelihood against ``national``."""
    ok = measures[measures["rate_per_1000"].notna() & measures["harm_per_1000"].notna()]
    if not len(ok):
        return pd.DataFrame(columns=[*measures.columns, "harm_factor", "rate_factor", "trend_adjust",
                                     "likelihood_factor", "score", "priority"])
    nat = national.set_index("threat_area")["rate_per_1000"]
    ok = ok.assign(national_rate_per_1000=ok["threat_area"].map(nat).astype(float))
    ok = ok[ok["national_rate_per_1000"] > 0]
    scored = morile_scores(ok.drop(columns=["caveats"]), matrix=matrix)
    cav = ok.set_index(["force", "threat_area"])["caveats"]
    return scored.assign(caveats=[cav.get((f, a), []) for f, a in zip(scored["force"], scored["threat_area"],
                                                                      strict=True)])


# --------------------------------------------------------------------------- words

def _fmt_rate(r: Any) -> str:
    return "[c]" if r is None or pd.isna(r) else f"{r:.2f}"


def _fmt_count(c: Any) -> str:
    return "[c]" if c is None or pd.isna(c) else f"{int(c):,}"


def _findings(inputs: pd.DataFrame, excluded: Sequence[Exclusion], missing: pd.DataFrame, mm: pd.DataFrame,
              measures: pd.DataFrame, national: pd.DataFrame, quality: pd.DataFrame, morile: pd.DataFrame,
              places: pd.DataFrame, period: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    all_inputs = sorted(inputs["input_sha256"])
    rated = int(inputs["rated"].sum())
    out.append({"id": "N1", "text": (
        f"{len(inputs)} force summaries were compiled ({rated} rated per resident; {len(inputs) - rated} reported "
        f"without a rate), {len(excluded)} were left out as unusable and {len(missing)} expected forces sent none "
        f"({', '.join(missing['force'])}). The national picture is therefore partial." if len(missing) else
        f"{len(inputs)} force summaries were compiled ({rated} rated per resident); {len(excluded)} were left out."),
        "numbers": {"forces": int(len(inputs)), "rated": rated, "excluded": len(excluded),
                    "missing": int(len(missing))}, "from_inputs": all_inputs})
    for area in ("police_uk_violence_sexual", "police_uk_public_order"):
        n = national[national["threat_area"] == area]
        if not len(n) or n["rate_per_1000"].isna().all():
            continue
        r = n.iloc[0]
        m = measures[(measures["threat_area"] == area)]
        above = m[m["funnel_position"].astype(str).str.startswith("above 99.8%")]["force"].tolist()
        below = m[m["funnel_position"].astype(str).str.startswith("below 99.8%")]["force"].tolist()
        out.append({"id": f"N{len(out) + 1}", "text": (
            f"{THREAT_AREA_LABELS[area]}: {_fmt_count(r['rated_count'])} crimes in {r['forces']} forces over {period}, "
            f"{_fmt_rate(r['rate_per_1000'])} per 1,000 residents a year (95% CI {_fmt_rate(r['ci_low'])}-"
            f"{_fmt_rate(r['ci_high'])}). Against the over-dispersed funnel, "
            + (f"{len(above)} force(s) are above the 99.8% limit ({', '.join(above)})" if above else
               "no force is above the 99.8% limit")
            + (f" and {len(below)} below it ({', '.join(below)})" if below else "")
            + "; every other difference between forces is within what chance and ordinary variation give, "
              "so no league table is drawn."),
            "numbers": {"count": None if pd.isna(r["rated_count"]) else int(r["rated_count"]),
                        "rate_per_1000": None if pd.isna(r["rate_per_1000"]) else float(r["rate_per_1000"]),
                        "above_998": above, "below_998": below}, "from_inputs": list(r["from_inputs"])})
    concerns = quality[[bool(c) for c in quality["concerns"]]]
    vol = quality[quality["volume_flag"].astype(bool)]["force"].tolist()
    loc = quality[quality["location_flag"].astype(bool)]["force"].tolist()
    out.append({"id": f"N{len(out) + 1}", "text": (
        f"{len(concerns)} force(s) have data-quality concerns that limit comparison: "
        + (f"{', '.join(vol)} publish far fewer police.uk crimes per resident than forces of similar size "
           "(below the 99.8% funnel limit: check publication, not only crime); " if vol else
           "no force publishes far fewer crimes per resident than forces of similar size; ")
        + (f"{', '.join(loc)} have a high share of crimes without a location." if loc else
           "no force has a markedly high share of crimes without a location.")),
        "numbers": {"forces_with_concerns": int(len(concerns)), "low_volume": vol, "location": loc},
        "from_inputs": sorted(quality["input_sha256"])})
    if len(missing):
        out.append({"id": f"N{len(out) + 1}", "text": (
            f"Intelligence gap: no usable summary from {', '.join(missing['force'])}. These forces are absent "
            "from every national figure, map and ranking in this assessment (shown grey on the map), not zero."),
            "numbers": {"missing": missing["force"].tolist()}, "from_inputs": []})
    if len(mm):
        forces_mm = sorted(set(mm["force"]))
        out.append({"id": f"N{len(out) + 1}", "text": (
            f"{len(forces_mm)} force(s) used definitions that differ from most forces "
            f"({', '.join(forces_mm[:8])}{'...' if len(forces_mm) > 8 else ''}); their figures are caveated "
            "wherever compared and kept out of the funnel fits."),
            "numbers": {"forces": forces_mm}, "from_inputs": sorted(
                inputs[inputs["force"].isin(forces_mm)]["input_sha256"])})
    if len(morile):
        high = morile[morile["priority"] == "high"]
        top_areas = high.groupby("threat_area").size().sort_values(ascending=False)
        words = ", ".join(f"{THREAT_AREA_LABELS[str(a)].split(' (')[0]} in {n} force(s)"
                          for a, n in top_areas.items())
        out.append({"id": f"N{len(out) + 1}", "text": (
            f"MoRiLE-style scoring (a local calibration, not the official tables) puts {len(high)} force-threat "
            f"pairs at high priority: {words}." if len(high) else
            "MoRiLE-style scoring (a local calibration) puts no force-threat pair at high priority."),
            "numbers": {"high": int(len(high))}, "from_inputs": sorted(set(high["input_sha256"]))})
    if len(places):
        forces_p = places["force"].value_counts()
        out.append({"id": f"N{len(out) + 1}", "text": (
            f"The {len(places)} busiest places nationally (H3 cells, police.uk VAWG-relevant crimes a month) lie in "
            f"{len(forces_p)} force(s), led by {forces_p.index[0]} ({int(forces_p.iloc[0])}); the busiest, "
            f"{places['label'].iloc[0]} ({places['force'].iloc[0]}), averages {places['per_month'].iloc[0]:.0f} a "
            "month. City-centre night-time economies dominate."),
            "numbers": {"places": int(len(places))}, "from_inputs": sorted(set(places["input_sha256"]))})
    return out


def _recommendations(missing: pd.DataFrame, quality: pd.DataFrame, mm: pd.DataFrame,
                     morile: pd.DataFrame) -> list[dict[str, Any]]:
    recs = []
    if len(missing):
        recs.append({"id": "R1", "pillar": "Prepare", "text": (
            f"Obtain summaries (or the national police.uk baseline) for {', '.join(missing['force'])} before the "
            "assessment is used to allocate national resources."), "owner": "National VAWG analysis team"})
    vol = quality[quality["volume_flag"].astype(bool)]["force"].tolist()
    if vol:
        recs.append({"id": f"R{len(recs) + 1}", "pillar": "Prepare", "text": (
            f"Ask {', '.join(vol)} to confirm their police.uk publication is complete (published volume far below "
            "forces of similar size)."), "owner": "National VAWG analysis team with force data owners"})
    if len(mm):
        recs.append({"id": f"R{len(recs) + 1}", "pillar": "Prepare", "text": (
            "Agree one national definition set (NTE window, offence table version, harm index, H3 resolution, "
            "suppression threshold) and re-run the differing forces' profiles with it."),
            "owner": "NPCC VAWG taskforce"})
    if len(morile):
        high = morile[morile["priority"] == "high"]
        if len(high):
            areas = sorted({THREAT_AREA_LABELS[a].split(" (")[0] for a in high["threat_area"]})
            recs.append({"id": f"R{len(recs) + 1}", "pillar": "Protect", "text": (
                f"Prioritise {', '.join(areas)} in the forces scored high, starting where confidence in the data "
                "is high."), "owner": "Force VAWG leads"})
    recs.append({"id": f"R{len(recs) + 1}", "pillar": "Prepare", "text": (
        "Add child sexual abuse and technology-enabled VAWG flags to the force summary so the next assessment can "
        "measure them."), "owner": "National VAWG analysis team"})
    return recs


def _gaps(missing: pd.DataFrame, measures: pd.DataFrame, cfg: StraConfig) -> list[dict[str, Any]]:
    gaps = [{"id": f"G{i + 1}", "area": a, "label": THREAT_AREA_LABELS[a], "text": t}
            for i, (a, t) in enumerate(GAP_AREAS.items())]
    rms_areas = [a for a in cfg.threat_areas if not a.startswith("police_uk_")]
    forces_rms = sorted(set(measures[measures["threat_area"].isin(rms_areas)]["force"]))
    n_forces = measures["force"].nunique()
    if n_forces and len(forces_rms) < n_forces:
        gaps.append({"id": f"G{len(gaps) + 1}", "area": "rms", "label": "Force RMS threat areas",
                     "text": (f"Only {len(forces_rms)} of {n_forces} forces supplied RMS-based threat areas (domestic "
                              "abuse, RASSO, public-space violence, stalking); the rest are measured on police.uk "
                              "categories, which cannot separate them.")})
    if len(missing):
        gaps.append({"id": f"G{len(gaps) + 1}", "area": "forces", "label": "Missing forces",
                     "text": f"No usable summary from {', '.join(missing['force'])}."})
    return gaps


# --------------------------------------------------------------------------- the compiler

def compile_stra(forces: Sequence[ForceSummary], exclusions: Sequence[Exclusion], cfg: StraConfig, *,
                 config_sha256: str = "", tool_version: str = "", created_utc: str | None = None) -> StraNumbers:
    """Compile the national STRA's numbers from the forces' summaries. Writes no file.

    Parameters
    ----------
    forces : sequence of ForceSummary
        :func:`profiles.stra.inputs.read_summaries` (validated summaries).
    exclusions : sequence of Exclusion
        The summaries left out, and why (carried into the STRA and its audit).
    cfg : StraConfig
    config_sha256, tool_version, created_utc : str
        For the record (``meta``).

    Returns
    -------
    StraNumbers

    Examples
    --------
    >>> from profiles.summary import example_summary
    >>> a = example_summary()
    >>> n = compile_stra([ForceSummary("a.json", "a" * 64, a)], [], StraConfig())
    >>> len(n.inputs), len(n.missing) > 40
    (1, True)
    """
    pop = read_population(cfg)
    expected = expected_forces(cfg)
    inputs = _inputs_table(forces, pop)
    inputs, dup_excl, forces = _duplicates(inputs, forces)
    exclusions = [*exclusions, *dup_excl]
    mm = definition_mismatches(forces)
    periods = inputs["last_month"].dropna()
    common_last = periods.mode().iloc[0] if len(periods) else None
    if len(inputs):  # the period itself is a definition: a force ending elsewhere is caveated
        first = inputs["first_month"].mode().iloc[0]
        for r in inputs.itertuples():
            if (r.first_month, r.last_month) != (first, common_last):
                mm = pd.concat([mm, pd.DataFrame([{
                    "force": r.force, "definition": "period", "value": f"{r.first_month} to {r.last_month}",
                    "common": f"{first} to {common_last}",
                    "forces_with_common": int(((inputs["first_month"] == first)
                                               & (inputs["last_month"] == common_last)).sum())}])],
                               ignore_index=True)
    measures = _measures(inputs, forces, mm, cfg)
    quality = _quality(inputs, forces, cfg, common_last)
    measures = _downgrade(measures, quality)
    funnels, position = funnels_for(measures, cfg.funnel_winsor)
    measures = measures.assign(funnel_position=position)
    present = set(inputs["key"])
    excluded_keys = {force_key(e.force): e for e in exclusions if e.force}
    missing = pd.DataFrame(
        [{"force": name, "key": k, "reason": ("summary excluded: " + excluded_keys[k].problem[:160])
          if k in excluded_keys else "no summary received"}
         for k, name in expected.items() if k not in present],
        columns=["force", "key", "reason"])
    unexpected = sorted(set(inputs["key"]) - set(expected))
    h3_res = definition_common(forces, ("definitions", "h3_resolution"))
    places = _places(forces, inputs, h3_res, cfg.top_places)
    national = national_for(measures)
    morile = morile_for(measures, national, cfg.morile)
    period = (f"{inputs['first_month'].min()} to {inputs['last_month'].max()}" if len(inputs) else "no period")
    meta = {"title": cfg.title, "security_classification": cfg.security_classification, "handling": cfg.handling,
            "created_utc": created_utc or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "tool_version": tool_version, "config_sha256": config_sha256, "period": period,
            "common_period_end": common_last, "h3_resolution": h3_res,
            "population_source": cfg.population_source, "boundaries_source": cfg.boundaries_source,
            "morile": {"harm_bands": list(cfg.morile.harm_bands), "rate_bands": list(cfg.morile.rate_bands),
                       "trend_step": cfg.morile.trend_step, "priority_bands": list(cfg.morile.priority_bands),
                       "source": cfg.morile.source, "likelihood": cfg.morile.likelihood},
            "threat_areas": {a: list(ids) for a, ids in cfg.threat_areas.items()},
            "unexpected_forces": unexpected, "expected_forces": len(expected),
            "volume_per_1000_month": quality.attrs.get("volume_per_1000_month"),
            "median_share_without_location": quality.attrs.get("median_share_without_location")}
    numbers = StraNumbers(meta=meta, inputs=inputs, exclusions=tuple(exclusions), missing=missing,
                          mismatches=mm, measures=measures, national=national, funnels=funnels, quality=quality,
                          morile=morile, places=places, findings=(), recommendations=(),
                          gaps=tuple(_gaps(missing, measures, cfg)), config=cfg)
    return rebuild_words(numbers)


def rebuild_words(numbers: StraNumbers) -> StraNumbers:
    """The findings and recommendations written from the numbers' own tables (after disclosure: the shared ones)."""
    n = numbers
    findings = _findings(n.inputs, n.exclusions, n.missing, n.mismatches, n.measures, n.national, n.quality,
                         n.morile, n.places, str(n.meta["period"]))
    return dataclasses.replace(n, findings=tuple(findings),
                               recommendations=tuple(_recommendations(n.missing, n.quality, n.mismatches, n.morile)))


def definition_common(forces: Sequence[ForceSummary], path: tuple[str, ...]) -> Any:
    """The most common value of one definition across the forces (None when no force has it)."""
    vals = []
    for f in forces:
        obj: Any = f.summary
        for k in path:
            obj = obj.get(k) if isinstance(obj, dict) else None
        if obj is not None:
            vals.append(json.dumps(obj, sort_keys=True))
    if not vals:
        return None
    return json.loads(pd.Series(vals).mode().iloc[0])
