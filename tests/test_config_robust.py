"""The config loader survives anything: a Config or a one-line ConfigError naming file, key and fix."""

from __future__ import annotations

import json
import math

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotspots.config import Config, check_inputs, config_to_dict, load_config
from hotspots.errors import ConfigError

BUNDLED = ROOT / "configs" / "avon-and-somerset.toml"

# A valid config as plain data; the property tests override parts of it.
BASE = {
    "force": {"name": "Test", "slug": "test"},
    "data": {"police_uk": ["puk"], "boundary": "b.geojson"},
    "grid": {"h3_resolution": 9},
    "time": {"nte_window": "Fri,Sat 21:00-06:00"},
    "fusion": {"source_weights": {"police_uk": 1.0, "rms": 1.0}, "venue_distance_m": 50.0},
    "disclosure": {"share": False, "threshold": 5},
}
SECTIONS = {
    "force": ["name", "slug", "security_classification", "handling"],
    "data": ["police_uk", "boundary", "local_authorities", "venues", "imd", "comparators", "population"],
    "grid": ["h3_resolution"],
    "offences": ["crime_types_of_interest", "definition_version"],
    "rms": ["files", "columns", "dayfirst", "synthetic"],
    "streetsafe": ["files", "columns", "keep_demographics", "synthetic"],
    "ae": ["files", "columns", "dayfirst", "synthetic"],
    "partnership": ["venues", "cctv", "street_lights", "incidents"],
    "time": ["nte_window"],
    "harm": ["index"],
    "fusion": ["source_weights", "venue_distance_m", "place_score", "place_score_value", "top_places", "kde"],
    "hotspots": ["top_places", "kde", "gi_star", "dbscan", "evaluation"],
    "trends": ["method", "k", "run_length", "yoy_months"],
    "disclosure": ["share", "release", "threshold", "handling"],
}


def _toml_value(v) -> str:
    """A value as TOML (basic strings via JSON escapes, which TOML shares)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"


def _toml(doc: dict) -> str:
    lines = [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for name, table in doc.items():
        if isinstance(table, dict):
            lines.append(f"[{json.dumps(name)}]")
            lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, 2, 5, 7, 9, 11, 12, 100, 101, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", "puk", "/nonexistent", "Fri 22:00-02:00", "ons_css", "OFFICIAL", "a-b", "-", "é"]),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.dictionaries(st.sampled_from(["police_uk", "rms", "id", "x", ""]) | st.text(max_size=8), scalars, max_size=3),
)
keys = st.one_of(st.sampled_from(sorted({k for ks in SECTIONS.values() for k in ks})), st.text(max_size=12))
overrides = st.lists(
    st.tuples(st.sampled_from([*SECTIONS, "extra"]) | st.text(max_size=8), keys, values, st.booleans()), max_size=5
)


def _mutate(edits) -> dict:
    doc = {k: dict(v) for k, v in BASE.items()}
    for section, key, value, delete in edits:
        table = doc.setdefault(section, {})
        if not isinstance(table, dict):
            continue
        if delete:
            table.pop(key, None)
        else:
            table[key] = value
    return doc


def _load_or_config_error(path):
    """The property: a Config with valid values, or a ConfigError naming the file on one line."""
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        msg = str(exc)
        assert str(path) in msg and "\n" not in msg and "\r" not in msg
        return None
    assert isinstance(cfg, Config)
    assert 7 <= cfg.grid.h3_resolution <= 11 and 2 <= cfg.disclosure.threshold <= 100
    assert all(math.isfinite(w) and w >= 0 for w in cfg.fusion.source_weights.values())
    assert 0 < cfg.fusion.venue_distance_m <= 1000 and cfg.data.police_uk
    h = cfg.hotspots
    assert 0 < h.kde.pixel_m <= h.kde.radius_m and 0 < h.gi_star.alpha < 0.5 and h.dbscan.min_samples >= 2
    assert 0 < h.evaluation.top_cells_share <= 0.5 and cfg.disclosure.release in ("partner", "publication")
    json.dumps(config_to_dict(cfg))  # echoable into outputs
    try:
        check_inputs(cfg)
    except ConfigError as exc:
        assert "\n" not in str(exc) and "Fix:" in str(exc)
    return cfg


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_give_config_or_config_error(tmp_path, data):
    p = tmp_path / "f.toml"
    p.write_bytes(data)
    _load_or_config_error(p)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=overrides)
def test_arbitrary_toml_documents_give_config_or_config_error(tmp_path, edits):
    p = tmp_path / "f.toml"
    p.write_text(_toml(_mutate(edits)), encoding="utf-8")
    _load_or_config_error(p)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.binary(max_size=40), cut=st.integers(min_value=0, max_value=4000))
def test_damaged_bundled_config_gives_config_or_config_error(tmp_path, prefix, cut):
    """The real config cut short or with junk in front: never anything but a Config or a ConfigError."""
    text = BUNDLED.read_bytes()
    p = tmp_path / "f.toml"
    p.write_bytes(prefix + text[:cut])
    _load_or_config_error(p)


def test_base_document_is_valid(tmp_path):
    """The generator's starting point loads, so the property tests explore near a valid config."""
    p = tmp_path / "f.toml"
    p.write_text(_toml(_mutate([])), encoding="utf-8")
    assert load_config(p).force.slug == "test"


