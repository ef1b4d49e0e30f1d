"""Build a force's outputs from its config (the ``safer-spaces profile`` command).

For now: ingest the police.uk data, grid it into H3 cells over the whole
force area, and write an HTML page with a map of VAWG-relevant crime per
hexagon and the reconciliation. Later issues grow this into the full problem
profile.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from hotspots.boundaries import read_boundary
from hotspots.config import Config, check_inputs, config_to_dict
from hotspots.grid import _cells_to_str, boundary_to_cells, cells_to_int, cells_to_polygons, events_to_cells
from hotspots.ingest.police_uk import read_police_uk
from hotspots.io import RUN_RECORD, atomic_dir, check_output_dir, events_to_frame, write_ingest_outputs, write_json

__all__ = ["run", "study_area_grid", "describe_cells"]


def study_area_grid(events: pd.DataFrame, study_cells: np.ndarray, *, resolution: int, interest: tuple[str, ...]):
    """Per-cell counts over the whole study area (zeros included).

    Parameters
    ----------
    events : DataFrame
        Events inside the force area, with ``lat``, ``lng``, ``crime_type``.
    study_cells : ndarray of str
        Every cell of the force area (:func:`hotspots.grid.boundary_to_cells`).
    resolution : int
        H3 resolution.
    interest : tuple of str
        Crime types counted in ``count_interest``.

    Returns
    -------
    GeoDataFrame
        ``h3_cell``, ``count_all``, ``count_interest``, one ``count_<type>``
        per type of interest, ``geometry`` (WGS84 hexagons). Totals equal the
        number of events given.
    """
    import geopandas as gpd

    long = events_to_cells(events, resolution=resolution, by=["crime_type"])
    long["crime_type"] = long["crime_type"].astype(str)
    wide = long.pivot_table(index="h3_cell", columns="crime_type", values="count", aggfunc="sum", fill_value=0)
    study_int = cells_to_int(study_cells)
    wide.index = cells_to_int(wide.index.to_numpy())
    cells_int = np.union1d(study_int, wide.index.to_numpy())
    wide = wide.reindex(cells_int, fill_value=0)
    cells = _cells_to_str(cells_int)
    out = pd.DataFrame({"h3_cell": cells, "count_all": wide.sum(axis=1).to_numpy()})
    for t in interest:
        out[_slug(t)] = wide[t].to_numpy() if t in wide.columns else 0
    out["count_interest"] = out[[_slug(t) for t in interest]].sum(axis=1)
    out["in_study_area"] = np.isin(cells_int, study_int)
    return gpd.GeoDataFrame(out, geometry=cells_to_polygons(cells).to_numpy(), crs="EPSG:4326")


def describe_cells(events: pd.DataFrame, cells, *, resolution: int) -> pd.DataFrame:
    """The main police.uk map point and LSOA of each given cell, from its events.

    Parameters
    ----------
    events : DataFrame
        ``lat``, ``lng``, ``location``, ``lsoa_name`` of the events to describe.
    cells : array-like of str
        H3 cells wanted.
    resolution : int
        H3 resolution of ``cells``.

    Returns
    -------
    DataFrame
        Indexed by ``h3_cell``: ``top_location``, ``top_location_share`` (of
        the cell's events), ``top_lsoa_name``.
    """
    from hotspots.grid import latlng_to_cells

    cell_of = _cells_to_str(latlng_to_cells(events["lat"].to_numpy(), events["lng"].to_numpy(), resolution=resolution))
    df = pd.DataFrame(
        {"h3_cell": cell_of, "location": events["location"].astype(str), "lsoa": events["lsoa_name"].astype(str)}
    )
    df = df[df["h3_cell"].isin(set(cells))]
    loc = df.groupby(["h3_cell", "location"]).size().rename("n").reset_index()
    loc = loc.sort_values(["h3_cell", "n", "location"], ascending=[True, False, True])
    first = loc.drop_duplicates("h3_cell").set_index("h3_cell")
    share = first["n"] / df.groupby("h3_cell").size()
    lsoa = df.groupby(["h3_cell", "lsoa"]).size().rename("n").reset_index()
    lsoa = lsoa.sort_values(["h3_cell", "n", "lsoa"], ascending=[True, False, True]).drop_duplicates("h3_cell")
    return pd.DataFrame(
        {
            "top_location": first["location"],
            "top_location_share": share,
            "top_lsoa_name": lsoa.set_index("h3_cell")["lsoa"],
        }
    )


def _problem_profile(cfg, out, result, boundary, study, combined, area, stage, share) -> dict:
    """Analyses, report.html/.pdf, map.html and summary.json (restricted, and shared when asked)."""
    from profiles.problem_profile import assemble, write_outputs

    with stage("hotspots, trends and context"):
        P = assemble(cfg, police_uk=result, boundary=boundary, study_cells=study, combined=combined, area=area)
    P["puk_rec"] = result.reconciliation
    P["n_study_cells"] = len(study)
    P["weekday_pngs"] = {
        k.removeprefix("weekday_hour_"): out / f"{k}.png" for k in combined.outputs if k.startswith("weekday_hour_")
    }
    if (out / "risky_facilities.png").exists():
        P["risky_png"] = out / "risky_facilities.png"
    labels = describe_cells(P["vawg"], combined.places.head(20)["h3_cell"], resolution=cfg.grid.h3_resolution)
    P["cell_labels"] = {c: f"{r.top_location}, {r.top_lsoa_name}" for c, r in labels.iterrows()}
    imd = P.get("cell_imd")
    P["cell_lsoa"] = {c: (imd.loc[c, "lsoa"] if imd is not None and c in imd.index else None) for c in labels.index}
    P["cell_decile"] = {
        c: (int(imd.loc[c, "d"]) if imd is not None and c in imd.index and pd.notna(imd.loc[c, "d"]) else None)
        for c in labels.index
    }
    if cfg.data.local_authorities:
        import geopandas as gpd

        P["las"] = gpd.GeoDataFrame(pd.concat([read_boundary(p) for p in cfg.data.local_authorities]), crs="EPSG:27700")
    shared = cfg.disclosure.share if share is None else share
    return write_outputs(P, combined, out=out, shared_too=shared, threshold=cfg.disclosure.threshold, stage=stage)


def _to_bng(area, boundary):
    """The force area in EPSG:27700 (the boundary's CRS may be WGS84)."""
    if area is None:
        return None
    if boundary.crs is not None and boundary.crs.to_epsg() != 27700:
        import shapely

        return shapely.union_all(boundary.to_crs("EPSG:27700").geometry.to_numpy())
    return area


def _slug(name: str) -> str:
    return "count_" + "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_").replace("__", "_")


class _Stages:
    """Times each stage of a run and logs it as it ends (progress for a run of tens of seconds)."""

    def __init__(self):
        import time

        self._clock = time.perf_counter
        self.t0 = self._clock()
        self.times: dict[str, float] = {}

    def __call__(self, name: str):
        import contextlib

        @contextlib.contextmanager
        def stage():
            import logging

            t = self._clock()
            logging.getLogger("safer_spaces").info("stage: %s ...", name)
            yield
            self.times[name] = round(self._clock() - t, 3)
            logging.getLogger("safer_spaces").info("stage: %s done in %.1f s", name, self.times[name])

        return stage()


def run(cfg: Config, *, out_dir: str | os.PathLike, progress: bool | None = None, share: bool | None = None) -> dict:
    """Build a force's outputs from its config, atomically; returns what was written.

    Every input the config names, and the output folder, are checked before
    the first stage (so an error then means nothing was written). The whole
    output, ``shared/`` included, is built in a hidden staging folder beside
    ``out_dir`` and swapped into place only when complete, with the
    completion record ``run_complete.json`` (input hashes, config hash,
    outputs) written last (:func:`hotspots.io.atomic_dir`): a failed or
    killed run leaves the previous output as it was.

    Parameters
    ----------
    cfg : Config
        Loaded force config.
    out_dir : path
        Output folder: new, empty, or a previous Safer Spaces output (replaced).
    progress : bool, optional
        Progress bars; by default when stderr is a terminal.
    share : bool, optional
        Also write the disclosure-controlled version to ``<out_dir>/shared/``
        (default: the config's ``disclosure.share``).

    Returns
    -------
    dict
        ``reconciliation``, ``outputs`` (final paths) and ``run`` (the audit
        record, with the time of every stage).

    Raises
    ------
    ConfigError
        An input the config names is missing, unreadable or empty.
    ParameterError
        ``out_dir`` is a file, or a non-empty folder that is not a Safer Spaces output.
    hotspots.io.OutputWriteError
        The output cannot be written (disk full, read-only, no permission).
    """
    out = Path(out_dir)
    inputs = list(check_inputs(cfg))
    if cfg.source_file is not None:
        inputs.append(Path(cfg.source_file))
    check_output_dir(out)
    final = Path(os.path.abspath(out))
    with atomic_dir(out, command="profile", inputs=inputs, config=config_to_dict(cfg)) as staging:
        return _build(cfg, staging, final, progress=progress, share=share)


def _final_paths(outputs: dict, staging: Path, final: Path) -> dict[str, str]:
    """Output paths as they will be once the staging folder is in place."""
    moved = {}
    for k, v in outputs.items():
        p = Path(v)
        try:
            moved[k] = str(final / p.relative_to(staging))
        except ValueError:
            moved[k] = str(p)
    return moved


def _build(cfg: Config, out: Path, final: Path, *, progress: bool | None, share: bool | None) -> dict:
    """Every stage of the profile, written into ``out`` (the staging folder); paths reported under ``final``."""
    from profiles.page import render_demo_page

    stage = _Stages()
    res_h3 = cfg.grid.h3_resolution
    boundary = read_boundary(cfg.data.boundary) if cfg.data.boundary else None
    area = shapely.union_all(boundary.geometry.to_numpy()) if boundary is not None else None

    with stage("ingest police.uk"):
        result = read_police_uk(cfg.data.police_uk, boundary=area, progress=progress)
        outputs = {k: str(v) for k, v in write_ingest_outputs(result, out).items()}
    rec = result.reconciliation

    ev = events_to_frame(
        result.events, ["lat", "lng", "source", "month", "crime_type", "location", "lsoa_name", "in_force_area"]
    )
    if area is not None:
        ev = ev[ev["in_force_area"].fillna(False).astype(bool)]
        study = boundary_to_cells(boundary, resolution=res_h3)
    else:
        study = np.unique(events_to_cells(ev, resolution=res_h3, by=[])["h3_cell"].to_numpy())
    interest = cfg.offences.crime_types_of_interest

    with stage("grid"):
        monthly = events_to_cells(ev, resolution=res_h3, by=["source", "month", "crime_type"])
        monthly["month"] = monthly["month"].astype(str)
        p_monthly = out / f"counts_h3r{res_h3}_monthly.parquet"
        monthly.to_parquet(p_monthly, index=False)
        grid = study_area_grid(ev, study, resolution=res_h3, interest=interest)
        p_grid = out / f"grid_h3r{res_h3}.parquet"
        grid.to_parquet(p_grid, index=False)
        p_geojson = out / f"grid_h3r{res_h3}.geojson"
        grid[grid["count_all"] > 0].to_file(p_geojson, driver="GeoJSON")
        outputs.update(counts_monthly=str(p_monthly), grid=str(p_grid), grid_geojson=str(p_geojson))

    combined = None
    if cfg.rms.files or cfg.streetsafe.files or cfg.ae.files or cfg.partnership.venues:
        from profiles.combine import combine_sources

        with stage("combine sources"):
            combined = combine_sources(cfg, out_dir=out, police_uk=result, area=_to_bng(area, boundary))
        outputs.update(combined.outputs)

    top = grid.sort_values(["count_interest", "count_all"], ascending=False).head(15)
    top = top.join(describe_cells(ev[ev["crime_type"].isin(interest)], top["h3_cell"], resolution=res_h3), on="h3_cell")
    marking = cfg.force.security_classification
    title = f"{' / '.join(interest)}: police.uk crimes per H3 cell (res {res_h3}), {_period(rec)}"
    with stage("demo page"):
        outputs.update(
            render_demo_page(
                cfg,
                grid=grid,
                top=top,
                boundary=boundary,
                reconciliation=rec,
                map_title=title,
                out_dir=out,
                n_grid_events=len(ev),
                combined=combined,
            )
        )
    if combined is not None:
        outputs.update(_problem_profile(cfg, out, result, boundary, study, combined, area, stage, share))
    outputs = _final_paths(outputs, out, final)
    run_record = {
        "tool": "safer-spaces",
        "version": _version(),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "security_classification": marking,
        "config": config_to_dict(cfg),
        "inputs": [{"file": f["path"], "sha256": f["sha256"]} for f in rec["files"]],
        "grid": {
            "h3_resolution": res_h3,
            "study_area_cells": int(len(study)),
            "events_gridded": int(len(ev)),
            "events_outside_force_area": rec.get("rows_outside_boundary"),
            "count_all_total": int(grid["count_all"].sum()),
        },
        "outputs": outputs,
    }
    if combined is not None:
        run_record["definitions"] = combined.definitions
        run_record["synthetic_sources"] = combined.synthetic_sources
        run_record["sources"] = {
            name: {
                "total": r["total"],
                "synthetic": r.get("synthetic", False),
                "inputs": [{"file": f["path"], "sha256": f["sha256"]} for f in r["files"]],
            }
            for name, r in combined.reconciliations.items()
        }
    run_record["stage_seconds"] = stage.times
    run_record["total_seconds"] = round(sum(stage.times.values()), 3)
    write_json(run_record, out / "run.json")
    outputs["run"] = str(final / "run.json")
    outputs["run_complete"] = str(final / RUN_RECORD)
    return {"reconciliation": rec, "outputs": outputs, "run": run_record}


def _period(rec: dict) -> str:
    cov = next(iter(rec["coverage"].values()), None)
    return f"{cov['first_month']} to {cov['last_month']}" if cov else "no data"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("safer-spaces")
    except PackageNotFoundError:
        return "unknown"
