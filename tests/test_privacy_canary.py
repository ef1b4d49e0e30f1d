"""Privacy canary: a recognisable value in every personal field never leaks.

Every personal field of every source that has them (RMS victim and suspect
fields, StreetSafe demographics and free text, A&E patient fields and the
incident's free-text location), the readers' own columns and extra
personal-looking columns an export might carry, holds ``CANARY-<field>-7f3a``
in some rows, and some of those rows are bad so they land in quarantine. The
ingest commands and the profile run on these files (and on broken copies that
make them fail); the canaries must not appear in anything they print or log, in
any error message, in quarantine details, or in any file under ``shared/``;
and columns the reader drops (unmapped columns, StreetSafe demographics with
``keep_demographics = false``, A&E's free-text location) are blanked in
``quarantine.csv`` too. police.uk and the partnership files carry no personal
fields (police.uk is already anonymised and public).
"""

from __future__ import annotations

import gzip
import logging
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspots.errors import InputFileError
from hotspots.ingest.ae import read_ae
from hotspots.ingest.rms import read_rms
from hotspots.ingest.streetsafe import read_streetsafe
from profiles.demo import synth
from profiles.synth_cli import default_anchors

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
CANARY = re.compile(rb"CANARY-[A-Za-z_ ]+-7f3a")
pytestmark = pytest.mark.slow  # one small profile and nine ingest runs


def canary(field: str) -> str:
    return f"CANARY-{field}-7f3a"


# Personal columns per source: (header, kept by the reader?) - kept ones are restricted event fields and may be
# in the restricted quarantine's verbatim raw; dropped ones must not be anywhere.
PERSONAL = {
    "rms": {
        "Victim Sex": True, "Victim Age Band": True,
        "Victim Name": False, "Victim DOB": False, "Victim Ethnicity": False, "Victim Address": False,
        "Victim Phone": False, "Suspect Name": False, "Suspect Age": False, "Suspect Sex": False,
        "Suspect Ethnicity": False, "MO Narrative": False,
    },
    "streetsafe": {
        "gender": False, "age_range": False,  # dropped: keep_demographics = false
        "not_reported_reasons": True,
        "reporter_email": False, "free_text": False, "reporter_name": False,
    },
    "ae": {
        "Patient Sex": True, "Patient Age Band": True,
        "Incident Location": False,  # free text (may be an address): geocoded upstream, never kept
        "Patient Name": False, "Patient DOB": False, "NHS Number": False, "Patient Postcode": False,
        "Triage Notes": False, "Patient Ethnicity": False,
    },
}
# How a row is made bad, per source: (column, value) -> a quarantine reason.
BREAK = {
    "rms": [("Easting", ""), ("Committed From", "31/02/2024 25:00"), ("HO Code", "")],
    "streetsafe": [("latitude", ""), ("submitted_at", "not a time")],
    "ae": [("Incident Easting", ""), ("Incident Time", "25:99")],
}


