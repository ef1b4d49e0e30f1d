"""The force summary (``summary.json``, schema ``summary-v2``; ``summary-v1`` still read) for the national STRA.

The national team compiles every force's ``summary.json`` into the national
VAWG strategic threat and risk assessment; it is the only file they read, so
it is versioned (``schema_version``), carries its security marking, its
disclosure control and its provenance, and is validated before it is written.

Validation has two parts, both reported together with the JSON path of each
violation:

1. the JSON Schema shipped with the package (``profiles/schema/summary-v2.json``; v1 beside it,
   draft 2020-12): shapes, types, ranges, patterns, no unknown keys;
2. cross-field checks the schema cannot express (run once the shapes are
   valid): the period adds up, months and threat areas are the declared ones,
   H3 cells are real cells at the declared resolution, ranks run 1..n, ids are
   unique and recommendations point at a finding or gap, synthetic sources are
   declared, ingest rows balance, and no published count sits below the
   disclosure threshold or can be recovered from a total.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import json
import math
import os
import re
import stat
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from hotspots.errors import InputFileError
from hotspots.grid import cells_resolution, cells_to_int, is_cell
from hotspots.io import RUN_RECORD, verify_output
from hotspots.nte_window import parse_nte_window

__all__ = [
    "MAX_ITEMS",
    "MAX_MONTHS",
    "MAX_SUMMARY_BYTES",
    "READ_VERSIONS",
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "SummaryFileError",
    "SummaryInvalid",
    "example_summary",
    "load_schema",
    "load_summary",
    "summary_errors",
    "validate_summary",
    "write_summary",
]

SCHEMA_VERSION = "summary-v2"
SCHEMA_ID = "https://safer-spaces.invalid/schema/summary-v2.json"
_SCHEMA_FILES = {"summary-v1": "summary-v1.json", "summary-v2": "summary-v2.json"}
_REQUIRED = re.compile(r"^(?P<name>.+) is a required property$")

READ_VERSIONS: tuple[str, ...] = ("summary-v1", SCHEMA_VERSION)
"""Schema versions :func:`load_summary` reads; anything else is refused, naming these."""

MAX_SUMMARY_BYTES = 16 * 1024 * 1024
"""Largest ``summary.json`` :func:`load_summary` reads (a real one is tens of kilobytes)."""

MAX_MONTHS = 1_200
"""Longest period a summary covers (100 years; police.uk itself starts in 2010-12)."""

MAX_ITEMS = 100_000
"""Longest list in a summary (threat areas x months is a few thousand rows)."""

_MAX_DEPTH = 32  # summary-v1 nests 5 deep; deeper input is refused before validation recurses into it


class SummaryInvalid(ValueError):
    """A summary that does not meet its schema; ``errors`` lists every violation as ``"<path>: <message>"``."""

    def __init__(self, errors: list[str], *, where: str = "summary", version: str = SCHEMA_VERSION):
        self.errors = list(errors)
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(
            f"{where} is not a valid {version} summary ({len(self.errors)} problem(s)); "
            f"fix each one below and validate again:\n{lines}"
        )


class SummaryFileError(InputFileError):
    """A ``summary.json`` that :func:`load_summary` cannot use: ``file``, ``field`` (a JSON path), ``fix``.

    ``errors`` lists every schema violation (``"<path>: <message>"``) when the
    file parsed but is not a valid summary; it is empty otherwise.
    """

    def __init__(
        self, file: str, problem: str, fix: str, *, field: str = "$", line: int | None = None,
        errors: list[str] | None = None,
    ):
        self.field = field
        self.errors = list(errors or [])
        super().__init__(file, f"{problem} (field {field})", fix, line=line)


def load_schema(version: str = SCHEMA_VERSION) -> dict:
    """A summary JSON Schema (default the version written now), read from the installed package.

    Returns
    -------
    dict
        A fresh copy each call (callers may modify it).

    Examples
    --------
    >>> s = load_schema()
    >>> s["$id"], s["properties"]["schema_version"]["const"]
    ('https://safer-spaces.invalid/schema/summary-v2.json', 'summary-v2')
    >>> load_schema("summary-v1")["properties"]["schema_version"]["const"]
    'summary-v1'
    """
    text = resources.files("profiles").joinpath("schema", _SCHEMA_FILES[version]).read_text(encoding="utf-8")
    return json.loads(text)


def _version_of(obj: Any) -> str:
    """The schema version ``obj`` claims when it is one this module reads, else the current one."""
    v = obj.get("schema_version") if isinstance(obj, dict) else None
    return v if isinstance(v, str) and v in READ_VERSIONS else SCHEMA_VERSION


def _validator(version: str = SCHEMA_VERSION):
    return Draft202012Validator(load_schema(version), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _path(parts) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _schema_messages(error) -> Iterator[str]:
    """One or more readable lines for a jsonschema error, naming the exact path."""
    if error.context:  # anyOf/oneOf: report the most relevant branch
        error = best_match(error.context)
    where = list(error.absolute_path)
    if error.validator == "required":
        m = _REQUIRED.match(error.message)
        name = ast.literal_eval(m.group("name")) if m else "?"
        yield f"{_path([*where, name])}: required field is missing; add it"
        return
    closed = error.validator == "additionalProperties" and error.validator_value is False
    if closed and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        for key in sorted(k for k in error.instance if k not in allowed):
            yield f"{_path([*where, key])}: unknown field {key!r}; allowed here: {', '.join(sorted(allowed))}"
        return
    hint = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator in ("pattern", "type", "const") and hint:
        yield f"{_path(where)}: {error.message}; {hint}"
    else:
        yield f"{_path(where)}: {error.message}"


def _months_between(first: str, last: str) -> int:
    (y0, m0), (y1, m1) = (map(int, first.split("-")), map(int, last.split("-")))
    return (y1 - y0) * 12 + (m1 - m0) + 1


def _duplicates(values) -> list:
    seen, dup = set(), []
    for v in values:
        if v in seen and v not in dup:
            dup.append(v)
        seen.add(v)
    return dup


def _non_finite(obj: Any, parts: tuple = ()) -> Iterator[str]:
    """NaN and infinity are not JSON: name where they are."""
    if isinstance(obj, float) and not math.isfinite(obj):
        yield f"{_path(parts)}: {obj} is not a JSON number; write null for a missing or undefined value"
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _non_finite(v, (*parts, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _non_finite(v, (*parts, i))


def _oversized(obj: Any) -> Iterator[str]:
    """Lists longer than any summary has, and periods longer than ``MAX_MONTHS`` (cheap: no list is walked)."""
    if not isinstance(obj, dict):
        return
    per = obj.get("period")
    months = per.get("months") if isinstance(per, dict) else None
    if isinstance(months, int) and not isinstance(months, bool) and months > MAX_MONTHS:
        yield (f"$.period.months: {months} months is more than the {MAX_MONTHS} a summary covers; a month outside "
               "the data (e.g. 9999-12) was let through: quarantine it and re-run")
    stack: list[tuple[Any, tuple]] = [(obj, ())]
    while stack:
        o, parts = stack.pop()
        if isinstance(o, dict):
            stack.extend((v, (*parts, k)) for k, v in o.items() if isinstance(v, dict | list))
        elif len(o) > MAX_ITEMS:
            yield f"{_path(parts)}: {len(o):,} items, more than the {MAX_ITEMS:,} a summary can hold"
        else:
            stack.extend((v, (*parts, i)) for i, v in enumerate(o) if isinstance(v, dict | list))


def _cross_field_errors(s: dict) -> Iterator[str]:
    """Checks that need more than one field; ``s`` already matches the schema."""
    per, dfn, disc = s["period"], s["definitions"], s["disclosure"]
    first, last = per["first_month"], per["last_month"]

    # Period.
    if first > last:
        yield f"$.period: first_month {first} is after last_month {last}; swap them"
    elif per["months"] != _months_between(first, last):
        yield (f"$.period.months: {per['months']} but {first} to {last} spans "
               f"{_months_between(first, last)} months; set months to the span")
    for i, m in enumerate(per["missing_months"]):
        if not first <= m <= last:
            yield f"$.period.missing_months[{i}]: {m} is outside {first} to {last}"

    # Definitions.
    try:
        canonical = str(parse_nte_window(dfn["nte_window"]))
    except ValueError as exc:
        yield f"$.definitions.nte_window: {exc}"
    else:
        if canonical != dfn["nte_window"]:
            yield f"$.definitions.nte_window: write the canonical form {canonical!r}, not {dfn['nte_window']!r}"
    areas = set(dfn["threat_areas"])

    def area_errors(rows, where):
        for i, r in enumerate(rows):
            if r["threat_area"] not in areas:
                yield (f"{where}[{i}].threat_area: {r['threat_area']!r} is not in definitions.threat_areas "
                       f"({', '.join(dfn['threat_areas'])}); use one of them or declare it")
    yield from area_errors(s["counts"]["by_threat_area_month"], "$.counts.by_threat_area_month")
    yield from area_errors(s["counts"]["totals_by_threat_area"], "$.counts.totals_by_threat_area")
    yield from area_errors(s["harm"]["by_threat_area"], "$.harm.by_threat_area")

    # Counts: months in period, one row per (area, month), one total per area.
    cells = s["counts"]["by_threat_area_month"]
    for i, r in enumerate(cells):
        if not first <= r["month"] <= last:
            yield f"$.counts.by_threat_area_month[{i}].month: {r['month']} is outside {first} to {last}"
    for area, month in _duplicates((r["threat_area"], r["month"]) for r in cells):
        yield f"$.counts.by_threat_area_month: more than one row for {area!r} {month}; keep one"
    for area in _duplicates(r["threat_area"] for r in s["counts"]["totals_by_threat_area"]):
        yield f"$.counts.totals_by_threat_area: more than one total for {area!r}; keep one"

    # Disclosure: the release agrees with the shared flag (files before the release field omit it) ...
    release = disc.get("release")
    if release is not None and (release != "restricted") != disc["shared"]:
        yield (f"$.disclosure.release: {release!r} but shared is {str(disc['shared']).lower()}; a restricted file "
               "is not shared and a partner or publication release is")
    # ... no published count below the threshold; no suppressed cell recoverable from its total.
    k = disc["threshold"]
    if k is not None:

        def small(value, where):
            if value is not None and 0 < value < k:
                yield f"{where}: count {value} is below the disclosure threshold {k}; suppress it (count null)"
        for i, r in enumerate(cells):
            yield from small(r["count"], f"$.counts.by_threat_area_month[{i}].count")
        for i, r in enumerate(s["counts"]["totals_by_threat_area"]):
            yield from small(r["count"], f"$.counts.totals_by_threat_area[{i}].count")
        for i, p in enumerate(s["top_places"]):
            for src, v in p["components"].items():
                yield from small(v, f"$.top_places[{i}].components.{src}")
        for i, src in enumerate(s["data_quality"]["sources"]):
            for key in ("rows_read", "rows_accepted", "rows_quarantined"):
                yield from small(src[key], f"$.data_quality.sources[{i}].{key}")
            for reason, v in src["quarantined_by_reason"].items():
                yield from small(v, f"$.data_quality.sources[{i}].quarantined_by_reason.{reason}")

    totals = {r["threat_area"]: r for r in s["counts"]["totals_by_threat_area"]}
    for area in dfn["threat_areas"]:
        n_supp = sum(r["suppressed"] for r in cells if r["threat_area"] == area)
        total = totals.get(area)
        if n_supp == 1 and total is not None and total["count"] is not None:
            yield (f"$.counts.by_threat_area_month: the one suppressed month of {area!r} can be recovered from its "
                   f"published total; apply secondary suppression (suppress a second month or the total)")
    n_supp_all = sum(r["suppressed"] for r in cells) + sum(r["suppressed"] for r in totals.values())
    if n_supp_all > disc["suppressed_cells"]:
        yield (f"$.disclosure.suppressed_cells: {disc['suppressed_cells']} but {n_supp_all} counts are marked "
               "suppressed; report at least that many")

    # Places: real H3 cells at the declared resolution, ranks 1..n, no repeats.
    res = dfn["h3_resolution"]
    places = s["top_places"]
    valid = is_cell([p["h3_cell"] for p in places])
    resolution = dict.fromkeys(range(len(places)), -1)
    if valid.any():
        idx = [i for i in range(len(places)) if valid[i]]
        resolution |= dict(zip(idx, cells_resolution(cells_to_int([places[i]["h3_cell"] for i in idx])).tolist(),
                               strict=True))
    for i, p in enumerate(places):
        # competition ranking: a place tied with the one before it (same score) shares its rank, else rank = i + 1
        tie = i > 0 and p["rank"] == places[i - 1]["rank"] and p["place_score"] == places[i - 1]["place_score"]
        if p["rank"] != i + 1 and not tie:
            yield (f"$.top_places[{i}].rank: {p['rank']}, expected {i + 1}"
                   + (f" (or {places[i - 1]['rank']} if tied with the place before)" if i else "")
                   + "; list places best first, ranked 1..n, ties sharing the first rank of the tie")
        if not valid[i]:
            yield f"$.top_places[{i}].h3_cell: {p['h3_cell']!r} is not a valid H3 cell"
        elif resolution[i] != res:
            yield (f"$.top_places[{i}].h3_cell: {p['h3_cell']!r} is at resolution "
                   f"{resolution[i]}, definitions.h3_resolution is {res}")
    for cell in _duplicates(p["h3_cell"] for p in s["top_places"]):
        yield f"$.top_places: cell {cell} is listed more than once"

    # Ids: unique; recommendations answer a finding or a gap.
    ids = [f["id"] for f in s["key_findings"]] + [g["id"] for g in s["gaps"]]
    for dup in _duplicates(ids):
        yield f"$.key_findings/$.gaps: id {dup!r} is used more than once; ids must be unique across both"
    for dup in _duplicates(r["id"] for r in s["recommendations"]):
        yield f"$.recommendations: id {dup!r} is used more than once"
    for i, r in enumerate(s["recommendations"]):
        if r["finding_id"] not in ids:
            yield (f"$.recommendations[{i}].finding_id: {r['finding_id']!r} is not the id of a key finding or gap; "
                   "tie each recommendation to one")

    # Sources: synthetic ones declared; ingest rows balance.
    declared = set(s["synthetic_sources"])
    for i, src in enumerate(s["data_quality"]["sources"]):
        where = f"$.data_quality.sources[{i}]"
        if src["synthetic"] and src["source"] not in declared:
            yield f"{where}.synthetic: {src['source']!r} is synthetic but not listed in $.synthetic_sources; add it"
        if not src["synthetic"] and src["source"] in declared:
            yield f"{where}.synthetic: {src['source']!r} is listed in $.synthetic_sources but marked synthetic: false"
        rows = (src["rows_read"], src["rows_accepted"], src["rows_quarantined"])
        if None not in rows and rows[0] != rows[1] + rows[2]:
            yield (f"{where}: rows_read {src['rows_read']} != rows_accepted {src['rows_accepted']} "
                   f"+ rows_quarantined {src['rows_quarantined']}")
        reasons = list(src["quarantined_by_reason"].values())
        if (None not in reasons and src["rows_quarantined"] is not None
                and sum(reasons) != src["rows_quarantined"]):
            yield (f"{where}.quarantined_by_reason: adds up to {sum(src['quarantined_by_reason'].values())}, "
                   f"rows_quarantined is {src['rows_quarantined']}")

    # Provenance: a real UTC time.
    try:
        dt.datetime.fromisoformat(s["provenance"]["run_utc"].replace("Z", "+00:00"))
    except ValueError:
        yield f"$.provenance.run_utc: {s['provenance']['run_utc']!r} is not a real date and time"


def summary_errors(obj: Any) -> list[str]:
    """Every violation of its schema version (v1 or v2) in ``obj``, as ``"<JSON path>: <message>"`` lines (or none).

    Schema violations and non-finite numbers (NaN, infinity) are reported
    together; cross-field checks run only once those are fixed.

    Examples
    --------
    >>> summary_errors(example_summary())
    []
    >>> bad = example_summary()
    >>> bad["counts"]["by_threat_area_month"][0]["count"] = -1
    >>> summary_errors(bad)
    ['$.counts.by_threat_area_month[0].count: -1 is less than the minimum of 0']
    """
    oversized = list(_oversized(obj))
    if oversized:  # refused before the schema walks millions of rows
        return oversized
    errors = sorted(_validator(_version_of(obj)).iter_errors(obj),
                    key=lambda e: (list(map(str, e.absolute_path)), e.message))
    typed: set = set()  # one type error per path (a field's own type and an if/then branch's)
    kept = []
    for e in errors:
        key = tuple(e.absolute_path)
        if e.validator == "type" and key in typed:
            continue
        typed.update([key] if e.validator == "type" else [])
        kept.append(e)
    out = [line for e in kept for line in _schema_messages(e)] + list(_non_finite(obj))
    if not out:
        out = list(_cross_field_errors(obj))
    return list(dict.fromkeys(out))


def validate_summary(obj: Any) -> None:
    """Check a summary against the schema version it claims (``summary-v2`` now); None, or raise with every violation.

    Parameters
    ----------
    obj : dict
        The summary, as it would be written to JSON. Not modified.

    Raises
    ------
    SummaryInvalid
        A ``ValueError`` listing every violation with its JSON path (also in ``.errors``).

    Examples
    --------
    >>> validate_summary(example_summary())
    >>> bad = example_summary()
    >>> bad["top_places"][0]["h3_cell"] = "not-a-cell"
    >>> validate_summary(bad)
    Traceback (most recent call last):
    ...
    profiles.summary.SummaryInvalid: summary is not a valid summary-v2 summary (1 problem(s)); ...
      - $.top_places[0].h3_cell: 'not-a-cell' does not match '^8[0-9a-f]{14}$'; write an H3 cell id: ...
    """
    errors = summary_errors(obj)
    if errors:
        raise SummaryInvalid(errors, version=_version_of(obj))


def write_summary(obj: dict, path: str | os.PathLike) -> Path:
    """Validate a summary, then write it as UTF-8 JSON; an invalid summary is never written.

    Parameters
    ----------
    obj : dict
        The summary. Not modified.
    path : str or path-like
        Destination file (``summary.json``); its folder must exist. Written
        atomically: a temporary file in the same folder is renamed into place.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    SummaryInvalid
        When ``obj`` is not valid; nothing is written and an existing file is left as it was.
    FileNotFoundError
        When the folder does not exist.
    """
    errors = summary_errors(obj)
    if errors:
        raise SummaryInvalid(errors, where=f"summary for {os.fspath(path)!r}")
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"write_summary: folder {str(path.parent)!r} does not exist; create it first")
    text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path



def _read_capped(path: Path, file: str) -> bytes:
    """The file's bytes, refusing anything that is not a regular file or is larger than the cap."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SummaryFileError(file, "no such file", "check the path to the force's summary.json") from None
    except OSError as exc:
        raise SummaryFileError(file, f"cannot be read ({exc.strerror})", "check the path and its permissions") from None
    if not stat.S_ISREG(st.st_mode):
        raise SummaryFileError(file, "is not a regular file (a folder or device?)", "name the summary.json file itself")
    if st.st_size > MAX_SUMMARY_BYTES:
        raise SummaryFileError(
            file,
            f"is {st.st_size:,} bytes, more than the {MAX_SUMMARY_BYTES:,} a summary can be",
            "give the force's summary.json itself (a real one is tens of kilobytes), not another file",
        )
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_SUMMARY_BYTES + 1)  # the file may grow between stat and read
    except OSError as exc:
        raise SummaryFileError(file, f"cannot be read ({exc.strerror})", "check the file's permissions") from None
    if len(data) > MAX_SUMMARY_BYTES:
        raise SummaryFileError(
            file, f"is more than the {MAX_SUMMARY_BYTES:,} bytes a summary can be", "give the force's summary.json"
        )
    return data


