"""The national STRA: compile, compare fairly, disclose nothing, trace every number, never drop a force silently.

The fixtures are the real police.uk January 2024 baselines of the 40 bundled forces
(``tests/fixtures/stra/<slug>/summary.json``, written by ``safer-spaces national configs/national-demo.toml``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspots.disclosure import audit_table, suppress_table
from hotspots.rates import poisson_interval
from profiles.cli import main
from profiles.shared import stra_table, to_shared
from profiles.stra.compute import compile_stra
from profiles.stra.config import StraConfig, load_stra_config
from profiles.stra.inputs import read_summaries
from profiles.stra.pipeline import run_stra
from profiles.stra.render import build_stra_json, validate_stra_json

FIXTURES = Path(__file__).parent / "fixtures" / "stra"
CFG = StraConfig()


@pytest.fixture(scope="module")
def national():
    forces, excluded = read_summaries([str(FIXTURES)])
    return compile_stra(forces, excluded, CFG, config_sha256="c" * 64, tool_version="test")


def _copy(tmp_path: Path, slugs=None) -> Path:
    dst = tmp_path / "in"
    for d in sorted(FIXTURES.iterdir()):
        if slugs is None or d.name in slugs:
            shutil.copytree(d, dst / d.name)
    return dst


def test_real_national_data_surfaces_the_real_problems(national):
    n = national
    assert len(n.inputs) == 40 and not n.exclusions
    assert set(n.missing["force"]) == {"Metropolitan Police", "West Midlands", "West Yorkshire",
                                       "Greater Manchester"}
    assert all(n.missing["reason"] == "no summary received")
    low = n.quality.set_index("force")
    assert low.loc["Dyfed-Powys Police", "volume_flag"]  # publishes ~2.3 rows per 1,000 a month, others 5-11
    assert low["volume_flag"].sum() == 1
    btp = n.measures[n.measures["force"] == "British Transport Police"]
    assert btp["rate_per_1000"].isna().all() and (btp["funnel_position"] == "not compared").all()
    assert btp["count"].notna().all()  # reported, not rated
    assert any("MISSING" in f["text"].upper() or "Intelligence gap" in f["text"] for f in n.findings)


def test_rates_and_exact_intervals_by_hand(national):
    m = national.measures.set_index(["force", "threat_area"]).loc[("Cumbria Constabulary", "police_uk_public_order")]
    pop = m["population"]
    years = 1 / 12
    assert m["rate_per_1000"] == pytest.approx(1000 * m["count"] / (pop * years))
    lo, hi = poisson_interval(np.array([float(m["count"])]))
    assert m["ci_low"] == pytest.approx(1000 * lo[0] / (pop * years))
    assert m["ci_high"] == pytest.approx(1000 * hi[0] / (pop * years))
    nat = national.national.set_index("threat_area").loc["police_uk_public_order"]
    rated = national.measures[(national.measures["threat_area"] == "police_uk_public_order")
                              & national.measures["person_years"].notna()]
    assert nat["rate_per_1000"] == pytest.approx(1000 * rated["count"].sum() / rated["person_years"].sum())


def test_definition_mismatch_is_caveated_and_kept_out_of_the_fit(tmp_path):
    src = _copy(tmp_path)
    p = src / "cumbria" / "summary.json"
    s = json.loads(p.read_text())
    s["definitions"]["police_uk_crime_types"] = ["Violence and sexual offences"]
    p.write_text(json.dumps(s))
    forces, excluded = read_summaries([str(src)])
    n = compile_stra(forces, excluded, CFG)
    mm = n.mismatches
    assert mm[(mm["force"] == "Cumbria Constabulary")]["definition"].tolist() == ["police.uk crime types"]
    row = n.measures.set_index(["force", "threat_area"]).loc[("Cumbria Constabulary", "police_uk_public_order")]
    assert row["caveats"] and "police.uk crime types" in row["caveats"][0]
    assert "not in the fit" in row["funnel_position"]
    assert n.funnels["police_uk_public_order"]["forces_in_fit"] == 37  # 38 rated, Cumbria out
    assert row["confidence"] in ("moderate", "low")
    assert any("definitions that differ" in f["text"] for f in n.findings)


def test_bad_summaries_are_listed_never_dropped_silently(tmp_path):
    src = _copy(tmp_path, {"cumbria", "dorset", "durham", "essex"})
    (src / "dorset" / "summary.json").write_text("{not json")
    s = json.loads((src / "durham" / "summary.json").read_text())
    del s["period"]
    (src / "durham" / "summary.json").write_text(json.dumps(s))
    s = json.loads((src / "essex" / "summary.json").read_text())
    s["schema_version"] = "summary-v7"
    (src / "essex" / "summary.json").write_text(json.dumps(s))
    forces, excluded = read_summaries([str(src)])
    assert len(forces) == 1 and len(excluded) == 3
    n = compile_stra(forces, excluded, CFG)
    reasons = n.missing.set_index("force")["reason"]
    assert reasons["Durham"].startswith("summary excluded") and reasons["Essex"].startswith("summary excluded")
    assert reasons["Dorset"] == "no summary received"  # an unreadable file names no force: it is listed by file
    obj = build_stra_json(n)
    assert len(obj["exclusions"]) == 3 and all(e["fix"] for e in obj["exclusions"])


def test_duplicate_force_keeps_one_and_says_so(tmp_path):
    src = _copy(tmp_path, {"cumbria", "dorset", "durham"})
    shutil.copytree(src / "cumbria", src / "cumbria-again")
    forces, excluded = read_summaries([str(src)])
    n = compile_stra(forces, excluded, CFG)
    assert len(n.inputs) == 3 and len(n.exclusions) == 1 and "second summary" in n.exclusions[0].problem


def test_stra_json_schema_rejects_what_it_should(national):
    obj = build_stra_json(national)
    validate_stra_json(obj)
    for breaker in (lambda o: o.pop("inputs"),
                    lambda o: o["force_measures"][0].__setitem__("input_sha256", "not-a-hash"),
                    lambda o: o["morile"]["scores"][0].__setitem__("score", 17),
                    lambda o: o.__setitem__("schema_version", "stra-v0"),
                    lambda o: o["top_places"][0].__setitem__("count", -1)):
        bad = json.loads(json.dumps(obj))
        breaker(bad)
        with pytest.raises(Exception, match="schema"):
            validate_stra_json(bad)


def test_every_number_in_stra_json_traces_to_an_input_hash(tmp_path):
    src = _copy(tmp_path)
    out = tmp_path / "out"
    res = run_stra([str(src)], out, CFG, pdf=False)
    obj = json.loads((out / "stra.json").read_text())
    audit = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]
    used = {a["sha256"] for a in audit if a["event"] == "input"}
    import hashlib
    on_disk = {hashlib.sha256(p.read_bytes()).hexdigest() for p in src.rglob("summary.json")}
    assert used == on_disk and len(used) == 40
    for section in ("force_measures", "data_quality", "top_places"):
        assert obj[section] and all(r["input_sha256"] in used for r in obj[section]), section
    assert all(r["input_sha256"] in used for r in obj["morile"]["scores"])
    for r in obj["national"]:
        assert r["from_inputs"] and set(r["from_inputs"]) <= used
        # the national count is the sum of the force rows it names
        rows = [f for f in obj["force_measures"] if f["threat_area"] == r["threat_area"]]
        assert r["count"] == sum(f["count"] for f in rows if f["input_sha256"] in r["from_inputs"])
    for f in obj["findings"]:
        assert set(f["from_inputs"]) <= used
    events = {a["event"] for a in audit}
    assert {"run", "input", "missing_force", "output"} <= events
    run = next(a for a in audit if a["event"] == "run")
    assert run["config_sha256"] and run["tool_version"]
    outs = {a["file"] for a in audit if a["event"] == "output"}
    assert {"stra.html", "stra.json", "shared/stra.json", "figures/choropleth.png"} <= outs
    assert (out / "run_complete.json").exists()
    assert res["numbers"].meta["config_sha256"] == run["config_sha256"]


def _small_force_table(national, k):
    """A copy of the STRA with a few planted small counts (as a small force's RMS area would give)."""
    m = national.measures.copy()
    small = m["threat_area"] == "police_uk_public_order"
    m.loc[small & m["force"].isin(["City of London Police", "Cumbria Constabulary"]), "count"] = [3, 7]
    m.loc[small & (m["force"] == "Dorset Police"), "count"] = k + 2
    import dataclasses
    return dataclasses.replace(national, measures=m)


@pytest.mark.parametrize("release,k", [("partner", 10), ("publication", 5)])
def test_shared_stra_reveals_no_small_count(national, release, k):
    n = _small_force_table(national, k)
    s = to_shared(n, release=release)
    assert s.disclosure["shared"] and s.disclosure["threshold"] == k
    shown = s.measures["count"].dropna().astype(int)
    assert not ((shown >= 1) & (shown < k)).any()
    # derived values of withheld counts are withheld too
    held = s.measures["withheld"].to_numpy(bool)
    assert held.sum() >= 2
    assert s.measures.loc[held, ["rate_per_1000", "ci_low", "ci_high", "harm_per_1000"]].isna().all().all()
    assert (s.measures.loc[held, "funnel_position"] == "[c]").all()
    # attacker: with the published national totals, every withheld count keeps a range of at least k values
    table = stra_table(n.measures)
    sup = suppress_table(table, threshold=k, row_total=False, col_total=True)
    audit = audit_table(table, sup)
    assert not audit["disclosed"].any()
    obj = build_stra_json(s)
    validate_stra_json(obj)
    for f in obj["force_measures"]:
        if f["count"] is not None:
            assert not 1 <= f["count"] < k
    # attacker: a funnel target or a MoRiLE rate ratio that included a withheld count would give it back
    # (target x resident-years - published counts); both must rest on published counts only
    for area, fn in s.funnels.items():
        rows = s.measures[(s.measures["threat_area"] == area) & s.measures["person_years"].notna()
                          & s.measures["count"].notna() & ~s.measures["withheld"]
                          & ~s.measures["funnel_position"].astype(str).str.contains("not in the fit")]
        assert fn["forces_in_fit"] == len(rows)
        target = 1000 * rows["count"].astype(float).sum() / rows["person_years"].astype(float).sum()
        assert fn["theta0_per_1000"] == pytest.approx(target)
    mo = s.morile
    implied = mo["rate_per_1000"].astype(float) / mo["likelihood_measure"].astype(float)
    for area, grp in s.measures[~s.measures["withheld"] & s.measures["person_years"].notna()].groupby("threat_area"):
        published_rate = 1000 * grp["count"].astype(float).sum() / grp["person_years"].astype(float).sum()
        assert np.allclose(implied[mo["threat_area"] == area], published_rate)
    held_pairs = set(zip(s.measures.loc[held, "force"], s.measures.loc[held, "threat_area"], strict=True))
    assert not held_pairs & set(zip(s.morile["force"], s.morile["threat_area"], strict=True))
    assert obj["disclosure"]["release"] == release and "Disclosure-controlled" in obj["disclosure"]["handling"]


def test_shared_national_rate_hidden_when_a_rated_count_is_withheld(national):
    s = to_shared(_small_force_table(national, 10), release="partner")
    nat = s.national.set_index("threat_area").loc["police_uk_public_order"]
    assert pd.isna(nat["rated_count"]) and pd.isna(nat["rate_per_1000"])
    assert not pd.isna(nat["count"])  # the column total itself is published (secondary suppression protects it)


def test_config_checks_name_the_key(tmp_path):
    p = tmp_path / "stra.toml"
    p.write_text("[stra]\nfunnel_winsor = 0.7\n")
    with pytest.raises(Exception, match="stra.funnel_winsor"):
        load_stra_config(p)
    p.write_text("[stra]\ntop_placs = 5\n")
    with pytest.raises(Exception, match="did you mean 'top_places'"):
        load_stra_config(p)
    p.write_text("[stra.morile]\nrate_bands = [3.0, 2.0, 1.0]\n")
    with pytest.raises(Exception, match="ascending"):
        load_stra_config(p)


def test_cli_stra_exit_codes(tmp_path, capsys):
    src = _copy(tmp_path, {"cumbria", "dorset", "durham", "essex"})
    out = tmp_path / "out"
    assert main(["stra", str(src), "--out", str(out), "--no-pdf"]) == 0
    assert (out / "stra.html").exists() and (out / "shared" / "stra.json").exists()
    (src / "dorset" / "summary.json").write_text("[]")
    assert main(["stra", str(src), "--out", str(out), "--no-pdf"]) == 1  # done, one summary left out (named)
    err = capsys.readouterr().err
    assert "left out" in err and "dorset" in err and "Traceback" not in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["stra", str(empty), "--out", str(tmp_path / "o2"), "--no-pdf"]) == 2
    assert not (tmp_path / "o2").exists()


