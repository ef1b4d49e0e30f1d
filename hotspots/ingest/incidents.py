"""Read a partner's incident log with full date-times (e.g. Avon Fire & Rescue's open incident data)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots.errors import ParameterError
from hotspots.ingest import _datetimes as dt
from hotspots.ingest.common import (
    coverage,
    datetimes,
    events_table,
    is_synthetic_file,
    paren_coordinates,
    reconcile,
    strings_or_blank,
    utc_to_local,
)
from hotspots.ingest.police_uk import IngestResult
from hotspots.ingest.table import assemble_quarantine, read_table

__all__ = ["INCIDENT_COLUMNS", "read_incidents"]

INCIDENT_COLUMNS = {
    "id": "incident_number",
    "datetime": "datetime",
    "location": "location",
    "category": "incident_category",
    "type": "type_0",
    "subtype": "type_1",
}


def read_incidents(
    paths: Iterable[str | Path],
    *,
    source: str = "fire",
    columns: Mapping[str, str] | None = None,
    dayfirst: bool = False,
) -> IngestResult:
    """Read a partner's incident log with full date-times (default: Avon Fire & Rescue's open data).

    Date-times written with a UTC offset (``01/05/2010 08:47:06 AM +0000``)
    are converted to UK local time; the location is Socrata's
    ``"(lat, lon)"`` cell. Default ``dayfirst=False``: that export is
    month-first (US style), as its ``05/24/2012`` dates show.

    Returns
    -------
    IngestResult
        ``events``: ``event_id``, ``source``, ``t_from``, ``t_to`` (equal:
        point times), ``time_resolved`` (True), ``month``, ``category``,
        ``type``, ``subtype``, ``x``, ``y``, ``lng``, ``lat``,
        ``source_file``, ``source_line``.

    Examples
    --------
    >>> res = read_incidents(["data/partnership/Avon_Fire_and_Rescue_Incidents_BANES.csv.gz"])
    >>> res.reconciliation["total"]["rows_read"], res.reconciliation["total"]["balanced"]
    (10210, True)
    """
    cols = dict(INCIDENT_COLUMNS)
    cols.update(columns or {})
    tables, frames = [], []
    for p in map(Path, paths):
        t = read_table(
            p, columns=cols, required=["id", "datetime", "location"], header_fix="map the incident file's columns"
        )
        secs, st, off, bad = datetimes(t, "datetime", dayfirst=dayfirst, label=cols["datetime"])
        x, y, lng, lat, cp = paren_coordinates(
            t, "location", cols["location"], "the incident has no location; it cannot be placed"
        )
        problems = [
            (st == dt.DT_EMPTY, "missing_datetime", "every incident needs its date-time", None),
            bad,
            *cp,
        ]
        keep = t.reject(problems)
        wall = utc_to_local(secs[keep], off[keep])
        f = pd.DataFrame(
            {
                "event_id": strings_or_blank(t, "id"),
                "source": source,
                "t_from": wall.astype("datetime64[s]"),
                "t_to": wall.astype("datetime64[s]"),
                "time_resolved": True,
                "category": strings_or_blank(t, "category"),
                "type": strings_or_blank(t, "type"),
                "subtype": strings_or_blank(t, "subtype"),
                "x": x[keep],
                "y": y[keep],
                "lng": lng[keep],
                "lat": lat[keep],
                "source_file": p.name,
                "source_line": t.line,
            }
        )
        f["month"] = pd.PeriodIndex(f["t_from"], freq="M")
        frames.append(f)
        tables.append(t)
    if not tables:
        raise ParameterError("read_incidents needs at least one file")
    out = pd.concat(frames, ignore_index=True)
    secs_all = out["t_from"].to_numpy().astype("datetime64[s]").astype(np.int64)
    rec = reconcile(
        source,
        tables,
        [len(f) for f in frames],
        extra={
            "coverage": coverage(secs_all),
            "dayfirst": dayfirst,
            "synthetic": any(is_synthetic_file(t.path) for t in tables),
        },
    )
    return IngestResult(events=events_table(out), quarantine=assemble_quarantine(tables), reconciliation=rec)
