"""The force profile as one story: load -> compute -> (share) -> render -> write (``safer-spaces profile``).

::

    sources = load_sources(cfg)                 # profiles.sources: read every input once, write nothing
    numbers = compute_numbers(cfg, sources)     # profiles.compute: every number, frozen
    files   = render_all(numbers) | render_tables(numbers)
    if share:
        shared = to_shared(numbers, threshold)  # profiles.shared: the ONE disclosure step
        files |= prefixed("shared/", render_all(shared))
    write_files(staging, files)                 # hotspots.io: the one writer, inside atomic_dir

Renderers return content keyed by relative output path; only
:func:`hotspots.io.write_files` (and the ingest writer for the sources read)
turns it into files, inside :func:`hotspots.io.atomic_dir`, so a failed or
killed run leaves the previous output as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import platform
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hotspots.config import Config, check_inputs, config_to_dict
from hotspots.io import RUN_RECORD, atomic_dir, check_output_dir, write_files, write_ingest_outputs
from hotspots.kernel_warmup import background_compile
from profiles.compute import compute_numbers, tool_version
from profiles.numbers import ProfileNumbers
from profiles.render.figures import render_figures
from profiles.render.report import render_report
from profiles.render.summary import render_summary
from profiles.render.tables import render_tables
from profiles.render.webmap import render_map
from profiles.shared import to_shared
from profiles.sources import Sources, load_sources

__all__ = ["Stages", "run", "render_all", "prefixed", "run_record"]

log = logging.getLogger("safer_spaces")


class Stages:
    """Time each stage of a run (``with stages("name"): ...``) and log it as it starts and ends.

    Examples
    --------
    >>> stages = Stages()
    >>> with stages("nap"):
    ...     pass
    >>> list(stages.seconds), stages.seconds["nap"] >= 0
    (['nap'], True)
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Time the block under ``name``."""
        log.info("stage: %s ...", name)
        t = self._clock()
        yield
        self.seconds[name] = round(self._clock() - t, 3)
        log.info("stage: %s done in %.1f s", name, self.seconds[name])


def render_all(numbers: ProfileNumbers) -> dict[str, Any]:
    """Every rendered output of one version of the numbers: figures, report, map and summary.

    The same function renders the restricted and the shared version; what a
    version shows is decided by its numbers alone. The report (whose PDF is
    printed by a Chromium process) is rendered in a second thread while the
    map and summary are built.

    Parameters
    ----------
    numbers : ProfileNumbers
        Restricted numbers, or the copy :func:`profiles.shared.to_shared` made.

    Returns
    -------
    dict
        ``figures/<name>.png`` (bytes), ``report.html`` (and ``report.pdf`` when
        Chromium printed it), ``map.html``, ``summary.json``.
    """
    figures = render_figures(numbers)
    with ThreadPoolExecutor(max_workers=1) as pool:  # the report's PDF prints in Chromium while the map renders
        report = pool.submit(render_report, numbers, figures)
        rest = {**render_map(numbers), **render_summary(numbers)}
        return {**figures, **report.result(), **rest}


def prefixed(prefix: str, files: Mapping[str, Any]) -> dict[str, Any]:
    """The same content under ``prefix`` (``"shared/"``).

    Examples
    --------
    >>> prefixed("shared/", {"map.html": "<html>"})
    {'shared/map.html': '<html>'}
    """
    return {prefix + name: content for name, content in files.items()}


def run(cfg: Config, out_dir: str | os.PathLike, *, share: bool | None = None, progress: bool | None = None) -> dict:
    """Build a force profile from its config into ``out_dir``, atomically; return what was done.

    Every input the config names, and the output folder, are checked before
    the first stage (an error then means nothing was written). The whole
    output, ``shared/`` included, is built in a hidden staging folder and
    swapped into place only when complete, with ``run_complete.json`` written
    last.

    Parameters
    ----------
    cfg : Config
        Loaded force config.
    out_dir : path
        Output folder: new, empty, or a previous Safer Spaces output (replaced).
    share : bool, optional
        Also write the disclosure-controlled version to ``shared/`` (default: ``disclosure.share``).
    progress : bool, optional
        Progress bars for the police.uk read; by default when stderr is a terminal.

    Returns
    -------
    dict
        ``reconciliation`` (police.uk), ``outputs`` (relative name -> final path),
        ``run`` (the record written as ``run.json``), ``numbers`` and ``shared``
        (the shared numbers, or None).

    Raises
    ------
    ConfigError
        An input the config names is missing, unreadable or empty.
    ParameterError
        ``out_dir`` is a file, or a non-empty folder that is not a Safer Spaces output.
    hotspots.io.OutputWriteError
        The output cannot be written (disk full, read-only, no permission).
    """
    share = cfg.disclosure.share if share is None else share
    inputs = [*check_inputs(cfg), *([Path(cfg.source_file)] if cfg.source_file else [])]
    check_output_dir(out_dir)
    final, stage, shared = Path(os.path.abspath(out_dir)), Stages(), None
    with (atomic_dir(out_dir, command="profile", inputs=inputs, config=config_to_dict(cfg)) as staging,
          background_compile()):  # first run with an empty numba cache: the other core compiles kernels too
        with stage("load sources"):
            sources = load_sources(cfg, progress=progress)
        with stage("numbers"):
            numbers = compute_numbers(cfg, sources)
        with stage("render (restricted)"):
            files = render_all(numbers) | render_tables(numbers)
        if share:
            with stage("disclosure control"):
                d = cfg.disclosure
                shared = to_shared(numbers, d.threshold, release=d.release, handling=d.handling)
            with stage("render (shared)"):
                files |= prefixed("shared/", render_all(shared))
        with stage("write"):
            written = {**_write_sources(sources, staging), **write_files(staging, files)}
        outputs = {name: str(final / name) for name in sorted(written)} | {"run": str(final / "run.json")}
        record = run_record(cfg, sources, numbers, outputs=outputs, stage_seconds=stage.seconds)
        write_files(staging, {"run.json": json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n"})
    outputs["run_complete"] = str(final / RUN_RECORD)
    return {"reconciliation": sources.police_uk.reconciliation, "outputs": outputs, "run": record,
            "numbers": numbers, "shared": shared}


def _write_sources(sources: Sources, folder: Path) -> dict[str, Path]:
    """The ingest outputs of every source read: police.uk at the top, partners under ``sources/<name>/``."""
    written = {name: path for name, path in _named(write_ingest_outputs(sources.police_uk, folder), folder).items()}
    for name, result in sources.partners.items():
        written |= _named(write_ingest_outputs(result, folder / "sources" / name), folder)
    return written


def _named(paths: Mapping[str, Path], folder: Path) -> dict[str, Path]:
    return {Path(p).relative_to(folder).as_posix(): Path(p) for p in paths.values()}


def run_record(cfg: Config, sources: Sources, numbers: ProfileNumbers, *, outputs: Mapping[str, str],
               stage_seconds: Mapping[str, float]) -> dict[str, Any]:
    """The audit record of a run (``run.json``): config, inputs and their hashes, grid totals, params, timings.

    Parameters
    ----------
    cfg : Config
    sources : Sources
    numbers : ProfileNumbers
        The restricted numbers.
    outputs : mapping
        Relative output name -> final path.
    stage_seconds : mapping
        Seconds per stage.

    Returns
    -------
    dict
    """
    rec = sources.police_uk.reconciliation
    grid = numbers.products.grid
    return {
        "tool": "safer-spaces",
        "version": tool_version(),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "security_classification": cfg.force.security_classification,
        "config": config_to_dict(cfg),
        "inputs": [{"file": f["path"], "sha256": f["sha256"]} for f in rec["files"]],
        "grid": {
            "h3_resolution": cfg.grid.h3_resolution,
            "study_area_cells": int(len(sources.study_cells)),
            "events_gridded": int(len(sources.police)),
            "events_outside_force_area": rec.get("rows_outside_boundary"),
            "count_all_total": int(grid["count_all"].sum()) if grid is not None else None,
        },
        "params": dict(numbers.meta.params),
        "outputs": dict(outputs),
        "definitions": dict(sources.definitions),
        "synthetic_sources": list(sources.synthetic_sources),
        "sources": {
            name: {
                "total": r.reconciliation["total"],
                "synthetic": r.reconciliation.get("synthetic", False),
                "inputs": [{"file": f["path"], "sha256": f["sha256"]} for f in r.reconciliation["files"]],
            }
            for name, r in sources.partners.items()
        },
        "stage_seconds": dict(stage_seconds),
        "total_seconds": round(sum(stage_seconds.values()), 3),
    }
