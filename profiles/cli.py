"""``safer-spaces`` command line: thin wrappers over the package functions.

Exit codes (the contract every command keeps):

== ==========================================================================
0  done (rows may have been quarantined: see the summary and warnings)
1  done, but an input file was damaged (truncated or corrupt) and rows after
   the damage are missing; the outputs say which file and line. ``stra`` and
   ``national``: done, but a summary was left out or a force's run failed
   (each named, and listed in the STRA and its audit)
2  nothing done: unusable input, config or parameters (including a grid or
   neighbourhood too large for the memory budget, an output folder that is
   read-only, full or a file); one line names the file, problem and fix,
   and no output was written
3  internal error (a bug): one line says where the full traceback was saved
   (a private file under ``$XDG_STATE_HOME/safer-spaces`` or
   ``~/.local/state/safer-spaces``, else the temporary folder); please report it
130 interrupted (Ctrl-C): nothing was written
== ==========================================================================

No Python traceback ever reaches the terminal, and nothing printed quotes row
contents: counts and file names only. Warnings from other libraries are
printed with quoted text removed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import logging
import os
import re
import shlex
import signal
import sys
import tempfile
import threading
import traceback
import warnings
from pathlib import Path

from hotspots.config import config_to_dict, load_config
from hotspots.errors import MEMORY_BUDGET_ENV, OutputError, ParameterError, SaferSpacesError, format_bytes
from hotspots.io import (
    RUN_RECORD,
    atomic_dir,
    atomic_files,
    is_complete_output,
    note_stop_request,
    write_csv,
    write_dbscan,
    write_ingest_outputs,
    write_raster,
)
from profiles import commands, pipeline
from profiles.national import load_national_config, run_national
from profiles.stra.config import load_stra_config
from profiles.stra.pipeline import STRA_MAIN_OUTPUTS, run_stra
from profiles.synth_cli import add_synth_parser, run_synth

log = logging.getLogger("safer_spaces")

EXIT_OK = 0
EXIT_DAMAGED = 1
EXIT_UNUSABLE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130
TEST_CRASH_ENV = "SAFER_SPACES_TEST_CRASH"  # test hook: "internal" or "memory", optionally "@write"
_OWN_MODULES = ("safer_spaces", "hotspots", "profiles", "apps", "__main__")
#: what ``profile`` lists when done (relative names; the rest is in run.json)
PROFILE_MAIN_OUTPUTS = (
    "report.html",
    "report.pdf",
    "map.html",
    "summary.json",
    "shared/report.html",
    "shared/report.pdf",
    "shared/map.html",
    "shared/summary.json",
)


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (exit 2), like every other error."""

    def error(self, message: str):
        self.exit(EXIT_UNUSABLE, f"error: {_one_line(message)}. Fix: see {self.prog} --help\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="safer-spaces",
        description="VAWG hotspot analysis and force problem profiles from police.uk, RMS, StreetSafe and "
        "partner data.",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    p.add_argument(
        "--progress", choices=["auto", "on", "off"], default="auto", help="progress bars (auto: when a terminal)"
    )
    sub = p.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="read source data into events, quarantine and reconciliation")
    ing_sub = ing.add_subparsers(dest="source", required=True)
    puk = ing_sub.add_parser("police-uk", help="police.uk street-level CSVs (.csv, .csv.gz, folders of months)")
    puk.add_argument("paths", nargs="+", type=Path, help="files or folders; later = newer download vintage")
    puk.add_argument("--out", required=True, type=Path, help="output folder")
    puk.add_argument("--boundary", type=Path, help="force boundary (GeoJSON/GPKG/CSV-WKT): flag events outside it")

    for name, help_ in commands.INGEST_SOURCES.items():
        sp = ing_sub.add_parser(name, help=help_)
        sp.add_argument("paths", nargs="+", type=Path, help="CSV or CSV.gz files; later files win on repeated IDs")
        sp.add_argument("--out", required=True, type=Path, help="output folder")
        sp.add_argument("--config", type=Path, help="force config whose column mapping and options to use")

    add_synth_parser(sub)

    kd = sub.add_parser("kde", help="kernel density surface (QGIS Heatmap grid and kernels) as a GeoTIFF")
    kd.add_argument("points", type=Path, help="CSV, GeoPackage/GeoJSON or (Geo)Parquet of points")
    kd.add_argument("--radius-m", type=float, help="kernel radius in metres (with --bandwidth fixed)")
    kd.add_argument("--pixel-m", type=float, required=True, help="pixel size in metres")
    kd.add_argument(
        "--kernel", default="quartic", choices=["quartic", "triangular", "uniform", "triweight", "epanechnikov"]
    )
    kd.add_argument("--decay", type=float, default=0.0, help="triangular kernel: value at the radius / peak")
    kd.add_argument("--output", default="raw", choices=["raw", "scaled"])
    kd.add_argument("--weight", help="column of weights (e.g. harm weight)")
    kd.add_argument("--x-col")
    kd.add_argument("--y-col")
    kd.add_argument("--crs", help="CRS of CSV coordinates (default EPSG:27700 for x/y)")
    kd.add_argument("--grid", default="qgis", choices=["qgis", "boundary"])
    kd.add_argument("--boundary", type=Path, help="boundary file for --grid boundary")
    kd.add_argument("--bandwidth", default="fixed", choices=["fixed", "arcgis", "nrd"])
    kd.add_argument("--bandwidth-adjust", type=float, default=1.0, help="multiplier for --bandwidth nrd")
    kd.add_argument("--method", default="exact", choices=["exact", "fft"])
    kd.add_argument("--qgis-compat", action="store_true", help="reproduce QGIS 3.22 bit for bit")
    kd.add_argument("--out", required=True, type=Path, help="output GeoTIFF")

    gi = sub.add_parser("gistar", help="Getis-Ord Gi* hot and cold spots on H3 cells (FDR on by default)")
    gi.add_argument("points", type=Path, help="CSV, GeoPackage/GeoJSON or (Geo)Parquet of points")
    gi.add_argument("--resolution", type=int, default=9, help="H3 resolution 7-11 (default 9)")
    gi.add_argument("--lng-col")
    gi.add_argument("--lat-col")
    gi.add_argument("--x-col")
    gi.add_argument("--y-col")
    gi.add_argument("--crs", help="CRS of --x-col/--y-col (default EPSG:27700)")
    gi.add_argument("--weight", help="column to sum per cell instead of counting")
    gi.add_argument("--k", type=int, default=1, help="k-ring neighbourhood (default 1)")
    gi.add_argument("--study-area", default="ring:1", help="occupied | ring:K | a boundary file (every cell of it)")
    gi.add_argument("--permutations", type=int, default=0, help="0, 99, 999 ... (conditional randomisation)")
    gi.add_argument("--alpha", type=float, default=0.05)
    gi.add_argument(
        "--fdr",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Benjamini-Hochberg false discovery rate correction (default on, as ArcGIS)",
    )
    gi.add_argument("--seed", type=int, default=None)
    gi.add_argument("--out", required=True, type=Path, help="output CSV, one row per cell")

    db = sub.add_parser("dbscan", help="DBSCAN clusters (exact, O(N) memory), snap-point duplicates as weights")
    db.add_argument("points", type=Path, help="CSV, GeoPackage/GeoJSON or (Geo)Parquet of points in metres")
    db.add_argument("--eps-m", type=float, required=True)
    db.add_argument("--min-samples", type=int, required=True)
    db.add_argument("--weight", help="column of weights (duplicates as counts)")
    db.add_argument("--x-col")
    db.add_argument("--y-col")
    db.add_argument("--crs", help="CRS of CSV x/y (default EPSG:27700)")
    db.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output: FILE.csv (labels) and FILE_clusters.geojson (hulls); .gpkg/.parquet also work",
    )

    prof = sub.add_parser("profile", help="build a force's outputs from its config")
    prof.add_argument("config", type=Path, help="force config TOML, e.g. configs/avon-and-somerset.toml")
    prof.add_argument("--out", required=True, type=Path, help="output folder")
    sh = prof.add_mutually_exclusive_group()
    sh.add_argument(
        "--share",
        dest="share",
        action="store_true",
        default=None,
        help="also write the disclosure-controlled version to OUT/shared/ (config: disclosure.share)",
    )
    sh.add_argument("--no-share", dest="share", action="store_false", help="restricted outputs only")

    st = sub.add_parser("stra", help="compile the national STRA from force summary.json files")
    st.add_argument("summaries", nargs="+", help="summary.json files, folders holding them, or glob patterns")
    st.add_argument("--out", required=True, type=Path, help="output folder")
    st.add_argument("--config", type=Path, help="STRA config TOML ([stra] table), e.g. configs/stra.toml")
    st.add_argument("--no-share", dest="share", action="store_false", default=None, help="restricted outputs only")
    st.add_argument("--no-pdf", dest="pdf", action="store_false", help="skip stra.pdf")

    na = sub.add_parser("national", help="run every force's profile numbers on Dask, then compile the STRA")
    na.add_argument("config", type=Path, help="national config TOML, e.g. configs/national-demo.toml")
    na.add_argument("--out", required=True, type=Path, help="output folder")
    na.add_argument("--scheduler", help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: local)")
    na.add_argument("--no-pdf", dest="pdf", action="store_false", help="skip stra.pdf")
    return p


