"""to_shared: no small count anywhere, none recoverable by an LP attacker, derived values included.

Protection criterion (the same as hotspots.disclosure's audit, checked here by an independent attacker):
for every withheld count with true value v, over the non-negative integers consistent with everything
published, (a) its range holds more than one value (max - min >= 1), and (b) when 1 <= v <= k-1 its
maximum is at least k, so a reader can never learn the count, nor that it is small.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numbers_factory import SOURCES, make_numbers, profile_params
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from hotspots.disclosure import suppress_table
from hotspots.errors import ParameterError
from profiles.numbers import ProfileNumbers
from profiles.shared import to_shared

ROOT = Path(__file__).resolve().parent.parent

# --- walking everything published -----------------------------------------------------------------------

# integer columns that are not counts of events: ranks, ids, bins, deciles, calendar labels
NOT_COUNTS = {"rank", "place_rank", "risk_rank", "venue_rank", "cluster_id", "gi_bin", "imd_decile", "n_sources",
              "hour", "weekday", "month", "n_cells", "dbscan_cluster", "venue_id", "source_line"}
# numeric columns that hold counts whatever their dtype (aoristic counts are floats in restricted numbers)
COUNT_NAMES = {"count", "n_events", "events", "crime_within", "ae_within", "nearest_nte", "incidents",
               "n_test_hot", "n_test", "perception_count", "recorded_count", "cum_incidents"}
# scalar fields that count events (others, e.g. top_cells, count cells or venues)
COUNT_FIELDS = {"total", "rows_read", "rows_accepted", "rows_quarantined", "no_coordinates", "n_events",
                "n_events_near", "n_events_outside", "n_other", "n_other_near", "n_hotspot_events",
                "n_other_events", "n_unmatched_events", "n_recoded_events", "last_count", "recent", "previous",
                "top_count"}


def _is_count_col(name: object, s: pd.Series) -> bool:
    name = str(name)
    if name in NOT_COUNTS or name.endswith(("_rank", "_share", "_pct", "_ratio", "_score")):
        return False
    if name in COUNT_NAMES or name.endswith(("_count", "_within", "_nearest", "_nte")):
        return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    return pd.api.types.is_integer_dtype(s) and not pd.api.types.is_bool_dtype(s)


def published_counts(obj, path="numbers", out=None):
    """Every published count in ``obj`` as (path, value), walking dataclasses, mappings, frames and series."""
    out = [] if out is None else out
    if isinstance(obj, pd.DataFrame):
        is_table = all(isinstance(c, int | np.integer) for c in obj.columns)  # weekday x hour: every cell counts
        for col in obj.columns:
            s = obj[col]
            if isinstance(s, pd.DataFrame):
                continue
            if is_table or _is_count_col(col, s):
                vals = pd.to_numeric(s, errors="coerce").dropna()
                out += [(f"{path}[{col!r}]", float(v)) for v in vals]
    elif isinstance(obj, pd.Series):
        if pd.api.types.is_numeric_dtype(obj) and not pd.api.types.is_bool_dtype(obj) and obj.name != "harm":
            out += [(f"{path}[{i!r}]", float(v)) for i, v in obj.dropna().items()]
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            v = getattr(obj, f.name)
            if f.name in COUNT_FIELDS and isinstance(v, int | float | np.number) and not isinstance(v, bool):
                out.append((f"{path}.{f.name}", float(v)))
            elif f.name not in ("meta", "disclosure", "kde", "kde_recorded", "perception_raster", "geography"):
                published_counts(v, f"{path}.{f.name}", out)
    elif isinstance(obj, Mapping):
        for key, v in obj.items():
            if isinstance(v, int | float | np.number) and not isinstance(v, bool):
                if "quarantined_by_reason" in path or str(key) in COUNT_FIELDS:
                    out.append((f"{path}[{key!r}]", float(v)))
            else:
                published_counts(v, f"{path}[{key!r}]", out)
    elif isinstance(obj, tuple | list):
        for i, v in enumerate(obj):
            published_counts(v, f"{path}[{i}]", out)
    return out


def small_published(numbers: ProfileNumbers, k: int) -> list[tuple[str, float]]:
    return [(p, v) for p, v in published_counts(numbers) if 1 <= v < k]


def test_the_walker_finds_small_counts_in_restricted_numbers():
    # the walker is only a check if it can fail: restricted numbers are full of small counts
    found = small_published(make_numbers(1), 10)
    paths = {p.split("[")[0] for p, _ in found}
    for part in ("numbers.fused.grids", "numbers.fused.places", "numbers.threats.table", "numbers.venues.risk",
                 "numbers.hotspots.counts", "numbers.when.weekday_hour"):
        assert any(p.startswith(part) for p in paths), part


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(profile_params(), st.sampled_from([("partner", None), ("publication", None), ("partner", 3)]))
def test_no_small_count_published_anywhere(params, how):
    numbers = make_numbers(**params)
    release, threshold = how
    shared = to_shared(numbers, threshold, release=release)
    k = shared.disclosure.threshold
    assert k == (threshold or {"partner": 10, "publication": 5}[release])
    assert small_published(shared, k) == []
    assert shared.hotspots.points is None and shared.products.grid is None and shared.products.monthly is None
    assert shared.hotspots.gi["gi_z"].isna().all() and shared.hotspots.gi["gi_p"].isna().all()
    assert shared.fused.kde_recorded is None and shared.fused.perception_raster is None
    if shared.hotspots.clusters is not None:
        assert (shared.hotspots.clusters["n_events"] >= k).all()


def assert_same(a, b, path="numbers"):
    """Deep equality of two ProfileNumbers-like objects (frames by value, dtypes and attrs included)."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, obj=path)
        assert a.attrs == b.attrs, path
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, obj=path)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, Mapping):
        assert list(a) == list(b), path
        for key in a:
            assert_same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, tuple | list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif hasattr(a, "geom_equals"):
        assert a.equals(b), path
    else:
        assert a == b or (a != a and b != b), path  # NaN equals NaN here


