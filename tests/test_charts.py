"""Charts write readable, non-blank images with marking and source line; bad inputs fail with the fix."""

from __future__ import annotations

import io

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from hotspots.errors import ParameterError
from hotspots.evaluation import pai_curve
from hotspots.trends import control_limits, monthly_counts
from profiles.render.charts import DPI, add_marking, bar_chart, decile_chart, pai_curve_chart, trend_chart

NOTE = "Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk)."
MISSING = ["2024-07", "2024-08"]


def _counts(n_months=24, missing=MISSING, seed=1):
    rng = np.random.default_rng(seed)
    months = pd.period_range("2023-01", periods=n_months, freq="M")
    n = rng.poisson(30, size=n_months)
    n[3] = 70  # a signal above the upper limit
    ev = pd.DataFrame({"month": np.repeat(months, n)})
    return control_limits(monthly_counts(ev, missing_months=missing))


def _img(content: bytes):
    assert isinstance(content, bytes) and content[:8] == b"\x89PNG\r\n\x1a\n"
    return mpimg.imread(io.BytesIO(content))


def _check_png(content, *, width_in, min_height_in=2.0):
    img = _img(content)
    assert img.ndim == 3 and img.shape[2] in (3, 4)
    h, w = img.shape[:2]
    assert w == pytest.approx(width_in * DPI, abs=2)  # saved at the figure's size, not cropped
    assert min_height_in * DPI <= h <= 12 * DPI
    rgb = img[..., :3]
    assert rgb.var() > 0.005  # not blank
    assert (rgb < 0.95).mean() > 0.01  # not all white
    # greyscale-safe: every pixel is a grey (R = G = B), so nothing relies on colour
    assert np.abs(rgb[..., 0] - rgb[..., 1]).max() < 0.02 and np.abs(rgb[..., 1] - rgb[..., 2]).max() < 0.02
    return img


def test_trend_chart_with_missing_month_gap(tmp_path):
    cl = _counts()
    assert cl["signal"].eq("above").any() and (~cl["available"]).sum() == 2
    out = trend_chart(cl, title="VAWG crimes per month", marking="OFFICIAL-SENSITIVE",
                      source_note=NOTE)
    _check_png(out, width_in=8.0)


def test_trend_chart_counts_only_synthetic_and_long_series(tmp_path):
    ev = pd.DataFrame({"month": pd.period_range("2019-01", periods=70, freq="M").repeat(3)})
    counts = monthly_counts(ev, missing_months=MISSING)
    out = trend_chart(counts, title="t", marking="OFFICIAL", source_note=NOTE, synthetic=True)
    _check_png(out, width_in=8.0)


def test_trend_chart_gap_at_the_end_and_rows_absent(tmp_path):
    cl = _counts(n_months=20)  # the series ends in the missing months
    assert not cl["available"].iloc[-1]
    _check_png(trend_chart(cl, title="t", marking="OFFICIAL", source_note=NOTE), width_in=8)
    holes = cl.drop(index=[5, 6])  # months absent from the frame are drawn as "no data" too
    _check_png(trend_chart(holes, title="t", marking="OFFICIAL", source_note=NOTE), width_in=8)


def test_bar_chart(tmp_path):
    mix = pd.Series({"Stalking": 412, "Rape": 128, "Controlling or coercive behaviour in a relationship": 96,
                     "Exposure": np.nan})
    out = bar_chart(mix, title="Offence mix", xlabel="crimes (count, 12 months)",
                    marking="OFFICIAL", source_note=NOTE, synthetic=True)
    _check_png(out, width_in=7.5)
    out = bar_chart(pd.Series({"a": 0.25, "b": 0.5}), title="Share", xlabel="share (%)",
                    marking="OFFICIAL", source_note="", value_format="{:.0%}")
    _check_png(out, width_in=7.5, min_height_in=1.5)


def test_bar_chart_grows_with_bars(tmp_path):
    few = bar_chart(pd.Series({"a": 1, "b": 2}), title="t", xlabel="n (count)",
                    marking="OFFICIAL", source_note=NOTE)
    many = bar_chart(pd.Series({f"group {i}": i for i in range(20)}), title="t",
                     xlabel="n (count)", marking="OFFICIAL", source_note=NOTE)
    assert _img(many).shape[0] > _img(few).shape[0] + 3 * DPI


def test_decile_chart(tmp_path):
    hot = pd.Series([0.3, 0.2, 0.15, 0.1, 0.08, 0.06, 0.04, 0.03, 0.02, 0.02], index=range(1, 11))
    out = decile_chart(hot, [0.1] * 10, title="IMD", marking="OFFICIAL", source_note=NOTE)
    _check_png(out, width_in=8.0)
    # a Series missing a decile is read by its index (absent decile = 0)
    sparse = pd.Series({1: 0.5, 2: 0.5})
    _check_png(decile_chart(sparse, [0.1] * 10, title="IMD", marking="OFFICIAL",
                            source_note=NOTE), width_in=8.0)


