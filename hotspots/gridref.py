"""Ordnance Survey National Grid references ("ST 5872 7291") from British National Grid metres (EPSG:27700).

A grid reference names the 100 km square by two letters and the position
inside it by eastings then northings, **truncated** (not rounded) to the
precision asked for: "ST 58 72" is the 1 km square whose south-west corner
is E 358000, N 172000. This is how a patrol sergeant, an OS map and most
force systems read a location.

The letters follow the OS scheme: a 5 x 5 grid of 500 km squares (S, T, N,
O, H ... from the false origin) each split into 25 lettered 100 km squares,
``I`` never used.

References
----------
Ordnance Survey (2020). A guide to coordinate systems in Great Britain, section 9 and
"Using the National Grid"; the worked example TG 51409 13177 = E 651409, N 313177.

Examples
--------
>>> os_grid_reference([651409, 216666], [313177, 771288], digits=10).tolist()
['TG 51409 13177', 'NN 16666 71288']
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from hotspots.errors import ParameterError

__all__ = ["os_grid_reference"]

_LETTERS = np.array(list("ABCDEFGHJKLMNOPQRSTUVWXYZ"))  # no I


def _square_letters(e100: np.ndarray, n100: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two letters of each 100 km square (indices into :data:`_LETTERS`)."""
    l1 = (19 - n100) - (19 - n100) % 5 + (e100 + 10) // 5
    l2 = ((19 - n100) * 5) % 25 + e100 % 5
    return l1, l2


def os_grid_reference(x: ArrayLike, y: ArrayLike, *, digits: int = 8) -> np.ndarray:
    """OS National Grid references of EPSG:27700 points, e.g. ``"ST 5872 7291"``.

    Parameters
    ----------
    x, y : array-like of float
        Eastings and northings in metres (EPSG:27700).
    digits : {2, 4, 6, 8, 10}, default 8
        Digits after the letters (half eastings, half northings): 8 gives a
        10 m square, 6 a 100 m square (an H3 resolution-9 cell is ~350 m across).

    Returns
    -------
    ndarray of str
        One reference per point; ``""`` for a missing point or one outside
        the National Grid (0 <= x < 700 km, 0 <= y < 1300 km).

    Raises
    ------
    ParameterError
        If ``digits`` is not 2, 4, 6, 8 or 10, or ``x`` and ``y`` differ in length.

    Examples
    --------
    Bristol city centre; truncation, not rounding (E 358799 is still 5879):

    >>> os_grid_reference([358799.9], [172999.9]).tolist()
    ['ST 5879 7299']
    >>> os_grid_reference([358799.9, float("nan"), 800000], [172999.9, 1.0, 1.0], digits=4).tolist()
    ['ST 58 72', '', '']
    """
    if digits not in (2, 4, 6, 8, 10):
        raise ParameterError(f"digits must be 2, 4, 6, 8 or 10 (6 = 100 m, 8 = 10 m); got {digits!r}")
    xs = np.asarray(x, dtype=np.float64).ravel()
    ys = np.asarray(y, dtype=np.float64).ravel()
    if xs.shape != ys.shape:
        raise ParameterError(f"x and y must have the same length; got {len(xs)} and {len(ys)}")
    ok = np.isfinite(xs) & np.isfinite(ys) & (xs >= 0) & (xs < 700_000) & (ys >= 0) & (ys < 1_300_000)
    out = np.full(len(xs), "", dtype=object)
    if not ok.any():
        return out
    e = np.floor(xs[ok]).astype(np.int64)
    n = np.floor(ys[ok]).astype(np.int64)
    l1, l2 = _square_letters(e // 100_000, n // 100_000)
    half = digits // 2
    scale = 10 ** (5 - half)
    ee = (e % 100_000) // scale
    nn = (n % 100_000) // scale
    letters = np.char.add(_LETTERS[l1], _LETTERS[l2])
    fmt = np.char.zfill(ee.astype(str), half), np.char.zfill(nn.astype(str), half)
    out[ok] = np.char.add(np.char.add(np.char.add(letters, " "), np.char.add(fmt[0], " ")), fmt[1]).astype(object)
    return out
