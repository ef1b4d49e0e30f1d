"""Context for hotspots: deprivation (IMD 2019) and nearness to night-time-economy venues.

The 2023 national VAWG Strategic Threat and Risk Assessment (STRA) found
public-space VAWG concentrated around night-time-economy (NTE) venues and in
deprived areas. The force problem profile tests both claims on the force's
own data:

* :func:`read_imd` reads the English indices of deprivation 2019, File 1
  (one row per English LSOA, 2011 codes: the codes police.uk gives each
  crime in ``LSOA code``).
* :func:`lsoa_crosswalk` maps LSOA codes that IMD 2019 does not know (police.uk
  switched to **LSOA 2021** codes in mid-2023) to 2011 codes through map
  points that the same data give with both codes.
* :func:`hotspot_deprivation` compares the IMD deciles of the LSOAs where
  hotspot events happen with the force's distribution, with a one-sided
  Mann-Whitney U test on IMD rank and a binomial test on the share in the
  most deprived deciles.
* :func:`venue_concentration` asks whether VAWG events concentrate within
  ``distance_m`` of NTE venues, first against the share of the study area
  near venues (a location quotient under uniform exposure), then against all
  other crime (which controls for footfall, since people - and so crime of
  every kind - also concentrate near venues).

Both return a small frozen dataclass with ``to_dict()`` (JSON-safe) and a
one-sentence ``finding`` built from the numbers.

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

import csv
import math
import os
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots.errors import InputFileError, ParameterError
from hotspots.venues import _xy

__all__ = [
    "DeprivationContext",
    "VenueConcentration",
    "hotspot_deprivation",
    "lsoa_crosswalk",
    "read_imd",
    "venue_concentration",
]

_IMD_URL = "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019"
# output column -> header prefix in File 1 (File 7 adds "(where 1 is most deprived...)" suffixes)
_IMD_HEADERS = {
    "lsoa_code": "LSOA code (2011)",
    "lsoa_name": "LSOA name (2011)",
    "la_code": "Local Authority District code (2019)",
    "la_name": "Local Authority District name (2019)",
    "imd_rank": "Index of Multiple Deprivation (IMD) Rank",
    "imd_decile": "Index of Multiple Deprivation (IMD) Decile",
}
_POP_HEADER = "Total population: mid 2015"
_DECILES = tuple(range(1, 11))


# ----------------------------------------------------------------------------- reading


def _read_header_csv(path: Path, what: str) -> pd.DataFrame:
    if not path.exists():
        raise InputFileError(
            str(path), f"{what} file not found", f"check the path; File 1 and File 6 are at {_IMD_URL}"
        )
    try:
        return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False, compression="infer")
    except pd.errors.EmptyDataError:
        raise InputFileError(str(path), "the file is empty", "re-download it") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise InputFileError(str(path), f"cannot be read ({exc.strerror})", "give the file, readable by you") from None
    except (UnicodeError, zlib.error, EOFError, csv.Error, OSError, ValueError) as exc:  # bad gzip, NUL, UTF-16...
        raise InputFileError(
            str(path), f"not a readable UTF-8 CSV ({type(exc).__name__})", "give the CSV (or .csv.gz) as published"
        ) from None


def _find_columns(df: pd.DataFrame, wanted: dict[str, str]) -> dict[str, str]:
    cols = [str(c).strip() for c in df.columns]
    found = {}
    for out, prefix in wanted.items():
        hit = next((c for c, s in zip(df.columns, cols, strict=True) if s.startswith(prefix)), None)
        if hit is not None:
            found[out] = hit
    return found


def _integers(df: pd.DataFrame, col: str, path: Path, lo: int, hi: int | None) -> np.ndarray:
    raw = df[col].str.replace(",", "", regex=False).str.strip()
    val = pd.to_numeric(raw, errors="coerce")
    bad = val.isna() | (val != np.floor(val)) | (val < lo) | ((val > hi) if hi is not None else False)
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise InputFileError(
            str(path), f"column {col!r} value {df[col].iat[i]!r} is not a whole number from {lo} to {hi or 'n'}",
            "fix the cell or re-download the file", line=i + 2,
        )
    return val.to_numpy(dtype=np.int64)


def read_imd(path: str | os.PathLike, *, population: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read the English IMD 2019 (File 1) as one row per LSOA.

    Parameters
    ----------
    path : path
        ``File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv`` (or ``.csv.gz``)
        as published by MHCLG: UTF-8 with or without BOM, ranks with
        thousands separators. File 7 (all ranks, scores and deciles) also
        works; its IMD columns are found by their header prefix.
    population : path, optional
        ``File_6_-_IoD2019_Population_Denominators.csv`` (or ``.csv.gz``);
        adds ``population`` (mid-2015, excluding prisoners).

    Returns
    -------
    DataFrame
        ``lsoa_code``, ``lsoa_name``, ``la_code``, ``la_name`` (str),
        ``imd_rank`` (int64, 1 = most deprived LSOA in England),
        ``imd_decile`` (int64, 1 = most deprived 10%) and, with
        ``population``, ``population`` (int64). One row per LSOA, in file
        order.

    Raises
    ------
    InputFileError
        If a file is missing, unreadable, is the wrong file (e.g. File 6 given
        as ``path``), lacks a column, repeats an LSOA or has a rank or decile
        that is not a whole number in range; or if the population file does
        not cover every LSOA.

    Examples
    --------
    >>> imd = read_imd("data/deprivation/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz")
    >>> len(imd), int(imd["imd_decile"].min()), int(imd["imd_decile"].max())
    (32844, 1, 10)
    >>> imd.loc[imd["imd_rank"] == 1, "la_name"].item()
    'Tendring'
    """
    path = Path(path)
    df = _read_header_csv(path, "IMD")
    cols = _find_columns(df, _IMD_HEADERS)
    missing = [h for k, h in _IMD_HEADERS.items() if k not in cols]
    if missing:
        got = ", ".join(repr(str(c)) for c in list(df.columns)[:6])
        hint = (
            "this looks like File 6 (population denominators); give File 1 as path and File 6 as population="
            if _find_columns(df, {"pop": _POP_HEADER})
            else f"give File 1 of the English indices of deprivation 2019 ({_IMD_URL})"
        )
        raise InputFileError(str(path), f"no column(s) {', '.join(map(repr, missing))} (header starts {got})", hint)
    code = df[cols["lsoa_code"]].str.strip()
    if (code == "").any():
        i = int(np.argmax((code == "").to_numpy()))
        raise InputFileError(str(path), "an LSOA code is blank", "fix the row or re-download the file", line=i + 2)
    dup = code.duplicated()
    if dup.any():
        i = int(np.argmax(dup.to_numpy()))
        raise InputFileError(str(path), f"LSOA {code.iat[i]} appears twice", "remove the repeated row", line=i + 2)
    out = pd.DataFrame({
        "lsoa_code": code.to_numpy(dtype=object),
        "lsoa_name": df[cols["lsoa_name"]].str.strip().to_numpy(dtype=object),
        "la_code": df[cols["la_code"]].str.strip().to_numpy(dtype=object),
        "la_name": df[cols["la_name"]].str.strip().to_numpy(dtype=object),
        "imd_rank": _integers(df, cols["imd_rank"], path, 1, None),
        "imd_decile": _integers(df, cols["imd_decile"], path, 1, 10),
    })
    if population is not None:
        out["population"] = _population(Path(population), out["lsoa_code"])
    return out