def test_report_marks_every_page_and_names_missing_forces(tmp_path):
    src = _copy(tmp_path, {"cumbria", "dorset", "durham", "essex", "btp"})
    out = tmp_path / "out"
    run_stra([str(src)], out, CFG, pdf=False)
    html = (out / "stra.html").read_text()
    assert html.count("OFFICIAL-SENSITIVE") >= 3  # header and footer repeat on every printed page
    assert "Metropolitan Police" in html and "intelligence gap" in html.lower()
    assert "not the official NPCC" in html
    shared = (out / "shared" / "stra.html").read_text()
    assert "SHARED VERSION" in shared


def test_v1_and_shared_summaries_compile_beside_v2(tmp_path):
    from profiles.summary import example_summary, write_summary

    src = _copy(tmp_path, {"cumbria", "dorset", "durham"})
    v1 = example_summary("summary-v1")
    v1["force"] = {"name": "Wiltshire Police", "slug": "wiltshire"}
    (src / "wiltshire").mkdir()
    write_summary(v1, src / "wiltshire" / "summary.json")
    shared_v2 = example_summary()  # a shared summary: one threat area's total withheld
    shared_v2["force"] = {"name": "Suffolk Constabulary", "slug": "suffolk"}
    (src / "suffolk").mkdir()
    write_summary(shared_v2, src / "suffolk" / "summary.json")
    forces, excluded = read_summaries([str(src)])
    assert len(forces) == 5 and not excluded
    n = compile_stra(forces, excluded, CFG)
    suffolk = n.measures[n.measures["force"] == "Suffolk Constabulary"].set_index("threat_area")
    assert pd.isna(suffolk.loc["rasso", "count"]) and pd.isna(suffolk.loc["rasso", "rate_per_1000"])
    assert suffolk.loc["public_space_nte", "count"] == 79
    assert "schema version" in set(n.mismatches["definition"])  # v1 beside v2 is a caveat, not a crash
    validate_stra_json(build_stra_json(n))
    validate_stra_json(build_stra_json(to_shared(n)))