def test_input_is_not_changed():
    n = make_numbers(5)
    before = copy.deepcopy(n)
    shared = to_shared(n)
    assert_same(n, before)
    assert shared is not n and shared.fused.grids["all"] is not n.fused.grids["all"]
    with pytest.raises(AssertionError):  # the comparison can fail
        assert_same(shared.fused.grids["all"], n.fused.grids["all"])


# --- the LP attacker ------------------------------------------------------------------------------------


class Attacker:
    """Unknown counts with linear equalities; each unknown's range over the non-negative reals (linprog).

    The real relaxation holds every integer solution, so a range it finds wide is at least as wide as the
    attacker's integer range for exactness... and the test also asks the integer programme (``exact=True``)
    where the brief's LP attacker could be too generous."""

    def __init__(self, n_vars: int):
        self.n = n_vars
        self.rows: list[np.ndarray] = []
        self.rhs: list[float] = []
        self.fixed: dict[int, float] = {}

    def equal(self, coef: dict[int, float], value: float) -> None:
        if len(coef) == 1 and next(iter(coef.values())) == 1:
            self.fixed[next(iter(coef))] = float(value)
            return
        row = np.zeros(self.n)
        for i, c in coef.items():
            row[i] += c
        self.rows.append(row)
        self.rhs.append(float(value))

    def range(self, i: int, *, integer: bool = False, tol: float = 1e-7) -> tuple[float, float]:
        lb, ub = np.zeros(self.n), np.full(self.n, np.inf)
        for j, v in self.fixed.items():
            lb[j] = ub[j] = v
        cost = np.zeros(self.n)
        cost[i] = 1
        out = []
        for sign in (1, -1):
            if integer:
                a, b = np.array(self.rows).reshape(-1, self.n), np.array(self.rhs)
                slack = tol * np.maximum(1, np.abs(b))
                res = milp(sign * cost, constraints=LinearConstraint(a, b - slack, b + slack) if len(b) else (),
                           integrality=np.ones(self.n), bounds=Bounds(lb, np.minimum(ub, 10**7)))
            else:
                res = linprog(sign * cost, A_eq=np.array(self.rows) if self.rows else None,
                              b_eq=np.array(self.rhs) if self.rhs else None, bounds=list(zip(lb, ub, strict=True)),
                              method="highs")
            assert res.status in (0, 3), res.message
            out.append(np.inf if res.status == 3 else sign * res.fun)
        return out[0], out[1]
