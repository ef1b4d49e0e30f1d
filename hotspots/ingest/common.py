"""Validation shared by the partner readers: coordinates, date-times, flags, reconciliation.

Each helper works on the rows still in play of a :class:`~hotspots.ingest.table.TableRead`
and returns arrays plus a list of ``(mask, reason, fix, detail)`` problems;
the reader hands all problems to :meth:`TableRead.reject` at once, so every
row is quarantined for its *first* problem and nothing is counted twice.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba as nb
import numpy as np
import pandas as pd
import pyarrow as pa

from hotspots.errors import ParameterError
from hotspots.ingest import _csvscan as k
from hotspots.ingest import _datetimes as dt
from hotspots.ingest.table import TableFile, TableRead, earlier_copies, month_coverage, parse_float_spans

__all__ = [
    "bng_to_wgs84",
    "wgs84_to_bng",
    "coordinates",
    "datetimes",
    "flags",
    "reconcile",
    "events_table",
    "is_synthetic_file",
    "swapped_bng",
    "future_limit",
    "drop_repeated_ids",
    "quarantine_repeats",
    "paren_coordinates",
    "strings_or_blank",
]

# Generous envelopes of Great Britain (+ NI and islands)
LNG_RANGE = (-11.0, 2.5)
LAT_RANGE = (49.0, 61.5)
E_RANGE = (0.0, 700_000.0)
N_RANGE = (0.0, 1_300_000.0)

_TRUE = {"y", "yes", "true", "t", "1"}
_FALSE = {"n", "no", "false", "f", "0"}
_UNKNOWN = {"", "u", "unknown", "not known", "nk", "n/k", "null", "na", "n/a"}


_LOCAL = threading.local()


def _transformer(src: str, dst: str):
    """One pyproj transformer per thread and direction (making one costs ~70 ms)."""
    cache = getattr(_LOCAL, "transformers", None)
    if cache is None:
        cache = _LOCAL.transformers = {}
    tr = cache.get((src, dst))
    if tr is None:
        from pyproj import Transformer

        tr = cache[(src, dst)] = Transformer.from_crs(src, dst, always_xy=True)
    return tr


def _transform(src: str, dst: str, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinate arrays with pyproj (in place on fresh copies); large arrays in two halves on two threads."""
    a = np.array(a, dtype=float)
    b = np.array(b, dtype=float)
    if len(a) < 200_000:
        return _transformer(src, dst).transform(a, b, inplace=True)
    h = len(a) // 2
    halves = [(a[:h], b[:h]), (a[h:], b[h:])]
    with ThreadPoolExecutor(2) as ex:
        list(ex.map(lambda ab: _transformer(src, dst).transform(*ab, inplace=True), halves))
    return a, b


