"""``summary.json`` (schema ``summary-v1``) from the profile's numbers.

The national team compiles every force's ``summary.json`` into the national
STRA. This module only lays the numbers out in the schema's shape: every
count, share and score comes from :class:`~profiles.numbers.ProfileNumbers`
as computed (restricted) or as :func:`profiles.shared.to_shared` left it
(shared), where a withheld value is ``None``/NA and is written ``null``.
Nothing here sums, thresholds or suppresses.

The result is checked by :func:`profiles.summary.validate_summary` before it
is returned, so an invalid summary is never handed to the writer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from profiles.numbers import ProfileNumbers
from profiles.summary import SCHEMA_VERSION, SummaryInvalid, summary_errors

__all__ = ["TOP_PLACES", "COMPONENT_SOURCES", "MONTH_ONLY_SOURCES", "build_summary", "render_summary"]

TOP_PLACES = 20
"""How many of the fused places the summary lists (best first)."""

COMPONENT_SOURCES = ("police_uk", "rms", "streetsafe", "ae")
"""Sources whose per-cell count is listed under ``top_places[].components`` when the places have it."""

MONTH_ONLY_SOURCES = ("police_uk",)
"""Sources that give the month only (no day or time)."""

_NO_LABEL = "no police.uk crime mapped here"


def _value(v: Any) -> Any:
    """A JSON-able scalar: NA/NaN/None -> None, numpy scalars -> Python.

    Examples
    --------
    >>> import numpy as np
    >>> [_value(x) for x in (np.int64(3), np.float64(0.5), float("nan"), pd.NA, None, "a")]
    [3, 0.5, None, None, None, 'a']
    """
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if hasattr(v, "item") and not isinstance(v, str | bytes):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _count(v: Any) -> int | None:
    v = _value(v)
    return None if v is None else int(v)


def _float(v: Any) -> float | None:
    v = _value(v)
    return None if v is None else float(v)


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Rows of ``frame`` as dicts of JSON-able values (one pass over columns, not rows)."""
    cols = {c: [_value(v) for v in frame[c].astype(object).tolist()] for c in columns}
    return [dict(zip(columns, vals, strict=True)) for vals in zip(*cols.values(), strict=True)] if columns else []


def _month_counts(numbers: ProfileNumbers) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """``by_threat_area_month`` (area-major, months in order), ``totals_by_threat_area`` and the threat areas."""
    t = numbers.threats.table
    areas = sorted(str(a) for a in t["threat_area"].astype(str).unique())
    months = list(numbers.meta.months)
    table = t.assign(threat_area=t["threat_area"].astype(str), month=t["month"].astype(str))
    available = table["available"].astype(bool)
    table = table.assign(available=available, suppressed=table["suppressed"].astype(bool))
    idx = pd.MultiIndex.from_product([areas, months], names=["threat_area", "month"])
    full = table.set_index(["threat_area", "month"]).reindex(idx)
    full["available"] = full["available"].fillna(False).astype(bool)
    full["suppressed"] = full["suppressed"].fillna(False).astype(bool)
    shown = full["available"] & ~full["suppressed"]
    counts = full["count"].astype(object).where(shown.to_numpy(), None)
    rows = [
        {"threat_area": a, "month": m, "count": _count(c), "suppressed": bool(s), "available": bool(o)}
        for (a, m), c, s, o in zip(
            full.index, counts.tolist(), full["suppressed"].tolist(), full["available"].tolist(), strict=True
        )
    ]
    tf = numbers.threats.totals
    tf = tf.assign(threat_area=tf["threat_area"].astype(str)).set_index("threat_area").reindex(areas)
    supp = tf["suppressed"].astype("boolean").fillna(False).astype(bool)
    totals = [
        {"threat_area": a, "count": None if s else _count(c), "suppressed": bool(s)}
        for a, c, s in zip(areas, tf["count"].astype(object).tolist(), supp.tolist(), strict=True)
    ]
    return rows, totals, areas


def _top_places(numbers: ProfileNumbers) -> list[dict[str, Any]]:
    places = numbers.fused.places.head(TOP_PLACES)
    comps = [s for s in COMPONENT_SOURCES if f"{s}_count" in places.columns]
    out = []
    # position, not place_rank: fused scores can tie (a shared competition rank); the tie stays visible in the score
    cols = {c: places[c].astype(object).tolist() if c in places.columns else [None] * len(places)
            for c in ("h3_cell", "place_score", "label", "lsoa_code", "imd_decile")}
    comp_cols = {s: places[f"{s}_count"].astype(object).tolist() for s in comps}
    for i in range(len(places)):
        label = _value(cols["label"][i])
        out.append(
            {
                "rank": i + 1,
                "h3_cell": str(cols["h3_cell"][i]),
                "place_score": _float(cols["place_score"][i]),
                "components": {s: _count(comp_cols[s][i]) for s in comps},
                "label": str(label) if label else _NO_LABEL,
                "lsoa_code": _value(cols["lsoa_code"][i]),
                "imd_decile": _count(cols["imd_decile"][i]),
            }
        )
    return out


