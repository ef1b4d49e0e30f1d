"""Force comparison: hand-computed positions, name matching over every bundled force, real and planted cases."""

from __future__ import annotations

import csv
import gzip
import re

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, HEADER, cid, write_puk

from hotspots.comparators import compare_force
from hotspots.errors import InputFileError, ParameterError
from hotspots.forces import POLICE_UK_FORCES, force_key
from hotspots.ingest.police_uk import read_police_uk
from hotspots.ingest.population import read_population
from hotspots.publication import force_month_table

NATIONAL = DATA / "policeuk" / "national"
POP_2020 = DATA / "population" / "police-population_2020.csv"
POP_2011 = DATA / "population" / "force-demographics_census2011_pfa16.csv"
AVON = "Avon and Somerset Constabulary"
INDICATORS = ["vawg_per_1000", "rows_per_1000", "no_coordinates_share", "stacked_share", "vawg_share"]


@pytest.fixture(scope="module")
def population():
    return read_population(POP_2020, fill_from=POP_2011)


@pytest.fixture(scope="module")
def national_jan():
    return read_police_uk([NATIONAL / "2024-01"])


@pytest.fixture(scope="module")
def table_jan(national_jan, population):
    return force_month_table(national_jan, population=population)


# ----------------------------------------------------------------- hand-computed positions


def test_three_forces_known_rates_and_percentiles():
    t = pd.DataFrame(
        {
            "force": ["A Police", "B Police", "C Police"],
            "month": ["2024-01"] * 3,
            "population": [1_000_000.0, 2_000_000.0, 1_400_000.0],
            "vawg_rows": [1_000, 6_000, 2_800],
        }
    )
    t["vawg_per_1000"] = t["vawg_rows"] / t["population"] * 1000  # 1.0, 3.0, 2.0
    before = t.copy()
    r = compare_force(t, force="A Police", min_comparators=2)
    row = r.indicators.loc["vawg_per_1000"]
    assert row["value"] == pytest.approx(1.0)
    # others: 3.0 and 2.0 -> median 2.5; MAD = 0.5 -> z = (1 - 2.5) / (1.4826 * 0.5)
    assert row["national_median"] == pytest.approx(2.5)
    assert row["national_percentile"] == pytest.approx(0.0)
    assert row["national_robust_z"] == pytest.approx(-1.5 / (1.4826 * 0.5))
    # default comparators: population 0.5-1.5 million -> only C (B is 2 million)
    assert r.comparators == ("C Police",)
    assert row["comparator_n"] == 1 and row["comparator_median"] == pytest.approx(2.0)
    assert r.flags == ()  # one comparator < min_comparators=2
    assert "cannot be judged" in r.finding
    pd.testing.assert_frame_equal(t, before)  # input not mutated

    # C sits between A and B: half the others below -> 50th percentile; ties count half
    rc = compare_force(t, force="C Police", min_comparators=2)
    assert rc.indicators.loc["vawg_per_1000", "national_percentile"] == pytest.approx(50.0)
    t2 = t.assign(vawg_per_1000=[2.0, 3.0, 2.0])
    tied = compare_force(t2, force="C Police").indicators.loc["vawg_per_1000"]
    assert tied["national_percentile"] == pytest.approx(100 * (0 + 0.5 * 1) / 2)  # A ties (half), B above


def test_given_comparator_list_and_flag_threshold():
    t = pd.DataFrame(
        {
            "force": ["A", "B", "C", "D", "E"],
            "month": ["2024-01"] * 5,
            "population": [1e6] * 5,
            "vawg_per_1000": [2.0, 1.0, 3.0, 4.0, 5.0],
            "no_coordinates_share": [0.10, 0.0, 0.01, 0.02, 0.20],
        }
    )
    # comparators B, C, D: A is above 1 of 3 -> not flagged as low (needs 75% above)
    r = compare_force(t, force="A", comparators=["B", "C", "D"], min_comparators=3)
    assert r.comparators == ("B", "C", "D")
    assert r.indicators.loc["vawg_per_1000", "comparators_above"] == pytest.approx(2 / 3)
    assert r.indicators.loc["vawg_per_1000", "comparator_percentile"] == pytest.approx(100 / 3)
    assert not any("VAWG" in f for f in r.flags)
    # but no_coordinates_share 10% is above all of B, C, D -> flagged high
    assert len(r.flags) == 1 and r.flags[0].startswith("has a higher share of crimes without coordinates than 100%")
    assert r.parameters["population_band"] is None
    d = r.to_dict()
    assert d["indicators"]["no_coordinates_share"]["comparator_percentile"] == 100.0
    assert d["finding"] == r.finding and r.finding.count(".") >= 1


