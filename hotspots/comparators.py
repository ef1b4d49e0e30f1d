"""Compare one force's police.uk publication with the other forces.

An intelligence gap the force problem profile must state is *under-publication*:
a force that publishes fewer VAWG-relevant crimes per head than comparable
forces, or leaves more of them without a location, gives a thinner picture
than its peers. This module builds a force x month table of publication
indicators from police.uk street-level files and places one force among all
forces and among a comparator set.

Indicators (columns of :func:`force_month_table`; *concern* is the direction
that suggests under-publication or a data-quality problem):

=========================  ==========================================================  =======
column                     meaning                                                     concern
=========================  ==========================================================  =======
``rows_per_1000``          published rows per 1,000 residents                          low
``vawg_per_1000``          VAWG-relevant rows per 1,000 residents                      low
``no_coordinates_share``   share of published rows police.uk gave no location          high
``vawg_share``             share of the force's rows in the VAWG-relevant categories   --
``stacked_share``          share of located rows at map points holding >= 10 rows      high
=========================  ==========================================================  =======

"Published rows" are the accepted events plus the rows quarantined as
``no_coordinates`` (police.uk publishes them, without a location). Rows
quarantined for any other reason (malformed lines, older download vintages)
are not counted. Population is a resident count, so forces with large
non-resident populations (City of London, 7,375 residents in 2011) have
extreme rates; the robust statistics used here (median, MAD) are meant to
withstand them.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots.errors import InputFileError, ParameterError

__all__ = [
    "FORCE_NAME_ALIASES",
    "INDICATORS",
    "POLICE_UK_FORCES",
    "ForceComparison",
    "compare_force",
    "force_key",
    "force_month_table",
    "read_population",
]

#: police.uk "Falls within" names of every force police.uk publishes, keyed by :func:`force_key`.
POLICE_UK_FORCES: dict[str, str] = {
    "avon and somerset": "Avon and Somerset Constabulary",
    "bedfordshire": "Bedfordshire Police",
    "british transport": "British Transport Police",
    "cambridgeshire": "Cambridgeshire Constabulary",
    "cheshire": "Cheshire Constabulary",
    "city of london": "City of London Police",
    "cleveland": "Cleveland Police",
    "cumbria": "Cumbria Constabulary",
    "derbyshire": "Derbyshire Constabulary",
    "devon and cornwall": "Devon & Cornwall Police",
    "dorset": "Dorset Police",
    "durham": "Durham Constabulary",
    "dyfed powys": "Dyfed-Powys Police",
    "essex": "Essex Police",
    "gloucestershire": "Gloucestershire Constabulary",
    "greater manchester": "Greater Manchester Police",
    "gwent": "Gwent Police",
    "hampshire": "Hampshire Constabulary",
    "hertfordshire": "Hertfordshire Constabulary",
    "humberside": "Humberside Police",
    "kent": "Kent Police",
    "lancashire": "Lancashire Constabulary",
    "leicestershire": "Leicestershire Police",
    "lincolnshire": "Lincolnshire Police",
    "merseyside": "Merseyside Police",
    "metropolitan": "Metropolitan Police Service",
    "norfolk": "Norfolk Constabulary",
    "north wales": "North Wales Police",
    "north yorkshire": "North Yorkshire Police",
    "northamptonshire": "Northamptonshire Police",
    "northumbria": "Northumbria Police",
    "nottinghamshire": "Nottinghamshire Police",
    "northern ireland": "Police Service of Northern Ireland",
    "south wales": "South Wales Police",
    "south yorkshire": "South Yorkshire Police",
    "staffordshire": "Staffordshire Police",
    "suffolk": "Suffolk Constabulary",
    "surrey": "Surrey Police",
    "sussex": "Sussex Police",
    "thames valley": "Thames Valley Police",
    "warwickshire": "Warwickshire Police",
    "west mercia": "West Mercia Police",
    "west midlands": "West Midlands Police",
    "west yorkshire": "West Yorkshire Police",
    "wiltshire": "Wiltshire Police",
}

#: Keys that :func:`force_key`'s generic rules leave different for one force, mapped to the canonical key.
#: Generic rules: case-fold, "&" -> "and", punctuation and hyphens -> spaces, drop the words
#: "police", "constabulary", "service", "force", "area" and a leading "the"/"police service of".
FORCE_NAME_ALIASES: dict[str, str] = {
    "hampshire and isle of wight": "hampshire",  # renamed 2022; police.uk and the 2018 population use "Hampshire"
    "london city of": "city of london",  # ONS style "London, City of"
    "btp": "british transport",  # police.uk file slug
    "metropolitan london": "metropolitan",
    "psni": "northern ireland",
}

_DROP_WORDS = {"police", "constabulary", "service", "force", "area", "the"}


def force_key(name: str) -> str:
    """Normalise a force name so that the spellings of different publishers match.

    police.uk says "Avon and Somerset Constabulary", the House of Commons Library
    "Avon & Somerset", ONS "Avon & Somerset" (PFA16NM); all become
    ``"avon and somerset"``. Generic rules: case-fold, ``&`` -> ``and``,
    punctuation and hyphens -> spaces, drop the words *police*, *constabulary*,
    *service*, *force*, *area*, *the* and a leading *police service of*; then
    :data:`FORCE_NAME_ALIASES` maps the few names the rules leave different.
    police.uk file slugs (``avon-and-somerset``, ``btp``) normalise too.

    Parameters
    ----------
    name : str
        A force name or police.uk file slug.

    Returns
    -------
    str
        The key (a key of :data:`POLICE_UK_FORCES` for every force police.uk publishes).

    Examples
    --------
    >>> force_key("Avon and Somerset Constabulary"), force_key("Avon & Somerset")
    ('avon and somerset', 'avon and somerset')
    >>> force_key("Dyfed-Powys Police"), force_key("Metropolitan Police Service"), force_key("btp")
    ('dyfed powys', 'metropolitan', 'british transport')
    """
    s = str(name).casefold().replace("&", " and ")
    s = re.sub(r"^\s*police service of\s+", "", s)
    s = re.sub(r"[^a-z0-9]+", " ", s)
    key = " ".join(w for w in s.split() if w not in _DROP_WORDS)
    return FORCE_NAME_ALIASES.get(key, key)


# --------------------------------------------------------------------------- population


_POP_LAYOUTS = (
    # (name column, population column, description)
    ("Force", "Population", "House of Commons Library SN00634 (police-population), ONS mid-year estimate"),
    ("PFA16NM", "Ethnic Group: All categories: Ethnic group; measures: Value", "ONS Census 2011 usual residents"),
)


def _read_one_population(path: Path) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputFileError(str(path), "the file is empty", "give the population CSV with its header") from None
    except FileNotFoundError:
        raise InputFileError(str(path), "no such file", "check data.population in the config") from None
    except (OSError, UnicodeError, csv.Error, ValueError, EOFError, pd.errors.ParserError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise InputFileError(str(path), f"cannot be read as a UTF-8 CSV ({reason})", "give a CSV file") from None
    for name_col, pop_col, _desc in _POP_LAYOUTS:
        if name_col in raw.columns and pop_col in raw.columns:
            break
    else:
        expected = " or ".join(f"'{n}' + '{p}'" for n, p, _ in _POP_LAYOUTS)
        raise InputFileError(
            str(path),
            f"has none of the known column pairs {expected} (columns: {', '.join(raw.columns[:6])})",
            "give police-population_2020.csv or force-demographics_census2011_pfa16.csv, or rename the columns",
            line=1,
        )
    pop = pd.to_numeric(raw[pop_col].str.replace(",", "", regex=False), errors="coerce")
    bad = np.flatnonzero(~(pop > 0))
    if len(bad):
        i = int(bad[0])
        raise InputFileError(
            str(path),
            f"{pop_col} {raw[pop_col].iloc[i]!r} for {raw[name_col].iloc[i]!r} is not a positive number",
            "correct the cell or remove the row",
            line=i + 2,
        )
    keys = raw[name_col].map(force_key)
    unknown = np.flatnonzero(~keys.isin(POLICE_UK_FORCES))
    if len(unknown):
        i = int(unknown[0])
        raise InputFileError(
            str(path),
            f"force name {raw[name_col].iloc[i]!r} matches no police.uk force (normalised to {keys.iloc[i]!r})",
            "correct the name, remove a total row, or add the spelling to hotspots.comparators.FORCE_NAME_ALIASES",
            line=i + 2,
        )
    dup = keys.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputFileError(
            str(path),
            f"force {raw[name_col].iloc[i]!r} appears twice",
            "keep one row per force",
            line=i + 2,
        )
    return pd.DataFrame(
        {
            "force": keys.map(POLICE_UK_FORCES),
            "population_name": raw[name_col],
            "population": pop.astype("float64"),
            "population_source": f"{path.name}: {_desc}",
        }
    )


def read_population(path: str | os.PathLike, *, fill_from: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read resident population per police force, keyed by police.uk force names.

    Two layouts are recognised: the House of Commons Library table
    (``Force``, ``Population``; ``data/population/police-population_2020.csv``,
    42 forces, ONS mid-2018 estimates, no City of London) and the Census 2011
    aggregation (``PFA16NM`` + the all-residents count;
    ``force-demographics_census2011_pfa16.csv``, 43 police force areas).
    Names are matched with :func:`force_key` (see :data:`FORCE_NAME_ALIASES`);
    a name that matches no police.uk force is an error rather than a silent gap.

    British Transport Police has no resident population and police.uk's
    Police Service of Northern Ireland is in neither file: they are absent
    here, so their rates are NaN in :func:`force_month_table`.

    Parameters
    ----------
    path : path
        The main population file.
    fill_from : path, optional
        A second file used only for forces missing from ``path`` (give the
        Census 2011 file to add City of London's 7,375 residents; its year is
        recorded in ``population_source``).

    Returns
    -------
    pandas.DataFrame
        One row per force: ``force`` (police.uk "Falls within" name),
        ``population_name`` (the name in the file), ``population`` (persons,
        float), ``population_source`` (file and what the figure is).

    Raises
    ------
    InputFileError
        If a file has neither layout, a population is not a positive number,
        a name matches no force, or a force appears twice.

    Examples
    --------
    >>> pop = read_population("data/population/police-population_2020.csv",
    ...                       fill_from="data/population/force-demographics_census2011_pfa16.csv")
    >>> len(pop)
    43
    >>> row = pop.set_index("force").loc["Avon and Somerset Constabulary"]
    >>> row["population_name"], int(row["population"])
    ('Avon & Somerset', 1711500)
    >>> int(pop.set_index("force").loc["City of London Police", "population"])
    7375
    """
    out = _read_one_population(Path(path))
    if fill_from is not None:
        extra = _read_one_population(Path(fill_from))
        out = pd.concat([out, extra[~extra["force"].isin(out["force"])]], ignore_index=True)
    return out.sort_values("force", ignore_index=True)