def check_protected(attacker: Attacker, truth: np.ndarray, withheld: np.ndarray, k: int, what: str) -> None:
    for i in np.flatnonzero(withheld):
        lo, hi = attacker.range(int(i))
        if hi - lo < 1 + 1e-6 or (1 <= truth[i] < k and hi < k + 1e-6):  # near the edge: the integer attacker
            lo, hi = attacker.range(int(i), integer=True)
        v = truth[i]
        assert lo - 1e-6 <= v <= hi + 1e-6, (what, i, v, lo, hi)
        assert hi - lo >= 1 - 1e-6, f"{what}: withheld count {v} recovered exactly ([{lo}, {hi}])"
        if 1 <= v < k:
            assert hi >= k - 1e-6, f"{what}: withheld count {v} bounded below {k} ([{lo}, {hi}])"


def fused_attacker(restricted: ProfileNumbers, published: dict[str, pd.DataFrame], places: pd.DataFrame,
                   perception: pd.DataFrame | None):
    """Unknowns: every (source, cell) all-day count; knowns: published cells, source totals, shares, scores,
    perception counts and gap ratios."""
    cells = sorted(set(restricted.fused.grids["all"]["h3_cell"]) | set(places["h3_cell"]))
    idx = {(s, c): i for i, (s, c) in enumerate((s, c) for s in SOURCES for c in cells)}
    truth = np.zeros(len(idx))
    g = restricted.fused.grids["all"]
    for s, c, v in zip(g["source"], g["h3_cell"], g["count"], strict=True):
        truth[idx[(s, c)]] = v
    att = Attacker(len(idx))
    truths = {s: float(truth[[idx[(s, c)] for c in cells]].sum()) for s in SOURCES}
    shown = places.attrs.get("source_totals")  # the shared totals (None where withheld); else all published
    totals = {s: (truths[s] if shown is None else shown.get(s)) for s in SOURCES}
    for s in SOURCES:  # published source totals (events per source, the map layers' area totals)
        if totals[s] is not None:
            att.equal({idx[(s, c)]: 1 for c in cells}, totals[s])
    pub = published["all"]
    for s, c, v in zip(pub["source"], pub["h3_cell"], pub["count"], strict=True):
        if not pd.isna(v):
            att.equal({idx[(s, c)]: 1}, v)
    for c in set(cells) - set(pub["h3_cell"]):  # cells absent from a layer hold 0 for every source
        for s in SOURCES:
            if not ((pub["h3_cell"] == c) & (pub["source"] == s)).any():
                att.equal({idx[(s, c)]: 1}, 0)
    w = places.attrs.get("source_weights") or {s: 1.0 for s in SOURCES}
    wsum = sum(w.values())
    for _, row in places.iterrows():
        for s in SOURCES:
            if not pd.isna(row[f"{s}_share"]) and totals[s]:
                att.equal({idx[(s, row["h3_cell"])]: 1 / totals[s]}, row[f"{s}_share"])
            if not pd.isna(row[f"{s}_count"]):
                att.equal({idx[(s, row["h3_cell"])]: 1}, row[f"{s}_count"])
        if not pd.isna(row["place_score"]) and all(totals.values()):
            att.equal({idx[(s, row["h3_cell"])]: 100 * w[s] / (wsum * totals[s]) for s in SOURCES},
                      row["place_score"])
    if perception is not None:
        m = len(perception)
        for _, row in perception.iterrows():
            c = row["h3_cell"]
            if not pd.isna(row["perception_count"]):
                att.equal({idx[("streetsafe", c)]: 1}, row["perception_count"])
            if not pd.isna(row["recorded_count"]):
                att.equal({idx[("police_uk", c)]: 1, idx[("rms", c)]: 1}, row["recorded_count"])
            if not pd.isna(row["gap_ratio"]) and totals["streetsafe"] and totals["police_uk"] and totals["rms"]:
                tr = totals["police_uk"] + totals["rms"]  # p/Tp + 1/m = ratio (r/Tr + 1/m): linear in p and r
                ratio = row["gap_ratio"]
                att.equal({idx[("streetsafe", c)]: 1 / totals["streetsafe"], idx[("police_uk", c)]: -ratio / tr,
                           idx[("rms", c)]: -ratio / tr}, (ratio - 1) / m)
    return att, truth, idx


