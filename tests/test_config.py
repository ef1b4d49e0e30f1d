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


def test_analytic_defaults_are_the_values_the_profile_always_used(tmp_path):
    """No [hotspots]/[trends]/[fusion] section: today's literals (KDE 400/100 quartic, Gi* k=1 alpha 0.05 FDR,
    DBSCAN 100 m / 60, 6 test months, top 1% cells / 5% KDE area, surfaces 400/100, share place score)."""
    cfg = load_config(_write(tmp_path, GOOD))
    h = cfg.hotspots
    assert (h.kde.kernel, h.kde.radius_m, h.kde.pixel_m) == ("quartic", 400.0, 100.0)
    assert (h.gi_star.k, h.gi_star.alpha, h.gi_star.fdr) == (1, 0.05, True)
    assert (h.dbscan.eps_m, h.dbscan.min_samples, h.dbscan.zoom) == (100.0, 60, None)
    ev = h.evaluation
    assert (ev.test_months, ev.min_train_months, ev.top_cells_share, ev.kde_top_share) == (6, 6, 0.01, 0.05)
    assert (cfg.fusion.kde.radius_m, cfg.fusion.kde.pixel_m, cfg.fusion.place_score) == (400.0, 100.0, "share")
    assert (cfg.trends.method, cfg.trends.k, cfg.trends.run_length, cfg.trends.yoy_months) == ("sd", 2.0, 8, 12)
    assert (h.top_places, cfg.fusion.top_places) == (15, 20)


def test_bundled_config_states_the_defaults_and_the_bristol_zoom():
    cfg = load_config(ROOT / "configs" / "avon-and-somerset.toml")
    assert dataclasses.replace(cfg.hotspots.dbscan, zoom=None, zoom_name=None) == type(cfg.hotspots.dbscan)()
    assert cfg.hotspots.dbscan.zoom == (353000.0, 168000.0, 365000.0, 177500.0)
    assert cfg.hotspots.dbscan.zoom_name == "Bristol"
    assert cfg.hotspots.kde == type(cfg.hotspots.kde)() and cfg.hotspots.gi_star == type(cfg.hotspots.gi_star)()
    assert cfg.trends == type(cfg.trends)() and cfg.fusion == type(cfg.fusion)()


@pytest.mark.parametrize(
    "lines, release, threshold",
    [
        ("", "partner", 10),
        ('release = "publication"', "publication", 5),
        ('release = "partner"\nthreshold = 7', "partner", 7),
        ("threshold = 5", "partner", 5),  # the key configs already use keeps working
    ],
)
def test_disclosure_release_sets_the_default_threshold(tmp_path, lines, release, threshold):
    cfg = load_config(_write(tmp_path, GOOD + "[disclosure]\nshare = true\n" + lines + "\n"))
    assert (cfg.disclosure.release, cfg.disclosure.threshold) == (release, threshold)
    assert f"counts below {threshold} " in cfg.disclosure.shared_handling
    assert cfg.disclosure.shared_handling != cfg.force.handling


def test_every_parameter_is_echoed(tmp_path):
    from hotspots.config import config_to_dict

    text = GOOD + "[hotspots.kde]\nradius_m = 250.0\n[hotspots.dbscan]\nzoom = [1, 2, 3, 4]\n"
    d = config_to_dict(load_config(_write(tmp_path, text)))
    assert d["hotspots"]["kde"] == {"kernel": "quartic", "radius_m": 250.0, "pixel_m": 100.0}
    assert d["hotspots"]["dbscan"]["zoom"] == [1.0, 2.0, 3.0, 4.0]
    assert d["disclosure"] == {
        "share": False,
        "release": "partner",
        "threshold": 10,
        "handling": d["disclosure"]["handling"],
    }
    assert set(d) >= {"hotspots", "trends", "fusion", "disclosure"} and "kde" in d["fusion"]
