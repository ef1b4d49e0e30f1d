"""LSOA codes across the 2021 boundary change: police.uk's 2021 codes to the 2011 codes IMD 2019 uses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspots._results import require_columns

__all__ = ["lsoa_crosswalk"]


def lsoa_crosswalk(
    events: pd.DataFrame,
    *,
    imd: pd.DataFrame,
    lsoa_col: str = "lsoa_code",
    point_col: str = "snap_point_id",
) -> pd.DataFrame:
    """Map LSOA codes missing from ``imd`` to IMD codes through map points seen with both.

    police.uk gives each crime the LSOA of its anonymised map point. From
    mid-2023 it uses **LSOA 2021** codes; IMD 2019 uses 2011 codes. Most
    LSOAs kept their code in 2021, but split, merged and redrawn ones got new
    codes (``E0103377x`` onwards), and those are often busy town-centre
    LSOAs. Map points are fixed, so a point reported with a new code after
    the switch and with a 2011 code before it links the two. Each unknown
    code is mapped to the IMD code sharing the most map points with it.

    Exact for split LSOAs (each 2021 part lies in one 2011 LSOA); for merged
    or redrawn LSOAs it is the majority parent, and ``n_parents`` /
    ``share_points`` show how clean the link is. Codes never seen before the
    switch (and Welsh codes) stay unmapped. The ONS "LSOA (2011) to LSOA
    (2021)" best-fit lookup, where available, is the authoritative version.

    Parameters
    ----------
    events : DataFrame
        Events with ``lsoa_col`` and ``point_col`` spanning months before
        and after the code change.
    imd : DataFrame
        From :func:`read_imd` (needs ``lsoa_code``).
    lsoa_col : str, default "lsoa_code"
        LSOA code column of ``events``.
    point_col : str, default "snap_point_id"
        Map point identifier (``read_police_uk`` gives ``snap_point_id``;
        any exact point key works).

    Returns
    -------
    DataFrame
        One row per mapped code: ``lsoa_code`` (the code not in ``imd``),
        ``imd_lsoa_code``, ``n_points`` (map points linking them),
        ``n_parents`` (IMD codes seen at the code's points) and
        ``share_points`` (``n_points`` over all linking points of the code).
        Pass it to :func:`hotspot_deprivation` as ``lsoa_lookup``.

    Raises
    ------
    ParameterError
        On a missing column.

    Examples
    --------
    Point 1 is reported in 2011 LSOA E1 and later in 2021 LSOA E9:

    >>> import pandas as pd
    >>> imd = pd.DataFrame({"lsoa_code": ["E1", "E2"], "imd_rank": [5, 9], "imd_decile": [1, 1]})
    >>> ev = pd.DataFrame({"snap_point_id": [1, 1, 2, 3], "lsoa_code": ["E1", "E9", "E2", "E8"]})
    >>> lsoa_crosswalk(ev, imd=imd)
      lsoa_code imd_lsoa_code  n_points  n_parents  share_points
    0        E9            E1         1          1           1.0
    """
    require_columns(events, [lsoa_col, point_col], name="events", fix="give police.uk events from read_police_uk")
    require_columns(imd, ["lsoa_code"], name="imd", fix="read it with read_imd")
    known = pd.Index(imd["lsoa_code"].astype(str).str.strip())
    pts = pd.DataFrame({
        "point": events[point_col].to_numpy(),
        "code": events[lsoa_col].astype("string").str.strip().fillna("").to_numpy(dtype=object),
    }).drop_duplicates()
    pts = pts[pts["code"] != ""]
    is_known = known.get_indexer(pd.Index(pts["code"])) >= 0
    links = pts[~is_known].merge(pts[is_known], on="point", suffixes=("", "_imd"))
    cols = ["lsoa_code", "imd_lsoa_code", "n_points", "n_parents", "share_points"]
    if links.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c.endswith("code") else np.float64) for c in cols})
    n = links.groupby(["code", "code_imd"]).size().rename("n_points").reset_index()
    n = n.sort_values(["code", "n_points", "code_imd"], ascending=[True, False, True], kind="stable")
    total = n.groupby("code")["n_points"].transform("sum")
    parents = n.groupby("code")["code_imd"].transform("size")
    n = n.assign(n_parents=parents, share_points=n["n_points"] / total).drop_duplicates("code")
    out = n.rename(columns={"code": "lsoa_code", "code_imd": "imd_lsoa_code"})[cols]
    return out.reset_index(drop=True).astype({"n_points": np.int64, "n_parents": np.int64})