# --------------------------------------------------------------------------- force x month table

_TABLE_COLUMNS = (
    "force",
    "month",
    "rows",
    "vawg_rows",
    "no_coordinates_rows",
    "located_rows",
    "stacked_rows",
    "population",
    "rows_per_1000",
    "vawg_per_1000",
    "no_coordinates_share",
    "vawg_share",
    "stacked_share",
)
_EVENT_COLUMNS = ("force", "month", "crime_type")
_I_MONTH = 1  # positions in the police.uk header (read_police_uk checks the header)
_I_FORCE = 3
_I_TYPE = 9
_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")


def _events_frame(events) -> pd.DataFrame:
    """The columns needed from a pyarrow Table or pandas DataFrame of events, as pandas."""
    cols = [*_EVENT_COLUMNS, "snap_point_id", "source_file"]
    if hasattr(events, "column_names") and not isinstance(events, pd.DataFrame):  # pyarrow
        have = [c for c in cols if c in events.column_names]
        df = events.select(have).to_pandas()
    elif isinstance(events, pd.DataFrame):
        have = [c for c in cols if c in events.columns]
        df = events[have].copy()
    else:
        raise ParameterError(
            f"results_or_events: expected an IngestResult, a list of them, or an events table; "
            f"got {type(events).__name__}; pass read_police_uk(...) or its .events"
        )
    missing = [c for c in _EVENT_COLUMNS if c not in df.columns]
    if missing:
        raise ParameterError(
            f"results_or_events: events lack column(s) {', '.join(missing)}; pass events from read_police_uk"
        )
    for c in ("force", "crime_type", "source_file"):  # categorical: cheap groupby, no string per row
        if c in df.columns and not isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(str).astype("category")
        elif c in df.columns:
            df[c] = df[c].cat.rename_categories(lambda v: str(v))
    if not (isinstance(df["month"].dtype, pd.PeriodDtype) and df["month"].dtype == pd.PeriodDtype("M")):
        df["month"] = pd.PeriodIndex(df["month"].astype(str), freq="M")
    return df


