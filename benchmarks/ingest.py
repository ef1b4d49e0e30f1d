"""Ingest + H3 gridding throughput and peak memory, side by side with a typical analyst script.

Prints rows/s and peak resident memory for:

1. all bundled Avon and Somerset months (22 gzipped files, 325k rows);
2. a synthetic 5-million-row police.uk CSV (generated once into benchmarks/_data/);
3. the peer: the pandas + geopandas ``to_crs`` + per-row ``h3.latlng_to_cell`` script most
   analysts write, on the first 500k rows of the same synthetic file.

Each measurement runs in a fresh process so peak memory is its own (VmHWM of that process);
the ingest-only peak (after ``read_police_uk``, before gridding) is reported beside it.

Usage: ``python benchmarks/ingest.py [--rows 5000000] [--peer-rows 500000]``; ``--big`` is the
10-million-row file (about 2.3 GB of CSV, generated once) that issue 10 bounds at 2.5 GB peak;
``--no-bundled`` / ``--no-peer`` skip those measurements.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / "_data"

HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context\n"
)
TYPES = [
    "Violence and sexual offences",
    "Anti-social behaviour",
    "Public order",
    "Criminal damage and arson",
    "Shoplifting",
    "Other theft",
    "Vehicle crime",
    "Burglary",
    "Drugs",
    "Robbery",
]
OUTCOMES = [
    "Investigation complete; no suspect identified",
    "Unable to prosecute suspect",
    "Under investigation",
    "Status update unavailable",
    "Court result unavailable",
    "",
]


def make_synthetic(path: Path, n: int, seed: int = 1) -> Path:
    """Write an n-row police.uk street-level CSV (about 260 bytes a row), vectorised."""
    rng = np.random.default_rng(seed)
    chunk = 500_000
    path.parent.mkdir(parents=True, exist_ok=True)
    hexdig = np.frombuffer(b"0123456789abcdef", dtype="S1")
    snap_lng = rng.uniform(-3.6, -2.25, 60_000).round(6)
    snap_lat = rng.uniform(50.85, 51.6, 60_000).round(6)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            ids = hexdig[rng.integers(0, 16, size=(m, 64))].view("S64").ravel().astype(str)
            ids[rng.random(m) < 0.15] = ""  # ASB rows have no Crime ID
            snap = rng.integers(0, len(snap_lng), m)
            lng = np.char.mod("%.6f", snap_lng[snap])
            lat = np.char.mod("%.6f", snap_lat[snap])
            nocoord = rng.random(m) < 0.06
            lng[nocoord] = ""
            lat[nocoord] = ""
            month = np.char.add("2024-", np.char.zfill(rng.integers(1, 13, m).astype(str), 2))
            loc = np.char.add("On or near Street ", snap.astype(str))
            lsoa = np.char.add("E0101", np.char.zfill((snap % 9999).astype(str), 4))
            lsoan = np.char.add("Bristol ", (snap % 300).astype(str))
            ctype = np.array(TYPES)[rng.integers(0, len(TYPES), m)]
            outc = np.array(OUTCOMES)[rng.integers(0, len(OUTCOMES), m)]
            force = "Avon and Somerset Constabulary"
            cols = [
                ids,
                month,
                np.full(m, force),
                np.full(m, force),
                lng,
                lat,
                loc,
                lsoa,
                lsoan,
                ctype,
                outc,
                np.full(m, ""),
            ]
            line = cols[0].astype(object)
            for c in cols[1:]:
                line = line + "," + c.astype(object)
            fh.write("\n".join(line.tolist()))
            fh.write("\n")
    return path


def _peak_mb() -> float:
    """This process's peak resident memory so far (VmHWM), MB."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024


def _child_ours(paths: list[str], resolution: int) -> dict:
    from hotspots.grid import events_to_cells
    from hotspots.ingest.police_uk import read_police_uk
    from hotspots.io import events_to_frame

    # load the compiled numba kernels (a one-off per process, reported separately)
    w0 = time.perf_counter()
    warm = ROOT / "data" / "policeuk" / "avon-and-somerset" / "2023-01"
    events_to_cells(events_to_frame(read_police_uk([warm], progress=False).events, ["lat", "lng"]), by=[])
    warm_s = time.perf_counter() - w0
    t0 = time.perf_counter()
    res = read_police_uk(paths, progress=False)
    t1 = time.perf_counter()
    ingest_peak = _peak_mb()
    ev = events_to_frame(res.events, ["lat", "lng", "source", "month"])
    cells = events_to_cells(ev, resolution=resolution, by=["source", "month"])
    t2 = time.perf_counter()
    assert cells["count"].sum() == res.reconciliation["rows_accepted"]
    return {
        "rows": res.reconciliation["rows_read"],
        "accepted": res.reconciliation["rows_accepted"],
        "ingest_s": t1 - t0,
        "grid_s": t2 - t1,
        "total_s": t2 - t0,
        "warmup_s": warm_s,
        "ingest_peak_rss_mb": ingest_peak,
    }


