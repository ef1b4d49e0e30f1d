"""Which recorded offences count as violence against women and girls (VAWG).

A versioned TOML table (``configs/vawg_offences.toml``) maps Home Office offence
classification codes ("19C", "8N", "105A", "4/1") to VAWG groups, each with a
*condition* saying when the code counts: always, only when the record is flagged
as domestic abuse, only when the victim is female, or either. The table's version
is echoed into every output so two profiles can be compared.

Code normalisation (applied to the table and to the data alike, by
:func:`normalise_codes`):

1. strip, upper-case and remove internal whitespace: ``" 19 c "`` -> ``"19C"``;
2. ``"."`` becomes ``"/"`` (ONS writes ``4.1`` for the HOCR class ``4/1``);
3. leading zeros are dropped from each ``/``-separated part: ``"019C"`` -> ``"19C"``,
   ``"08N"`` -> ``"8N"``, ``"004/01"`` -> ``"4/1"``.

Slashes are otherwise kept, because they are part of real codes (``4/1``
manslaughter). Class/sub-class codes such as ``"019/08"`` (used by some forces
and by the Cambridge CHI sheet) are a different, finer scheme: they normalise to
``"19/8"``, are not in the table and are reported as unknown, never guessed.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots.errors import ConfigError, ParameterError

__all__ = [
    "CONDITIONS",
    "OffenceTable",
    "classify_offences",
    "classify_police_uk",
    "default_offence_table_path",
    "load_offence_table",
    "normalise_codes",
]

CONFIGS_DIR = Path(__file__).resolve().parent.parent / "configs"
CONDITIONS = ("always", "if_domestic_abuse", "if_victim_female", "if_domestic_abuse_or_victim_female")
_TOP_KEYS = {"version", "source", "date", "groups", "offences", "police_uk"}
_ENTRY_REQUIRED = ("code", "description", "group", "condition", "verified")
_ENTRY_OPTIONAL = ("group_if_victim_female", "note")
_PUK_KEYS = {"group", "coarse", "note"}
_GROUP_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_LEADING_ZEROS = re.compile(r"(^|/)0+(?=\d)")


def default_offence_table_path() -> Path:
    """The bundled table, located relative to the package (works from an editable checkout).

    Examples
    --------
    >>> default_offence_table_path().name
    'vawg_offences.toml'
    """
    return CONFIGS_DIR / "vawg_offences.toml"


@dataclass(frozen=True, kw_only=True)
class OffenceTable:
    """A loaded, validated VAWG offence table.

    Attributes
    ----------
    version, source, date : str
        Echoed into every output.
    groups : dict
        Group name -> description.
    entries : pandas.DataFrame
        One row per code, indexed by the normalised ``code``, with columns
        ``description``, ``group``, ``group_if_victim_female``, ``condition``,
        ``verified`` (bool) and ``note``.
    police_uk : pandas.DataFrame
        police.uk crime type -> ``group``, ``coarse`` (bool), ``note``.
    source_file : Path
    """

    version: str
    source: str
    date: str
    groups: dict = field(repr=False)
    entries: pd.DataFrame = field(repr=False)
    police_uk: pd.DataFrame = field(repr=False)
    source_file: Path

    @property
    def codes(self) -> list[str]:
        """Every normalised code in the table, in file order."""
        return list(self.entries.index)


def normalise_codes(codes) -> pd.Series:
    """Normalise Home Office offence codes (vectorised; see the module docstring).

    Parameters
    ----------
    codes : array-like of str
        Missing values stay missing.

    Returns
    -------
    pandas.Series of str (object dtype), same length and order as ``codes``.

    Examples
    --------
    >>> normalise_codes([" 19c", "019C", "08N", "4.1", "004/01", None]).tolist()
    ['19C', '19C', '8N', '4/1', '4/1', None]
    """
    s = pd.Series(codes, dtype="object").reset_index(drop=True)
    isna = s.isna()
    out = (
        s.where(~isna, "")
        .astype(str)
        .str.upper()
        .str.replace(r"\s+", "", regex=True)
        .str.replace(".", "/", regex=False)
        .str.replace(_LEADING_ZEROS, r"\1", regex=True)
    )
    out = out.astype(object)
    out[isna | (out == "")] = None
    return out


def load_offence_table(path=None) -> OffenceTable:
    """Load and validate a VAWG offence table.

    Parameters
    ----------
    path : path, optional
        A TOML file; default :func:`default_offence_table_path`.

    Returns
    -------
    OffenceTable

    Raises
    ------
    ConfigError
        Naming the file and the entry: missing file, invalid TOML, a missing or
        unknown key, a duplicate code (after normalisation), an undeclared
        group or an unknown condition.

    Examples
    --------
    >>> table = load_offence_table()
    >>> table.version
    'vawg-offences-2026.1'
    >>> table.entries.loc["19C", ["group", "condition"]].tolist()
    ['rape', 'always']
    """
    path = Path(path) if path is not None else default_offence_table_path()
    raw = _read_toml(path)
    f = str(path)
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{f}: unknown top-level key '{unknown[0]}' (known: {', '.join(sorted(_TOP_KEYS))})")
    for key in ("version", "source", "date"):
        if key not in raw:
            raise ConfigError(f"{f}: missing required key '{key}'; add it so outputs can cite the table")
    groups = raw.get("groups")
    if not isinstance(groups, dict) or not groups:
        raise ConfigError(f'{f}: [groups] must declare at least one group as name = "description"')
    for name, desc in groups.items():
        if not _GROUP_NAME.match(name):
            raise ConfigError(f"{f}: group name '{name}' must be lower_snake_case")
        if not isinstance(desc, str):
            raise ConfigError(f"{f}: [groups] {name} must be a description string, got {type(desc).__name__}")
    offences = raw.get("offences")
    if not isinstance(offences, list) or not offences:
        raise ConfigError(f"{f}: 'offences' must be a non-empty list of {{ code = ..., group = ... }} tables")

    rows = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(offences, start=1):
        rows.append(_check_entry(entry, i, f, groups, seen))
    entries = pd.DataFrame(rows).set_index("code")

    police_uk = _check_police_uk(raw.get("police_uk", {}), f)
    return OffenceTable(
        version=str(raw["version"]),
        source=str(raw["source"]),
        date=str(raw["date"]),
        groups=dict(groups),
        entries=entries,
        police_uk=police_uk,
        source_file=path,
    )


def _read_toml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; check the path") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax") from None


def _check_entry(entry, i: int, f: str, groups: dict, seen: dict) -> dict:
    where = f"{f}: offences entry {i}"
    if not isinstance(entry, dict):
        raise ConfigError(f'{where} must be a table like {{ code = "19C", ... }}, got {type(entry).__name__}')
    if "code" in entry:
        where += f" (code {entry['code']!r})"
    for key in entry:
        if key not in _ENTRY_REQUIRED + _ENTRY_OPTIONAL:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(_ENTRY_REQUIRED + _ENTRY_OPTIONAL)})")
    for key in _ENTRY_REQUIRED:
        if key not in entry:
            raise ConfigError(f"{where}: missing required key '{key}'")
    for key in ("code", "description", "group", "condition"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise ConfigError(f"{where}: '{key}' must be a non-empty string, got {entry[key]!r}")
    if not isinstance(entry["verified"], bool):
        raise ConfigError(f"{where}: 'verified' must be true or false, got {entry['verified']!r}")
    code = normalise_codes([entry["code"]])[0]
    if code in seen:
        raise ConfigError(f"{where}: duplicate code {code!r} (also entry {seen[code]}); keep one entry per code")
    seen[code] = i
    group_f = entry.get("group_if_victim_female", entry["group"])
    for key, g in (("group", entry["group"]), ("group_if_victim_female", group_f)):
        if g not in groups:
            raise ConfigError(f"{where}: {key} {g!r} is not declared in [groups] (declared: {', '.join(groups)})")
    if entry["condition"] not in CONDITIONS:
        raise ConfigError(f"{where}: unknown condition {entry['condition']!r}; use one of {', '.join(CONDITIONS)}")
    if "group_if_victim_female" in entry and entry["condition"] != "if_domestic_abuse_or_victim_female":
        raise ConfigError(
            f"{where}: 'group_if_victim_female' only applies to condition 'if_domestic_abuse_or_victim_female'"
        )
    return {
        "code": code,
        "description": entry["description"].strip(),
        "group": entry["group"],
        "group_if_victim_female": group_f,
        "condition": entry["condition"],
        "verified": entry["verified"],
        "note": entry.get("note"),
    }


def _check_police_uk(raw, f: str) -> pd.DataFrame:
    if not isinstance(raw, dict):
        raise ConfigError(f'{f}: [police_uk] must be a table of "Crime type" = {{ group = ..., coarse = true }}')
    rows = []
    for crime_type, spec in raw.items():
        where = f"{f}: police_uk entry {crime_type!r}"
        if not isinstance(spec, dict) or "group" not in spec:
            raise ConfigError(f"{where} must be a table with a 'group'")
        extra = sorted(set(spec) - _PUK_KEYS)
        if extra:
            raise ConfigError(f"{where}: unknown key '{extra[0]}' (known: {', '.join(sorted(_PUK_KEYS))})")
        rows.append(
            {
                "crime_type": crime_type,
                "group": spec["group"],
                "coarse": bool(spec.get("coarse", True)),
                "note": spec.get("note"),
            }
        )
    return pd.DataFrame(rows, columns=["crime_type", "group", "coarse", "note"]).set_index("crime_type")


def _flag(values, n: int, name: str) -> np.ndarray:
    """A flag argument as float: 1 true, 0 false, NaN unknown (None -> all unknown)."""
    if values is None:
        return np.full(n, np.nan)
    if isinstance(values, bool | np.bool_):
        return np.full(n, float(values))
    s = pd.Series(values).reset_index(drop=True)
    if len(s) != n:
        raise ParameterError(f"{name} has {len(s):,} values but codes has {n:,}; pass one flag per record")
    isna = s.isna().to_numpy()
    ok = isna | s.isin([True, False]).to_numpy()
    if not ok.all():
        bad = s[~ok].iloc[0]
        raise ParameterError(
            f"{name} must hold True/False (or missing for unknown); got {bad!r}. "
            "Map the force's flag column to booleans first"
        )
    out = np.full(n, np.nan)
    out[~isna] = s[~isna].astype(bool).to_numpy(dtype=float)
    return out


def classify_offences(codes, *, table: OffenceTable, domestic_abuse=None, victim_female=None) -> pd.DataFrame:
    """Classify offence codes into VAWG groups (vectorised; inputs are not modified).

    Parameters
    ----------
    codes : array-like of str, length n
        Home Office offence classification codes, normalised as in the module docstring.
    table : OffenceTable
        From :func:`load_offence_table`.
    domestic_abuse, victim_female : array-like of bool or missing, or bool, optional
        Per-record flags. ``None`` (or a missing value) means unknown: a code whose
        condition depends on an unknown flag is ``"undetermined"``, never guessed.

    Returns
    -------
    pandas.DataFrame, n rows, same order as ``codes`` (a fresh RangeIndex)
        ``offence_code`` (normalised), ``code_known`` (bool), ``offence_description``,
        ``vawg_condition`` (the table's condition for the code), ``vawg_status``
        (``"vawg"``, ``"not_vawg"``, ``"undetermined"`` or ``"unknown_code"``),
        ``vawg_basis`` (``"always"``, ``"domestic_abuse"`` or ``"victim_female"``: what
        made it count) and ``vawg_group`` (missing unless ``vawg_status == "vawg"``).
        Text columns are pandas string columns; missing values read as NaN.
        ``df.attrs["vawg_offences_version"]`` carries the table version.

    Raises
    ------
    ParameterError
        A flag array of the wrong length or holding something other than booleans.

    Examples
    --------
    >>> table = load_offence_table()
    >>> out = classify_offences(["19C", "8N", "8N", "8N", "999X"], table=table,
    ...                         domestic_abuse=[False, True, False, False, False],
    ...                         victim_female=[True, False, True, False, True])
    >>> out[["offence_code", "vawg_group", "vawg_status"]]
      offence_code             vawg_group   vawg_status
    0          19C                   rape          vawg
    1           8N            da_violence          vawg
    2           8N  public_space_violence          vawg
    3           8N                    NaN      not_vawg
    4         999X                    NaN  unknown_code
    """
    n = len(codes)
    da = _flag(domestic_abuse, n, "domestic_abuse")
    fem = _flag(victim_female, n, "victim_female")
    if n <= 4096:
        return _classify(codes, table=table, da=da, fem=fem)
    # records repeat a few hundred (code, flag) combinations: classify each once
    code_id, _ = pd.factorize(pd.Series(codes).reset_index(drop=True), use_na_sentinel=False)
    flag_id = np.where(np.isnan(da), 2, da).astype(np.int64) * 3 + np.where(np.isnan(fem), 2, fem).astype(np.int64)
    _, first, inverse = np.unique(code_id.astype(np.int64) * 9 + flag_id, return_index=True, return_inverse=True)
    small = _classify(
        pd.Series(codes).reset_index(drop=True).iloc[first].to_numpy(dtype=object),
        table=table,
        da=da[first],
        fem=fem[first],
    )
    out = small.iloc[inverse.ravel()].reset_index(drop=True)
    out.attrs = small.attrs
    return out


def _classify(codes, *, table: OffenceTable, da: np.ndarray, fem: np.ndarray) -> pd.DataFrame:
    """The classification of :func:`classify_offences`, record by record (flags as float: 1, 0, NaN)."""
    norm = normalise_codes(codes)

    e = table.entries
    pos = e.index.get_indexer(pd.Index(norm.fillna("\x00")))
    known = pos >= 0
    take = np.where(known, pos, 0)

    def col(name):
        vals = e[name].to_numpy(dtype=object)[take]
        return np.where(known, vals, None)

    cond = col("condition")
    is_always = cond == "always"
    needs_da = (cond == "if_domestic_abuse") | (cond == "if_domestic_abuse_or_victim_female")
    needs_fem = (cond == "if_victim_female") | (cond == "if_domestic_abuse_or_victim_female")
    da_true, da_unknown = da == 1.0, np.isnan(da)
    fem_true, fem_unknown = fem == 1.0, np.isnan(fem)

    by_da = needs_da & da_true
    by_fem = needs_fem & fem_true & ~by_da
    counts = is_always | by_da | by_fem
    # Undetermined: could still count if an unknown flag were true.
    maybe = ~counts & ((needs_da & da_unknown) | (needs_fem & fem_unknown))

    status = np.select([~known, counts, maybe], ["unknown_code", "vawg", "undetermined"], default="not_vawg").astype(
        object
    )
    basis = np.select([counts & is_always, by_da, by_fem], ["always", "domestic_abuse", "victim_female"], default="")
    basis = basis.astype(object)
    basis[basis == ""] = None
    group = np.where(by_fem, col("group_if_victim_female"), col("group"))
    group = group.astype(object)
    group[~counts] = None

    out = pd.DataFrame(
        {
            "offence_code": norm.to_numpy(dtype=object),
            "code_known": known,
            "offence_description": col("description"),
            "vawg_condition": cond,
            "vawg_status": status,
            "vawg_basis": basis,
            "vawg_group": group,
        }
    )
    out.attrs["vawg_offences_version"] = table.version
    return out


def classify_police_uk(crime_types, *, table: OffenceTable) -> pd.DataFrame:
    """Map police.uk crime types to the table's coarse VAWG-relevant groups.

    police.uk has no codes, victim sex or DA flag, so this is a coarse filter, not
    a VAWG count: every output row says so in ``vawg_coarse``.

    Parameters
    ----------
    crime_types : array-like of str
        The police.uk ``Crime type`` column (matched exactly after stripping spaces).
    table : OffenceTable

    Returns
    -------
    pandas.DataFrame with ``crime_type``, ``vawg_group`` (missing when not listed) and
    ``vawg_coarse`` (bool).

    Examples
    --------
    >>> classify_police_uk(["Public order", "Burglary"], table=load_offence_table())
         crime_type              vawg_group  vawg_coarse
    0  Public order  police_uk_public_order         True
    1      Burglary                     NaN        False
    """
    s = pd.Series(crime_types, dtype="object").reset_index(drop=True)
    key = s.where(s.isna(), s.astype(str).str.strip())
    p = table.police_uk
    pos = p.index.get_indexer(pd.Index(key.fillna("\x00")))
    hit = pos >= 0
    take = np.where(hit, pos, 0)
    grp = p["group"].to_numpy(dtype=object)[take]
    grp[~hit] = None
    coarse = np.where(hit, p["coarse"].to_numpy(dtype=bool)[take], False)
    out = pd.DataFrame({"crime_type": s.to_numpy(dtype=object), "vawg_group": grp, "vawg_coarse": coarse})
    out.attrs["vawg_offences_version"] = table.version
    return out