def _no_coordinate_rows(quarantine, events: pd.DataFrame) -> pd.DataFrame:
    """Force, month and crime type of the rows quarantined as ``no_coordinates``.

    They are parsed from the quarantined line itself; a line that cannot be
    parsed takes its file's force and month (from that file's accepted events).
    """
    q = quarantine.to_pandas() if not isinstance(quarantine, pd.DataFrame) else quarantine
    missing = [c for c in ("file", "line", "reason") if c not in q.columns]
    if missing:
        raise ParameterError(
            f"quarantine table lacks column(s) {', '.join(missing)}; pass the IngestResult from read_police_uk"
        )
    q = q[q["reason"].astype(str) == "no_coordinates"]
    if q.empty:
        return pd.DataFrame({"force": [], "month": pd.PeriodIndex([], freq="M"), "crime_type": []})
    raws = q["raw"].astype(str).tolist() if "raw" in q.columns else [""] * len(q)
    forces, months, types = [], [], []
    for fields in csv.reader(raws):
        ok = len(fields) > _I_TYPE and _MONTH_RE.match(fields[_I_MONTH].strip())
        forces.append(fields[_I_FORCE].strip() if ok else None)
        months.append(fields[_I_MONTH].strip() if ok else None)
        types.append(fields[_I_TYPE].strip() if ok else "")
    out = pd.DataFrame({"force": forces, "month": months, "crime_type": types, "file": q["file"].astype(str).values})
    need = out["force"].isna()
    if need.any():
        if "source_file" not in events.columns:
            raise ParameterError(
                "quarantined no_coordinates lines cannot be parsed and events have no source_file; "
                "pass the IngestResult from read_police_uk unchanged"
            )
        per_file = events.groupby("source_file", observed=True)[["force", "month"]].first()
        out.loc[need, "force"] = out.loc[need, "file"].map(per_file["force"])
        out.loc[need, "month"] = out.loc[need, "file"].map(per_file["month"].astype(str))
        lost = out["force"].isna()
        if lost.any():
            raise ParameterError(
                f"{int(lost.sum())} no_coordinates rows of file {out.loc[lost, 'file'].iloc[0]} cannot be given a "
                "force: the lines do not parse and the file has no accepted events; check the file"
            )
    out["month"] = pd.PeriodIndex(out["month"], freq="M")
    return out.drop(columns="file")