def test_planted_half_rate_force_is_flagged_synthetic():
    rng = np.random.default_rng(7)
    n = 12
    forces = [f"Force {i}" for i in range(n)] + ["Planted Police"]
    rates = np.r_[3.0 + rng.normal(0, 0.2, n), 1.5]
    t = pd.DataFrame({"force": forces, "month": ["2024-01"] * (n + 1), "population": 1e6, "vawg_per_1000": rates})
    r = compare_force(t, force="Planted Police")
    row = r.indicators.loc["vawg_per_1000"]
    assert row["comparator_percentile"] == 0.0 and row["comparator_robust_z"] < -3
    assert r.flags[0].startswith("publishes fewer VAWG-relevant crimes per 1,000 residents than 100% of comparators")
    # a typical force is not flagged
    assert compare_force(t, force="Force 0").flags == ()


# ----------------------------------------------------------------- force x month table on written files


def _line(force, month, crime_type, lng="-2.359463", lat="51.381912", i=0):
    loc = "No Location" if not lng else "On or near High Street"
    return ",".join([cid(i), month, force, force, lng, lat, loc, "", "", crime_type, "Under investigation", ""])


def test_table_counts_from_written_files(tmp_path):
    vso, po, bur = "Violence and sexual offences", "Public order", "Burglary"
    a = "Alpha Police"
    rows_a = [_line(a, "2024-01", vso, i=i) for i in range(10)]  # 10 at one point: a stack
    rows_a += [_line(a, "2024-01", bur, lng="-2.36", lat="51.39", i=20 + i) for i in range(5)]
    rows_a += [_line(a, "2024-01", vso, lng="", lat="", i=40), _line(a, "2024-01", bur, lng="", lat="", i=41)]
    b = "Beta Constabulary"
    rows_b = [_line(b, "2024-01", po, lng=f"-2.{300 + i}", i=100 + i) for i in range(4)]
    write_puk(tmp_path / "2024-01-alpha-street.csv.gz", rows_a, gz=True)
    write_puk(tmp_path / "2024-01-beta-street.csv", rows_b, newline="\r\n")
    res = read_police_uk([tmp_path])
    t = force_month_table(res, population={"Alpha": 17_000, "Beta": 2_000}).set_index("force")
    alpha = t.loc[a]
    assert (alpha["rows"], alpha["vawg_rows"], alpha["no_coordinates_rows"]) == (17, 11, 2)
    assert alpha["no_coordinates_share"] == pytest.approx(2 / 17)
    assert alpha["vawg_per_1000"] == pytest.approx(11 / 17)
    assert alpha["stacked_share"] == pytest.approx(10 / 15)  # of located rows
    beta = t.loc[b]
    assert (beta["rows"], beta["vawg_rows"], beta["no_coordinates_rows"], beta["stacked_rows"]) == (4, 4, 0, 0)
    assert beta["vawg_per_1000"] == pytest.approx(2.0)
    # events only: rows without coordinates are unknown, not zero
    t2 = force_month_table(res.events)
    assert t2["no_coordinates_share"].isna().all() and t2["population"].isna().all()
    assert t2.attrs == {"crime_types": [vso, po], "stack_min_events": 10}
    # a narrower VAWG definition is echoed and applied
    t3 = force_month_table(res, crime_types=[po]).set_index("force")
    assert t3.loc[a, "vawg_rows"] == 0 and t3.attrs["crime_types"] == [po]


# ----------------------------------------------------------------- population names