def _nte(numbers: ProfileNumbers) -> dict[str, Any]:
    t = numbers.when.nte_by_source
    share = {str(s): _float(v) for s, v in zip(t["source"].tolist(), t["nte_share"].astype(object).tolist(),
                                                strict=True)}
    resolved = t.loc[t["nte_share"].notna(), "source"].astype(str) if "time_resolved" not in t.columns else (
        t.loc[t["time_resolved"].astype(bool), "source"].astype(str)
    )
    return {"share_in_window": share, "time_resolved_sources": sorted(resolved.unique().tolist())}


def _harm(numbers: ProfileNumbers) -> dict[str, Any]:
    w, d = numbers.what, numbers.meta.definitions
    by = w.harm_by_group.sort_values("threat_area")
    return {
        "index": str(d["harm_index"]),
        "total": _float(w.harm_total),
        "by_threat_area": [
            {"threat_area": str(a), "total": _float(v)}
            for a, v in zip(by["threat_area"].tolist(), by["harm"].astype(object).tolist(), strict=True)
        ],
        "approximate": True,
    }


def _hotspot_quality(numbers: ProfileNumbers) -> list[dict[str, Any]]:
    hs = numbers.hotspots
    train, test = list(hs.split.get("train_months", [])), list(hs.split.get("test_months", []))
    if not train or not test:  # too few months: no out-of-sample measure
        return []
    rows = _records(hs.quality, ["method", "area_share", "hit_rate", "pai", "pei", "rri"])
    return [{"method": r["method"], "train_months": train, "test_months": test,
             **{k: None if r[k] is None else float(r[k]) for k in ("area_share", "hit_rate", "pai", "pei", "rri")}}
            for r in rows]


def _disclosure(numbers: ProfileNumbers) -> dict[str, Any]:
    d = numbers.disclosure
    out: dict[str, Any] = {
        "shared": d.shared,
        "threshold": d.threshold if d.shared else None,
        "method": d.method,
        "suppressed_cells": int(d.suppressed_cells) if d.shared else 0,
        "release": d.release,
    }
    if d.handling:
        out["handling"] = d.handling
    if d.withheld:
        out["withheld"] = list(d.withheld)
    return out


def build_summary(numbers: ProfileNumbers) -> dict[str, Any]:
    """The machine-readable summary (``summary-v2``) of ``numbers``, validated.

    Parameters
    ----------
    numbers : ProfileNumbers
        Restricted numbers, or a shared copy from ``to_shared`` (withheld
        values are ``None``/NA and become ``null``).

    Returns
    -------
    dict
        A JSON-able dict that passes :func:`profiles.summary.validate_summary`.

    Raises
    ------
    SummaryInvalid
        When the numbers do not make a valid summary (every violation listed).

    Examples
    --------
    >>> import sys; sys.path.insert(0, "tests")
    >>> from numbers_factory import make_numbers
    >>> s = build_summary(make_numbers(0))
    >>> s["schema_version"], s["disclosure"]["release"], s["disclosure"]["threshold"]
    ('summary-v2', 'restricted', None)
    """
    m, q = numbers.meta, numbers.quality
    rows, totals, areas = _month_counts(numbers)
    d = m.definitions
    summary = {
        "schema_version": SCHEMA_VERSION,
        "security_classification": m.marking,
        "disclosure": _disclosure(numbers),
        "synthetic_sources": sorted(m.synthetic_sources),
        "force": {"name": m.force_name, "slug": m.force_slug},
        "period": {
            "first_month": m.first_month,
            "last_month": m.last_month,
            "months": len(m.months),
            "missing_months": list(m.missing_months),
        },
        "definitions": {
            "nte_window": str(d["nte_window"]),
            "vawg_offence_table": str(d["vawg_offence_table"]),
            "harm_index": str(d["harm_index"]),
            "h3_resolution": int(m.resolution),
            "police_uk_crime_types": list(m.crime_types),
            "threat_areas": areas,
        },
        "counts": {"by_threat_area_month": rows, "totals_by_threat_area": totals},
        "top_places": _top_places(numbers),
        "nte": _nte(numbers),
        "harm": _harm(numbers),
        "hotspot_quality": _hotspot_quality(numbers),
        "data_quality": {
            "sources": [
                {
                    "source": s.source,
                    "rows_read": _count(s.rows_read),
                    "rows_accepted": _count(s.rows_accepted),
                    "rows_quarantined": _count(s.rows_quarantined),
                    "quarantined_by_reason": {str(k): _count(v) for k, v in s.quarantined_by_reason.items()},
                    "synthetic": bool(s.synthetic),
                    "share_without_coordinates": _float(s.share_without_coordinates),
                }
                for s in numbers.sources
            ],
            "snap_point_stacking": _float(q.stacking_share),
            "month_only_sources": list(MONTH_ONLY_SOURCES),
        },
        "gaps": [
            {"id": g.id, "text": g.text, "evidence": _numbers(g.evidence), "collect": g.collect or "-",
             "source": g.source or "-", "owner": g.owner or "-"}
            for g in numbers.findings.gaps
        ],
        "recommendations": [r.to_dict() for r in numbers.findings.recommendations],
        "key_findings": [
            {"id": f.id, "text": f.text, "numbers": _numbers(f.numbers), "grade": f.grade,
             "confidence": f.confidence or "low", "basis": f.basis or "-", "synthetic": bool(f.synthetic)}
            for f in numbers.findings.findings
        ],
        "measures": _measures(numbers),
        "provenance": {
            "tool": "safer-spaces",
            "tool_version": m.tool_version,
            "run_utc": m.created_utc,
            "config_sha256": m.config_sha256,
            "inputs": [{"file": i.file, "sha256": i.sha256, "source": i.source} for i in m.inputs],
            "python": m.python,
        },
    }
    errors = summary_errors(summary)
    if errors:
        raise SummaryInvalid(errors, where=f"summary of {m.force_slug} ({numbers.disclosure.release})")
    return summary


