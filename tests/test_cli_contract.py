"""Every command keeps the exit-code contract: 0 done, 1 damaged input, 2 nothing done, 3 internal error.

Each failure class runs the real command line in a subprocess and checks the
exit code, exactly one line on stderr of the documented form, no traceback,
and that nothing was written. Resource refusals are also checked at the
Python API (the functions refuse, not only the command line).
"""

from __future__ import annotations

import logging
import os
import re
import resource
import signal
import stat
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import PUK_DIR, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotspots.clustering import dbscan_labels
from hotspots.errors import MEMORY_BUDGET_ENV, ParameterError, format_bytes, memory_budget
from hotspots.getis_ord import disk_size, gi_star
from hotspots.kde import Grid, kde_array, kde_memory
from profiles import cli

POINTS = ROOT / "tests" / "fixtures" / "qgis_kde" / "points.csv"
CONFIG = ROOT / "configs" / "avon-and-somerset.toml"


def _run(*args, env=None, preexec=None, state=None):
    full = {**os.environ, **(env or {})}
    full.pop("SAFER_SPACES_TEST_CRASH", None) if "SAFER_SPACES_TEST_CRASH" not in (env or {}) else None
    if state is not None:
        full["XDG_STATE_HOME"] = str(state)
    return subprocess.run(
        [sys.executable, "-m", "profiles.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full,
        preexec_fn=preexec,
        timeout=600,
    )


def _one_error_line(p, code: int) -> str:
    """The single stderr line of a failed command (asserting the exit code and no traceback)."""
    assert p.returncode == code, (p.returncode, p.stderr[-2000:])
    assert "Traceback" not in p.stdout + p.stderr
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def _tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _limit_file_size(limit: int):
    def preexec():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


# ---------------------------------------------------------------- config and inputs: exit 2, nothing written


def test_non_utf8_config_exit_2_nothing_written(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_bytes(CONFIG.read_bytes().replace(b"Avon and Somerset Constabulary", b"Caf\xe9 Constabulary", 1))
    p = _run("profile", cfg, "--out", tmp_path / "out")
    line = _one_error_line(p, 2)
    assert f"{cfg}: is not UTF-8 text (byte 0xe9 on line" in line and "save it as UTF-8" in line
    assert _tree(tmp_path) == ["bad.toml"]


def test_missing_input_named_in_config_exit_2_before_any_stage(tmp_path):
    text = CONFIG.read_text(encoding="utf-8")
    text = text.replace("../data/", f"{ROOT}/data/").replace(
        "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz", "no-such-imd.csv.gz"
    )
    cfg = tmp_path / "force.toml"
    cfg.write_text(text, encoding="utf-8")
    p = _run("profile", cfg, "--out", tmp_path / "out")
    line = _one_error_line(p, 2)
    assert "data.imd = " in line and "no-such-imd.csv.gz (not found)" in line and "Fix:" in line
    assert _tree(tmp_path) == ["force.toml"]  # no output folder, no staging folder


# ---------------------------------------------------------------- outputs that cannot be written: exit 2


@pytest.mark.parametrize(
    "command",
    [
        ["ingest", "police-uk", PUK_DIR / "2024-06"],
        ["kde", POINTS, "--radius-m", "400", "--pixel-m", "50"],
        ["gistar", POINTS],
    ],
)
def test_out_is_the_wrong_kind_of_path(tmp_path, command):
    blocker = tmp_path / "blocker"
    blocker.write_text("keep me", encoding="utf-8")
    folder_out = command[0] == "ingest"
    out = blocker if folder_out else tmp_path
    p = _run(*command, "--out", out)
    line = _one_error_line(p, 2)
    assert f"--out {out}: is a" in line and "Fix:" in line
    under = _run(*command, "--out", blocker / "sub" / ("out" if folder_out else "x.csv"))
    assert f"{blocker} is a file, not a folder" in _one_error_line(under, 2)
    assert _tree(tmp_path) == ["blocker"] and blocker.read_text(encoding="utf-8") == "keep me"


def test_out_is_the_input(tmp_path):
    pts = tmp_path / "points.csv"
    pts.write_bytes(POINTS.read_bytes())
    p = _run("gistar", pts, "--out", pts)
    assert "is the input file" in _one_error_line(p, 2)
    assert pts.read_bytes() == POINTS.read_bytes()


@pytest.mark.parametrize(
    "command",
    [
        ["kde", POINTS, "--radius-m", "400", "--pixel-m", "5", "--out", "k.tif"],
        ["gistar", POINTS, "--out", "g.csv"],
        ["dbscan", POINTS, "--eps-m", "60", "--min-samples", "8", "--out", "d.csv"],
        ["ingest", "police-uk", PUK_DIR / "2024-06", "--out", "ing"],
    ],
)
def test_full_disk_exit_2_and_previous_output_untouched(tmp_path, command):
    """A file-size limit while writing (EFBIG; a full disk or quota gives ENOSPC/EDQUOT): one line, old output kept."""
    out_name = command[-1]
    command = [*command[:-1], tmp_path / out_name]
    first = _run(*command)
    assert first.returncode == 0, first.stderr
    files = [q for q in _tree(tmp_path) if (tmp_path / q).is_file()]
    before = {q: (tmp_path / q).read_bytes() for q in files}
    p = _run(*command, preexec=_limit_file_size(2000))
    line = _one_error_line(p, 2)
    assert str(tmp_path) in line and "Fix:" in line
    assert "File too large" in line or "file-size limit" in line
    after = [q for q in _tree(tmp_path) if (tmp_path / q).is_file()]
    assert {q: (tmp_path / q).read_bytes() for q in after} == before  # no partial file, nothing replaced


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions (covered by the full-disk test)")
def test_read_only_output_folder_exit_2(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        p = _run("gistar", POINTS, "--out", ro / "g.csv")
        line = _one_error_line(p, 2)
        assert str(ro) in line and "Fix:" in line
        assert not any(ro.iterdir())
    finally:
        ro.chmod(stat.S_IRWXU)


# ---------------------------------------------------------------- resources refused up front: exit 2


def test_kde_tiny_pixel_refused_with_the_size_and_a_fix(tmp_path):
    p = _run("kde", POINTS, "--radius-m", "400", "--pixel-m", "0.01", "--out", tmp_path / "k.tif")
    line = _one_error_line(p, 2)
    m = re.search(r"a KDE grid of ([\d,]+) x ([\d,]+) pixels .* would need ([\d.]+) TiB of memory", line)
    assert m, line
    cols, rows = (int(g.replace(",", "")) for g in m.group(1, 2))
    assert abs(cols * rows * 30 / 2**40 - float(m.group(3))) < 0.06  # 30 bytes a pixel on two threads
    assert "Fix: use pixel_m" in line and "--grid boundary" in line and MEMORY_BUDGET_ENV in line
    assert _tree(tmp_path) == []


def test_gistar_huge_k_refused_not_aborted(tmp_path):
    p = _run("gistar", POINTS, "--k", "1000", "--out", tmp_path / "g.csv")
    line = _one_error_line(p, 2)
    assert "--k must be 1 to 50" in line and "got 1000" in line and "Fix:" in line
    assert _tree(tmp_path) == []


def test_gistar_neighbourhood_over_the_budget_names_the_size(tmp_path):
    p = _run("gistar", POINTS, "--k", "40", "--out", tmp_path / "g.csv", env={MEMORY_BUDGET_ENV: "1M"})
    line = _one_error_line(p, 2)
    assert f"({disk_size(40):,} cells each) would need" in line and "Fix: use a smaller k" in line
    assert _tree(tmp_path) == []


@pytest.mark.parametrize(
    "args, expect",
    [
        (["kde", POINTS, "--radius-m", "nan", "--pixel-m", "50"], "radius_m must be a positive number"),
        (["kde", POINTS, "--radius-m", "400", "--pixel-m", "inf"], "pixel_m must be a positive number"),
        (["kde", POINTS, "--radius-m", "1e300", "--pixel-m", "10"], "is more than a GeoTIFF can hold"),
        (["dbscan", POINTS, "--eps-m", "5e-324", "--min-samples", "8"], "eps_m=5e-324 is too small"),
        (["dbscan", POINTS, "--eps-m", "60", "--min-samples", "0"], "min_samples must be an integer >= 1"),
        (["gistar", POINTS, "--alpha", "1.5"], "--alpha must be between 0 and 1"),
        (["gistar", POINTS, "--permutations", "-1"], "--permutations must be 0 or more"),
        (["gistar", POINTS, "--resolution", "16"], "--resolution must be an H3 resolution 0-15"),
        (["gistar", POINTS, "--study-area", "ring:abc"], "K in ring:K must be 1 to 50"),
        (["kde", POINTS, "--crs", "garbage", "--radius-m", "100", "--pixel-m", "10"], "is not a coordinate reference"),
    ],
)
def test_bad_parameters_exit_2_with_the_fix(tmp_path, args, expect):
    out = tmp_path / ("d.csv" if args[0] == "dbscan" else "o.csv" if args[0] == "gistar" else "k.tif")
    p = _run(*args, "--out", out)
    assert expect in _one_error_line(p, 2)
    assert _tree(tmp_path) == []


def test_kde_api_refuses_before_allocating(monkeypatch):
    """The Python API refuses too; the estimate is the documented bytes per pixel (independent arithmetic)."""
    assert kde_memory(Grid(0.0, 0.0, 1.0, 1000, 1000), radius_m=5) == 30 * 10**6  # 2 threads: 9 * 2 + 12
    assert kde_memory(Grid(0.0, 0.0, 1.0, 1000, 1000), radius_m=5, qgis_compat=True) == 12 * 10**6
    x = np.array([350000.0, 351000.0])
    y = np.array([150000.0, 151000.0])
    with pytest.raises(ParameterError, match=r"would need [\d.]+ TiB of memory.*Fix: use pixel_m"):
        kde_array(x, y, radius_m=400, pixel_m=0.001)
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "1M")
    with pytest.raises(ParameterError, match=r"1\.0 MiB allowed \(set by SAFER_SPACES_MEMORY_BUDGET"):
        kde_array(x, y, radius_m=400, pixel_m=5)  # 361 x 361 pixels x 30 bytes: 3.7 MiB
    assert kde_array(x, y, radius_m=400, pixel_m=50).density.shape == (37, 37)  # 41 KB fits


def test_gistar_api_bounds_k_and_its_memory(monkeypatch):
    import h3

    cells = sorted(h3.grid_disk(h3.latlng_to_cell(51.45, -2.58, 9), 5))  # 91 cells
    frame = pd.DataFrame({"h3_cell": cells, "count": np.arange(len(cells))})
    with pytest.raises(ParameterError, match="k must be an integer >= 1 and <= 50"):
        gi_star(frame, k=1000, study_area="occupied")
    with pytest.raises(ParameterError, match=r"mode must be 'ring:K' with K >= 1 and <= 50"):
        gi_star(frame, study_area="ring:1000")
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "100K")  # 91 cells x 1,261 x 24 bytes = 2.6 MiB at k=20
    with pytest.raises(ParameterError, match=r"neighbourhoods of 91 H3 cells \(1,261 cells each\) would need 2\.6 MiB"):
        gi_star(frame, k=20, study_area="occupied")
    assert len(gi_star(frame, k=1, study_area="occupied")) == 91  # 91 x 7 x 24 bytes fits


def test_dbscan_api_refuses_a_subnormal_eps():
    with pytest.raises(ParameterError, match="too small"):
        dbscan_labels(np.array([0.0, 1000.0]), np.array([0.0, 1000.0]), eps_m=5e-324, min_samples=2)


def test_memory_budget_reads_the_environment(monkeypatch):
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "2.5G")
    assert memory_budget() == int(2.5 * 2**30) and format_bytes(memory_budget()) == "2.5 GiB"
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "lots")
    with pytest.raises(Exception, match="is not a memory size"):
        memory_budget()
    monkeypatch.delenv(MEMORY_BUDGET_ENV)
    assert 0 < memory_budget() <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2