def _progress(flag: str) -> bool | None:
    return {"auto": None, "on": True, "off": False}[flag]


# ------------------------------------------------------------------------------------------------
# Reconciliation: counts, file names and reader warnings, never row contents
# ------------------------------------------------------------------------------------------------

_MAX_LISTED_MONTHS = 12


def _months_text(months: list[str]) -> str:
    """Missing months for a warning: all of them when few, else the count and the first and last few."""
    if len(months) <= _MAX_LISTED_MONTHS:
        return ", ".join(months)
    return f"{len(months):,} months ({', '.join(months[:3])} ... {', '.join(months[-3:])}; all in reconciliation.json)"


def _file_warnings(f: dict) -> int:
    """Log one input file's damage and reader warnings; EXIT_DAMAGED when rows after damage are missing."""
    code = EXIT_OK
    truncated = f.get("truncated")
    if truncated:
        line = f.get("damaged_after_line")
        if line is None and "rows_read" in f:
            line = f["rows_read"] + f.get("blank_lines", 0) + 1
        after = f"rows after line {line:,} are missing" if line is not None else "rows after the damage are missing"
        log.warning("%s: %s; %s. Fix: re-download or re-send the file", f["file"], truncated, after)
        code = EXIT_DAMAGED
    for w in f.get("warnings") or ():
        if truncated and str(truncated) in str(w):
            continue  # said above, with the fix
        log.warning("%s: %s", f["file"], w)
    if f.get("rows_recoded_from_cp1252"):
        log.warning(
            "%s: %s rows were not UTF-8 and were read as Windows-1252 (Excel); check place names",
            f["file"],
            f"{f['rows_recoded_from_cp1252']:,}",
        )
    return code