def _outcomes(numbers: ProfileNumbers) -> list[dict[str, Any]]:
    """Outcome counts and shares per threat area (null where withheld)."""
    t = numbers.what.outcomes
    if t is None:
        return []
    return [
        {"group": str(r["group"]), "offences": _count(r["offences"]), "assigned": _count(r["assigned"]),
         "outcome_14": _count(r["outcome_14"]), "outcome_15": _count(r["outcome_15"]),
         "outcome_16": _count(r["outcome_16"]), "share_14_16": _float(r["share_14_16"]),
         "charged": _count(r["charged"]), "share_charged": _float(r["share_charged"])}
        for r in t.to_dict("records")
    ]


def _like_for_like(numbers: ProfileNumbers) -> dict[str, Any] | None:
    """The like-for-like year-on-year change (months present in both years, exact test), null where withheld."""
    y = dict(numbers.trend.yoy or {})
    if not y:
        return None
    if not y.get("available"):
        return {"available": False, "reason": str(y.get("reason") or "")[:500]}
    ci = y.get("rate_ratio_ci95") or (None, None)
    return {
        "available": True, "recent": _count(y.get("recent")), "earlier": _count(y.get("previous")),
        "n_pairs": int(y.get("n_pairs") or 0), "change": _float(None if y.get("change_pct") is None
                                                              else y["change_pct"] / 100),
        "rate_ratio": _float(y.get("rate_ratio")), "ci_low": _float(ci[0]), "ci_high": _float(ci[1]),
        "p_value": _float(y.get("p_value")), "direction": str(y.get("direction") or ""),
        "missing_months": [str(m) for m in y.get("missing_months", [])], "words": str(y.get("words") or "")[:1000],
    }


def _rates(numbers: ProfileNumbers) -> list[dict[str, Any]]:
    """Crime per 1,000 residents per year by local authority (null where withheld)."""
    t = numbers.context.rates
    if t is None:
        return []
    return [{"area": str(r["area"]), "count": _count(r["count"]), "population": int(r["population"]),
             "rate_per_1000": _float(r["rate_per_1000"]), "ci_low": _float(r["ci_low"]),
             "ci_high": _float(r["ci_high"])}
            for r in t.to_dict("records")]


def _spacetime(numbers: ProfileNumbers) -> dict[str, int] | None:
    """Cells per space-time class (None when the classes were not computed)."""
    st = numbers.hotspots.spacetime
    if st is None:
        return None
    return {str(k): int(v) for k, v in st["st_class"].value_counts().sort_index().items()}


def _measures(numbers: ProfileNumbers) -> dict[str, Any]:
    """The measures summary-v2 adds for the national STRA (null where not computed or withheld)."""
    b = dict(numbers.fused.basis or {})
    hbs = numbers.what.harm_by_source
    return {
        "fused_basis": {
            "recorded": str(b.get("recorded", "police_uk")),
            "sources": [str(x) for x in b.get("sources", ())],
            "period": str(b.get("period", "")),
            "public_space": bool(b.get("public_space", False)),
            "private_excluded": _count(b.get("private_excluded")),
        },
        "harm_by_source": [
            {"source": str(r["source"]), "events": _count(r["events"]), "harm_rounded": _float(r["harm_rounded"]),
             "verified_share": _float(r["verified_share"])}
            for r in (hbs.to_dict("records") if hbs is not None else [])
        ],
        "like_for_like": _like_for_like(numbers),
        "rates": _rates(numbers),
        "spacetime": _spacetime(numbers),
        "outcomes": _outcomes(numbers),
    }


def _numbers(n: Mapping[str, Any]) -> dict[str, Any]:
    """A finding's or gap's numbers, JSON-able (NaN/NA -> null)."""
    return {str(k): _value(v) for k, v in n.items()}


def render_summary(numbers: ProfileNumbers) -> dict[str, str]:
    """``{"summary.json": text}``: the validated summary as UTF-8 JSON text (indent 2, NaN refused).

    Examples
    --------
    >>> import sys; sys.path.insert(0, "tests")
    >>> from numbers_factory import make_numbers
    >>> out = render_summary(make_numbers(0))
    >>> list(out), json.loads(out["summary.json"])["force"]["slug"]
    (['summary.json'], 'test')
    """
    text = json.dumps(build_summary(numbers), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return {"summary.json": text}