def _population(path: Path, codes: pd.Series) -> np.ndarray:
    df = _read_header_csv(path, "population")
    cols = _find_columns(df, {"lsoa_code": _IMD_HEADERS["lsoa_code"], "population": _POP_HEADER})
    if len(cols) < 2:
        raise InputFileError(
            str(path), f"no columns {_IMD_HEADERS['lsoa_code']!r} and {_POP_HEADER + ' ...'!r}",
            f"give File 6 (population denominators) of the English indices of deprivation 2019 ({_IMD_URL})",
        )
    pop = pd.Series(_integers(df, cols["population"], path, 0, None), index=df[cols["lsoa_code"]].str.strip())
    pop = pop[~pop.index.duplicated()]
    pos = pop.index.get_indexer(pd.Index(codes))
    if (pos < 0).any():
        raise InputFileError(
            str(path),
            f"{int((pos < 0).sum()):,} LSOAs of the IMD file have no population (first {codes[pos < 0].iat[0]})",
            "give File 6 from the same release as File 1",
        )
    return pop.to_numpy()[pos]


# ----------------------------------------------------------------------------- results


def _jsonable(v):
    if isinstance(v, tuple | list | np.ndarray):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if not math.isfinite(v) else float(v)
    return v


class _Result:
    def to_dict(self) -> dict:
        """All fields as JSON-safe Python values (NaN becomes ``None``, tuples become lists)."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


def _p_text(p: float) -> str:
    if not math.isfinite(p):
        return "p not computable"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


@dataclass(frozen=True)
class DeprivationContext(_Result):
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


@dataclass(frozen=True)
class VenueConcentration(_Result):
    """VAWG events near NTE venues against area and against other crime (see :func:`venue_concentration`).

    Attributes
    ----------
    distance_m : float
        Distance from the nearest venue that counts as "near" (inclusive).
    n_venues : int
    n_events, n_events_near : int
        VAWG events inside the study area, and those near a venue.
    n_events_outside : int
        VAWG events outside the study area (left out of everything).
    event_share : float
        ``n_events_near / n_events``.
    study_area_km2, near_area_km2 : float
        Study area, and the part of it within ``distance_m`` of a venue
        (union of venue buffers clipped to the study area).
    area_share : float
        ``near_area_km2 / study_area_km2``.
    location_quotient : float
        ``event_share / area_share``: 1 means as many events near venues as
        the area predicts.
    binomial_p : float
        One-sided binomial test of ``n_events_near`` out of ``n_events``
        against ``area_share`` (uniform exposure; see the function).
    n_other, n_other_near : int or None
        Other crime inside the study area, and near a venue.
    other_share : float
        ``n_other_near / n_other`` (NaN without ``other_events``).
    relative_share : float
        ``event_share / other_share``: VAWG's concentration near venues
        relative to other crime's.
    odds_ratio, fisher_p : float
        Sample odds ratio and one-sided Fisher exact p of the 2x2 table
        (VAWG / other crime) x (near / not near).
    finding : str
        One sentence for the profile.
    """

    distance_m: float
    n_venues: int
    n_events: int
    n_events_near: int
    n_events_outside: int
    event_share: float
    study_area_km2: float
    near_area_km2: float
    area_share: float
    location_quotient: float
    binomial_p: float
    n_other: int | None
    n_other_near: int | None
    other_share: float
    relative_share: float
    odds_ratio: float
    fisher_p: float
    finding: str


# ----------------------------------------------------------------------------- deprivation


def _require(frame: pd.DataFrame, cols: Sequence[str], *, name: str, fix: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"{name} has no column(s) {', '.join(map(repr, missing))} (has {', '.join(map(str, frame.columns))}); {fix}"
        )


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
    from scipy.stats import mannwhitneyu

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
    _require(events, [cell_col, lsoa_col], name="events", fix="add H3 cells with events_to_cells/latlng_to_cells")
    _require(imd, ["lsoa_code", "imd_rank", "imd_decile"], name="imd", fix="read it with read_imd")
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
        _require(events, [weight], name="events", fix="or leave weight=None to count events")
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
        from scipy.stats import binomtest

        deprived_p = float(binomtest(k_hot, n_hot, p0, alternative="greater").pvalue)
    else:
        deprived_p = math.nan

    hs, fs = _share_in(d_hot, w_hot, k), _share_in(d_all, w_all, k)
    hm, fm = _mean(d_hot, w_hot), _mean(d_all, w_all)
    what = "decile 1" if k == 1 else f"deciles 1-{k}"
    finding = (
        f"{hs:.0%} of {'harm-weighted ' if weight else ''}events in hotspot cells are in the {10 * k}% most deprived "
        f"LSOAs in England (IMD 2019 {what}), against {fs:.0%} across the force (mean decile {hm:.1f} vs {fm:.1f}; "
        f"one-sided Mann-Whitney on IMD rank {_p_text(mw_e[1])} over {int(matched.sum()):,} events, "
        f"{_p_text(mw_l[1])} over {len(hot_l) + len(rest_l):,} distinct LSOAs"
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
        _require(lookup, ["lsoa_code", "imd_lsoa_code"], name="lsoa_lookup", fix="build it with lsoa_crosswalk")
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
    _require(events, [lsoa_col, point_col], name="events", fix="give police.uk events from read_police_uk")
    _require(imd, ["lsoa_code"], name="imd", fix="read it with read_imd")
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


# ----------------------------------------------------------------------------- venues


def _study_geometry(area, cells):
    import shapely

    if (area is None) == (cells is None):
        raise ParameterError("give exactly one of area= (polygon in EPSG:27700) or cells= (H3 cell ids)")
    if cells is not None:
        from hotspots.grid import cells_to_polygons

        if isinstance(cells, str):
            raise ParameterError(f"cells must be a list of H3 cell ids, e.g. [{cells!r}]")
        geom = shapely.union_all(np.asarray(cells_to_polygons(list(cells), crs="EPSG:27700").values))
    elif hasattr(area, "crs"):  # GeoSeries / GeoDataFrame
        if area.crs is None:
            raise ParameterError("area has no CRS; set it (area.set_crs(...)) and project to EPSG:27700")
        if area.crs.to_epsg() != 27700:
            raise ParameterError(f"area is in {area.crs.to_string()}; project it with area.to_crs(27700)")
        geom = shapely.union_all(np.asarray(area.geometry.values if hasattr(area, "geometry") else area.values))
    elif isinstance(area, shapely.Geometry):
        geom = area
    else:
        raise ParameterError(f"area must be a shapely polygon or GeoSeries in EPSG:27700, got {type(area).__name__}")
    geom = shapely.make_valid(geom)
    if geom.is_empty or geom.area <= 0:
        raise ParameterError("the study area is empty or has no area; give polygons, not points or lines")
    x0, y0, x1, y1 = geom.bounds
    if max(abs(x0), abs(x1)) <= 180 and max(abs(y0), abs(y1)) <= 90:
        raise ParameterError("area looks like longitude/latitude degrees; project it to EPSG:27700 (metres)")
    return geom


def _near(tree, x: np.ndarray, y: np.ndarray, distance_m: float) -> np.ndarray:
    if not len(x):
        return np.zeros(0, dtype=bool)
    d, _ = tree.query(np.column_stack([x, y]), k=1)
    return d <= distance_m


def venue_concentration(
    events: pd.DataFrame,
    venues: pd.DataFrame,
    *,
    distance_m: float = 50.0,
    area=None,
    cells: Sequence[str] | None = None,
    other_events: pd.DataFrame | None = None,
    quad_segs: int = 32,
) -> VenueConcentration:
    """Test whether VAWG events concentrate within ``distance_m`` of NTE venues.

    Two comparisons, both one-sided (more concentration near venues):

    1. **Against area** (location quotient). The share of VAWG events within
       ``distance_m`` of the nearest venue (inclusive) against the share of
       the study area within that distance (the union of the venue buffers,
       clipped to the study area). Binomial test of the near count against
       the area share. This assumes *uniform exposure*: without venues,
       every square metre of the study area would be equally likely to host
       an event. It is not: people, streets and so crime of every kind
       cluster in town centres, where venues are, so a large quotient mainly
       shows that venues are where people are.
    2. **Against other crime** (with ``other_events``). The VAWG share near
       venues against the share of all other crime near venues, with a
       one-sided Fisher exact test on the 2x2 table. Other crime stands in
       for footfall and opportunity, so this is the better answer to the
       STRA's question "is VAWG concentrated around NTE venues *beyond* where
       people are?". It still cannot separate venue effects from town-centre
       effects in general.

    Both tests treat events as independent; police.uk events share
    anonymised map points and repeat at the same places, so p-values are
    optimistic. Events and other crime outside the study area are left out.
    The buffers are polygons with ``4 * quad_segs`` sides, inscribed in the
    circle: with the default 32 the near area is at most 0.04% small.

    Parameters
    ----------
    events : DataFrame
        VAWG-relevant events with ``x``/``y`` in metres (EPSG:27700).
    venues : DataFrame
        NTE venues with ``x``/``y`` in metres (EPSG:27700); venues just
        outside the study area still count (their buffers are clipped).
    distance_m : float, default 50
        "Near" distance in metres, > 0.
    area : shapely geometry or GeoSeries/GeoDataFrame, optional
        Study area in EPSG:27700 (e.g. a local authority boundary).
    cells : sequence of str, optional
        Study area as H3 cell ids (e.g. ``study_area_cells``); give exactly
        one of ``area`` and ``cells``.
    other_events : DataFrame, optional
        All other crime (``x``/``y`` in metres), for comparison 2.
    quad_segs : int, default 32
        Segments per quarter circle of each buffer.

    Returns
    -------
    VenueConcentration

    Raises
    ------
    ParameterError
        On missing or non-numeric ``x``/``y``, coordinates in degrees, no
        venues, no events in the study area, ``distance_m <= 0``, neither or
        both of ``area``/``cells``, or an area without a CRS of EPSG:27700.

    Examples
    --------
    A 1 km square with one venue in the middle: 20 m buffer covers
    pi * 20^2 / 1e6 = 0.126% of the area; 6 of 10 events are that near.

    >>> import pandas as pd, shapely
    >>> square = shapely.box(0, 0, 1000, 1000)
    >>> venues = pd.DataFrame({"x": [500.0], "y": [500.0]})
    >>> ev = pd.DataFrame({"x": [500, 510, 490, 500, 505, 515, 100, 900, 200, 800.0],
    ...                    "y": [500, 500, 500, 490, 505, 500, 100, 900, 700, 300.0]})
    >>> other = pd.DataFrame({"x": [500.0] * 3 + [300.0] * 7, "y": [500.0] * 3 + [300.0] * 7})
    >>> res = venue_concentration(ev, venues, distance_m=20, area=square, other_events=other)
    >>> round(res.area_share, 5), res.event_share, round(res.location_quotient)
    (0.00126, 0.6, 478)
    >>> res.other_share, round(res.fisher_p, 3)
    (0.3, 0.185)
    """
    from scipy.spatial import cKDTree
    from scipy.stats import binomtest, fisher_exact

    if isinstance(distance_m, bool) or not isinstance(distance_m, int | float) or not (
        math.isfinite(distance_m) and distance_m > 0
    ):
        raise ParameterError(f"distance_m must be a positive number of metres, got {distance_m!r}")
    if isinstance(quad_segs, bool) or not isinstance(quad_segs, int) or quad_segs < 1:
        raise ParameterError(f"quad_segs must be a whole number >= 1, got {quad_segs!r}")
    import shapely

    ex, ey = _xy(events, name="events")
    vx, vy = _xy(venues, name="venues")
    if not len(vx):
        raise ParameterError("venues has no rows; give the NTE venues (read_venues)")
    other_xy = None if other_events is None else _xy(other_events, name="other_events")
    geom = _study_geometry(area, cells)
    shapely.prepare(geom)

    inside = shapely.intersects_xy(geom, ex, ey)
    n_in = int(inside.sum())
    if n_in == 0:
        raise ParameterError(
            f"none of the {len(ex):,} events is inside the study area; check both are in EPSG:27700 and overlap"
        )
    tree = cKDTree(np.column_stack([vx, vy]))
    near = _near(tree, ex[inside], ey[inside], float(distance_m))
    k = int(near.sum())
    buffers = shapely.buffer(shapely.points(vx, vy), float(distance_m), quad_segs=quad_segs)
    near_area = float(shapely.intersection(shapely.union_all(buffers), geom).area)
    area_share = near_area / geom.area
    ev_share = k / n_in
    lq = ev_share / area_share if area_share > 0 else math.nan
    binom_p = float(binomtest(k, n_in, min(area_share, 1.0), alternative="greater").pvalue)

    n_o = n_o_near = None
    o_share = rel = odds = fisher_p = math.nan
    if other_xy is not None:
        ox, oy = other_xy
        o_in = shapely.intersects_xy(geom, ox, oy)
        n_o = int(o_in.sum())
        n_o_near = int(_near(tree, ox[o_in], oy[o_in], float(distance_m)).sum())
        if n_o:
            o_share = n_o_near / n_o
            rel = ev_share / o_share if o_share > 0 else math.nan
            res = fisher_exact([[k, n_in - k], [n_o_near, n_o - n_o_near]], alternative="greater")
            odds, fisher_p = float(res.statistic), float(res.pvalue)

    d = f"{float(distance_m):g} m"
    finding = (
        f"{ev_share:.0%} of {n_in:,} VAWG-relevant crimes in the study area are within {d} of one of {len(vx):,} "
        f"NTE venues, an area covering {area_share:.1%} of it (location quotient {lq:.1f}, binomial {_p_text(binom_p)}"
        " assuming uniform exposure)"
    )
    if other_xy is not None:
        finding += (
            f"; {o_share:.0%} of other crime is that near (VAWG {rel:.2f} times as concentrated, one-sided Fisher "
            f"{_p_text(fisher_p)}), the better test because footfall also concentrates near venues."
        )
    else:
        finding += "; compare with other crime (other_events=) before concluding, as footfall also concentrates there."
    return VenueConcentration(
        distance_m=float(distance_m),
        n_venues=len(vx),
        n_events=n_in,
        n_events_near=k,
        n_events_outside=len(ex) - n_in,
        event_share=ev_share,
        study_area_km2=geom.area / 1e6,
        near_area_km2=near_area / 1e6,
        area_share=area_share,
        location_quotient=lq,
        binomial_p=binom_p,
        n_other=n_o,
        n_other_near=n_o_near,
        other_share=o_share,
        relative_share=rel,
        odds_ratio=odds,
        fisher_p=fisher_p,
        finding=finding,
    )