def _population_series(population) -> pd.Series:
    """Population keyed by :func:`force_key`."""
    if population is None:
        return pd.Series(dtype="float64")
    if isinstance(population, pd.DataFrame):
        if not {"force", "population"} <= set(population.columns):
            raise ParameterError(
                "population: a DataFrame needs columns 'force' and 'population'; use read_population(path)"
            )
        pairs: Iterable[tuple] = zip(population["force"], population["population"], strict=True)
    elif isinstance(population, Mapping | pd.Series):
        pairs = population.items()
    else:
        raise ParameterError(
            f"population: expected read_population(...)'s DataFrame or a mapping force -> persons; "
            f"got {type(population).__name__}"
        )
    s = pd.Series({force_key(k): float(v) for k, v in pairs}, dtype="float64")
    if (s <= 0).any():
        raise ParameterError(f"population: {s[s <= 0].index[0]!r} has a population <= 0; give persons (> 0)")
    return s


def force_month_table(
    results_or_events,
    *,
    crime_types: Sequence[str] = ("Violence and sexual offences", "Public order"),
    population=None,
    stack_min_events: int = 10,
) -> pd.DataFrame:
    """Publication indicators per force and month from police.uk street-level data.

    Parameters
    ----------
    results_or_events : IngestResult, list of IngestResult, or events table
        Output of :func:`hotspots.ingest.police_uk.read_police_uk` (preferred:
        its quarantine gives the rows without coordinates), or its ``events``
        (a pyarrow Table or pandas DataFrame with ``force``, ``month``,
        ``crime_type`` and, for stacking, ``snap_point_id``). With events only,
        rows without coordinates are unknown and their columns are NaN.
    crime_types : sequence of str, default ("Violence and sexual offences", "Public order")
        police.uk categories counted as VAWG-relevant (police.uk has no victim
        sex; Public order is only partly VAWG; see DOMAIN.md section 3).
    population : DataFrame or mapping, optional
        :func:`read_population`'s frame, or force name -> persons. Names are
        matched with :func:`force_key`. Forces without a population (British
        Transport Police) get NaN rates.
    stack_min_events : int, default 10
        A map point "stacks" when it holds at least this many of the force's
        located rows in the month.

    Returns
    -------
    pandas.DataFrame
        One row per force and month, sorted: ``force``, ``month`` (period[M]),
        ``rows`` (published rows = located + no coordinates), ``vawg_rows``
        (rows in ``crime_types``, located or not), ``no_coordinates_rows``,
        ``located_rows``, ``stacked_rows`` (located rows at stacking points),
        ``population``, ``rows_per_1000`` and ``vawg_per_1000`` (per 1,000
        residents, for that month), ``no_coordinates_share`` (of ``rows``),
        ``vawg_share`` (``vawg_rows / rows``), ``stacked_share`` (of
        ``located_rows``). ``attrs["crime_types"]`` and
        ``attrs["stack_min_events"]`` echo the definitions.

    Raises
    ------
    ParameterError
        If the input is not police.uk events, ``crime_types`` is empty or
        ``stack_min_events`` < 2.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "force": ["A Police"] * 4 + ["B Police"] * 2,
    ...     "month": ["2024-01"] * 6,
    ...     "crime_type": ["Violence and sexual offences", "Public order", "Burglary", "Burglary",
    ...                    "Violence and sexual offences", "Shoplifting"],
    ...     "snap_point_id": [1, 1, 1, 2, 3, 4]})
    >>> t = force_month_table(ev, population={"A Police": 2000, "B Police": 1000}, stack_min_events=3)
    >>> t[["force", "rows", "vawg_rows", "vawg_per_1000", "vawg_share", "stacked_share"]]
          force  rows  vawg_rows  vawg_per_1000  vawg_share  stacked_share
    0  A Police     4          2            1.0         0.5           0.75
    1  B Police     2          1            1.0         0.5           0.00
    """
    crime_types = tuple(crime_types)
    if not crime_types or not all(isinstance(c, str) for c in crime_types):
        raise ParameterError(
            f"crime_types: expected police.uk category names; got {crime_types!r}; "
            "e.g. ('Violence and sexual offences', 'Public order')"
        )
    if int(stack_min_events) != stack_min_events or stack_min_events < 2:
        raise ParameterError(f"stack_min_events: expected an integer >= 2; got {stack_min_events!r}")

    results = results_or_events
    if hasattr(results, "events") and hasattr(results, "quarantine"):
        results = [results]
    if isinstance(results, list | tuple) and results and all(hasattr(r, "quarantine") for r in results):
        parts = [_events_frame(r.events) for r in results]
        ev = pd.concat(parts, ignore_index=True)
        for c in ("force", "crime_type", "source_file"):  # concat of differing categories gives object
            if c in ev.columns:
                ev[c] = ev[c].astype(str).astype("category")
        nc = pd.concat([_no_coordinate_rows(r.quarantine, p) for r, p in zip(results, parts, strict=True)])
    else:
        ev = _events_frame(results)
        nc = None

    vawg = set(crime_types)
    ev = ev.assign(_vawg=ev["crime_type"].isin(vawg))
    keys = ["force", "month"]
    g = ev.groupby(keys, observed=True)
    table = pd.DataFrame({"located_rows": g.size(), "located_vawg": g["_vawg"].sum()})
    if "snap_point_id" in ev.columns:
        per_point = ev.groupby([*keys, "snap_point_id"], observed=True).size()
        stacked = per_point[per_point >= stack_min_events].groupby(level=keys, observed=True).sum()
        table["stacked_rows"] = stacked.reindex(table.index, fill_value=0)
    else:
        table["stacked_rows"] = np.nan
    table = table.reset_index()
    table["force"] = table["force"].astype(str)
    table = table.set_index(keys)
    if nc is not None:
        nc = nc.assign(_vawg=nc["crime_type"].isin(vawg), force=nc["force"].astype(str))
        gn = nc.groupby(keys, observed=True)
        nc_table = pd.DataFrame({"no_coordinates_rows": gn.size(), "nc_vawg": gn["_vawg"].sum()})
        table = table.join(nc_table, how="outer")
        table[["located_rows", "located_vawg", "no_coordinates_rows", "nc_vawg"]] = table[
            ["located_rows", "located_vawg", "no_coordinates_rows", "nc_vawg"]
        ].fillna(0)
        table["stacked_rows"] = table["stacked_rows"].fillna(0) if "snap_point_id" in ev.columns else np.nan
        table["rows"] = table["located_rows"] + table["no_coordinates_rows"]
        table["vawg_rows"] = table["located_vawg"] + table["nc_vawg"]
    else:
        table["no_coordinates_rows"] = np.nan
        table["rows"] = table["located_rows"]
        table["vawg_rows"] = table["located_vawg"]
    table = table.reset_index()
    pop = _population_series(population)
    table["population"] = table["force"].map(force_key).map(pop).astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        table["rows_per_1000"] = table["rows"] / table["population"] * 1000.0
        table["vawg_per_1000"] = table["vawg_rows"] / table["population"] * 1000.0
        table["no_coordinates_share"] = table["no_coordinates_rows"] / table["rows"]
        table["vawg_share"] = table["vawg_rows"] / table["rows"]
        table["stacked_share"] = table["stacked_rows"] / table["located_rows"].where(table["located_rows"] > 0)
    for c in ("rows", "vawg_rows", "located_rows"):
        table[c] = table[c].astype("int64")
    for c in ("no_coordinates_rows", "stacked_rows"):
        if table[c].notna().all():
            table[c] = table[c].astype("int64")
    out = table[list(_TABLE_COLUMNS)].sort_values(keys, ignore_index=True)
    out.attrs = {"crime_types": list(crime_types), "stack_min_events": int(stack_min_events)}
    return out