def _decode(data: bytes, file: str) -> str:
    """UTF-8 text (a leading byte-order mark is allowed and dropped); the line of the first bad byte otherwise."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SummaryFileError(
            file,
            f"is not UTF-8 text (byte {exc.start:,})",
            "write summary.json as UTF-8, as the toolkit does; re-send the file the force's run wrote",
            line=line,
        ) from None


class _JsonRefused(ValueError):
    """A JSON value that parses in Python but is not JSON (NaN, Infinity, a repeated key, an overflowing number)."""


def _refuse_constant(name: str):
    raise _JsonRefused(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise _JsonRefused(f"the number {text[:40]} is too large for a JSON number")
    return v


def _unique_keys(pairs: list) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _JsonRefused(f"key {key[:60]!r} appears twice in one object")
        out[key] = value
    return out


def _too_deep(obj: Any) -> bool:
    """Whether ``obj`` nests deeper than any summary can (checked without recursion)."""
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if d > _MAX_DEPTH:
            return True
        if isinstance(o, dict):
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o)
    return False


def _parse(text: str, file: str) -> Any:
    """Strict JSON: no NaN/Infinity, no numbers that overflow, no repeated keys."""
    fix = "re-send the summary.json the force's run wrote; do not edit it by hand"
    try:
        return json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys
        )
    except json.JSONDecodeError as exc:
        problem = f"is not valid JSON ({exc.msg}, column {exc.colno})"
        raise SummaryFileError(file, problem, fix, line=exc.lineno) from None
    except _JsonRefused as exc:
        raise SummaryFileError(file, f"is not strict JSON: {exc}", fix) from None
    except ValueError as exc:  # an integer with more digits than Python converts
        raise SummaryFileError(file, f"is not usable JSON ({str(exc)[:80]})", fix) from None
    except RecursionError:
        raise SummaryFileError(file, f"nests deeper than a summary can (more than {_MAX_DEPTH} levels)", fix) from None


def _check_run_record(path: Path, file: str) -> None:
    """Refuse a summary whose run output is not intact (a mixture of two runs, a truncated file).

    Applies when ``run_complete.json`` is in the summary's folder or the one
    above (as for ``shared/summary.json``); a summary sent on its own is not checked.
    """
    for folder in (path.parent, path.parent.parent):
        if (folder / RUN_RECORD).is_file():
            problems = verify_output(folder)
            if problems:
                raise SummaryFileError(
                    file,
                    f"its run output {folder} does not match its {RUN_RECORD} ({len(problems)} problem(s); "
                    f"first: {problems[0][:160]})",
                    "re-run the force's profile into a new folder, or send the summary.json of an intact run",
                )
            return


def load_summary(path: str | os.PathLike) -> dict:
    """Read a force's ``summary.json`` safely and check it is a valid summary of a version this toolkit reads.

    The national STRA reads every force's file with this. Nothing in the
    file is trusted: it must be a regular file of at most
    :data:`MAX_SUMMARY_BYTES`, UTF-8, strict JSON (no ``NaN``/``Infinity``,
    no numbers too large for a double, no repeated keys), at most 32 levels
    deep, with a ``schema_version`` in :data:`READ_VERSIONS`, and it must
    pass :func:`validate_summary` (the schema and the cross-field checks).
    A summary inside a run's output folder (``run_complete.json`` beside it
    or one folder up) is read only when :func:`hotspots.io.verify_output`
    finds that output intact.
    Errors never quote the file's contents beyond a JSON path and a short value.

    Parameters
    ----------
    path : str or path-like
        The ``summary.json`` to read.

    Returns
    -------
    dict
        The summary, as written.

    Raises
    ------
    SummaryFileError
        An :class:`~hotspots.errors.InputFileError` naming the file, the
        field (JSON path, ``$`` for the whole file), the problem and the fix;
        ``errors`` lists every schema violation.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> s = load_summary(write_summary(example_summary(), folder / "summary.json"))
    >>> s["schema_version"], s["force"]["slug"]
    ('summary-v2', 'example')
    >>> _ = (folder / "bad.json").write_text('{"schema_version": "summary-v0"}')
    >>> load_summary(folder / "bad.json")
    Traceback (most recent call last):
    ...
    profiles.summary.SummaryFileError: ...bad.json: schema_version 'summary-v0' is not one this toolkit reads \