@pytest.mark.parametrize(
    "data, match",
    [
        (b'[force]\nname = "Caf\xe9"\n', r"not UTF-8 text \(byte 0xe9 on line 2\); save it as UTF-8"),
        ("[force]\n".encode("utf-16"), "is UTF-16 text; save it as UTF-8"),
        (b"[force\n", "not valid TOML"),
        (b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "not valid TOML"),
        (b"x" * ((1 << 20) + 1), "too large for a force config"),
    ],
)
def test_unreadable_config_files_say_why(tmp_path, data, match):
    p = tmp_path / "f.toml"
    p.write_bytes(data)
    with pytest.raises(ConfigError, match=match):
        load_config(p)


def test_utf8_bom_is_accepted(tmp_path):
    p = tmp_path / "f.toml"
    p.write_bytes(b"\xef\xbb\xbf" + _toml(BASE).encode())
    assert load_config(p).force.name == "Test"


def test_folder_instead_of_config(tmp_path):
    with pytest.raises(ConfigError, match="is a folder, not a config file"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    "section, key, value, match",
    [
        (
            "fusion",
            "source_weights",
            {"police_uk": float("nan")},
            r"'fusion\.source_weights\.police_uk' must be a finite",
        ),
        ("fusion", "source_weights", {"police_uk": 0.0, "rms": 0.0}, "all 0"),
        ("fusion", "source_weights", {"polcie_uk": 1.0}, r"unknown key 'fusion\.source_weights\.polcie_uk'"),
        ("fusion", "venue_distance_m", float("inf"), "must be a finite number"),
        ("force", "slug", "caf\u00e9", "ASCII letters"),
        ("force", "slug", "a" * 65, "1-64"),
        ("force", "name", "  ", "must not be blank"),
        ("data", "boundary", "", "must be a path string"),
        ("data", "boundary", "a\u0000b", "must be a path string"),
        ("grid", "h3_resolution", 10**30, "must be 7-11"),
        ("disclosure", "threshold", 1.5, r"'disclosure\.threshold' must be int"),
        ("disclosure", "release", "public", r"disclosure\.release must be 'partner'"),
        ("disclosure", "handling", " ", r"disclosure\.handling must not be blank"),
        ("hotspots", "kde", {"radius_m": 50.0, "pixel_m": 100.0}, r"hotspots\.kde\.pixel_m \(100\) must not exceed"),
        ("hotspots", "kde", {"kernel": "gaussian"}, r"hotspots\.kde\.kernel must be one of quartic"),
        ("hotspots", "kde", {"radius_m": -1.0}, r"hotspots\.kde\.radius_m must be in \(0, 10000\] metres"),
        ("hotspots", "gi_star", {"alpha": 0.7}, r"hotspots\.gi_star\.alpha must be in \(0, 0\.5\)"),
        ("hotspots", "gi_star", {"k": 0}, r"hotspots\.gi_star\.k must be 1-10"),
        ("hotspots", "gi_star", {"fdr": "yes"}, r"'hotspots\.gi_star\.fdr' must be bool"),
        ("hotspots", "dbscan", {"min_samples": 1}, r"hotspots\.dbscan\.min_samples must be 2-100000"),
        ("hotspots", "dbscan", {"zoom": [1.0, 2.0, 0.0, 3.0]}, r"hotspots\.dbscan\.zoom must be \[xmin, ymin"),
        ("hotspots", "dbscan", {"epsilon": 1.0}, r"unknown key 'hotspots\.dbscan\.epsilon'"),
        ("hotspots", "evaluation", {"test_months": 0}, r"hotspots\.evaluation\.test_months must be 1-60"),
        ("hotspots", "evaluation", {"kde_top_share": 5.0}, r"hotspots\.evaluation\.kde_top_share must be a share"),
        ("hotspots", "kde", 3, r"\[hotspots\.kde\] must be a table"),
        ("fusion", "place_score", "max", r"fusion\.place_score must be 'share'"),
        ("fusion", "kde", {"pixel_m": 0.0}, r"fusion\.kde\.pixel_m must be in \(0, 1000\]"),
        ("trends", "method", "ewma", r"trends\.method must be 'sd'"),
        ("trends", "k", 0.0, r"trends\.k must be in \(0, 6\]"),
        ("data", "venues", ["v.csv", 3], r"'data\.venues\[1\]' must be a path string"),
    ],
)
def test_bad_values_name_the_key(tmp_path, section, key, value, match):
    p = tmp_path / "f.toml"
    p.write_text(_toml(_mutate([(section, key, value, False)])), encoding="utf-8")
    with pytest.raises(ConfigError, match=match) as info:
        load_config(p)
    assert "f.toml" in str(info.value) and "\n" not in str(info.value)


