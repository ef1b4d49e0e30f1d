"""``safer-spaces synth rms|streetsafe|ae``: write SYNTHETIC records, each with a sidecar saying so.

The generators are :mod:`profiles.demo.synth` (pure); this module is the edge:
it reads the anchor venues, calls one generator and writes
``SYNTHETIC_<kind>_<area>.csv.gz`` (gzip with ``mtime=0``, so the same
command gives byte-identical files) and ``<FILE>.synthetic.json``, which
states the data are synthetic, the generator, seed, parameters and the
planted ground truth.

Default anchors (Avon and Somerset): the bundled Bath pubs (Open Pubs,
B&NES) and the distinct police.uk map points "On or near Nightclub" (or a
pub/bar) that lie in Bristol, converted to EPSG:27700. Each venue's weight is
1 + the number of other venues within 250 m (NTE clusters draw more events),
doubled for nightclubs.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from hotspots.boundaries import read_boundary
from hotspots.errors import InputFileError, ParameterError
from hotspots.io import atomic_files, write_csv
from profiles.demo import synth

__all__ = ["add_synth_parser", "run_synth", "default_anchors", "read_anchors", "write_synthetic", "sidecar_path"]

log = logging.getLogger("safer_spaces")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
BATH_PUBS = Path("data/venues/Open_Pubs_-_Bath__North_East_Somerset.csv")
POLICE_UK = Path("data/policeuk/avon-and-somerset")
BATH_BOUNDARY = Path("data/boundaries/la/boundary_bathandnortheastsomerset.geojson")
BRISTOL_BOUNDARY = Path("data/boundaries/la/boundary_bristol.geojson")
DEFAULT_AREA = "avon-and-somerset"
NOTICE = "Synthetic data — not real crime/StreetSafe/A&E records"
CLUSTER_M = 250.0

_KINDS = {
    "rms": ("generate_rms", 30_000, "force RMS crime export (Home Office offence codes, flags, outcomes)"),
    "streetsafe": ("generate_streetsafe", 3_000, "StreetSafe reports (anonymous 'felt unsafe' pins)"),
    "ae": ("generate_ae", 4_000, "A&E assault attendances (Cardiff Model, ISB1594 fields)"),
}
_NTE_LOCATION = re.compile(r"^On or near (Nightclub|Pub|Bar|Pub/bar|Bar/pub|Pub/club|Public house)s?$", re.I)
_NUMBERED = re.compile(r"(?:^|\s)\d+[A-Za-z]?(?:\s*-\s*\d+[A-Za-z]?)?\s+([A-Z].*)$")
_STREET_WORD = re.compile(
    r"\b(Street|Road|Lane|Square|Place|Terrace|Hill|Way|Row|Walk|Parade|Buildings|Avenue|Gardens|Close|Yard|"
    r"Green|Court|Passage|Crescent|Gate|Quay|Bridge|Vineyards|Broadway|Circus|Mead|Batch)\b"
)


def add_synth_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``synth rms|streetsafe|ae`` on the top-level subparsers.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers(dest="command")``; dispatch ``command ==
        "synth"`` to :func:`run_synth`.

    Returns
    -------
    argparse.ArgumentParser
        The ``synth`` parser (its subcommand is in ``args.synth_kind``).

    Examples
    --------
    >>> p = argparse.ArgumentParser(prog="safer-spaces")
    >>> _ = add_synth_parser(p.add_subparsers(dest="command"))
    >>> a = p.parse_args(["synth", "rms", "--n", "10", "--seed", "3"])
    >>> a.command, a.synth_kind, a.n, a.seed, a.start, a.end
    ('synth', 'rms', 10, 3, '2024-01', '2024-12')
    """
    syn = subparsers.add_parser(
        "synth",
        help="write SYNTHETIC RMS, StreetSafe or A&E records (seeded, schema-faithful, with planted ground truth)",
        description="Write synthetic records for tests and demos. Every file is named SYNTHETIC_... by default "
        "and has a FILE.synthetic.json sidecar. Use one --seed for the three layers of an area so their planted "
        "places agree.",
    )
    kinds = syn.add_subparsers(dest="synth_kind", required=True)
    for kind, (_, n_default, what) in _KINDS.items():
        k = kinds.add_parser(kind, help=f"synthetic {what}")
        k.add_argument("--n", type=int, default=n_default, help=f"rows (default {n_default:,})")
        k.add_argument("--seed", type=int, default=2024, help="random seed (default 2024); same seed, same bytes")
        k.add_argument("--start", default="2024-01", help="first month YYYY-MM (default 2024-01)")
        k.add_argument("--end", default="2024-12", help="last month YYYY-MM, inclusive (default 2024-12)")
        k.add_argument(
            "--anchors",
            type=Path,
            help="CSV of NTE venues: name and x/y or easting/northing (EPSG:27700) [, weight, street]; default: "
            "bundled Bath pubs + Bristol police.uk nightclub points",
        )
        k.add_argument("--planted", help="anchor name for the planted NTE hotspot (default: drawn from the seed)")
        k.add_argument("--out", type=Path, help=f"FILE.csv or FILE.csv.gz (default SYNTHETIC_{kind}_<area>.csv.gz)")
    return syn


