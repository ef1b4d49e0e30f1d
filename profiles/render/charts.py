"""Static charts for the problem profile: trends, bars, IMD deciles and the PAI curve.

Every chart carries a title, axis labels with units, a source line and the
security marking at the top and bottom (:func:`add_marking`), and reads in
greyscale: series differ by line style, marker and hatching in greys, never
by colour alone. Charts of synthetic data get a diagonal "SYNTHETIC DATA"
stamp. Every string passed in (titles, axis labels, category names,
legend entries, markings, source notes) is drawn through
:func:`profiles.escape.mpl_text`, so a ``$`` in a crime type, venue or force
name never starts mathtext.

Figures are built with :class:`matplotlib.figure.Figure` on the Agg canvas,
not through ``pyplot``: nothing global is changed (no ``matplotlib.use``),
no figure is left registered with pyplot, and each figure is released once
saved. Every chart function returns its PNG bytes (no date or software
version inside, so the same input gives the same bytes); the writer writes
them. A value withheld by disclosure control (None/NA in shared numbers) is
drawn as ``[c]``, never as zero.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hotspots.errors import ParameterError
from profiles.escape import mpl_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["add_marking", "bar_chart", "decile_chart", "pai_curve_chart", "trend_chart", "without_tex"]

INK = "#000000"
DARK = "#404040"
MID = "#808080"
LIGHT = "#c8c8c8"
PALE = "#ececec"
DPI = 150
SYNTHETIC_STAMP = "SYNTHETIC DATA"

_TOP_IN = 0.32  # space reserved for the top marking, inches
_LINE_IN = 0.15  # one line of the source note, inches
_SOURCE_PT = 7


# --------------------------------------------------------------------------- shared plumbing


def _figure(width_in: float, height_in: float) -> Figure:
    """A constrained-layout figure on an Agg canvas, outside pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _check_text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(f"{name} must be non-empty text, got {value!r}; e.g. {name}='OFFICIAL-SENSITIVE'")
    return value.strip()


def without_tex(fig: Figure) -> Figure:
    r"""Draw every text of ``fig`` without LaTeX, whatever the user's ``matplotlibrc`` says.

    With ``text.usetex`` on, matplotlib hands labels to LaTeX, where a name
    holding ``\input{...}`` would read a file; :func:`profiles.escape.mpl_text`
    covers mathtext only, so TeX is switched off for each text (nothing
    global changes). Call it just before saving.

    Examples
    --------
    >>> fig = _figure(3, 2)
    >>> t = fig.text(0.5, 0.5, "x", usetex=True)
    >>> without_tex(fig).texts[0].get_usetex()
    False
    """
    from matplotlib.text import Text

    for t in fig.findobj(Text):
        t.set_usetex(False)
    return fig


def _save(fig: Figure, fmt: str = "png", **savefig: Any) -> bytes:
    """The image of ``fig`` (PNG by default, or ``"svg"``/``"pdf"``) as bytes, then release it.

    No date or software version is written into the image, so the same
    numbers give the same bytes.
    """
    kw: dict[str, Any] = {"dpi": DPI, "facecolor": "white", **savefig}
    meta: dict[str, Any] = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    try:
        buf = io.BytesIO()
        without_tex(fig).savefig(buf, format=fmt, metadata=meta, **kw)
        return buf.getvalue()
    finally:
        fig.clear()  # release artists now; the figure was never registered with pyplot


