"""Compare one force's police.uk publication with the other forces, indicator by indicator.

An intelligence gap the force problem profile must state is *under-publication*:
a force that publishes fewer VAWG-relevant crimes per head than comparable
forces, or leaves more of them without a location, gives a thinner picture
than its peers. :func:`compare_force` places one force among all forces and
among a comparator set on the indicators of
:func:`hotspots.publication.force_month_table` (population from
:func:`hotspots.ingest.population.read_population`), with robust statistics
(median, MAD) that withstand forces with extreme rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hotspots.errors import ParameterError
from hotspots.forces import force_key

__all__ = ["INDICATORS", "ForceComparison", "compare_force"]

#: Indicator -> (direction of concern, phrase used in flags). Direction None: context only, never flagged.
INDICATORS: dict[str, tuple[str | None, str]] = {
    "vawg_per_1000": ("low", "VAWG-relevant crimes per 1,000 residents"),
    "rows_per_1000": ("low", "crimes per 1,000 residents"),
    "no_coordinates_share": ("high", "share of crimes without coordinates"),
    "stacked_share": ("high", "share of crimes stacked on map points holding >= {k} crimes"),
    "vawg_share": (None, "share of crimes in VAWG-relevant categories"),
}
_MAD_SCALE = 1.4826  # MAD -> standard deviation for normal data


def _position(value: float, others: np.ndarray) -> dict:
    """Median, percentile rank, robust z and counts of ``value`` among ``others`` (NaNs dropped)."""
    o = others[np.isfinite(others)]
    n = len(o)
    if n == 0 or not np.isfinite(value):
        return {"n": n, "median": np.nan, "percentile": np.nan, "robust_z": np.nan, "above": np.nan, "below": np.nan}
    med = float(np.median(o))
    mad = float(np.median(np.abs(o - med))) * _MAD_SCALE
    below = float(np.mean(o < value))
    above = float(np.mean(o > value))
    return {
        "n": n,
        "median": med,
        "percentile": 100.0 * (below + 0.5 * (1.0 - below - above)),
        "robust_z": (value - med) / mad if mad > 0 else np.nan,
        "above": above,
        "below": below,
    }


@dataclass(frozen=True)
class ForceComparison:
    """Where one force stands among all forces and among its comparators.

    Attributes
    ----------
    force : str
        The force compared.
    month : str
        The month (``YYYY-MM``).
    comparators : tuple of str
        Forces in the comparator set present in the table that month.
    comparator_rule : str
        How the set was chosen (echo it in the profile).
    indicators : pandas.DataFrame
        One row per indicator (index): ``value``, ``concern`` ("low"/"high"/None),
        ``national_n``, ``national_median``, ``national_percentile``,
        ``national_robust_z``, and the same four for ``comparator_``; plus
        ``comparators_above`` / ``comparators_below`` (shares of comparators
        with a higher / lower value).
    flags : tuple of str
        Sentences for indicators in the direction of concern beyond ``flag_share``.
    finding : str
        One sentence for the profile's intelligence-gaps section.
    parameters : dict
        ``flag_share``, ``min_comparators``, ``population_band``, ``exclude``
        and the table's definitions (``crime_types``, ``stack_min_events``).
    """

    force: str
    month: str
    comparators: tuple[str, ...]
    comparator_rule: str
    indicators: pd.DataFrame = field(repr=False)
    flags: tuple[str, ...]
    finding: str
    parameters: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain-Python form (JSON-ready; NaN becomes None).

        Examples
        --------
        >>> import pandas as pd
        >>> t = pd.DataFrame({"force": list("ABCD"), "month": ["2024-01"] * 4, "population": [1e6] * 4,
        ...                   "vawg_per_1000": [1.0, 2.0, 2.1, 2.2]})
        >>> d = compare_force(t, force="A", min_comparators=3).to_dict()
        >>> d["indicators"]["vawg_per_1000"]["comparator_percentile"], d["flags"][0][:40]
        (0.0, 'publishes fewer VAWG-relevant crimes per')
        """

        def clean(v):
            if isinstance(v, float | np.floating):
                return None if not np.isfinite(v) else float(v)
            if isinstance(v, np.integer):
                return int(v)
            return v

        return {
            "force": self.force,
            "month": self.month,
            "comparators": list(self.comparators),
            "comparator_rule": self.comparator_rule,
            "indicators": {
                ind: {k: clean(v) for k, v in row.items()} for ind, row in self.indicators.to_dict("index").items()
            },
            "flags": list(self.flags),
            "finding": self.finding,
            "parameters": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.parameters.items()},
        }