def test_place_score_attack_on_the_old_scheme():
    # the old shared summary: components 1..k-1 withheld (no secondary), place_score and source totals published
    n, k = make_numbers(11, n_cells=30, scale=2.0), 10
    old = n.fused.places.copy()
    hidden = np.zeros(len(old), bool)
    for s in SOURCES:
        small = (old[f"{s}_count"] >= 1) & (old[f"{s}_count"] < k)
        hidden |= small.to_numpy()
        old[f"{s}_count"] = old[f"{s}_count"].astype("Int64").mask(small)
        old[f"{s}_share"] = old[f"{s}_share"].mask(small)
    published = {"all": n.fused.grids["all"].assign(count=pd.NA)}  # only the places table, as in summary.json
    att, truth, idx = fused_attacker(n, published, old, None)
    rows = old[old[[f"{s}_count" for s in SOURCES]].isna().sum(axis=1) == 1]
    assert len(rows), "the example needs a place with one withheld component"
    recovered = 0
    for _, row in rows.iterrows():
        s = next(s for s in SOURCES if pd.isna(row[f"{s}_count"]))
        lo, hi = att.range(idx[(s, row["h3_cell"])])  # the real relaxation already pins it: so do the integers
        v = truth[idx[(s, row["h3_cell"])]]
        assert lo == pytest.approx(v, abs=1e-6) and hi == pytest.approx(v, abs=1e-6)  # score + others + totals
        recovered += 1
    assert recovered == len(rows)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.integers(0, 2**32 - 1), st.integers(4, 25), st.sampled_from([0.5, 2.0, 6.0]), st.sampled_from([5, 10]))
def test_lp_attacker_cannot_pin_a_withheld_fused_count(seed, n_cells, scale, k):
    n = make_numbers(seed, n_cells=n_cells, scale=scale, n_months=3)
    shared = to_shared(n, k)
    att, truth, idx = fused_attacker(n, shared.fused.grids, shared.fused.places, shared.fused.perception)
    pub = shared.fused.grids["all"]
    withheld = np.zeros(len(idx), bool)
    for s, c in zip(pub.loc[pub["count"].isna(), "source"], pub.loc[pub["count"].isna(), "h3_cell"], strict=True):
        withheld[idx[(s, c)]] = True
    check_protected(att, truth, withheld, k, "fused grids + place scores + perception")


def test_place_score_attack_fails_on_the_shared_version():
    n, k = make_numbers(11, n_cells=30, scale=2.0), 10
    shared = to_shared(n, k)
    p = shared.fused.places
    comps = p[[f"{s}_count" for s in SOURCES]]
    assert comps.isna().any(axis=1).any()
    assert p.loc[comps.isna().any(axis=1), "place_score"].isna().all()  # no score beside a withheld component
    assert not any(c.endswith("_rank_pct") for c in p.columns)
    att, truth, idx = fused_attacker(n, shared.fused.grids, p, shared.fused.perception)
    withheld = np.zeros(len(idx), bool)
    g = shared.fused.grids["all"]
    for s, c in zip(g.loc[g["count"].isna(), "source"], g.loc[g["count"].isna(), "h3_cell"], strict=True):
        withheld[idx[(s, c)]] = True
    check_protected(att, truth, withheld, k, "place score attack")


