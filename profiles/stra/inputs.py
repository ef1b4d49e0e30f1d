"""Read every force's summary for the STRA: never crash on one bad file, never drop one silently.

:func:`read_summaries` takes files, folders (every ``summary.json`` below)
and glob patterns; each file is read with :func:`profiles.summary.load_summary`
(validated against the schema version it claims). A file that cannot be used
becomes an :class:`Exclusion` naming the file, the force where it can be
read, the field and the fix; the STRA lists every exclusion.

:func:`definition_mismatches` compares the definitions every comparison
rests on across the forces read and lists each force that differs from the
most common value, so every comparison they affect can carry the caveat.
"""

from __future__ import annotations

import glob
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hotspots.errors import InputFileError
from profiles.summary import load_summary

__all__ = ["COMPARED_DEFINITIONS", "Exclusion", "ForceSummary", "definition_mismatches", "read_summaries"]


@dataclass(frozen=True)
class ForceSummary:
    """One force's summary as read: its file, sha256 of the bytes and the parsed, validated object."""

    file: str
    sha256: str
    summary: dict


@dataclass(frozen=True)
class Exclusion:
    """A summary left out of the STRA, and why (the STRA prints every one)."""

    file: str
    force: str
    field: str
    problem: str
    fix: str


def _expand(inputs: Iterable[str]) -> list[Path]:
    found: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found += sorted(p.rglob("summary.json"))
        elif any(ch in str(item) for ch in "*?["):
            found += sorted(Path(x) for x in glob.glob(str(item), recursive=True))
        else:
            found.append(p)
    seen: dict[str, Path] = {}
    for f in found:
        seen.setdefault(str(f.resolve()) if f.exists() else str(f), f)
    return list(seen.values())


def _force_name(path: Path) -> str:
    """The force a file says it is, read defensively (for the exclusion line); "" when unreadable."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8")[:2_000_000])
        force = obj.get("force", {}) if isinstance(obj, dict) else {}
        return str(force.get("name") or force.get("slug") or "")[:100] if isinstance(force, dict) else ""
    except (OSError, ValueError, UnicodeDecodeError):
        return ""


def read_summaries(inputs: Sequence[str]) -> tuple[list[ForceSummary], list[Exclusion]]:
    """Every usable summary and every exclusion, in file order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from profiles.summary import example_summary, write_summary
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_summary(example_summary(), d / "summary.json")
    >>> _ = (d / "bad").mkdir(); _ = (d / "bad" / "summary.json").write_text("{not json")
    >>> ok, out = read_summaries([str(d)])
    >>> len(ok), [e.field for e in out]
    (1, ['$'])
    """
    ok: list[ForceSummary] = []
    excluded: list[Exclusion] = []
    for path in _expand(inputs):
        try:
            obj = load_summary(path)
        except InputFileError as exc:
            excluded.append(Exclusion(file=str(path), force=_force_name(path), field=str(getattr(exc, "field", "$")),
                                      problem=str(exc).split(" Fix: ")[0][:400],
                                      fix=str(getattr(exc, "fix", "")) or "re-send the force's summary.json"))
            continue
        ok.append(ForceSummary(file=str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest(), summary=obj))
    return ok, excluded


#: definitions a comparison between forces rests on: (label, path into the summary)
COMPARED_DEFINITIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("NTE window", ("definitions", "nte_window")),
    ("VAWG offence table", ("definitions", "vawg_offence_table")),
    ("harm index", ("definitions", "harm_index")),
    ("H3 resolution", ("definitions", "h3_resolution")),
    ("police.uk crime types", ("definitions", "police_uk_crime_types")),
    ("suppression threshold", ("disclosure", "threshold")),
    ("recorded-crime source", ("measures", "fused_basis", "recorded")),
    ("schema version", ("schema_version",)),
)


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return json.dumps(obj, sort_keys=True) if isinstance(obj, list | dict) else obj


def definition_mismatches(forces: Sequence[ForceSummary]) -> pd.DataFrame:
    """Each force whose definition differs from the most common value across the forces read.

    Returns
    -------
    DataFrame
        ``force``, ``definition``, ``value``, ``common`` (the most common value), ``forces_with_common``.

    Examples
    --------
    >>> from profiles.summary import example_summary
    >>> a, b, c = example_summary(), example_summary(), example_summary()
    >>> c["definitions"]["nte_window"] = "Thu-Sat 20:00-04:00"
    >>> fs = [ForceSummary(f"{i}.json", "0" * 64, s) for i, s in enumerate((a, b, c))]
    >>> definition_mismatches(fs)[["force", "definition", "value"]].values.tolist()
    [['Example Constabulary', 'NTE window', 'Thu-Sat 20:00-04:00']]
    """
    rows = []
    for label, path in COMPARED_DEFINITIONS:
        values = [_get(f.summary, path) for f in forces]
        counts = Counter(v for v in values if v is not None)
        if not counts:
            continue
        common, n_common = counts.most_common(1)[0]
        for f, v in zip(forces, values, strict=True):
            if v is not None and v != common:
                rows.append({"force": str(f.summary.get("force", {}).get("name", f.file)), "definition": label,
                             "value": v, "common": common, "forces_with_common": n_common})
    return pd.DataFrame(rows, columns=["force", "definition", "value", "common", "forces_with_common"])
