"""Planners' app speed: first load and filter changes, server side (AppTest), and the cached calls alone.

Targets (issue 14): a filter change re-renders in < 300 ms server side; first load < 5 s warm (a fresh server
process with the numba cache and the OS file cache warm). Each figure is the median of repeated runs; the
first load is measured in fresh processes. Run: ``.venv/bin/python -m benchmarks.app``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "apps" / "streamlit_app.py"

_FIRST = """
import time, sys
t = time.perf_counter()
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=300); at.run()
assert not at.exception, [e.value for e in at.exception]
print(time.perf_counter() - t)
"""


def first_load(runs: int = 3) -> list[float]:
    """Seconds from a fresh process to the first page rendered (Tonight), import of Streamlit included."""
    out = []
    for _ in range(runs):
        res = subprocess.run([sys.executable, "-c", _FIRST, str(APP)], capture_output=True, text=True, cwd=ROOT,
                             check=True)
        out.append(float(res.stdout.strip().splitlines()[-1]))
    return out


def warm_load(runs: int = 3) -> list[float]:
    """Seconds for a new session's first page on a running server (its cached data already loaded)."""
    from streamlit.testing.v1 import AppTest

    AppTest.from_file(str(APP), default_timeout=300).run()  # the server's first session loads the data
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        at = AppTest.from_file(str(APP), default_timeout=300)
        at.run()
        out.append(time.perf_counter() - t)
        assert not at.exception
    return out


def filter_changes(repeats: int = 5) -> dict[str, float]:
    """Median seconds of one AppTest re-run after each filter change (server side: script run + builders)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    at.switch_page("views/hotspot_map.py").run()
    steps = {
        "source police.uk -> RMS": lambda a, i: a.multiselect(key="map_sources").set_value(
            ["rms"] if i % 2 == 0 else ["police_uk"]),
        "weekday any -> Fri": lambda a, i: a.selectbox(key="map_weekday").set_value("Fri" if i % 2 == 0 else "any"),
        "hours -> NTE night": lambda a, i: a.selectbox(key="map_hours").set_value(
            "NTE night 21:00-06:00" if i % 2 == 0 else "All day"),
        "harm weighting on/off": lambda a, i: a.toggle(key="map_harm").set_value(i % 2 == 0),
        "H3 resolution 9 <-> 10": lambda a, i: a.radio(key="map_res").set_value(10 if i % 2 == 0 else 9),
        "months: last 12": lambda a, i: a.select_slider(key="map_months").set_value(
            ("2024-01", "2024-12") if i % 2 == 0 else ("2023-01", "2024-12")),
    }
    out = {}
    for name, change in steps.items():
        times = []
        for i in range(repeats * 2):  # each setting twice: the first visit computes, the next ones are cached
            change(at, i)
            t = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t)
            assert not at.exception, (name, [e.value for e in at.exception])
        out[f"{name} (first visit)"] = times[0]
        out[f"{name} (cached)"] = statistics.median(times[2:])
    at.switch_page("views/tonight.py").run()
    times = []
    for day in ["Fri", "Sat", "Sun", "Fri", "Sat", "Sun"]:
        at.selectbox(key="tonight_day").set_value(day)
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
    out["tonight: change the night (first visit)"] = statistics.median(times[:3])
    out["tonight: change the night (cached)"] = statistics.median(times[3:])
    return out


def builders(repeats: int = 5) -> dict[str, float]:
    """The builders a filter change calls, timed alone (no Streamlit): select + hexagons + Gi*, KDE, DBSCAN."""
    from hotspots.config import load_config
    from profiles import planner as P

    d = P.load_planner(load_config(ROOT / "configs" / "avon-and-somerset.toml"))
    out = {}
    for label, f in {"police.uk, all": P.Filters(), "RMS, Fri night": P.Filters(sources=("rms",), weekday="Fri",
                                                                                 hours=(21, 6))}.items():
        for step in ("select + hexagons", "Gi*", "KDE", "DBSCAN"):
            times = []
            for _ in range(repeats):
                sub, w, _ = P.select(d, f)
                t = time.perf_counter()
                if step == "select + hexagons":
                    t = time.perf_counter()
                    sub, w, _ = P.select(d, f)
                    P.hex_table(sub, w)
                elif step == "Gi*":
                    P.gi_classes(P.hex_table(sub, w))
                elif step == "KDE":
                    P.kde_overlay(sub, w)
                else:
                    P.dbscan_hulls(sub, w)
                times.append(time.perf_counter() - t)
            out[f"{label}: {step}"] = statistics.median(times)
    return out


def main() -> int:
    """Print every figure."""
    loads = first_load()
    print(f"first load, fresh server process (Python start, imports, reading every source, Tonight page): median "
          f"{statistics.median(loads):.2f} s (runs {', '.join(f'{x:.2f}' for x in loads)})")
    warm = warm_load()
    print(f"first load, new session on a running server (warm): median {statistics.median(warm):.2f} s "
          f"(runs {', '.join(f'{x:.2f}' for x in warm)}; target < 5 s)")
    for name, s in filter_changes().items():
        print(f"filter change, server side: {name}: {1000 * s:.0f} ms (target < 300 ms)")
    for name, s in builders().items():
        print(f"builder alone: {name}: {1000 * s:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