def test_long_values_are_shortened_in_messages(tmp_path):
    p = tmp_path / "f.toml"
    p.write_text(_toml(_mutate([("harm", "index", "x" * 5000, False)])), encoding="utf-8")
    with pytest.raises(ConfigError, match="harm.index") as info:
        load_config(p)
    assert len(str(info.value)) < 300


def test_check_inputs_lists_every_bad_input_and_returns_files(tmp_path):
    (tmp_path / "puk").mkdir()
    (tmp_path / "puk" / "2024-01-x-street.csv").write_text("Crime ID\n", encoding="utf-8")
    (tmp_path / "puk" / "notes.txt").write_text("x", encoding="utf-8")
    (tmp_path / "b.geojson").write_text("{}", encoding="utf-8")
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "nocsv").mkdir()
    good = tmp_path / "f.toml"
    good.write_text(_toml(BASE), encoding="utf-8")
    assert check_inputs(load_config(good)) == (tmp_path / "puk" / "2024-01-x-street.csv", tmp_path / "b.geojson")

    bad = _mutate(
        [
            ("data", "imd", "imd.csv", False),
            ("data", "comparators", ["nocsv"], False),
            ("data", "population", "puk", False),
            ("rms", "files", ["empty.csv"], False),
        ]
    )
    good.write_text(_toml(bad), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        check_inputs(load_config(good))
    msg = str(info.value)
    assert msg.startswith(f"{good}: 4 inputs cannot be used: ")
    for part in (
        f"data.imd = {tmp_path / 'imd.csv'} (not found)",
        f"data.comparators[0] = {tmp_path / 'nocsv'} (folder holds no .csv or .csv.gz file)",
        f"data.population = {tmp_path / 'puk'} (is a folder, not a file)",
        f"rms.files[0] = {tmp_path / 'empty.csv'} (is empty)",
        "Fix: correct the paths in the config",
    ):
        assert part in msg


def test_bundled_config_inputs_all_present():
    files = check_inputs(load_config(BUNDLED))
    assert len(files) > 22 and all(f.is_file() for f in files)