def run_synth(args: argparse.Namespace) -> int:
    """Generate one synthetic layer and write it with its sidecar; the handler for ``synth``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by the parser of :func:`add_synth_parser`.

    Returns
    -------
    int
        0 when written.

    Raises
    ------
    ParameterError
        On bad options (month format, row count, unknown planted venue).
    InputFileError
        If the anchors file is missing or lacks the columns.
    """
    for name in ("start", "end"):
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(getattr(args, name))):
            raise ParameterError(f"--{name} must be a month YYYY-MM (e.g. 2024-01); received {getattr(args, name)!r}")
    if args.anchors is None:
        anchors, source, area = default_anchors(), _default_source(), DEFAULT_AREA
    else:
        anchors, source, area = read_anchors(args.anchors), str(args.anchors), args.anchors.stem
    kind = args.synth_kind
    generator = getattr(synth, _KINDS[kind][0])
    df = generator(args.n, anchors=anchors, start=args.start, end=args.end, seed=args.seed, planted=args.planted)
    out = args.out if args.out is not None else Path(f"SYNTHETIC_{kind}_{area}.csv.gz")
    if not out.name.startswith("SYNTHETIC_"):
        log.warning("%s: the name does not start with SYNTHETIC_; the sidecar still marks it synthetic", out)
    command = f"safer-spaces synth {kind} --n {args.n} --seed {args.seed} --start {args.start} --end {args.end}"
    if args.anchors is not None:
        command += f" --anchors {args.anchors}"
    if args.planted is not None:
        command += f" --planted {json.dumps(args.planted)}"
    command += f" --out {out.name}"
    meta = {
        "kind": kind,
        "describes": _KINDS[kind][2],
        "parameters": {
            "n": args.n,
            "seed": args.seed,
            "start": args.start,
            "end": args.end,
            "planted": args.planted,
            "anchors": source,
            "anchor_count": len(anchors),
        },  # fmt: skip
        "command": command,
    }
    side = write_synthetic(df, out, meta, inputs=[args.anchors] if args.anchors is not None else [ROOT / BATH_PUBS])
    print(f"wrote {out} ({len(df):,} SYNTHETIC {kind} rows) and {side}")
    return 0


def sidecar_path(out: str | Path) -> Path:
    """``FILE.csv[.gz]`` -> ``FILE.synthetic.json``.

    Examples
    --------
    >>> sidecar_path("data/synthetic/SYNTHETIC_ae_x.csv.gz").name
    'SYNTHETIC_ae_x.synthetic.json'
    """
    out = Path(out)
    stem = re.sub(r"\.csv(\.gz)?$", "", out.name, flags=re.I)
    return out.with_name(stem + ".synthetic.json")


