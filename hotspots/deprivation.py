"""Deprivation of hotspots: IMD 2019 deciles of hotspot events and LSOAs against the force's.

The 2023 national VAWG Strategic Threat and Risk Assessment (STRA) found
public-space VAWG concentrated in deprived areas. :func:`hotspot_deprivation`
tests that on the force's own data: it compares the IMD deciles of the LSOAs
where hotspot events happen with the force's distribution, with a one-sided
Mann-Whitney U test on IMD rank and a binomial test on the share in the most
deprived deciles. The IMD comes from :func:`hotspots.ingest.imd.read_imd`;
police.uk's 2021 LSOA codes are mapped to 2011 ones by
:func:`hotspots.lsoa.lsoa_crosswalk`.

IMD decile 1 is the 10% most deprived LSOAs in England and rank 1 the most
deprived LSOA, so "more deprived" means a *lower* decile or rank. The index
covers England only: Welsh LSOAs (``W01...``) have no IMD 2019 and are counted
as unmatched, never guessed. The IMD includes a crime domain (9.3% of its
weight, recorded violence, burglary, theft and criminal damage of 2016-18),
so some of any link between crime hotspots and deprivation is circular; say
so wherever the finding is quoted.

References
----------
Ministry of Housing, Communities and Local Government (2019). The English
Indices of Deprivation 2019: technical report and File 1 (index of multiple
deprivation). https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019

Mann, H. B. and Whitney, D. R. (1947). On a test of whether one of two random
variables is stochastically larger than the other. Annals of Mathematical
Statistics 18, 50-60.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binomtest, mannwhitneyu

from hotspots._results import Result, p_text, require_columns
from hotspots.errors import ParameterError

__all__ = ["DeprivationContext", "hotspot_deprivation"]

_DECILES = tuple(range(1, 11))


@dataclass(frozen=True)
class DeprivationContext(Result):
    """IMD 2019 deciles of hotspot events and LSOAs against the force (see :func:`hotspot_deprivation`).

    Share tuples have 10 entries, for deciles 1 (most deprived) to 10, and
    sum to 1 (or are all NaN when empty).

    Attributes
    ----------
    hotspot_event_shares, force_event_shares : tuple of float
        Decile shares of events (weighted by ``weight``) in hotspot cells and
        of all events of the force (hotspot events included).
    hotspot_lsoa_shares, force_lsoa_shares : tuple of float
        Decile shares of *distinct* LSOAs: those with a hotspot event, and the
        force's LSOAs (``force_lsoas``, or every LSOA with an event).
    force_population_shares : tuple of float or None
        Resident population (mid-2015) of the force's LSOAs by decile, when
        ``imd`` has ``population``.
    hotspot_mean_decile, force_mean_decile : float
        Event-weighted mean decile.
    hotspot_lsoa_mean_decile, force_lsoa_mean_decile : float
        Mean decile over distinct LSOAs.
    deprived_deciles : int
        Deciles ``1..deprived_deciles`` count as "deprived".
    hotspot_deprived_share, force_deprived_share, other_deprived_share : float
        Share of hotspot / all / non-hotspot events in the deprived deciles
        (weighted by ``weight``).
    n_hotspot_events, n_other_events : int
        Events with an IMD match, in and not in hotspot cells.
    n_unmatched_events : int
        Events whose LSOA code is not in ``imd`` even after ``lsoa_lookup``
        (Welsh, new LSOA 2021 codes without a lookup, blank or mistyped).
    n_recoded_events : int
        Events matched through ``lsoa_lookup``.
    match_rate : float
        Matched events / all events.
    n_hotspot_lsoas, n_force_lsoas : int
        Distinct LSOAs in the LSOA-level comparison.
    mw_events_u, mw_events_p : float
        One-sided Mann-Whitney U (alternative: hotspot events have *lower*
        IMD rank, i.e. are more deprived) of IMD rank, hotspot events vs
        non-hotspot events, each event counted once.
    mw_lsoas_u, mw_lsoas_p : float
        The same test over distinct LSOAs: hotspot LSOAs vs the force's
        other LSOAs. Fewer, independent units: the honest p-value when
        hotspot events bunch in a few LSOAs.
    deprived_p : float
        One-sided binomial test: hotspot event count in the deprived deciles
        out of ``n_hotspot_events``, against the non-hotspot share.
    finding : str
        One sentence for the profile.
    """

    hotspot_event_shares: tuple[float, ...]
    force_event_shares: tuple[float, ...]
    hotspot_lsoa_shares: tuple[float, ...]
    force_lsoa_shares: tuple[float, ...]
    force_population_shares: tuple[float, ...] | None
    hotspot_mean_decile: float
    force_mean_decile: float
    hotspot_lsoa_mean_decile: float
    force_lsoa_mean_decile: float
    deprived_deciles: int
    hotspot_deprived_share: float
    force_deprived_share: float
    other_deprived_share: float
    n_hotspot_events: int
    n_other_events: int
    n_unmatched_events: int
    n_recoded_events: int
    match_rate: float
    n_hotspot_lsoas: int
    n_force_lsoas: int
    mw_events_u: float
    mw_events_p: float
    mw_lsoas_u: float
    mw_lsoas_p: float
    deprived_p: float
    finding: str

    def to_frame(self) -> pd.DataFrame:
        """One row per decile 1..10 with the share columns (for a table or bar chart).

        Returns
        -------
        DataFrame
            ``imd_decile`` and ``hotspot_events``, ``force_events``,
            ``hotspot_lsoas``, ``force_lsoas`` (shares) and, with population,
            ``force_population``.
        """
        out = pd.DataFrame({
            "imd_decile": np.arange(1, 11),
            "hotspot_events": self.hotspot_event_shares,
            "force_events": self.force_event_shares,
            "hotspot_lsoas": self.hotspot_lsoa_shares,
            "force_lsoas": self.force_lsoa_shares,
        })
        if self.force_population_shares is not None:
            out["force_population"] = self.force_population_shares
        return out



def _shares(decile: np.ndarray, w: np.ndarray | None = None) -> tuple[float, ...]:
    counts = np.bincount(decile, weights=w, minlength=11)[1:11].astype(np.float64)
    total = counts.sum()
    return tuple((counts / total).tolist()) if total > 0 else (math.nan,) * 10


def _mean(decile: np.ndarray, w: np.ndarray | None = None) -> float:
    if not len(decile) or (w is not None and w.sum() <= 0):
        return math.nan
    return float(np.average(decile, weights=w))


def _share_in(decile: np.ndarray, w: np.ndarray, k: int) -> float:
    total = w.sum()
    return float(w[decile <= k].sum() / total) if total > 0 else math.nan


def _mw_less(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    if not len(a) or not len(b):
        return math.nan, math.nan
    res = mannwhitneyu(a, b, alternative="less")
    return float(res.statistic), float(res.pvalue)


def hotspot_deprivation(
    events: pd.DataFrame,
    hot_cells: Sequence[str],
    *,
    imd: pd.DataFrame,
    cell_col: str = "h3_cell",
    lsoa_col: str = "lsoa_code",
    weight: str | None = None,
    force_lsoas: Sequence[str] | None = None,
    deprived_deciles: int = 3,
    lsoa_lookup: pd.DataFrame | Mapping[str, str] | None = None,
) -> DeprivationContext:
    """IMD 2019 deciles of the LSOAs of hotspot events, against the force's, with tests.

    What is compared:

    * **Event level** (weighted by ``weight``): the decile of the LSOA of
      each event in a hotspot cell, against every event of the force
      (hotspot events included), as shares per decile, mean decile and the
      share in deciles ``1..deprived_deciles``.
    * **LSOA level** (unweighted): the distinct LSOAs with a hotspot event,
      against the force's LSOAs (``force_lsoas``, else every LSOA with an
      event). With ``population`` in ``imd`` the force's resident population
      by decile is given as a third reference.
    * **Tests** (each event counted once, whatever ``weight``):
      a one-sided Mann-Whitney U that hotspot events lie in lower-ranked
      (more deprived) LSOAs than non-hotspot events; the same test over
      distinct LSOAs (hotspot LSOAs vs the force's other LSOAs); and a
      one-sided binomial test of the count of hotspot events in the deprived
      deciles against the share among non-hotspot events (taken as known).

    Events in the same LSOA share its rank (ties) and events bunch in few
    LSOAs, so the event-level p-values treat correlated events as
    independent and overstate certainty; quote the LSOA-level p-value
    alongside them. Events whose LSOA is not in ``imd`` (Wales, blank codes)
    are left out and counted in ``n_unmatched_events``.

    Parameters
    ----------
    events : DataFrame
        One row per event with ``cell_col`` and ``lsoa_col`` (police.uk gives
        ``lsoa_code``, 2011 codes as used by IMD 2019).
    hot_cells : sequence of str
        Hotspot cell ids (same kind as ``cell_col``).
    imd : DataFrame
        From :func:`read_imd`: ``lsoa_code``, ``imd_rank``, ``imd_decile``
        and optionally ``population``.
    cell_col, lsoa_col : str
        Columns of ``events``.
    weight : str, optional
        Non-negative numeric column (harm weight, say) for the event-level
        shares and means; tests still count events.
    force_lsoas : sequence of str, optional
        The force's LSOAs for the LSOA-level reference (e.g. every LSOA in
        its local authorities); codes not in ``imd`` are ignored.
    deprived_deciles : int, default 3
        Deciles ``1..deprived_deciles`` (the 30% most deprived LSOAs in
        England by default) count as deprived, 1-9.
    lsoa_lookup : DataFrame or mapping, optional
        Recode LSOA codes that are not in ``imd`` before the join: a mapping
        of code to IMD (2011) code, or a frame with ``lsoa_code`` and
        ``imd_lsoa_code`` (:func:`lsoa_crosswalk`, or the ONS LSOA 2011 to
        2021 best-fit lookup). Without it, police.uk events from mid-2023 in
        LSOAs that changed in 2021 go unmatched - often city centres.

    Returns
    -------
    DeprivationContext

    Raises
    ------
    ParameterError
        On a missing column, an ``imd`` frame with repeated LSOAs, an empty
        ``hot_cells``, hotspot cells without a matched event, a negative or
        missing weight, or ``deprived_deciles`` outside 1-9.

    References
    ----------
    Mann, H. B. and Whitney, D. R. (1947), see the module docstring.

    Examples
    --------
    >>> import pandas as pd
    >>> imd = pd.DataFrame({"lsoa_code": ["E1", "E2", "E3", "E4"], "imd_rank": [10, 20, 20000, 30000],
    ...                     "imd_decile": [1, 1, 7, 10]})
    >>> events = pd.DataFrame({"h3_cell": ["a", "a", "a", "b", "b", "c", "c", "c"],
    ...                        "lsoa_code": ["E1", "E1", "E2", "E3", "E4", "E3", "E4", "W01"]})
    >>> res = hotspot_deprivation(events, ["a"], imd=imd)
    >>> res.hotspot_event_shares[0], res.force_event_shares[0], res.n_unmatched_events
    (1.0, 0.42857142857142855, 1)
    >>> res.finding
    '100% of events in hotspot cells are in the 30% most deprived LSOAs in England (IMD 2019 deciles 1-3), against 43% across the force (mean decile 1.0 vs 5.3; one-sided Mann-Whitney on IMD rank p = 0.023 over 7 events, p = 0.167 over 4 distinct LSOAs; 12% of events have no IMD 2019 LSOA and are left out).'
    """  # noqa: E501
    require_columns(events, [cell_col, lsoa_col], name="events", fix="add H3 cells (events_to_cells)")
    require_columns(imd, ["lsoa_code", "imd_rank", "imd_decile"], name="imd", fix="read it with read_imd")
    if isinstance(hot_cells, str):
        raise ParameterError(f"hot_cells must be a list of cell ids, e.g. [{hot_cells!r}]")
    hot_cells = list(hot_cells)
    if not hot_cells:
        raise ParameterError("hot_cells is empty; give the ids of the hotspot cells")
    if isinstance(deprived_deciles, bool) or not isinstance(deprived_deciles, int | np.integer) or not (
        1 <= deprived_deciles <= 9
    ):
        raise ParameterError(f"deprived_deciles must be a whole number from 1 to 9, got {deprived_deciles!r}")
    index = pd.Index(imd["lsoa_code"].astype(str).str.strip())
    if index.has_duplicates:
        raise ParameterError(f"imd repeats LSOA {index[index.duplicated()][0]}; give one row per LSOA (read_imd)")
    rank = imd["imd_rank"].to_numpy(dtype=np.float64)
    dec = imd["imd_decile"].to_numpy()
    if not np.isin(dec, _DECILES).all():
        raise ParameterError("imd_decile must be whole numbers 1-10; read the file with read_imd")
    dec = dec.astype(np.int64)

    codes = events[lsoa_col].astype("string").str.strip().fillna("").to_numpy(dtype=object)
    pos = index.get_indexer(pd.Index(codes))
    n_recoded = 0
    if lsoa_lookup is not None:
        lookup = _lookup_series(lsoa_lookup)
        miss = pos < 0
        alt = index.get_indexer(pd.Index(lookup.reindex(codes[miss]).fillna("").to_numpy(dtype=object)))
        n_recoded = int((alt >= 0).sum())
        pos[miss] = alt
    matched = pos >= 0
    is_hot = events[cell_col].isin(hot_cells).to_numpy()
    if weight is None:
        w = np.ones(len(events))
    else:
        require_columns(events, [weight], name="events", fix="or leave weight=None to count events")
        w = pd.to_numeric(events[weight], errors="coerce").to_numpy(dtype=np.float64)
        if not (np.isfinite(w) & (w >= 0)).all():
            raise ParameterError(f"events[{weight!r}] has missing or negative values; fill them (0 = no weight)")

    hot = matched & is_hot
    other = matched & ~is_hot
    if not hot.any():
        raise ParameterError(
            f"no event in hot_cells has an LSOA in imd ({int(is_hot.sum()):,} events in hot_cells); "
            f"check that hot_cells and events[{cell_col!r}] use the same H3 resolution and that the LSOAs are English"
        )
    d_hot, d_all, d_other = dec[pos[hot]], dec[pos[matched]], dec[pos[other]]
    w_hot, w_all, w_other = w[hot], w[matched], w[other]

    hot_l = np.unique(pos[hot])
    if force_lsoas is None:
        force_l = np.unique(pos[matched])
    else:
        fl = index.get_indexer(pd.Index([str(c).strip() for c in force_lsoas]))
        force_l = np.unique(fl[fl >= 0])
    rest_l = np.setdiff1d(force_l, hot_l)
    pop_shares = None
    if "population" in imd.columns:
        pop = pd.to_numeric(imd["population"], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
        pop_shares = _shares(dec[force_l], pop[force_l])

    mw_e = _mw_less(rank[pos[hot]], rank[pos[other]])
    mw_l = _mw_less(rank[hot_l], rank[rest_l])
    k = deprived_deciles
    n_hot = int(hot.sum())
    k_hot = int((d_hot <= k).sum())
    p0 = float((d_other <= k).mean()) if len(d_other) else math.nan
    if math.isfinite(p0):
        deprived_p = float(binomtest(k_hot, n_hot, p0, alternative="greater").pvalue)
    else:
        deprived_p = math.nan

    hs, fs = _share_in(d_hot, w_hot, k), _share_in(d_all, w_all, k)
    hm, fm = _mean(d_hot, w_hot), _mean(d_all, w_all)
    what = "decile 1" if k == 1 else f"deciles 1-{k}"
    finding = (
        f"{hs:.0%} of {'harm-weighted ' if weight else ''}events in hotspot cells are in the {10 * k}% most deprived "
        f"LSOAs in England (IMD 2019 {what}), against {fs:.0%} across the force (mean decile {hm:.1f} vs {fm:.1f}; "
        f"one-sided Mann-Whitney on IMD rank {p_text(mw_e[1])} over {int(matched.sum()):,} events, "
        f"{p_text(mw_l[1])} over {len(hot_l) + len(rest_l):,} distinct LSOAs"
    )
    unmatched = 1.0 - float(matched.mean())
    if unmatched >= 0.05:  # say so in the sentence itself: a profile may quote it alone
        finding += f"; {unmatched:.0%} of events have no IMD 2019 LSOA and are left out"
    finding += ")."
    return DeprivationContext(
        hotspot_event_shares=_shares(d_hot, w_hot),
        force_event_shares=_shares(d_all, w_all),
        hotspot_lsoa_shares=_shares(dec[hot_l]),
        force_lsoa_shares=_shares(dec[force_l]),
        force_population_shares=pop_shares,
        hotspot_mean_decile=hm,
        force_mean_decile=fm,
        hotspot_lsoa_mean_decile=_mean(dec[hot_l]),
        force_lsoa_mean_decile=_mean(dec[force_l]),
        deprived_deciles=int(k),
        hotspot_deprived_share=hs,
        force_deprived_share=fs,
        other_deprived_share=_share_in(d_other, w_other, k),
        n_hotspot_events=n_hot,
        n_other_events=int(other.sum()),
        n_unmatched_events=int((~matched).sum()),
        n_recoded_events=n_recoded,
        match_rate=float(matched.mean()) if len(matched) else math.nan,
        n_hotspot_lsoas=len(hot_l),
        n_force_lsoas=len(force_l),
        mw_events_u=mw_e[0],
        mw_events_p=mw_e[1],
        mw_lsoas_u=mw_l[0],
        mw_lsoas_p=mw_l[1],
        deprived_p=deprived_p,
        finding=finding,
    )


def _lookup_series(lookup) -> pd.Series:
    if isinstance(lookup, pd.DataFrame):
        require_columns(lookup, ["lsoa_code", "imd_lsoa_code"], name="lsoa_lookup", fix="build it with lsoa_crosswalk")
        keys, vals = lookup["lsoa_code"].tolist(), lookup["imd_lsoa_code"].tolist()
    elif isinstance(lookup, Mapping):
        keys, vals = list(lookup.keys()), list(lookup.values())
    else:
        raise ParameterError(
            f"lsoa_lookup must be a mapping or a DataFrame with lsoa_code/imd_lsoa_code, got {type(lookup).__name__}"
        )
    out = pd.Series(np.asarray(vals, dtype=object), index=pd.Index(np.asarray(keys, dtype=object)).astype(str))
    if out.index.has_duplicates:
        raise ParameterError(
            f"lsoa_lookup maps {out.index[out.index.duplicated()][0]} twice; keep one IMD code per LSOA code"
        )
    return out.astype(str).str.strip()

