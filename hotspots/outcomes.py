"""Crime outcomes: how recorded VAWG offences were resolved, with the evidential-difficulty outcomes 14, 15 and 16.

Outcome types replaced detections in 2013 (Home Office Crime Outcomes
Framework). The national VAWG framework (action 8) asks forces to scrutinise
outcomes **14** (evidential difficulties: suspect not identified; victim does
not support further action), **15** (evidential difficulties: suspect
identified; victim supports action) and **16** (evidential difficulties:
suspect identified; victim does not support further action): in domestic
abuse, three in four recorded cases close with 15 or 16.

An offence with no outcome code is still open (under investigation). A code
outside :data:`OUTCOME_TYPES` is counted as "other" and never dropped, so the
groups add up to the offences given.

References
----------
Home Office (2024). Crime outcomes in England and Wales: technical annex / user guide, table of outcome types.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from hotspots.errors import ParameterError

__all__ = ["OUTCOME_TYPES", "EVIDENTIAL_DIFFICULTIES", "outcome_shares"]

#: Home Office outcome types (short titles)
OUTCOME_TYPES: dict[str, str] = {
    "1": "Charged / summonsed",
    "1A": "Alternative offence charged / summonsed",
    "2": "Caution - youths",
    "3": "Caution - adults",
    "4": "Taken into consideration",
    "5": "Offender has died",
    "6": "Penalty notice for disorder",
    "7": "Cannabis / khat warning",
    "8": "Community resolution",
    "9": "Prosecution not in the public interest (CPS)",
    "10": "Formal action not in the public interest (police)",
    "11": "Prosecution prevented - suspect under age",
    "12": "Prosecution prevented - suspect too ill",
    "13": "Prosecution prevented - victim or key witness dead or too ill",
    "14": "Evidential difficulties: suspect not identified; victim does not support further action",
    "15": "Evidential difficulties: suspect identified; victim supports action",
    "16": "Evidential difficulties: suspect identified; victim does not support further action",
    "17": "Prosecution time limit expired",
    "18": "Investigation complete - no suspect identified",
    "20": "Further action undertaken by another body or agency",
    "21": "Further investigation not in the public interest (police)",
    "22": "Diversionary, educational or intervention activity",
}
EVIDENTIAL_DIFFICULTIES = ("14", "15", "16")
_CHARGED = ("1", "1A")
_CODE = re.compile(r"^\s*(?:outcome\s*)?0*(\d{1,2}[A-Za-z]?)\s*$", re.IGNORECASE)


def _normalise(codes: pd.Series) -> np.ndarray:
    """Outcome codes as OUTCOME_TYPES keys; "" for none (open), "other" for a code not in the table."""
    text = codes.astype(object).where(codes.notna(), "").astype(str).str.strip()
    uniq, inv = np.unique(text.to_numpy(dtype=str), return_inverse=True)
    mapped = []
    for u in uniq:
        if u in ("", "nan", "None"):
            mapped.append("")
            continue
        m = _CODE.match(u)
        key = m.group(1).upper() if m else ""
        mapped.append(key if key in OUTCOME_TYPES else "other")
    return np.asarray(mapped, dtype=object)[inv.ravel()]


def outcome_shares(events: pd.DataFrame, *, by: str = "vawg_group", code: str = "outcome_code") -> pd.DataFrame:
    """Offences, outcomes assigned, charged, and outcomes 14, 15 and 16 with their shares, per group.

    Parameters
    ----------
    events : DataFrame
        One row per offence with ``by`` and ``code`` (the Home Office outcome type as text, blank = open).
    by : str, default "vawg_group"
        Group column.
    code : str, default "outcome_code"
        Outcome column.

    Returns
    -------
    DataFrame
        One row per group (sorted): ``group``, ``offences``, ``open`` (no outcome yet), ``assigned``,
        ``charged`` (types 1 and 1A), ``outcome_14``, ``outcome_15``, ``outcome_16``, ``other`` (a code not
        in :data:`OUTCOME_TYPES`), ``share_charged`` and ``share_14_16`` (of assigned outcomes; NaN when none).
        ``offences`` adds up to the rows given.

    Examples
    --------
    >>> ev = pd.DataFrame({"vawg_group": ["da", "da", "da", "da", "rape"],
    ...                    "outcome_code": ["16", "15", "", "1", "99"]})
    >>> t = outcome_shares(ev)
    >>> t[["group", "offences", "open", "assigned", "charged", "outcome_15", "outcome_16", "other"]].values.tolist()
    [['da', 4, 1, 3, 1, 1, 1, 0], ['rape', 1, 0, 1, 0, 0, 0, 1]]
    >>> round(float(t.loc[0, "share_14_16"]), 3)
    0.667
    """
    for c in (by, code):
        if c not in events.columns:
            raise ParameterError(f"events has no column {c!r}; available: {', '.join(map(str, events.columns))}")
    key = _normalise(events[code])
    group = events[by].astype(object).where(events[by].notna(), "unknown").astype(str).to_numpy()
    frame = pd.DataFrame({"group": group, "key": key})
    t = pd.crosstab(frame["group"], frame["key"])
    col = lambda *keys: t.reindex(columns=list(keys), fill_value=0).sum(axis=1).to_numpy(np.int64)  # noqa: E731
    offences = t.sum(axis=1).to_numpy(np.int64)
    open_ = col("")
    assigned = offences - open_
    out = pd.DataFrame({
        "group": t.index.astype(str),
        "offences": offences,
        "open": open_,
        "assigned": assigned,
        "charged": col(*_CHARGED),
        "outcome_14": col("14"),
        "outcome_15": col("15"),
        "outcome_16": col("16"),
        "other": col("other"),
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = np.where(assigned > 0, assigned, np.nan)
        out["share_charged"] = out["charged"] / denom
        out["share_14_16"] = (out["outcome_14"] + out["outcome_15"] + out["outcome_16"]) / denom
    return out.reset_index(drop=True)
