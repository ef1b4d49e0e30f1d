"""Ingest StreetSafe reports (anonymous pins where women and girls felt unsafe).

StreetSafe (police.uk) is not a crime report: a pin (longitude/latitude from
Google Maps), answers about the *place* and about *behaviour* (both
multi-valued), reasons for not reporting, optional demographics, and a
submission time. No public extract exists; the bundled file is synthetic and
every output built from it says so.

Times: only the **submission** time is documented, not when the person felt
unsafe. It is kept (``submitted_at``, converted from UTC to UK local time when
written with ``Z`` or an offset) but the reports are marked
``time_resolved = False`` so they never enter hour-of-day tables as if it
were the time of the experience.

Demographics (gender, age range) are dropped at read unless the config keeps
them (``keep_demographics``); they are never logged or put in a quarantine
detail, and when dropped they are blanked inside the quarantine's ``raw``
record too, as is every column the reader does not map (free text an
extract may carry).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots.ingest import _datetimes as dt
from hotspots.ingest.common import (
    FIX_FUTURE,
    coordinates,
    coverage,
    datetimes,
    drop_repeated_ids,
    events_table,
    file_list,
    future_limit,
    is_synthetic_file,
    reconcile,
    resolve_columns,
    utc_to_local,
)
from hotspots.ingest.police_uk import IngestResult
from hotspots.ingest.table import TableRead, assemble_quarantine, map_blocks, open_tables

__all__ = ["STREETSAFE_COLUMNS", "PLACE_REASONS", "BEHAVIOUR_REASONS", "read_streetsafe"]

STREETSAFE_COLUMNS: dict[str, str] = {
    "id": "id",
    "submitted_at": "submitted_at",
    "lat": "latitude",
    "lng": "longitude",
    "place_reasons": "place_reasons",
    "behaviour_reasons": "behaviour_reasons",
    "not_reported_reasons": "not_reported_reasons",
    "gender": "gender",
    "age_range": "age_range",
}

PLACE_REASONS: dict[str, str] = {
    "Absence of CCTV": "place_no_cctv",
    "Badly lit": "place_badly_lit",
    "Empty buildings or isolated place": "place_isolated",
    "Poor street layout or blind spots": "place_blind_spots",
    "Restricted visibility": "place_restricted_visibility",
    "Rundown": "place_rundown",
    "Signs of drug or alcohol use": "place_drug_alcohol",
    "Other": "place_other",
}
"""StreetSafe's place answers -> output column (bool)."""

BEHAVIOUR_REASONS: dict[str, str] = {
    "Verbal harassment by a single stranger": "behaviour_verbal_single",
    "Verbal harassment by a group": "behaviour_verbal_group",
    "Being followed": "behaviour_followed",
    "Other harassment": "behaviour_other",
}
"""StreetSafe's behaviour answers -> output column (bool)."""

_FIX_NOCOORD = "the report has no pin; it cannot be placed (StreetSafe always records one: check the export)"
_FIX_TIME = "submitted_at must be an ISO date-time (2024-03-01T22:14:03Z) or dd/mm/yyyy HH:MM"


def _multi(t, col: str, known: Mapping[str, str]) -> tuple[dict[str, np.ndarray], int]:
    """Indicator columns for a ';'-separated multi-valued answer; and how many rows held unknown values."""
    n = len(t)
    out = {c: np.zeros(n, bool) for c in known.values()}
    if not t.has(col) or n == 0:
        return out, 0
    codes, values = t.codes(col)
    norm = {k.casefold(): c for k, c in known.items()}
    bits = np.zeros((len(values), len(known)), bool)
    odd = np.zeros(len(values), bool)
    names = list(known.values())
    for i, v in enumerate(values):  # distinct answer combinations only (a few hundred at most)
        for part in v.replace("|", ";").split(";"):
            part = part.strip().casefold()
            if not part:
                continue
            c = norm.get(part)
            if c is None:
                odd[i] = True
            else:
                bits[i, names.index(c)] = True
    for j, c in enumerate(names):
        out[c] = bits[codes, j]
    return out, int(odd[codes].sum())


def _block(t: TableRead, cols: Mapping[str, str], keep_demographics: bool, limit: int, today: str) -> tuple:
    """Validate one block of an extract (worker thread): its accepted rows as a frame, and counts."""
    ids = t.strings("id").to_numpy(zero_copy_only=False)
    secs, st, off, bad_time = datetimes(t, "submitted_at", label=cols["submitted_at"])
    parsed = (st == dt.DT_DATE) | (st == dt.DT_DATETIME)
    wall = utc_to_local(np.where(parsed, secs, 0), off).astype("datetime64[s]").astype(np.int64)
    x, y, lng, lat, coord_problems = coordinates(
        t,
        kind="wgs84",
        x_col="lng",
        y_col="lat",
        no_coords_fix=_FIX_NOCOORD,
        what=f"{cols['lng']}/{cols['lat']}",
    )
    problems = [
        (ids == "", "missing_id", "every report needs its ID; fill it or remove the row", None),
        (st == dt.DT_EMPTY, "missing_datetime", _FIX_TIME, None),
        bad_time,
        (parsed & (wall >= limit), "date_in_future", FIX_FUTURE, f"submitted after the run date {today}"),
        *coord_problems,
    ]
    keep = t.reject(problems)
    place, op = _multi(t, "place_reasons", PLACE_REASONS)
    beh, ob = _multi(t, "behaviour_reasons", BEHAVIOUR_REASONS)
    f = pd.DataFrame({"event_id": ids[keep], "_secs": secs[keep], "_off": off[keep].astype(np.int64)})
    for c, v in (("x", x), ("y", y), ("lng", lng), ("lat", lat)):
        f[c] = v[keep]
    for d in (place, beh):
        for c, v in d.items():
            f[c] = v
    f["not_reported_reasons"] = (
        t.strings("not_reported_reasons").to_numpy(zero_copy_only=False) if t.has("not_reported_reasons") else ""
    )
    demo = 0
    for c in ("gender", "age_range"):
        if t.has(c):
            vals = t.strings(c).to_numpy(zero_copy_only=False)
            demo += int((vals != "").sum())
            if keep_demographics:
                f[c] = vals
    f["source_line"] = t.line
    return f, op, ob, demo


