"""numba compile time on a cold cache (a fresh clone) and a warm one (every later run).

Every kernel in ``hotspots`` is ``@njit(cache=True)``: the first run compiles and
writes the cache, later runs load it. Each workload runs twice in fresh Python
processes sharing one new, empty ``NUMBA_CACHE_DIR`` (so the repository's own
``__pycache__`` cache is neither used nor disturbed): cold, then warm. Printed per
run: wall time, time inside numba compilation (``numba:compile`` events, nested
compiles counted once), signatures compiled, signatures loaded from the cache.

Workloads (``--only`` picks some):

- ``tiny``: the package functions the profile calls, on tiny inputs (the first
  rows of each demo input file; a few hundred points): nearly all of its time
  is compiling or loading kernels;
- ``compute``: ``profiles.compute.compute_profile`` on the demo config (every
  kernel the profile uses, real data, no files written).

``--record`` rewrites ``hotspots/kernels.txt`` (the kernel signatures the
profile compiles, in the order it first needs them, which
``hotspots.kernel_warmup`` compiles in a second process on a cold start) from a
cold run of the whole demo profile.

Usage: ``python benchmarks/numba_cache.py [--only tiny,compute] [--top] [--record]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_RECORD = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    from numba.core import event
    spans, per_kernel, stack = [], {}, []
    class _Compile(event.Listener):
        def on_start(self, ev):
            spans.append((time.perf_counter(), 1))
            stack.append(time.perf_counter())
        def on_end(self, ev):
            spans.append((time.perf_counter(), -1))
            t = time.perf_counter() - stack.pop()
            if not stack:  # top-level compile: its callees' time included
                d = ev.data["dispatcher"]
                name = f"{d.py_func.__module__}.{d.py_func.__name__}"
                per_kernel[name] = per_kernel.get(name, 0.0) + t
    event.register("numba:compile", _Compile())
    """
)

_REPORT = textwrap.dedent(
    """
    wall = time.perf_counter() - t0
    depth, start, compile_s = 0, 0.0, 0.0
    for t, d in sorted(spans):
        if depth == 0 and d > 0:
            start = t
        depth += d
        if depth == 0:
            compile_s += t - start
    import numba.core.registry
    hits = misses = 0
    seen = set()
    for mod in [m for name, m in sorted(sys.modules.items()) if name.startswith("hotspots")]:
        for obj in list(vars(mod).values()):
            stats = getattr(obj, "stats", None)
            if stats is not None and hasattr(stats, "cache_hits") and id(obj) not in seen:  # once, if re-imported
                seen.add(id(obj))
                hits += sum(stats.cache_hits.values())
                misses += sum(stats.cache_misses.values())
    top = sorted(per_kernel.items(), key=lambda kv: -kv[1])[:12]
    print(json.dumps({"wall_s": wall, "compile_s": compile_s, "compiled": misses, "loaded": hits, "top": top}))
    """
)