def trend_attacker(restricted: ProfileNumbers, shared: ProfileNumbers):
    """Unknowns: police.uk month x type counts; knowns: by_type, monthly, mix, total, police.uk threat areas."""
    by = restricted.trend.by_type[restricted.trend.by_type["available"]]
    keys = list(zip(by["month"].astype(str), by["crime_type"], strict=True))
    idx = {key: i for i, key in enumerate(keys)}
    truth = by["count"].to_numpy(float)
    att = Attacker(len(keys))
    sb = shared.trend.by_type[shared.trend.by_type["available"]]
    for m, t, v in zip(sb["month"].astype(str), sb["crime_type"], sb["count"], strict=True):
        if not pd.isna(v):
            att.equal({idx[(m, t)]: 1}, v)
    mo = shared.trend.monthly[shared.trend.monthly["available"]]
    for m, v in zip(mo["month"].astype(str), mo["count"], strict=True):
        if not pd.isna(v):
            att.equal({i: 1 for (mm, _), i in idx.items() if mm == m}, v)
    for t, v in shared.what.police_uk_mix.items():
        if not pd.isna(v):
            att.equal({i: 1 for (_, tt), i in idx.items() if tt == t}, v)
    if shared.volume.total is not None and not pd.isna(shared.volume.total):
        att.equal({i: 1 for i in idx.values()}, shared.volume.total)
    areas = {"police_uk_violence_sexual": "Violence and sexual offences", "police_uk_public_order": "Public order"}
    tt = shared.threats.table
    for a, m, v, ok in zip(tt["threat_area"], tt["month"].astype(str), tt["count"], tt["available"], strict=True):
        if a in areas and ok and not pd.isna(v):
            att.equal({idx[(m, areas[a])]: 1}, v)
    for a, v in zip(shared.threats.totals["threat_area"], shared.threats.totals["count"], strict=True):
        if a in areas and not pd.isna(v):
            att.equal({i: 1 for (_, t), i in idx.items() if t == areas[a]}, v)
    withheld = sb["count"].isna().to_numpy()
    return att, truth, withheld


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.integers(0, 2**32 - 1), st.integers(2, 12), st.sampled_from([0.05, 0.2, 1.0]), st.sampled_from([5, 10]))
def test_lp_attacker_cannot_pin_a_withheld_trend_count(seed, n_months, scale, k):
    n = make_numbers(seed, n_cells=6, n_months=n_months, scale=scale)
    shared = to_shared(n, k)
    att, truth, withheld = trend_attacker(n, shared)
    check_protected(att, truth, withheld, k, "police.uk month x type")


# --- sdcTable's known failure pattern ---------------------------------------------------------------------


def bridge() -> pd.DataFrame:
    """Two 2x2 blocks of 4s joined by a 3: every row and column holds two or more small cells."""
    v = np.full((4, 4), 20)
    v[:2, :2] = 4
    v[2:, 2:] = 4
    v[1, 2] = 3
    return pd.DataFrame(v, columns=list("abcd"))


def naive_two_per_line(values: np.ndarray, k: int) -> np.ndarray:
    """Primary suppression, then complements until every row and column with a withheld cell holds two
    withheld cells summing to k or more (the rule without the audit)."""
    held = (values >= 1) & (values < k)
    changed = True
    while changed:
        changed = False
        for line in [*(np.s_[i, :] for i in range(values.shape[0])), *(np.s_[:, j] for j in range(values.shape[1]))]:
            h, v = held[line], values[line]
            if h.any() and (h.sum() < 2 or v[h].sum() < k):
                free = np.flatnonzero(~h)
                pick = free[np.argmin(v[free])]
                view = held[line]
                view[pick] = True
                held[line] = view
                changed = True
    return held


