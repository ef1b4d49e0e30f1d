"""Partner-source ingest and fusion speed, side by side with a plain pandas reader in one run.

Sections (``--only`` picks some):

- ``rms``: a 2M-row synthetic RMS export (CSV, ~250 MB): ``read_rms`` (every
  row validated, quarantined or accepted with its line, VAWG-classified,
  projected) vs ``pandas.read_csv`` + ``to_datetime`` + ``to_numeric`` +
  pyproj (no validation, no reconciliation, no classification);
- ``streetsafe``: 500k synthetic StreetSafe reports, likewise;
- ``fused``: a force's fused H3 grid (all hours, NTE and other bands, harm
  weights), place scores, perception gap and venue risk, from events in memory:
  the demo force's real and synthetic layers, then 1M events.

Usage: ``python benchmarks/sources.py [--only rms,streetsafe,fused]``
"""

from __future__ import annotations

import argparse
import os
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
    from hotspots import synth
    from profiles.synth_cli import default_anchors

    gen = {"rms": synth.generate_rms, "streetsafe": synth.generate_streetsafe}[kind]
    df = gen(n, anchors=default_anchors(), start="2024-01", end="2024-12", seed=7)
    path = tmp / f"SYNTHETIC_{kind}_{n}.csv"
    df.to_csv(path, index=False)
    return path


def bench_rms(tmp: Path) -> None:
    import pandas as pd
    from pyproj import Transformer

    from hotspots.ingest.rms import read_rms

    path = _write("rms", 2_000_000, tmp)
    mb = path.stat().st_size / 2**20
    read_rms([_write("rms", 1000, tmp)])  # load kernels
    best, med, res = _best(lambda: read_rms([path]))
    rec = res.reconciliation["total"]

    def peer():
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        t_from = pd.to_datetime(df["Committed From"], format="%d/%m/%Y %H:%M", errors="coerce")
        t_to = pd.to_datetime(df["Committed To"], format="%d/%m/%Y %H:%M", errors="coerce")
        e = pd.to_numeric(df["Easting"], errors="coerce").to_numpy()
        n = pd.to_numeric(df["Northing"], errors="coerce").to_numpy()
        lng, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(e, n)
        return len(df), t_from, t_to, lng, lat

    pbest, pmed, _ = _best(peer, repeat=2)
    print(
        f"RMS ingest 2,000,000 rows ({mb:,.0f} MB CSV): read_rms {best:.2f} s best / {med:.2f} s median = "
        f"{2e6 / best / 1e6:.2f}M rows/s (rows read {rec['rows_read']:,} = {rec['rows_accepted']:,} accepted + "
        f"{rec['rows_quarantined']:,} quarantined; VAWG-classified, projected); pandas read_csv + to_datetime + "
        f"pyproj, no validation: {pbest:.2f} s ({2e6 / pbest / 1e6:.2f}M rows/s) -> {pbest / best:.1f}x"
    )


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
    from hotspots.fusion import perception_gap_cells, place_scores, source_grids
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
    from profiles.combine import combine_sources

    cfg = load_config(ROOT / "configs" / "avon-and-somerset.toml")
    t = time.perf_counter()
    comb = combine_sources(cfg, out_dir=tmp / "combine")
    t_all = time.perf_counter() - t
    ev = comb.events[comb.events["in_force_area"]]
    from profiles.combine import _distinct_venues

    venues = _distinct_venues(comb.venues)
    _fuse(ev.sample(5000, random_state=0), venues)
    best, med, _ = _best(lambda: _fuse(ev, venues))
    by = ev["source"].value_counts().to_dict()
    print(
        f"Fused grid, demo force ({len(ev):,} events in the force area: {by}; {len(venues)} venues): grids (all, NTE, "
        f"other, harm-weighted) + place scores + perception gap + venue risk {best:.2f} s best / {med:.2f} s median "
        f"[target < 2 s]; whole combine stage incl. ingest of every source and writing: {t_all:.1f} s"
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
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    wanted = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name, fn in (("rms", bench_rms), ("streetsafe", bench_streetsafe), ("fused", bench_fused)):
            if name in wanted:
                fn(tmp)


if __name__ == "__main__":
    main()
