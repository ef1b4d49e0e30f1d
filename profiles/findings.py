"""Key findings, intelligence gaps and recommendations, generated from the profile's numbers.

Every sentence here is built from a number the profile computed, and keeps
that number (``numbers``) so the summary and the national STRA can check it.
A finding that rests on a synthetic layer says so in its text.

Product discipline (``../DOMAIN.md`` section 11):

* every key judgement carries a **probability-yardstick** term (PHIA:
  "likely", "highly likely", ...) from its statistical test
  (:func:`phia_grade`) and a separate **confidence** in the evidence (high /
  moderate / low, :data:`CONFIDENCE_RULES`); a count is a fact, not a
  judgement, and is graded "fact (count)"; a finding on synthetic data is not
  graded;
* recommendations form a **4P plan** (Prevent, Pursue, Protect, Prepare), each
  with the finding it answers, a place, a time, a partner, a tactic, an
  owner, a measure of success, a priority and a review date;
* every intelligence gap carries a **collection plan** line (what to collect,
  from whom, owner, by when).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pandas as pd

from hotspots.config import ProductConfig
from hotspots.perception_gap import GAP_FELT
from profiles.numbers import Findings, ProfileNumbers

DEFAULT_OWNERS: dict[str, str] = dict(ProductConfig().owners)

__all__ = [
    "PHIA_YARDSTICK",
    "phia_grade",
    "Finding",
    "Gap",
    "Recommendation",
    "key_findings",
    "intelligence_gaps",
    "recommendations",
    "build_findings",
    "finding_numbers",
    "gap_numbers",
    "recommendation_numbers",
]


#: The UK Professional Head of Intelligence Assessment probability yardstick (term, range).
PHIA_YARDSTICK = (
    ("remote chance", "0-5%"),
    ("highly unlikely", "10-20%"),
    ("unlikely", "25-35%"),
    ("a realistic possibility", "40-50%"),
    ("likely", "55-75%"),
    ("highly likely", "80-90%"),
    ("almost certain", "95-100%"),
)

#: How a finding's test p-value maps to the yardstick: the judgement "this pattern is real, not chance".
#: A one-sided p below 0.001 is "almost certain"; p >= 0.2 says the data cannot tell ("unlikely" that the
#: stated difference is real). The mapping is a local convention stated in the method annex.
PHIA_FROM_P = ((0.001, "almost certain"), (0.01, "highly likely"), (0.05, "likely"), (0.2, "a realistic possibility"))

GRADE_FACT = "fact (count)"
GRADE_SYNTHETIC = "not graded (synthetic data)"

#: Confidence in the evidence, stated separately from the probability (high / moderate / low).
CONFIDENCE_RULES = {
    "high": "direct VAWG measure, complete coverage, independent events",
    "moderate": "a proxy (police.uk categories: all victims, no sex) or gaps in coverage or location",
    "low": "synthetic, small numbers or a partial source",
}


def phia_grade(p_value: float | None) -> str:
    """The probability-yardstick term for a finding whose test gave ``p_value`` (:data:`PHIA_FROM_P`).

    Examples
    --------
    >>> [phia_grade(p) for p in (0.0001, 0.004, 0.03, 0.1, 0.6, None)]
    ['almost certain', 'highly likely', 'likely', 'a realistic possibility', 'unlikely', '']
    """
    if p_value is None or not math.isfinite(float(p_value)):
        return ""
    for cut, term in PHIA_FROM_P:
        if p_value < cut:
            return term
    return "unlikely"


@dataclass(frozen=True)
class Finding:
    """One key finding: an id, the sentence, the numbers behind it, its grade and the confidence in it.

    ``grade`` is a probability-yardstick term (:func:`phia_grade`), ``GRADE_FACT`` for a count or
    ``GRADE_SYNTHETIC``; ``confidence`` is high / moderate / low with ``basis`` saying why.
    """

    id: str
    text: str
    numbers: dict = field(default_factory=dict)
    synthetic: bool = False
    grade: str = ""
    confidence: str = ""
    basis: str = ""

    def to_dict(self) -> dict:
        """JSON-able form."""
        return asdict(self)


@dataclass(frozen=True)
class Gap:
    """An intelligence gap derived from the data (``evidence``: numbers only, for the summary).

    ``collect``, ``source`` and ``owner`` are its line of the intelligence collection plan: what to
    collect, from whom, and who chases it (by the review date).
    """

    id: str
    text: str
    evidence: dict = field(default_factory=dict)
    collect: str = ""
    source: str = ""
    owner: str = ""

    def to_dict(self) -> dict:
        """JSON-able form."""
        return asdict(self)


@dataclass(frozen=True)
class Recommendation:
    """A recommendation tied to a finding: place, time, partner, tactic, and its line of the 4P plan.

    ``pillar`` is Prevent, Pursue, Protect or Prepare; ``owner`` from the config (``[product] owners``);
    ``measure`` how success is judged; ``priority`` high / medium / low; ``review`` the review date.
    """

    id: str
    text: str
    finding_id: str
    place: str
    time: str
    partner: str
    tactic: str
    pillar: str = ""
    owner: str = ""
    measure: str = ""
    priority: str = ""
    review: str = ""

    def to_dict(self) -> dict:
        """JSON-able form."""
        return asdict(self)


def _pct(x: float | None, digits: int = 0) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def _syn(flag: bool) -> str:
    return " [SYNTHETIC layer: illustrates the method, not intelligence]" if flag else ""


def key_findings(n: dict) -> list[Finding]:
    """Five to eight findings from the profile's numbers.

    Parameters
    ----------
    n : dict
        :func:`finding_numbers` of a :class:`~profiles.numbers.ProfileNumbers`:
        ``volume``, ``trend``, ``trend_chart``, ``concentration``, ``gi``,
        ``nte``, ``venues``, ``perception``, ``deprivation``; any may be missing.

    Returns
    -------
    list of Finding

    Examples
    --------
    >>> f = key_findings({"volume": {"total": 1200, "first": "2023-01", "last": "2024-12", "types": "X"}})
    >>> f[0].text.startswith("1,200 VAWG-relevant crimes")
    True
    """
    out: list[Finding] = []
    v = n.get("volume")
    if v:
        out.append(
            Finding(
                "F1",
                f"{v['total']:,} VAWG-relevant crimes (police.uk categories {v['types']}: a proxy, all victims, "
                f"no sex recorded) were mapped inside the force boundary between {v['first']} and {v['last']}"
                + (f"; police.uk published {v['published']:,} of these categories, the rest without a location or "
                   "mapped outside the boundary" if v.get("published") else "")
                + (f"; {v['missing']} are missing and not estimated" if v.get("missing") else "")
                + ".",
                {k: v[k] for k in ("total",)},
            )
        )
    t = n.get("trend")
    tc = n.get("trend_chart")
    if t and t.get("available") and t.get("change_pct") is not None and t.get("p_value") is not None:
        chart = f" Monthly: {tc['words']}" if tc and tc.get("words") else ""
        out.append(
            Finding(
                "F2",
                f"police.uk VAWG-relevant crime (a proxy) is {t['words']}.{chart}",
                {**{k: t[k] for k in ("recent", "previous", "change_pct", "n_pairs") if k in t},
                 "p_value": t["p_value"]},
            )
        )
    elif tc:
        out.append(
            Finding(
                "F2",
                (f"{tc['words']} " if tc.get("words") else
                 f"Against a mean of {tc['mean']:,.0f} a month, {tc['above']} of {tc['months']} months were above "
                 f"the upper control limit and {tc['below']} below the lower one. ")
                + f"Year on year is not computed: {tc['reason'].rstrip('.')}.",
                {k: tc[k] for k in ("above", "below", "months", "mean", "last_count", "run_months")},
            )
        )
    c = n.get("concentration")
    if c:
        out.append(
            Finding(
                "F3",
                f"Crime is concentrated: {_pct(c['top_share'])} of VAWG-relevant crime is in the busiest "
                f"{c['top_cells']:,} H3 cells ({_pct(c['top_area_share'], 1)} of the force area); the busiest is "
                f"'{c['top_label']}' ({c['top_count']:,} crimes).",
                {k: c[k] for k in ("top_share", "top_cells", "top_area_share", "top_count")},
            )
        )
    g = n.get("gi")
    if g:
        out.append(
            Finding(
                "F4",
                f"{g['hot_cells']:,} cells are statistically significant hot spots (Getis-Ord Gi*, 5% false "
                f"discovery rate), holding {_pct(g['hot_share'])} of VAWG-relevant crime in "
                f"{_pct(g['hot_area_share'], 1)} of the area.",
                {k: g[k] for k in ("hot_cells", "hot_share", "hot_area_share")},
            )
        )
    nte = n.get("nte")
    if nte:
        out.append(
            Finding(
                "F5",
                f"{_pct(nte['share'])} of RMS VAWG offences with a known time (stalking, harassment and coercive "
                f"control, a course of conduct, are not placed in hours) fall in the NTE window "
                f"({nte['window']}), which is {_pct(nte['window_share'], 1)} of the week: "
                f"{nte['rate_ratio']:.1f} times the rate of other hours.{_syn(nte.get('synthetic', False))}",
                {k: nte[k] for k in ("share", "window_share", "rate_ratio")},
                synthetic=nte.get("synthetic", False),
            )
        )
    ven = n.get("venues")
    if ven:
        out.append(
            Finding(
                "F6",
                f"Risky facilities: the busiest 10% of {ven['n_venues']} NTE venues account for "
                f"{_pct(ven['top10_share'])} of NTE-window incidents within {ven['distance_m']:.0f} m (Gini "
                f"{ven['gini']:.2f}); the top venue is {ven['top_name']}.{_syn(ven.get('synthetic', False))}",
                {k: ven[k] for k in ("n_venues", "top10_share", "gini")},
                synthetic=ven.get("synthetic", False),
            )
        )
    p = n.get("perception")
    if p:
        many = f"{p['cells']}{' or more' if p.get('at_least') else ''}" if p["cells"] is not None else "Some"
        out.append(
            Finding(
                "F7",
                f"{many} places (H3 cells) have at least twice the "
                "StreetSafe reports that recorded crime would suggest: women report feeling unsafe where little is "
                "recorded."
                + (" (Counted among places whose counts can be shared.)" if p.get("at_least") else "")
                + _syn(p.get("synthetic", False)),
                {"cells": p["cells"]},
                synthetic=p.get("synthetic", False),
            )
        )
    d = n.get("deprivation")
    if d and d.get("finding"):
        out.append(Finding("F8", d["finding"], d.get("numbers", {})))
    st = n.get("spacetime")
    if st:
        out.append(
            Finding(
                "F10",
                f"Over time, {st['persistent']:,} cells are persistent hot spots (significant in at least 80% of "
                f"{st['periods']} months), {st['emerging']:,} are emerging (hot recently, rarely before) and "
                f"{st['former']:,} are former hot spots (sfhotspot classes on monthly Gi*): patrol and problem-solve "
                "the persistent cells, watch the emerging ones.",
                {"persistent": st["persistent"], "emerging": st["emerging"], "former": st["former"]},
            )
        )
    oc = n.get("outcomes")
    if oc:
        rows = "; ".join(
            f"{r['group'].replace('RMS: ', '')} {_pct(r['share_14_16'])} (charged {_pct(r['share_charged'])})"
            for r in oc["rows"]
        )
        out.append(
            Finding(
                "F11",
                f"Of VAWG investigations with an outcome, evidential difficulties (outcomes 14-16) closed: {rows}. "
                "Framework action 8: scrutinise why victims withdraw support and where "
                f"evidence-led prosecution is possible.{_syn(oc['synthetic'])}",
                {f"share_14_16_{i}": r["share_14_16"] for i, r in enumerate(oc["rows"])},
                synthetic=oc["synthetic"],
            )
        )
    vc = n.get("venue_concentration")
    if vc:
        more = vc["relative_share"] > 1 and vc["fisher_p"] < 0.05
        verdict = ("more concentrated near licensed premises than other crime" if more
                   else "no more concentrated near licensed premises than other crime")
        out.append(
            Finding(
                "F9",
                f"In {vc['area']}, VAWG-relevant crime is {verdict}: {_pct(vc['event_share'])} of it lies within "
                f"{vc['distance_m']:.0f} m of {vc['n_venues']:,} NTE venues against {_pct(vc['other_share'])} of other "
                f"crime ({vc['relative_share']:.2f} times as concentrated; one-sided Fisher p = "
                f"{vc['fisher_p']:.3f}). Venue data cover {vc['area']} only ({vc['coverage']}).",
                {"event_share": vc["event_share"], "other_share": vc["other_share"],
                 "relative_share": vc["relative_share"], "p_value": vc["fisher_p"]},
            )
        )
    return sorted((f for f in out if f.text), key=lambda f: int(f.id[1:]))[:12]


def intelligence_gaps(n: dict) -> list[Gap]:
    """Gaps in the data that limit the profile, each with its evidence.

    Examples
    --------
    >>> gaps = intelligence_gaps({"missing_sources": ["CCTV"], "month_only": True})
    >>> [g.id for g in gaps]
    ['G1', 'G2']
    """
    gaps: list[Gap] = []
    if n.get("missing_sources"):
        gaps.append(
            Gap(
                "G1",
                "No data supplied for: " + ", ".join(n["missing_sources"]) + ". The profile cannot say whether "
                "these places are covered or lit; ask the partners named in the recommendations.",
                {"missing_sources": len(n["missing_sources"])},
            )
        )
    if n.get("month_only"):
        gaps.append(
            Gap(
                "G2",
                "police.uk gives the month only: no day, time, victim sex or domestic-abuse flag. Time-of-day and "
                "VAWG-specific analysis rests on the RMS layer"
                + (" (synthetic in this demo)" if n.get("rms_synthetic") else "")
                + ".",
                {"month_only_sources": 1},
            )
        )
    if n.get("no_coordinates") is not None:
        trend = n.get("no_location_trend")
        gaps.append(
            Gap(
                "G3",
                f"{n['no_coordinates']:,} police.uk rows ({_pct(n['no_coordinates_share'], 1)}) have no location and "
                "are missing from every map"
                + (f"; the share without a location went from {_pct(trend['first'], 1)} in the first six months "
                   f"to {_pct(trend['last'], 1)} in the last six" if trend else "")
                + ".",
                {"rows": n["no_coordinates"], "share": n["no_coordinates_share"],
                 **({"share_first6": trend["first"], "share_last6": trend["last"]} if trend else {})},
            )
        )
    if n.get("stacking_share") is not None:
        gaps.append(
            Gap(
                "G4",
                f"{_pct(n['stacking_share'])} of mapped VAWG-relevant crimes sit on police.uk map points holding 10 or "
                "more crimes: a busy cell may be one snap point (a street centre or a nightclub), not a place.",
                {"share": n["stacking_share"]},
            )
        )
    if n.get("missing_months"):
        gaps.append(
            Gap(
                "G5",
                f"Months with no data: {', '.join(n['missing_months'])}. Trends and year-on-year comparisons that "
                "span them are not computed.",
                {"missing_months": len(n["missing_months"])},
            )
        )
    if n.get("synthetic_sources"):
        gaps.append(
            Gap(
                "G6",
                "RMS, StreetSafe and A&E layers in this run are synthetic stand-ins: replace them with the force's "
                "extract, the StreetSafe export and the CSP's ISTV data before the profile is used.",
                {"synthetic_sources": len(n["synthetic_sources"])},
            )
        )
    cmp_ = n.get("comparators")
    if cmp_ and cmp_.get("finding"):
        ev = {k: v for k, v in (cmp_.get("numbers") or {}).items() if isinstance(v, int | float)}
        gaps.append(Gap("G7", cmp_["finding"], ev))
    if n.get("harm_unverified"):
        gaps.append(
            Gap(
                "G8",
                f"Harm weights ({n['harm_index']}) are approximations for {_pct(n['harm_unverified'])} of weighted "
                "events; harm totals rank places, they are not exact sentencing days.",
                {"unverified_share": n["harm_unverified"]},
            )
        )
    return gaps


def recommendations(findings: list[Finding], n: dict) -> list[Recommendation]:
    """One recommendation per actionable finding, with place, time, partner and tactic.

    Examples
    --------
    >>> f = [Finding("F3", "x", {}), Finding("F5", "y", {})]
    >>> recs = recommendations(f, {"top_place": "High Street", "nte_window": "Fri,Sat 21:00-06:00"})
    >>> [(r.id, r.finding_id) for r in recs]
    [('R1', 'F3'), ('R2', 'F5')]
    """
    by_id = {f.id: f for f in findings}
    place = n.get("top_place", "the top-ranked cells")
    window = n.get("nte_window", "the NTE window")
    recs: list[Recommendation] = []

    def add(fid, text, where, when, partner, tactic):
        if fid in by_id:
            recs.append(Recommendation(f"R{len(recs) + 1}", text, fid, where, when, partner, tactic))

    add(
        "F3",
        f"Problem-solve the top cells, starting with {place}: confirm on the ground whether the count is one "
        "snap point or a real place, then apply SARA with the CSP.",
        place,
        "all hours",
        "Community Safety Partnership",
        "problem-oriented policing (SARA)",
    )
    add(
        "F4",
        "Use the Gi* hot spots (not raw counts) to set patrol areas for visible guardianship, reviewed monthly "
        "against the control limits.",
        "Gi* hot-spot cells",
        "peak months",
        "Neighbourhood policing",
        "hot-spot patrols",
    )
    add(
        "F5",
        f"Concentrate NTE resources in {window}: Safe Haven provision, welfare officers and taxi marshals "
        "where NTE incidents cluster.",
        n.get("nte_place", "NTE hot spots"),
        window,
        "Licensing, NTE businesses",
        "NTE guardianship (Safe Havens, welfare teams)",
    )
    add(
        "F6",
        "Review the licences of the top-ranked venues (door staff, Ask for Angela, drink-spiking testing) with "
        "the licensing authority.",
        n.get("top_venue", "top-ranked venues"),
        window,
        "Licensing authority",
        "licensing review and venue engagement",
    )
    add(
        "F7",
        "Walk the places where women report feeling unsafe with StreetSafe respondents' reasons in hand "
        "(lighting, CCTV, layout) and bid for Safer Streets fixes.",
        n.get("perception_place", "felt-unsafe places"),
        "after dark",
        "Local authority highways, lighting and CCTV",
        "situational crime prevention",
    )
    add(
        "F8",
        "Target prevention and victim outreach in the most deprived hot-spot LSOAs with health and housing partners.",
        "hot-spot LSOAs in IMD deciles 1-3",
        "all hours",
        "Public health, housing",
        "early intervention and outreach",
    )
    add(
        "F10",
        "Put standing patrols and problem-solving in the persistent hot-spot cells; review the emerging cells "
        "monthly and add them when they persist.",
        "persistent and emerging Gi* cells",
        "peak months",
        "Neighbourhood policing",
        "hot-spot policing (College of Policing toolkit: reduces crime)",
    )
    add(
        "F11",
        "Review a sample of outcome 15 and 16 closures with the CPS: victim support (IDVA/ISVA) at the first "
        "contact, body-worn video and 999 recordings for evidence-led prosecution.",
        "force-wide",
        "within the next review period",
        "CPS, IDVA/ISVA services",
        "evidence-led prosecution, victim support",
    )
    f9 = by_id.get("F9")
    if f9 is not None:
        more = f9.numbers.get("relative_share", 0) > 1 and f9.numbers.get("p_value", 1) < 0.05
        add(
            "F9",
            "Bring licensed premises into the VAWG plan: door staff training, Ask for Angela and welfare "
            "provision, with licensing conditions where incidents persist." if more else
            "Do not target venues on the assumption that they drive VAWG: near licensed premises VAWG is no more "
            "concentrated than other crime, so plan on the streets, routes and times the hot spots show.",
            "licensed premises in the venue data's area",
            "NTE window",
            "Licensing authority",
            "licensing engagement" if more else "place-based NTE plan",
        )
    add(
        "F2",
        "Track the monthly count against the control limits and investigate any month outside them.",
        "force-wide",
        "monthly",
        "Force analysis team",
        "performance monitoring",
    )
    return recs


def _known(*values: Any) -> bool:
    """True when no value is withheld (None, NA or NaN): a finding is built only from published numbers."""
    for v in values:
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return False
    return True


def _first(frame: pd.DataFrame | None, col: str) -> Any:
    if frame is None or not len(frame) or col not in frame.columns:
        return None
    v = frame[col].iloc[0]
    return None if not _known(v) else v


def finding_numbers(numbers: ProfileNumbers) -> dict[str, Any]:
    """The numbers :func:`key_findings` reads, taken from a ProfileNumbers (restricted or shared).

    A part is left out when a number it needs is withheld, so a shared
    version never states a withheld value.
    """
    meta, vol = numbers.meta, numbers.volume
    n: dict[str, Any] = {}
    total = vol.total
    if total is not None and _known(total):
        n["volume"] = {
            "total": int(total),
            "types": " and ".join(meta.crime_types),
            "first": meta.first_month,
            "last": meta.last_month,
            "missing": ", ".join(meta.missing_months),
            "published": int(vol.published) if vol.published is not None and _known(vol.published) else None,
        }
    yoy = dict(numbers.trend.yoy)
    if yoy.get("available") and _known(yoy.get("recent"), yoy.get("previous"), yoy.get("change_pct")):
        n["trend"] = yoy
    chart = numbers.trend.chart
    if chart is not None and _known(*chart.values()):
        n["trend_chart"] = dict(chart)
    places = numbers.hotspots.places
    top_label, top_count = _first(places, "label"), _first(places, "count")
    if _known(vol.top_share, top_count):
        n["concentration"] = {
            "top_share": vol.top_share,
            "top_cells": vol.top_cells,
            "top_area_share": vol.top_area_share,
            "top_label": top_label or "",
            "top_count": int(top_count),
        }
    if _known(vol.gi_hot_share):
        n["gi"] = {
            "hot_cells": vol.gi_hot_cells,
            "hot_share": vol.gi_hot_share,
            "hot_area_share": vol.gi_hot_area_share,
        }
    nte = numbers.when.nte
    if nte is not None and _known(nte.get("share"), nte.get("rate_ratio")):
        n["nte"] = dict(nte)
    ven = numbers.venues.summary
    if ven is not None and _known(ven.get("top10_share"), ven.get("gini"), ven.get("n_venues"), ven.get("top_name")):
        n["venues"] = dict(ven)
    gap = numbers.fused.perception
    if gap is not None:
        cells: int | None = int((gap["gap_class"] == GAP_FELT).sum())
        k = numbers.disclosure.threshold
        if numbers.disclosure.shared and k is not None and cells is not None and cells < k:
            cells = None  # a shared version never quotes a number below its threshold, even of places
        n["perception"] = {
            "cells": cells,
            "synthetic": "streetsafe" in meta.synthetic_sources,
            # shared numbers publish a cell's class only when both its counts are published: a lower bound
            "at_least": numbers.disclosure.shared,
        }
    oc = numbers.what.outcomes
    if oc is not None and len(oc):
        keep = oc[oc["share_14_16"].notna() & oc["share_charged"].notna()]
        keep = keep.sort_values("share_14_16", ascending=False).head(3)
        if len(keep):
            n["outcomes"] = {
                "rows": [{"group": str(r["group"]), "share_14_16": float(r["share_14_16"]),
                          "share_charged": float(r["share_charged"])} for _, r in keep.iterrows()],
                "synthetic": "rms" in meta.synthetic_sources,
            }
    stc = numbers.hotspots.spacetime
    if stc is not None and len(stc):
        counts = stc["st_class"].value_counts()
        n["spacetime"] = {
            "persistent": int(counts.get("persistent hotspot", 0)),
            "emerging": int(counts.get("emerging hotspot", 0)),
            "former": int(counts.get("former hotspot", 0)),
            "periods": int(stc["st_periods"].iloc[0]) if "st_periods" in stc.columns else len(numbers.meta.months)
            - len(numbers.meta.missing_months),
        }
    vc = numbers.venues.concentration
    if vc is not None and _known(vc.event_share, vc.other_share, vc.relative_share, vc.fisher_p):
        n["venue_concentration"] = {
            "area": numbers.venues.concentration_area or "the venue data's area",
            "distance_m": vc.distance_m, "n_venues": vc.n_venues, "event_share": vc.event_share,
            "other_share": vc.other_share, "relative_share": vc.relative_share, "fisher_p": vc.fisher_p,
            "coverage": "Open Pubs, FSA ratings and the 2014 licensing register; other local authorities have no "
                        "venue data in this profile",
        }
    ld = numbers.context.lsoa
    if ld is not None and _known(ld.mw_p, ld.hot_deprived_share, ld.rate_ratio):
        n["deprivation"] = {
            "finding": ld.finding,
            "numbers": {"hot_deprived_share": ld.hot_deprived_share, "other_deprived_share": ld.other_deprived_share,
                        "rate_ratio": ld.rate_ratio, "p_value": ld.mw_p},
        }
    dep = numbers.context.deprivation
    if dep is not None and "deprivation" not in n:
        n["deprivation"] = {
            "finding": dep.finding,
            "numbers": {
                "hotspot_deprived_share": dep.hotspot_deprived_share,
                "force_deprived_share": dep.force_deprived_share,
            },
        }
    return n


def gap_numbers(numbers: ProfileNumbers) -> dict[str, Any]:
    """The numbers :func:`intelligence_gaps` reads, taken from a ProfileNumbers."""
    q, meta = numbers.quality, numbers.meta
    cmp_ = numbers.context.comparison
    n: dict[str, Any] = {
        "missing_sources": list(q.missing_sources),
        "month_only": True,
        "rms_synthetic": "rms" in meta.synthetic_sources,
        "no_coordinates": q.no_coordinates,
        "no_coordinates_share": q.no_coordinates_share,
        "stacking_share": q.stacking_share,
        "missing_months": list(meta.missing_months),
        "synthetic_sources": list(meta.synthetic_sources),
        "comparators": cmp_.to_dict() if cmp_ is not None else None,
        "harm_index": meta.definitions.get("harm_index", "none"),
    }
    if q.harm_unverified:
        n["harm_unverified"] = q.harm_unverified
    nl = q.no_location_by_month
    if nl is not None and len(nl) >= 12 and _known(*nl["without_location"].tolist()):
        head, tail = nl.head(6), nl.tail(6)
        n["no_location_trend"] = {"first": float(head["without_location"].sum() / head["rows"].sum()),
                                  "last": float(tail["without_location"].sum() / tail["rows"].sum())}
    return n


def recommendation_numbers(numbers: ProfileNumbers) -> dict[str, Any]:
    """The place, window and venue :func:`recommendations` names, taken from a ProfileNumbers."""
    n: dict[str, Any] = {
        "top_place": _first(numbers.hotspots.places, "label") or "the top cells",
        "nte_window": numbers.meta.definitions.get("nte_window", "the NTE window"),
    }
    venue = _first(numbers.venues.risk, "name")
    if venue is not None:
        n["top_venue"] = str(venue)
    return n


# --- grading, the 4P plan and the collection plan ------------------------------------------------------------

#: finding id -> (pillar, measure of success)
PLAN = {
    "F2": ("Prepare", "monthly count inside the baseline control limits; any month outside them explained within a "
                      "month"),
    "F3": ("Prevent", "crime in the top cells against their own baseline, reviewed quarterly"),
    "F4": ("Protect", "crime in patrolled Gi* cells against matched unpatrolled cells (no displacement)"),
    "F5": ("Protect", "NTE-window share of VAWG and repeat NTE incidents in the patrolled area"),
    "F6": ("Prevent", "NTE incidents within the venue distance of the top 10% of venues"),
    "F7": ("Prevent", "StreetSafe reports in the treated places after the works, against the year before"),
    "F8": ("Protect", "referrals and repeat victimisation in the targeted LSOAs"),
    "F9": ("Prevent", "VAWG within the venue distance of licensed premises against other crime there"),
    "F10": ("Protect", "crime in the persistent and emerging hot-spot cells against their baseline, quarterly"),
    "F11": ("Pursue", "share of VAWG offences closed with outcomes 14-16, quarterly, against the baseline"),
}
_PRIORITY_BY_GRADE = {"almost certain": "high", "highly likely": "high", "likely": "medium", GRADE_FACT: "medium"}

#: gap id -> (what to collect, from whom, owner pillar)
COLLECTION = {
    "G1": ("CCTV camera and street-light locations and status; ISTV (A&E) data sharing agreement",
           "local authority CCTV and highways teams; CSP and ED", "Prepare"),
    "G2": ("RMS extract with offence code, victim sex, DA flag and from/to times for the same period",
           "force RMS / performance team", "Prepare"),
    "G3": ("geocoding of RMS records without a location; police.uk 'no location' share by month",
           "force data quality team", "Prepare"),
    "G4": ("street-level review of the top snap points (is the place real or a reporting point?)",
           "neighbourhood teams, force GIS", "Prepare"),
    "G5": ("the missing months' police.uk files (re-download) or the RMS for the same months",
           "data.police.uk / force RMS", "Prepare"),
    "G6": ("the real RMS, StreetSafe and ISTV extracts to replace the synthetic layers",
           "force RMS, StreetSafe (police.uk), CSP", "Prepare"),
    "G7": ("an explanation from the force's crime-recording / publication team of the volume difference",
           "force crime registrar", "Prepare"),
    "G8": ("verified harm weights for the offence codes marked unverified", "force analysis team; index authors",
           "Prepare"),
}


def _confidence(f: Finding, n: Mapping[str, Any]) -> tuple[str, str]:
    if f.synthetic:
        return "low", "synthetic layer: illustrates the method only"
    proxy = "police.uk categories are a proxy: all victims, no sex recorded"
    gaps = []
    if n.get("missing_months"):
        gaps.append(f"{len(n['missing_months'])} month(s) missing")
    if n.get("stacking_share") and f.id in ("F3", "F4"):
        gaps.append("anonymised map points stack crimes on shared points")
    return "moderate", "; ".join([proxy, *gaps])


def grade_findings(findings: Sequence[Finding], n: Mapping[str, Any]) -> list[Finding]:
    """Each finding with its probability-yardstick grade, confidence and basis.

    A finding whose numbers carry a ``p_value`` is graded by :func:`phia_grade`;
    a count is ``GRADE_FACT``; a synthetic one ``GRADE_SYNTHETIC``.

    Examples
    --------
    >>> f = grade_findings([Finding("F2", "x", {"p_value": 0.004}), Finding("F1", "y", {})], {})
    >>> [(g.grade, g.confidence) for g in f]
    [('highly likely', 'moderate'), ('fact (count)', 'moderate')]
    """
    out = []
    for f in findings:
        if f.synthetic:
            grade = GRADE_SYNTHETIC
        elif f.id == "F9" and f.numbers.get("p_value") is not None:
            grade = f"{phia_grade(f.numbers['p_value'])} that VAWG is more concentrated near venues than other crime"
        elif f.numbers.get("p_value") is not None:
            grade = phia_grade(f.numbers["p_value"])
        elif f.id == "F4":
            grade = "almost certain"  # cells passing a 5% false discovery rate: >= 95% expected to be real
        else:
            grade = GRADE_FACT
        conf, basis = _confidence(f, n)
        out.append(replace(f, grade=grade, confidence=conf, basis=basis))
    return out


def plan_recommendations(recs: Sequence[Recommendation], findings: Sequence[Finding], *,
                         owners: Mapping[str, str], review: str) -> list[Recommendation]:
    """The recommendations as a 4P plan: pillar, owner, measure, priority (from the finding's grade), review date.

    Examples
    --------
    >>> r = [Recommendation("R1", "x", "F3", "p", "t", "CSP", "SARA")]
    >>> f = [Finding("F3", "y", {}, grade="fact (count)")]
    >>> p = plan_recommendations(r, f, owners={"Prevent": "CSP chair"}, review="2027-06-04")[0]
    >>> p.pillar, p.owner, p.priority, p.review
    ('Prevent', 'CSP chair', 'medium', '2027-06-04')
    """
    by_id = {f.id: f for f in findings}
    out = []
    for r in recs:
        pillar, measure = PLAN.get(r.finding_id, ("Prepare", "reviewed at the profile's review date"))
        f = by_id.get(r.finding_id)
        if f is not None and f.synthetic:
            priority = "low (synthetic data: replace the data first)"
        else:
            priority = _PRIORITY_BY_GRADE.get(f.grade if f is not None else "", "low")
        out.append(replace(r, pillar=pillar, owner=owners.get(pillar, f"[{pillar} owner]"), measure=measure,
                           priority=priority, review=review))
    order = {p: i for i, p in enumerate(("Prevent", "Pursue", "Protect", "Prepare"))}
    ranked = sorted(out, key=lambda r: (order.get(r.pillar, 9), int(r.id[1:]) if r.id[1:].isdigit() else 0))
    return [replace(r, id=f"R{i}") for i, r in enumerate(ranked, start=1)]  # numbered in plan order


def collection_plan(gaps: Sequence[Gap], *, owners: Mapping[str, str]) -> list[Gap]:
    """Each gap with its intelligence-collection line (what, from whom, owner).

    Examples
    --------
    >>> g = collection_plan([Gap("G3", "x")], owners={"Prepare": "Head of Analysis"})[0]
    >>> g.owner, g.source
    ('Head of Analysis', 'force data quality team')
    """
    out = []
    for g in gaps:
        collect, source, pillar = COLLECTION.get(g.id, ("data to close the gap", "the data owner", "Prepare"))
        out.append(replace(g, collect=collect, source=source, owner=owners.get(pillar, f"[{pillar} owner]")))
    return out


def review_date(created_utc: str, months: int) -> str:
    """The review date: ``months`` after the run date ("YYYY-MM-DD"; day capped at 28).

    Examples
    --------
    >>> review_date("2026-12-04T18:36:07Z", 6)
    '2027-06-04'
    """
    d = dt.date.fromisoformat(created_utc[:10]) if created_utc else dt.date.today()
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, min(d.day, 28)).isoformat()


def build_findings(numbers: ProfileNumbers) -> Findings:
    """Key findings, intelligence gaps and recommendations from a ProfileNumbers (restricted or shared).

    Depends on the numbers' fields only (never on ``numbers.findings``), so
    the shared version regenerates its findings from what it publishes.

    Examples
    --------
    >>> from hotspots.config import load_config
    >>> from profiles.compute import compute_profile
    >>> numbers = compute_profile(load_config("configs/avon-and-somerset.toml"))  # doctest: +SKIP
    >>> [f.id for f in build_findings(numbers).findings]  # doctest: +SKIP
    ['F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7', 'F8']
    """
    gn = gap_numbers(numbers)
    findings = grade_findings(key_findings(finding_numbers(numbers)), gn)
    product = dict(numbers.meta.config.get("product") or {})
    owners = {**DEFAULT_OWNERS, **dict(product.get("owners") or {})}
    review = review_date(numbers.meta.created_utc, int(product.get("review_months", 6)))
    gaps = collection_plan(intelligence_gaps(gn), owners=owners)
    recs = plan_recommendations(recommendations(findings, recommendation_numbers(numbers)), findings, owners=owners,
                                review=review)
    return Findings(findings=tuple(findings), gaps=tuple(gaps), recommendations=tuple(recs))
