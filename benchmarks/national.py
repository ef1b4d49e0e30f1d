"""National year benchmark: a synthetic year of police.uk data for all 43 forces through ``safer-spaces national``.

Generates about 7 million SYNTHETIC street-level crimes (police.uk CSV layout, one file per force per month)
over the 43 police force areas, each force sized by its real resident population (the bundled House of
Commons file; City of London at its police.uk volume), points clustered around town centres inside each
force's real boundary. Then runs the national command end to end on a 2-worker ``LocalCluster`` and prints:

* end-to-end time (plan, 43 force tasks, STRA compile and render), and the serial-equivalent (sum of the task
  times: what one process running the forces in turn would take, the peer this is measured against);
* peak memory of every process (each worker's largest RSS, reported by its tasks; the client/scheduler);
* compiling the 43 summaries alone (read, validate, compile, render without PDF): target < 5 s.

Targets (issue 13): national year < 3 minutes, every process < 4 GB, compile < 5 s.

Run: ``.venv/bin/python -m benchmarks.national [--events 7000000] [--keep DIR]``. The synthetic data are
written to a temporary folder (about 1 GB) and removed afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

from hotspots.forces import POLICE_UK_FORCES, force_key

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
CRIME_TYPES = np.array(["Violence and sexual offences", "Public order", "Anti-social behaviour", "Shoplifting",
                        "Criminal damage and arson", "Vehicle crime", "Burglary", "Other theft", "Drugs"])
TYPE_P = np.array([0.33, 0.07, 0.2, 0.08, 0.08, 0.07, 0.05, 0.08, 0.04])


def _points_in(poly, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points inside ``poly`` (EPSG:27700): 70% around 40 centres (town centres), 30% spread out."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)

    def uniform(k: int) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        got = 0
        while got < k:
            x = rng.uniform(minx, maxx, 2 * k + 100)
            y = rng.uniform(miny, maxy, 2 * k + 100)
            ok = shapely.contains_xy(poly, x, y)
            xs.append(x[ok])
            ys.append(y[ok])
            got += int(ok.sum())
        return np.concatenate(xs)[:k], np.concatenate(ys)[:k]

    cx, cy = uniform(40)
    weight = rng.pareto(1.2, 40) + 1
    n_c = int(0.7 * n)
    which = rng.choice(40, n_c, p=weight / weight.sum())
    x = cx[which] + rng.normal(0, 600, n_c)
    y = cy[which] + rng.normal(0, 600, n_c)
    inside = shapely.contains_xy(poly, x, y)
    ux, uy = uniform(n - int(inside.sum()))
    x = np.concatenate([x[inside], ux])
    y = np.concatenate([y[inside], uy])
    return np.round(x / 40) * 40, np.round(y / 40) * 40  # snap to a 40 m "map point" grid, as police.uk does


def generate(out: Path, *, events: int = 7_000_000, seed: int = 2024) -> dict[str, int]:
    """Write a synthetic national year (12 months x 43 forces) of police.uk CSVs into ``out``."""
    from pyproj import Transformer

    rng = np.random.default_rng(seed)
    pfa = gpd.read_file(DATA / "boundaries" / "police_force_areas.geojson").to_crs(27700)
    pop = pd.read_csv(DATA / "population" / "police-population_2020.csv")
    people = {force_key(f): float(p) for f, p in zip(pop["Force"], pop["Population"], strict=True)}
    people.setdefault("city of london", 600_000.0)  # its police.uk volume is that of a force of ~0.6 M residents
    keys = [force_key(n) for n in pfa["PFA20NM"]]
    share = np.array([people.get(k, 600_000.0) for k in keys])
    n_force = np.round(events * share / share.sum()).astype(int)
    to_wgs = Transformer.from_crs(27700, 4326, always_xy=True)
    months = [f"2023-{m:02d}" for m in range(1, 13)]
    sizes: dict[str, int] = {}
    for key, poly, n in zip(keys, pfa.geometry, n_force, strict=True):
        slug = key.replace(" ", "-")
        name = POLICE_UK_FORCES.get(key, key.title())
        x, y = _points_in(poly, int(n), rng)
        lon, lat = to_wgs.transform(x, y)
        month = rng.integers(0, 12, len(x))
        ctype = rng.choice(CRIME_TYPES, len(x), p=TYPE_P)
        street = (np.abs(np.round(x / 200) * 7 + np.round(y / 200) * 13) % 5000).astype(int)
        sizes[slug] = int(len(x))
        for m, label in enumerate(months):
            sel = month == m
            k = int(sel.sum())
            table = pa.table({
                "Crime ID": pa.array([""] * k),
                "Month": pa.array([label] * k),
                "Reported by": pa.array([name] * k),
                "Falls within": pa.array([name] * k),
                "Longitude": pa.array(np.round(lon[sel], 6)),
                "Latitude": pa.array(np.round(lat[sel], 6)),
                "Location": pa.array(np.char.add("On or near Synthetic Street ", street[sel].astype(str))),
                "LSOA code": pa.array([""] * k),
                "LSOA name": pa.array([""] * k),
                "Crime type": pa.array(ctype[sel]),
                "Last outcome category": pa.array(["Under investigation"] * k),
                "Context": pa.array([""] * k),
            })
            folder = out / label
            folder.mkdir(parents=True, exist_ok=True)
            pacsv.write_csv(table, folder / f"{label}-{slug}-street.csv")
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Generate, run the national command on a 2-worker LocalCluster, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=7_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="keep the synthetic data and outputs here")
    args = ap.parse_args(argv)

    from profiles.national import NationalConfig, run_national
    from profiles.stra.compute import compile_stra
    from profiles.stra.config import StraConfig
    from profiles.stra.inputs import read_summaries
    from profiles.stra.render import render_stra

    root = args.keep or Path(tempfile.mkdtemp(prefix="safer-spaces-national-bench-"))
    data = root / "policeuk"
    try:
        t = time.perf_counter()
        sizes = generate(data, events=args.events)
        gen_s = time.perf_counter() - t
        total = sum(sizes.values())
        print(f"generated {total:,} SYNTHETIC events over {len(sizes)} forces x 12 months in {gen_s:.1f} s "
              f"(largest: {max(sizes, key=sizes.get)} {max(sizes.values()):,}; smallest {min(sizes.values()):,})")
        cfg = NationalConfig(police_uk=(data,), workers=args.workers, cache=root / "cache",
                             stra=StraConfig())
        t = time.perf_counter()
        res = run_national(cfg, root / "out", echo=lambda line: None, pdf=True)
        wall = time.perf_counter() - t
        tasks = res["tasks"]
        serial = sum(v["seconds"] for v in tasks.values())
        by_pid: dict[int, float] = {}
        for v in tasks.values():
            by_pid[v["pid"]] = max(by_pid.get(v["pid"], 0.0), v["peak_rss_mb"])
        client_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        slowest = max(tasks.values(), key=lambda v: v["seconds"])
        print(f"national year end to end: {wall:.1f} s on a {args.workers}-worker LocalCluster "
              f"(target < 180 s); {len(tasks)} forces done, {len(res['failed'])} failed")
        print(f"  serial equivalent (sum of force task times, one process in turn): {serial:.1f} s "
              f"-> speed-up {serial / max(wall, 1e-9):.2f}x; slowest force {slowest['slug']} "
              f"{slowest['seconds']:.1f} s")
        for pid, mb in sorted(by_pid.items()):
            print(f"  worker process {pid}: peak {mb:,.0f} MB")
        print(f"  client + scheduler process: peak {client_mb:,.0f} MB (target every process < 4,096 MB)")
        print(f"  STRA compile + render (in the run): {res['stra']['seconds']:.1f} s")

        summaries = [v["path"] for v in tasks.values()]
        t = time.perf_counter()
        forces, excluded = read_summaries(summaries)
        numbers = compile_stra(forces, excluded, StraConfig())
        t_compile = time.perf_counter() - t
        render_stra(numbers, boundaries=StraConfig().boundaries, pdf=False)
        t_all = time.perf_counter() - t
        print(f"compiling {len(forces)} summaries: read + validate + compile {t_compile:.2f} s; with html, json and "
              f"figures {t_all:.2f} s (target < 5 s)")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
