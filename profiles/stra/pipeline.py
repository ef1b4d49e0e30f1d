"""``safer-spaces stra``: read every summary, compile, share, render and write the STRA atomically.

read -> :func:`~profiles.stra.compute.compile_stra` -> :func:`profiles.shared.to_shared` (the one disclosure
step) -> :func:`~profiles.stra.render.render_stra` (both versions) -> one writer (``atomic_dir``: a killed run
leaves the previous output, never a half-written one). ``audit.jsonl`` lists every input by hash, the config
hash, the tool version, every exclusion and every output written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hotspots.errors import InputFileError
from hotspots.io import atomic_dir, check_output_dir, config_sha256, write_files
from profiles.compute import tool_version
from profiles.pipeline import prefixed
from profiles.shared import to_shared
from profiles.stra.compute import StraNumbers, compile_stra
from profiles.stra.config import StraConfig
from profiles.stra.inputs import Exclusion, read_summaries
from profiles.stra.render import audit_lines, render_stra

__all__ = ["STRA_MAIN_OUTPUTS", "run_stra", "stra_config_dict"]

STRA_MAIN_OUTPUTS = ("stra.html", "stra.pdf", "stra.json", "audit.jsonl", "shared/stra.html", "shared/stra.pdf",
                     "shared/stra.json")


def stra_config_dict(cfg: StraConfig) -> dict[str, Any]:
    """The STRA config as plain data (hashed into the audit)."""
    import dataclasses

    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        return str(v) if isinstance(v, Path) else v

    d = plain(cfg)
    for key in ("population", "boundaries"):  # hash the reference data, not where it lives on this machine
        d[key] = Path(getattr(cfg, key)).name
    return d


def run_stra(inputs: Sequence[str], out_dir: str | os.PathLike, cfg: StraConfig, *, share: bool | None = None,
             pdf: bool = True, command: str = "stra", extra_files: Mapping[str, bytes | str] | None = None,
             exclusions: Sequence[Exclusion] = ()) -> dict[str, Any]:
    """Compile the STRA from summaries into ``out_dir`` (restricted, and ``shared/`` when sharing).

    Parameters
    ----------
    inputs : sequence of str
        ``summary.json`` files, folders (searched for ``summary.json``) and glob patterns.
    out_dir : path
        Output folder: new, empty, or a previous Safer Spaces output (replaced only when complete).
    cfg : StraConfig
    share : bool, optional
        Write the disclosure-controlled version to ``shared/`` (default ``cfg.disclosure.share``).
    pdf : bool, default True
        Print ``stra.pdf`` with Chromium (skipped with a warning when Chromium is missing).
    command : str
        The command line, for the audit.
    extra_files : mapping, optional
        More files to write with the STRA (the national runner's per-force summaries).
    exclusions : sequence of Exclusion
        Forces left out before reading (the national runner's failed forces), listed with the rest.

    Returns
    -------
    dict
        ``numbers``, ``shared`` (or None), ``outputs`` (relative name -> path), ``exclusions``, ``seconds``.

    Raises
    ------
    InputFileError
        Not one usable summary among the inputs (each exclusion is named).
    """
    started = time.perf_counter()
    share = cfg.disclosure.share if share is None else share
    check_output_dir(out_dir)
    forces, excluded = read_summaries([str(i) for i in inputs])
    excluded = [*exclusions, *excluded]
    if not forces:
        why = "; ".join(f"{e.file}: {e.problem}" for e in excluded[:3]) or "no summary.json found"
        raise InputFileError(", ".join(map(str, inputs))[:200], f"no usable force summary ({why})",
                             "give summary.json files, or folders holding them, written by safer-spaces profile")
    conf = stra_config_dict(cfg)
    numbers: StraNumbers = compile_stra(forces, excluded, cfg, config_sha256=config_sha256(conf) or "",
                                        tool_version=tool_version())
    files: dict[str, bytes | str] = dict(render_stra(numbers, boundaries=cfg.boundaries, pdf=pdf))
    shared = None
    if share:
        d = cfg.disclosure
        shared = to_shared(numbers, d.threshold, release=d.release, handling=d.handling)
        files |= prefixed("shared/", render_stra(shared, boundaries=cfg.boundaries, pdf=pdf))
    files |= dict(extra_files or {})
    seconds = time.perf_counter() - started
    files["audit.jsonl"] = audit_lines(numbers, command=command, outputs=files, seconds=round(seconds, 3))
    final = Path(os.path.abspath(out_dir))
    used = [Path(f.file) for f in forces]
    with atomic_dir(out_dir, command=command, inputs=used, config=conf) as staging:
        written = write_files(staging, files)
    outputs = {name: str(final / name) for name in sorted(written)}
    return {"numbers": numbers, "shared": shared, "outputs": outputs, "exclusions": list(numbers.exclusions),
            "seconds": time.perf_counter() - started}