def compare_force(
    table: pd.DataFrame,
    *,
    force: str,
    month: str | None = None,
    comparators: Sequence[str] | None = None,
    population_band: float = 0.5,
    flag_share: float = 0.75,
    min_comparators: int = 5,
    exclude: Sequence[str] = ("British Transport Police",),
) -> ForceComparison:
    """Place one force among all forces and among comparable forces, indicator by indicator.

    For each indicator of :data:`INDICATORS` present in ``table`` the force's
    value is compared with (a) every other force in the month ("national")
    and (b) a comparator set. Statistics are over the *other* forces with a
    finite value (the force itself is left out, so it cannot pull the
    reference towards itself): the median; the percentile rank (percentage
    of the others below the force's value, ties counting half); and the
    robust z-score ``(value - median) / (1.4826 * MAD)`` (NaN when MAD is 0).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`hotspots.publication.force_month_table` output (or any frame with ``force``,
        ``month`` and some indicator columns).
    force : str
        The force, in any spelling :func:`force_key` matches
        ("Avon and Somerset Constabulary", "Avon & Somerset").
    month : str, optional
        ``YYYY-MM``. Required when ``table`` holds more than one month.
    comparators : sequence of str, optional
        The comparator forces, e.g. the HMICFRS most-similar group. By default,
        forces whose population is within ``population_band`` of the force's
        (+-50%: for Avon and Somerset, 1,711,500 -> 0.86-2.57 million).
    population_band : float, default 0.5
        Relative population band of the default comparator set.
    flag_share : float, default 0.75
        An indicator is flagged when at least this share of the comparators
        is on the safe side of the force (e.g. publishes *more* per 1,000).
    min_comparators : int, default 5
        No flags (and a finding that says so) with fewer comparators holding a value.
    exclude : sequence of str, default ("British Transport Police",)
        Forces left out of both reference sets (BTP polices the railways,
        not an area).

    Returns
    -------
    ForceComparison

    Raises
    ------
    ParameterError
        If the force or month is not in the table, several months are present
        and ``month`` is not given, the default comparator set is asked for
        without a population, or an option is out of range.

    References
    ----------
    .. [1] Leys, C. et al. (2013). Detecting outliers: do not use standard
       deviation around the mean, use absolute deviation around the median.
       Journal of Experimental Social Psychology 49(4), 764-766.

    Examples
    --------
    Three forces of one million residents; A publishes half as much VAWG:

    >>> import pandas as pd
    >>> t = pd.DataFrame({"force": ["A Police", "B Police", "C Police"], "month": ["2024-01"] * 3,
    ...                   "population": [1e6, 1e6, 1.2e6], "vawg_per_1000": [1.0, 2.0, 2.4]})
    >>> r = compare_force(t, force="A Police", min_comparators=2)
    >>> r.indicators.loc["vawg_per_1000", ["value", "comparator_median", "comparator_percentile"]].tolist()
    [1.0, 2.2, 0.0]
    >>> r.flags
    ('publishes fewer VAWG-relevant crimes per 1,000 residents than 100% of comparators (1 vs median 2.2)',)
    """
    for c in ("force", "month"):
        if c not in table.columns:
            raise ParameterError(f"table: missing column {c!r}; build it with force_month_table(...)")
    if not 0.5 <= flag_share <= 1.0:
        raise ParameterError(f"flag_share: expected a share in [0.5, 1]; got {flag_share!r}")
    if not population_band > 0:
        raise ParameterError(f"population_band: expected a relative band > 0 (0.5 = +-50%); got {population_band!r}")
    if min_comparators < 1:
        raise ParameterError(f"min_comparators: expected >= 1; got {min_comparators!r}")

    months = pd.Index(table["month"].astype(str).unique())
    if month is None:
        if len(months) != 1:
            raise ParameterError(
                f"month: the table holds {len(months)} months ({', '.join(sorted(months)[:4])}...); "
                "pass month='YYYY-MM'"
            )
        month = months[0]
    month = str(month)
    t = table[table["month"].astype(str) == month]
    if t.empty:
        raise ParameterError(f"month: {month!r} is not in the table (months: {', '.join(sorted(months))})")
    keys = t["force"].map(force_key)
    me = keys == force_key(force)
    if not me.any():
        raise ParameterError(
            f"force: {force!r} has no row for {month} (forces: {', '.join(sorted(t['force'])[:5])}...); "
            "check the spelling or the month"
        )
    row = t[me].iloc[0]
    name = str(row["force"])
    excluded = {force_key(e) for e in exclude}
    others = t[~me & ~keys.isin(excluded)]
    okeys = others["force"].map(force_key)

    if comparators is not None:
        wanted = {force_key(c) for c in comparators}
        comp = others[okeys.isin(wanted)]
        rule = f"given list of {len(wanted)} forces ({', '.join(sorted(comparators))})"
    else:
        if "population" not in t.columns or not np.isfinite(row["population"]):
            raise ParameterError(
                f"comparators: the default set needs {name}'s population; build the table with "
                "population=read_population(...) or pass comparators=[...]"
            )
        p = float(row["population"])
        lo, hi = p * (1 - population_band), p * (1 + population_band)
        comp = others[(others["population"] >= lo) & (others["population"] <= hi)]
        rule = f"forces with population within +-{population_band:.0%} of {name}'s {p:,.0f} ({lo:,.0f}-{hi:,.0f})"

    k_stack = table.attrs.get("stack_min_events", 10)
    records = {}
    flags = []
    for ind, (concern, phrase) in INDICATORS.items():
        if ind not in t.columns:
            continue
        value = float(row[ind])
        nat = _position(value, others[ind].to_numpy(dtype=float))
        cmp_ = _position(value, comp[ind].to_numpy(dtype=float))
        records[ind] = {
            "value": value,
            "concern": concern,
            **{f"national_{k}": nat[k] for k in ("n", "median", "percentile", "robust_z")},
            **{f"comparator_{k}": cmp_[k] for k in ("n", "median", "percentile", "robust_z")},
            "comparators_above": cmp_["above"],
            "comparators_below": cmp_["below"],
        }
        if concern is None or cmp_["n"] < min_comparators or not np.isfinite(value):
            continue
        text = phrase.format(k=k_stack)
        if concern == "low" and cmp_["above"] >= flag_share:
            flags.append(
                f"publishes fewer {text} than {cmp_['above']:.0%} of comparators "
                f"({value:.3g} vs median {cmp_['median']:.3g})"
            )
        elif concern == "high" and cmp_["below"] >= flag_share:
            flags.append(
                f"has a higher {text} than {cmp_['below']:.0%} of comparators "
                f"({value:.1%} vs median {cmp_['median']:.1%})"
            )
    ind_frame = pd.DataFrame.from_dict(records, orient="index")
    n_comp = len(comp)
    if not records:
        finding = f"{name}, {month}: the table has no indicator columns to compare."
    elif n_comp < min_comparators:
        finding = (
            f"{name}, {month}: only {n_comp} comparator force(s) published that month, fewer than "
            f"{min_comparators}, so under-publication cannot be judged."
        )
    elif flags:
        finding = f"{name}, {month}: publication concerns against {n_comp} comparators: {'; '.join(flags)}."
    else:
        finding = (
            f"{name}, {month}: no sign of under-publication against {n_comp} comparators "
            f"(no indicator beyond {flag_share:.0%} of them in the direction of concern)."
        )
    return ForceComparison(
        force=name,
        month=month,
        comparators=tuple(sorted(comp["force"].astype(str))),
        comparator_rule=rule,
        indicators=ind_frame,
        flags=tuple(flags),
        finding=finding,
        parameters={
            "flag_share": flag_share,
            "min_comparators": min_comparators,
            "population_band": population_band if comparators is None else None,
            "exclude": tuple(exclude),
            "crime_types": table.attrs.get("crime_types"),
            "stack_min_events": table.attrs.get("stack_min_events"),
        },
    )
