"""The national runner on a real Dask LocalCluster (2 workers): retries, a worker that dies, resume by hash."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from profiles.cli import main
from profiles.national import KILL_WORKER_ENV, load_national_config, plan_forces, run_national

pytest.importorskip("distributed")

DATA = Path(__file__).resolve().parents[1] / "data"
SLUGS = ("city-of-london", "dyfed-powys", "cumbria")


@pytest.fixture
def config(tmp_path):
    src = tmp_path / "policeuk"
    src.mkdir()
    for s in SLUGS:
        shutil.copy(DATA / "policeuk" / "national" / "2024-01" / f"2024-01-{s}-street.csv.gz", src)
    p = tmp_path / "national.toml"
    p.write_text(f"""
[national]
police_uk = ["{src}"]
boundaries = "{DATA / 'boundaries' / 'police_force_areas.geojson'}"
workers = 2
retries = 1
allowed_failures = 1
cache = "{tmp_path / 'cache'}"

[stra]
population = "{DATA / 'population' / 'police-population_2020.csv'}"
boundaries = "{DATA / 'boundaries' / 'police_force_areas.geojson'}"
""")
    return p


def _lines(capsys):
    return capsys.readouterr()


def test_a_worker_killed_once_is_survived(config, tmp_path, monkeypatch):
    marker = tmp_path / "killed-once"
    monkeypatch.setenv(KILL_WORKER_ENV, f"cumbria:once:{marker}")
    cfg = load_national_config(config)
    lines: list[str] = []
    res = run_national(cfg, tmp_path / "out", echo=lines.append, pdf=False)
    assert marker.exists()  # the task really killed its worker process (os._exit) the first time
    assert not res["failed"] and set(res["tasks"]) == set(SLUGS)
    assert all(not t["cached"] for t in res["tasks"].values())
    assert len(res["stra"]["numbers"].inputs) == 3
    assert any("cumbria: done" in line for line in lines)


def test_failed_force_is_reported_the_rest_complete_and_a_rerun_resumes(config, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    monkeypatch.setenv(KILL_WORKER_ENV, "cumbria")  # kills its worker on every attempt
    assert main(["national", str(config), "--out", str(out), "--no-pdf"]) == 1
    captured = capsys.readouterr()
    assert "cumbria: FAILED" in captured.out and "worker process died" in captured.out
    assert "Traceback" not in captured.err
    obj = json.loads((out / "stra.json").read_text())
    assert [i["force"] for i in obj["inputs"]] == ["City of London Police", "Dyfed-Powys Police"]
    excl = obj["exclusions"]
    assert len(excl) == 1 and excl[0]["force"] == "Cumbria Constabulary" and "re-run" in excl[0]["fix"]
    assert any(m["force"] == "Cumbria" for m in obj["missing_forces"])  # never silently absent
    audit = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]
    assert any(a["event"] == "exclusion" and a["force"] == "Cumbria Constabulary" for a in audit)

    monkeypatch.delenv(KILL_WORKER_ENV)
    assert main(["national", str(config), "--out", str(out), "--no-pdf"]) == 0
    again = capsys.readouterr().out
    assert "not redone: city-of-london, dyfed-powys" in again  # resumed: only cumbria ran
    assert "running 1 force(s)" in again and "cumbria: done" in again
    obj = json.loads((out / "stra.json").read_text())
    assert len(obj["inputs"]) == 3 and not obj["exclusions"]
    assert sorted(p.parent.name for p in (out / "forces").rglob("summary.json")) == sorted(SLUGS)


def test_cache_key_changes_with_inputs_and_config(config, tmp_path):
    cfg = load_national_config(config)
    a = {t.slug: t.key for t in plan_forces(cfg)}
    assert a == {t.slug: t.key for t in plan_forces(cfg)}  # stable
    import dataclasses
    b = {t.slug: t.key for t in plan_forces(dataclasses.replace(cfg, h3_resolution=10))}
    assert all(a[s] != b[s] for s in SLUGS)
    f = tmp_path / "policeuk" / "2024-01-cumbria-street.csv.gz"
    f.write_bytes(f.read_bytes())  # same bytes: same key
    assert {t.slug: t.key for t in plan_forces(cfg)} == a
    import gzip
    f.write_bytes(gzip.compress(gzip.decompress(f.read_bytes()) + b""))  # recompressed: same content, new bytes
    c = {t.slug: t.key for t in plan_forces(cfg)}
    assert c["dyfed-powys"] == a["dyfed-powys"]


def test_bad_national_config_exit_2(tmp_path, capsys):
    p = tmp_path / "n.toml"
    p.write_text("[national]\npolice_uk = []\n")
    assert main(["national", str(p), "--out", str(tmp_path / "o")]) == 2
    assert "national.police_uk" in capsys.readouterr().err
    p.write_text('[national]\npolice_uk = ["nowhere"]\n')
    assert main(["national", str(p), "--out", str(tmp_path / "o")]) == 2
    p.write_text('[national]\npolice_uk = ["x"]\nworkrs = 2\n')
    assert main(["national", str(p), "--out", str(tmp_path / "o")]) == 2
    assert "did you mean 'workers'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
