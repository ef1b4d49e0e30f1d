"""Disclosure control of the STRA: the shared copy of :class:`~profiles.stra.compute.StraNumbers`.

Called through :func:`profiles.shared.to_shared`, the one disclosure step of
every product. The force x threat-area counts are one table with the national
totals per threat area published: :func:`hotspots.disclosure.suppress_table`
withholds counts ``1 .. k-1`` and, by secondary suppression, whatever else
would let them be recovered from the totals (checked by ``audit_table`` in
the tests). Everything derived from a withheld count (its rate, interval,
harm rate, funnel position, MoRiLE factors) is withheld with it; places below
``k`` are dropped; a share of rows without a location is withheld where the
rows it counts are fewer than ``k``. The findings are rebuilt from the shared
tables, so no sentence carries a withheld number.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from hotspots.disclosure import suppress_table
from hotspots.morile import MorileMatrix
from profiles.stra.compute import StraNumbers, funnels_for, morile_for, national_for, rebuild_words

__all__ = ["stra_shared", "stra_table"]

_DERIVED = ("rate_per_1000", "ci_low", "ci_high", "harm_per_1000")


def stra_table(measures: pd.DataFrame) -> pd.DataFrame:
    """The force x threat-area count table the STRA publishes (0 where a force does not measure an area).

    Examples
    --------
    >>> m = pd.DataFrame({"force": ["A", "A", "B"], "threat_area": ["x", "y", "x"], "count": [3, 12, 40]})
    >>> stra_table(m).values.tolist()
    [[3, 12], [40, 0]]
    """
    known = measures[measures["count"].notna()]
    t = known.pivot_table(index="force", columns="threat_area", values="count", aggfunc="sum", fill_value=0)
    return t.astype(np.int64)


def stra_shared(numbers: StraNumbers, k: int, *, release: str, handling: str) -> StraNumbers:
    """The shared copy of the STRA's numbers at threshold ``k`` (use :func:`profiles.shared.to_shared`)."""
    m = numbers.measures.copy()
    table = stra_table(m)
    suppressed = suppress_table(table, threshold=k, row_total=False, col_total=True) if table.size else None
    held = pd.Series(False, index=m.index)
    if suppressed is not None:
        mask = suppressed.mask.stack()
        held = pd.Series([bool(mask.get((f, a), False)) for f, a in zip(m["force"], m["threat_area"], strict=True)],
                         index=m.index)
    m["count"] = m["count"].astype("Int64").mask(held)
    for col in _DERIVED:
        m[col] = m[col].astype("Float64").mask(held)
    m["withheld"] = held.to_numpy()
    # Funnels, national rates and MoRiLE likelihoods are refitted on the published counts only: a target rate
    # or a rate ratio that included a withheld count would give it back (target x resident-years - the rest).
    funnels, position = funnels_for(m, float(numbers.meta.get("funnel_winsor", 0.1)))
    m["funnel_position"] = position.astype(object).where(~held, "[c]")
    published = national_for(m)
    mm = dict(numbers.meta["morile"])
    matrix = MorileMatrix(harm_bands=tuple(mm["harm_bands"]), rate_bands=tuple(mm["rate_bands"]),
                          trend_step=int(mm["trend_step"]), priority_bands=tuple(mm["priority_bands"]),
                          likelihood=str(mm.get("likelihood", "rate")), source=str(mm["source"]))
    morile = morile_for(m, published, matrix)

    national = numbers.national.copy()
    if suppressed is not None and suppressed.col_totals is not None:
        tot = suppressed.col_totals
        national["count"] = [tot.get(a, pd.NA) for a in national["threat_area"]]
        # the rated total differs from the published total only by unrated forces (BTP, City of London): publish
        # it (and the rate it gives) only where every rated count of the area is published, else it could pin one
        area_held = m.groupby("threat_area")["withheld"].any()
        keep = ~national["threat_area"].map(area_held).fillna(False).astype(bool)
        national["rated_count"] = national["rated_count"].astype("Int64").where(keep)
        for col in ("rate_per_1000", "ci_low", "ci_high"):
            national[col] = national[col].astype("Float64").where(keep)


    places = numbers.places[numbers.places["count"] >= k].reset_index(drop=True)
    places = places.assign(rank=np.arange(1, len(places) + 1))

    q = numbers.quality.copy()
    share = pd.to_numeric(q["share_without_location"], errors="coerce")
    rows = pd.to_numeric(q["rows_read"], errors="coerce")
    n_noloc = np.rint(share * rows)
    small = (n_noloc >= 1) & (n_noloc < k)
    q["share_without_location"] = share.astype("Float64").mask(small)

    withheld = int(held.sum())
    disclosure = {"shared": True, "release": release, "threshold": int(k), "handling": handling,
                  "suppressed": withheld,
                  "primary": 0 if suppressed is None else suppressed.n_primary,
                  "secondary": 0 if suppressed is None else suppressed.n_secondary,
                  "places_dropped": int(len(numbers.places) - len(places)),
                  "shares_withheld": int(small.sum())}
    shared = dataclasses.replace(numbers, measures=m, national=national, morile=morile, places=places, quality=q,
                                 funnels=funnels,
                                 meta={**numbers.meta, "handling": handling}, disclosure=disclosure)
    return rebuild_words(shared)