# --------------------------------------------------------------------------- comparison

#: Indicator -> (direction of concern, phrase used in flags). Direction None: context only, never flagged.
INDICATORS: dict[str, tuple[str | None, str]] = {
    "vawg_per_1000": ("low", "VAWG-relevant crimes per 1,000 residents"),
    "rows_per_1000": ("low", "crimes per 1,000 residents"),
    "no_coordinates_share": ("high", "share of crimes without coordinates"),
    "stacked_share": ("high", "share of crimes stacked on map points holding >= {k} crimes"),
    "vawg_share": (None, "share of crimes in VAWG-relevant categories"),
}
_MAD_SCALE = 1.4826  # MAD -> standard deviation for normal data


def _position(value: float, others: np.ndarray) -> dict:
    """Median, percentile rank, robust z and counts of ``value`` among ``others`` (NaNs dropped)."""
    o = others[np.isfinite(others)]
    n = len(o)
    if n == 0 or not np.isfinite(value):
        return {"n": n, "median": np.nan, "percentile": np.nan, "robust_z": np.nan, "above": np.nan, "below": np.nan}
    med = float(np.median(o))
    mad = float(np.median(np.abs(o - med))) * _MAD_SCALE
    below = float(np.mean(o < value))
    above = float(np.mean(o > value))
    return {
        "n": n,
        "median": med,
        "percentile": 100.0 * (below + 0.5 * (1.0 - below - above)),
        "robust_z": (value - med) / mad if mad > 0 else np.nan,
        "above": above,
        "below": below,
    }


