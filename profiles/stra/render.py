"""Render the STRA: ``StraNumbers`` -> ``stra.html``, ``stra.pdf``, ``stra.json``, figures and ``audit.jsonl``.

Formatting only: every number comes from the numbers as given; a withheld
value (shared version) prints ``[c]``. The marking is on every page (the
page header and footer repeat in print) and on every figure.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots.errors import SaferSpacesError
from hotspots.forces import force_key
from profiles.escape import html_environment, mpl_text
from profiles.render.charts import _figure, _save, add_marking
from profiles.report import html_to_pdf_bytes
from profiles.stra.compute import StraNumbers
from profiles.stra.config import THREAT_AREA_LABELS

log = logging.getLogger("safer_spaces")

__all__ = ["STRA_SCHEMA_VERSION", "audit_lines", "build_stra_json", "choropleth_png", "funnel_png", "render_stra"]

STRA_SCHEMA_VERSION = "stra-v1"
TEMPLATES = Path(__file__).resolve().parents[1] / "render" / "templates"
SCHEMA = Path(__file__).resolve().parents[1] / "schema" / "stra-v1.json"

CREDITS = (
    "Crime data: data.police.uk street-level crime. Contains public sector information licensed under the Open "
    "Government Licence v3.0.",
    "Police force areas: ONS Open Geography portal, Police Force Areas (December 2020). Contains OS data © Crown "
    "copyright and database right (OGL v3.0).",
    "Population: House of Commons Library / ONS mid-year estimates (Open Parliament Licence, OGL v3.0).",
    "H3 grid: Uber Technologies (Apache 2.0).",
)


def _is_na(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and not math.isfinite(v))


def _num(v: Any, spec: str = "{:,.0f}", shared: bool = False) -> str:
    if _is_na(v):
        return "[c]" if shared else "–"
    return spec.format(float(v)) if "f" in spec else spec.format(int(v))


def _plain(v: Any) -> Any:
    """JSON-safe value: NA -> None, numpy scalars -> Python."""
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if _is_na(v) or (not isinstance(v, str | bool | int | float | np.generic) and pd.isna(v)):
        return None
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        f = float(v)
        return f if math.isfinite(f) else None
    return v


def _short(area: str) -> str:
    """A threat area's short label for table columns ("Violence & sexual (police.uk)")."""
    label = THREAT_AREA_LABELS[area]
    head = label.split(" (")[0].replace(" and ", " & ")
    return f"{head} (police.uk)" if area.startswith("police_uk_") else head


def _records(df: pd.DataFrame, cols: list[str]) -> list[dict[str, Any]]:
    return [{c: _plain(r.get(c)) for c in cols} for r in df.to_dict("records")]


# --------------------------------------------------------------------------- figures