def _child_peer(path: str, nrows: int, resolution: int) -> dict:
    """The analyst's script: pandas, geopandas to_crs, h3 per row."""
    import geopandas as gpd
    import h3
    import pandas as pd

    t0 = time.perf_counter()
    df = pd.read_csv(path, nrows=nrows)
    df = df.dropna(subset=["Longitude", "Latitude"])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["Longitude"], df["Latitude"]), crs=4326)
    gdf = gdf.to_crs(27700)
    gdf["h3"] = [h3.latlng_to_cell(a, b, resolution) for a, b in zip(df["Latitude"], df["Longitude"], strict=True)]
    counts = gdf.groupby(["h3", "Month"]).size()
    t1 = time.perf_counter()
    return {"rows": nrows, "accepted": int(counts.sum()), "total_s": t1 - t0}


def _measure(kind: str, *args) -> dict:
    """Run one measurement in a fresh process; add its peak RSS."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); import benchmarks.ingest as b; "
        f"r = b._child_{kind}(*json.loads(sys.argv[1])); "
        # VmHWM is this process's own high-water mark; ru_maxrss would carry the parent's RSS over fork+exec
        "r['peak_rss_mb'] = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0] "
        "/ 1024; print(json.dumps(r))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(list(args))], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--peer-rows", type=int, default=500_000)
    ap.add_argument("--resolution", type=int, default=9)
    ap.add_argument("--repeat", type=int, default=3, help="runs of the synthetic file (median reported)")
    ap.add_argument("--big", action="store_true", help="10,000,000 rows (overrides --rows)")
    ap.add_argument("--no-bundled", action="store_true", help="skip the bundled months")
    ap.add_argument("--no-peer", action="store_true", help="skip the pandas/geopandas peer")
    args = ap.parse_args()
    if args.big:
        args.rows = 10_000_000
    print(f"machine: {os.cpu_count()} cores; numpy {np.__version__}; python {sys.version.split()[0]}")

    if not args.no_bundled:
        _bundled(args.resolution)
    _synthetic(args)


def _bundled(resolution: int) -> None:
    bundled = _measure("ours", [str(ROOT / "data" / "policeuk" / "avon-and-somerset")], resolution)
    print(
        f"bundled 22 months (gz): {bundled['rows']:,} rows in {bundled['total_s']:.2f} s "
        f"(ingest {bundled['ingest_s']:.2f} s + grid {bundled['grid_s']:.2f} s) = "
        f"{bundled['rows'] / bundled['total_s']:,.0f} rows/s; peak {bundled['peak_rss_mb']:,.0f} MB "
        f"(+{bundled['warmup_s']:.2f} s one-off kernel load per process)"
    )


def _synthetic(args) -> None:
    synth = CACHE / f"synthetic_{args.rows}.csv"
    if not synth.exists():
        t = time.perf_counter()
        make_synthetic(synth, args.rows)
        print(f"generated {synth.name} ({synth.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - t:.1f} s")
    runs = []
    for i in range(args.repeat):
        r = _measure("ours", [str(synth)], args.resolution)
        runs.append(r)
        print(
            f"  run {i + 1}: {r['total_s']:.2f} s (ingest {r['ingest_s']:.2f} s + grid {r['grid_s']:.2f} s) = "
            f"{r['rows'] / r['total_s']:,.0f} rows/s (ingest alone {r['rows'] / r['ingest_s']:,.0f} rows/s); "
            f"peak {r['peak_rss_mb']:,.0f} MB (after ingest, before gridding: {r['ingest_peak_rss_mb']:,.0f} MB)"
        )
    ours = sorted(runs, key=lambda r: r["total_s"])[len(runs) // 2]
    print(
        f"synthetic {ours['rows']:,} rows ({synth.stat().st_size / 1e9:.2f} GB CSV), median of {len(runs)}: "
        f"{ours['total_s']:.2f} s = {ours['rows'] / ours['total_s']:,.0f} rows/s; "
        f"peak {max(r['peak_rss_mb'] for r in runs):,.0f} MB, ingest alone "
        f"{max(r['ingest_peak_rss_mb'] for r in runs):,.0f} MB [targets: >= 1,000,000 rows/s; "
        "10M rows: peak < 2.5 GiB = 2,560 MB]"
    )
    if args.no_peer:
        return
    peer = _measure("peer", str(synth), args.peer_rows, args.resolution)
    peer_rate = peer["rows"] / peer["total_s"]
    print(
        f"peer (pandas read_csv + geopandas to_crs + h3 per row), first {peer['rows']:,} rows: "
        f"{peer['total_s']:.2f} s = {peer_rate:,.0f} rows/s; peak {peer['peak_rss_mb']:,.0f} MB"
    )
    print(
        f"speed-up vs peer: {ours['rows'] / ours['total_s'] / peer_rate:.1f}x "
        "(peer does no validation, quarantine, de-duplication or reconciliation)"
    )


if __name__ == "__main__":
    main()