@dataclass(frozen=True)
class ForceComparison:
    """Where one force stands among all forces and among its comparators.

    Attributes
    ----------
    force : str
        The force compared.
    month : str
        The month (``YYYY-MM``).
    comparators : tuple of str
        Forces in the comparator set present in the table that month.
    comparator_rule : str
        How the set was chosen (echo it in the profile).
    indicators : pandas.DataFrame
        One row per indicator (index): ``value``, ``concern`` ("low"/"high"/None),
        ``national_n``, ``national_median``, ``national_percentile``,
        ``national_robust_z``, and the same four for ``comparator_``; plus
        ``comparators_above`` / ``comparators_below`` (shares of comparators
        with a higher / lower value).
    flags : tuple of str
        Sentences for indicators in the direction of concern beyond ``flag_share``.
    finding : str
        One sentence for the profile's intelligence-gaps section.
    parameters : dict
        ``flag_share``, ``min_comparators``, ``population_band``, ``exclude``
        and the table's definitions (``crime_types``, ``stack_min_events``).
    """

    force: str
    month: str
    comparators: tuple[str, ...]
    comparator_rule: str
    indicators: pd.DataFrame = field(repr=False)
    flags: tuple[str, ...]
    finding: str
    parameters: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain-Python form (JSON-ready; NaN becomes None).

        Examples
        --------
        >>> import pandas as pd
        >>> t = pd.DataFrame({"force": list("ABCD"), "month": ["2024-01"] * 4, "population": [1e6] * 4,
        ...                   "vawg_per_1000": [1.0, 2.0, 2.1, 2.2]})
        >>> d = compare_force(t, force="A", min_comparators=3).to_dict()
        >>> d["indicators"]["vawg_per_1000"]["comparator_percentile"], d["flags"][0][:40]
        (0.0, 'publishes fewer VAWG-relevant crimes per')
        """

        def clean(v):
            if isinstance(v, float | np.floating):
                return None if not np.isfinite(v) else float(v)
            if isinstance(v, np.integer):
                return int(v)
            return v

        return {
            "force": self.force,
            "month": self.month,
            "comparators": list(self.comparators),
            "comparator_rule": self.comparator_rule,
            "indicators": {
                ind: {k: clean(v) for k, v in row.items()} for ind, row in self.indicators.to_dict("index").items()
            },
            "flags": list(self.flags),
            "finding": self.finding,
            "parameters": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.parameters.items()},
        }


def compare_force(
    table: pd.DataFrame,
    *,
    force: str,
    month: str | None = None,
    comparators: Sequence[str] | None = None,
    population_band: float = 0.5,
    flag_share: float = 0.75,
    min_comparators: int = 5,
    exclude: Sequence[str] = ("British Transport Police",),
) -> ForceComparison:
    """Place one force among all forces and among comparable forces, indicator by indicator.

    For each indicator of :data:`INDICATORS` present in ``table`` the force's
    value is compared with (a) every other force in the month ("national")
    and (b) a comparator set. Statistics are over the *other* forces with a
    finite value (the force itself is left out, so it cannot pull the
    reference towards itself): the median; the percentile rank (percentage
    of the others below the force's value, ties counting half); and the
    robust z-score ``(value - median) / (1.4826 * MAD)`` (NaN when MAD is 0).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`force_month_table` output (or any frame with ``force``,
        ``month`` and some indicator columns).
    force : str
        The force, in any spelling :func:`force_key` matches
        ("Avon and Somerset Constabulary", "Avon & Somerset").
    month : str, optional
        ``YYYY-MM``. Required when ``table`` holds more than one month.
    comparators : sequence of str, optional
        The comparator forces, e.g. the HMICFRS most-similar group. By default,
        forces whose population is within ``population_band`` of the force's
        (+-50%: for Avon and Somerset, 1,711,500 -> 0.86-2.57 million).
    population_band : float, default 0.5
        Relative population band of the default comparator set.
    flag_share : float, default 0.75
        An indicator is flagged when at least this share of the comparators
        is on the safe side of the force (e.g. publishes *more* per 1,000).
    min_comparators : int, default 5
        No flags (and a finding that says so) with fewer comparators holding a value.
    exclude : sequence of str, default ("British Transport Police",)
        Forces left out of both reference sets (BTP polices the railways,
        not an area).

    Returns
    -------
    ForceComparison

    Raises
    ------
    ParameterError
        If the force or month is not in the table, several months are present
        and ``month`` is not given, the default comparator set is asked for
        without a population, or an option is out of range.

    References
    ----------
    .. [1] Leys, C. et al. (2013). Detecting outliers: do not use standard
       deviation around the mean, use absolute deviation around the median.
       Journal of Experimental Social Psychology 49(4), 764-766.

    Examples
    --------
    Three forces of one million residents; A publishes half as much VAWG:

    >>> import pandas as pd
    >>> t = pd.DataFrame({"force": ["A Police", "B Police", "C Police"], "month": ["2024-01"] * 3,
    ...                   "population": [1e6, 1e6, 1.2e6], "vawg_per_1000": [1.0, 2.0, 2.4]})
    >>> r = compare_force(t, force="A Police", min_comparators=2)
    >>> r.indicators.loc["vawg_per_1000", ["value", "comparator_median", "comparator_percentile"]].tolist()
    [1.0, 2.2, 0.0]
    >>> r.flags
    ('publishes fewer VAWG-relevant crimes per 1,000 residents than 100% of comparators (1 vs median 2.2)',)
    """
    for c in ("force", "month"):
        if c not in table.columns:
            raise ParameterError(f"table: missing column {c!r}; build it with force_month_table(...)")
    if not 0.5 <= flag_share <= 1.0:
        raise ParameterError(f"flag_share: expected a share in [0.5, 1]; got {flag_share!r}")
    if not population_band > 0:
        raise ParameterError(f"population_band: expected a relative band > 0 (0.5 = +-50%); got {population_band!r}")
    if min_comparators < 1:
        raise ParameterError(f"min_comparators: expected >= 1; got {min_comparators!r}")

    months = pd.Index(table["month"].astype(str).unique())
    if month is None:
        if len(months) != 1:
            raise ParameterError(
                f"month: the table holds {len(months)} months ({', '.join(sorted(months)[:4])}...); "
                "pass month='YYYY-MM'"
            )
        month = months[0]
    month = str(month)
    t = table[table["month"].astype(str) == month]
    if t.empty:
        raise ParameterError(f"month: {month!r} is not in the table (months: {', '.join(sorted(months))})")
    keys = t["force"].map(force_key)
    me = keys == force_key(force)
    if not me.any():
        raise ParameterError(
            f"force: {force!r} has no row for {month} (forces: {', '.join(sorted(t['force'])[:5])}...); "
            "check the spelling or the month"
        )
    row = t[me].iloc[0]
    name = str(row["force"])
    excluded = {force_key(e) for e in exclude}
    others = t[~me & ~keys.isin(excluded)]
    okeys = others["force"].map(force_key)

    if comparators is not None:
        wanted = {force_key(c) for c in comparators}
        comp = others[okeys.isin(wanted)]
        rule = f"given list of {len(wanted)} forces ({', '.join(sorted(comparators))})"
    else:
        if "population" not in t.columns or not np.isfinite(row["population"]):
            raise ParameterError(
                f"comparators: the default set needs {name}'s population; build the table with "
                "population=read_population(...) or pass comparators=[...]"
            )
        p = float(row["population"])
        lo, hi = p * (1 - population_band), p * (1 + population_band)
        comp = others[(others["population"] >= lo) & (others["population"] <= hi)]
        rule = f"forces with population within +-{population_band:.0%} of {name}'s {p:,.0f} ({lo:,.0f}-{hi:,.0f})"

    k_stack = table.attrs.get("stack_min_events", 10)
    records = {}
    flags = []
    for ind, (concern, phrase) in INDICATORS.items():
        if ind not in t.columns:
            continue
        value = float(row[ind])
        nat = _position(value, others[ind].to_numpy(dtype=float))
        cmp_ = _position(value, comp[ind].to_numpy(dtype=float))
        records[ind] = {
            "value": value,
            "concern": concern,
            **{f"national_{k}": nat[k] for k in ("n", "median", "percentile", "robust_z")},
            **{f"comparator_{k}": cmp_[k] for k in ("n", "median", "percentile", "robust_z")},
            "comparators_above": cmp_["above"],
            "comparators_below": cmp_["below"],
        }
        if concern is None or cmp_["n"] < min_comparators or not np.isfinite(value):
            continue
        text = phrase.format(k=k_stack)
        if concern == "low" and cmp_["above"] >= flag_share:
            flags.append(
                f"publishes fewer {text} than {cmp_['above']:.0%} of comparators "
                f"({value:.3g} vs median {cmp_['median']:.3g})"
            )
        elif concern == "high" and cmp_["below"] >= flag_share:
            flags.append(
                f"has a higher {text} than {cmp_['below']:.0%} of comparators "
                f"({value:.1%} vs median {cmp_['median']:.1%})"
            )
    ind_frame = pd.DataFrame.from_dict(records, orient="index")
    n_comp = len(comp)
    if not records:
        finding = f"{name}, {month}: the table has no indicator columns to compare."
    elif n_comp < min_comparators:
        finding = (
            f"{name}, {month}: only {n_comp} comparator force(s) published that month, fewer than "
            f"{min_comparators}, so under-publication cannot be judged."
        )
    elif flags:
        finding = f"{name}, {month}: publication concerns against {n_comp} comparators: {'; '.join(flags)}."
    else:
        finding = (
            f"{name}, {month}: no sign of under-publication against {n_comp} comparators "
            f"(no indicator beyond {flag_share:.0%} of them in the direction of concern)."
        )
    return ForceComparison(
        force=name,
        month=month,
        comparators=tuple(sorted(comp["force"].astype(str))),
        comparator_rule=rule,
        indicators=ind_frame,
        flags=tuple(flags),
        finding=finding,
        parameters={
            "flag_share": flag_share,
            "min_comparators": min_comparators,
            "population_band": population_band if comparators is None else None,
            "exclude": tuple(exclude),
            "crime_types": table.attrs.get("crime_types"),
            "stack_min_events": table.attrs.get("stack_min_events"),
        },
    )
