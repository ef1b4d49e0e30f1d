"""Atomic runs under fault injection: the real CLI, killed, starved of disk or denied, never leaves a mixture.

A small force (two police.uk months, the Bath and North East Somerset boundary,
small synthetic RMS/StreetSafe/A&E layers) is profiled once; every fault test
starts from a byte-for-byte copy of that complete output and checks that,
whatever happened, the folder is byte-identical to before (or, for a run that
completes, wholly new) and nothing that looks finished appears beside it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hotspots.errors import ParameterError
from hotspots.io import RUN_RECORD, OutputWriteError, atomic_dir, atomic_files, is_complete_output, verify_output
from tests.conftest import DATA, ROOT

OLD_WINDOW = "Fri,Sat 21:00-06:00"
NEW_WINDOW = "Fri,Sat 22:00-04:00"


def _small_config(folder: Path, *, window: str = OLD_WINDOW, imd: str | None = None) -> Path:
    """A small force config (runs in seconds) in ``folder``; its synthetic layers are written beside it."""
    from profiles.demo import synth
    from profiles.synth_cli import default_anchors

    folder.mkdir(parents=True, exist_ok=True)
    layers = {}
    for kind, gen, n in (
        ("rms", synth.generate_rms, 300),
        ("streetsafe", synth.generate_streetsafe, 120),
        ("ae", synth.generate_ae, 100),
    ):
        layers[kind] = folder / f"SYNTHETIC_{kind}.csv"
        if not layers[kind].exists():
            gen(n, anchors=default_anchors(), start="2024-01", end="2024-02", seed=11).to_csv(layers[kind], index=False)
    text = (ROOT / "configs" / "avon-and-somerset.toml").read_text(encoding="utf-8")
    text = text.replace(
        'police_uk = ["../data/policeuk/avon-and-somerset"]', 'police_uk = ["PUK/2024-01", "PUK/2024-02"]'
    )
    for kind, path in layers.items():
        text = text.replace(f'"../data/synthetic/SYNTHETIC_{kind}_avon-and-somerset.csv.gz"', f'"{path}"')
    bathnes = '"../data/boundaries/la/boundary_bathandnortheastsomerset.geojson"'
    text = text.replace('"../data/boundaries/Avon__Somerset_Police_Force_Boundary.csv"', bathnes)
    text = re.sub(r"local_authorities = \[[^\]]*\]", f"local_authorities = [{bathnes}]", text)
    text = re.sub(r"comparators = \[[^\]]*\]\n", "", text)
    text = re.sub(r"\nvenues = \[[^\]]*\]", "\nvenues = []", text)  # venue tables: tests/test_writer.py
    text = text.replace(f'nte_window = "{OLD_WINDOW}"', f'nte_window = "{window}"')
    if imd is not None:
        text = re.sub(r'imd = "[^"]*"', f'imd = "{imd}"', text)
    text = text.replace("../data", str(DATA)).replace("PUK", str(DATA / "policeuk" / "avon-and-somerset"))
    cfg = folder / f"force-{abs(hash((window, imd))) % 10**8}.toml"
    cfg.write_text(text, encoding="utf-8")
    return cfg


def _cli(cfg: Path, out: Path, *, env: dict | None = None, preexec=None, wrap: list[str] | None = None):
    cmd = [sys.executable, "-m", "profiles.cli", "--quiet", "profile", str(cfg), "--out", str(out)]
    return subprocess.Popen(
        (wrap or []) + cmd,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
        start_new_session=True,  # its own process group, as a terminal gives a command (Ctrl-C reaches the group)
    )


def _snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder`` (hidden ones included)."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """One complete profile of the small force, built by the real CLI."""
    base = tmp_path_factory.mktemp("atomic_base")
    cfg = _small_config(base / "cfg")
    out = base / "runs" / "out"
    proc = _cli(cfg, out)
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-2000:]
    return {"cfg": cfg, "out": out, "snap": _snapshot(out), "cfg_dir": base / "cfg"}


@pytest.fixture
def previous(baseline, tmp_path):
    """A copy of the complete output in a folder of its own: ``(parent, out)``."""
    parent = tmp_path / "runs"
    parent.mkdir()
    out = parent / "out"
    shutil.copytree(baseline["out"], out, copy_function=shutil.copy2)
    assert _snapshot(out) == baseline["snap"]
    return parent, out


def _assert_untouched(parent: Path, out: Path, snap: dict) -> None:
    assert _snapshot(out) == snap  # byte-identical previous output
    assert verify_output(out) == []  # and still matching its own completion record
    assert _visible(parent) == ["out"]  # no new folder that looks finished


def test_baseline_is_complete_and_its_record_lists_every_output(baseline):
    out = baseline["out"]
    rec = json.loads((out / RUN_RECORD).read_text())
    assert rec["command"] == "profile" and rec["tool"] == "safer-spaces"
    listed = {o["file"]: o["sha256"] for o in rec["outputs"]}
    on_disk = {k: v for k, v in baseline["snap"].items() if k != RUN_RECORD}
    assert listed == on_disk  # every file, with its hash; the record itself is not in its own list
    assert {"report.html", "map.html", "summary.json", "run.json", "shared/summary.json"} <= set(listed)
    names = [Path(i["file"]).name for i in rec["inputs"]]
    assert "2024-01-avon-and-somerset-street.csv.gz" in names and baseline["cfg"].name in names
    assert all(len(i["sha256"]) == 64 for i in rec["inputs"])
    assert len(rec["config_sha256"]) == 64
    assert verify_output(out) == []
    run = json.loads((out / "run.json").read_text())
    assert all(not re.search(r"\.partial-", v) for v in run["outputs"].values())  # final paths, not staging
    assert run["outputs"]["report.html"] == str(out / "report.html")


@pytest.mark.slow
@pytest.mark.parametrize("after_s", [1.0, 3.0])
def test_sigkill_mid_run_leaves_previous_output(baseline, previous, after_s):
    parent, out = previous
    cfg = _small_config(baseline["cfg_dir"], window=NEW_WINDOW)
    proc = _cli(cfg, out)
    time.sleep(after_s)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    _assert_untouched(parent, out, baseline["snap"])


@pytest.mark.slow
@pytest.mark.parametrize("point", ["before_record", "before_swap"])
def test_sigkill_at_the_last_moment_with_a_changed_window_keeps_old_run_consistent(baseline, previous, point):
    parent, out = previous
    cfg = _small_config(baseline["cfg_dir"], window=NEW_WINDOW)
    proc = _cli(cfg, out, env={"SAFER_SPACES_FAULT": point})
    proc.communicate(timeout=900)
    assert proc.returncode == -signal.SIGKILL
    _assert_untouched(parent, out, baseline["snap"])
    run = json.loads((out / "run.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    report = (out / "report.html").read_text(encoding="utf-8")
    assert run["definitions"]["nte_window"] == summary["definitions"]["nte_window"] == OLD_WINDOW
    assert OLD_WINDOW in report and NEW_WINDOW not in report
    leftovers = [p.name for p in parent.iterdir() if p.name.startswith(".out.partial-")]
    assert len(leftovers) == 1  # SIGKILL cannot be caught: the hidden staging folder stays ...

    proc = _cli(cfg, out)  # ... until the next run, which cleans it and completes
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-2000:]
    assert _visible(parent) == ["out"] and [p.name for p in parent.iterdir()] == ["out"]
    assert json.loads((out / "run.json").read_text())["definitions"]["nte_window"] == NEW_WINDOW
    assert json.loads((out / "summary.json").read_text())["definitions"]["nte_window"] == NEW_WINDOW
    assert is_complete_output(out)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "handled_rc", "to_group"),
    [(signal.SIGTERM, 128 + signal.SIGTERM, False), (signal.SIGINT, 130, True), (signal.SIGINT, 130, False)],
    ids=["sigterm", "ctrl-c", "kill-int"],
)
def test_sigterm_or_ctrl_c_mid_run_removes_its_staging_folder(baseline, previous, sig, handled_rc, to_group):
    parent, out = previous
    proc = _cli(baseline["cfg"], out)
    time.sleep(3.0)
    if to_group:
        os.killpg(proc.pid, sig)  # Ctrl-C in a terminal signals the whole process group
    else:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    _assert_untouched(parent, out, baseline["snap"])
    if proc.returncode == handled_rc:  # the handler ran (the signal came after start-up, as intended)
        assert "Traceback" not in err
        assert [p.name for p in parent.iterdir()] == ["out"]
    else:  # the signal came before the command started: nothing was staged
        assert proc.returncode in (-sig, 1)


def _limit_file_size(limit: int):
    def preexec():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


def _one_line_error(err: str) -> str:
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, err[-2000:]
    return lines[0]


@pytest.mark.parametrize("limit", [200_000, 1_000_000])
def test_disk_full_exits_2_and_leaves_nothing(baseline, previous, limit):
    parent, out = previous
    proc = _cli(baseline["cfg"], out, preexec=_limit_file_size(limit))
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 2, err[-2000:]
    line = _one_line_error(err)
    assert str(parent) in line and "space" in line and "Fix:" in line
    _assert_untouched(parent, out, baseline["snap"])
    assert [p.name for p in parent.iterdir()] == ["out"]  # staging removed too


def _can_mount_read_only(tmp: Path) -> bool:
    probe = tmp / "probe"
    probe.mkdir()
    if shutil.which("unshare") is None:
        return False
    script = f"mount --bind {probe} {probe} && mount -o remount,bind,ro {probe} {probe} && touch {probe}/x"
    res = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True)
    ok = res.returncode != 0 and "Read-only" in res.stderr
    shutil.rmtree(probe)
    return ok


def _read_only(folder: Path) -> list[str]:
    script = f'mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} {folder} && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, "sh"]


@pytest.mark.parametrize("existing", [True, False])
def test_read_only_output_folder_exits_2(baseline, previous, tmp_path, existing):
    if not _can_mount_read_only(tmp_path):
        pytest.skip("needs unshare -m and mount (a private read-only bind mount)")
    parent, out = previous
    target = out if existing else parent / "new"
    proc = _cli(baseline["cfg"], target, wrap=_read_only(parent))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err[-2000:]
    line = _one_line_error(err)
    assert "read-only" in line and "Fix:" in line
    _assert_untouched(parent, out, baseline["snap"])


def test_out_is_a_file_or_a_users_folder_exits_2_and_is_left_alone(baseline, tmp_path):
    afile = tmp_path / "notes.txt"
    afile.write_text("mine", encoding="utf-8")
    users = tmp_path / "documents"
    users.mkdir()
    (users / "thesis.docx").write_bytes(b"mine")
    for target in (afile, users):
        proc = _cli(baseline["cfg"], target)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 2, err[-2000:]
        assert str(target) in _one_line_error(err)
    assert afile.read_text(encoding="utf-8") == "mine"
    assert [p.name for p in users.iterdir()] == ["thesis.docx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents", "notes.txt"]


def test_missing_imd_file_exits_2_before_anything_is_written(baseline, previous, tmp_path):
    parent, out = previous
    cfg = _small_config(tmp_path / "cfg", imd=str(tmp_path / "missing_imd.csv.gz"))
    for target in (out, parent / "fresh"):
        proc = _cli(cfg, target)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 2, err[-2000:]
        assert "data.imd" in _one_line_error(err)
    _assert_untouched(parent, out, baseline["snap"])
    assert [p.name for p in parent.iterdir()] == ["out"]


# ---- the primitives, in process -----------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_atomic_dir_failure_keeps_previous_and_removes_staging(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out, command="t") as stage:
        (stage / "a.txt").write_text("old")
    before = _snapshot(out)
    with pytest.raises(RuntimeError), atomic_dir(out, command="t") as stage:
        (stage / "a.txt").write_text("new")
        (stage / "b.txt").write_text("new")
        raise RuntimeError("stage failed")
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.fixture
def stop_flag():
    """The process-wide stop flag of hotspots.io, cleared again after the test."""
    import hotspots.io

    yield hotspots.io._STOP
    hotspots.io._STOP.clear()


def test_a_swallowed_stop_still_keeps_the_previous_output(tmp_path, stop_flag):
    """Ctrl-C whose KeyboardInterrupt a finaliser swallowed: the run goes on, but nothing is swapped in."""
    from hotspots.io import note_stop_request

    out, tif = tmp_path / "out", tmp_path / "s.tif"
    with atomic_dir(out, command="t") as stage:
        (stage / "a.txt").write_text("old")
    with atomic_files([tif], command="kde") as (t,):
        t.write_bytes(b"old")
    before = _snapshot(tmp_path)

    class Finaliser:
        def __del__(self):
            note_stop_request()  # what the CLI's SIGINT handler does first ...
            raise KeyboardInterrupt  # ... and its exception, raised in a finaliser, is only printed

    with pytest.raises(KeyboardInterrupt), atomic_dir(out, command="t") as stage:
        (stage / "a.txt").write_text("new")
        Finaliser()  # collected at once: "Exception ignored in ... KeyboardInterrupt"; the block carries on
    with pytest.raises(KeyboardInterrupt), atomic_files([tif], command="kde") as (t,):
        t.write_bytes(b"new")
    assert _snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.tif", "s.tif.complete.json"]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS])
def test_write_failures_become_one_user_error(tmp_path, code):
    out = tmp_path / "out"
    with pytest.raises(OutputWriteError, match="nothing was written. Fix:") as info:
        with atomic_dir(out, command="t") as stage:
            (stage / "a.txt").write_text("x")
            raise OSError(code, os.strerror(code))
    assert str(tmp_path) in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_denied_write_inside_staging_is_an_output_error_but_a_denied_input_is_not(tmp_path):
    with pytest.raises(OutputWriteError):
        with atomic_dir(tmp_path / "out", command="t") as stage:
            raise PermissionError(errno.EACCES, "Permission denied", str(stage / "report.html"))
    with pytest.raises(PermissionError):
        with atomic_dir(tmp_path / "out", command="t"):
            raise PermissionError(errno.EACCES, "Permission denied", "/elsewhere/input.csv")
    assert list(tmp_path.iterdir()) == []


def test_a_crash_between_the_two_renames_is_recovered(tmp_path):
    """Where folders cannot be swapped atomically the previous output is moved aside first; put it back."""
    out = tmp_path / "out"
    with atomic_dir(out, command="t") as stage:
        (stage / "a.txt").write_text("previous")
    aside = tmp_path / f".out.old-{_dead_pid()}-abcd"
    os.rename(out, aside)  # as a run killed between its two renames leaves it
    staging = tmp_path / f".out.partial-{_dead_pid()}-ef01"
    staging.mkdir()
    (staging / "half.txt").write_text("half")
    with pytest.raises(RuntimeError), atomic_dir(out, command="t"):
        raise RuntimeError("this run fails too")
    assert (out / "a.txt").read_text() == "previous" and is_complete_output(out)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_refuses_a_file_and_a_foreign_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "keep.txt").write_text("x")
    for target in ("f", "d"):
        with pytest.raises(ParameterError), atomic_dir(tmp_path / target, command="t"):
            pass
    assert (tmp_path / "f").read_text() == "x" and (tmp_path / "d" / "keep.txt").read_text() == "x"


def test_atomic_files_all_or_nothing(tmp_path):
    tif, side = tmp_path / "s.tif", tmp_path / "s.tif.json"
    with atomic_files([tif, side], command="kde", inputs=[ROOT / "configs" / "avon-and-somerset.toml"]) as (t, s):
        assert t.parent == tmp_path and t.name.endswith("s.tif") and t.name.startswith(".")
        t.write_bytes(b"old")
        s.write_text("{}")
    rec = json.loads((tmp_path / "s.tif.complete.json").read_text())
    assert [o["file"] for o in rec["outputs"]] == ["s.tif", "s.tif.json"]
    assert rec["outputs"][0]["sha256"] == hashlib.sha256(b"old").hexdigest()
    before = _snapshot(tmp_path)
    with pytest.raises(RuntimeError), atomic_files([tif, side], command="kde") as (t, s):
        t.write_bytes(b"new")
        raise RuntimeError("failed after the first file")
    assert _snapshot(tmp_path) == before
    with pytest.raises(ParameterError):
        with atomic_files([tmp_path], command="kde"):
            pass


def test_checks_create_nothing(tmp_path):
    """An error found after the checks must leave nothing: the checks themselves create no folder."""
    from hotspots.io import check_output_dir, check_output_files

    check_output_dir(tmp_path / "a" / "b" / "out")
    check_output_files([tmp_path / "c" / "surface.tif"])
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("x")
    with pytest.raises(ParameterError):
        check_output_dir(tmp_path / "f" / "out")
    with atomic_dir(tmp_path / "a" / "b" / "out", command="t") as stage:  # made when staging starts
        (stage / "x.txt").write_text("x")
    assert (tmp_path / "a" / "b" / "out" / "x.txt").exists()


def test_swap_without_an_atomic_exchange_moves_the_previous_aside_then_removes_it(tmp_path, monkeypatch):
    import hotspots.io as hio

    monkeypatch.setattr(hio, "_rename_exchange", lambda a, b: False)  # a file system without renameat2
    out = tmp_path / "out"
    for text in ("first", "second"):
        with atomic_dir(out, command="t") as stage:
            (stage / "a.txt").write_text(text)
    assert (out / "a.txt").read_text() == "second" and is_complete_output(out)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_outputs_are_private_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_dir(tmp_path / "out", command="t") as stage:
            (stage / "a.txt").write_text("x")
        with atomic_files([tmp_path / "s.csv"], command="t") as (t,):
            t.write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o700
    for name in ("s.csv", "s.csv.complete.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name


def test_verify_output_finds_a_mixture(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out, command="t") as stage:
        (stage / "report.html").write_text("window A")
        (stage / "summary.json").write_text("{}")
    assert verify_output(out) == []
    (out / "report.html").write_text("window B")  # as an in-place writer killed midway would leave it
    (out / "summary.json").unlink()
    (out / "extra.csv").write_text("x")
    assert verify_output(out) == [
        "summary.json: listed in run_complete.json but missing",
        "extra.csv: not listed in run_complete.json",
        "report.html: size or SHA-256 differs from run_complete.json",
    ]
    assert verify_output(tmp_path) == ["run_complete.json missing: not a finished Safer Spaces output"]


def test_dot_root_and_the_current_folder_are_refused_and_a_symlink_keeps_pointing(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with atomic_dir(out, command="t") as stage:
        (stage / "a.txt").write_text("old")
    monkeypatch.chdir(out)  # a user inside a previous output asking to replace "."
    for target in (".", "..", "/"):
        with pytest.raises(ParameterError), atomic_dir(target, command="t"):
            pass
    assert (out / "a.txt").read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "link").symlink_to(out)
    with atomic_dir("link", command="t") as stage:
        (stage / "a.txt").write_text("new")
    assert (tmp_path / "link").is_symlink() and (tmp_path / "link" / "a.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "out"]