def _print_ingest_summary(rec: dict, out: Path) -> int:
    """Print counts (never row contents) and return the exit code."""
    print(
        f"police.uk: {rec['rows_read']:,} rows read = {rec['rows_accepted']:,} accepted + "
        f"{rec['rows_quarantined']:,} quarantined ({len(rec['files'])} files)"
    )
    for reason, n in rec["by_reason"].items():
        print(f"  quarantined {n:>9,}  {reason}")
    if rec.get("rows_outside_boundary"):
        print(f"  kept, flagged outside the force boundary: {rec['rows_outside_boundary']:,}")
    code = max((_file_warnings(f) for f in rec["files"]), default=EXIT_OK)
    for force, cov in rec["coverage"].items():
        if cov["missing_months"]:
            log.warning(
                "%s: no data for %s between %s and %s; these months are reported as missing, not estimated",
                force,
                _months_text(cov["missing_months"]),
                cov["first_month"],
                cov["last_month"],
            )
    if rec["rows_quarantined"]:
        log.warning(
            "%s rows quarantined: see %s (file, line, reason, fix)",
            f"{rec['rows_quarantined']:,}",
            out / "quarantine.csv",
        )
    return code


def _print_partner_summary(src: str, rec: dict, out: Path) -> int:
    tot = rec["total"]
    tag = " [SYNTHETIC DATA]" if rec.get("synthetic") else ""
    print(
        f"{src}{tag}: {tot['rows_read']:,} rows read = {tot['rows_accepted']:,} accepted + "
        f"{tot['rows_quarantined']:,} quarantined ({len(rec['files'])} files)"
    )
    for reason, n in tot["quarantined_by_reason"].items():
        print(f"  quarantined {n:>9,}  {reason}")
    code = max((_file_warnings(f) for f in rec["files"]), default=EXIT_OK)
    if tot["rows_quarantined"]:
        log.warning(
            "%s rows quarantined: see %s (file, line, reason, fix)",
            f"{tot['rows_quarantined']:,}",
            out / "quarantine.csv",
        )
    return code


# ------------------------------------------------------------------------------------------------
# Checks before the first write
# ------------------------------------------------------------------------------------------------