def add_marking(fig: Figure, marking: str, source_note: str, *, synthetic: bool = False) -> Figure:
    """Print the security marking at top and bottom, the source line, and an optional synthetic stamp.

    Space is reserved in the figure's constrained layout, so the texts never
    overlap the axes and the saved image keeps the figure's size.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure using constrained layout (as every chart here does).
    marking : str
        Government Security Classification, e.g. ``"OFFICIAL-SENSITIVE"``;
        printed bold, centred, at the top and at the bottom.
    source_note : str
        Source and licence line, wrapped to the figure width, e.g. the
        police.uk credit "Contains public sector information licensed under
        the Open Government Licence v3.0".
    synthetic : bool, default False
        Stamp "SYNTHETIC DATA" diagonally across the figure and say so in
        the source line.

    Returns
    -------
    matplotlib.figure.Figure
        The same figure (texts added in place: this is a drawing helper).

    Raises
    ------
    ParameterError
        If ``marking`` is empty.

    Examples
    --------
    >>> fig = _figure(4, 3)
    >>> ax = fig.add_subplot()
    >>> fig = add_marking(fig, "OFFICIAL", "Source: data.police.uk", synthetic=True)
    >>> sorted(t.get_text() for t in fig.texts)  # doctest: +NORMALIZE_WHITESPACE
    ['OFFICIAL', 'OFFICIAL', 'SYNTHETIC DATA',
     'SYNTHETIC DATA: not real crimes. Source: data.police.uk']
    """
    marking = _check_text(marking, "marking")
    note = (source_note or "").strip()
    if synthetic:
        note = f"{SYNTHETIC_STAMP}: not real crimes. {note}".strip()
    width_in, height_in = fig.get_size_inches()
    chars = max(int((width_in - 0.25) * 72 / (_SOURCE_PT * 0.6)), 40)
    lines = textwrap.wrap(note, chars) if note else []
    bottom_in = 0.08 + _LINE_IN * len(lines) + 0.24
    if fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    engine: Any = fig.get_layout_engine()
    engine.set(rect=(0, bottom_in / height_in, 1, 1 - (bottom_in + _TOP_IN) / height_in))
    mark = mpl_text(marking)
    fig.text(0.5, 1 - 0.06 / height_in, mark, ha="center", va="top", fontsize=10, weight="bold", color=INK)
    fig.text(0.5, 0.05 / height_in, mark, ha="center", va="bottom", fontsize=10, weight="bold", color=INK)
    if lines:
        fig.text(0.01, 0.30 / height_in, mpl_text("\n".join(lines)), ha="left", va="bottom", fontsize=_SOURCE_PT,
                 color=DARK, linespacing=1.25)
    if synthetic:
        angle = math.degrees(math.atan(height_in / width_in))  # along the diagonal
        fig.text(0.5, 0.5, SYNTHETIC_STAMP, ha="center", va="center", rotation=angle,
                 fontsize=min(width_in, 2 * height_in) * 6.5, weight="bold", color=MID, alpha=0.28, zorder=100)
    return fig


def _wrap_title(title: str, fig: Figure, fontsize: float = 11) -> str:
    """The title wrapped to the figure's width (a long title is never cut off at the edge)."""
    chars = max(int(fig.get_size_inches()[0] * 72 / (fontsize * 0.58)), 30)
    return mpl_text(textwrap.fill(str(title), chars))


def _wrap_labels(labels: Sequence[object], width: int = 28) -> list[str]:
    return [mpl_text(textwrap.fill(str(v), width)) for v in labels]


def _legend_below(ax, fig: Figure, *, ncols: int, below_in: float = 0.62) -> None:
    """Legend under the x-axis label: placed in inches so constrained layout makes room for it."""
    from matplotlib.transforms import ScaledTranslation

    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=ncols, fontsize=7, frameon=False,
              bbox_transform=ax.transAxes + ScaledTranslation(0, -below_in, fig.dpi_scale_trans))


# --------------------------------------------------------------------------- trend chart