def test_population_files_match_every_territorial_force(population):
    territorial = set(POLICE_UK_FORCES.values()) - {"British Transport Police", "Police Service of Northern Ireland"}
    assert set(population["force"]) == territorial  # 43 forces
    assert len(population) == 43 and population["population"].gt(0).all()
    only_2020 = read_population(POP_2020)
    assert len(only_2020) == 42 and "City of London Police" not in set(only_2020["force"])
    census = read_population(POP_2011)
    assert set(census["force"]) == territorial
    col = population.set_index("force")
    assert col.loc["City of London Police", "population_source"].startswith("force-demographics_census2011")
    assert col.loc["Metropolitan Police Service", "population_name"] == "Metropolitan Police"


def test_every_bundled_national_file_maps_to_a_population(population, national_jan):
    files = sorted((NATIONAL / "2024-01").glob("*-street.csv.gz"))
    assert len(files) == 40
    pop_keys = set(population["force"].map(force_key))
    for f in files:
        slug = re.match(r"\d{4}-\d{2}-(.+)-street\.csv\.gz$", f.name).group(1)
        with gzip.open(f, "rt", encoding="utf-8", newline="") as fh:
            falls_within = next(csv.DictReader(fh))["Falls within"]
        assert force_key(slug) == force_key(falls_within), f.name  # file slug and police.uk name agree
        assert POLICE_UK_FORCES[force_key(falls_within)] == falls_within
        if falls_within == "British Transport Police":
            assert force_key(falls_within) not in pop_keys
        else:
            assert force_key(falls_within) in pop_keys, falls_within
    forces = set(national_jan.events.column("force").to_pylist())
    assert len(forces) == 40


@pytest.mark.parametrize(
    "text, problem",
    [
        ("Force,Population\nAvon & Somerset,0\n", "not a positive number"),
        ("Force,Population\nAvon & Somerset,lots\n", "not a positive number"),
        ("Force,Population\nEngland and Wales,59000000\n", "matches no police.uk force"),
        ("Force,Population\nKent,1\nKent Police,2\n", "appears twice"),
        ("Name,People\nKent,1\n", "none of the known column pairs"),
    ],
)
def test_bad_population_files(tmp_path, text, problem):
    p = tmp_path / "pop.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError, match=problem):
        read_population(p)


# ----------------------------------------------------------------- real data


def _csv_oracle(path):
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    vawg = sum(r["Crime type"] in ("Violence and sexual offences", "Public order") for r in rows)
    return len(rows), vawg, sum(not r["Longitude"] for r in rows)


def test_real_2024_01_avon_and_somerset(table_jan):
    assert len(table_jan) == 40
    avon = table_jan.set_index("force").loc[AVON]
    rows, vawg, no_coords = _csv_oracle(NATIONAL / "2024-01" / "2024-01-avon-and-somerset-street.csv.gz")
    assert (avon["rows"], avon["vawg_rows"], avon["no_coordinates_rows"]) == (rows, vawg, no_coords)
    assert (rows, no_coords) == (14064, 672)  # data/README.md (upstream manifest)
    assert avon["vawg_per_1000"] == pytest.approx(vawg / 1_711_500 * 1000)
    r = compare_force(table_jan, force="Avon & Somerset")
    assert r.force == AVON and len(r.comparators) >= 15
    assert "British Transport Police" not in r.comparators
    assert np.isfinite(r.indicators.loc[INDICATORS, ["value", "national_percentile", "comparator_robust_z"]]).all(
        axis=None
    )
    assert r.indicators["national_n"].eq(38).all()  # 40 forces - Avon - BTP
    assert r.finding.startswith(AVON + ", 2024-01: ") and r.finding.endswith(".")


def test_real_dyfed_powys_under_publication_is_flagged(table_jan):
    r = compare_force(table_jan, force="Dyfed-Powys Police")
    assert any(f.startswith("publishes fewer VAWG-relevant crimes per 1,000") for f in r.flags)
    assert any(f.startswith("has a higher share of crimes without coordinates") for f in r.flags)


