"""``safer-spaces national``: every force's profile numbers as a task on Dask distributed, then the STRA.

The national team's own baseline: for each force with police.uk files, the
force's :func:`~profiles.compute.compute_profile` (police.uk and the force-area
polygon, the same definitions for every force) runs as one task; its
``summary.json`` is kept in a cache keyed by a hash of the inputs (file
contents, force polygon, analytic config, tool version), so a re-run redoes
only forces whose inputs or config changed, and a run stopped half-way resumes
where it was. Then the STRA is compiled from the summaries (``run_stra``).

Dask: a :class:`distributed.LocalCluster` (``workers`` processes, one thread
each) by default, or an existing scheduler (``--scheduler tcp://host:8786``).
A task that raises is retried ``retries`` times; a worker that dies mid-task
is replaced by its nanny and the task re-run elsewhere (the scheduler's
``allowed_failures``); a force that still fails is reported, the others
complete, and the STRA names it as missing with the reason.

Examples
--------
>>> cfg = load_national_config("configs/national-demo.toml")
>>> cfg.workers, len(plan_forces(cfg)) >= 40
(2, True)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotspots.config import CLASSIFICATIONS, Config, DataConfig, ForceConfig, GridConfig, _build, _read_text
from hotspots.errors import ConfigError, InputFileError
from hotspots.forces import POLICE_UK_FORCES, force_key
from hotspots.io import check_output_dir
from profiles.compute import compute_profile, tool_version
from profiles.render.summary import build_summary
from profiles.stra.config import StraConfig, stra_config_from
from profiles.stra.inputs import Exclusion
from profiles.stra.pipeline import run_stra
from profiles.summary import write_summary

log = logging.getLogger("safer_spaces")

__all__ = ["ForceTask", "NationalConfig", "load_national_config", "plan_forces", "run_force", "run_national"]

KILL_WORKER_ENV = "SAFER_SPACES_TEST_KILL_WORKER"  # test hook: "<slug>" (always) or "<slug>:once:<marker file>"
_FILE = re.compile(r"^(\d{4}-\d{2})-(.+)-street\.csv(\.gz)?$")


@dataclass(frozen=True, kw_only=True)
class NationalConfig:
    """The national run (config table ``[national]``); the STRA's own parameters are ``[stra]``."""

    police_uk: tuple[Path, ...]
    boundaries: Path = Path(__file__).resolve().parents[1] / "data" / "boundaries" / "police_force_areas.geojson"
    forces: tuple[str, ...] = ()  # police.uk slugs to run; empty = every force with a file
    h3_resolution: int = 9
    security_classification: str = "OFFICIAL-SENSITIVE"
    workers: int = 2
    threads_per_worker: int = 1
    memory_limit: str = "4GB"
    retries: int = 2
    allowed_failures: int = 2  # a task whose worker died this many times is reported as failed
    cache: Path | None = None  # default: <out>.cache beside the output folder
    stra: StraConfig = field(default_factory=StraConfig)

    def __post_init__(self) -> None:
        if not self.police_uk:
            raise ConfigError("national.police_uk must list at least one folder of police.uk files")
        if not 1 <= self.workers <= 256:
            raise ConfigError(f"national.workers must be 1-256; got {self.workers!r}")
        if not 1 <= self.threads_per_worker <= 64:
            raise ConfigError(f"national.threads_per_worker must be 1-64; got {self.threads_per_worker!r}")
        if not 0 <= self.retries <= 10:
            raise ConfigError(f"national.retries must be 0-10; got {self.retries!r}")
        if not 0 <= self.allowed_failures <= 10:
            raise ConfigError(f"national.allowed_failures must be 0-10; got {self.allowed_failures!r}")
        if self.security_classification not in CLASSIFICATIONS:
            raise ConfigError(f"national.security_classification must be one of {', '.join(CLASSIFICATIONS)}")
        GridConfig(h3_resolution=self.h3_resolution)  # same check as a force config


def load_national_config(path: str | os.PathLike) -> NationalConfig:
    """Load ``[national]`` and ``[stra]`` from a TOML file (paths relative to it)."""
    path = Path(path)
    try:
        raw = tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    extra = sorted(set(raw) - {"national", "stra"})
    if extra:
        raise ConfigError(f"{path}: unknown table(s) {extra}; a national config has [national] and [stra]")
    if "national" not in raw:
        raise ConfigError(f"{path}: no [national] table; give national.police_uk (folders of police.uk files)")
    table = dict(raw["national"])
    stra = stra_config_from(raw.get("stra", {}), file=str(path), base=path.parent)
    if "stra" in table:
        raise ConfigError(f"{path}: put the STRA's settings in their own [stra] table")
    cfg = _build(NationalConfig, table, "national", str(path), path.parent)
    return dataclasses.replace(cfg, stra=stra)


# --------------------------------------------------------------------------- planning