def write_synthetic(df: pd.DataFrame, out: str | Path, meta: dict, *, inputs: Sequence[Path] = ()) -> Path:
    """Write a generated frame as CSV (gzip with ``mtime=0`` for ``.gz``) plus its sidecar; return the sidecar path.

    Both files are written atomically (:func:`hotspots.io.atomic_files`), with
    the completion record ``<FILE>.complete.json`` written last, through the
    spreadsheet-safe writer :func:`hotspots.io.write_csv`.

    Parameters
    ----------
    df : pandas.DataFrame
        From a :mod:`profiles.demo.synth` generator (``attrs["synthetic"]`` must be True).
    out : path
        ``.csv`` or ``.csv.gz``.
    meta : dict
        Extra sidecar fields (kind, parameters, command).
    inputs : sequence of path
        Files the generator read (anchors), hashed into the completion record.

    Returns
    -------
    pathlib.Path
        The sidecar ``FILE.synthetic.json``.

    Raises
    ------
    ParameterError
        If ``df`` is not marked synthetic or ``out`` is not ``.csv``/``.csv.gz``.
    """
    out = Path(out)
    if not df.attrs.get("synthetic"):
        raise ParameterError("refusing to write a frame not marked synthetic (df.attrs['synthetic'] is not True)")
    if not re.search(r"\.csv(\.gz)?$", out.name, flags=re.I):
        raise ParameterError(f"--out {out}: expected FILE.csv or FILE.csv.gz")
    side = sidecar_path(out)
    record = {
        "synthetic": True,
        "notice": NOTICE,
        "file": out.name,
        "rows": len(df),
        "columns": list(df.columns),
        "generator": df.attrs.get("generator"),
        **meta,
        "ground_truth": df.attrs.get("ground_truth"),
    }
    command = meta.get("command", "safer-spaces synth")
    with atomic_files([out, side], command=command, inputs=inputs, config=meta) as (tmp_out, tmp_side):
        write_csv(df, tmp_out, float_format="%.6f", compresslevel=9)
        tmp_side.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return side


def _default_source() -> str:
    return (
        f"{BATH_PUBS.as_posix()} (Bath pubs inside {BATH_BOUNDARY.name}) + police.uk map points 'On or near "
        f"Nightclub'/pub/bar inside {BRISTOL_BOUNDARY.name} from {POLICE_UK.as_posix()}/*/*.csv.gz"
    )


def _street(address: str) -> str:
    """The street from an Open Pubs address ("The Pig & Fiddle, 2 Saracen Street, Bath" -> "Saracen Street")."""
    parts = [p.strip() for p in str(address).split(",")]
    for part in parts:  # a house number first: "12 Green Street", "The Raven 7 Queen Street"
        m = _NUMBERED.search(part)
        if m:
            return m.group(1)
    return next((p for p in parts if _STREET_WORD.search(p)), "")


def _inside(x, y, boundary: Path) -> np.ndarray:
    poly = shapely.union_all(read_boundary(DATA.parent / boundary).geometry.to_numpy())
    return shapely.contains_xy(poly, x, y)


def _weights(x, y, factor) -> np.ndarray:
    d = np.hypot(x[:, None] - x, y[:, None] - y)  # a few hundred venues: the full matrix is small
    return (1.0 + (d <= CLUSTER_M).sum(axis=1) - 1) * factor


def _unique_names(names: list[str], streets: list[str]) -> list[str]:
    counts = pd.Series(names).value_counts()
    out = [f"{n} ({s})" if counts[n] > 1 and s else n for n, s in zip(names, streets, strict=True)]
    seen: dict[str, int] = {}
    for i, n in enumerate(out):
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            out[i] = f"{n} ({seen[n]})"
    return out