def choropleth_png(numbers: StraNumbers, boundaries: str | Path, *, area: str = "police_uk_violence_sexual") -> bytes:
    """Police force areas shaded by the threat area's rate per 1,000 residents a year; forces without data grey."""
    pfa = gpd.read_file(boundaries)[["PFA20NM", "geometry"]].to_crs(27700)
    pfa["geometry"] = pfa.geometry.simplify(500)
    pfa["key"] = [force_key(n) for n in pfa["PFA20NM"]]
    m = numbers.measures[numbers.measures["threat_area"] == area]
    keys = {force_key(f): r for f, r in zip(m["force"], m["rate_per_1000"], strict=True)}
    keys |= {force_key(s): r for s, r in zip(m["slug"], m["rate_per_1000"], strict=True)}
    pfa["rate"] = [float(keys[k]) if k in keys and not _is_na(keys[k]) else np.nan for k in pfa["key"]]
    missing = set(numbers.missing["key"]) if len(numbers.missing) else set()
    fig = _figure(7.2, 8.4)
    ax = fig.add_subplot()
    have = pfa[pfa["rate"].notna()]
    none = pfa[pfa["rate"].isna()]
    if len(have):
        have.plot(ax=ax, column="rate", cmap="viridis", linewidth=0.3, edgecolor="white", legend=True,
                  legend_kwds={"label": "per 1,000 residents a year", "shrink": 0.55})
    if len(none):
        none.plot(ax=ax, color="#d9d9d9", hatch="///", edgecolor="#666666", linewidth=0.4)
        for r in none.itertuples():
            if r.key in missing:
                p = r.geometry.representative_point()
                ax.annotate(mpl_text(f"{r.PFA20NM}: no data"), (p.x, p.y), fontsize=6.5, ha="center",
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#666666", "lw": 0.4})
    q = numbers.quality
    flagged = {force_key(f) for f in q.loc[q["volume_flag"].astype(bool) | q["location_flag"].astype(bool), "force"]}
    concern = pfa[pfa["key"].isin(flagged)]
    if len(concern):
        concern.boundary.plot(ax=ax, color="#d95f02", linewidth=1.6)
        for r in concern.itertuples():
            p = r.geometry.representative_point()
            ax.annotate(mpl_text(f"{r.PFA20NM}: data-quality concern"), (p.x, p.y), fontsize=6.5, ha="center",
                        color="#7f2704", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#d95f02",
                                               "lw": 0.6})
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title(mpl_text(f"{THREAT_AREA_LABELS[area].split(' (')[0]}: rate by police force area, "
                          f"{numbers.meta['period']}"), fontsize=10)
    add_marking(fig, str(numbers.meta["security_classification"]),
                "police.uk (OGL v3.0); force areas ONS (OGL v3.0); population House of Commons Library. Grey "
                "hatched: no usable summary (missing, not zero) or no resident population. Orange outline: "
                "data-quality concern (low rate may be low publication).")
    return _save(fig)


