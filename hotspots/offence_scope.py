"""Where and when an offence can be placed: private vs public space, and course-of-conduct offences.

Two definitions every VAWG profile needs and that the analyses must apply
the same way:

* **Private space.** A *public-space* (and night-time economy) profile
  ranks streets, venues and town centres. Offences recorded at a dwelling
  (most domestic abuse) are VAWG too, but a home is not a hot spot a patrol
  or a licensing review can treat: counting them in place scores puts every
  large housing estate at the top. The force RMS's location type decides;
  private-space VAWG is reported separately, never dropped.
  police.uk has no location type, so police.uk counts cannot be split (say so).
* **Course of conduct.** Stalking, harassment and controlling or coercive
  behaviour are a pattern over weeks or months; the recorded "committed
  from/to" times describe the course, not an hour of the week. They are
  never placed in hours of the week or in the NTE window.

Examples
--------
>>> is_private_space(["Dwelling", "street", "Residential home", None, "Licensed premises"]).tolist()
[True, False, True, False, False]
>>> is_course_of_conduct(["stalking_harassment", "rape", None]).tolist()
[True, False, False]
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["PRIVATE_LOCATION_PATTERN", "COURSE_OF_CONDUCT_GROUPS", "is_private_space", "is_course_of_conduct"]

#: RMS location types that are a private home (case-insensitive, whole words): dwelling, residential,
#: home, house, flat, bedsit, garden of a dwelling. "Care home" and "hostel" count as homes too.
PRIVATE_LOCATION_PATTERN = re.compile(
    r"\b(dwelling|residential|residence|home|house|flat|bedsit|apartment|domestic|private address)\b",
    re.IGNORECASE,
)

#: VAWG groups (configs/vawg_offences.toml) whose offences are a course of conduct, not an event in time.
COURSE_OF_CONDUCT_GROUPS: tuple[str, ...] = ("stalking_harassment", "controlling_coercive")


def _texts(values: Iterable[object] | pd.Series) -> pd.Series:
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    return s.astype(object).where(s.notna(), "").astype(str)


def is_private_space(location_type: Iterable[object] | pd.Series) -> np.ndarray:
    """True where an RMS location type is a private home (:data:`PRIVATE_LOCATION_PATTERN`).

    Missing or blank location types are False: they stay in public-space
    analyses (an unknown location is not evidence of a home) and are counted
    in the data-quality section.

    Examples
    --------
    >>> is_private_space(pd.Series(["Dwelling", "Open space", ""])).tolist()
    [True, False, False]
    """
    text = _texts(location_type)
    if not len(text):
        return np.zeros(0, dtype=bool)
    codes, uniques = pd.factorize(text)
    hit = np.fromiter((bool(PRIVATE_LOCATION_PATTERN.search(u)) for u in uniques), dtype=bool, count=len(uniques))
    return hit[codes] if len(uniques) else np.zeros(len(text), dtype=bool)


def is_course_of_conduct(vawg_group: Iterable[object] | pd.Series) -> np.ndarray:
    """True for offences in a course-of-conduct VAWG group (:data:`COURSE_OF_CONDUCT_GROUPS`).

    Examples
    --------
    >>> is_course_of_conduct(pd.Series(["controlling_coercive", "da_violence"])).tolist()
    [True, False]
    """
    return _texts(vawg_group).isin(COURSE_OF_CONDUCT_GROUPS).to_numpy(dtype=bool)
