"""``safer-spaces`` command line: thin wrappers over the package functions.

Exit codes: 0 done (rows may have been quarantined: see the summary);
1 done, but an input file was damaged (truncated) and rows after the damage
are missing; 2 nothing done: unusable input, config or parameters. Problems
with the data are reported in one line naming the file, line and fix, never
as a Python traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from hotspots.errors import SaferSpacesError

log = logging.getLogger("safer_spaces")

EXIT_OK = 0
EXIT_DAMAGED = 1
EXIT_UNUSABLE = 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
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

    for name, help_ in (
        ("rms", "force RMS crime export (columns mapped by [rms.columns] in --config)"),
        ("streetsafe", "StreetSafe report extract"),
        ("ae", "A&E assault extract (ISTV / Cardiff Model)"),
        ("venues", "NTE venues: Open Pubs, FSA hygiene ratings, licensing register, closing times"),
        ("cctv", "CCTV camera locations"),
        ("street-lights", "street light locations"),
        ("incidents", "partner incident log with date-times (default layout: Avon Fire & Rescue open data)"),
    ):
        sp = ing_sub.add_parser(name, help=help_)
        sp.add_argument("paths", nargs="+", type=Path, help="CSV or CSV.gz files; later files win on repeated IDs")
        sp.add_argument("--out", required=True, type=Path, help="output folder")
        sp.add_argument("--config", type=Path, help="force config whose column mapping and options to use")

    from profiles.synth_cli import add_synth_parser

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
    return p


def _progress(flag: str) -> bool | None:
    return {"auto": None, "on": True, "off": False}[flag]


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
    code = EXIT_OK
    for f in rec["files"]:
        if f["truncated"]:
            log.warning(
                "%s: %s; rows after line %s are missing. Fix: re-download the file",
                f["file"],
                f["truncated"],
                f"{f['rows_read'] + f['blank_lines'] + 1:,}",
            )
            code = EXIT_DAMAGED
        if f["rows_recoded_from_cp1252"]:
            log.warning(
                "%s: %s rows were not UTF-8 and were read as Windows-1252 (Excel); check place names",
                f["file"],
                f"{f['rows_recoded_from_cp1252']:,}",
            )
    for force, cov in rec["coverage"].items():
        if cov["missing_months"]:
            log.warning(
                "%s: no data for %s between %s and %s; these months are reported as missing, not estimated",
                force,
                ", ".join(cov["missing_months"]),
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


def _cmd_ingest_partner(args) -> int:
    """Ingest a non-police.uk source; print its reconciliation (counts only, never row contents)."""
    from hotspots.config import load_config
    from hotspots.io import write_ingest_outputs

    cfg = load_config(args.config) if args.config else None
    src = args.source
    if src == "rms":
        from hotspots.ingest.rms import read_rms

        c = cfg.rms if cfg else None
        res = read_rms(
            args.paths,
            columns=c.columns if c else None,
            dayfirst=c.dayfirst if c else True,
            synthetic=c.synthetic if c else None,
        )
    elif src == "streetsafe":
        from hotspots.ingest.streetsafe import read_streetsafe

        c = cfg.streetsafe if cfg else None
        res = read_streetsafe(
            args.paths,
            columns=c.columns if c else None,
            keep_demographics=c.keep_demographics if c else False,
            synthetic=c.synthetic if c else None,
        )
    elif src == "ae":
        from hotspots.ingest.ae import read_ae

        c = cfg.ae if cfg else None
        res = read_ae(
            args.paths,
            columns=c.columns if c else None,
            dayfirst=c.dayfirst if c else True,
            synthetic=c.synthetic if c else None,
        )
    elif src == "venues":
        from hotspots.ingest.partners import read_venues

        res = read_venues(args.paths)
    elif src in ("cctv", "street-lights"):
        from hotspots.ingest.partners import read_assets

        res = read_assets(args.paths, kind=src.replace("-", "_"))
    else:
        from hotspots.ingest.partners import read_incidents

        res = read_incidents(args.paths)
    write_ingest_outputs(res, args.out)
    rec = res.reconciliation
    tot = rec["total"]
    tag = " [SYNTHETIC DATA]" if rec.get("synthetic") else ""
    print(
        f"{src}{tag}: {tot['rows_read']:,} rows read = {tot['rows_accepted']:,} accepted + "
        f"{tot['rows_quarantined']:,} quarantined ({len(rec['files'])} files)"
    )
    for reason, n in tot["quarantined_by_reason"].items():
        print(f"  quarantined {n:>9,}  {reason}")
    code = EXIT_OK
    for f in rec["files"]:
        if f["truncated"]:
            log.warning(
                "%s: the file is cut short; rows after the damage are missing. Fix: re-send the file", f["file"]
            )
            code = EXIT_DAMAGED
    print(f"wrote {args.out}/events.parquet, quarantine.csv, reconciliation.json")
    return code


def _cmd_ingest(args) -> int:
    if args.source != "police-uk":
        return _cmd_ingest_partner(args)
    from hotspots.ingest.police_uk import read_police_uk
    from hotspots.io import write_ingest_outputs

    boundary = None
    if args.boundary:
        import shapely

        from hotspots.boundaries import read_boundary

        boundary = shapely.union_all(read_boundary(args.boundary).geometry.to_numpy())
    res = read_police_uk(args.paths, boundary=boundary, progress=_progress(args.progress))
    write_ingest_outputs(res, args.out)
    code = _print_ingest_summary(res.reconciliation, args.out)
    print(f"wrote {args.out}/events.parquet, quarantine.csv, reconciliation.json")
    return code


def _projected_points(args, metre_options: str):
    """Read POINTS; refuse degrees where the options are metres, with the fix."""
    from hotspots.errors import ParameterError
    from hotspots.io import read_points

    pts = read_points(args.points, x_col=args.x_col, y_col=args.y_col, crs=args.crs)
    if pts.crs is not None and pts.crs.is_geographic:
        raise ParameterError(
            f"{args.points} is in {pts.crs.to_string()} (degrees) but {metre_options} are metres; reproject it "
            "to EPSG:27700 first (QGIS: Export > Save Features As, or ogr2ogr -t_srs EPSG:27700)"
        )
    return pts


def _cmd_kde(args) -> int:
    from hotspots.errors import ParameterError
    from hotspots.io import write_raster
    from hotspots.kde import kde

    pts = _projected_points(args, "--radius-m/--pixel-m")
    boundary = None
    if args.grid == "boundary":
        if not args.boundary:
            raise ParameterError("--grid boundary needs --boundary FILE (the force or study-area polygon)")
        from hotspots.boundaries import read_boundary

        boundary = read_boundary(args.boundary, crs=pts.crs.to_string())
    res = kde(
        pts,
        radius_m=args.radius_m,
        pixel_m=args.pixel_m,
        bandwidth=args.bandwidth,
        bandwidth_adjust=args.bandwidth_adjust,
        kernel=args.kernel,
        decay=args.decay,
        output=args.output,
        weight=args.weight,
        boundary=boundary,
        qgis_compat=args.qgis_compat,
        method=args.method,
    )
    write_raster(res, args.out)
    p = res.params
    print(
        f"KDE {p['kernel']} {p['output']}: radius {p['radius_m']:.1f} m ({p['bandwidth_rule']}), "
        f"pixel {p['pixel_m']} m, "
        f"{p['n_points']:,} points, {res.density.shape[1]} x {res.density.shape[0]} pixels ({p['grid_kind']} grid)"
    )
    print(f"wrote {args.out} and {args.out}.json")
    return EXIT_OK


def _cmd_gistar(args) -> int:
    import numpy as np
    import pandas as pd

    from hotspots.errors import ParameterError
    from hotspots.getis_ord import gi_star
    from hotspots.grid import events_to_cells
    from hotspots.io import read_points

    x_col = args.lng_col or args.x_col
    y_col = args.lat_col or args.y_col
    crs = "EPSG:4326" if args.lng_col else args.crs
    pts = read_points(args.points, x_col=x_col, y_col=y_col, crs=crs)
    ll = pts.to_crs("EPSG:4326") if not pts.crs.is_geographic else pts
    frame = pd.DataFrame({"lat": ll.geometry.y.to_numpy(), "lng": ll.geometry.x.to_numpy()})
    if args.weight:
        if args.weight not in pts.columns:
            raise ParameterError(f"--weight column {args.weight!r} is not in {args.points}")
        frame["w"] = pd.to_numeric(pts[args.weight], errors="coerce").to_numpy()
    cells = events_to_cells(frame, resolution=args.resolution, by=[], weight="w" if args.weight else None)
    value = "weight" if args.weight else "count"
    study: object = args.study_area
    if study not in ("occupied",) and not str(study).startswith("ring:"):
        from hotspots.boundaries import read_boundary
        from hotspots.grid import boundary_to_cells

        study = boundary_to_cells(read_boundary(Path(study)), resolution=args.resolution)
    res = gi_star(
        cells[["h3_cell", value]],
        value=value,
        study_area=study,
        k=args.k,
        permutations=args.permutations,
        alpha=args.alpha,
        fdr=args.fdr,
        seed=args.seed,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    res.to_csv(args.out, index=False)
    if args.permutations and args.fdr:
        floor = 1.0 / (args.permutations + 1)
        need = int(np.ceil(floor * len(res) / args.alpha))
        if need > 1:
            log.warning(
                "with %s permutations no p-value is below %.4f; after FDR over %s cells a cell is significant only "
                "if at least %s cells reach that floor. Use the analytical p (--permutations 0) with FDR, or many "
                "more permutations",
                f"{args.permutations:,}",
                floor,
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
    from hotspots.clustering import dbscan

    pts = _projected_points(args, "--eps-m")
    labels, clusters = dbscan(pts, eps_m=args.eps_m, min_samples=args.min_samples, weight=args.weight)
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    cols = [c for c in labels.columns if c != "geometry"]
    if out.suffix.lower() == ".csv":
        labels[cols].to_csv(out, index=False)
        hull_path = out.with_name(out.stem + "_clusters.geojson")
        clusters.to_crs("EPSG:4326").to_file(hull_path, driver="GeoJSON")
    else:
        import geopandas as gpd

        g = gpd.GeoDataFrame(labels, geometry=pts.geometry, crs=pts.crs) if "geometry" not in labels else labels
        if out.suffix.lower() == ".parquet":
            g.to_parquet(out)
            hull_path = out.with_name(out.stem + "_clusters.parquet")
            clusters.to_parquet(hull_path)
        else:
            g.to_file(out, layer="points")
            hull_path = out
            clusters.to_file(out, layer="clusters")
    n_noise = int((labels["dbscan_cluster"] < 0).sum())
    print(
        f"DBSCAN eps {args.eps_m} m, min_samples {args.min_samples}: {len(clusters):,} clusters, "
        f"{n_noise:,} of {len(labels):,} points noise"
    )
    print(f"wrote {out} and {hull_path}")
    return EXIT_OK


def _cmd_profile(args) -> int:
    from hotspots.config import load_config
    from profiles.force_profile import run

    cfg = load_config(args.config)
    result = run(cfg, out_dir=args.out, progress=_progress(args.progress), share=args.share)
    code = _print_ingest_summary(result["reconciliation"], args.out)
    outs = result["outputs"]
    for key in (
        "report_html",
        "report_pdf",
        "map",
        "summary",
        "shared_report_html",
        "shared_report_pdf",
        "shared_map",
        "shared_summary",
    ):
        if key in outs:
            print(f"wrote {outs[key]}")
    print(f"wrote {args.out}/index.html (open report.html or index.html in a browser)")
    times = result["run"].get("stage_seconds", {})
    if times:
        print("stage times: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``safer-spaces`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s: %(message)s", stream=sys.stderr
    )
    for noisy in ("pyogrio", "fiona", "matplotlib", "numba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        if args.command == "ingest":
            return _cmd_ingest(args)
        if args.command == "profile":
            return _cmd_profile(args)
        if args.command == "kde":
            return _cmd_kde(args)
        if args.command == "gistar":
            return _cmd_gistar(args)
        if args.command == "dbscan":
            return _cmd_dbscan(args)
        if args.command == "synth":
            from profiles.synth_cli import run_synth

            return run_synth(args)
    except SaferSpacesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        print(f"error: {exc.filename}: {exc.strerror}. Fix: check the path and its permissions", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return EXIT_UNUSABLE  # unreachable: argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
