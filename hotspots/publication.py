"""police.uk publication indicators per force and month: the table forces are compared on.

An intelligence gap the force problem profile must state is *under-publication*:
a force that publishes fewer VAWG-relevant crimes per head than comparable
forces, or leaves more of them without a location, gives a thinner picture
than its peers. This module builds a force x month table of publication
indicators from police.uk street-level files; :mod:`hotspots.comparators`
places one force among all forces and among a comparator set.

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
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from hotspots.errors import ParameterError
from hotspots.forces import force_key

__all__ = ["force_month_table"]

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
    codes, uniques = pd.factorize(out["month"])  # a few distinct months: parse each once
    out["month"] = pd.PeriodIndex(uniques, freq="M").take(codes)
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
        for c in ("force", "crime_type", "source_file"):  # one sorted category set: concat keeps the categorical
            if all(c in p.columns for p in parts):
                cats = pd.Index(sorted(set().union(*(p[c].cat.categories for p in parts))), dtype=object)
                parts = [p.assign(**{c: p[c].cat.set_categories(cats)}) for p in parts]
        ev = pd.concat(parts, ignore_index=True)
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