@dataclass(frozen=True)
class ForceTask:
    """One force's work, as sent to a worker (small: file paths, the polygon as GeoJSON text, the cache key)."""

    slug: str
    name: str
    files: tuple[str, ...]
    boundary_geojson: str | None
    h3_resolution: int
    security_classification: str
    key: str
    cache_dir: str
    kill: str | None = None  # test hook (KILL_WORKER_ENV)

    @property
    def summary_path(self) -> Path:
        """Where the force's summary is cached."""
        return Path(self.cache_dir) / self.slug / self.key[:20] / "summary.json"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def discover(folders: tuple[Path, ...]) -> dict[str, list[Path]]:
    """police.uk street files by force slug (``YYYY-MM-<slug>-street.csv[.gz]``), months in order."""
    found: dict[str, list[Path]] = {}
    for folder in folders:
        if not folder.exists():
            raise InputFileError(str(folder), "folder not found", "check national.police_uk in the config")
        paths = [folder] if folder.is_file() else sorted(folder.rglob("*-street.csv*"))
        for p in paths:
            m = _FILE.match(p.name)
            if m:
                found.setdefault(m.group(2), []).append(p)
    return {slug: sorted(ps, key=lambda p: p.name) for slug, ps in sorted(found.items())}


def _cache_dir(cfg: NationalConfig, out: Path | None) -> Path:
    if cfg.cache is not None:
        return cfg.cache
    if out is None:
        return Path(tempfile.gettempdir()) / "safer-spaces-national-cache"
    out = Path(os.path.abspath(out))
    return out.parent / f"{out.name}.cache"


def plan_forces(cfg: NationalConfig, out: str | os.PathLike | None = None) -> list[ForceTask]:
    """One :class:`ForceTask` per force with police.uk files (``cfg.forces`` when given), each with its cache key."""
    import geopandas as gpd

    files = discover(cfg.police_uk)
    wanted = [s for s in (cfg.forces or tuple(files))]
    unknown = [s for s in wanted if s not in files]
    if unknown:
        raise ConfigError(f"national.forces: no police.uk files for {unknown[:5]}; forces with files: "
                          f"{', '.join(list(files)[:8])}...")
    pfa = gpd.read_file(cfg.boundaries).to_crs(4326)
    name_col = next((c for c in pfa.columns if c.upper().endswith("NM")), None)
    if name_col is None:
        raise InputFileError(str(cfg.boundaries), "no force-name column (PFA20NM or similar)",
                             "give the ONS Police Force Areas file")
    polygons = {force_key(n): pfa.iloc[[i]][[name_col, "geometry"]] for i, n in enumerate(pfa[name_col])}
    cache = _cache_dir(cfg, Path(out) if out is not None else None)
    kill = os.environ.get(KILL_WORKER_ENV)
    version = tool_version()
    tasks = []
    for slug in wanted:
        key = force_key(slug)
        poly = polygons.get(key)
        geojson = None if poly is None else poly.to_json(drop_id=True)
        name = POLICE_UK_FORCES.get(key) or (str(poly[name_col].iloc[0]) if poly is not None else slug)
        digest = hashlib.sha256(json.dumps({
            "tool": version, "slug": slug, "name": name, "h3": cfg.h3_resolution,
            "marking": cfg.security_classification,
            "files": [[p.name, _sha256(p)] for p in files[slug]],
            "boundary": None if geojson is None else hashlib.sha256(geojson.encode()).hexdigest(),
        }, sort_keys=True).encode()).hexdigest()
        hook = kill if kill and kill.split(":")[0] == slug else None
        tasks.append(ForceTask(slug=slug, name=name, files=tuple(str(p) for p in files[slug]),
                               boundary_geojson=geojson, h3_resolution=cfg.h3_resolution,
                               security_classification=cfg.security_classification, key=digest,
                               cache_dir=str(cache), kill=hook))
    return tasks


# --------------------------------------------------------------------------- the task (runs on a worker)

def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _test_kill(task: ForceTask) -> None:
    """Test hook: the task kills its own worker process (always, or once: a marker file says it happened)."""
    if not task.kill:
        return
    parts = task.kill.split(":", 2)
    if len(parts) == 3 and parts[1] == "once":
        marker = Path(parts[2])
        if marker.exists():
            return
        marker.write_text("killed once\n")
    os._exit(13)


def run_force(task: ForceTask) -> dict[str, Any]:
    """Compute one force's summary into the cache (skipped when the cache has it); runs on a Dask worker."""
    started = time.perf_counter()
    target = task.summary_path
    if target.exists():
        return {"slug": task.slug, "path": str(target), "cached": True, "seconds": 0.0, "events": None,
                "peak_rss_mb": _peak_rss_mb(), "pid": os.getpid()}
    _test_kill(task)
    with tempfile.TemporaryDirectory(prefix="safer-spaces-force-") as tmp:
        boundary = None
        if task.boundary_geojson is not None:
            boundary = Path(tmp) / f"{task.slug}.geojson"
            boundary.write_text(task.boundary_geojson, encoding="utf-8")
        cfg = Config(force=ForceConfig(name=task.name, slug=task.slug,
                                       security_classification=task.security_classification),
                     data=DataConfig(police_uk=tuple(Path(f) for f in task.files), boundary=boundary),
                     grid=GridConfig(h3_resolution=task.h3_resolution))
        numbers = compute_profile(cfg, progress=False)
        summary = build_summary(numbers)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".summary.json.partial-{os.getpid()}")
    write_summary(summary, partial)
    os.replace(partial, target)  # a killed task leaves no cache entry that looks finished
    return {"slug": task.slug, "path": str(target), "cached": False,
            "seconds": round(time.perf_counter() - started, 3),
            "events": int(summary["data_quality"]["sources"][0]["rows_accepted"]),
            "peak_rss_mb": _peak_rss_mb(), "pid": os.getpid()}


