"""numba's cache folder: beside the source when writable, else a private user or temporary folder."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import numba
import pytest

from hotspots import _numba_cache as nc

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_env_dir(monkeypatch):
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")


def _unwritable(tmp_path: Path) -> Path:
    """A 'package folder' whose __pycache__ cannot be made, even by root: its parent is a file."""
    blocker = tmp_path / "pkg"
    blocker.write_text("not a folder")
    return blocker


def test_writable_package_keeps_numba_default(tmp_path, no_env_dir):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    assert nc.cache_dir(pkg) is None
    assert numba.config.CACHE_DIR == ""
    assert (pkg / "__pycache__").is_dir()


def test_numba_cache_dir_from_the_user_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "mine"))
    assert nc.cache_dir(_unwritable(tmp_path)) == tmp_path / "mine"
    assert numba.config.CACHE_DIR == str(tmp_path / "mine")


def test_read_only_package_uses_the_user_cache(tmp_path, monkeypatch, no_env_dir):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    chosen = nc.cache_dir(_unwritable(tmp_path))
    assert chosen == tmp_path / "xdg" / "safer-spaces" / "numba"
    assert numba.config.CACHE_DIR == str(chosen)
    assert chosen.is_dir()


def test_unsafe_user_cache_falls_back_to_a_private_temporary_folder(tmp_path, monkeypatch, no_env_dir):
    shared = tmp_path / "xdg" / "safer-spaces" / "numba"
    shared.mkdir(parents=True)
    shared.chmod(0o777)  # anyone could plant pickled code here
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(nc.tempfile, "tempdir", None)  # re-read TMPDIR
    chosen = nc.cache_dir(_unwritable(tmp_path))
    assert chosen != shared and chosen.parent == tmp_path / "tmp"
    mode = chosen.stat().st_mode
    assert not mode & (stat.S_IRWXG | stat.S_IRWXO)
    assert numba.config.CACHE_DIR == str(chosen)


def test_temporary_folder_owned_by_someone_else_is_not_reused(tmp_path, monkeypatch):
    monkeypatch.setattr(nc.tempfile, "tempdir", str(tmp_path))
    planted = tmp_path / f"safer-spaces-numba-{os.getuid()}"
    planted.mkdir()
    planted.chmod(0o777)
    chosen = nc._temp_cache()
    assert chosen != planted and chosen.parent == tmp_path


@pytest.mark.skipif(sys.platform != "linux", reason="read-only bind mount needs Linux mount namespaces")
def test_package_on_a_read_only_mount_imports_and_runs_kernels(tmp_path):
    """End to end: the package on a read-only file system with a read-only home still imports and computes."""
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode:
        pytest.skip("no mount namespaces here (unshare -m)")
    code = (
        "import numpy as np, numba, hotspots.grid as g;"
        "c, f = g.unique_points(np.array([1.0, 2.0, 1.0]), np.array([5.0, 5.0, 5.0]));"
        "print(c.tolist(), numba.config.CACHE_DIR)"
    )
    script = (
        f"mount --bind {ROOT} {ROOT} && mount -o remount,bind,ro {ROOT} && "
        f"HOME={ROOT} XDG_CACHE_HOME= TMPDIR={tmp_path} NUMBA_CACHE_DIR= PYTHONPATH={ROOT} "
        f"{sys.executable} -c '{code}'"
    )
    out = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("[0, 1, 0] " + str(tmp_path))


_ONE_SIGNATURE = """
import gzip, sys, tempfile
from pathlib import Path
import numpy as np, pandas as pd
import hotspots
from hotspots.clustering import dbscan
from hotspots.fusion import place_scores, source_grids
from hotspots.getis_ord import gi_star
from hotspots.grid import events_to_cells
from hotspots.ingest.ae import read_ae
from hotspots.ingest.police_uk import read_police_uk
from hotspots.ingest.rms import read_rms
from hotspots.ingest.streetsafe import read_streetsafe
from hotspots.ingest.venues import read_venues
from hotspots.kde import kde
from hotspots.timebands import nte_share, weekday_hour_table

data = Path(sys.argv[1])
tmp = Path(tempfile.mkdtemp())

def head(path, rows=80):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as f:
        lines = [next(f, "") for _ in range(rows)]
    out = tmp / path.name.removesuffix(".gz")
    out.write_text("".join(lines), encoding="utf-8")
    return out

syn = data / "synthetic"
puk = read_police_uk([head(sorted((data / "policeuk/avon-and-somerset").rglob("*street.csv*"))[0])], progress=False)
rms = read_rms([head(syn / "SYNTHETIC_rms_avon-and-somerset.csv.gz")], synthetic=True)
read_streetsafe([head(syn / "SYNTHETIC_streetsafe_avon-and-somerset.csv.gz")], synthetic=True)
read_ae([head(syn / "SYNTHETIC_ae_avon-and-somerset.csv.gz")], synthetic=True)
read_venues([head(p) for p in sorted((data / "venues").glob("*.csv"))])
ev = puk.events.to_pandas()
counts = events_to_cells(ev, by=[])
gi_star(counts, study_area="ring:1")
kde(ev, radius_m=400, pixel_m=50)
dbscan(ev, eps_m=200, min_samples=3)
rev = rms.events.to_pandas()
nte_share(rev["t_from"].to_numpy(), rev["t_to"].to_numpy(), window="Fri,Sat 21:00-06:00")
weekday_hour_table(rev)
both = pd.concat([ev[["lat", "lng", "x", "y", "source"]], rev[["lat", "lng", "x", "y", "source"]]])
place_scores(source_grids(both, resolution=9), sources=["police_uk", "rms"])
many = []
for name, mod in sorted(sys.modules.items()):
    if name.startswith("hotspots"):
        for attr, obj in vars(mod).items():
            if hasattr(obj, "py_func") and obj.py_func.__module__ == name and len(obj.signatures) > 1:
                many.append(f"{name}.{attr}: {len(obj.signatures)}")
print("MANY", many)
"""


def test_each_kernel_compiles_one_signature_in_a_run():
    """Callers hand the kernels one array type each (writable, C order, int64 spans): a fresh clone compiles each
    kernel once, not once per flag combination (read-only vs writable, C vs any layout, int32 vs int64)."""
    from conftest import DATA

    out = subprocess.run(
        [sys.executable, "-c", _ONE_SIGNATURE, str(DATA)], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "MANY []"