def test_planted_force_with_half_the_rate_is_flagged_in_real_table(table_jan):
    others = table_jan[table_jan["population"].notna()]
    half = others["vawg_per_1000"].min() / 2
    fake = pd.DataFrame(
        {
            "force": ["Fakeshire Police"],
            "month": table_jan["month"].iloc[:1].to_numpy(),
            "population": [1_500_000.0],
            "vawg_per_1000": [half],
            "rows_per_1000": [others["rows_per_1000"].median()],
            "no_coordinates_share": [others["no_coordinates_share"].median()],
            "stacked_share": [others["stacked_share"].median()],
            "vawg_share": [others["vawg_share"].median()],
        }
    )
    t = pd.concat([table_jan, fake], ignore_index=True)
    r = compare_force(t, force="Fakeshire Police")
    assert r.indicators.loc["vawg_per_1000", "national_percentile"] == 0.0
    assert r.indicators.loc["vawg_per_1000", "comparator_robust_z"] < -2
    assert r.flags == (next(f for f in r.flags if f.startswith("publishes fewer VAWG-relevant")),)
    assert "publishes fewer VAWG-relevant crimes per 1,000 residents than 100% of comparators" in r.finding


def test_two_results_and_months(national_jan, population):
    later = read_police_uk([DATA / "policeuk" / "avon-and-somerset" / "2024-02"])
    t = force_month_table([national_jan, later], population=population)
    assert set(t["month"].astype(str)) == {"2024-01", "2024-02"}
    with pytest.raises(ParameterError, match="pass month='YYYY-MM'"):
        compare_force(t, force=AVON)
    r = compare_force(t, force=AVON, month="2024-02")
    assert r.comparators == () and "cannot be judged" in r.finding


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"force": "Nowhere Police"}, "has no row"),
        ({"force": AVON, "month": "2019-01"}, "not in the table"),
        ({"force": AVON, "flag_share": 0.2}, "flag_share"),
        ({"force": AVON, "population_band": 0}, "population_band"),
        ({"force": AVON, "min_comparators": 0}, "min_comparators"),
        ({"force": "British Transport Police"}, "default set needs"),
    ],
)
def test_bad_compare_arguments(table_jan, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        compare_force(table_jan, **kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"crime_types": ()}, "crime_types"),
        ({"stack_min_events": 1}, "stack_min_events"),
        ({"population": [1, 2]}, "population"),
        ({"population": {"Kent": 0}}, "population <= 0"),
    ],
)
def test_bad_table_arguments(kwargs, match):
    ev = pd.DataFrame({"force": ["Kent Police"], "month": ["2024-01"], "crime_type": ["Burglary"]})
    with pytest.raises(ParameterError, match=match):
        force_month_table(ev, **kwargs)


def test_not_events():
    with pytest.raises(ParameterError, match="results_or_events"):
        force_month_table("data/policeuk/national")
    with pytest.raises(ParameterError, match="lack column"):
        force_month_table(pd.DataFrame({"force": ["x"]}))


def test_header_constant_positions_match_reader():
    # the quarantined line is parsed by position: keep in step with the police.uk header
    cols = HEADER.split(",")
    assert (cols[1], cols[3], cols[9]) == ("Month", "Falls within", "Crime type")


def test_unparseable_quarantined_lines_take_their_files_force(tmp_path):
    import dataclasses

    import pyarrow as pa

    a = "Alpha Police"
    rows = [_line(a, "2024-01", "Burglary", i=i) for i in range(3)] + [
        _line(a, "2024-01", "Public order", lng="", lat="", i=9)
    ]
    write_puk(tmp_path / "2024-01-alpha-street.csv", rows)
    res = read_police_uk([tmp_path])
    q = res.quarantine
    blanked = q.set_column(q.schema.get_field_index("raw"), "raw", pa.array([""] * q.num_rows, pa.string()))
    t = force_month_table(dataclasses.replace(res, quarantine=blanked)).iloc[0]
    assert (t["force"], str(t["month"]), t["rows"], t["no_coordinates_rows"]) == (a, "2024-01", 4, 1)
    assert t["vawg_rows"] == 0  # the crime type of an unparseable line is unknown