def default_anchors() -> pd.DataFrame:
    """The bundled Avon and Somerset NTE venues: Bath pubs plus Bristol police.uk nightclub points.

    Returns
    -------
    pandas.DataFrame
        ``name``, ``x``, ``y`` (EPSG:27700 metres), ``weight``, ``street``, ``source``;
        sorted and deterministic.

    Raises
    ------
    InputFileError
        If the bundled files are missing (then pass ``--anchors``).

    Examples
    --------
    >>> a = default_anchors()
    >>> bool(a["name"].is_unique), bool((a["weight"] >= 1).all()), sorted(a["source"].unique())
    (True, True, ['Open Pubs (Bath)', 'police.uk map point (Bristol)'])
    """
    from pyproj import Transformer

    pubs_path = DATA.parent / BATH_PUBS
    files = sorted((DATA.parent / POLICE_UK).glob("*/*.csv.gz"))
    if not pubs_path.exists() or not files:
        raise InputFileError(
            str(pubs_path if not pubs_path.exists() else DATA.parent / POLICE_UK),
            "bundled venue data not found",
            "run from a full checkout, or pass --anchors FILE.csv (name, x, y in EPSG:27700)",
        )
    pubs = pd.read_csv(pubs_path, dtype={"name": str, "address": str})
    px = pubs["easting"].to_numpy(float)
    py = pubs["northing"].to_numpy(float)
    keep = _inside(px, py, BATH_BOUNDARY)
    streets = [_street(a) for a in pubs["address"].fillna("")]
    bath = pd.DataFrame({"name": pubs["name"].str.strip(), "x": px, "y": py, "street": streets})[keep]
    bath["kind"] = "pub"
    bath["source"] = "Open Pubs (Bath)"

    puk = pd.concat(
        [pd.read_csv(f, usecols=["Longitude", "Latitude", "Location"], dtype={"Location": str}) for f in files],
        ignore_index=True,
    )
    puk = puk[puk["Location"].fillna("").str.match(_NTE_LOCATION)].dropna(subset=["Longitude", "Latitude"])
    puk = puk.drop_duplicates(["Longitude", "Latitude"])
    bx, by = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(
        puk["Longitude"].to_numpy(float), puk["Latitude"].to_numpy(float)
    )
    inside = _inside(bx, by, BRISTOL_BOUNDARY)
    labels = puk["Location"].str.replace("On or near ", "", regex=False).str.lower().to_numpy()[inside]
    bristol = pd.DataFrame({"x": np.round(bx[inside], 1), "y": np.round(by[inside], 1), "kind": labels})
    bristol = bristol.sort_values(["x", "y"], ignore_index=True)
    bristol["name"] = [f"Bristol {k} point {i + 1:02d}" for i, k in enumerate(bristol["kind"])]
    bristol["street"] = ""
    bristol["source"] = "police.uk map point (Bristol)"

    out = pd.concat([bath, bristol], ignore_index=True)
    x, y = out["x"].to_numpy(float), out["y"].to_numpy(float)
    out["weight"] = _weights(x, y, np.where(out["kind"] == "nightclub", 2.0, 1.0))
    out["name"] = _unique_names(out["name"].tolist(), out["street"].tolist())
    return out[["name", "x", "y", "weight", "street", "source"]]


def read_anchors(path: str | Path) -> pd.DataFrame:
    """Read an anchors CSV: ``name``, ``x``/``y`` or ``easting``/``northing`` (EPSG:27700) [, ``weight``, ``street``].

    Without ``weight``, each venue gets 1 + the number of other venues within 250 m.

    Raises
    ------
    InputFileError
        If the file is missing or lacks the columns.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(str(path), "anchors file not found", "check the --anchors path")
    df = pd.read_csv(path)
    cols = {c.lower(): c for c in df.columns}
    xc = cols.get("x", cols.get("easting"))
    yc = cols.get("y", cols.get("northing"))
    if "name" not in cols or xc is None or yc is None:
        raise InputFileError(
            str(path),
            f"needs columns name and x/y or easting/northing; found {list(df.columns)}",
            "rename the columns (coordinates in EPSG:27700 metres)",
            line=1,
        )
    out = pd.DataFrame({"name": df[cols["name"]].astype(str), "x": df[xc], "y": df[yc]})
    x, y = out["x"].to_numpy(float), out["y"].to_numpy(float)
    out["weight"] = df[cols["weight"]] if "weight" in cols else _weights(x, y, 1.0)
    out["street"] = df[cols["street"]].fillna("").astype(str) if "street" in cols else ""
    return out