(summary-v1, summary-v2) (field $.schema_version). Fix: ...
    """
    file = os.fspath(path)
    _check_run_record(Path(path), file)
    text = _decode(_read_capped(Path(path), file), file)
    obj = _parse(text, file)
    if not isinstance(obj, dict):
        raise SummaryFileError(
            file, f"holds a JSON {type(obj).__name__}, not an object", "give the force's summary.json itself"
        )
    if _too_deep(obj):
        raise SummaryFileError(
            file, f"nests deeper than a summary can (more than {_MAX_DEPTH} levels)", "give the force's summary.json"
        )
    version = obj.get("schema_version")
    if version not in READ_VERSIONS:
        shown = repr(version)[:40] if isinstance(version, str) else "missing" if version is None else "not a string"
        raise SummaryFileError(
            file,
            f"schema_version {shown} is not one this toolkit reads ({', '.join(READ_VERSIONS)})",
            "re-run the force's profile with this toolkit version, or read it with the version that wrote it",
            field="$.schema_version",
        )
    errors = summary_errors(obj)
    if errors:
        first = errors[0].split(":", 1)[0]
        raise SummaryFileError(
            file,
            f"is not a valid {version} summary ({len(errors)} problem(s); first: {errors[0][:200]})",
            "re-run the force's profile (it validates before writing) and re-send summary.json; "
            "every problem is listed in the error's .errors",
            field=first,
            errors=errors,
        )
    return obj

_EXAMPLE: dict = {
    "schema_version": "summary-v1",
    "security_classification": "OFFICIAL-SENSITIVE",
    "disclosure": {
        "shared": True,
        "threshold": 5,
        "method": "primary < k, secondary suppression, audited",
        "suppressed_cells": 2,
    },
    "synthetic_sources": ["police_uk", "rms", "streetsafe"],
    "force": {"name": "Example Constabulary", "slug": "example"},
    "period": {"first_month": "2024-01", "last_month": "2024-03", "months": 3, "missing_months": []},
    "definitions": {
        "nte_window": "Fri,Sat 21:00-06:00",
        "vawg_offence_table": "vawg-offences-2026.1",
        "harm_index": "cambridge-chi-2026.1-subgroup-medians",
        "h3_resolution": 9,
        "police_uk_crime_types": ["Violence and sexual offences", "Public order"],
        "threat_areas": ["rape", "public_space_violence"],
    },
    "counts": {
        "by_threat_area_month": [
            {"threat_area": "rape", "month": "2024-01", "count": 12, "suppressed": False, "available": True},
            {"threat_area": "rape", "month": "2024-02", "count": None, "suppressed": True, "available": True},
            {"threat_area": "rape", "month": "2024-03", "count": 9, "suppressed": False, "available": True},
            {"threat_area": "public_space_violence", "month": "2024-01", "count": 41, "suppressed": False,
             "available": True},
            {"threat_area": "public_space_violence", "month": "2024-02", "count": 38, "suppressed": False,
             "available": True},
            {"threat_area": "public_space_violence", "month": "2024-03", "count": None, "suppressed": False,
             "available": False},
        ],
        "totals_by_threat_area": [
            {"threat_area": "rape", "count": None, "suppressed": True},
            {"threat_area": "public_space_violence", "count": 79, "suppressed": False},
        ],
    },
    "top_places": [
        {"rank": 1, "h3_cell": "89195839227ffff", "place_score": 3.2, "components": {"police_uk": 27, "rms": 19},
         "label": "Example Street", "lsoa_code": "E01014540", "imd_decile": 2},
        {"rank": 2, "h3_cell": "89195876c97ffff", "place_score": 2.1, "components": {"police_uk": 15, "rms": None},
         "label": "Sample Road", "lsoa_code": "E01014485", "imd_decile": None},
    ],
    "nte": {"share_in_window": {"rms": 0.34, "police_uk": None}, "time_resolved_sources": ["rms"]},
    "harm": {
        "index": "cambridge-chi-2026.1-subgroup-medians",
        "total": 48210.0,
        "by_threat_area": [{"threat_area": "rape", "total": 40150.0}, {"threat_area": "public_space_violence",
                                                                      "total": 8060.0}],
        "approximate": True,
    },
    "hotspot_quality": [
        {"method": "gi_star", "train_months": ["2024-01", "2024-02"], "test_months": ["2024-03"],
         "area_share": 0.05, "hit_rate": 0.31, "pai": 6.2, "pei": 0.72, "rri": 1.1},
    ],
    "data_quality": {
        "sources": [
            {"source": "police_uk", "rows_read": 5210, "rows_accepted": 5190, "rows_quarantined": 20,
             "quarantined_by_reason": {"no_coordinates": 20}, "synthetic": True, "share_without_coordinates": 0.004},
            {"source": "rms", "rows_read": 1200, "rows_accepted": 1195, "rows_quarantined": 5,
             "quarantined_by_reason": {"bad_date": 5}, "synthetic": True, "share_without_coordinates": 0.02},
            {"source": "streetsafe", "rows_read": 300, "rows_accepted": 300, "rows_quarantined": 0,
             "quarantined_by_reason": {}, "synthetic": True, "share_without_coordinates": 0.0},
        ],
        "snap_point_stacking": 0.18,
        "month_only_sources": ["police_uk"],
    },
    "gaps": [
        {"id": "G1", "text": "No A&E data on assaults, so unreported violence is not seen.",
         "evidence": {"ae_rows": 0}},
    ],
    "recommendations": [
        {"id": "R1", "text": "Focus NTE patrols on the top cell on Friday and Saturday nights.", "finding_id": "F1",
         "place": "Example Street (89195839227ffff)", "time": "Fri,Sat 21:00-06:00", "partner": "Licensing",
         "tactic": "Hotspot patrol and venue welfare checks"},
        {"id": "R2", "text": "Agree an ISTV data-sharing agreement with the local A&E.", "finding_id": "G1",
         "place": "Force area", "time": "Next quarter", "partner": "NHS trust", "tactic": "Data sharing"},
    ],
    "key_findings": [
        {"id": "F1", "text": "Two cells hold a fifth of public-space violence.", "numbers": {"share": 0.2}},
        {"id": "F2", "text": "A third of RMS VAWG events fall in the NTE window.", "numbers": {"nte_share": 0.34}},
        {"id": "F3", "text": "Rape carries most of the harm.", "numbers": {"harm_share": 0.83}},
        {"id": "F4", "text": "Gi* hotspots predicted the test month well.", "numbers": {"pai": 6.2}},
        {"id": "F5", "text": "March public-space violence is not yet available.", "numbers": {"months_missing": 1}},
    ],
    "provenance": {
        "tool": "safer-spaces",
        "tool_version": "0.1.0",
        "run_utc": "2026-01-20T10:15:00Z",
        "config_sha256": "0" * 64,
        "inputs": [{"file": "data/example/2024-01-example-street.csv", "sha256": "1" * 64, "source": "police_uk"}],
        "python": "3.11.9",
    },
}


_V2_ADDITIONS: dict = {
    "measures": {
        "fused_basis": {"recorded": "rms", "sources": ["rms", "streetsafe"], "period": "2024-01 to 2024-03",
                        "public_space": True, "private_excluded": 410},
        "harm_by_source": [{"source": "police_uk", "events": 5190, "harm_rounded": 52000.0, "verified_share": 0.0},
                           {"source": "rms", "events": 1195, "harm_rounded": 48000.0, "verified_share": 0.4}],
        "like_for_like": {"available": False, "reason": "no month of the last 12 has its month a year earlier"},
        "rates": [{"area": "Example Unitary", "count": 120, "population": 100000, "rate_per_1000": 1.2,
                   "ci_low": 0.995, "ci_high": 1.435}],
        "spacetime": {"persistent hotspot": 3, "emerging hotspot": 1},
        "outcomes": [{"group": "rape", "offences": 21, "assigned": 15, "outcome_14": None, "outcome_15": None,
                      "outcome_16": None, "share_14_16": None, "charged": None, "share_charged": None}],
    },
}


def _example_v2() -> dict:
    s = copy.deepcopy(_EXAMPLE)
    s["schema_version"] = "summary-v2"
    for f in s["key_findings"]:
        f.update(grade="fact (count)", confidence="low", basis="synthetic example")
    for g in s["gaps"]:
        g.update(collect="ISTV data from the ED", source="NHS trust", owner="Head of Analysis")
    for r in s["recommendations"]:
        r.update(pillar="Protect", owner="Local policing commander", measure="NTE incidents in the cell",
                 priority="medium", review="2026-07-20")
    s.update(copy.deepcopy(_V2_ADDITIONS))
    return s


def example_summary(version: str = SCHEMA_VERSION) -> dict:
    """A small, fully valid summary built from synthetic numbers (for docs and tests).

    Every source in it is synthetic and declared in ``synthetic_sources``
    (the national team excludes those), and the force is fictional: never
    read it as real data.

    Returns
    -------
    dict
        A new deep copy each call.

    Examples
    --------
    >>> s = example_summary()
    >>> s["schema_version"], s["synthetic_sources"]
    ('summary-v2', ['police_uk', 'rms', 'streetsafe'])
    >>> example_summary("summary-v1")["schema_version"]
    'summary-v1'
    """
    if version not in READ_VERSIONS:
        raise ValueError(f"version must be one of {READ_VERSIONS}; got {version!r}")
    return copy.deepcopy(_EXAMPLE) if version == "summary-v1" else _example_v2()
