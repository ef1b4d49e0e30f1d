"""Read the English indices of deprivation 2019 (IMD, File 1; File 6 population denominators).

One row per English LSOA, 2011 codes: the codes police.uk gave each crime in
``LSOA code`` before mid-2023 (:func:`hotspots.lsoa.lsoa_crosswalk` maps the
2021 codes it uses since). IMD decile 1 is the 10% most deprived LSOAs in
England and rank 1 the most deprived LSOA. The index covers England only.

References
----------
Ministry of Housing, Communities and Local Government (2019). The English
Indices of Deprivation 2019: technical report and File 1 (index of multiple
deprivation). https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019
"""

from __future__ import annotations

import csv
import os
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots.errors import InputFileError

__all__ = ["IMD_HEADERS", "read_imd"]

_IMD_URL = "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019"
# output column -> header prefix in File 1 (File 7 adds "(where 1 is most deprived...)" suffixes)
IMD_HEADERS = {
    "lsoa_code": "LSOA code (2011)",
    "lsoa_name": "LSOA name (2011)",
    "la_code": "Local Authority District code (2019)",
    "la_name": "Local Authority District name (2019)",
    "imd_rank": "Index of Multiple Deprivation (IMD) Rank",
    "imd_decile": "Index of Multiple Deprivation (IMD) Decile",
}
_POP_HEADER = "Total population: mid 2015"


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
    cols = _find_columns(df, IMD_HEADERS)
    missing = [h for k, h in IMD_HEADERS.items() if k not in cols]
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
    cols = _find_columns(df, {"lsoa_code": IMD_HEADERS["lsoa_code"], "population": _POP_HEADER})
    if len(cols) < 2:
        raise InputFileError(
            str(path), f"no columns {IMD_HEADERS['lsoa_code']!r} and {_POP_HEADER + ' ...'!r}",
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