def _planted(kind: str, n: int) -> pd.DataFrame:
    gen = {"rms": synth.generate_rms, "streetsafe": synth.generate_streetsafe, "ae": synth.generate_ae}[kind]
    df = gen(n, anchors=default_anchors(), start="2024-01", end="2024-02", seed=23)
    rng = np.random.default_rng(7)
    for col, kept in PERSONAL[kind].items():
        if kept:  # a kept field: a canary in a fifth of rows (the rest keep real values)
            if col not in df:
                df[col] = ""
            rows = (rng.random(len(df)) < 0.2) | (np.arange(len(df)) < 20)  # the bad rows below too
            df[col] = df[col].astype(object)
            df.loc[rows, col] = canary(col.replace(" ", "_"))
        else:
            df[col] = canary(col.replace(" ", "_"))
    for i, (col, value) in enumerate(BREAK[kind]):
        df[col] = df[col].astype(object)
        df.loc[df.index[i * 7: i * 7 + 5], col] = value  # 5 bad rows per way of breaking
    return df


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Planted files, a small force config using them, and every command run on them."""
    base = tmp_path_factory.mktemp("canary")
    files = {}
    for kind, n in (("rms", 300), ("streetsafe", 120), ("ae", 100)):
        files[kind] = base / f"SYNTHETIC_{kind}.csv"
        _planted(kind, n).to_csv(files[kind], index=False)
    cfg = _config(base, files)
    runs = {}
    for kind in ("rms", "streetsafe", "ae"):
        runs[f"ingest {kind}"] = _cli(["ingest", kind, str(files[kind]), "--out", str(base / "ingest" / kind),
                                      "--config", str(cfg)])
    runs["profile"] = _cli(["profile", str(cfg), "--out", str(base / "profile")])
    # failing runs: the same personal data in files the commands refuse or find damaged
    for kind, path in files.items():
        text = path.read_bytes()
        bad_header = base / f"bad_header_{kind}.csv"
        bad_header.write_bytes(b"wrong,columns\n" + text.split(b"\n", 1)[1])
        runs[f"bad header {kind}"] = _cli(["ingest", kind, str(bad_header), "--out", str(base / "bad" / kind)])
        cut = base / f"cut_{kind}.csv.gz"
        gz = gzip.compress(text, mtime=0)
        cut.write_bytes(gz[: len(gz) * 2 // 3])
        runs[f"cut gzip {kind}"] = _cli(["ingest", kind, str(cut), "--out", str(base / "cut" / kind),
                                        "--config", str(cfg)])
    return {"base": base, "files": files, "cfg": cfg, "runs": runs}


def _config(base: Path, files: dict[str, Path]) -> Path:
    text = (ROOT / "configs" / "avon-and-somerset.toml").read_text(encoding="utf-8")
    text = text.replace(
        'police_uk = ["../data/policeuk/avon-and-somerset"]', 'police_uk = ["PUK/2024-01", "PUK/2024-02"]'
    )
    for kind, path in files.items():
        text = text.replace(f'"../data/synthetic/SYNTHETIC_{kind}_avon-and-somerset.csv.gz"', f'"{path}"')
    bathnes = '"../data/boundaries/la/boundary_bathandnortheastsomerset.geojson"'
    text = text.replace('"../data/boundaries/Avon__Somerset_Police_Force_Boundary.csv"', bathnes)
    text = re.sub(r"local_authorities = \[[^\]]*\]", f"local_authorities = [{bathnes}]", text)
    text = re.sub(r"comparators = \[[^\]]*\]\n", "", text)
    text = re.sub(r"\nvenues = \[[^\]]*\]", "\nvenues = []", text)
    assert "keep_demographics = false" in text  # the config drops StreetSafe demographics
    text = text.replace("../data", str(DATA)).replace("PUK", str(DATA / "policeuk" / "avon-and-somerset"))
    cfg = base / "force.toml"
    cfg.write_text(text, encoding="utf-8")
    return cfg


def _cli(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "profiles.cli", "--progress", "off", *args],
        cwd=ROOT, capture_output=True, timeout=900,
    )


def _leaks(data: bytes) -> set[str]:
    return {m.decode() for m in CANARY.findall(data)}


def _file_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if path.suffix == ".pdf" and shutil.which("pdftotext"):
        data += subprocess.run(["pdftotext", str(path), "-"], capture_output=True).stdout
    return data


# ---- the planted data is really there (so the tests below can fail) ------------------------------------------------


def test_canaries_are_planted_and_reach_the_readers(planted):
    for kind, path in planted["files"].items():
        text = path.read_bytes()
        for col in PERSONAL[kind]:
            assert canary(col.replace(" ", "_")).encode() in text, (kind, col)
    ev = read_rms([planted["files"]["rms"]]).events.to_pandas()
    assert (ev["victim_age_band"] == canary("Victim_Age_Band")).sum() > 10  # a kept field reaches the events


def test_every_command_ran(planted):
    runs = planted["runs"]
    for kind in ("rms", "streetsafe", "ae"):
        assert runs[f"ingest {kind}"].returncode == 0, runs[f"ingest {kind}"].stderr[-2000:]
        assert runs[f"bad header {kind}"].returncode == 2, runs[f"bad header {kind}"].stderr[-2000:]
        assert runs[f"cut gzip {kind}"].returncode == 1, runs[f"cut gzip {kind}"].stderr[-2000:]
        q = pd.read_csv(planted["base"] / "ingest" / kind / "quarantine.csv")
        assert len(q) >= 5 * len(BREAK[kind]), kind  # the bad rows did land in quarantine
    assert runs["profile"].returncode == 0, runs["profile"].stderr[-3000:]
    assert (planted["base"] / "profile" / "shared").is_dir()


# ---- nothing printed, logged or raised carries a canary ------------------------------------------------------------


def test_no_canary_in_any_command_output(planted):
    for name, run in planted["runs"].items():
        assert not _leaks(run.stdout), (name, "stdout", _leaks(run.stdout))
        assert not _leaks(run.stderr), (name, "stderr", _leaks(run.stderr))


@pytest.mark.parametrize("kind", ["rms", "streetsafe", "ae"])
def test_no_canary_in_logs_warnings_or_quarantine_details(planted, kind, caplog):
    reader = {"rms": read_rms, "streetsafe": read_streetsafe, "ae": read_ae}[kind]
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = reader([planted["files"][kind]])
    assert res.quarantine.num_rows >= 5 * len(BREAK[kind])
    assert not _leaks(caplog.text.encode())
    assert not _leaks("\n".join(str(w.message) for w in caught).encode())
    details = "\n".join(v for v in res.quarantine["detail"].to_pylist() if v)
    assert not _leaks(details.encode()), "a quarantine detail carries a personal field"
    reasons = "\n".join(res.quarantine["reason"].to_pylist() + res.quarantine["fix"].to_pylist())
    assert not _leaks(reasons.encode())


@pytest.mark.parametrize("kind", ["rms", "streetsafe", "ae"])
def test_no_canary_in_error_messages(planted, kind, tmp_path):
    reader = {"rms": read_rms, "streetsafe": read_streetsafe, "ae": read_ae}[kind]
    text = planted["files"][kind].read_bytes()
    cases = {
        "bad header": b"wrong,columns\n" + text.split(b"\n", 1)[1],
        "utf-16": text.decode("utf-8").encode("utf-16"),
        "binary": b"PK\x03\x04" + text,
        "header only with canary rows after a blank": text.split(b"\n", 1)[0] + b"\n\x00" + text,
    }
    for name, data in cases.items():
        p = tmp_path / f"{name}.csv"
        p.write_bytes(data)
        try:
            res = reader([p])
        except InputFileError as exc:
            assert not _leaks(str(exc).encode()), (name, str(exc))
        else:
            details = "\n".join(v for v in res.quarantine["detail"].to_pylist() if v)
            assert not _leaks(details.encode()), name


# ---- shared outputs ------------------------------------------------------------------------------------------------


def test_no_canary_in_any_shared_output(planted):
    shared = planted["base"] / "profile" / "shared"
    files = [p for p in shared.rglob("*") if p.is_file()]
    assert files
    leaks = {str(p.relative_to(shared)): _leaks(_file_bytes(p)) for p in files}
    assert not {k: v for k, v in leaks.items() if v}


def test_no_canary_in_rendered_restricted_outputs(planted):
    """Reports, maps and the summary show aggregates, never a row's personal field (restricted copies too)."""
    out = planted["base"] / "profile"
    rendered = [p for p in out.rglob("*") if p.is_file() and p.suffix in (".html", ".json", ".pdf", ".svg", ".png")
                and "shared" not in p.relative_to(out).parts]
    assert any(p.name == "report.html" for p in rendered)
    leaks = {str(p.relative_to(out)): _leaks(_file_bytes(p)) for p in rendered}
    assert not {k: v for k, v in leaks.items() if v}