# --------------------------------------------------------------------------- the run

def _client(cfg: NationalConfig, scheduler: str | None):
    import dask
    from distributed import Client, LocalCluster

    for name in ("distributed", "tornado", "bokeh"):  # the console shows our progress lines, not Dask's chatter
        logging.getLogger(name).setLevel(logging.CRITICAL)
    dask.config.set({"distributed.scheduler.allowed-failures": cfg.allowed_failures,
                     "distributed.worker.daemon": False})
    if scheduler:
        return Client(scheduler, timeout="30s"), None
    cluster = LocalCluster(n_workers=cfg.workers, threads_per_worker=cfg.threads_per_worker, processes=True,
                           memory_limit=cfg.memory_limit, dashboard_address=None, silence_logs=logging.CRITICAL)
    return Client(cluster), cluster


def _reason(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "KilledWorker":
        return "its worker process died on every attempt (out of memory or a crash in native code)"
    return f"{name}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"


def run_national(cfg: NationalConfig, out: str | os.PathLike, *, scheduler: str | None = None,
                 echo: Callable[[str], None] = print, pdf: bool = True, command: str = "national") -> dict[str, Any]:
    """Run every force on Dask (resuming from the cache), then compile the STRA into ``out``.

    Returns
    -------
    dict
        ``tasks`` (per force: cached / done / failed, seconds, peak memory), ``failed`` (slug -> reason),
        ``stra`` (what :func:`profiles.stra.pipeline.run_stra` returned), ``seconds``.
    """
    from distributed import as_completed

    started = time.perf_counter()
    check_output_dir(out)
    tasks = plan_forces(cfg, out)
    done: dict[str, dict[str, Any]] = {}
    todo = []
    for t in tasks:
        if t.summary_path.exists():
            done[t.slug] = {"slug": t.slug, "path": str(t.summary_path), "cached": True, "seconds": 0.0}
        else:
            todo.append(t)
    if done:
        echo(f"[{len(done):>2}/{len(tasks)}] unchanged since the last run (inputs and config hash the same), not "
             f"redone: {', '.join(done)}")
    failed: dict[str, str] = {}
    if todo:
        client, cluster = _client(cfg, scheduler)
        try:
            echo(f"running {len(todo)} force(s) on {len(client.scheduler_info()['workers'])} Dask worker(s)"
                 + (f" at {scheduler}" if scheduler else " (local cluster)"))
            futures = {client.submit(run_force, t, key=f"force-{t.slug}-{t.key[:12]}", retries=cfg.retries,
                                     pure=False): t for t in todo}
            for fut in as_completed(list(futures)):
                t = futures[fut]
                n = len(done) + len(failed) + 1
                try:
                    res = fut.result()
                except Exception as exc:  # reported, the others go on
                    failed[t.slug] = _reason(exc)
                    echo(f"[{n:>2}/{len(tasks)}] {t.slug}: FAILED after retries: {failed[t.slug]}")
                    continue
                done[t.slug] = res
                if res["cached"]:  # finished by an earlier attempt whose result the scheduler lost with a worker
                    echo(f"[{n:>2}/{len(tasks)}] {t.slug}: done (by an earlier attempt; read from the cache)")
                else:
                    echo(f"[{n:>2}/{len(tasks)}] {t.slug}: done in {res['seconds']:.1f} s "
                         f"({res['events']:,} police.uk rows; worker peak {res['peak_rss_mb']:,.0f} MB)")
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    names = {t.slug: t.name for t in tasks}
    exclusions = [Exclusion(file=f"(national run: {slug})", force=names[slug], field="$",
                            problem=f"the force's run failed: {why}",
                            fix="re-run `safer-spaces national` (finished forces are not redone); check its files")
                  for slug, why in sorted(failed.items())]
    summaries = [done[t.slug]["path"] for t in tasks if t.slug in done]
    extra = {f"forces/{slug}/summary.json": Path(done[slug]["path"]).read_bytes() for slug in sorted(done)}
    stra = run_stra(summaries, out, cfg.stra, pdf=pdf, command=command, extra_files=extra,
                    exclusions=exclusions) if summaries else None
    return {"tasks": done, "failed": failed, "stra": stra, "seconds": time.perf_counter() - started}
