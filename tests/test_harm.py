"""Harm indices: coverage of the VAWG table, published sample weights, and never mixing indices."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hotspots.errors import ConfigError, ParameterError
from hotspots.harm import (
    HARM_INDEX_NAMES,
    assign_harm,
    check_single_index,
    harm_total,
    harm_weights,
    has_harm_weight,
    load_harm_index,
)
from hotspots.offences import load_offence_table, normalise_codes


@pytest.fixture(scope="module")
def chi():
    return load_harm_index("cambridge_chi")


@pytest.fixture(scope="module")
def css():
    return load_harm_index("ons_css")


@pytest.fixture(scope="module")
def table():
    return load_offence_table()


# --- the bundled tables ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", HARM_INDEX_NAMES)
def test_metadata(name):
    idx = load_harm_index(name)
    assert idx.name == name
    for attr in ("version", "source", "date", "units", "url"):
        assert getattr(idx, attr)
    assert idx.label == f"{name}@{idx.version}"


@pytest.mark.parametrize("name", HARM_INDEX_NAMES)
def test_every_vawg_code_has_a_weight(name, table):
    idx = load_harm_index(name)
    missing = [c for c in table.codes if c not in idx.weights]
    assert missing == []
    assert has_harm_weight(table.codes, index=idx).all()


@pytest.mark.parametrize("name", HARM_INDEX_NAMES)
def test_police_uk_categories_have_approximate_weights(name, table):
    idx = load_harm_index(name)
    keys = normalise_codes(list(table.police_uk.index))
    assert all(k in idx.weights for k in keys)
    assert set(keys) <= idx.approximate
    assert set(keys) <= idx.unverified


@pytest.mark.parametrize("name", HARM_INDEX_NAMES)
def test_weights_positive_and_finite(name):
    w = np.array(list(load_harm_index(name).weights.values()))
    assert np.isfinite(w).all() and (w > 0).all()


@pytest.mark.parametrize("name", HARM_INDEX_NAMES)
def test_flags_are_consistent(name):
    idx = load_harm_index(name)
    assert idx.placeholders <= idx.unverified
    assert idx.placeholders <= idx.approximate
    assert set(idx.unverified) <= set(idx.weights)


# DOMAIN.md section 5 (ONS CSS 2016): homicide ~7,979; attempted murder 4,663; wounding 1,965;
# GBH without intent 333; assault with injury 184.
CSS_SAMPLES = {"1": 7979.0, "4/1": 7979.0, "2": 4663.0, "5A": 1965.0, "8F": 333.0, "8G": 184.0}


@pytest.mark.parametrize(("code", "weight"), CSS_SAMPLES.items())
def test_css_sample_weights_match_domain(css, code, weight):
    assert code in css.weights
    assert css.weights[code] == weight
    assert code not in css.unverified


def test_css_verified_set_is_exactly_the_published_samples(css):
    verified = set(css.weights) - set(css.unverified)
    assert verified == {"1", "4/1", "4/2", "2", "5A", "8F", "8G"}


def test_chi_has_no_verified_values_yet(chi):
    # Subgroup medians stand in for per-code values: all approximate, none verified.
    assert chi.unverified == frozenset(chi.weights)
    assert chi.approximate == frozenset(chi.weights)
    assert not chi.placeholders


def test_chi_subgroup_medians(chi):
    # CCHI 2026 subgroup medians (days), as tabulated in the source cited by the table.
    assert chi.weights["19C"] == 2555.0
    assert chi.weights["20A"] == 182.25
    assert chi.weights["8Q"] == 10.0
    assert chi.weights["105A"] == 10.0
    assert chi.weights["8N"] == 365.0
    assert chi.weights["1"] == 5475.0


def test_indices_rank_differently(chi, css):
    # The reason both ship and never mix (Ashby 2017): ratios differ between indices.
    assert chi.weights["1"] / chi.weights["8G"] != pytest.approx(css.weights["1"] / css.weights["8G"])


def test_weights_are_read_only(chi):
    with pytest.raises(TypeError):
        chi.weights["19C"] = 1.0


# --- harm_weights -----------------------------------------------------------------------------------


def test_harm_weights_vectorised_and_normalised(css):
    w = harm_weights(["2", "002", " 8f", "8G", "4.1", "nope", None], index=css)
    np.testing.assert_array_equal(w[:5], [4663.0, 4663.0, 333.0, 184.0, 7979.0])
    assert np.isnan(w[5:]).all()
    assert w.dtype == float


def test_unknown_codes_reported_by_mask(chi):
    codes = ["19C", "XYZ", "8N", "999"]
    mask = has_harm_weight(codes, index=chi)
    np.testing.assert_array_equal(mask, [True, False, True, False])
    assert np.isnan(harm_weights(codes, index=chi)[~mask]).all()


def test_placeholders_refused_by_default(css):
    with pytest.raises(ParameterError, match=r"placeholder weights in ons_css@.*19C.*allow_placeholders=True"):
        harm_weights(["2", "19C"], index=css)
    w = harm_weights(["2", "19C"], index=css, allow_placeholders=True)
    np.testing.assert_array_equal(w, [4663.0, 1.0])


def test_police_uk_category_weights(chi):
    w = harm_weights(["Violence and sexual offences", "Public order", "Burglary"], index=chi)
    np.testing.assert_array_equal(w[:2], [194.21, 7.5])
    assert math.isnan(w[2])


# --- frames in, frames out; never mix ----------------------------------------------------------------


def test_assign_harm_new_frame(css):
    df = pd.DataFrame({"offence_code": ["2", "8G", "nope"], "n": [1, 2, 3]})
    before = df.copy()
    out = assign_harm(df, index=css)
    pd.testing.assert_frame_equal(df, before)
    assert out is not df
    assert out["harm_index"].unique().tolist() == [css.label]
    assert out["harm_verified"].tolist() == [True, True, False]
    assert out["harm_placeholder"].tolist() == [False, False, False]
    assert np.isnan(out["harm_weight"].iloc[2])


def test_assign_harm_marks_placeholders(css):
    out = assign_harm(pd.DataFrame({"offence_code": ["19C"]}), index=css, allow_placeholders=True)
    assert out["harm_placeholder"].tolist() == [True]
    assert out["harm_verified"].tolist() == [False]


def test_assign_harm_bad_column(css):
    with pytest.raises(ParameterError, match="code_column 'code' is not a column"):
        assign_harm(pd.DataFrame({"offence_code": ["2"]}), index=css, code_column="code")


def test_assign_harm_refuses_reweighting_with_another_index(chi, css):
    weighted = assign_harm(pd.DataFrame({"offence_code": ["2"]}), index=css)
    with pytest.raises(ParameterError, match="different indices cannot be combined"):
        assign_harm(weighted, index=chi)


def test_harm_total_hand_checked(chi, css):
    df = pd.DataFrame({"offence_code": ["2", "8G", "8F"]})
    assert harm_total(assign_harm(df, index=css), index=css) == 4663.0 + 184.0 + 333.0
    df2 = pd.DataFrame({"offence_code": ["19C", "105A", "105A"]})
    assert harm_total(assign_harm(df2, index=chi), index=chi) == 2555.0 + 10.0 + 10.0


def test_harm_total_refuses_mixed_frames(chi, css):
    a = assign_harm(pd.DataFrame({"offence_code": ["2"]}), index=css)
    b = assign_harm(pd.DataFrame({"offence_code": ["19C"]}), index=chi)
    mixed = pd.concat([a, b], ignore_index=True)
    for idx in (css, chi):
        with pytest.raises(ParameterError, match="different indices cannot be combined"):
            harm_total(mixed, index=idx)


def test_harm_total_refuses_wrong_index(chi, css):
    a = assign_harm(pd.DataFrame({"offence_code": ["2"]}), index=css)
    with pytest.raises(ParameterError, match="cambridge_chi@.*ons_css@"):
        harm_total(a, index=chi)


def test_harm_total_refuses_other_version(tmp_path, css):
    text = css.source_file.read_text(encoding="utf-8").replace(css.version, "ons-css-test")
    p = tmp_path / "css2.toml"
    p.write_text(text, encoding="utf-8")
    other = load_harm_index(p)
    a = assign_harm(pd.DataFrame({"offence_code": ["2"]}), index=css)
    with pytest.raises(ParameterError, match="ons-css-test"):
        harm_total(a, index=other)


def test_harm_total_needs_recorded_index(css):
    with pytest.raises(ParameterError, match="no 'harm_index' column"):
        harm_total(pd.DataFrame({"harm_weight": [1.0]}), index=css)


def test_harm_total_refuses_missing_weights(css):
    a = assign_harm(pd.DataFrame({"offence_code": ["2", "nope"]}), index=css)
    with pytest.raises(ParameterError, match="1 of 2 records have no weight"):
        harm_total(a, index=css)


def test_check_single_index(chi, css):
    assert check_single_index([css, css.label, css]) == css.label
    with pytest.raises(ParameterError, match="different indices"):
        check_single_index([chi, css])
    with pytest.raises(ParameterError, match="no harm index given"):
        check_single_index([])


# --- config validation --------------------------------------------------------------------------------

HEAD = 'name = "ons_css"\nversion = "v"\nsource = "s"\ndate = "d"\nunits = "u"\n'


def write(tmp_path, text):
    p = tmp_path / "idx.toml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            HEAD + '[weights]\n"2" = { weight = 0, verified = true, approximate = false, basis = "b" }\n',
            r"\[weights\] '2': weight must be a positive number",
        ),
        (
            HEAD + '[weights]\n"2" = { weight = -3.0, verified = true, approximate = false, basis = "b" }\n',
            "weight must be a positive number",
        ),
        (
            HEAD + '[weights]\n"2" = { weight = nan, verified = true, approximate = false, basis = "b" }\n',
            "weight must be a positive number",
        ),
        (
            HEAD + '[weights]\n"2" = { weight = 1.0, approximate = false, basis = "b" }\n',
            "missing required key 'verified'",
        ),
        (
            HEAD + '[weights]\n"2" = { weight = 1.0, verified = true, approximate = false, basis = "b", x = 1 }\n',
            "unknown key 'x'",
        ),
        (
            HEAD + '[weights]\n"2" = { weight = 1.0, verified = true, approximate = false, basis = "b" }\n'
            '"02" = { weight = 2.0, verified = true, approximate = false, basis = "b" }\n',
            "duplicate code '2'",
        ),
        (
            HEAD + '[weights]\n"2" = { weight = 1.0, verified = true, approximate = true, placeholder = true, '
            'basis = "b" }\n',
            "a placeholder cannot be verified",
        ),
        (HEAD + "[weights]\n", r"\[weights\] is empty"),
        (HEAD.replace('units = "u"\n', "") + "[weights]\n", "missing required key 'units'"),
        (HEAD + "colour = 1\n[weights]\n", "unknown key 'colour'"),
    ],
)
def test_bad_index_tables(tmp_path, text, match):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError, match=match) as exc:
        load_harm_index(p)
    assert str(p) in str(exc.value)


def test_unknown_index_name():
    with pytest.raises(ConfigError, match="not a bundled index"):
        load_harm_index("home_office_harm")


def test_missing_index_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_harm_index(tmp_path / "nope.toml")