def test_pai_curve_chart(tmp_path):
    rng = np.random.default_rng(0)
    score = rng.gamma(0.5, size=500)
    curve = pai_curve(score, rng.poisson(score * 2), rng.poisson(score * 2), np.ones(500))
    out = pai_curve_chart(curve, title="PAI", marking="OFFICIAL", source_note=NOTE,
                          synthetic=True)
    _check_png(out, width_in=7.0)
    linear = pai_curve([9, 5, 1, 0], [6, 2, 1, 1], [5, 1, 2, 2], [1, 1, 1, 1], shares=[0.25, 0.5])
    _check_png(pai_curve_chart(linear, title="PAI", marking="OFFICIAL", source_note=NOTE),
               width_in=7.0)


def test_add_marking_texts_and_synthetic_stamp():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    fig.add_subplot()
    add_marking(fig, "OFFICIAL-SENSITIVE", NOTE)
    texts = [t.get_text() for t in fig.texts]
    assert texts.count("OFFICIAL-SENSITIVE") == 2
    assert any("Open Government Licence" in t for t in texts)
    assert not any("SYNTHETIC" in t for t in texts)
    fig = Figure(figsize=(6, 4))  # no layout engine: one is set
    fig.add_subplot()
    add_marking(fig, "OFFICIAL", NOTE, synthetic=True)
    assert sum("SYNTHETIC DATA" in t.get_text() for t in fig.texts) == 2  # the stamp and the source line


def test_charts_leave_no_pyplot_figures_open(tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    trend_chart(_counts(), title="t", marking="OFFICIAL", source_note=NOTE)
    bar_chart(pd.Series({"a": 1}), title="t", xlabel="n", marking="OFFICIAL", source_note=NOTE)
    assert plt.get_fignums() == before


def test_charts_do_not_mutate_inputs(tmp_path):
    cl = _counts()
    before = cl.copy()
    trend_chart(cl, title="t", marking="OFFICIAL", source_note=NOTE)
    pd.testing.assert_frame_equal(cl, before)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: trend_chart(pd.DataFrame({"x": [1]}), title="t", marking="O", source_note=""), "'month'"),
        (lambda: trend_chart(_counts(), title="t", marking="", source_note=""), "marking must be non-empty"),
        (lambda: trend_chart(pd.concat([_counts(), _counts()]), title="t", marking="O", source_note=""),
         "one row per month"),
        (lambda: bar_chart(pd.Series(dtype=float), title="t", xlabel="x", marking="O", source_note=""),
         "non-empty"),
        (lambda: decile_chart([0.1] * 9, [0.1] * 10, title="t", marking="O", source_note=""),
         "hotspot_share must have one share per IMD decile"),
        (lambda: decile_chart([10] * 10, [0.1] * 10, title="t", marking="O", source_note=""),
         "divide counts by their total"),
        (lambda: decile_chart([0.1] * 10, [0.2] * 10, title="t", marking="O", source_note=""),
         "force_share sums to 2.000"),
        (lambda: decile_chart(pd.Series({0: 1.0}), [0.1] * 10, title="t", marking="O", source_note=""),
         "indexed by IMD decile"),
        (lambda: pai_curve_chart(pd.DataFrame({"pai": [1]}), title="t", marking="O", source_note=""),
         "area_share, hit_rate and pai"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_same_input_same_bytes_and_no_date_inside():
    a = trend_chart(_counts(), title="t", marking="OFFICIAL", source_note=NOTE)
    b = trend_chart(_counts(), title="t", marking="OFFICIAL", source_note=NOTE)
    assert a == b
    assert b"Software" not in a and b"matplotlib" not in a.lower()


def _texts(monkeypatch, draw) -> list[str]:
    """Every text of the figure ``draw`` makes, read just before it is saved."""
    from matplotlib.text import Text

    import profiles.render.charts as charts

    seen: list[str] = []
    save = charts._save

    def spy(fig, *a, **k):
        seen.extend(t.get_text() for t in fig.findobj(Text))
        return save(fig, *a, **k)

    monkeypatch.setattr(charts, "_save", spy)
    draw()
    return seen


def test_withheld_values_drawn_as_c_not_zero(monkeypatch):
    cl = _counts()
    cl.loc[2, "count"] = pd.NA  # an available month whose count was withheld for sharing
    texts = _texts(monkeypatch, lambda: trend_chart(cl, title="t", marking="OFFICIAL", source_note=NOTE))
    assert texts.count("[c]") == 1 and "count withheld for sharing" in texts
    assert texts.count("no data") == 1  # one band for the two unpublished months; the withheld month is not one
    mix = pd.Series({"a": 12.0, "b": np.nan})
    texts = _texts(monkeypatch, lambda: bar_chart(mix, title="t", xlabel="n", marking="OFFICIAL", source_note=NOTE,
                                                  missing_label="[c]"))
    assert "[c]" in texts and "12" in texts and "n/a" not in texts