# ---------------------------------------------------------------- internal errors: exit 3, one line, private file


_INTERNAL = re.compile(r"^error: internal error \((\w+)\); full traceback saved to (\S+); please report it")


def test_internal_error_one_line_and_private_traceback(tmp_path):
    state = tmp_path / "state"
    p = _run(
        "kde", POINTS, "--radius-m", "400", "--pixel-m", "50", "--out", tmp_path / "k.tif",
        env={"SAFER_SPACES_TEST_CRASH": "internal"}, state=state,
    )  # fmt: skip
    m = _INTERNAL.match(_one_error_line(p, 3))
    assert m and m.group(1) == "RuntimeError"
    saved = state / "safer-spaces"
    crash = next(saved.iterdir())
    assert str(crash) == m.group(2) and crash.name.startswith("crash-")
    assert stat.S_IMODE(crash.stat().st_mode) == 0o600 and stat.S_IMODE(saved.stat().st_mode) == 0o700
    text = crash.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "SECRET-ROW-CONTENT" in text
    assert "SECRET-ROW-CONTENT" not in p.stdout + p.stderr  # the message may quote data: only in the private file
    assert _tree(tmp_path) == ["state", "state/safer-spaces", f"state/safer-spaces/{crash.name}"]


def test_internal_error_while_writing_keeps_previous_output(tmp_path):
    out = tmp_path / "out" / "g.csv"
    assert _run("gistar", POINTS, "--out", out).returncode == 0
    before = {p: (out.parent / p).read_bytes() for p in _tree(out.parent)}
    p = _run("gistar", POINTS, "--out", out, env={"SAFER_SPACES_TEST_CRASH": "internal@write"}, state=tmp_path / "s")
    assert _INTERNAL.match(_one_error_line(p, 3))
    assert {q: (out.parent / q).read_bytes() for q in _tree(out.parent)} == before


