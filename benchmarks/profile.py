"""The demo force profile: cold (fresh clone, empty numba cache) and warm times, whole run and numbers alone.

Each measurement is a fresh Python process. All of them share one new, empty
``NUMBA_CACHE_DIR`` (so the repository's own ``__pycache__`` kernels are
neither used nor disturbed): the first whole-profile run is the cold one (every
kernel compiled, as on the very first run of a fresh clone), later runs load
the kernels from that cache (warm). ``compute_profile`` alone
(``profiles.compute.compute_profile``: read, combine, statistics, findings; no
rendering, no file written) is timed inside its process after the imports, cold
in a second empty cache and warm after it.

Targets (issue 11, 2-core machine): whole profile < 30 s warm and < 40 s cold
(fresh clone); ``compute_profile`` < 8 s warm. Figures are noisy when other work
shares the machine: the load average is printed with them.

Usage: ``python benchmarks/profile.py [--repeat N] [--out DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "avon-and-somerset.toml"
_COMPUTE = (
    "import json, time\n"
    "from hotspots.config import load_config\n"
    "from profiles.compute import compute_profile\n"
    "cfg = load_config({config!r})\n"
    "t = time.perf_counter()\n"
    "compute_profile(cfg, progress=False)\n"
    "print(json.dumps({{'seconds': time.perf_counter() - t}}))\n"
)


def _env(cache: Path, precompile: bool = True) -> dict[str, str]:
    return {**os.environ, "NUMBA_CACHE_DIR": str(cache), "SAFER_SPACES_PRECOMPILE": "1" if precompile else "0"}


def profile_run(out: Path, cache: Path, precompile: bool = True) -> tuple[float, dict]:
    """Wall seconds of ``safer-spaces profile`` in a fresh process, and its run.json.

    ``precompile=False`` turns off the second process that compiles numba
    kernels on a cold cache (``hotspots.kernel_warmup``): the peer column.
    """
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "profiles.cli", "-q", "--progress", "off", "profile", str(CONFIG), "--out", str(out)],
        check=True,
        cwd=ROOT,
        env=_env(cache, precompile),
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t
    return wall, json.loads((out / "run.json").read_text())


def compute_run(cache: Path) -> float:
    """Seconds of ``compute_profile`` on the demo config (after the imports) in a fresh process."""
    res = subprocess.run(
        [sys.executable, "-c", _COMPUTE.format(config=str(CONFIG))],
        check=True,
        cwd=ROOT,
        env=_env(cache),
        capture_output=True,
        text=True,
    )
    return float(json.loads(res.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2, help="warm runs of each (median printed)")
    ap.add_argument("--out", type=Path, help="output folder of the last run (default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        out = args.out or base / "profile"
        cache, cache2, cache3 = base / "numba-cold", base / "numba-compute", base / "numba-one-process"
        one_wall, one_run = profile_run(out, cache3, precompile=False)
        cold_wall, cold_run = profile_run(out, cache)
        warm = [profile_run(out, cache) for _ in range(args.repeat)]
        compute_cold = compute_run(cache2)
        compute_warm = [compute_run(cache2) for _ in range(args.repeat)]
    warm_wall = statistics.median(w for w, _ in warm)
    warm_run = warm[-1][1]
    print(f"Demo profile, Avon and Somerset (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
    print("  cold = empty numba cache (first run of a fresh clone), kernels also compiled by a second process;")
    print("  cold, 1 process = the same with SAFER_SPACES_PRECOMPILE=0; warm = later runs (median)")
    print(f"  {'stage':<36} {'cold':>7} {'cold, 1 process':>16} {'warm':>7}")
    for stage in warm_run["stage_seconds"]:
        c = cold_run["stage_seconds"].get(stage, float("nan"))
        o = one_run["stage_seconds"].get(stage, float("nan"))
        print(f"  {stage:<36} {c:6.1f}s {o:15.1f}s {warm_run['stage_seconds'][stage]:6.1f}s")
    print(f"  {'stages total':<36} {cold_run['total_seconds']:6.1f}s {one_run['total_seconds']:15.1f}s "
          f"{warm_run['total_seconds']:6.1f}s")
    print(f"  {'wall clock incl. Python start-up':<36} {cold_wall:6.1f}s {one_wall:15.1f}s {warm_wall:6.1f}s"
          "  [targets cold < 40 s, warm < 30 s]")
    print(f"  {'compute_profile alone':<36} {compute_cold:6.1f}s {'':>16} {statistics.median(compute_warm):6.1f}s"
          "  [target warm < 8 s]")


if __name__ == "__main__":
    main()
