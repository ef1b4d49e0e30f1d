"""Read resident population per police force (House of Commons Library table or Census 2011 by force area)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots.errors import InputFileError
from hotspots.forces import POLICE_UK_FORCES, force_key

__all__ = ["read_population"]


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
            "correct the name, remove a total row, or add the spelling to hotspots.forces.FORCE_NAME_ALIASES",
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

