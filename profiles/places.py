"""Who can find a ranked place: street labels, LSOA, local authority, OS grid reference, and artefact flags.

A ranked H3 cell is only useful if an officer can find it and trust it. For
each cell this module gives the police.uk street labels of its crimes (the
commonest first, with their shares), its main LSOA and local authority, the
OS grid reference of its busiest map point, and a flag when the count is
likely an **artefact** rather than a place:

* a *reporting location or institution*: police.uk's anonymised map points
  include police stations, prisons, hospitals and petrol stations, where
  crimes are reported or recorded rather than committed
  (:data:`ARTEFACT_PATTERN`);
* *one map point holding most of the cell's crimes*: police.uk snaps crimes
  to a shared anonymised point (a street centre, a nightclub), so one point
  with more than half of a cell's crimes (:data:`MAIN_POINT_SHARE`) may be a
  snapping or recording artefact; check it on the ground before acting.

Flagged places stay in the ranking (they are what the data say) but carry
the flag and its reason in every table and on the map.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from hotspots.grid import cells_to_int
from hotspots.gridref import os_grid_reference
from profiles.cells import CellGroups, cells_to_strings, str_values

__all__ = ["ARTEFACT_PATTERN", "MAIN_POINT_SHARE", "identify_places", "local_authority_of"]

#: police.uk map-point labels that are reporting locations or institutions (case-insensitive, whole words)
ARTEFACT_PATTERN = re.compile(
    r"\b(police station|prison|hmp|custody suite|hospital|petrol station|filling station|magistrates'? court|"
    r"crown court|law courts)\b",
    re.IGNORECASE,
)
#: a single map point holding more than this share of a cell's crimes is flagged
MAIN_POINT_SHARE = 0.5

_ON_OR_NEAR = re.compile(r"^\s*on or near\b\s*", re.IGNORECASE)
_LSOA_CODE = re.compile(r"\s+\d{3}[A-Z]$")


def local_authority_of(lsoa_names: Iterable[str]) -> np.ndarray:
    """The local authority of LSOA names ("Bristol 061A" -> "Bristol"): an LSOA name is its LA and a code.

    Examples
    --------
    >>> local_authority_of(["Bristol 061A", "Bath and North East Somerset 012B", "nan", ""]).tolist()
    ['Bristol', 'Bath and North East Somerset', '', '']
    """
    names = pd.Series(list(lsoa_names), dtype=object).fillna("").astype(str)
    out = names.str.replace(_LSOA_CODE, "", regex=True).str.strip()
    return out.where(~names.isin(["", "nan", "None"]), "").to_numpy(dtype=object)


def _streets(loc: CellGroups, total: np.ndarray, cell_pos: np.ndarray, top: int) -> list[str]:
    """Per cell, its ``top`` commonest labels with shares: "Marsh Street (30%); Nightclub (25%)"."""
    n = loc.count()
    order = np.lexsort((loc.keys[0], -n, loc.cells))
    out: dict[int, list[str]] = {}
    for i in order.tolist():  # one row per (cell, label): a few per ranked cell
        c = int(cell_pos[i])
        parts = out.setdefault(c, [])
        if len(parts) < top:
            raw = str(loc.keys[0][i])
            label = "no label" if raw in ("nan", "None", "") else (_ON_OR_NEAR.sub("", raw).strip() or "no label")
            parts.append(f"{label} ({n[i] / total[c]:.0%})")
    return ["; ".join(out.get(c, [])) for c in range(len(total))]


def identify_places(police: pd.DataFrame, cells: Iterable[str], *, top_labels: int = 3) -> pd.DataFrame:
    """Street labels, LSOA, local authority, OS grid reference and artefact flag of each given cell.

    Parameters
    ----------
    police : DataFrame
        police.uk crimes: ``h3`` (uint64 cell), ``x``, ``y`` (EPSG:27700), ``location`` (police.uk label),
        ``lsoa_name``.
    cells : iterable of str
        The H3 cells to identify (cells without crimes get empty text).
    top_labels : int, default 3
        Street labels listed per cell.

    Returns
    -------
    DataFrame
        Indexed by ``h3_cell`` in the order given: ``streets``, ``main_point_share`` (share of the cell's
        crimes at its busiest map point), ``grid_ref`` (8-figure OS reference of that point), ``lsoa_name``,
        ``local_authority``, ``artefact`` (bool) and ``artefact_reason`` ("" when none).

    Examples
    --------
    >>> ev = pd.DataFrame({"h3": np.array([617439010317926399] * 4, dtype=np.uint64),
    ...                    "x": [358712.0, 358712.0, 358712.0, 358800.0], "y": [172911.0] * 3 + [173000.0],
    ...                    "location": ["On or near Police Station"] * 3 + ["On or near Marsh Street"],
    ...                    "lsoa_name": "Bristol 061A"})
    >>> p = identify_places(ev, ["89195823077ffff"]).iloc[0]
    >>> p["streets"], p["grid_ref"], p["local_authority"]
    ('Police Station (75%); Marsh Street (25%)', 'ST 5871 7291', 'Bristol')
    >>> bool(p["artefact"]), p["artefact_reason"]
    (True, 'reporting location or institution (Police Station); one map point holds 75% of the crimes')
    """
    wanted = [str(c) for c in cells]
    cols = ["streets", "main_point_share", "grid_ref", "lsoa_name", "local_authority", "artefact", "artefact_reason"]
    out = pd.DataFrame(index=pd.Index(wanted, name="h3_cell"), columns=cols)
    out["streets"] = ""
    out["grid_ref"] = ""
    out["lsoa_name"] = ""
    out["local_authority"] = ""
    out["artefact_reason"] = ""
    out["main_point_share"] = np.nan
    out["artefact"] = False
    if not wanted:
        return out
    h3 = police["h3"].to_numpy(np.uint64)
    sub = np.isin(h3, np.unique(cells_to_int(wanted)))
    if not sub.any():
        return out
    h3 = h3[sub]
    ev = police[sub]
    total_g = CellGroups(h3)
    names = cells_to_strings(total_g.cells)
    total = total_g.count()
    pos = pd.Index(total_g.cells)
    loc = CellGroups(h3, str_values(ev["location"]))
    streets = _streets(loc, total, pos.get_indexer(loc.cells), top_labels)
    # the busiest exact map point of each cell
    x, y = ev["x"].to_numpy(np.float64), ev["y"].to_numpy(np.float64)
    pt = CellGroups(h3, np.round(x, 1), np.round(y, 1))
    n = pt.count()
    order = np.lexsort((pt.keys[1], pt.keys[0], -n, pt.cells))
    first = order[np.r_[True, pt.cells[order][1:] != pt.cells[order][:-1]]]
    p_pos = pos.get_indexer(pt.cells[first])
    share = np.full(len(total), np.nan)
    share[p_pos] = n[first] / total[p_pos]
    gx = np.full(len(total), np.nan)
    gy = np.full(len(total), np.nan)
    gx[p_pos], gy[p_pos] = pt.keys[0][first], pt.keys[1][first]
    lsoa = CellGroups(h3, str_values(ev["lsoa_name"]))
    ln = lsoa.count()
    lorder = np.lexsort((lsoa.keys[0], -ln, lsoa.cells))
    lfirst = lorder[np.r_[True, lsoa.cells[lorder][1:] != lsoa.cells[lorder][:-1]]]
    lsoa_name = np.full(len(total), "", dtype=object)
    lsoa_name[pos.get_indexer(lsoa.cells[lfirst])] = lsoa.keys[0][lfirst]
    top_label = np.asarray([s.split(" (")[0] if s else "" for s in streets], dtype=object)
    reasons = []
    for lab, sh in zip(top_label.tolist(), share.tolist(), strict=True):
        r = []
        m = ARTEFACT_PATTERN.search(lab)
        if m:
            r.append(f"reporting location or institution ({lab})")
        if np.isfinite(sh) and sh > MAIN_POINT_SHARE:
            r.append(f"one map point holds {sh:.0%} of the crimes")
        reasons.append("; ".join(r))
    found = pd.DataFrame(
        {
            "streets": streets,
            "main_point_share": share,
            "grid_ref": os_grid_reference(gx, gy, digits=8),
            "lsoa_name": np.where(pd.Series(lsoa_name).isin(["nan", "None"]), "", lsoa_name),
            "local_authority": local_authority_of(lsoa_name),
            "artefact": np.asarray([bool(r) for r in reasons]),
            "artefact_reason": reasons,
        },
        index=pd.Index(names, name="h3_cell"),
    )
    have = out.index.isin(found.index)
    out.loc[have, cols] = found.loc[out.index[have], cols].to_numpy()
    out["artefact"] = out["artefact"].astype(bool)
    out["main_point_share"] = out["main_point_share"].astype(float)
    return out