_TINY = textwrap.dedent(
    """
    import gzip, tempfile
    from pathlib import Path
    import numpy as np, pandas as pd
    import hotspots
    from hotspots.clustering import dbscan
    from hotspots.fusion import place_scores, source_grids
    from hotspots.getis_ord import gi_star, study_area_cells
    from hotspots.grid import events_to_cells
    from hotspots.ingest.ae import read_ae
    from hotspots.ingest.venues import read_venues
    from hotspots.ingest.police_uk import read_police_uk
    from hotspots.ingest.rms import read_rms
    from hotspots.ingest.streetsafe import read_streetsafe
    from hotspots.kde import kde
    from hotspots.timebands import nte_share, weekday_hour_table
    from hotspots.venues import venue_risk

    root = Path(sys.argv[1])
    tmp = Path(tempfile.mkdtemp())

    def head(path, rows=60):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as f:
            lines = [next(f, "") for _ in range(rows)]
        out = tmp / path.name.removesuffix(".gz")
        out.write_text("".join(lines), encoding="utf-8")
        return out

    syn = root / "data" / "synthetic"
    puk = read_police_uk([head(next((root / "data/policeuk/avon-and-somerset").rglob("*street.csv*")))], progress=False)
    rms = read_rms([head(syn / "SYNTHETIC_rms_avon-and-somerset.csv.gz")], synthetic=True)
    ss = read_streetsafe([head(syn / "SYNTHETIC_streetsafe_avon-and-somerset.csv.gz")], synthetic=True)
    ae = read_ae([head(syn / "SYNTHETIC_ae_avon-and-somerset.csv.gz")], synthetic=True)
    venues = read_venues([head(p) for p in sorted((root / "data/venues").glob("*.csv"))])
    ev = puk.events.to_pandas()
    counts = events_to_cells(ev, by=[])
    gi_star(counts, study_area="ring:1", permutations=99)
    kde(ev, radius_m=400, pixel_m=50)
    dbscan(ev, eps_m=200, min_samples=3)
    rev = rms.events.to_pandas() if hasattr(rms.events, "to_pandas") else rms.events
    nte_share(rev["t_from"].to_numpy(), rev["t_to"].to_numpy(), window="Fri,Sat 21:00-06:00")
    weekday_hour_table(rev)
    both = pd.concat([ev[["lat", "lng", "x", "y", "source"]], rev[["lat", "lng", "x", "y", "source"]]])
    grids = source_grids(both, resolution=9)
    place_scores(grids, sources=["police_uk", "rms"])
    ven = venues.events.to_pandas() if hasattr(venues.events, "to_pandas") else venues.events
    venue_risk(ven, both, distance_m=50, nte_only=False)
    """
)

_COMPUTE = textwrap.dedent(
    """
    from pathlib import Path
    from hotspots.config import load_config
    from profiles.compute import compute_profile
    compute_profile(load_config(Path(sys.argv[1]) / "configs" / "avon-and-somerset.toml"), progress=False)
    """
)

WORKLOADS = {"tiny": _TINY, "compute": _COMPUTE}

_RECORD_LIST = textwrap.dedent(
    """
    import sys, tempfile
    from pathlib import Path
    from hotspots import kernel_warmup as kw
    from hotspots.config import load_config
    from profiles.pipeline import run

    cfg = load_config(Path(sys.argv[1]) / "configs" / "avon-and-somerset.toml")
    with tempfile.TemporaryDirectory() as out:
        kernels = kw.record(lambda: run(cfg, Path(out) / "profile", share=True, progress=False))
    kw.KERNELS.write_text(
        "# numba kernel signatures of the force profile, in the order a cold run first needs them.\\n"
        "# Written by `python benchmarks/numba_cache.py --record`; read by hotspots.kernel_warmup.\\n"
        + kw.format_kernels(kernels), encoding="utf-8")
    print(len(kernels))
    """
)


def record() -> None:
    """Rewrite hotspots/kernels.txt from a cold run of the demo profile (empty cache, no second process)."""
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT), "SAFER_SPACES_PRECOMPILE": "0"}
        out = subprocess.run([sys.executable, "-c", _RECORD_LIST, str(ROOT)], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True)
    print(f"hotspots/kernels.txt: {out.stdout.strip().splitlines()[-1]} kernel signatures")


def _run(code: str, cache: Path) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", _RECORD + code + _REPORT, str(ROOT)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads: " + ", ".join(WORKLOADS))
    ap.add_argument("--top", action="store_true", help="also list the kernels that took longest to compile")
    ap.add_argument("--record", action="store_true", help="rewrite hotspots/kernels.txt and stop")
    args = ap.parse_args()
    if args.record:
        record()
        return
    print(f"{'workload':<10} {'cache':<6} {'wall s':>7} {'compile s':>10} {'compiled':>9} {'loaded':>7}")
    for name in args.only.split(","):
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
            for label in ("cold", "warm"):
                r = _run(WORKLOADS[name], Path(cache))
                times = f"{r['wall_s']:7.1f} {r['compile_s']:10.1f}"
                print(f"{name:<10} {label:<6} {times} {r['compiled']:9d} {r['loaded']:7d}")
                if args.top and r["top"]:
                    for kernel, sec in r["top"]:
                        print(f"    {sec:6.2f} s  {kernel} (with the kernels it calls)")


if __name__ == "__main__":
    main()