def wgs84_to_bng(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude (EPSG:4326) to British National Grid metres (EPSG:27700).

    Examples
    --------
    >>> x, y = wgs84_to_bng(np.array([-2.359463]), np.array([51.381912]))
    >>> round(float(x[0])), round(float(y[0]))
    (375080, 164824)
    """
    return _transform("EPSG:4326", "EPSG:27700", lng, lat)


def bng_to_wgs84(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """British National Grid metres (EPSG:27700) to longitude/latitude (EPSG:4326).

    Examples
    --------
    >>> lng, lat = bng_to_wgs84(np.array([375081.0]), np.array([164824.0]))
    >>> round(float(lng[0]), 4), round(float(lat[0]), 4)
    (-2.3595, 51.3819)
    """
    return _transform("EPSG:27700", "EPSG:4326", x, y)


def coordinates(t: TableRead, *, kind: str, x_col: str, y_col: str, no_coords_fix: str, what: str):
    """Parse, range-check and project a point per row.

    Parameters
    ----------
    t : TableRead
    kind : {"bng", "wgs84"}
        ``"bng"``: ``x_col``/``y_col`` are easting/northing in metres;
        ``"wgs84"``: longitude/latitude in degrees.
    x_col, y_col : str
        Logical column names.
    no_coords_fix : str
        Fix offered when both cells are empty (source specific: geocode...).
    what : str
        Column names as the user knows them, for messages ("Easting/Northing").

    Returns
    -------
    x, y, lng, lat : ndarray of float
        NaN on rows that have a problem.
    problems : list of (mask, reason, fix, detail)
    """
    a, sa = t.floats(x_col)
    b, sb = t.floats(y_col)
    empty = (sa == k.NUM_EMPTY) & (sb == k.NUM_EMPTY)
    bad = ~empty & ((sa != k.NUM_OK) | (sb != k.NUM_OK))
    problems = [
        (empty, "no_coordinates", no_coords_fix, None),
        (bad, "bad_coordinates", f"{what} must both be numbers; correct the cells or remove the row", None),
    ]
    ok = ~empty & ~bad
    if kind == "bng":
        x, y = a, b
        out = ok & ~((x >= E_RANGE[0]) & (x <= E_RANGE[1]) & (y >= N_RANGE[0]) & (y <= N_RANGE[1]))
        looks_wgs = out & (np.abs(x) <= 180) & (np.abs(y) <= 90)
        problems.append(
            (
                looks_wgs,
                "coordinates_in_degrees",
                f"{what} hold degrees, not metres; map the longitude/latitude columns instead "
                "(config: lng/lat) or convert to British National Grid",
                None,
            )
        )
        problems.append(
            (
                out & ~looks_wgs,
                "coordinates_out_of_range",
                f"{what} are outside Great Britain (0-700,000 E, 0-1,300,000 N); correct the cells",
                None,
            )
        )
        lng, lat = _project_where(bng_to_wgs84, x, y, ok & ~out)
    else:
        lng, lat = a, b
        inside = (lng >= LNG_RANGE[0]) & (lng <= LNG_RANGE[1]) & (lat >= LAT_RANGE[0]) & (lat <= LAT_RANGE[1])
        swapped = ok & ~inside & (lat >= LNG_RANGE[0]) & (lat <= LNG_RANGE[1])
        swapped &= (lng >= LAT_RANGE[0]) & (lng <= LAT_RANGE[1])
        problems.append(
            (swapped, "coordinates_swapped", f"{what} look swapped (latitude in the longitude column); swap them", None)
        )
        problems.append(
            (
                ok & ~inside & ~swapped,
                "coordinates_out_of_range",
                f"{what} are outside Great Britain (longitude -11..2.5, latitude 49..61.5); correct the cells",
                None,
            )
        )
        x, y = _project_where(wgs84_to_bng, lng, lat, ok & inside)
    return x, y, lng, lat, problems


def _project_where(project, a: np.ndarray, b: np.ndarray, good: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``project(a, b)`` where ``good``, NaN elsewhere (all rows in one call when every row is good)."""
    if good.all():
        return project(a, b)
    u, v = np.full(len(a), np.nan), np.full(len(a), np.nan)
    if good.any():
        u[good], v[good] = project(a[good], b[good])
    return u, v


def datetimes(t: TableRead, col: str, *, dayfirst: bool = True, label: str | None = None):
    """Parse a date(-time) column: seconds as written, status, offset, and a problem for bad cells.

    The problem's detail quotes the cell (dates are never personal fields).
    """
    secs, st, off = t.datetimes(col, dayfirst=dayfirst)
    bad = st == dt.DT_INVALID
    detail = None
    if bad.any():
        detail = np.full(len(st), "", dtype=object)
        vals = t.strings(col).to_numpy(zero_copy_only=False)
        detail[bad] = [f"{label or col} {v!r} is not a date" for v in vals[bad]]
    order = "dd/mm/yyyy" if dayfirst else "mm/dd/yyyy"
    fix = f"write {label or col} as {order} HH:MM (or yyyy-mm-dd HH:MM); spreadsheets may have reformatted it"
    return secs, st, off, (bad, "bad_datetime", fix, detail)


def _token_table(groups: dict[int, set[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    toks = [(t.encode(), v) for v, ts in groups.items() for t in sorted(ts) if t]
    width = max(len(t) for t, _ in toks)
    table = np.zeros((len(toks), width), np.uint8)
    for i, (t, _) in enumerate(toks):
        table[i, : len(t)] = np.frombuffer(t, np.uint8)
    return table, np.array([len(t) for t, _ in toks], np.int64), np.array([v for _, v in toks], np.int8)


_FLAG_TOKENS = _token_table({1: _TRUE, 0: _FALSE, -1: _UNKNOWN})


@nb.njit(cache=True, nogil=True)
def _flag_values(buf, s_arr, e_arr, table, lens, vals):
    """Y/N cells as int8 (1, 0, -1 not known, -2 not a flag); -3 where the cell is not plain ASCII."""
    n = len(s_arr)
    out = np.empty(n, np.int8)
    for i in range(n):
        s = s_arr[i]
        e = e_arr[i]
        while s < e and (buf[s] == 32 or 9 <= buf[s] <= 13 or 28 <= buf[s] <= 31):  # str.strip()'s ASCII
            s += 1
        while e > s and (buf[e - 1] == 32 or 9 <= buf[e - 1] <= 13 or 28 <= buf[e - 1] <= 31):
            e -= 1
        if s == e:
            out[i] = -1
            continue
        res = -2
        for j in range(len(lens)):
            if lens[j] != e - s:
                continue
            same = True
            for q in range(e - s):
                c = buf[s + q]
                if 65 <= c <= 90:
                    c += 32
                if c != table[j, q]:
                    same = False
                    break
            if same:
                res = vals[j]
                break
        if res == -2:
            for p in range(s, e):
                if buf[p] >= 0x80:
                    res = -3
                    break
        out[i] = res
    return out


def flags(t: TableRead, col: str, *, label: str):
    """A Y/N column as int8: 1 yes, 0 no, -1 unknown; and a problem for other values."""
    if not t.has(col) or len(t) == 0:
        return np.full(len(t), -1, np.int8), None
    fix = f"{label} must be Y/N (also Yes/No, True/False, 1/0; blank or U for not known)"
    out = _flag_values(t.buf, *t.spans(col), *_FLAG_TOKENS)
    if (out >= -1).all():  # the usual case: every cell a known token, read in one pass
        return out, (np.zeros(len(out), bool), "bad_flag", fix, None)
    codes, values = t.codes(col)
    lut = np.full(max(len(values), 1), -2, np.int8)
    for i, v in enumerate(values):
        v = v.strip().lower()
        lut[i] = 1 if v in _TRUE else 0 if v in _FALSE else -1 if v in _UNKNOWN else -2
    out = lut[codes] if len(codes) else np.zeros(0, np.int8)
    bad = out == -2
    bad_values = sorted({values[i] for i in np.flatnonzero(lut == -2)})[:5]
    detail = f"{label} value not Y/N ({', '.join(map(repr, bad_values))})" if bad_values else None
    return out, (bad, "bad_flag", fix, detail)


def is_synthetic_file(path: Path) -> bool:
    """Whether a file is marked synthetic (a ``.synthetic.json`` sidecar or a ``SYNTHETIC_`` name).

    Examples
    --------
    >>> is_synthetic_file(Path("data/synthetic/SYNTHETIC_rms_x.csv.gz"))
    True
    """
    p = Path(path)
    name = p.name
    for suffix in (".gz", ".csv"):
        name = name.removesuffix(suffix)
    return (
        p.name.upper().startswith("SYNTHETIC")
        or (p.parent / f"{name}.synthetic.json").exists()
        or (p.parent / f"{p.name}.synthetic.json").exists()
    )


def synthetic_note(path: Path) -> dict | None:
    """The generator's sidecar (``<file>.synthetic.json``) if present."""
    p = Path(path)
    stem = p.name.removesuffix(".gz").removesuffix(".csv")
    for cand in (p.parent / f"{stem}.synthetic.json", p.parent / f"{p.name}.synthetic.json"):
        if cand.exists():
            try:
                return json.loads(cand.read_text())
            except (OSError, ValueError):
                return None
    return None


def reconcile(
    source: str,
    tables: Sequence[TableFile | TableRead],
    accepted: Sequence[int] | np.ndarray,
    *,
    extra: dict | None = None,
) -> dict:
    """The reconciliation record of one ingest: per file and in total, rows_read == accepted + quarantined.

    Each file's ``warnings`` lists what the user should know although nothing
    was lost (a header-only file, for one); the record's top-level ``warnings`` repeats
    them prefixed with the file name (as :func:`~hotspots.ingest.police_uk.read_police_uk` does).
    """
    files = []
    for t, n_acc in zip(tables, accepted, strict=True):
        n_q = t.n_quarantined
        if t.rows_read != n_acc + n_q:  # an internal invariant, never a user error
            raise RuntimeError(f"{t.file}: rows_read {t.rows_read} != accepted {n_acc} + quarantined {n_q}")
        files.append(
            {
                "file": t.file,
                "path": str(t.path),
                "rows_read": t.rows_read,
                "rows_accepted": int(n_acc),
                "rows_quarantined": n_q,
                "quarantined_by_reason": dict(sorted(t.counts.items())),
                "blank_lines": t.info["blank_lines"],
                "bytes": t.info["bytes"],
                "sha256": t.info["sha256"],
                "gzip": t.info["gzip"],
                "truncated": t.info["truncated"],
                "damaged_after_line": t.info.get("damaged_after_line"),
                "gzip_layers": t.info.get("gzip_layers", 0),
                "lines": t.info.get("lines"),
                "empty": t.rows_read == 0,
                "encoding": t.info["encoding"],
                "line_endings": t.info["line_endings"],
                "synthetic": is_synthetic_file(t.path),
                "warnings": list(t.warnings),
            }
        )
    by_reason: dict[str, int] = {}
    for f in files:
        for r, n in f["quarantined_by_reason"].items():
            by_reason[r] = by_reason.get(r, 0) + n
    total = {
        "rows_read": sum(f["rows_read"] for f in files),
        "rows_accepted": sum(f["rows_accepted"] for f in files),
        "rows_quarantined": sum(f["rows_quarantined"] for f in files),
        "quarantined_by_reason": dict(sorted(by_reason.items())),
    }
    total["balanced"] = total["rows_read"] == total["rows_accepted"] + total["rows_quarantined"]
    rec = {
        "source": source,
        "files": files,
        "total": total,
        "synthetic": any(f["synthetic"] for f in files),
        "warnings": [f"{f['file']}: {w}" for f in files for w in f["warnings"]],
    }
    if extra:
        rec.update(extra)
    return rec


def resolve_columns(defaults: dict[str, str], overrides, *, what: str) -> dict[str, str]:
    """The reader's column mapping: ``defaults`` updated by ``overrides``; unknown keys are an error.

    Examples
    --------
    >>> resolve_columns({"id": "ID", "lat": "Lat"}, {"id": "Ref"}, what="A&E")
    {'id': 'Ref', 'lat': 'Lat'}
    """
    cols = dict(defaults)
    if overrides:
        unknown = set(overrides) - set(defaults)
        if unknown:
            raise ParameterError(f"unknown {what} column key(s) {sorted(unknown)}; known keys: {', '.join(defaults)}")
        cols.update(overrides)
    return cols


def file_list(paths, *, reader: str) -> list[Path]:
    """``paths`` as a non-empty list of Path (the reader's name in the error)."""
    out = [Path(p) for p in paths]
    if not out:
        raise ParameterError(f"{reader} needs at least one file")
    return out


def drop_repeated_ids(ev: pd.DataFrame, tables: Sequence[TableFile], *, fix: str) -> pd.DataFrame:
    """Quarantine earlier copies of a repeated ``event_id`` (the later row or file wins); returns the rest.

    ``ev`` carries ``event_id``, ``_file`` (index into ``tables``) and ``source_line``; each
    quarantined row's detail names the file and line that was kept. The rows are
    quarantined by line (:meth:`TableFile.quarantine_lines`): their blocks may be gone.
    """
    if len(ev) == 0:
        return ev
    dup, last = earlier_copies(pa.array(ev["event_id"].astype(str).to_numpy(object), pa.large_string()))
    if not dup.any():
        return ev
    quarantine_repeats(
        tables, [t.file for t in tables], ev["_file"].to_numpy(), ev["source_line"].to_numpy(), dup, last, fix=fix
    )
    return ev.loc[~dup].reset_index(drop=True)


def quarantine_repeats(ledgers, names, files, lines, dup, last, *, fix: str) -> None:
    """Quarantine each earlier copy of a repeated ID as ``duplicate_id``, naming the file and line kept.

    Parameters
    ----------
    ledgers : sequence
        One per file, each with ``quarantine_lines(lines, reason, fix, details)``.
    names : sequence of str
        Display name of each file.
    files, lines : numpy.ndarray
        File index and physical line of every event.
    dup, last : numpy.ndarray
        From :func:`earlier_copies`: whether an event is an earlier copy, and the index of the copy kept.
    fix : str
        The fix written beside each quarantined copy.
    """
    for i, led in enumerate(ledgers):
        d = np.flatnonzero(dup & (files == i))
        if len(d):
            kept = last[d]
            detail = [f"kept {names[f]} line {ln}" for f, ln in zip(files[kept], lines[kept], strict=True)]
            led.quarantine_lines(lines[d], "duplicate_id", fix, np.asarray(detail, dtype=object))


def swapped_bng(
    x: np.ndarray | list[np.ndarray], y: np.ndarray | list[np.ndarray], *, min_points: int = 20
) -> tuple[np.ndarray, dict]:
    """Points whose easting and northing look swapped, judged against the other points of the same read.

    The rule (both values inside Great Britain's range, so a range check cannot
    see it): take the robust extent of the accepted points -- per axis the
    1st to 99th percentile -- and widen it by a quarter of its size, at least
    10 km, on every side. A point is *swapped* when it lies outside the widened
    box while the point with its two values exchanged lies inside the box
    widened by only half as much (so a swapped point from the edge of the area
    is still recognised). A true point that is merely far away is never
    flagged unless its mirror image lands among the other points, which for a
    force area away from the diagonal (easting far from northing, as in most of
    England and Wales) is the sea or another country; an area that straddles
    the diagonal flags only points that are far from it and whose swap is in
    it. Fewer than ``min_points`` points: nothing is judged.

    Parameters
    ----------
    x, y : ndarray of float, or lists of them (blocks, judged as one)
        Eastings and northings (NaN where a row has no point).

    Returns
    -------
    mask : ndarray of bool
        Rows to quarantine as ``coordinates_swapped``.
    note : dict
        The extent used (for the reconciliation), or why the check was skipped.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(340_000, 380_000, 200); y = rng.uniform(150_000, 180_000, 200)
    >>> x[5], y[5] = y[5], x[5]
    >>> m, _ = swapped_bng(x, y)
    >>> np.flatnonzero(m).tolist()
    [5]
    """
    xc = list(x) if isinstance(x, list) else [np.asarray(x, float)]
    yc = list(y) if isinstance(y, list) else [np.asarray(y, float)]
    n_ok = sum(int(np.count_nonzero(np.isfinite(a) & np.isfinite(b))) for a, b in zip(xc, yc, strict=True))
    if n_ok < min_points:
        return np.zeros(sum(len(a) for a in xc), bool), {"checked": False, "why": f"fewer than {min_points} points"}
    step = max(1, n_ok // 1_000_000)  # the percentiles of a regular sample are plenty
    pts = [
        (a[np.isfinite(a) & np.isfinite(b)], b[np.isfinite(a) & np.isfinite(b)]) for a, b in zip(xc, yc, strict=True)
    ]
    xs = np.concatenate([p[0] for p in pts])[::step]
    ys = np.concatenate([p[1] for p in pts])[::step]
    del pts
    x0, x1 = np.percentile(xs, [1, 99])
    y0, y1 = np.percentile(ys, [1, 99])
    mx = max(10_000.0, 0.25 * (x1 - x0))
    my = max(10_000.0, 0.25 * (y1 - y0))
    hx, hy = mx / 2, my / 2
    masks = []
    for a, b in zip(xc, yc, strict=True):  # NaN compares False: rows without a point are never flagged
        far = (a < x0 - mx) | (a > x1 + mx) | (b < y0 - my) | (b > y1 + my)
        masks.append(far & (b >= x0 - hx) & (b <= x1 + hx) & (a >= y0 - hy) & (a <= y1 + hy))
    box = [round(float(v)) for v in (x0, y0, x1, y1)]
    mask = np.concatenate(masks) if masks else np.zeros(0, bool)
    return mask, {"checked": True, "extent_e0_n0_e1_n1": box, "margin_m": [round(mx), round(my)]}


FIX_SWAPPED = (
    "the easting and northing look swapped (the point lies far outside the area of the other records, "
    "and swapping them puts it inside); swap the two cells in the export"
)
FIX_FUTURE = "the date is after the day this run was made; correct the year (or the day/month order) in the export"


def future_limit(today=None) -> int:
    """Seconds since 1970 (UK wall clock) of the midnight after ``today``: dates from then on are in the future.

    ``today`` is a ``datetime.date``, an ISO date string or None (the machine's date).

    Examples
    --------
    >>> future_limit("2024-03-01") == int(np.datetime64("2024-03-02", "s").astype(np.int64))
    True
    """
    if today is None:
        today = _dt.date.today()
    elif isinstance(today, str):
        today = _dt.date.fromisoformat(today)
    elif isinstance(today, _dt.datetime):
        today = today.date()
    return int(np.datetime64(today + _dt.timedelta(days=1), "s").astype(np.int64))


def utc_to_local(secs: np.ndarray, offset_min: np.ndarray) -> np.ndarray:
    """UK wall-clock time (datetime64[s]) of times written with a UTC offset; times without one are kept as written.

    Examples
    --------
    >>> from hotspots.ingest._datetimes import NO_OFFSET
    >>> s = np.array([1720217643, 1720217643])  # 2024-07-05 22:14:03 as written
    >>> utc_to_local(s, np.array([0, NO_OFFSET])).astype(str).tolist()
    ['2024-07-05T23:14:03', '2024-07-05T22:14:03']
    """
    off = np.asarray(offset_min, dtype=np.int64)
    has = off != dt.NO_OFFSET
    utc = np.asarray(secs, dtype=np.int64) - np.where(has, off * 60, 0)
    local = pd.to_datetime(utc, unit="s", utc=True).tz_convert("Europe/London").tz_localize(None)
    return np.where(has, local.to_numpy().astype("datetime64[s]"), np.asarray(secs).astype("datetime64[s]"))


def events_table(frame: pd.DataFrame) -> pa.Table:
    """A pandas frame of events as Arrow (period ``month`` kept as pandas' period extension type)."""
    return pa.Table.from_pandas(frame, preserve_index=False)


def months_of(secs: np.ndarray) -> np.ndarray:
    """Month ordinals (months since 1970-01) of seconds since 1970."""
    d = secs.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    return d


def coverage(secs: np.ndarray) -> dict:
    """Month coverage of event times (seconds since 1970-01-01)."""
    return month_coverage(months_of(secs))


@nb.njit(cache=True, nogil=True)
def _paren_pair(buf, s_arr, e_arr):
    """Spans of the two numbers in ``"(a, b)"`` cells; empty spans where the cell is not of that form."""
    n = len(s_arr)
    s1 = np.zeros(n, np.int64)
    e1 = np.zeros(n, np.int64)
    s2 = np.zeros(n, np.int64)
    e2 = np.zeros(n, np.int64)
    for i in range(n):
        s, e = s_arr[i], e_arr[i]
        while s < e and buf[s] == 32:
            s += 1
        while e > s and buf[e - 1] == 32:
            e -= 1
        if e - s < 5 or buf[s] != 40 or buf[e - 1] != 41:  # ( )
            continue
        c = s + 1
        while c < e - 1 and buf[c] != 44:
            c += 1
        if c >= e - 1:
            continue
        s1[i], e1[i], s2[i], e2[i] = s + 1, c, c + 1, e - 1
    return s1, e1, s2, e2


def paren_coordinates(t: TableRead, col: str, label: str, no_coords_fix: str):
    """Points from a ``"(lat, lon)"`` column (Socrata's location format): ``x, y, lng, lat, problems``."""
    s1, e1, s2, e2 = _paren_pair(t.buf, *t.spans(col))
    lat, st1 = parse_float_spans(t.buf, s1, e1)
    lng, st2 = parse_float_spans(t.buf, s2, e2)
    raw_s, raw_e = k._strip_spans(t.buf, *t.spans(col))
    empty = raw_s == raw_e
    bad = ~empty & ((st1 != k.NUM_OK) | (st2 != k.NUM_OK))
    ok = ~empty & ~bad
    inside = ok & (lng >= LNG_RANGE[0]) & (lng <= LNG_RANGE[1]) & (lat >= LAT_RANGE[0]) & (lat <= LAT_RANGE[1])
    x, y = np.full(len(lat), np.nan), np.full(len(lat), np.nan)
    if inside.any():
        x[inside], y[inside] = wgs84_to_bng(lng[inside], lat[inside])
    problems = [
        (empty, "no_coordinates", no_coords_fix, None),
        (bad, "bad_coordinates", f"{label} must be '(latitude, longitude)'; correct the cell", None),
        (ok & ~inside, "coordinates_out_of_range", f"{label} is outside Great Britain; correct the cell", None),
    ]
    return x, y, lng, lat, problems


def strings_or_blank(t: TableRead, col: str) -> np.ndarray:
    """The column as an object array of str; blanks when the file lacks the (optional) column."""
    return t.strings(col).to_numpy(zero_copy_only=False) if t.has(col) else np.full(len(t), "", dtype=object)
