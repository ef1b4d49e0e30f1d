"""Partner-source ingest and fusion speed, side by side with a plain pandas reader in one run.

Sections (``--only`` picks some):

- ``rms``: a 2M-row synthetic RMS export (CSV, ~220 MB; ``--rows`` for
  another size, e.g. 10,000,000 for the memory check): ``read_rms`` (every
  row validated, quarantined or accepted with its line, VAWG-classified,
  projected) vs ``pandas.read_csv`` + ``to_datetime`` + ``to_numeric`` +
  pyproj (no validation, no reconciliation, no classification), each in a
  fresh process, with its rows/s and peak memory (the child's VmHWM);
- ``streetsafe``: 500k synthetic StreetSafe reports, likewise;
- ``fused``: a force's fused H3 grid (all hours, NTE and other bands, harm
  weights), place scores, perception gap and venue risk, from events in memory:
  the demo force's real and synthetic layers, then 1M events.

Usage: ``python benchmarks/sources.py [--only rms,streetsafe,fused] [--rows 2000000] [--repeat 3]
[--peer-runs N]``; the 10M memory check: ``--only rms --rows 10000000 --repeat 1 --peer-runs 0``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)


def _best(fn, repeat=3):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), sorted(times)[len(times) // 2], out


def _write(kind: str, n: int, tmp: Path) -> Path:
    from profiles.demo import synth
    from profiles.synth_cli import default_anchors

    gen = {"rms": synth.generate_rms, "streetsafe": synth.generate_streetsafe}[kind]
    path = tmp / f"SYNTHETIC_{kind}_{n}.csv"
    if n <= 2_000_000:
        df = gen(n, anchors=default_anchors(), start="2024-01", end="2024-12", seed=7)
        df.to_csv(path, index=False)
        return path
    # large files in 1M-row chunks (bounded memory here), references made unique per chunk
    for c, start in enumerate(range(0, n, 1_000_000)):
        df = gen(min(1_000_000, n - start), anchors=default_anchors(), start="2024-01", end="2024-12", seed=7 + c)
        df[df.columns[0]] = f"C{c:03d}" + df[df.columns[0]].astype(str)
        df.to_csv(path, index=False, header=c == 0, mode="w" if c == 0 else "a")
    return path


def _child_rms_ours(path: str, warm: str) -> dict:
    from hotspots.ingest.rms import read_rms

    read_rms([warm])  # load the compiled kernels (a one-off per process)
    t, c = time.perf_counter(), time.process_time()
    res = read_rms([path])
    rec = res.reconciliation["total"]
    s, cpu = time.perf_counter() - t, time.process_time() - c
    return {"s": s, "cpu": cpu, "rows": rec["rows_read"], "accepted": rec["rows_accepted"]}


def _child_rms_peer(path: str) -> dict:
    import pandas as pd
    from pyproj import Transformer

    t, c = time.perf_counter(), time.process_time()
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    pd.to_datetime(df["Committed From"], format="%d/%m/%Y %H:%M", errors="coerce")
    pd.to_datetime(df["Committed To"], format="%d/%m/%Y %H:%M", errors="coerce")
    e = pd.to_numeric(df["Easting"], errors="coerce").to_numpy()
    n = pd.to_numeric(df["Northing"], errors="coerce").to_numpy()
    Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(e, n)
    return {"s": time.perf_counter() - t, "cpu": time.process_time() - c, "rows": len(df)}


def _measure(kind: str, *args) -> dict:
    """One measurement in a fresh process, with its peak memory (VmHWM: its own high-water mark)."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); import benchmarks.sources as b; "
        f"r = b._child_{kind}(*json.loads(sys.argv[1])); "
        "r['peak_mb'] = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0] / 1024; "
        "print(json.dumps(r))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(list(args))], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_rms(tmp: Path, rows: int = 2_000_000, repeat: int = 3, peer_runs: int | None = None) -> None:
    t = time.perf_counter()
    path = _write("rms", rows, tmp)
    warm = _write("rms", 1000, tmp)
    mb = path.stat().st_size / 2**20
    print(f"RMS export: {rows:,} rows, {mb:,.0f} MB CSV (generated in {time.perf_counter() - t:.0f} s)")
    ours = [_measure("rms_ours", str(path), str(warm)) for _ in range(repeat)]
    peer = [_measure("rms_peer", str(path)) for _ in range(max(1, repeat - 1) if peer_runs is None else peer_runs)]
    for name, runs in (("read_rms", ours), ("pandas peer", peer)):
        for i, r in enumerate(runs):
            print(
                f"  {name} run {i + 1}: {r['s']:.2f} s = {rows / r['s'] / 1e6:.2f}M rows/s "
                f"(CPU {r['cpu']:.2f} s, all threads); peak {r['peak_mb']:,.0f} MB"
            )
    o = sorted(ours, key=lambda r: r["s"])[(len(ours) - 1) // 2]
    line = (
        f"RMS ingest {rows:,} rows, median: read_rms {o['s']:.2f} s = {rows / o['s'] / 1e6:.2f}M rows/s, peak "
        f"{max(r['peak_mb'] for r in ours):,.0f} MB (rows read {o['rows']:,}, {o['accepted']:,} accepted; every row "
        f"validated, VAWG-classified, projected, reconciled) [targets >= 0.8M rows/s, < 2,560 MB at 10M rows]"
    )
    if peer:
        p = sorted(peer, key=lambda r: r["s"])[(len(peer) - 1) // 2]
        line += (
            f"; pandas read_csv + to_datetime + pyproj, no validation: {p['s']:.2f} s = "
            f"{rows / p['s'] / 1e6:.2f}M rows/s, peak {max(r['peak_mb'] for r in peer):,.0f} MB -> "
            f"read_rms {p['s'] / o['s']:.1f}x"
        )
    print(line)


def bench_streetsafe(tmp: Path) -> None:
    import pandas as pd
    from pyproj import Transformer

    from hotspots.ingest.streetsafe import read_streetsafe

    path = _write("streetsafe", 500_000, tmp)
    mb = path.stat().st_size / 2**20
    read_streetsafe([_write("streetsafe", 1000, tmp)])
    best, med, res = _best(lambda: read_streetsafe([path]))
    rec = res.reconciliation["total"]

    def peer():
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        t = pd.to_datetime(df["submitted_at"], utc=True, errors="coerce").dt.tz_convert("Europe/London")
        lat = pd.to_numeric(df["latitude"], errors="coerce").to_numpy()
        lng = pd.to_numeric(df["longitude"], errors="coerce").to_numpy()
        x, y = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(lng, lat)
        reasons = df["place_reasons"].str.get_dummies(sep=";")
        return t, x, y, reasons

    pbest, _, _ = _best(peer, repeat=2)
    print(
        f"StreetSafe ingest 500,000 reports ({mb:,.0f} MB CSV): read_streetsafe {best:.2f} s best / {med:.2f} s "
        f"median = {5e5 / best / 1e6:.2f}M rows/s (rows read {rec['rows_read']:,} = {rec['rows_accepted']:,} + "
        f"{rec['rows_quarantined']:,}); pandas + get_dummies, no validation: {pbest:.2f} s -> {pbest / best:.1f}x"
    )


def _fuse(events, venues, *, resolution=9):
    from hotspots.fusion import place_scores, source_grids
    from hotspots.perception_gap import perception_gap_cells
    from hotspots.venues import venue_risk

    grids = {
        "all": source_grids(events, resolution=resolution, weight="harm_weight"),
        "nte": source_grids(events, resolution=resolution, band="nte"),
        "other": source_grids(events, resolution=resolution, band="other"),
    }
    sources = sorted(set(events["source"]))
    places = place_scores(grids["all"], sources=sources)
    gap = perception_gap_cells(grids["all"], perception="streetsafe", recorded=("police_uk", "rms"))
    risk = venue_risk(venues, events, distance_m=50.0)
    return grids, places, gap, risk


def bench_fused(tmp: Path) -> None:
    import numpy as np
    import pandas as pd

    from hotspots.config import load_config
    from profiles.sources import distinct_venues, load_sources

    cfg = load_config(ROOT / "configs" / "avon-and-somerset.toml")
    t = time.perf_counter()
    src = load_sources(cfg, progress=False)
    t_all = time.perf_counter() - t
    ev = src.events[src.events["in_force_area"]]
    assert src.venue_rows is not None
    venues = distinct_venues(src.venue_rows)
    _fuse(ev.sample(5000, random_state=0), venues)
    best, med, _ = _best(lambda: _fuse(ev, venues))
    by = ev["source"].value_counts().to_dict()
    print(
        f"Fused grid, demo force ({len(ev):,} events in the force area: {by}; {len(venues)} venues): grids (all, NTE, "
        f"other, harm-weighted) + place scores + perception gap + venue risk {best:.2f} s best / {med:.2f} s median "
        f"[target < 2 s]; whole load_sources stage (ingest of every source, combined events): {t_all:.1f} s"
    )
    rng = np.random.default_rng(3)
    idx = rng.integers(0, len(ev), 1_000_000)
    big = ev.iloc[idx].reset_index(drop=True)
    big = big.assign(x=big["x"] + rng.normal(0, 30, len(big)), y=big["y"] + rng.normal(0, 30, len(big)))
    from hotspots.ingest.common import bng_to_wgs84

    big["lng"], big["lat"] = bng_to_wgs84(big["x"].to_numpy(), big["y"].to_numpy())
    big = pd.DataFrame(big)
    best, med, _ = _best(lambda: _fuse(big, venues), repeat=2)
    print(f"Fused grid, 1,000,000 events (demo events resampled, jittered 30 m): {best:.2f} s best / {med:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="rms,streetsafe,fused")
    ap.add_argument("--rows", type=int, default=2_000_000, help="rows of the RMS export (10000000: memory check)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of read_rms (the peer runs one fewer)")
    ap.add_argument("--peer-runs", type=int, default=None, help="runs of the pandas peer (0: none, for --rows 10M)")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.1f}")
    wanted = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if "rms" in wanted:
            bench_rms(tmp, args.rows, args.repeat, args.peer_runs)
        for name, fn in (("streetsafe", bench_streetsafe), ("fused", bench_fused)):
            if name in wanted:
                fn(tmp)


if __name__ == "__main__":
    main()