def test_native_crash_is_one_line_exit_3(tmp_path):
    state = tmp_path / "state"
    p = _run("gistar", POINTS, "--out", tmp_path / "g.csv", env={"SAFER_SPACES_TEST_CRASH": "abort"}, state=state)
    line = _one_error_line(p, 3)
    assert line.startswith("error: internal error (the process crashed: SIGABRT); details saved to ")
    crash = next((state / "safer-spaces").iterdir())
    assert "simulated library abort" in crash.read_text(encoding="utf-8")
    assert "simulated library abort" not in p.stderr  # native stderr is captured, not shown
    assert not (tmp_path / "g.csv").exists()


def test_out_of_memory_exit_2_with_the_size(tmp_path):
    p = _run("gistar", POINTS, "--out", tmp_path / "g.csv", env={"SAFER_SPACES_TEST_CRASH": "memory"})
    line = _one_error_line(p, 2)
    assert "not enough memory (Unable to allocate 64.0 TiB" in line and "Fix:" in line
    assert _tree(tmp_path) == []


# ---------------------------------------------------------------- warnings: counts and file names only


def test_header_only_file_warns_and_exits_0(tmp_path):
    f = tmp_path / "2024-01-avon-and-somerset-street.csv"
    f.write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
        "Last outcome category,Context\n",
        encoding="utf-8",
    )
    p = _run("ingest", "police-uk", f, "--out", tmp_path / "out")
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    assert any(f.name in ln and "no data rows" in ln for ln in p.stderr.splitlines())
    assert (tmp_path / "out" / "run_complete.json").is_file()


