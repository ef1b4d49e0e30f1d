"""VAWG offence table: hand-checked classifications and config validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspots.errors import ConfigError, ParameterError
from hotspots.offences import (
    CONDITIONS,
    classify_offences,
    classify_police_uk,
    default_offence_table_path,
    load_offence_table,
    normalise_codes,
)


@pytest.fixture(scope="module")
def table():
    return load_offence_table()


def one(code, table, **flags):
    row = classify_offences([code], table=table, **{k: [v] for k, v in flags.items()}).iloc[0]
    return row


# --- the bundled table -------------------------------------------------------------------------


def test_bundled_table_metadata(table):
    assert table.version == "vawg-offences-2026.1"
    assert table.source and table.date
    assert table.source_file == default_offence_table_path()
    assert default_offence_table_path().is_file()


def test_bundled_table_is_consistent(table):
    e = table.entries
    assert e.index.is_unique
    assert set(e["condition"]) <= set(CONDITIONS)
    assert set(e["group"]) | set(e["group_if_victim_female"]) <= set(table.groups)
    assert e["verified"].map(type).eq(bool).all()
    # Codes are stored normalised.
    assert list(normalise_codes(e.index)) == list(e.index)


def test_groups_and_counts(table):
    counts = table.entries["group"].value_counts().to_dict()
    assert counts["rape"] == 6
    assert counts["other_sexual_offences"] == 16
    assert counts["stalking_harassment"] == 4
    assert counts["controlling_coercive"] == 1
    assert counts["da_violence"] == 12
    assert counts["homicide"] == 3
    assert counts["spiking"] == 1


def test_unverified_codes_say_why(table):
    unverified = table.entries[~table.entries["verified"]]
    assert set(unverified.index) == {"8R", "8U"}
    assert unverified["note"].notna().all()


# --- hand-checked classifications ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "da", "female", "status", "group", "basis"),
    [
        # 19C rape of a female 16+: always VAWG, whatever the flags (or their absence).
        ("19C", None, None, "vawg", "rape", "always"),
        ("19C", False, False, "vawg", "rape", "always"),
        # Male rape: included by decision (condition always).
        ("19F", False, False, "vawg", "rape", "always"),
        ("20A", None, None, "vawg", "other_sexual_offences", "always"),
        ("8Q", False, False, "vawg", "stalking_harassment", "always"),
        # Assault without injury: DA flag -> da_violence ...
        ("105A", True, False, "vawg", "da_violence", "domestic_abuse"),
        ("105A", True, True, "vawg", "da_violence", "domestic_abuse"),
        # ... female victim without DA flag -> public_space_violence ...
        ("105A", False, True, "vawg", "public_space_violence", "victim_female"),
        # ... neither -> not VAWG.
        ("105A", False, False, "not_vawg", None, None),
        # Unknown flags never guess.
        ("8N", None, None, "undetermined", None, None),
        ("8N", False, None, "undetermined", None, None),
        ("8N", None, False, "undetermined", None, None),
        ("8N", None, True, "vawg", "public_space_violence", "victim_female"),
        ("8N", True, None, "vawg", "da_violence", "domestic_abuse"),
        # Harassment: female victim keeps its own group.
        ("8L", False, True, "vawg", "stalking_harassment", "victim_female"),
        ("1", True, False, "vawg", "homicide", "domestic_abuse"),
        ("999X", True, True, "unknown_code", None, None),
    ],
)
def test_hand_checked(table, code, da, female, status, group, basis):
    out = classify_offences([code], table=table, domestic_abuse=[da], victim_female=[female])
    row = out.iloc[0]
    assert row["vawg_status"] == status
    assert pd.isna(row["vawg_group"]) if group is None else row["vawg_group"] == group
    assert pd.isna(row["vawg_basis"]) if basis is None else row["vawg_basis"] == basis
    assert bool(row["code_known"]) == (status != "unknown_code")


def test_unknown_code_is_reported_not_raised(table):
    out = classify_offences(["ZZZ", "019/08", "", None], table=table)
    assert not out["code_known"].any()
    assert (out["vawg_status"] == "unknown_code").all()
    assert out["vawg_group"].isna().all()
    assert out["offence_description"].isna().all()


def test_known_code_has_description_and_condition(table):
    out = classify_offences(["19C", "105A"], table=table)
    assert out["offence_description"].tolist() == ["Rape of a female aged 16 and over", "Assault without injury"]
    assert out["vawg_condition"].tolist() == ["always", "if_domestic_abuse_or_victim_female"]
    assert out.attrs["vawg_offences_version"] == table.version


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("19C", "19C"),
        ("19c", "19C"),
        (" 19C ", "19C"),
        ("19 C", "19C"),
        ("019C", "19C"),
        ("08N", "8N"),
        ("0105A", "105A"),
        ("105a", "105A"),
        ("4/1", "4/1"),
        ("4.1", "4/1"),
        ("004/01", "4/1"),
        ("10", "10"),  # zeros inside a number are kept
        ("019/08", "19/8"),  # class/sub-class scheme: normalised but not a table code
    ],
)
def test_normalisation_variants(raw, expected):
    assert normalise_codes([raw]).tolist() == [expected]


def test_normalisation_variants_classify_alike(table):
    out = classify_offences(["19C", "019c", " 19 C", "4.1", "004/01"], table=table, domestic_abuse=True)
    assert out["vawg_group"].tolist() == ["rape", "rape", "rape", "homicide", "homicide"]


def test_scalar_flags_broadcast(table):
    out = classify_offences(["8N", "8N"], table=table, domestic_abuse=False, victim_female=True)
    assert out["vawg_group"].tolist() == ["public_space_violence"] * 2


def test_flags_accept_nullable_boolean_and_series(table):
    codes = pd.Series(["8N", "8N", "8N"], index=[10, 20, 30])
    da = pd.Series([True, pd.NA, False], dtype="boolean", index=[10, 20, 30])
    out = classify_offences(codes, table=table, domestic_abuse=da, victim_female=[False, False, False])
    assert out["vawg_status"].tolist() == ["vawg", "undetermined", "not_vawg"]
    assert list(out.index) == [0, 1, 2]


def test_inputs_not_mutated(table):
    codes = pd.Series([" 019c", "8n"])
    da = np.array([True, False])
    before = codes.copy(), da.copy()
    classify_offences(codes, table=table, domestic_abuse=da)
    pd.testing.assert_series_equal(codes, before[0])
    np.testing.assert_array_equal(da, before[1])


def test_row_order_only_permutes(table):
    codes = np.array(["19C", "8N", "999X", "105A", "8L"])
    da = np.array([False, True, False, False, True])
    fem = np.array([True, False, True, True, False])
    full = classify_offences(codes, table=table, domestic_abuse=da, victim_female=fem)
    perm = np.array([3, 0, 4, 1, 2])
    part = classify_offences(codes[perm], table=table, domestic_abuse=da[perm], victim_female=fem[perm])
    pd.testing.assert_frame_equal(part, full.iloc[perm].reset_index(drop=True))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"domestic_abuse": [True]}, "domestic_abuse has 1 values but codes has 2"),
        ({"victim_female": ["F", "M"]}, "victim_female must hold True/False"),
    ],
)
def test_bad_flags(table, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        classify_offences(["8N", "8N"], table=table, **kwargs)


def test_police_uk_is_coarse(table):
    out = classify_police_uk(["Violence and sexual offences", " Public order ", "Burglary"], table=table)
    assert out["vawg_group"].tolist()[:2] == ["police_uk_violence_sexual", "police_uk_public_order"]
    assert pd.isna(out["vawg_group"].iloc[2])
    assert out["vawg_coarse"].tolist() == [True, True, False]


# --- config validation ---------------------------------------------------------------------------

GOOD_HEAD = 'version = "t1"\nsource = "test"\ndate = "2026-01-01"\n'
GOOD_GROUPS = '[groups]\nrape = "Rape"\nda_violence = "DA"\n'


def write(tmp_path, text):
    p = tmp_path / "offences.toml"
    p.write_text(text, encoding="utf-8")
    return p


def entry(**kw):
    base = {"code": "19C", "description": "Rape", "group": "rape", "condition": "always", "verified": True}
    base.update(kw)
    base = {k: v for k, v in base.items() if v is not None}

    def fmt(v):
        return "true" if v is True else "false" if v is False else f'"{v}"'

    return "{ " + ", ".join(f"{k} = {fmt(v)}" for k, v in base.items()) + " }"


def offences(*entries):
    return "offences = [\n  " + ",\n  ".join(entries) + "\n]\n"


def test_minimal_table_loads(tmp_path):
    p = write(tmp_path, GOOD_HEAD + offences(entry()) + GOOD_GROUPS)
    t = load_offence_table(p)
    assert t.codes == ["19C"]
    assert t.police_uk.empty


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (offences(entry(), entry(code="019c")) + GOOD_GROUPS, r"entry 2 \(code '019c'\): duplicate code '19C'"),
        (offences(entry(group="rapes")) + GOOD_GROUPS, r"entry 1 \(code '19C'\): group 'rapes' is not declared"),
        (
            offences(entry(condition="sometimes")) + GOOD_GROUPS,
            r"entry 1 \(code '19C'\): unknown condition 'sometimes'",
        ),
        (
            offences(entry(description=None)) + GOOD_GROUPS,
            r"entry 1 \(code '19C'\): missing required key 'description'",
        ),
        (offences(entry(verified=None)) + GOOD_GROUPS, r"entry 1 \(code '19C'\): missing required key 'verified'"),
        (offences(entry(code=None)) + GOOD_GROUPS, r"entry 1: missing required key 'code'"),
        (offences(entry(colour="red")) + GOOD_GROUPS, r"entry 1 \(code '19C'\): unknown key 'colour'"),
        (offences(entry(verified="yes")) + GOOD_GROUPS, r"'verified' must be true or false"),
        (
            offences(entry(group_if_victim_female="da_violence")) + GOOD_GROUPS,
            "'group_if_victim_female' only applies",
        ),
        (
            offences(entry(condition="if_domestic_abuse_or_victim_female", group_if_victim_female="nope"))
            + GOOD_GROUPS,
            "group_if_victim_female 'nope' is not declared",
        ),
        (offences(entry()), r"\[groups\] must declare at least one group"),
        ("offences = []\n" + GOOD_GROUPS, "'offences' must be a non-empty list"),
        (offences(entry()) + GOOD_GROUPS + "[extra]\nx = 1\n", "unknown top-level key 'extra'"),
        (offences(entry()) + '[groups]\nRape = "x"\n', "group name 'Rape' must be lower_snake_case"),
        (offences(entry()) + GOOD_GROUPS + '[police_uk]\n"Public order" = { grp = "x" }\n', "must be a table with"),
    ],
)
def test_bad_tables(tmp_path, body, match):
    p = write(tmp_path, GOOD_HEAD + body)
    with pytest.raises(ConfigError, match=match) as exc:
        load_offence_table(p)
    assert str(p) in str(exc.value)


def test_missing_header_key(tmp_path):
    p = write(tmp_path, 'source = "s"\ndate = "d"\n' + offences(entry()) + GOOD_GROUPS)
    with pytest.raises(ConfigError, match="missing required key 'version'"):
        load_offence_table(p)


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_offence_table(tmp_path / "nope.toml")
    p = write(tmp_path, "version = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_offence_table(p)


def test_large_inputs_classify_each_combination_once_with_the_same_answer():
    """Above 4,096 records the classifier works on distinct (code, flags) combinations: same result."""
    from hotspots.offences import _classify, _flag

    table = load_offence_table()
    rng = np.random.default_rng(0)
    pool = np.array(["19C", "8N", "105A", "8Q", "999X", " 019c ", None, "4/1", "8L"], dtype=object)
    codes = pool[rng.integers(0, len(pool), 10_000)]
    da = rng.choice(np.array([True, False, None], dtype=object), 10_000)
    fem = rng.choice(np.array([True, False, None], dtype=object), 10_000)
    fast = classify_offences(codes, table=table, domestic_abuse=da, victim_female=fem)
    slow = _classify(codes, table=table, da=_flag(da, 10_000, "d"), fem=_flag(fem, 10_000, "f"))
    pd.testing.assert_frame_equal(fast, slow)