def _check_output_path(path: Path, *, folder: bool, inputs=()) -> None:
    """Refuse, creating nothing, an output path that cannot be written; the io writers check again.

    The output must not be an input, must not be a folder where a file is
    meant (or a file where a folder is), no part of its parent may be a file,
    and the nearest existing folder above it must be writable.
    """
    what = "--out"
    if path.exists() and path.is_dir() != folder:
        kind, want = ("a file", "a folder") if folder else ("a folder", "a file name")
        raise ParameterError(f"{what} {path}: is {kind}. Fix: give {want} for the output")
    if folder and path.is_dir() and not is_complete_output(path) and any(path.iterdir()):
        raise ParameterError(
            f"{what} {path}: folder is not empty and is not a Safer Spaces output (no {RUN_RECORD}); it is left "
            "alone. Fix: give a new or empty folder, or a previous output folder"
        )
    for src in inputs:
        try:
            same = Path(src).exists() and path.exists() and os.path.samefile(src, path)
        except OSError:
            same = False
        if same or os.path.abspath(src) == os.path.abspath(path):
            raise ParameterError(f"{what} {path}: is the input file. Fix: write the output to another file")
    above = Path(os.path.abspath(path)).parent
    while not above.exists():
        above = above.parent
    if not above.is_dir():
        raise ParameterError(
            f"{what} {path}: {above} is a file, not a folder. Fix: give an output path inside a folder"
        )
    if not os.access(above, os.W_OK | os.X_OK):
        problem = "is on a read-only file system" if _read_only(above) else "cannot be written (permission denied)"
        raise ParameterError(
            f"{what} {path}: the folder {above} {problem}. Fix: give --out in a folder you can write to"
        )


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _space_left(path: Path) -> str:
    """Free space and the file-size limit where ``path`` goes, for a failed-write message."""
    import resource

    above = Path(os.path.abspath(path)).parent
    while not above.exists():
        above = above.parent
    try:
        st = os.statvfs(above)
        text = f"{format_bytes(st.f_bavail * st.f_frsize)} free on that disk"
    except OSError:
        text = "free space unknown"
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        text += f", file-size limit {format_bytes(soft)} (ulimit -f)"
    return text


@contextlib.contextmanager
def _writer_errors(path: Path):
    """A GDAL/OGR write failure without an errno (GeoTIFF, GeoJSON, GeoPackage) as a one-line OutputError."""
    try:
        yield
    except SaferSpacesError:
        raise
    except Exception as exc:
        module = type(exc).__module__.split(".")[0]
        if module not in ("rasterio", "pyogrio", "fiona") and not (isinstance(exc, OSError) and exc.errno is None):
            raise
        cause = exc.__cause__ or exc.__context__
        detail = type(exc).__name__  # OGR messages can hold SQL with values: only GDAL raster messages are shown
        if module == "rasterio" and cause is not None:
            detail += ": " + _redact(cause, 120)
        raise OutputError(
            str(path),
            f"writing it failed ({detail}; {_space_left(path)}); nothing was written",
            "free disk space or raise the file-size limit, or give --out on another disk",
        ) from exc


def _command_line(args) -> str:
    return "safer-spaces " + shlex.join(getattr(args, "argv", None) or [])


# ------------------------------------------------------------------------------------------------
# Commands
# ------------------------------------------------------------------------------------------------


def _cmd_ingest(args) -> int:
    """Ingest one source into an output folder swapped into place complete (run_complete.json last)."""
    cfg = load_config(args.config) if getattr(args, "config", None) else None
    _check_output_path(args.out, folder=True)
    boundary = getattr(args, "boundary", None)
    res = commands.read_source(args.source, args.paths, cfg=cfg, boundary=boundary, progress=_progress(args.progress))
    inputs = [*args.paths, *([boundary] if boundary else [])]
    with atomic_dir(
        args.out, command=_command_line(args), inputs=inputs, config=config_to_dict(cfg) if cfg else None
    ) as stage:
        _test_hook("write")
        write_ingest_outputs(res, stage)
    if args.source == "police-uk":
        code = _print_ingest_summary(res.reconciliation, args.out)
    else:
        code = _print_partner_summary(args.source, res.reconciliation, args.out)
    print(f"wrote {args.out}/events.parquet, quarantine.csv, reconciliation.json")
    return code


def _cmd_kde(args) -> int:
    side = args.out.with_name(args.out.name + ".json")
    inputs = [args.points, *([args.boundary] if args.boundary else [])]
    for target in (args.out, side):
        _check_output_path(target, folder=False, inputs=inputs)
    res = commands.kde_surface(
        args.points,
        radius_m=args.radius_m,
        pixel_m=args.pixel_m,
        grid=args.grid,
        boundary=args.boundary,
        x_col=args.x_col,
        y_col=args.y_col,
        crs=args.crs,
        bandwidth=args.bandwidth,
        bandwidth_adjust=args.bandwidth_adjust,
        kernel=args.kernel,
        decay=args.decay,
        output=args.output,
        weight=args.weight,
        qgis_compat=args.qgis_compat,
        method=args.method,
    )
    with (
        _writer_errors(args.out),
        atomic_files([args.out, side], command=_command_line(args), inputs=inputs) as (
            tmp_tif,
            _tmp_json,
        ),
    ):
        _test_hook("write")
        write_raster(res, tmp_tif)  # its sidecar lands on the temporary path of OUT.json
    p = res.params
    print(
        f"KDE {p['kernel']} {p['output']}: radius {p['radius_m']:.1f} m ({p['bandwidth_rule']}), "
        f"pixel {p['pixel_m']} m, "
        f"{p['n_points']:,} points, {res.density.shape[1]} x {res.density.shape[0]} pixels ({p['grid_kind']} grid)"
    )
    print(f"wrote {args.out} and {side}")
    return EXIT_OK


