"""Harm weights: one named, versioned index per profile, never mixed.

Two indices ship as TOML tables in ``configs/harm/``:

``cambridge_chi``
    Cambridge Crime Harm Index: days of imprisonment at the sentencing starting
    point for a first offender (Sherman, Neyroud & Neyroud 2016).
``ons_css``
    ONS Crime Severity Score: custody-day-equivalent weights from average
    sentences (ONS 2016).

They rank places and offences differently (Ashby 2017), so a profile names the
one index it used (:attr:`HarmIndex.label`, echoed into outputs) and the
functions here refuse to combine weights from two indices or two versions.

Each weight carries flags from its table: ``verified`` (the value was checked
against the published source), ``approximate`` (e.g. a subgroup median standing
in for a per-code value) and ``placeholder`` (no published value was found; the
number is not a severity). Placeholder weights are refused unless the caller
passes ``allow_placeholders=True``, and are then marked in the output.

References
----------
Sherman, L., Neyroud, P. and Neyroud, E. (2016). The Cambridge Crime Harm Index:
measuring total harm from crime based on sentencing guidelines. Policing 10(3), 171-183.

Office for National Statistics (2016). Research outputs: developing a Crime Severity
Score for England and Wales using data on crimes recorded by the police.

Ashby, M. P. J. (2018). Comparing methods for measuring crime harm/severity.
Policing 12(4), 439-454.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from hotspots.errors import ConfigError, ParameterError
from hotspots.offences import CONFIGS_DIR, normalise_codes

__all__ = [
    "HARM_INDEX_NAMES",
    "HarmIndex",
    "assign_harm",
    "check_single_index",
    "harm_total",
    "harm_weights",
    "has_harm_weight",
    "load_harm_index",
]

HARM_INDEX_NAMES = ("cambridge_chi", "ons_css")
HARM_DIR = CONFIGS_DIR / "harm"
_TOP_REQUIRED = ("name", "version", "source", "date", "units", "weights")
_TOP_OPTIONAL = ("url", "police_uk")
_ENTRY_REQUIRED = ("weight", "verified", "approximate", "basis")
_ENTRY_OPTIONAL = ("placeholder", "note", "description")


@dataclass(frozen=True, kw_only=True)
class HarmIndex:
    """A loaded harm index.

    Attributes
    ----------
    name : str
        ``"cambridge_chi"`` or ``"ons_css"``.
    version, source, url, date, units : str
        Echoed into outputs; ``units`` says what one unit of weight means.
    weights : Mapping[str, float]
        Normalised offence code (or police.uk crime type, normalised the same way) -> weight.
        Read-only.
    approximate, unverified, placeholders : frozenset of str
        Keys of ``weights`` carrying each flag.
    source_file : Path
    """

    name: str
    version: str
    source: str
    url: str
    date: str
    units: str
    weights: Mapping[str, float] = field(repr=False)
    approximate: frozenset = field(repr=False)
    unverified: frozenset = field(repr=False)
    placeholders: frozenset = field(repr=False)
    source_file: Path

    @property
    def label(self) -> str:
        """``name@version``: the value written to the ``harm_index`` column."""
        return f"{self.name}@{self.version}"


def load_harm_index(name_or_path) -> HarmIndex:
    """Load a harm index by name (``"cambridge_chi"``, ``"ons_css"``) or from a TOML path.

    Parameters
    ----------
    name_or_path : str or path
        A bundled index name, or a TOML file with the same layout as ``configs/harm/*.toml``.

    Returns
    -------
    HarmIndex

    Raises
    ------
    ConfigError
        Naming the file and the entry: unknown name, missing file, invalid TOML,
        missing or unknown keys, a non-positive or non-finite weight, a duplicate code
        after normalisation, or a file whose ``name`` differs from the name asked for.

    Examples
    --------
    >>> css = load_harm_index("ons_css")
    >>> css.label, css.weights["2"], "2" in css.unverified
    ('ons_css@ons-css-2016.1-partial', 4663.0, False)
    >>> load_harm_index("cambridge_chi").units
    'days of imprisonment (Sentencing Council starting point, first offender)'
    """
    asked = None
    if isinstance(name_or_path, str) and name_or_path in HARM_INDEX_NAMES:
        asked = name_or_path
        path = HARM_DIR / f"{name_or_path}.toml"
    else:
        path = Path(name_or_path)
        if not path.suffix and not path.exists():
            raise ConfigError(
                f"harm index {str(name_or_path)!r} is not a bundled index ({', '.join(HARM_INDEX_NAMES)}) "
                "nor an existing file; pass one of those names or a TOML path"
            )
    f = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{f}: harm index file not found; check the path") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{f}: not valid TOML ({exc}); fix the syntax") from None

    for key in raw:
        if key not in _TOP_REQUIRED + _TOP_OPTIONAL:
            raise ConfigError(f"{f}: unknown key '{key}' (known: {', '.join(_TOP_REQUIRED + _TOP_OPTIONAL)})")
    for key in _TOP_REQUIRED:
        if key not in raw:
            raise ConfigError(f"{f}: missing required key '{key}'")
    if asked is not None and raw["name"] != asked:
        raise ConfigError(f"{f}: name is {raw['name']!r} but the file was loaded as {asked!r}; fix 'name'")

    weights: dict[str, float] = {}
    approximate, unverified, placeholders = set(), set(), set()
    for section in ("weights", "police_uk"):
        table = raw.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{f}: [{section}] must be a table of code = {{ weight = ..., ... }}")
        for code, entry in table.items():
            key = _check_entry(code, entry, section, f, weights)
            weights[key] = float(entry["weight"])
            if entry["approximate"]:
                approximate.add(key)
            if not entry["verified"]:
                unverified.add(key)
            if entry.get("placeholder", False):
                placeholders.add(key)
    if not weights:
        raise ConfigError(f"{f}: [weights] is empty; add at least one code")
    return HarmIndex(
        name=str(raw["name"]),
        version=str(raw["version"]),
        source=str(raw["source"]),
        url=str(raw.get("url", "")),
        date=str(raw["date"]),
        units=str(raw["units"]),
        weights=MappingProxyType(weights),
        approximate=frozenset(approximate),
        unverified=frozenset(unverified),
        placeholders=frozenset(placeholders),
        source_file=path,
    )


def _check_entry(code, entry, section: str, f: str, seen: dict) -> str:
    where = f"{f}: [{section}] {code!r}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table like {{ weight = 10.0, verified = false, ... }}")
    for key in entry:
        if key not in _ENTRY_REQUIRED + _ENTRY_OPTIONAL:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(_ENTRY_REQUIRED + _ENTRY_OPTIONAL)})")
    for key in _ENTRY_REQUIRED:
        if key not in entry:
            raise ConfigError(f"{where}: missing required key '{key}'")
    w = entry["weight"]
    if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w <= 0:
        raise ConfigError(f"{where}: weight must be a positive number, got {w!r}")
    for key in ("verified", "approximate", "placeholder"):
        if key in entry and not isinstance(entry[key], bool):
            raise ConfigError(f"{where}: '{key}' must be true or false, got {entry[key]!r}")
    if entry.get("placeholder", False) and entry["verified"]:
        raise ConfigError(f"{where}: a placeholder cannot be verified; set verified = false")
    key = normalise_codes([code])[0]
    if key is None:
        raise ConfigError(f"{where}: empty code")
    if key in seen:
        raise ConfigError(f"{where}: duplicate code {key!r} after normalisation; keep one entry")
    return key


def _lookup(codes, index: HarmIndex) -> tuple[pd.Series, np.ndarray]:
    norm = normalise_codes(codes)
    w = norm.map(index.weights).to_numpy(dtype=float, na_value=np.nan)
    return norm, w


def has_harm_weight(codes, *, index: HarmIndex) -> np.ndarray:
    """Boolean mask: True where ``index`` has a weight for the code.

    Examples
    --------
    >>> has_harm_weight(["19C", "999X", None], index=load_harm_index("cambridge_chi"))
    array([ True, False, False])
    """
    return ~np.isnan(_lookup(codes, index)[1])


def harm_weights(codes, *, index: HarmIndex, allow_placeholders: bool = False) -> np.ndarray:
    """Weight per record from one harm index (vectorised).

    Parameters
    ----------
    codes : array-like of str, length n
        Offence codes (normalised as in :mod:`hotspots.offences`) or police.uk crime types.
    index : HarmIndex
    allow_placeholders : bool, default False
        Accept weights the table marks ``placeholder`` (no published value). Off by
        default so a made-up weight never enters a total silently.

    Returns
    -------
    numpy.ndarray of float, shape (n,)
        In ``index.units``; NaN where the index has no weight (see :func:`has_harm_weight`).

    Raises
    ------
    ParameterError
        A code maps to a placeholder weight and ``allow_placeholders`` is False.

    Examples
    --------
    >>> harm_weights(["2", "02", "8F", "999X"], index=load_harm_index("ons_css"))
    array([4663., 4663.,  333.,   nan])
    """
    norm, w = _lookup(codes, index)
    if not allow_placeholders and index.placeholders:
        hit = norm.isin(index.placeholders).to_numpy()
        if hit.any():
            bad = sorted(set(norm[hit]))
            shown = ", ".join(bad[:8]) + (" ..." if len(bad) > 8 else "")
            raise ParameterError(
                f"{int(hit.sum()):,} records have placeholder weights in {index.label} "
                f"({index.source_file}) for codes {shown}: no published weight was found for them. "
                "Fill in the published weights, use another index, or pass allow_placeholders=True "
                "and report that the harm total uses placeholders"
            )
    return w


def assign_harm(
    frame: pd.DataFrame, *, index: HarmIndex, code_column: str = "offence_code", allow_placeholders: bool = False
) -> pd.DataFrame:
    """A new frame with harm columns from one index (the input is not modified).

    Parameters
    ----------
    frame : pandas.DataFrame
        With a column of offence codes or police.uk crime types.
    index : HarmIndex
    code_column : str, default "offence_code"
    allow_placeholders : bool, default False
        See :func:`harm_weights`.

    Returns
    -------
    pandas.DataFrame
        ``frame`` plus ``harm_weight`` (float, NaN if unknown), ``harm_index``
        (:attr:`HarmIndex.label`), ``harm_verified`` and ``harm_placeholder`` (bool).

    Raises
    ------
    ParameterError
        ``code_column`` is missing, or the frame already carries weights from another index.

    Examples
    --------
    >>> css = load_harm_index("ons_css")
    >>> df = assign_harm(pd.DataFrame({"offence_code": ["2", "8G"]}), index=css)
    >>> df[["harm_weight", "harm_index", "harm_verified"]]
       harm_weight                      harm_index  harm_verified
    0       4663.0  ons_css@ons-css-2016.1-partial           True
    1        184.0  ons_css@ons-css-2016.1-partial           True
    """
    if code_column not in frame.columns:
        raise ParameterError(
            f"code_column {code_column!r} is not a column of the frame (columns: {', '.join(map(str, frame.columns))})"
        )
    if "harm_index" in frame.columns:
        check_single_index([index.label, *pd.unique(frame["harm_index"].dropna())])
    codes = frame[code_column]
    w = harm_weights(codes, index=index, allow_placeholders=allow_placeholders)
    norm = normalise_codes(codes)
    known = ~np.isnan(w)
    return frame.assign(
        harm_weight=w,
        harm_index=index.label,
        harm_verified=known & ~norm.isin(index.unverified).to_numpy(),
        harm_placeholder=norm.isin(index.placeholders).to_numpy(),
    )


def check_single_index(indices: Iterable) -> str:
    """The one index label shared by ``indices``; raise if they name more than one.

    Parameters
    ----------
    indices : iterable of HarmIndex or str
        Indices or ``harm_index`` labels (``name@version``).

    Returns
    -------
    str
        The single label.

    Raises
    ------
    ParameterError
        No index given, or two different names or versions.

    Examples
    --------
    >>> chi = load_harm_index("cambridge_chi")
    >>> check_single_index([chi, chi.label])
    'cambridge_chi@cambridge-chi-2026.1-subgroup-medians'
    >>> check_single_index([chi, load_harm_index("ons_css")])
    Traceback (most recent call last):
    ...
    hotspots.errors.ParameterError: harm weights from different indices cannot be combined: ...
    """
    labels = sorted({i.label if isinstance(i, HarmIndex) else str(i) for i in indices})
    if not labels:
        raise ParameterError("no harm index given; name the one index the profile uses")
    if len(labels) > 1:
        raise ParameterError(
            f"harm weights from different indices cannot be combined: {', '.join(labels)}. "
            "Recompute every weight with one index (assign_harm) and name it in the profile"
        )
    return labels[0]


def harm_total(frame: pd.DataFrame, *, index: HarmIndex, weight_column: str = "harm_weight") -> float:
    """Total harm of a frame whose weights all come from ``index``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`assign_harm` (possibly filtered or concatenated).
    index : HarmIndex
        The index the caller believes was used; checked against the ``harm_index`` column.
    weight_column : str, default "harm_weight"

    Returns
    -------
    float
        Sum of the weights, in ``index.units``.

    Raises
    ------
    ParameterError
        No ``harm_index`` column, rows weighted by another index or version (e.g. two
        frames concatenated), or missing weights (unknown codes: drop or weight them first).

    Examples
    --------
    >>> css, chi = load_harm_index("ons_css"), load_harm_index("cambridge_chi")
    >>> df = assign_harm(pd.DataFrame({"offence_code": ["2", "8G"]}), index=css)
    >>> harm_total(df, index=css)
    4847.0
    >>> mixed = pd.concat([df, assign_harm(pd.DataFrame({"offence_code": ["19C"]}), index=chi)])
    >>> harm_total(mixed, index=css)
    Traceback (most recent call last):
    ...
    hotspots.errors.ParameterError: harm weights from different indices cannot be combined: ...
    """
    for col in ("harm_index", weight_column):
        if col not in frame.columns:
            raise ParameterError(
                f"frame has no {col!r} column; weight it with assign_harm(frame, index=...) so the index is recorded"
            )
    check_single_index([index.label, *pd.unique(frame["harm_index"])])
    w = frame[weight_column].to_numpy(dtype=float, na_value=np.nan)
    missing = int(np.isnan(w).sum())
    if missing:
        raise ParameterError(
            f"{missing:,} of {len(w):,} records have no weight in {index.label}; "
            "report and drop them (has_harm_weight) or add their codes to the index table"
        )
    return float(w.sum())