def test_other_libraries_messages_lose_quoted_text():
    secret = "On or near Secret Lane"
    assert secret not in cli._redact(f"could not convert string to float: '{secret}'")
    assert cli._redact("Columns (3,5) have mixed types") == "Columns (3,5) have mixed types"
    record = logging.LogRecord("pyogrio", logging.WARNING, __file__, 1, "bad value %r", (secret,), None)
    assert cli._SafeRecords().filter(record) and secret not in record.getMessage()
    own = logging.LogRecord("safer_spaces", logging.WARNING, __file__, 1, "%s rows", ("12",), None)
    assert cli._SafeRecords().filter(own) and own.getMessage() == "12 rows"


# ---------------------------------------------------------------- context readers: InputFileError or a table


_IMD_HEAD = (
    "LSOA code (2011),LSOA name (2011),Local Authority District code (2019),Local Authority District name (2019),"
    "Index of Multiple Deprivation (IMD) Rank,Index of Multiple Deprivation (IMD) Decile\n"
)
_POP_HEAD = "Force,Population\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=300),
    wrap=st.sampled_from(["plain", "gzip", "gzip2", "utf16", "cr"]),
    which=st.sampled_from(["imd", "population"]),
)
def test_imd_and_population_readers_raise_only_input_file_errors(tmp_path, body, wrap, which):
    """Damaged bytes after a valid header, nested gzip, UTF-16 without BOM, CR-only: a table or InputFileError."""
    import gzip

    from hotspots.errors import InputFileError
    from hotspots.ingest.imd import read_imd
    from hotspots.ingest.population import read_population

    data = (_IMD_HEAD if which == "imd" else _POP_HEAD).encode() + body
    if wrap == "cr":
        data = data.replace(b"\n", b"\r")
    elif wrap == "utf16":
        data = data.decode("latin-1").encode("utf-16-le")
    elif wrap.startswith("gzip"):
        data = gzip.compress(data, mtime=0)
        if wrap == "gzip2":
            data = gzip.compress(data, mtime=0)
    path = tmp_path / ("f.csv.gz" if wrap.startswith("gzip") else "f.csv")
    path.write_bytes(data)
    try:
        out = read_imd(path) if which == "imd" else read_population(path)
    except InputFileError as exc:
        assert str(path) in str(exc) and "Fix:" in str(exc)
    else:
        assert isinstance(out, pd.DataFrame)


