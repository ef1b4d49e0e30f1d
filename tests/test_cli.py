"""The command line: clear one-line errors, exit codes, no tracebacks, no row contents."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import HEADER, PUK_DIR, ROOT, cid, puk_row, write_puk


def _run(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "profiles.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def _no_traceback(p):
    assert "Traceback" not in p.stdout + p.stderr


def test_wrong_header_names_file_line_columns_and_fix(tmp_path):
    bad = tmp_path / "outcomes.csv"
    bad.write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type\n",
        encoding="utf-8",
    )
    p = _run("ingest", "police-uk", bad, "--out", tmp_path / "out")
    _no_traceback(p)
    assert p.returncode == 2
    line = p.stderr.strip()
    assert line.count("\n") == 0
    assert "outcomes.csv line 1" in line and "Crime type" in line and "Fix:" in line
    assert not (tmp_path / "out" / "events.parquet").exists()  # nothing half-written


def test_quarantined_rows_exit_zero_and_never_echo_row_contents(tmp_path):
    secret = "On or near Secret Lane"
    f = write_puk(tmp_path / "m.csv", [puk_row(cid(1), lat="notanumber", location=secret), puk_row(cid(2))])
    p = _run("ingest", "police-uk", f, "--out", tmp_path / "out")
    _no_traceback(p)
    assert p.returncode == 0
    assert "2 rows read = 1 accepted + 1 quarantined" in p.stdout
    assert "bad_coordinates" in p.stdout and "quarantine.csv" in p.stderr
    for text in (secret, "notanumber", cid(1)):
        assert text not in p.stdout + p.stderr
    rec = json.loads((tmp_path / "out" / "reconciliation.json").read_text())
    assert rec["rows_read"] == rec["rows_accepted"] + rec["rows_quarantined"] == 2
    assert (tmp_path / "out" / "quarantine.csv").read_text().count("\n") == 2


def test_truncated_gzip_exit_one_and_says_redownload(tmp_path):
    src = PUK_DIR / "2023-02" / "2023-02-avon-and-somerset-street.csv.gz"
    bad = tmp_path / "2023-02-avon-and-somerset-street.csv.gz"
    bad.write_bytes(src.read_bytes()[:200_000])
    p = _run("ingest", "police-uk", bad, "--out", tmp_path / "out")
    _no_traceback(p)
    assert p.returncode == 1
    assert "2023-02-avon-and-somerset-street.csv.gz" in p.stderr and "re-download" in p.stderr


@pytest.mark.parametrize(
    "setup, expect",
    [
        ("missing", "no such file"),
        ("empty", "file is empty"),
        ("utf16", "UTF-16"),
    ],
)
def test_unusable_inputs_exit_two(tmp_path, setup, expect):
    f = tmp_path / "x.csv"
    if setup == "empty":
        f.write_bytes(b"")
    elif setup == "utf16":
        f.write_bytes((HEADER + "\n").encode("utf-16"))
    p = _run("ingest", "police-uk", f, "--out", tmp_path / "out")
    _no_traceback(p)
    assert p.returncode == 2 and expect in p.stderr and "x.csv" in p.stderr and "Fix:" in p.stderr


def test_bad_config_exit_two_names_key(tmp_path):
    cfg = tmp_path / "f.toml"
    cfg.write_text('[force]\nname="x"\nslug="x"\n[data]\npolice_uk=["a"]\nboundry="b"\n', encoding="utf-8")
    p = _run("profile", cfg, "--out", tmp_path / "out")
    _no_traceback(p)
    assert p.returncode == 2 and "unknown key 'data.boundry'" in p.stderr and "f.toml" in p.stderr


def test_boundary_option_flags_outside(tmp_path):
    rows = [puk_row(cid(1)), puk_row(cid(2), lng="-3.9", lat="50.5")]
    f = write_puk(tmp_path / "b.csv", rows)
    p = _run(
        "ingest",
        "police-uk",
        f,
        "--out",
        tmp_path / "out",
        "--boundary",
        ROOT / "data" / "boundaries" / "la" / "boundary_bathandnortheastsomerset.geojson",
    )
    _no_traceback(p)
    assert p.returncode == 0 and "outside the force boundary: 1" in p.stdout


def test_kde_command_writes_geotiff_with_params(tmp_path):
    import rasterio

    pts = ROOT / "tests" / "fixtures" / "qgis_kde" / "points.csv"
    out = tmp_path / "k.tif"
    p = _run("kde", pts, "--radius-m", 400, "--pixel-m", 50, "--qgis-compat", "--out", out)
    _no_traceback(p)
    assert p.returncode == 0, p.stderr
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 27700 and ds.nodata == -9999 and ds.dtypes[0] == "float32"
        q = rasterio.open(ROOT / "tests" / "fixtures" / "qgis_kde" / "case00_quartic_raw_r400_p50.tif").read(1)
        assert (ds.read(1) == q).all()  # the CLI gives QGIS's own raster
    assert json.loads((tmp_path / "k.tif.json").read_text())["bandwidth_rule"] == "fixed"


@pytest.mark.parametrize(
    "args, expect",
    [
        (["--radius-m", "-4", "--pixel-m", "50"], "radius_m must be a positive"),
        (["--pixel-m", "50"], "radius_m is required"),
        (["--radius-m", "400", "--pixel-m", "50", "--grid", "boundary"], "needs --boundary"),
    ],
)
def test_kde_bad_parameters_exit_two(tmp_path, args, expect):
    pts = ROOT / "tests" / "fixtures" / "qgis_kde" / "points.csv"
    p = _run("kde", pts, *args, "--out", tmp_path / "k.tif")
    _no_traceback(p)
    assert p.returncode == 2 and expect in p.stderr


def test_kde_refuses_degrees(tmp_path):
    f = tmp_path / "ll.csv"
    f.write_text("lng,lat\n-2.36,51.38\n-2.35,51.39\n", encoding="utf-8")
    p = _run("kde", f, "--radius-m", "400", "--pixel-m", "50", "--out", tmp_path / "k.tif")
    _no_traceback(p)
    assert p.returncode == 2 and "degrees" in p.stderr and "EPSG:27700" in p.stderr


def test_gistar_command_on_ingested_events(tmp_path):
    import pandas as pd

    ing = _run("ingest", "police-uk", PUK_DIR / "2024-06", "--out", tmp_path / "ing")
    assert ing.returncode == 0
    p = _run("gistar", tmp_path / "ing" / "events.parquet", "--resolution", "9", "--out", tmp_path / "gi.csv")
    _no_traceback(p)
    assert p.returncode == 0, p.stderr
    out = pd.read_csv(tmp_path / "gi.csv")
    assert {"h3_cell", "count", "gi_z", "gi_p", "gi_p_fdr", "gi_significant", "gi_bin"} <= set(out.columns)
    assert out["gi_significant"].sum() > 10 and "hot" in p.stdout
    p2 = _run("gistar", tmp_path / "ing" / "events.parquet", "--permutations", "99", "--out", tmp_path / "g2.csv")
    assert p2.returncode == 0 and "cannot" not in p2.stderr and "no p-value is below" in p2.stderr


def test_dbscan_command(tmp_path):
    import pandas as pd

    pts = ROOT / "tests" / "fixtures" / "qgis_kde" / "points.csv"
    p = _run("dbscan", pts, "--eps-m", "60", "--min-samples", "8", "--out", tmp_path / "db.csv")
    _no_traceback(p)
    assert p.returncode == 0, p.stderr
    labels = pd.read_csv(tmp_path / "db.csv")
    assert {"dbscan_cluster", "dbscan_core"} <= set(labels.columns) and len(labels) == 235
    assert (tmp_path / "db_clusters.geojson").exists() and "clusters" in p.stdout
    bad = _run("dbscan", pts, "--eps-m", "0", "--min-samples", "8", "--out", tmp_path / "x.csv")
    _no_traceback(bad)
    assert bad.returncode == 2 and "eps" in bad.stderr


def test_commands_are_package_functions_the_cli_only_writes(tmp_path):
    """The CLI's output is exactly what the package function returns (the app can call the same function)."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import rasterio

    from hotspots.io import restore_cells
    from profiles import commands

    pts = ROOT / "tests" / "fixtures" / "qgis_kde" / "points.csv"
    assert _run("gistar", pts, "--resolution", "10", "--out", tmp_path / "gi.csv").returncode == 0
    cli = pd.read_csv(tmp_path / "gi.csv")
    direct = commands.gistar_cells(pts, resolution=10)
    assert restore_cells(cli["h3_cell"]).tolist() == direct["h3_cell"].astype(str).tolist()
    np.testing.assert_allclose(cli["gi_z"], direct["gi_z"], rtol=1e-9)
    assert _run("kde", pts, "--radius-m", "100", "--pixel-m", "25", "--out", tmp_path / "k.tif").returncode == 0
    with rasterio.open(tmp_path / "k.tif") as ds:
        np.testing.assert_allclose(ds.read(1), commands.kde_surface(pts, radius_m=100, pixel_m=25).density, rtol=1e-6)
    assert _run("dbscan", pts, "--eps-m", "60", "--min-samples", "8", "--out", tmp_path / "d.csv").returncode == 0
    labels, clusters, _ = commands.dbscan_clusters(pts, eps_m=60, min_samples=8)
    assert pd.read_csv(tmp_path / "d.csv")["dbscan_cluster"].tolist() == labels["dbscan_cluster"].tolist()
    assert len(gpd.read_file(tmp_path / "d_clusters.geojson")) == len(clusters)
