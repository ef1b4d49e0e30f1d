"""Shared fixtures: small police.uk files written on the fly, and the bundled data."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI replays the same examples every run (a red CI must be reproducible); HYPOTHESIS_PROFILE=explore draws new
# ones each run, as the longer fuzz runs do (SAFER_SPACES_FUZZ=long|nightly, benchmarks/fuzz.py).
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
PUK_DIR = DATA / "policeuk" / "avon-and-somerset"

HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)


def puk_row(
    crime_id="",
    month="2024-01",
    lng="-2.359463",
    lat="51.381912",
    location="On or near High Street",
    lsoa="E01014370",
    crime_type="Violence and sexual offences",
    outcome="Under investigation",
    context="",
):
    """One police.uk line (no newline)."""
    force = "Avon and Somerset Constabulary"
    return ",".join(
        [
            crime_id,
            month,
            force,
            force,
            lng,
            lat,
            location,
            lsoa,
            "Bath and North East Somerset 010A",
            crime_type,
            outcome,
            context,
        ]
    )


def write_puk(
    path: Path,
    rows: list[str],
    *,
    header: str = HEADER,
    newline: str = "\n",
    encoding: str = "utf-8",
    bom: bool = False,
    gz: bool = False,
    trailing_newline: bool = True,
) -> Path:
    """Write a police.uk-style file exactly as asked (line endings, encoding, BOM, gzip)."""
    text = newline.join([header, *rows]) + (newline if trailing_newline else "")
    data = text.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    if gz:
        data = gzip.compress(data, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def cid(i: int) -> str:
    """A police.uk-looking 64-hex Crime ID."""
    return f"{i:064x}"


@pytest.fixture
def month_file() -> Path:
    return PUK_DIR / "2023-01" / "2023-01-avon-and-somerset-street.csv.gz"


# --- the demo force, computed and built once per session ------------------------------------------------------


@pytest.fixture(scope="session")
def demo_numbers():
    """The demo force's restricted ``ProfileNumbers`` (``compute_profile`` on the bundled config), computed once."""
    from hotspots.config import load_config
    from profiles.compute import compute_profile

    return compute_profile(load_config(ROOT / "configs" / "avon-and-somerset.toml"))


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory):
    """``(out_dir, result)`` of the demo through ``profiles.pipeline.run`` with its shared version, built once."""
    from hotspots.config import load_config
    from profiles.pipeline import run

    out = tmp_path_factory.mktemp("demo") / "avon-and-somerset"
    cfg = load_config(ROOT / "configs" / "avon-and-somerset.toml")
    return out, run(cfg, out, share=True, progress=False)
