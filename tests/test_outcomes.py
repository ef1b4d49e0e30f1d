"""Outcomes 14/15/16 by VAWG group: hand-counted cases and the shared version's suppression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.errors import ParameterError
from hotspots.outcomes import OUTCOME_TYPES, outcome_shares
from profiles.shared import _Ledger, _outcomes


def test_outcome_shares_by_hand():
    ev = pd.DataFrame({
        "vawg_group": ["da"] * 6 + ["rape"] * 3 + [None],
        "outcome_code": ["14", "015", "Outcome 16", "1A", "", "18", "16", "abc", None, "3"],
    })
    t = outcome_shares(ev).set_index("group")
    da = t.loc["da"]
    assert (da["offences"], da["open"], da["assigned"], da["charged"]) == (6, 1, 5, 1)
    assert (da["outcome_14"], da["outcome_15"], da["outcome_16"], da["other"]) == (1, 1, 1, 0)
    assert da["share_14_16"] == pytest.approx(3 / 5) and da["share_charged"] == pytest.approx(1 / 5)
    rape = t.loc["rape"]
    assert (rape["offences"], rape["open"], rape["assigned"], rape["outcome_16"], rape["other"]) == (3, 1, 2, 1, 1)
    assert t.loc["unknown", "offences"] == 1
    assert int(t["offences"].sum()) == len(ev)  # rows in = rows out


def test_outcome_table_names_the_framework_outcomes():
    assert "victim does not support" in OUTCOME_TYPES["14"] and "victim supports" in OUTCOME_TYPES["15"]
    assert OUTCOME_TYPES["16"].startswith("Evidential difficulties: suspect identified")


def test_outcome_shares_names_a_missing_column():
    with pytest.raises(ParameterError, match="outcome_code"):
        outcome_shares(pd.DataFrame({"vawg_group": ["da"]}))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 12), st.integers(0, 60),
                          st.integers(0, 60), st.integers(0, 30)), min_size=1, max_size=6),
       st.sampled_from([5, 10]))
def test_shared_outcomes_publish_no_small_count(rows, k):
    recs = []
    for i, (open_, charged, o14, o15, o16, rest) in enumerate(rows):
        assigned = charged + o14 + o15 + o16 + rest
        recs.append({"group": f"g{i}", "offences": open_ + assigned, "open": open_, "assigned": assigned,
                     "charged": charged, "outcome_14": o14, "outcome_15": o15, "outcome_16": o16, "other": 0,
                     "share_charged": np.nan, "share_14_16": np.nan})
    out = _outcomes(pd.DataFrame(recs), k, _Ledger())
    for c in ("offences", "open", "assigned", "charged", "outcome_14", "outcome_15", "outcome_16"):
        v = out[c].dropna().astype(int)
        assert not ((v >= 1) & (v < k)).any(), c
    both = out["offences"].notna() & out["open"].notna()
    diff = (out.loc[both, "offences"] - out.loc[both, "open"]).astype(int)
    assert not ((diff >= 1) & (diff < k)).any()  # offences - open = outcomes assigned: never a small count
    # a share is published only when its numerator and denominator are
    held = out["assigned"].isna() | out["charged"].isna()
    assert out.loc[held, "share_charged"].isna().all()