@pytest.mark.parametrize("which", ["imd", "population"])
def test_folder_given_as_a_context_file(tmp_path, which):
    from hotspots.errors import InputFileError
    from hotspots.ingest.imd import read_imd
    from hotspots.ingest.population import read_population

    with pytest.raises(InputFileError, match="Fix:"):
        read_imd(tmp_path) if which == "imd" else read_population(tmp_path)


@pytest.mark.parametrize(
    "args, expect",
    [
        (
            ["kde", POINTS, "--radius-m", "abc", "--pixel-m", "1", "--out", "k.tif"],
            "argument --radius-m: invalid float",
        ),
        (["gistar"], "the following arguments are required: points, --out"),
    ],
)
def test_usage_errors_are_one_line(args, expect):
    line = _one_error_line(_run(*args), 2)
    assert expect in line and "--help" in line


def test_non_numeric_weight_refused(tmp_path):
    pts = tmp_path / "w.csv"
    pts.write_text("x,y,w\n350000,150000,a\n350010,150010,2\n", encoding="utf-8")
    for command in (["kde", pts, "--radius-m", "100", "--pixel-m", "10"], ["gistar", pts]):
        line = _one_error_line(_run(*command, "--weight", "w", "--out", tmp_path / "o.csv"), 2)
        assert "1 missing or non-numeric values" in line and "'a'" not in line
    assert _tree(tmp_path) == ["w.csv"]