# ---- dropped fields are dropped from the quarantine too ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rms", "streetsafe", "ae"])
def test_dropped_fields_are_blank_in_quarantine_csv(planted, kind):
    q = (planted["base"] / "ingest" / kind / "quarantine.csv").read_bytes()
    dropped = {canary(c.replace(" ", "_")) for c, kept in PERSONAL[kind].items() if not kept}
    kept = {canary(c.replace(" ", "_")) for c, k in PERSONAL[kind].items() if k}
    found = _leaks(q)
    assert not found & dropped, f"{kind}: dropped fields in quarantine.csv: {sorted(found & dropped)}"
    # the verbatim raw is otherwise kept (restricted): a kept field's canary in a bad row is still there
    assert found & kept or not kept, kind


def test_streetsafe_demographics_kept_when_config_keeps_them(planted, tmp_path):
    """The other side of the switch: with keep_demographics the fields are read (so the blanking above is real)."""
    res = read_streetsafe([planted["files"]["streetsafe"]], keep_demographics=True)
    ev = res.events.to_pandas()
    assert (ev["gender"] == canary("gender")).all()
    raw = "\n".join(res.quarantine["raw"].to_pylist()).encode()
    assert canary("gender") in _leaks(raw)  # kept fields stay in the verbatim raw, so the blanking check can fail
