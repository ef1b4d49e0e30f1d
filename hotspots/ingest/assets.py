"""Read point assets of a partnership: CCTV cameras, street lights (an ID and a location each)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from hotspots.errors import ParameterError
from hotspots.ingest.common import coordinates, events_table, reconcile, strings_or_blank
from hotspots.ingest.police_uk import IngestResult
from hotspots.ingest.table import assemble_quarantine, read_table

__all__ = ["ASSET_COLUMNS", "read_assets"]

ASSET_COLUMNS = {"id": "camera_id", "name": "location", "lng": "lon", "lat": "lat", "easting": "", "northing": ""}


def read_assets(paths: Iterable[str | Path], *, kind: str, columns: Mapping[str, str] | None = None) -> IngestResult:
    """Read point assets (CCTV cameras, street lights) into a table.

    Parameters
    ----------
    paths : iterable of path
    kind : str
        What the points are (``"cctv"``, ``"street_light"``): the ``kind`` column.
    columns : mapping, optional
        Overrides of ``{"id", "name", "lng", "lat", "easting", "northing"}``
        (default: Trafford's CCTV layout ``camera_id, location, lon, lat``);
        set ``easting``/``northing`` (and blank ``lng``/``lat``) for metres.

    Returns
    -------
    IngestResult
        ``events``: ``asset_id``, ``kind``, ``name``, ``x``, ``y``, ``lng``,
        ``lat``, ``source_file``, ``source_line``.

    Examples
    --------
    >>> res = read_assets(["data/partnership/trafford_cctv_cameras.csv"], kind="cctv")
    >>> len(res.events), res.reconciliation["total"]["balanced"]
    (163, True)
    """
    cols = dict(ASSET_COLUMNS)
    cols.update(columns or {})
    use_bng = bool(cols.get("easting")) and bool(cols.get("northing"))
    xc, yc = ("easting", "northing") if use_bng else ("lng", "lat")
    tables, frames = [], []
    for p in map(Path, paths):
        t = read_table(p, columns=cols, required=["id", xc, yc], header_fix="map the asset file's columns")
        x, y, lng, lat, cp = coordinates(
            t,
            kind="bng" if use_bng else "wgs84",
            x_col=xc,
            y_col=yc,
            no_coords_fix="the asset has no location; add it or remove the row",
            what=f"{cols[xc]}/{cols[yc]}",
        )
        keep = t.reject(cp)
        frames.append(
            pd.DataFrame(
                {
                    "asset_id": strings_or_blank(t, "id"),
                    "kind": kind,
                    "name": strings_or_blank(t, "name"),
                    "x": x[keep],
                    "y": y[keep],
                    "lng": lng[keep],
                    "lat": lat[keep],
                    "source_file": p.name,
                    "source_line": t.line,
                }
            )
        )
        tables.append(t)
    if not tables:
        raise ParameterError("read_assets needs at least one file")
    out = pd.concat(frames, ignore_index=True)
    rec = reconcile(kind, tables, [len(f) for f in frames])
    return IngestResult(events=events_table(out), quarantine=assemble_quarantine(tables), reconciliation=rec)