def funnel_png(numbers: StraNumbers, area: str) -> bytes | None:
    """Funnel plot of one threat area: each force's rate against its resident-years, with 95% and 99.8% limits."""
    fn = numbers.funnels.get(area)
    if fn is None:
        return None
    m = numbers.measures[(numbers.measures["threat_area"] == area) & numbers.measures["rate_per_1000"].notna()]
    lim = fn["limits"]
    fig = _figure(7.2, 4.6)
    ax = fig.add_subplot()
    x = lim["population"].to_numpy(float)
    ax.fill_between(x, 1000 * lim["lower_99_8"], 1000 * lim["upper_99_8"], color="#deebf7", label="99.8% limits")
    ax.fill_between(x, 1000 * lim["lower_95"], 1000 * lim["upper_95"], color="#9ecae1", label="95% limits")
    ax.axhline(fn["theta0_per_1000"], color="#08519c", lw=1, label="national rate")
    cav = np.array([bool(c) for c in m["caveats"]], bool)
    px = m["person_years"].astype(float).to_numpy()
    py = m["rate_per_1000"].astype(float).to_numpy()
    ax.scatter(px[~cav], py[~cav], s=16, color="black", zorder=3, label="force")
    if cav.any():
        ax.scatter(px[cav], py[cav], s=20, facecolors="none", edgecolors="#d95f02", zorder=3,
                   label="force, definitions differ (not in the fit)")
    out = m["funnel_position"].astype(str).str.contains("99.8").to_numpy()
    for xx, yy, name in zip(px[out], py[out], m["force"].to_numpy()[out], strict=True):
        ax.annotate(mpl_text(name), (xx, yy), fontsize=7, xytext=(4, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("resident-years (population x years covered)")
    ax.set_ylabel("per 1,000 residents a year")
    ax.set_title(mpl_text(THREAT_AREA_LABELS[area].split(" (")[0] + f": funnel plot (over-dispersion "
                          f"phi {fn['phi']:.1f})"), fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    add_marking(fig, str(numbers.meta["security_classification"]),
                "Spiegelhalter (2005) funnel with additive over-dispersion; limits around the national rate of the "
                "forces with common definitions. Forces outside the 99.8% limits are named.")
    return _save(fig)


# --------------------------------------------------------------------------- stra.json

def build_stra_json(numbers: StraNumbers) -> dict[str, Any]:
    """The machine-readable STRA (``stra.json``, schema ``stra-v1``); every force row names its input's hash."""
    n = numbers
    return {
        "schema_version": STRA_SCHEMA_VERSION,
        "security_classification": n.meta["security_classification"],
        "disclosure": _plain(dict(n.disclosure)),
        "title": n.meta["title"],
        "period": n.meta["period"],
        "created_utc": n.meta["created_utc"],
        "tool_version": n.meta["tool_version"],
        "config_sha256": n.meta["config_sha256"],
        "inputs": _records(n.inputs, ["force", "slug", "file", "input_sha256", "schema_version", "first_month",
                                      "last_month", "months", "population", "rated"]),
        "exclusions": [{"file": e.file, "force": e.force, "field": e.field, "problem": e.problem, "fix": e.fix}
                       for e in n.exclusions],
        "missing_forces": _records(n.missing, ["force", "reason"]),
        "definition_mismatches": [{k: str(v) if k in ("value", "common") else _plain(v) for k, v in r.items()}
                                  for r in n.mismatches.to_dict("records")],
        "national": _records(n.national, ["threat_area", "label", "forces", "count", "rated_count", "person_years",
                                          "rate_per_1000", "ci_low", "ci_high", "from_inputs"]),
        "force_measures": _records(n.measures, ["force", "threat_area", "count", "months", "population",
                                                "person_years", "rate_per_1000", "ci_low", "ci_high",
                                                "harm_per_1000", "trend", "confidence", "confidence_basis",
                                                "funnel_position", "caveats", "synthetic", "input_sha256"]),
        "funnels": {a: {"theta0_per_1000": _plain(f["theta0_per_1000"]), "phi": _plain(f["phi"]),
                        "tau2": _plain(f["tau2"]), "forces_in_fit": f["forces_in_fit"], "winsor": f["winsor"]}
                    for a, f in n.funnels.items()},
        "data_quality": _records(n.quality, ["force", "rows_read", "share_without_location", "volume_position",
                                             "missing_months", "concerns", "input_sha256"]),
        "morile": {"scales": _plain(n.meta["morile"]),
                   "scores": _records(n.morile, ["force", "threat_area", "harm_per_1000", "likelihood_measure",
                                                 "harm_factor", "rate_factor", "trend", "trend_adjust",
                                                 "likelihood_factor", "score", "priority", "confidence",
                                                 "caveats", "input_sha256"])},
        "top_places": _records(n.places, ["rank", "force", "h3_cell", "label", "count", "months", "per_month",
                                          "input_sha256"]),
        "findings": _plain([dict(f) for f in n.findings]),
        "gaps": _plain([dict(g) for g in n.gaps]),
        "recommendations": _plain([dict(r) for r in n.recommendations]),
    }


def validate_stra_json(obj: dict[str, Any]) -> None:
    """Raise :class:`SaferSpacesError` listing every way ``obj`` breaks the ``stra-v1`` schema."""
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(obj), key=lambda e: list(e.path))
    if errors:
        lines = "; ".join(f"$.{'.'.join(map(str, e.path))}: {e.message[:160]}" for e in errors[:10])
        raise SaferSpacesError(f"stra.json breaks its schema ({len(errors)} problem(s)): {lines}")


# --------------------------------------------------------------------------- audit

def audit_lines(numbers: StraNumbers, *, command: str, outputs: Mapping[str, bytes | str],
                seconds: float | None = None) -> str:
    """``audit.jsonl``: the run, every input by hash, every exclusion, missing force and mismatch, every output."""
    n = numbers
    rows: list[dict[str, Any]] = [{"event": "run", "tool": "safer-spaces", "tool_version": n.meta["tool_version"],
                                   "created_utc": n.meta["created_utc"], "config_sha256": n.meta["config_sha256"],
                                   "command": command, "release": n.disclosure.get("release"),
                                   "seconds": seconds}]
    for r in n.inputs.to_dict("records"):
        rows.append({"event": "input", "status": "used", "force": r["force"], "file": r["file"],
                     "sha256": r["input_sha256"], "schema_version": r["schema_version"],
                     "period": f"{r['first_month']} to {r['last_month']}", "rated": bool(r["rated"])})
    for e in n.exclusions:
        digest = None
        try:
            digest = hashlib.sha256(Path(e.file).read_bytes()).hexdigest()
        except OSError:
            pass
        rows.append({"event": "exclusion", "file": e.file, "sha256": digest, "force": e.force, "field": e.field,
                     "problem": e.problem, "fix": e.fix})
    for r in n.missing.to_dict("records"):
        rows.append({"event": "missing_force", "force": r["force"], "reason": r["reason"]})
    for r in n.mismatches.to_dict("records"):
        rows.append({"event": "definition_mismatch", "force": r["force"], "definition": r["definition"],
                     "value": str(r["value"]), "common": str(r["common"])})
    for name in sorted(outputs):
        data = outputs[name]
        b = data.encode("utf-8") if isinstance(data, str) else data
        rows.append({"event": "output", "file": name, "sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)})
    return "".join(json.dumps(_plain(r), ensure_ascii=False, sort_keys=True) + "\n" for r in rows)


# --------------------------------------------------------------------------- html / pdf

def _context(n: StraNumbers, figures: Mapping[str, bytes]) -> dict[str, Any]:
    import base64

    shared = bool(n.disclosure.get("shared"))

    def uri(b: bytes | None) -> str | None:
        return None if b is None else "data:image/png;base64," + base64.b64encode(b).decode("ascii")

    measures = []
    for r in n.measures.sort_values(["threat_area", "force"]).to_dict("records"):
        measures.append({"force": r["force"], "area": _short(r["threat_area"]),
                         "count": _num(r["count"], "{:,}", shared), "rate": _num(r["rate_per_1000"], "{:.2f}", shared),
                         "ci": ("[c]" if shared else "–") if _is_na(r["ci_low"]) else
                         f"{float(r['ci_low']):.2f}-{float(r['ci_high']):.2f}",
                         "position": str(r["funnel_position"]), "confidence": r["confidence"],
                         "caveats": "; ".join(r["caveats"])})
    short = {a: _short(a) for a in THREAT_AREA_LABELS}
    areas_scored = [a for a in THREAT_AREA_LABELS if len(n.morile) and (n.morile["threat_area"] == a).any()]
    grid: dict[str, dict[str, str]] = {}
    for r in n.morile.to_dict("records"):
        grid.setdefault(r["force"], {})[r["threat_area"]] = (
            f"{int(r['score'])} {r['priority']} ({int(r['harm_factor'])}x{int(r['likelihood_factor'])})"
            + ("*" if r["confidence"] == "low" else ""))
    matrix = {"areas": [short[a] for a in areas_scored],
              "rows": [{"force": f, "cells": [grid[f].get(a, "–") for a in areas_scored]} for f in sorted(grid)]}
    morile = [{"force": r["force"], "area": THREAT_AREA_LABELS[r["threat_area"]].split(" (")[0],
               "harm": f"{float(r['harm_per_1000']):,.0f}", "ratio": f"{float(r['likelihood_measure']):.2f}",
               "hf": int(r["harm_factor"]), "rf": int(r["rate_factor"]), "trend": f"{r['trend']} "
               f"({int(r['trend_adjust']):+d})", "lf": int(r["likelihood_factor"]), "score": int(r["score"]),
               "priority": r["priority"], "confidence": r["confidence"], "caveats": "; ".join(r["caveats"])}
              for r in n.morile.to_dict("records")]
    national = [{"area": r["label"], "forces": r["forces"], "count": _num(r["count"], "{:,}", shared),
                 "rate": _num(r["rate_per_1000"], "{:.2f}", shared),
                 "ci": "[c]" if _is_na(r["ci_low"]) else f"{float(r['ci_low']):.2f}-{float(r['ci_high']):.2f}"}
                for r in n.national.to_dict("records")]
    quality = [{"force": r["force"], "rows": _num(r["rows_read"], "{:,}"),
                "noloc": "[c]" if _is_na(r["share_without_location"]) else f"{float(r['share_without_location']):.1%}",
                "volume": str(r["volume_position"]), "concerns": "; ".join(r["concerns"])}
               for r in n.quality.to_dict("records") if r["concerns"]]
    places = [{"rank": int(r["rank"]), "force": r["force"], "cell": r["h3_cell"], "label": r["label"],
               "per_month": f"{float(r['per_month']):.0f}", "count": _num(r["count"], "{:,}", shared)}
              for r in n.places.to_dict("records")]
    matrix_areas = sorted(set(n.measures["threat_area"]))
    area_rows = []
    for a in [*matrix_areas, "csa", "tech_enabled"]:
        sc = n.morile[n.morile["threat_area"] == a] if len(n.morile) else n.morile
        area_rows.append({"area": THREAT_AREA_LABELS[a], "forces": int((n.measures["threat_area"] == a).sum()),
                          "high": int((sc["priority"] == "high").sum()) if len(sc) else 0,
                          "medium": int((sc["priority"] == "medium").sum()) if len(sc) else 0,
                          "low": int((sc["priority"] == "low").sum()) if len(sc) else 0,
                          "gap": a in ("csa", "tech_enabled")})
    return {
        "title": n.meta["title"], "marking": n.meta["security_classification"], "handling": n.meta["handling"],
        "period": n.meta["period"], "created": n.meta["created_utc"], "version": n.meta["tool_version"],
        "config_sha256": n.meta["config_sha256"], "shared": shared, "disclosure": n.disclosure,
        "findings": n.findings, "recommendations": n.recommendations, "gaps": n.gaps,
        "inputs": _records(n.inputs, ["force", "first_month", "last_month", "months", "population", "input_sha256"]),
        "exclusions": n.exclusions, "missing": n.missing.to_dict("records"),
        "mismatches": [{**r, "value": str(r["value"]), "common": str(r["common"])}
                       for r in n.mismatches.to_dict("records")],
        "measures": measures, "morile": morile, "national": national, "quality": quality, "places": places,
        "area_rows": area_rows, "matrix": matrix, "morile_scales": n.meta["morile"],
        "funnels": [{"area": THREAT_AREA_LABELS[a].split(" (")[0], "uri": uri(figures.get(f"figures/funnel_{a}.png")),
                     "phi": f"{f['phi']:.1f}", "tau2": f"{f['tau2']:.3g}", "fit": f["forces_in_fit"]}
                    for a, f in n.funnels.items()],
        "choropleth": uri(figures.get("figures/choropleth.png")),
        "population_source": n.meta["population_source"], "boundaries_source": n.meta["boundaries_source"],
        "volume_rate": n.meta.get("volume_per_1000_month"),
        "median_noloc": n.meta.get("median_share_without_location"), "credits": CREDITS,
        "n_expected": n.meta["expected_forces"],
    }


def render_stra(numbers: StraNumbers, *, boundaries: str | Path, pdf: bool = True) -> dict[str, bytes | str]:
    """Every STRA output of one version, by relative name: html, pdf (when Chromium prints), json, figures.

    ``stra.json`` is validated against its schema before it is returned (a bug, not bad input, if it fails).
    """
    figures: dict[str, bytes] = {"figures/choropleth.png": choropleth_png(numbers, boundaries)}
    for area in numbers.funnels:
        png = funnel_png(numbers, area)
        if png is not None:
            figures[f"figures/funnel_{area}.png"] = png
    env = html_environment(TEMPLATES, strict=True)
    html = env.get_template("stra.html.j2").render(**_context(numbers, figures))
    obj = build_stra_json(numbers)
    validate_stra_json(obj)
    out: dict[str, bytes | str] = {"stra.html": html, **figures,
                                   "stra.json": json.dumps(obj, indent=1, ensure_ascii=False) + "\n"}
    if pdf:
        try:
            out["stra.pdf"] = html_to_pdf_bytes(html)
        except SaferSpacesError as exc:
            log.warning("stra.pdf not written: %s", exc)
    return out
