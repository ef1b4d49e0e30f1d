"""Build the demo force profile from a cold start and print the time of every stage.

Runs ``safer-spaces profile configs/avon-and-somerset.toml`` in a fresh Python process
(numba kernels loaded from their cache, files read from disk), so the figure is what an
analyst waits for. Target (issue 6): under 60 s on the 2-core machine.

Usage: ``python benchmarks/profile.py [--out DIR]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="output folder (default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "profile"
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "profiles.cli", "-q", "profile", str(ROOT / "configs" / "avon-and-somerset.toml"),
             "--out", str(out)],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - t
        run = json.loads((out / "run.json").read_text())
    print("Demo profile, Avon and Somerset (22 months police.uk + synthetic RMS/StreetSafe/A&E + venues):")
    for stage, s in run["stage_seconds"].items():
        print(f"  {stage:<36} {s:6.1f} s")
    print(f"  {'stages total':<36} {run['total_seconds']:6.1f} s")
    print(f"  {'wall clock incl. Python start-up':<36} {wall:6.1f} s  [target < 60 s]")


if __name__ == "__main__":
    main()