def read_streetsafe(
    paths: Iterable[str | Path],
    *,
    columns: Mapping[str, str] | None = None,
    keep_demographics: bool = False,
    synthetic: bool | None = None,
    today=None,
    workers: int = 2,
) -> IngestResult:
    r"""Read StreetSafe report extracts into events, quarantine and reconciliation.

    Parameters
    ----------
    paths : iterable of path
        CSV or CSV.gz extracts. A report ID seen twice keeps the later row.
    columns : mapping, optional
        Overrides of :data:`STREETSAFE_COLUMNS`.
    keep_demographics : bool, default False
        Keep ``gender`` and ``age_range``; otherwise they are dropped at read.
    synthetic : bool, optional
        Default: whether a file is marked synthetic.
    today : date or str, optional
        The run date (default: the machine's date); reports submitted after it
        are quarantined as ``date_in_future``.
    workers : int, default 2
        Threads validating blocks (files are read in blocks of bounded size).

    Returns
    -------
    IngestResult
        ``events`` columns: ``event_id``, ``source`` ("streetsafe"),
        ``synthetic``, ``submitted_at`` (UK local time), ``t_from``/``t_to``
        (null: the time of the experience is not known), ``time_resolved``
        (False), ``month`` (of submission), ``x``, ``y``, ``lng``, ``lat``,
        one bool column per place and behaviour answer (see
        :data:`PLACE_REASONS`, :data:`BEHAVIOUR_REASONS`),
        ``not_reported_reasons``, [``gender``, ``age_range``],
        ``source_file``, ``source_line``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ss.csv"
    >>> _ = p.write_text(
    ...     "id,submitted_at,latitude,longitude,place_reasons,behaviour_reasons,gender\n"
    ...     "r1,2024-07-05T22:14:03Z,51.3819,-2.3594,Badly lit;Rundown,Being followed,Woman\n"
    ...     "r2,2024-07-05T23:00:00Z,,,,,\n")
    >>> res = read_streetsafe([p])
    >>> ev = res.events.to_pandas()
    >>> str(ev.loc[0, "submitted_at"]), bool(ev.loc[0, "place_badly_lit"]), "gender" in ev
    ('2024-07-05 23:14:03', True, False)
    >>> res.reconciliation["total"]["quarantined_by_reason"]
    {'no_coordinates': 1}
    """
    cols = resolve_columns(STREETSAFE_COLUMNS, columns, what="StreetSafe")
    paths = file_list(paths, reader="read_streetsafe")
    run_day = _dt.date.fromisoformat(str(today)[:10]) if today is not None else _dt.date.today()
    limit = future_limit(run_day)
    ledgers = open_tables(
        paths,
        columns=cols,
        required=["id", "submitted_at", "lat", "lng"],
        header_fix="map this extract's column names with [streetsafe.columns] in the force config",
        redact=() if keep_demographics else ("gender", "age_range"),
        redact_unmapped=True,
    )
    frames = []
    odd_place = odd_beh = 0
    demographics_present = 0
    for i, led in enumerate(ledgers):
        fn = partial(_block, cols=cols, keep_demographics=keep_demographics, limit=limit, today=run_day.isoformat())
        for f, op, ob, demo in map_blocks(led, fn, workers=workers):
            f["_file"] = i
            frames.append(f)
            odd_place += op
            odd_beh += ob
            demographics_present += demo
    tables = ledgers
    ev = pd.concat(frames, ignore_index=True)
    ev = drop_repeated_ids(ev, tables, fix="the same report ID is in a later row or file, which was kept")
    wall = utc_to_local(ev["_secs"].to_numpy(), ev["_off"].to_numpy())
    synth = any(is_synthetic_file(p) for p in paths) if synthetic is None else bool(synthetic)
    out = pd.DataFrame(
        {
            "event_id": ev["event_id"].astype(str),
            "source": "streetsafe",
            "synthetic": synth,
            "submitted_at": wall.astype("datetime64[s]"),
            "t_from": pd.Series(pd.NaT, index=ev.index, dtype="datetime64[s]"),
            "t_to": pd.Series(pd.NaT, index=ev.index, dtype="datetime64[s]"),
            "time_resolved": False,
            "month": pd.PeriodIndex(wall.astype("datetime64[s]"), freq="M"),
        }
    )
    keep_cols = [c for c in ev.columns if not c.startswith("_") and c != "event_id"]
    out = pd.concat([out, ev[keep_cols]], axis=1)
    out["source_file"] = pd.Categorical.from_codes(ev["_file"].to_numpy(), categories=pd.Index([p.name for p in paths]))
    accepted = np.bincount(ev["_file"].to_numpy(), minlength=len(paths))
    extra = {
        "coverage": coverage(wall.astype("datetime64[s]").astype(np.int64)),
        "time_basis": "submission time (UK local); not the time of the experience",
        "place_answers_unrecognised": odd_place,
        "behaviour_answers_unrecognised": odd_beh,
        "demographics": "kept" if keep_demographics else f"dropped at read ({demographics_present} non-blank cells)",
    }
    rec = reconcile("streetsafe", tables, accepted, extra=extra)
    rec["synthetic"] = synth
    return IngestResult(events=events_table(out), quarantine=assemble_quarantine(tables), reconciliation=rec)