def table_attacker(values: np.ndarray, held: np.ndarray, row_totals, col_totals, grand) -> Attacker:
    r, c = values.shape
    att = Attacker(r * c)
    for i in range(r):
        for j in range(c):
            if not held[i, j]:
                att.equal({i * c + j: 1}, values[i, j])
    for i, t in enumerate(row_totals):
        if not pd.isna(t):
            att.equal({i * c + j: 1 for j in range(c)}, t)
    for j, t in enumerate(col_totals):
        if not pd.isna(t):
            att.equal({i * c + j: 1 for i in range(r)}, t)
    if grand is not None and not pd.isna(grand):
        att.equal({i: 1 for i in range(r * c)}, grand)
    return att


def test_sdctable_bridge_pattern_naive_rule_fails():
    frame, k = bridge(), 5
    values = frame.to_numpy()
    held = naive_two_per_line(values, k)
    assert (held.sum(axis=1) >= 2).all() and (held.sum(axis=0) >= 2).all()  # every line: two or more withheld
    att = table_attacker(values, held, values.sum(axis=1), values.sum(axis=0), values.sum())
    lo, hi = att.range(1 * 4 + 2)
    assert lo == hi == 3
    assert att.range(1 * 4 + 2, integer=True) == (3, 3)  # the bridge cell is recovered by combining rows and columns


def test_sdctable_bridge_pattern_audited_suppression_holds():
    frame, k = bridge(), 5
    out = suppress_table(frame, threshold=k)
    values = frame.to_numpy()
    held = out.mask.to_numpy()
    assert (held >= ((values >= 1) & (values < k))).all()
    att = table_attacker(values, held, out.row_totals, out.col_totals, out.grand_total)
    check_protected(att, values.ravel().astype(float), held.ravel(), k, "bridge table")


# --- releases, thresholds, handling -----------------------------------------------------------------------