def _cmd_gistar(args) -> int:
    commands.check_gistar_options(
        resolution=args.resolution,
        k=args.k,
        permutations=args.permutations,
        alpha=args.alpha,
        study_area=args.study_area,
        crs=args.crs,
    )
    area_file = commands.gistar_study_area(args.study_area)
    inputs = [args.points, *([area_file] if area_file else [])]
    _check_output_path(args.out, folder=False, inputs=inputs)
    res = commands.gistar_cells(
        args.points,
        resolution=args.resolution,
        study_area=args.study_area,
        k=args.k,
        permutations=args.permutations,
        alpha=args.alpha,
        fdr=args.fdr,
        seed=args.seed,
        weight=args.weight,
        lng_col=args.lng_col,
        lat_col=args.lat_col,
        x_col=args.x_col,
        y_col=args.y_col,
        crs=args.crs,
    )
    with atomic_files([args.out], command=_command_line(args), inputs=inputs) as (tmp,):
        _test_hook("write")
        write_csv(res, tmp)
    if args.permutations and args.fdr:
        need = commands.permutation_cells_needed(len(res), permutations=args.permutations, alpha=args.alpha)
        if need > 1:
            log.warning(
                "with %s permutations no p-value is below %.4f; after FDR over %s cells a cell is significant only "
                "if at least %s cells reach that floor. Use the analytical p (--permutations 0) with FDR, or many "
                "more permutations",
                f"{args.permutations:,}",
                1.0 / (args.permutations + 1),
                f"{len(res):,}",
                f"{need:,}",
            )
    hot = int((res["gi_significant"] & (res["gi_z"] > 0)).sum())
    cold = int((res["gi_significant"] & (res["gi_z"] < 0)).sum())
    print(
        f"Gi* on {len(res):,} H3 cells (res {args.resolution}, k={args.k}, study area {args.study_area}): "
        f"{hot:,} hot and {cold:,} cold cells significant at {args.alpha} "
        f"({'FDR-corrected' if args.fdr else 'no FDR correction'}"
        f"{f', {args.permutations} permutations' if args.permutations else ''})"
    )
    print(f"wrote {args.out}")
    return EXIT_OK


def _cmd_dbscan(args) -> int:
    targets = commands.dbscan_targets(args.out)
    for target in targets:
        _check_output_path(target, folder=False, inputs=[args.points])
    labels, clusters, pts = commands.dbscan_clusters(
        args.points,
        eps_m=args.eps_m,
        min_samples=args.min_samples,
        weight=args.weight,
        x_col=args.x_col,
        y_col=args.y_col,
        crs=args.crs,
    )
    with _writer_errors(args.out), atomic_files(targets, command=_command_line(args), inputs=[args.points]) as temps:
        _test_hook("write")
        write_dbscan(labels, clusters, pts, temps)
    n_noise = int((labels["dbscan_cluster"] < 0).sum())
    print(
        f"DBSCAN eps {args.eps_m} m, min_samples {args.min_samples}: {len(clusters):,} clusters, "
        f"{n_noise:,} of {len(labels):,} points noise"
    )
    print(f"wrote {' and '.join(map(str, targets))}")
    return EXIT_OK


