"""Config loading: frozen dataclasses, unknown keys named with their file."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import ROOT

from hotspots.config import load_config
from hotspots.errors import ConfigError

GOOD = """
[force]
name = "Test"
slug = "test"
[data]
police_uk = ["puk"]
boundary = "b.geojson"
[grid]
h3_resolution = 10
"""


def _write(tmp_path, text):
    p = tmp_path / "force.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_bundled_config_loads_and_paths_exist():
    cfg = load_config(ROOT / "configs" / "avon-and-somerset.toml")
    assert cfg.grid.h3_resolution == 9
    assert "Violence and sexual offences" in cfg.offences.crime_types_of_interest
    assert all(p.exists() for p in cfg.data.police_uk) and cfg.data.boundary.exists()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.grid.h3_resolution = 10  # type: ignore[misc]


def test_relative_paths_resolve_against_config_folder(tmp_path):
    cfg = load_config(_write(tmp_path, GOOD))
    assert cfg.data.police_uk == (tmp_path / "puk",)
    assert cfg.grid.h3_resolution == 10


@pytest.mark.parametrize(
    "text, match",
    [
        (
            GOOD.replace("h3_resolution", "h3_resolutoin"),
            r"force\.toml: unknown key 'grid\.h3_resolutoin' \(did you mean 'h3_resolution'",
        ),
        (GOOD + "\n[colours]\nx = 1\n", r"force\.toml: unknown key 'colours'"),
        (GOOD.replace("h3_resolution = 10", "h3_resolution = 13"), r"h3_resolution must be 7-11"),
        (GOOD.replace("h3_resolution = 10", 'h3_resolution = "9"'), r"'grid\.h3_resolution' must be int"),
        (GOOD.replace('police_uk = ["puk"]', 'police_uk = "puk"'), r"'data\.police_uk' must be a list"),
        (GOOD.replace('slug = "test"\n', ""), r"missing required key 'force\.slug'"),
        (GOOD.replace("[force]", '[force]\nsecurity_classification = "SECRETISH"'), "must be one of"),
        ("[force\n", "not valid TOML"),
    ],
)
def test_bad_configs_name_key_and_file(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        load_config(_write(tmp_path, text))


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