def _gaps(unavailable: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    out, i, n = [], 0, len(unavailable)
    while i < n:
        if unavailable[i]:
            j = i
            while j + 1 < n and unavailable[j + 1]:
                j += 1
            out.append((i, j))
            i = j + 1
        else:
            i += 1
    return out


def trend_chart(
    df: pd.DataFrame,
    *,
    title: str,
    marking: str,
    source_note: str,
    ylabel: str = "crimes recorded (count per month)",
    synthetic: bool = False,
    width_in: float = 8.0,
    height_in: float = 4.6,
) -> bytes:
    r"""Monthly counts with the centre line, control limits, signals and months without data.

    Parameters
    ----------
    df : DataFrame
        One series from :func:`hotspots.trends.control_limits` (``month``,
        ``count``, ``available``, ``mean``, ``lcl``, ``ucl``, ``signal``,
        ``run``) or from :func:`hotspots.trends.monthly_counts` (counts only;
        no limits are drawn). Months absent from ``df`` or with
        ``available=False`` are drawn as a hatched "no data" band, with a gap
        in the line: never as zero. A missing count in an available month
        (withheld for sharing) is a gap marked ``[c]``.
    title, marking, source_note : str
        Chart title, security marking and source line (see :func:`add_marking`).
    ylabel : str, default "crimes recorded (count per month)"
        Y-axis label with its unit.
    synthetic : bool, default False
        Stamp the chart "SYNTHETIC DATA".
    width_in, height_in : float
        Figure size in inches (150 dpi).

    Returns
    -------
    bytes
        The PNG image.

    Raises
    ------
    ParameterError
        If columns are missing, ``df`` has more than one row per month or
        no rows.

    Examples
    --------
    >>> from hotspots.trends import control_limits, monthly_counts
    >>> ev = pd.DataFrame({"month": ["2024-05"] * 9 + ["2024-06"] * 7 + ["2024-09"] * 8})
    >>> cl = control_limits(monthly_counts(ev, missing_months=["2024-07", "2024-08"]))
    >>> out = trend_chart(cl, title="VAWG crimes", marking="OFFICIAL", source_note="data.police.uk")
    >>> out[:4], len(out) > 10_000
    (b'\x89PNG', True)
    """
    if not isinstance(df, pd.DataFrame) or not {"month", "count"} <= set(df.columns):
        raise ParameterError(
            "df must be a DataFrame with 'month' and 'count'; pass control_limits(monthly_counts(...))"
        )
    if not isinstance(df["month"].dtype, pd.PeriodDtype):
        raise ParameterError("df['month'] must be period[M]; build df with hotspots.trends.monthly_counts")
    if not len(df):
        raise ParameterError("df has no rows; there is nothing to chart")
    if df["month"].duplicated().any():
        raise ParameterError("df has more than one row per month; chart one group at a time (df[df[by] == value])")
    marking = _check_text(marking, "marking")

    s = df.set_index(df["month"].dt.asfreq("M")).sort_index()
    span = pd.period_range(s.index.min(), s.index.max(), freq="M")
    s = s.reindex(span)
    has = s["count"].notna().to_numpy()
    covered = s["available"].fillna(False).to_numpy(bool) if "available" in s.columns else has
    available = has & covered
    withheld = covered & ~has  # a month with data whose count was withheld for sharing: "[c]", not "no data"
    y = pd.to_numeric(s["count"], errors="coerce").astype("Float64").to_numpy(float, na_value=np.nan)
    y = np.where(available, y, np.nan)
    x = np.arange(len(span))

    fig = _figure(width_in, height_in)
    ax = fig.add_subplot()
    top = float(np.nanmax(y)) if available.any() else 1.0
    if "ucl" in s.columns and s["ucl"].notna().any():
        top = max(top, float(s["ucl"].max()))
    for i in np.flatnonzero(withheld):
        ax.text(float(i), top * 0.04, "[c]", ha="center", va="bottom", fontsize=8, color=INK, zorder=3)
    if withheld.any():
        ax.plot([], [], ls="none", marker="$[c]$", ms=12, color=INK, label="count withheld for sharing")
    for n_gap, (i0, i1) in enumerate(_gaps(~available & ~withheld)):
        ax.axvspan(i0 - 0.5, i1 + 0.5, facecolor=PALE, edgecolor=MID, hatch="///", lw=0.0, zorder=0,
                   label="no data (month not published)" if n_gap == 0 else None)
        ax.text((i0 + i1) / 2, top * 0.5, "no data", rotation=90, ha="center", va="center", fontsize=8, color=INK,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5}, zorder=3)
    ax.plot(x, y, color=INK, lw=1.4, marker="o", ms=3.5, label="count", zorder=4)

    if {"mean", "lcl", "ucl"} <= set(s.columns) and s["mean"].notna().any():
        mean, lcl, ucl = (float(s[c].dropna().iloc[0]) for c in ("mean", "lcl", "ucl"))
        method = df.attrs.get("method")
        k = df.attrs.get("k")
        how = f" ({method}, {k:g} sd)" if method and k else ""
        ax.axhline(mean, color=DARK, ls="--", lw=1.1, label=f"mean of available months ({mean:,.1f})", zorder=2)
        ax.axhline(ucl, color=DARK, ls=":", lw=1.3, label=f"control limits{how}: {lcl:,.1f} to {ucl:,.1f}",
                   zorder=2)
        if lcl > 0:
            ax.axhline(lcl, color=DARK, ls=":", lw=1.3, zorder=2)
        if "run" in s.columns:
            in_run = s["run"].notna().to_numpy() & available
            if in_run.any():
                ax.plot(x[in_run], y[in_run], ls="none", marker="s", ms=9, mfc="none", mec=MID, mew=1.2,
                        label=f"run: {df.attrs.get('run_length', 8)}+ months on one side of the mean", zorder=5)
        if "signal" in s.columns:
            sig = s["signal"].to_numpy(object)
            for value, marker, face, lab in (("above", "^", INK, "above upper limit"),
                                             ("below", "v", "white", "below lower limit")):
                hit = np.array([v == value for v in sig]) & available
                if hit.any():
                    ax.plot(x[hit], y[hit], ls="none", marker=marker, ms=10, mfc=face, mec=INK, mew=1.3,
                            label=lab, zorder=6)

    step = 1 if len(span) <= 13 else 3 if len(span) <= 40 else 6 if len(span) <= 80 else 12
    ticks = x[::step]
    ax.set_xticks(ticks, [span[i].strftime("%b\n%Y") for i in ticks], fontsize=8)
    ax.set_xlim(-0.6, len(span) - 0.4)
    if top >= 1000:
        ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.set_ylim(0, top * 1.12 if top > 0 else 1)
    ax.set_xlabel("month")
    ax.set_ylabel(mpl_text(ylabel))
    ax.set_title(_wrap_title(title, fig), fontsize=11)
    ax.grid(axis="y", color=LIGHT, lw=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    _legend_below(ax, fig, ncols=3)
    add_marking(fig, marking, source_note, synthetic=synthetic)
    return _save(fig)


# --------------------------------------------------------------------------- bar chart


def _format_values(values: np.ndarray, value_format: str | None, missing: str = "n/a") -> list[str]:
    finite = values[np.isfinite(values)]
    if value_format is None:
        whole = np.allclose(finite, np.round(finite)) if len(finite) else True
        value_format = "{:,.0f}" if whole else "{:,.1f}"
    return [value_format.format(v) if np.isfinite(v) else missing for v in values]


def bar_chart(
    series: pd.Series,
    *,
    title: str,
    xlabel: str,
    marking: str,
    source_note: str,
    synthetic: bool = False,
    ylabel: str | None = None,
    value_format: str | None = None,
    missing_label: str = "n/a",
    width_in: float = 7.5,
    fmt: str = "png",
) -> bytes:
    r"""Horizontal bars with value labels: offence mix, harm by group.

    Parameters
    ----------
    series : Series
        Values indexed by category, drawn top to bottom in the given order
        (sort first for a ranking). Missing values get no bar and the label
        ``missing_label``; negative values are drawn leftwards.
    title : str
        Chart title.
    xlabel : str
        Value-axis label with its unit, e.g. ``"crimes (count, 12 months)"``.
    marking, source_note : str
        See :func:`add_marking`.
    synthetic : bool, default False
        Stamp the chart "SYNTHETIC DATA".
    ylabel : str, optional
        Category-axis label; default ``series.index.name``.
    value_format : str, optional
        Format for value labels, e.g. ``"{:.1%}"``; default thousands
        separators, no decimals for whole numbers and one otherwise.
    missing_label : str, default "n/a"
        Label of a missing value (``"[c]"`` for a value withheld for sharing).
    width_in : float, default 7.5
        Figure width in inches; the height grows with the number of bars.
    fmt : str, default "png"
        Image format (``"svg"`` for a vector chart).

    Returns
    -------
    bytes
        The image (PNG unless ``fmt`` says otherwise).

    Raises
    ------
    ParameterError
        If ``series`` is empty or not numeric, or the folder does not exist.

    Examples
    --------
    >>> mix = pd.Series({"Stalking": 412, "Rape": 128, "Controlling behaviour": 96}, name="crimes")
    >>> out = bar_chart(mix, title="Offence mix", xlabel="crimes (count)", marking="OFFICIAL",
    ...                 source_note="Force RMS extract", synthetic=True)
    >>> out[:4]
    b'\x89PNG'
    """
    if not isinstance(series, pd.Series) or series.empty:
        raise ParameterError("series must be a non-empty pandas Series of values indexed by category")
    values = pd.to_numeric(series, errors="coerce").astype("Float64").to_numpy(float, na_value=np.nan)
    if np.isnan(values).all() and missing_label == "n/a":
        raise ParameterError("series has no numeric values; pass counts or totals per category")
    marking = _check_text(marking, "marking")

    from matplotlib.ticker import MaxNLocator

    n = len(values)
    names = _wrap_labels(list(series.index))
    lines = max(name.count("\n") + 1 for name in names)
    fig = _figure(width_in, 1.9 + n * max(0.32, 0.1 + 0.15 * lines))
    ax = fig.add_subplot()
    pos = np.arange(n)[::-1]
    bars = ax.barh(pos, np.nan_to_num(values), height=0.65, color=MID, edgecolor=INK, lw=0.6)
    labels = _format_values(values, value_format, mpl_text(missing_label))
    ax.bar_label(bars, labels=labels, padding=3, fontsize=8)
    ax.set_yticks(pos, names, fontsize=8)
    known = values[np.isfinite(values)]
    if len(known) and np.abs(known).max() >= 1000:
        ax.xaxis.set_major_formatter("{x:,.0f}")  # thousands separators, as in the value labels
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # long labels: fewer ticks, never overlapping
    lo, hi = min(float(known.min()) if len(known) else 0.0, 0.0), max(float(known.max()) if len(known) else 1.0, 0.0)
    spread = hi - lo or 1.0
    ax.set_xlim(lo - (0.15 * spread if lo < 0 else 0), hi + 0.15 * spread)
    ax.set_xlabel(mpl_text(xlabel))
    ax.set_ylabel(mpl_text(ylabel if ylabel is not None else str(series.index.name or "")))
    ax.set_title(_wrap_title(title, fig), fontsize=11)
    ax.grid(axis="x", color=LIGHT, lw=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    add_marking(fig, marking, source_note, synthetic=synthetic)
    return _save(fig, fmt)


# --------------------------------------------------------------------------- IMD deciles


def _decile_shares(values: object, name: str) -> np.ndarray:
    if isinstance(values, pd.Series):
        idx = pd.to_numeric(pd.Series(values.index), errors="coerce")
        if idx.isna().any() or not set(idx.astype(int)) <= set(range(1, 11)):
            raise ParameterError(f"{name} must be indexed by IMD decile 1..10; got index {list(values.index)[:5]}")
        values = values.set_axis(idx.astype(int).to_numpy()).reindex(range(1, 11), fill_value=0.0)
    a = np.asarray(values, dtype=float)
    if a.shape != (10,):
        raise ParameterError(f"{name} must have one share per IMD decile 1..10 (10 values); got shape {a.shape}")
    if not np.isfinite(a).all() or (a < 0).any() or (a > 1).any():
        raise ParameterError(f"{name} must be shares between 0 and 1; divide counts by their total")
    if abs(a.sum() - 1) > 0.01:
        raise ParameterError(f"{name} sums to {a.sum():.3f}, not 1; pass shares (counts divided by their total)")
    return a


def decile_chart(
    hotspot_share: pd.Series | Sequence[float],
    force_share: pd.Series | Sequence[float],
    *,
    title: str,
    marking: str,
    source_note: str,
    synthetic: bool = False,
    hotspot_label: str = "hotspot LSOAs",
    force_label: str = "all LSOAs in the force",
    ylabel: str = "share of LSOAs (%)",
    width_in: float = 8.0,
    height_in: float = 4.6,
) -> bytes:
    r"""Share of hotspot LSOAs in each IMD decile beside the force's own distribution.

    Parameters
    ----------
    hotspot_share, force_share : Series or sequence of float, length 10
        Share (0-1, summing to 1) of LSOAs in national IMD deciles 1 (most
        deprived 10 %) to 10 (least deprived). A Series is read by its
        decile index (1..10; absent deciles are 0).
    title, marking, source_note : str
        See :func:`add_marking`.
    synthetic : bool, default False
        Stamp the chart "SYNTHETIC DATA".
    ylabel : str, default "share of LSOAs (%)"
        What the shares are of, e.g. ``"share of crimes (%)"`` for event shares.
    hotspot_label, force_label : str
        Legend entries (add counts, e.g. ``"hotspot LSOAs (n = 42)"``).
    width_in, height_in : float
        Figure size in inches.

    Returns
    -------
    bytes
        The PNG image.

    Raises
    ------
    ParameterError
        If a distribution does not have 10 shares in [0, 1] summing to 1,
        or the folder does not exist.

    Examples
    --------
    >>> hot = [0.3, 0.2, 0.15, 0.1, 0.08, 0.06, 0.04, 0.03, 0.02, 0.02]
    >>> decile_chart(hot, [0.1] * 10, title="Deprivation", marking="OFFICIAL",
    ...              source_note="MHCLG English Indices of Deprivation 2019")[:4]
    b'\x89PNG'
    """
    hot = _decile_shares(hotspot_share, "hotspot_share")
    force = _decile_shares(force_share, "force_share")
    marking = _check_text(marking, "marking")

    fig = _figure(width_in, height_in)
    ax = fig.add_subplot()
    x = np.arange(1, 11)
    w = 0.4
    ax.bar(x - w / 2, hot * 100, w, color=DARK, edgecolor=INK, hatch="///", lw=0.6, label=mpl_text(hotspot_label))
    ax.bar(x + w / 2, force * 100, w, color="white", edgecolor=INK, hatch="..", lw=0.6, label=mpl_text(force_label))
    names = {1: "1\nmost\ndeprived", 10: "10\nleast\ndeprived"}
    ax.set_xticks(x, [names.get(int(i), str(i)) for i in x], fontsize=8)
    ax.set_xlabel("Index of Multiple Deprivation decile (national ranking of LSOAs)")
    ax.set_ylabel(mpl_text(ylabel))
    ax.set_ylim(0, max(hot.max(), force.max()) * 100 * 1.15)
    ax.set_title(_wrap_title(title, fig), fontsize=11)
    ax.grid(axis="y", color=LIGHT, lw=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="best", fontsize=8, framealpha=0.9, edgecolor=LIGHT)
    add_marking(fig, marking, source_note, synthetic=synthetic)
    return _save(fig)


# --------------------------------------------------------------------------- PAI curve


def pai_curve_chart(
    curve: pd.DataFrame,
    *,
    title: str,
    marking: str,
    source_note: str,
    synthetic: bool = False,
    width_in: float = 7.0,
    height_in: float = 6.0,
) -> bytes:
    r"""Hit rate and Predictive Accuracy Index against the share of the area flagged as hotspot.

    Two panels share the x axis (share of area, %, log scale when the
    shares span a factor of 8 or more): the hit rate against the line of a
    random choice (hit rate = area share), and the PAI against 1 (no better
    than random).

    Parameters
    ----------
    curve : DataFrame
        From :func:`hotspots.evaluation.pai_curve`: ``area_share``,
        ``hit_rate`` and ``pai`` (shares 0-1). Rows with a missing PAI are
        skipped.
    title, marking, source_note : str
        See :func:`add_marking`.
    synthetic : bool, default False
        Stamp the chart "SYNTHETIC DATA".
    width_in, height_in : float
        Figure size in inches.

    Returns
    -------
    bytes
        The PNG image.

    Raises
    ------
    ParameterError
        If columns are missing, no row has a finite PAI, or the folder does
        not exist.

    Examples
    --------
    >>> from hotspots.evaluation import pai_curve
    >>> c = pai_curve([9, 5, 1, 0], [6, 2, 1, 1], [5, 1, 2, 2], [1, 1, 1, 1], shares=[0.25, 0.5])
    >>> pai_curve_chart(c, title="KDE hotspots, test year", marking="OFFICIAL", source_note="data.police.uk")[:4]
    b'\x89PNG'
    """
    need = {"area_share", "hit_rate", "pai"}
    if not isinstance(curve, pd.DataFrame) or not need <= set(curve.columns):
        raise ParameterError("curve must be a DataFrame with area_share, hit_rate and pai; pass pai_curve(...)")
    c = curve[list(need)].apply(pd.to_numeric, errors="coerce")
    c = c[np.isfinite(c).all(axis=1) & (c["area_share"] > 0)].sort_values("area_share")
    if c.empty:
        raise ParameterError("curve has no row with a finite PAI and area_share > 0; nothing to chart")
    marking = _check_text(marking, "marking")

    share = c["area_share"].to_numpy() * 100
    hit = c["hit_rate"].to_numpy() * 100
    pai = c["pai"].to_numpy()
    fig = _figure(width_in, height_in)
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    log = share.max() / share.min() >= 8
    ref = np.geomspace(share.min(), share.max(), 50) if log else np.linspace(share.min(), share.max(), 50)
    ax1.plot(share, hit, color=INK, marker="o", ms=5, lw=1.5, label="hotspots")
    ax1.plot(ref, ref, color=MID, ls="--", lw=1.1, label="random choice (hit rate = area share)")
    ax1.set_ylabel("hit rate: share of\ntest-period crimes (%)")
    ax1.set_ylim(0, max(hit.max(), share.max()) * 1.15)
    ax1.legend(loc="upper left", fontsize=8, frameon=False)
    ax1.set_title(_wrap_title(title, fig), fontsize=11)
    ax2.plot(share, pai, color=INK, marker="s", ms=5, lw=1.5, label="PAI")
    ax2.axhline(1, color=MID, ls="--", lw=1.1, label="PAI = 1 (no better than random)")
    for xi, yi in zip(share, pai, strict=True):
        ax2.annotate(f"{yi:.1f}", (xi, yi), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
    ax2.set_ylabel("PAI (hit rate / area share)")
    ax2.set_ylim(0, max(pai.max(), 1) * 1.2)
    ax2.legend(loc="upper right", fontsize=8, frameon=False)
    ax2.set_xlabel("share of the force area flagged as hotspot (%)")
    for ax in (ax1, ax2):
        if log:
            ax.set_xscale("log")
        ax.grid(color=LIGHT, lw=0.6)
        ax.spines[["top", "right"]].set_visible(False)
    ax2.set_xticks(share, [f"{v:.3g}" for v in np.round(share, 1)])
    ax2.minorticks_off()
    ax1.minorticks_off()
    add_marking(fig, marking, source_note, synthetic=synthetic)
    return _save(fig)


def briefing_map(boundary: Sequence[Any], local_authorities: Sequence[dict], places: pd.DataFrame, *,
                 marking: str, title: str, source_note: str, synthetic: bool = False) -> bytes:
    """A4-width map for a patrol briefing: force and local-authority outlines, the places numbered by rank.

    ``boundary`` and each authority's ``path`` are lng/lat rings; ``places`` has ``rank``, ``lng``, ``lat``.
    The view is the places' extent (with a margin), so a city-centre list is readable.
    """
    fig = _figure(7.2, 5.6)
    ax = fig.add_subplot()
    for la in local_authorities:
        for ring in la["path"]:
            xy = np.asarray(ring)
            ax.plot(xy[:, 0], xy[:, 1], color="#999999", lw=0.6)
    for ring in boundary:
        xy = np.asarray(ring)
        ax.plot(xy[:, 0], xy[:, 1], color="#333333", lw=1.2)
    if len(places):
        x, y = places["lng"].to_numpy(float), places["lat"].to_numpy(float)
        ax.scatter(x, y, s=120, color="#b35806", edgecolor="black", zorder=3)
        for r, xi, yi in zip(places["rank"], x, y, strict=True):
            ax.annotate(str(int(r)), (xi, yi), ha="center", va="center", fontsize=7, color="white",
                        fontweight="bold", zorder=4)
        pad_x = max(float(np.ptp(x)) * 0.15, 0.01)
        pad_y = max(float(np.ptp(y)) * 0.15, 0.007)
        ax.set_xlim(x.min() - pad_x, x.max() + pad_x)
        ax.set_ylim(y.min() - pad_y, y.max() + pad_y)
        for la in local_authorities:
            if x.min() - pad_x < la["lng"] < x.max() + pad_x and y.min() - pad_y < la["lat"] < y.max() + pad_y:
                ax.annotate(mpl_text(la["name"]), (la["lng"], la["lat"]), fontsize=7, color="#555555")
    ax.set_aspect(1 / math.cos(math.radians(float(places["lat"].mean()) if len(places) else 51.5)))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(mpl_text(title), fontsize=10)
    add_marking(fig, marking, source_note, synthetic=synthetic)
    return _save(fig)
