"""render_figures / figure_captions: every figure from the numbers alone, shared numbers drawn as shared."""

from __future__ import annotations

import ast
import dataclasses
import io
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from numbers_factory import make_numbers

import profiles.render.charts as charts
from profiles.render.figures import SECTIONS, FigureCaption, figure_captions, render_figures

RENDER = Path(__file__).resolve().parents[1] / "profiles" / "render"
MINE = ("figures.py", "charts.py", "staticmaps.py", "webmap.py")


@pytest.fixture(scope="module")
def numbers():
    return make_numbers(0)


@pytest.fixture(scope="module")
def figures(numbers):
    return render_figures(numbers)


def _texts(monkeypatch, draw) -> list[list[str]]:
    """The texts of every figure ``draw`` makes, one list per figure, read just before saving."""
    from matplotlib.text import Text

    seen: list[list[str]] = []
    save = charts._save

    def spy(fig, *a, **k):
        seen.append([t.get_text() for t in fig.findobj(Text)])
        return save(fig, *a, **k)

    monkeypatch.setattr(charts, "_save", spy)
    monkeypatch.setattr("profiles.render.staticmaps._save", spy)
    draw()
    return seen


def test_keys_captions_and_pngs(numbers, figures):
    caps = figure_captions(numbers)
    assert list(figures) == list(caps)  # same figures, same (report) order
    expected = {"trend", "kde", "gistar", "dbscan", "offence_mix", "harm", "puk_mix", "risky_facilities"}
    expected |= {f"weekday_hour_{s}" for s in numbers.when.weekday_hour}
    assert {k.removeprefix("figures/").removesuffix(".png") for k in figures} >= expected
    order = [SECTIONS.index(c.section) for c in caps.values()]
    assert order == sorted(order)
    for key, content in figures.items():
        assert key.startswith("figures/") and key.endswith(".png")
        assert isinstance(caps[key], FigureCaption) and caps[key].alt
        img = mpimg.imread(io.BytesIO(content))
        assert img.shape[0] > 300 and img.shape[1] > 600 and img[..., :3].var() > 0.001


def test_same_numbers_same_bytes(numbers, figures):
    assert render_figures(numbers) == figures


def test_marking_source_line_and_synthetic_stamp_on_every_figure(numbers, monkeypatch):
    texts = _texts(monkeypatch, lambda: render_figures(numbers))
    keys = list(figure_captions(numbers))
    assert len(texts) == len(keys)
    marking = numbers.meta.marking
    for key, t in zip(keys, texts, strict=True):
        assert t.count(marking) >= 2, key  # top and bottom
        names = ("police.uk", "RMS", "venues", "deprivation", *(sq.label for sq in numbers.sources))
        note = [x for x in t if any(name in x for name in names) and x not in (marking,)]
        assert note, f"{key}: no source line"
    synthetic = set(numbers.meta.synthetic_sources)
    for key, t in zip(keys, texts, strict=True):
        source = key.removeprefix("figures/weekday_hour_").removesuffix(".png")
        if key.startswith("figures/weekday_hour_") and source in synthetic:
            assert "SYNTHETIC DATA" in t, key
        if key in ("figures/trend.png", "figures/puk_mix.png", "figures/gistar.png"):
            assert "SYNTHETIC DATA" not in t, key  # police.uk is real open data


def test_only_figures_the_numbers_hold(numbers):
    what = dataclasses.replace(numbers.what, rms_mix=None, rms_harm=None)
    venues = dataclasses.replace(numbers.venues, risky=None)
    hs = dataclasses.replace(numbers.hotspots, kde=None, clusters=None, pai_curve=None)
    less = dataclasses.replace(numbers, what=what, venues=venues, hotspots=hs,
                               when=dataclasses.replace(numbers.when, weekday_hour={}))
    keys = set(render_figures(less))
    assert keys == set(figure_captions(less))
    assert not keys & {"figures/offence_mix.png", "figures/harm.png", "figures/risky_facilities.png",
                       "figures/kde.png", "figures/dbscan.png", "figures/pai_curve.png"}
    assert not any("weekday_hour" in k for k in keys)
    assert {"figures/trend.png", "figures/gistar.png", "figures/puk_mix.png"} <= keys


def test_withheld_values_are_drawn_as_c(numbers, monkeypatch):
    mix = numbers.what.police_uk_mix.astype(float).copy()
    mix.iloc[0] = np.nan
    shared = dataclasses.replace(
        numbers,
        disclosure=dataclasses.replace(numbers.disclosure, release="partner", threshold=10),
        what=dataclasses.replace(numbers.what, police_uk_mix=mix, rms_mix=None, rms_harm=None),
    )
    keys = list(figure_captions(shared))
    texts = dict(zip(keys, _texts(monkeypatch, lambda: render_figures(shared)), strict=True))
    assert "[c]" in texts["figures/puk_mix.png"]
    assert "n/a" not in texts["figures/puk_mix.png"]


def test_shared_numbers_render(numbers):
    shared_mod = pytest.importorskip("profiles.shared")
    shared = shared_mod.to_shared(numbers, 10)
    figs = render_figures(shared)
    assert list(figs) == list(figure_captions(shared))
    assert "figures/trend.png" in figs


def test_trend_months_as_text_and_gaps(numbers):
    monthly = numbers.trend.monthly.copy()
    monthly["available"] = monthly["available"].astype(bool)
    monthly.loc[monthly.index[2], "available"] = False
    n = dataclasses.replace(numbers, trend=dataclasses.replace(numbers.trend, monthly=monthly))
    assert render_figures(n)["figures/trend.png"] != render_figures(numbers)["figures/trend.png"]
    assert pd.api.types.is_string_dtype(monthly["month"]) or monthly["month"].map(type).eq(str).all()


@pytest.mark.parametrize("module", MINE)
def test_renderers_read_nothing_and_import_no_disclosure(module):
    tree = ast.parse((RENDER / module).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    banned = ("hotspots.disclosure", "profiles.shared", "hotspots.ingest", "hotspots.boundaries")
    assert not [m for m in imported if m.startswith(banned)]
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "open" not in calls


def test_callouts_never_overlap_and_keep_their_order():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from profiles.render.staticmaps import callout_positions

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.floats(0, 100), min_size=1, max_size=15))
    def check(ys):
        y = np.asarray(ys)
        pos = callout_positions(y, y0=0.0, y1=100.0, gap=5.0)
        order = np.argsort(y, kind="stable")
        p = pos[order]
        assert (np.diff(p) >= 5.0 - 1e-6).all()  # planted clusters of points: labels still 5 apart
        assert (p >= -1e-9).all() and (p <= 100 + 1e-9).all()

    check()


def test_towns_of_the_demo_lie_inside_the_force(demo_numbers):
    import shapely

    towns = demo_numbers.geography.towns
    area = demo_numbers.geography.boundary.iloc[0]
    assert {"Bristol", "Bath", "Taunton", "Weston-super-Mare"} <= set(towns["name"])
    assert shapely.contains_xy(area, towns["x"].to_numpy(), towns["y"].to_numpy()).all()
    assert "Mendip" not in set(towns["name"])  # a district, not a town