def test_release_defaults_and_handling_lines():
    n = make_numbers(2)
    partner, publication = to_shared(n), to_shared(n, release="publication")
    assert (partner.disclosure.release, partner.disclosure.threshold) == ("partner", 10)
    assert (publication.disclosure.release, publication.disclosure.threshold) == ("publication", 5)
    lines = {n.disclosure.handling, partner.disclosure.handling, publication.disclosure.handling}
    assert len(lines) == 3  # restricted, partner and publication versions each carry their own line
    assert "10" in partner.disclosure.handling and "5" in publication.disclosure.handling
    assert partner.disclosure.shared and not n.disclosure.shared
    assert to_shared(n, 7).disclosure.threshold == 7
    custom = to_shared(n, handling="Partners only, k = {threshold}.")
    assert custom.disclosure.handling == "Partners only, k = 10."
    assert partner.disclosure.suppressed_cells > 0 and partner.disclosure.withheld
    assert all(s.endswith(".") for s in partner.disclosure.withheld)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"release": "public"}, "release"),
        ({"threshold": 1}, "threshold"),
        ({"threshold": True}, "threshold"),
        ({"handling": "Restricted handling: test"}, "handling"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        to_shared(make_numbers(0), **kwargs)


def test_shared_numbers_are_not_shared_again():
    with pytest.raises(ParameterError, match="already"):
        to_shared(to_shared(make_numbers(0)))


# --- derived values ----------------------------------------------------------------------------------------


def test_derived_values_follow_their_counts():
    n, k = make_numbers(4, n_cells=40, scale=2.0), 10
    s = to_shared(n, k)
    p = s.fused.places
    for src in SOURCES:
        assert (p[f"{src}_count"].isna() == p[f"{src}_share"].isna()).all()
    per = s.fused.perception
    either = per["perception_count"].isna() | per["recorded_count"].isna()
    assert per.loc[either, "gap_ratio"].isna().all() and per.loc[either, "gap_class"].isna().all()
    # ranks are a function of the published numbers: re-deriving them from the published columns gives the same
    w = p.attrs.get("source_weights") or {src: 1.0 for src in SOURCES}
    lower = sum(w[src] * p[f"{src}_share"].fillna(0) for src in SOURCES) * 100 / sum(w.values())
    order = p["place_score"].fillna(lower)
    assert (order.diff().dropna() <= 1e-9).all()
    # the NTE sum layer is withheld wherever one of its parts is
    nte = s.fused.grids["nte"]
    held_parts = set(nte.loc[nte["count"].isna(), "h3_cell"])
    both = s.fused.grids["nte_rms_ae"]
    assert set(both.loc[both["h3_cell"].isin(held_parts), "count"].isna().index) <= set(
        both.index[both["count"].isna()])
    # the same pattern for the all-day and NTE grids of a source
    g = s.fused.grids["all"]
    for src in ("rms", "ae"):
        a = g[g["source"] == src].set_index("h3_cell")["count"].isna()
        b = nte[nte["source"] == src].set_index("h3_cell")["count"].isna()
        assert a.reindex(b.index).fillna(False).equals(b)
    assert "other" in s.fused.grids


def test_gi_star_publishes_bins_of_significant_cells_only():
    s = to_shared(make_numbers(8))
    gi = s.hotspots.gi
    assert (gi.loc[~gi["gi_significant"], "gi_bin"] == 0).all()
    assert gi["gi_z"].isna().all() and gi["gi_p"].isna().all()
    assert s.hotspots.places["gi_z"].isna().all()


def test_kde_pixels_below_k_events_are_masked():
    n = make_numbers(9)
    s, k = to_shared(n), 10
    d = s.hotspots.kde.density
    shown = d != s.hotspots.kde.nodata
    r = n.hotspots.kde.params["radius_m"]
    floor = k * 3 / (math.pi * r * r)
    assert (d[shown] >= floor * (1 - 1e-6)).all()
    assert shown.sum() < (n.hotspots.kde.density != n.hotspots.kde.nodata).sum()


# --- the real demo numbers ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_profile_shared(demo_numbers):
    n = demo_numbers
    for release in ("partner", "publication"):
        s = to_shared(n, release=release)
        k = s.disclosure.threshold
        assert small_published(s, k) == []
        # the partner's place-score attack: no published score beside a withheld component
        comps = s.fused.places[[c for c in s.fused.places.columns if c.endswith("_count")]]
        assert s.fused.places.loc[comps.isna().any(axis=1), "place_score"].isna().all()
        assert s.disclosure.handling != n.disclosure.handling
        assert s.findings.findings  # regenerated from the shared numbers
        for f in s.findings.findings:  # quoting no small count
            assert not any(isinstance(v, int) and 1 <= v < k for v in f.numbers.values()), f
    # the restricted numbers the demo publishes unchanged where nothing is small
    assert s.volume.total == n.volume.total and s.volume.top_share == n.volume.top_share


def test_small_side_counts_in_definitions_and_labels_are_withheld():
    n = make_numbers(6)
    meta = dataclasses.replace(n.meta, definitions={**n.meta.definitions,
                                                    "harm_weights": {"events_weighted": 500, "verified": 496}})
    places = n.hotspots.places.assign(label="On or near Test Street (99%)")
    n = dataclasses.replace(n, meta=meta, quality=dataclasses.replace(n.quality, harm_unverified=4 / 500),
                            hotspots=dataclasses.replace(n.hotspots, places=places))
    s = to_shared(n, 10)
    assert s.meta.definitions["harm_weights"]["verified"] is None and s.quality.harm_unverified is None
    shown = s.hotspots.places
    small_rest = shown["count"].to_numpy(float) * 0.015 < 10  # 99% of the cell: the rest is 1% +- 0.5%
    assert (shown.loc[small_rest, "label"] == "On or near Test Street").all()
    assert (shown.loc[~small_rest, "label"] == "On or near Test Street (99%)").all()
    assert n.meta.definitions["harm_weights"]["verified"] == 496  # the input unchanged