def _cmd_profile(args) -> int:
    cfg = load_config(args.config)
    _check_output_path(args.out, folder=True)
    result = pipeline.run(cfg, args.out, share=args.share, progress=_progress(args.progress))
    code = _print_ingest_summary(result["reconciliation"], args.out)
    outs = result["outputs"]
    for name in PROFILE_MAIN_OUTPUTS:
        if name in outs:
            print(f"wrote {outs[name]}")
    print(f"wrote {args.out}/ (open report.html or map.html in a browser)")
    times = result["run"].get("stage_seconds", {})
    if times:
        print("stage times: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
    return code


def _print_stra(result: dict, out: Path) -> None:
    n = result["numbers"]
    for e in result["exclusions"]:
        print(f"warning: left out {e.file} ({e.force or 'unreadable'}): {e.problem}; fix: {e.fix}", file=sys.stderr)
    if len(n.missing):
        print(f"warning: no summary from {len(n.missing)} expected force(s): {', '.join(n.missing['force'])} "
              "(listed as an intelligence gap)", file=sys.stderr)
    for name in STRA_MAIN_OUTPUTS:
        if name in result["outputs"]:
            print(f"wrote {result['outputs'][name]}")
    print(f"wrote {out}/ ({len(n.inputs)} forces compiled in {result['seconds']:.1f} s)")


def _cmd_stra(args) -> int:
    cfg = load_stra_config(args.config)
    _check_output_path(args.out, folder=True)
    result = run_stra(args.summaries, args.out, cfg, share=args.share, pdf=args.pdf, command=_command_line(args))
    _print_stra(result, args.out)
    return EXIT_DAMAGED if result["exclusions"] else EXIT_OK


def _cmd_national(args) -> int:
    cfg = load_national_config(args.config)
    _check_output_path(args.out, folder=True)
    result = run_national(cfg, args.out, scheduler=args.scheduler, pdf=args.pdf, command=_command_line(args),
                          echo=lambda line: print(line, flush=True))
    if result["stra"] is None:
        raise ParameterError("no force finished, so there is no STRA; see the failures above and re-run")
    _print_stra(result["stra"], args.out)
    for slug, why in result["failed"].items():
        print(f"warning: {slug} failed ({why}); re-run the same command to retry it alone", file=sys.stderr)
    print(f"national run: {len(result['tasks'])} force(s) done, {len(result['failed'])} failed, "
          f"{result['seconds']:.1f} s")
    return EXIT_DAMAGED if result["failed"] else EXIT_OK


def _cmd_synth(args) -> int:
    return run_synth(args)


_COMMANDS = {
    "ingest": _cmd_ingest,
    "profile": _cmd_profile,
    "kde": _cmd_kde,
    "gistar": _cmd_gistar,
    "dbscan": _cmd_dbscan,
    "synth": _cmd_synth,
    "stra": _cmd_stra,
    "national": _cmd_national,
}


# ------------------------------------------------------------------------------------------------
# Errors to the contract: one line on stderr, an exit code, never a traceback
# ------------------------------------------------------------------------------------------------

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")


def _redact(text: object, limit: int = 240) -> str:
    """Another library's message without quoted text (it may quote data), on one line, shortened."""
    one = " ".join(_QUOTED.sub("'...'", str(text)).split())
    return one if len(one) <= limit else one[: limit - 3] + "..."


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _own(name: str) -> bool:
    return name.split(".")[0] in _OWN_MODULES


class _SafeRecords(logging.Filter):
    """Other libraries' log messages lose quoted text (never row contents); tracebacks are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _own(record.name):
            record.msg, record.args = _redact(record.getMessage()), None
        record.exc_info = record.exc_text = record.stack_info = None
        return True


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Python warnings as one log line with quoted text removed.

    Libraries point their warnings at the caller (often this toolkit) and may
    quote a value from the data, so every warning is redacted the same way.
    """
    logging.getLogger("py.warnings").warning("%s: %s", category.__name__, _redact(message))


def _crash_dirs() -> list[Path]:
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return [Path(state) / "safer-spaces", Path(tempfile.gettempdir())]


def save_traceback(exc: BaseException | None, *, argv: list[str] | None = None, extra: str = "") -> Path | None:
    """Write ``exc``'s full traceback to a new private file (mode 0600) and return its path.

    The file goes under ``$XDG_STATE_HOME/safer-spaces`` (default
    ``~/.local/state/safer-spaces``), else the temporary folder, named
    ``crash-<UTC time>-<pid>.txt``. It is created exclusively (never through
    an existing file or link). Error messages in it may quote input data, so
    it is private and says so at the top. ``extra`` (what native libraries
    wrote to stderr) is appended. Returns None if no folder can be written.

    Examples
    --------
    >>> import os, stat, tempfile
    >>> os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp()
    >>> try:
    ...     raise RuntimeError("example")
    ... except RuntimeError as e:
    ...     path = save_traceback(e, argv=["kde"])
    >>> path.name.startswith("crash-"), oct(stat.S_IMODE(path.stat().st_mode)), "RuntimeError" in path.read_text()
    (True, '0o600', True)
    >>> del os.environ["XDG_STATE_HOME"]
    """
    now = dt.datetime.now(dt.UTC)
    header = (
        f"safer-spaces internal error at {now.isoformat(timespec='seconds')}\n"
        f"command: safer-spaces {shlex.join(argv or [])}\n"
        f"python {sys.version.split()[0]} on {sys.platform}\n"
        "Messages below may quote input data: check this file for personal data before sharing it.\n\n"
    )
    text = header
    if exc is not None:
        text += "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    native = extra or _captured_text()
    if native:
        text += "\nNative libraries wrote to stderr:\n" + native
    name = f"crash-{now:%Y%m%dT%H%M%SZ}-{os.getpid()}.txt"
    for i, folder in enumerate(_crash_dirs()):
        path = folder / (name if i == 0 else f"safer-spaces-{name}")
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(text)
            return path
        except OSError:
            continue
    return None


def _internal_error(exc: BaseException, argv: list[str] | None, where: str = "") -> str:
    path = save_traceback(exc, argv=argv)
    kind = type(exc).__name__
    saved = f"full traceback saved to {path}" if path else "the traceback could not be saved (no writable folder)"
    return f"internal error{where} ({kind}); {saved}; please report it (check the file for personal data first)"


_OS_FIXES = {
    errno.ENOENT: "check the path exists",
    errno.ENOTDIR: "part of the path is a file, not a folder; choose another path",
    errno.EISDIR: "the path is a folder; give a file name",
    errno.EEXIST: "a file is in the way; remove it or choose another path",
    errno.EACCES: "check the permissions, or choose a folder you can write to",
    errno.EPERM: "check the permissions, or choose a folder you can write to",
    errno.EROFS: "the file system is read-only; choose a writable folder for --out",
    errno.ENOSPC: "free disk space, or write --out to a disk with room",
    errno.EDQUOT: "free space within your quota, or write --out to a disk with room",
    errno.EFBIG: "the file-size limit was reached (ulimit -f); raise it or write to another disk",
    errno.ENAMETOOLONG: "use a shorter path",
}


def _os_error_line(exc: OSError) -> str:
    """An OSError as ``PATH: problem. Fix: ...`` (one line)."""
    problem = exc.strerror or _redact(str(exc)) or type(exc).__name__
    where = f"{exc.filename}: " if exc.filename else ""
    fix = _OS_FIXES.get(exc.errno or 0, "check the path, its permissions and the free space")
    return _one_line(f"{where}{problem}. Fix: {fix}")


def _memory_line(exc: MemoryError) -> str:
    detail = _redact(str(exc).split("\n")[0], 160) if str(exc) else "an allocation failed"
    return (
        f"not enough memory ({detail}). Fix: use coarser parameters (a larger --pixel-m, a smaller --k or a "
        f"coarser --resolution) or fewer input rows, or a machine with more memory; steps are also checked "
        f"against {MEMORY_BUDGET_ENV}"
    )


def _test_hook(point: str) -> None:
    """Test hook (``SAFER_SPACES_TEST_CRASH=internal|memory[@start|@write]``): fail on purpose at ``point``."""
    spec = os.environ.get(TEST_CRASH_ENV, "")
    if not spec:
        return
    kind, _, at = spec.partition("@")
    if (at or "start") != point:
        return
    if kind == "memory":
        raise MemoryError("Unable to allocate 64.0 TiB for an array with shape (4194304, 2097152) (test hook)")
    if kind == "internal":
        raise RuntimeError("test hook: a simulated bug; row value 'SECRET-ROW-CONTENT' must not be printed")
    if kind == "abort":
        os.write(2, b"native: simulated library abort\n")
        os.abort()


def _setup_output(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler.addFilter(_SafeRecords())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    for noisy in ("pyogrio", "fiona", "matplotlib", "numba", "rasterio", "PIL", "fontTools", "weasyprint"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    warnings.showwarning = _show_warning


def _install_background_hooks(argv: list[str] | None) -> None:
    """Exceptions in threads and finalisers: one line and a saved traceback, as in the main thread."""

    def thread_hook(hook_args) -> None:
        if hook_args.exc_type is SystemExit:
            return
        exc = hook_args.exc_value or hook_args.exc_type()
        print(f"error: {_internal_error(exc, argv, ' in a background thread')}", file=sys.stderr)

    def unraisable_hook(hook_args) -> None:
        exc = hook_args.exc_value or hook_args.exc_type()
        if isinstance(exc, KeyboardInterrupt | SystemExit):  # a stop swallowed by a finaliser is still a stop
            note_stop_request()
        log.warning("ignored %s", _internal_error(exc, argv, " while cleaning up"))

    threading.excepthook = thread_hook
    sys.unraisablehook = unraisable_hook


# ------------------------------------------------------------------------------------------------
# Supervisor: a crash of native code (abort, segfault) is one line too, and native stderr is captured
# ------------------------------------------------------------------------------------------------

_CAPTURE = None  # in the worker: the file that receives native libraries' stderr (fd 2)
_CRASH_SIGNALS = {"SIGABRT", "SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGSYS", "SIGTRAP"}
_MAX_FORWARDED = 20


def _captured_text() -> str:
    if _CAPTURE is None:
        return ""
    try:
        _CAPTURE.flush()
        return os.pread(_CAPTURE.fileno(), 1 << 20, 0).decode("utf-8", "backslashreplace")
    except OSError:
        return ""


def _die_with_parent(parent: int) -> None:
    """Linux: the worker is killed when the supervisor dies (kill -9 of the command kills the run)."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(EXIT_INTERRUPTED)


def _become_worker(capture, parent: int) -> None:
    """In the forked worker: native stderr (fd 2) into ``capture``, Python's own messages to the terminal."""
    import faulthandler

    global _CAPTURE
    _CAPTURE = capture
    _die_with_parent(parent)
    terminal = os.dup(2)
    os.dup2(capture.fileno(), 2)
    sys.stderr = os.fdopen(terminal, "w", buffering=1, encoding="utf-8", errors="backslashreplace")
    faulthandler.enable(file=capture)  # a segfault's Python stack goes to the crash file
    signal.signal(signal.SIGINT, _interrupt_once)


def _interrupt_once(signum, frame) -> None:
    """First SIGINT: stop (KeyboardInterrupt); later ones are ignored so the clean-up is not cut short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    note_stop_request()  # even if the KeyboardInterrupt is swallowed, atomic_dir will not swap the output in
    raise KeyboardInterrupt


def _forward_native(capture, code: int) -> None:
    """After the worker: what native libraries printed, redacted, as warnings (dropped for exit 2)."""
    if code == EXIT_UNUSABLE:
        return
    lines = [ln for ln in os.pread(capture.fileno(), 1 << 20, 0).decode("utf-8", "replace").splitlines() if ln.strip()]
    for ln in lines[:_MAX_FORWARDED]:
        log.warning("native library: %s", _redact(ln))
    if len(lines) > _MAX_FORWARDED:
        log.warning("native library: %s more lines not shown", f"{len(lines) - _MAX_FORWARDED:,}")


def _supervise(argv: list[str], *, quiet: bool) -> int | None:
    """Fork the worker and wait; in the worker return None (it goes on to run the command).

    The supervisor mirrors the worker's exit code, or a signal that killed it
    (so ``kill -9`` and ``kill -TERM`` look the same from outside), except that
    a crash signal (abort, segfault) becomes one line and exit 3 with the
    native messages saved to a private crash file. SIGTERM and SIGHUP are
    passed on to the worker, which removes its staging folder.
    """
    capture = tempfile.TemporaryFile()
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        _become_worker(capture, parent)
        return None
    # SIGTERM, SIGHUP and SIGINT are passed on (a terminal's Ctrl-C reaches the worker twice: it acts on
    # the first and ignores the rest, see _interrupt_once).
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: os.kill(pid, signum))
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        _setup_output(quiet)
        _forward_native(capture, code)
        return code
    sig = signal.Signals(os.WTERMSIG(status))
    if sig.name in _CRASH_SIGNALS:
        native = os.pread(capture.fileno(), 1 << 20, 0).decode("utf-8", "backslashreplace")
        path = save_traceback(None, argv=argv, extra=f"the process was killed by {sig.name}\n{native}")
        saved = f"details saved to {path}" if path else "the details could not be saved (no writable folder)"
        print(f"error: internal error (the process crashed: {sig.name}); {saved}; please report it", file=sys.stderr)
        return EXIT_INTERNAL
    with contextlib.suppress(OSError, ValueError):  # SIGKILL and SIGSTOP have no handler to reset
        signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)  # die the same way, so callers see what happened
    return 128 + sig


def _supervised() -> bool:
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``safer-spaces`` console script; returns the exit code (see the module docstring).

    Run as a command (``argv`` None) the work happens in a forked worker so
    that even a crash in native code gives one line and exit 3; called with
    ``argv`` (tests, scripts) it runs in this process.
    """
    supervise = argv is None and _supervised()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)  # usage errors: argparse's own message, exit 2
    args.argv = argv
    if supervise:
        code = _supervise(argv, quiet=args.quiet)
        if code is not None:
            return code
    _setup_output(args.quiet)
    _install_background_hooks(argv)
    try:
        _test_hook("start")
        return _COMMANDS[args.command](args)
    except SaferSpacesError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_UNUSABLE
    except MemoryError as exc:
        print(f"error: {_memory_line(exc)}", file=sys.stderr)
        return EXIT_UNUSABLE
    except OSError as exc:
        print(f"error: {_os_error_line(exc)}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        print("interrupted; no output was written or replaced", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one line here, the traceback in a private file
        print(f"error: {_internal_error(exc, argv)}", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
