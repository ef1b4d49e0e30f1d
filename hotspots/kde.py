"""Kernel density estimation on a raster grid, as QGIS and ArcGIS compute it.

The default grid is QGIS's Heatmap grid (the points' extent grown by the
radius, origin not snapped, one extra column and row, Float32, nodata -9999
where no kernel reaches). ``grid="boundary"`` aligns the grid to a force
boundary at multiples of the pixel size and masks outside it.

Kernels (``u = d / r``, support ``d <= r``), raw values (a lone point of
weight 1 peaks at 1):

=============  ======================  ===============================
kernel         raw                     scaled (per square map unit)
=============  ======================  ===============================
quartic        (1 - u^2)^2             3 / (pi r^2) * raw
triangular     1 - (1 - decay) u       3 / ((1 + 2 decay) pi r^2) * raw
uniform        1                       1 / (pi r^2)
triweight      (1 - u^2)^3             4 / (pi r^2) * raw
epanechnikov   1 - u^2                 2 / (pi r^2) * raw
=============  ======================  ===============================

Scaled surfaces integrate to the total weight (QGIS's "scaled" output;
ArcGIS's densities per square metre). ``qgis_compat=True`` reproduces QGIS
3.22 bit for bit instead: its radius-in-pixels rounding, its vertical
distance measured to the row centre mirrored within the point's pixel,
Float32 accumulation in input order, and its scaled-quartic constant
``116 / (5 pi r^2) * 15/16`` (7.25 times too large; QGIS issue 60616).

Exact evaluation scatters each (distinct) point into the pixels within its
radius with a numba kernel, on two threads. ``method="fft"`` bins the points
to pixel centres and convolves with the kernel stencil (scipy FFT): each
point moves at most ``pixel_m / sqrt(2)``, so the error is bounded by the
kernel's slope times that distance; use it for tens of millions of points.

References
----------
Silverman, B. W. (1986). Density Estimation for Statistics and Data Analysis.
Wand, M. P. and Jones, M. C. (1995). Kernel Smoothing, p. 175.
"""

from __future__ import annotations

import math
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numba as nb
import numpy as np
import pandas as pd
import shapely
from scipy.fft import next_fast_len

from hotspots.errors import ParameterError, memory_budget, require_memory
from hotspots.grid import unique_points

__all__ = [
    "KERNELS",
    "KDEResult",
    "kde",
    "kde_array",
    "qgis_grid",
    "boundary_grid",
    "bandwidth_arcgis",
    "bandwidth_nrd",
    "kde_memory",
]

KERNELS = {"quartic": 0, "triangular": 1, "uniform": 2, "triweight": 3, "epanechnikov": 4}
NODATA = -9999.0
MAX_SIDE = 2**31 - 1  # GDAL's largest raster width or height


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid: top-left corner, pixel size, shape."""

    x0: float
    y_top: float
    pixel_m: float
    rows: int
    cols: int

    @property
    def transform(self):
        """The rasterio/affine geotransform."""
        from affine import Affine

        return Affine(self.pixel_m, 0.0, self.x0, 0.0, -self.pixel_m, self.y_top)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax)."""
        return (self.x0, self.y_top - self.rows * self.pixel_m, self.x0 + self.cols * self.pixel_m, self.y_top)


@dataclass(frozen=True)
class KDEResult:
    """A density surface with its georeferencing and the parameters that made it.

    Attributes
    ----------
    density : ndarray of float32, shape (rows, cols)
        ``nodata`` where no kernel reached (QGIS grid) or outside the boundary.
    grid : Grid
    crs : str or None
    nodata : float
    params : dict
        Kernel, radius and how it was chosen, pixel size, output, method,
        number of points and total weight: store it with the raster.
    """

    density: np.ndarray
    grid: Grid
    crs: str | None
    nodata: float = NODATA
    params: dict = field(default_factory=dict)

    @property
    def transform(self):
        """Geotransform of ``density``."""
        return self.grid.transform


def qgis_grid(x: np.ndarray, y: np.ndarray, *, radius_m: float, pixel_m: float) -> Grid:
    """QGIS Heatmap's grid: extent grown by the radius, ``ceil(size / pixel) + 1`` columns and rows.

    Examples
    --------
    >>> g = qgis_grid(np.array([0.0, 100.0]), np.array([0.0, 50.0]), radius_m=10, pixel_m=10)
    >>> (g.x0, g.y_top, g.cols, g.rows)
    (-10.0, 60.0, 13, 8)
    """
    xmin, xmax = float(np.min(x)) - radius_m, float(np.max(x)) + radius_m
    ymin, ymax = float(np.min(y)) - radius_m, float(np.max(y)) + radius_m
    rows = _side((ymax - ymin) / pixel_m, pixel_m, "height") + 1
    cols = _side((xmax - xmin) / pixel_m, pixel_m, "width") + 1
    return Grid(xmin, ymax, float(pixel_m), max(rows, 1), max(cols, 1))


def _side(pixels: float, pixel_m: float, which: str) -> int:
    """``ceil(pixels)`` as an int, or a ParameterError when no raster can be that large."""
    if not (math.isfinite(pixels) and pixels < MAX_SIDE - 1):
        raise ParameterError(
            f"a grid {which} of {pixels:.3g} pixels at pixel_m {pixel_m:g} is more than a GeoTIFF can hold "
            f"({MAX_SIDE:,}); use a larger pixel_m (25-100 m is usual for street-level hot spots), a radius_m in "
            "metres, and check the coordinates are metres"
        )
    return max(math.ceil(pixels), 0)


def boundary_grid(bounds: tuple[float, float, float, float], *, pixel_m: float) -> Grid:
    """A grid covering ``bounds`` with its corners on multiples of the pixel size.

    Examples
    --------
    >>> g = boundary_grid((1003.0, 2001.0, 1251.0, 2149.0), pixel_m=50)
    >>> (g.x0, g.y_top, g.cols, g.rows)
    (1000.0, 2150.0, 6, 3)
    """
    xmin, ymin, xmax, ymax = bounds
    if not all(math.isfinite(v) for v in bounds):
        raise ParameterError("the boundary has no finite extent (empty or broken geometry); check it opens in QGIS")
    x0 = math.floor(xmin / pixel_m) * pixel_m
    y_top = math.ceil(ymax / pixel_m) * pixel_m
    cols = max(_side((xmax - x0) / pixel_m, pixel_m, "width"), 1)
    rows = max(_side((y_top - ymin) / pixel_m, pixel_m, "height"), 1)
    return Grid(float(x0), float(y_top), float(pixel_m), rows, cols)


def _nice_up(v: float) -> float:
    """``v`` rounded up to two significant figures (for a suggested pixel size)."""
    step = 10.0 ** (math.floor(math.log10(v)) - 1)
    return round(math.ceil(v / step) * step, 10)


def kde_memory(
    g: Grid,
    *,
    radius_m: float,
    method: str = "exact",
    qgis_compat: bool = False,
    threads: int = 2,
    masked: bool = False,
) -> int:
    """Estimated peak bytes of :func:`kde_array` on grid ``g`` (the points' own arrays excluded).

    Exact: one float64 sum and one bool hit array per thread, then a float64
    and the float32 result (``9 * threads + 12`` bytes a pixel); QGIS
    compatible: float32 throughout (12); FFT: the binned, summed, hit and
    result arrays (37 a pixel) plus scipy's real FFTs of the padded grid
    (32 bytes a padded pixel) and the kernel stencil. A mask adds 1 a pixel.

    Examples
    --------
    >>> kde_memory(Grid(0.0, 0.0, 10.0, 1000, 1000), radius_m=100)
    30000000
    """
    pixels = g.rows * g.cols
    if qgis_compat:
        need = 12 * pixels
    elif method == "fft":
        b = math.ceil(radius_m / g.pixel_m)
        side = 2 * b + 1
        padded = next_fast_len(g.rows + side - 1, real=True) * next_fast_len(g.cols + side - 1, real=True)
        need = 37 * pixels + 32 * padded + 48 * side * side
    else:
        need = (9 * max(int(threads), 1) + 12) * pixels
    return int(need + (pixels if masked else 0))


def _require_grid_memory(
    g: Grid, *, radius_m: float, method: str, qgis_compat: bool, threads: int, masked: bool
) -> None:
    """Refuse, before allocating, a grid that would not fit in :func:`~hotspots.errors.memory_budget`."""
    need = kde_memory(g, radius_m=radius_m, method=method, qgis_compat=qgis_compat, threads=threads, masked=masked)
    budget = memory_budget()
    if need <= budget:
        return
    bigger = _nice_up(g.pixel_m * math.sqrt(need / budget) * 1.05)
    other = "" if masked else ", or grid='boundary' (--grid boundary) to cover only the force area"
    require_memory(
        need,
        what=f"a KDE grid of {g.cols:,} x {g.rows:,} pixels (pixel_m {g.pixel_m:g}, method {method!r})",
        fix=f"use pixel_m {bigger:g} or larger{other}",
    )


def bandwidth_arcgis(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
    """ArcGIS Pro's default search radius (Kernel Density, since 10.2.1).

    ``0.9 * min(SD, sqrt(1 / ln 2) * Dm) * n ** -0.2`` with the (weighted) mean
    centre, the (weighted) standard distance SD, the (weighted) median
    distance Dm to the mean centre, and n the number of points or the sum of
    the weights.

    Examples
    --------
    >>> round(bandwidth_arcgis(np.array([0.0, 0, 100, 100]), np.array([0.0, 100, 0, 100])), 3)
    48.23
    """
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    n = float(w.sum())
    mx, my = np.average(x, weights=w), np.average(y, weights=w)
    d = np.hypot(x - mx, y - my)
    sd = math.sqrt(np.average((x - mx) ** 2, weights=w) + np.average((y - my) ** 2, weights=w))
    order = np.argsort(d)
    cum = np.cumsum(w[order])
    dm = float(d[order][np.searchsorted(cum, cum[-1] / 2.0)])
    return 0.9 * min(sd, math.sqrt(1.0 / math.log(2.0)) * dm) * n**-0.2


def bandwidth_nrd(x: np.ndarray, y: np.ndarray, *, adjust: float = 1.0) -> float:
    """Bandwidth by sfhotspot's default rule: MASS ``bandwidth.nrd`` times ``bandwidth_adjust``.

    ``4 * 1.06 * min(sd, IQR / 1.34) * n ** -0.2``. sfhotspot writes
    ``mean(bandwidth_nrd(x), bandwidth_nrd(y))`` in R, where the second value
    is taken as ``mean``'s ``trim`` argument, so the result is the x-coordinate
    rule alone; this reproduces that (``y`` is accepted for symmetry only).

    Examples
    --------
    >>> round(bandwidth_nrd(np.arange(10.0), np.zeros(10)), 4)
    8.0997
    """
    x = np.asarray(x, dtype=float)
    q1, q3 = np.quantile(x, [0.25, 0.75])
    h = (q3 - q1) / 1.34
    return float(adjust * 4 * 1.06 * min(float(np.std(x, ddof=1)), h) * len(x) ** -0.2)


@nb.njit(cache=True, nogil=True, inline="always")
def _kernel(kid, u2, u, decay):
    if kid == 0:
        t = 1.0 - u2
        return t * t
    if kid == 1:
        return 1.0 - (1.0 - decay) * u
    if kid == 2:
        return 1.0
    if kid == 3:
        t = 1.0 - u2
        return t * t * t
    return 1.0 - u2


@nb.njit(cache=True, nogil=True)
def _scatter(px, py, w, x0, y_top, pix, rows, cols, r, kid, decay, out, hit, track_all):
    """Textbook scatter: add w * K(d / r) to every pixel centre within r of each point.

    Each row visits only the columns of the chord of the circle (plus one
    pixel of margin for rounding); the ``d <= r`` test stays exact. With
    positive weights a pixel is reached exactly when its sum is non-zero, so
    ``hit`` is only written for zero-valued contributions (a pixel centre
    exactly on the radius) unless ``track_all``.
    """
    r2 = r * r
    inv_r2 = 1.0 / r2
    for k in range(len(px)):
        x = px[k]
        y = py[k]
        wk = w[k]
        r_lo = max(0, math.ceil((y_top - y - r) / pix - 0.5))
        r_hi = min(rows - 1, math.floor((y_top - y + r) / pix - 0.5))
        for i in range(r_lo, r_hi + 1):
            dy = (y_top - (i + 0.5) * pix) - y
            dy2 = dy * dy
            rem = r2 - dy2
            if rem < 0.0:
                continue
            half = math.sqrt(rem)
            c_lo = max(0, math.ceil((x - half - x0) / pix - 0.5) - 1)
            c_hi = min(cols - 1, math.floor((x + half - x0) / pix - 0.5) + 1)
            row = out[i]
            dx0 = (x0 + (c_lo + 0.5) * pix) - x
            if kid == 0 and not track_all:  # the common case (quartic, positive weights): a tight loop
                for j in range(c_lo, c_hi + 1):
                    dx = dx0 + (j - c_lo) * pix
                    d2 = dx * dx + dy2
                    if d2 <= r2:
                        t = 1.0 - d2 * inv_r2
                        row[j] += wk * (t * t)
                        if t == 0.0:
                            hit[i, j] = True
                continue
            for j in range(c_lo, c_hi + 1):
                dx = dx0 + (j - c_lo) * pix
                d2 = dx * dx + dy2
                if d2 <= r2:
                    u2 = d2 * inv_r2
                    u = math.sqrt(u2) if kid == 1 else 0.0
                    v = wk * _kernel(kid, u2, u, decay)
                    row[j] += v
                    if track_all or v == 0.0:
                        hit[i, j] = True


@nb.njit(cache=True, nogil=True)
def _scatter_qgis(px, py, w, xmin, ymin, ymax, pix, rows, cols, r, kid, decay, scale, out):
    """QGIS 3.22's loop, reproduced: float32 sums in input order, mirrored row centres."""
    buffer = int(r / pix)
    if r - pix * buffer > 0.5:
        buffer += 1
    block = 2 * buffer + 1
    for k in range(len(px)):
        x = px[k]
        y = py[k]
        fx = (x - xmin) / pix - buffer
        fy = (y - ymin) / pix - buffer
        fyio = (ymax - y) / pix - buffer
        if fx <= -1.0 or fy <= -1.0 or fyio <= -1.0:
            continue  # QGIS's unsigned position wraps; its raster read fails and the point is lost
        xpos = int(fx)
        ypos = int(fy)
        yio = int(fyio)
        if xpos + block > cols or yio + block > rows:
            continue  # block outside the raster: GDAL refuses the read/write
        for xp in range(block):
            for yp in range(block):
                cx = (xpos + xp + 0.5) * pix + xmin
                cy = (ypos + yp + 0.5) * pix + ymin
                d = math.sqrt((cx - x) ** 2 + (cy - y) ** 2)
                if d > r:
                    continue
                u = d / r
                val = w[k] * scale * _kernel(kid, u * u, u, decay)
                i = yio + yp
                j = xpos + xp
                cur = out[i, j]
                if cur == -9999.0:
                    cur = np.float32(0.0)
                out[i, j] = np.float32(np.float64(cur) + val)


def _scale(kernel: str, output: str, radius_m: float, decay: float, qgis_compat: bool) -> float:
    if output == "raw":
        return 1.0
    area = math.pi * radius_m**2
    if kernel == "quartic":
        return (116.0 / (5.0 * area)) * (15.0 / 16.0) if qgis_compat else 3.0 / area
    if kernel == "triangular":
        return 3.0 / ((1.0 + 2.0 * decay) * area) if decay >= 0 else 1.0
    return {"uniform": 1.0, "triweight": 4.0, "epanechnikov": 2.0}[kernel] / area


def _check_metres(name: str, v) -> None:
    if isinstance(v, bool) or not (isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(v) and v > 0):
        raise ParameterError(f"{name} must be a positive number of metres; got {v!r}")


def _validate(x, y, w, radius_m, pixel_m, kernel, output, decay, crs):
    if kernel not in KERNELS:
        raise ParameterError(f"kernel must be one of {', '.join(KERNELS)}; got {kernel!r}")
    if output not in ("raw", "scaled"):
        raise ParameterError(f"output must be 'raw' or 'scaled'; got {output!r}")
    for name, v in (("radius_m", radius_m), ("pixel_m", pixel_m)):
        _check_metres(name, v)
    if (
        not isinstance(decay, (int, float))
        or not math.isfinite(decay)
        or (kernel == "triangular" and not -1e6 < decay <= 1)
    ):
        raise ParameterError(f"decay must be <= 1 (QGIS: 0 = to zero at the radius); got {decay!r}")
    if len(x) == 0:
        raise ParameterError("no points: KDE needs at least one point (check filters and the input file)")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ParameterError("x/y contain NaN or infinite values; drop rows without coordinates first")
    if w is not None and (len(w) != len(x) or not np.isfinite(w).all()):
        raise ParameterError("weight must be a finite number for every point")
    if crs is not None:
        from pyproj import CRS

        c = CRS.from_user_input(crs)
        if c.is_geographic:
            raise ParameterError(
                f"CRS {c.to_string()} is in degrees but radius_m/pixel_m are metres; project the points first "
                "(e.g. to EPSG:27700)"
            )
    elif np.abs(x).max() <= 180 and np.abs(y).max() <= 90 and (np.ptp(x) < 20 and np.ptp(y) < 20):
        raise ParameterError(
            "x/y look like longitude/latitude degrees but radius_m/pixel_m are metres; project the points "
            "(e.g. to EPSG:27700) or pass crs"
        )
    if radius_m < pixel_m:
        warnings.warn(
            f"radius_m {radius_m} is smaller than pixel_m {pixel_m}: the surface will be speckled", stacklevel=3
        )


def kde_array(
    x: np.ndarray,
    y: np.ndarray,
    *,
    radius_m: float,
    pixel_m: float,
    weights: np.ndarray | None = None,
    kernel: str = "quartic",
    decay: float = 0.0,
    output: str = "raw",
    grid: Grid | None = None,
    mask: np.ndarray | None = None,
    qgis_compat: bool = False,
    method: str = "exact",
    crs: str | None = None,
    threads: int = 2,
) -> KDEResult:
    """KDE of points in metres onto a grid (QGIS's by default).

    Parameters
    ----------
    x, y : ndarray of float, shape (n,)
        Projected coordinates in metres (EPSG:27700 for GB).
    radius_m : float
        Kernel radius (bandwidth = support), metres.
    pixel_m : float
        Pixel size, metres.
    weights : ndarray, optional
        Weight per point (e.g. harm weight); default 1.
    kernel : {"quartic", "triangular", "uniform", "triweight", "epanechnikov"}
    decay : float, default 0
        Triangular kernel only: value at the radius as a share of the peak.
    output : {"raw", "scaled"}
    grid : Grid, optional
        Default: :func:`qgis_grid` of the points.
    mask : ndarray of bool, optional
        True for pixels to keep (e.g. inside a boundary); others get nodata,
        kept pixels that no kernel reached get 0.
    qgis_compat : bool, default False
        Reproduce QGIS 3.22 exactly (see module docstring).
    method : {"exact", "fft"}
    crs : str, optional
        Checked to be projected.
    threads : int, default 2
        Threads for the exact scatter.

    Returns
    -------
    KDEResult

    Raises
    ------
    ParameterError
        Non-positive radius or pixel, unknown kernel, no points, degrees.

    Examples
    --------
    >>> r = kde_array(np.array([375000.0]), np.array([164800.0]), radius_m=100, pixel_m=10)
    >>> round(float(r.density.max()), 6), r.density.shape  # nearest pixel centre is 7.07 m away
    (0.990025, (21, 21))
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    w = None if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    _validate(x, y, w, radius_m, pixel_m, kernel, output, decay, crs)
    if method not in ("exact", "fft"):
        raise ParameterError(f"method must be 'exact' or 'fft'; got {method!r}")
    if qgis_compat and method != "exact":
        raise ParameterError("qgis_compat needs method='exact'")
    g = grid if grid is not None else qgis_grid(x, y, radius_m=radius_m, pixel_m=pixel_m)
    if mask is not None and np.shape(mask) != (g.rows, g.cols):
        raise ParameterError(f"mask has shape {np.shape(mask)}; it must match the grid ({g.rows}, {g.cols})")
    _require_grid_memory(
        g, radius_m=float(radius_m), method=method, qgis_compat=qgis_compat, threads=threads, masked=mask is not None
    )
    kid = KERNELS[kernel]
    scale = _scale(kernel, output, radius_m, decay, qgis_compat)
    wts = np.ones(len(x)) if w is None else w
    if qgis_compat:
        out = np.full((g.rows, g.cols), np.float32(NODATA), dtype=np.float32)
        # QGIS's lower bound is the extent minus the radius (not a whole number of pixels below the top)
        ymin = float(np.min(y)) - radius_m if grid is None else g.y_top - g.rows * g.pixel_m
        _scatter_qgis(
            x, y, wts, g.x0, ymin, g.y_top, g.pixel_m, g.rows, g.cols, float(radius_m), kid, float(decay), scale, out
        )
        density = out
        if mask is not None:
            density = np.where(mask, np.where(density == NODATA, 0, density), NODATA).astype(np.float32)
    else:
        if method == "exact":
            acc, hit = _exact(x, y, wts, g, float(radius_m), kid, float(decay), threads)
        else:
            acc, hit = _fft(x, y, wts, g, float(radius_m), kid, float(decay))
        acc *= scale
        if mask is not None:
            density = np.where(mask, acc, NODATA).astype(np.float32)
        else:
            density = np.where(hit, acc, NODATA).astype(np.float32)
    params = {
        "kernel": kernel,
        "decay": decay,
        "radius_m": float(radius_m),
        "pixel_m": float(pixel_m),
        "output": output,
        "method": method,
        "qgis_compat": qgis_compat,
        "n_points": int(len(x)),
        "total_weight": float(wts.sum()),
        "grid": {"x0": g.x0, "y_top": g.y_top, "rows": g.rows, "cols": g.cols},
    }
    return KDEResult(density=density, grid=g, crs=crs, params=params)


def _exact(x, y, w, g: Grid, r, kid, decay, threads):
    # police.uk points stack on map points: scatter each distinct point once (when it pays)
    sample = min(len(x), 100_000)
    _, f_s = unique_points(x[:sample], y[:sample])
    if len(f_s) < 0.8 * sample:
        codes, first = unique_points(x, y)
        ux, uy = x[first], y[first]
        uw = np.bincount(codes, weights=w, minlength=len(first))
    else:
        ux, uy, uw = x, y, w
    parts = np.array_split(np.arange(len(ux)), max(1, min(threads, len(ux))))
    outs = [np.zeros((g.rows, g.cols)) for _ in parts]
    hits = [np.zeros((g.rows, g.cols), dtype=np.bool_) for _ in parts]

    track_all = bool((uw <= 0).any())

    def run(i):
        idx = parts[i]
        _scatter(
            ux[idx],
            uy[idx],
            uw[idx],
            g.x0,
            g.y_top,
            g.pixel_m,
            g.rows,
            g.cols,
            r,
            kid,
            decay,
            outs[i],
            hits[i],
            track_all,
        )

    with ThreadPoolExecutor(len(parts)) as ex:
        list(ex.map(run, range(len(parts))))
    acc = outs[0]
    hit = hits[0]
    for o, h in zip(outs[1:], hits[1:], strict=True):
        acc += o
        hit |= h
    if not track_all:
        hit |= acc != 0
    return acc, hit


def _kernel_np(kid, u2, u, decay):
    """:func:`_kernel` on arrays (the FFT stencil)."""
    if kid == 0:
        return (1.0 - u2) ** 2
    if kid == 1:
        return 1.0 - (1.0 - decay) * u
    if kid == 2:
        return np.ones_like(u2)
    if kid == 3:
        return (1.0 - u2) ** 3
    return 1.0 - u2


def _fft(x, y, w, g: Grid, r, kid, decay):
    from scipy.signal import fftconvolve

    j = np.floor((x - g.x0) / g.pixel_m).astype(np.int64)
    i = np.floor((g.y_top - y) / g.pixel_m).astype(np.int64)
    ok = (i >= 0) & (i < g.rows) & (j >= 0) & (j < g.cols)
    binned = np.bincount(i[ok] * g.cols + j[ok], weights=w[ok], minlength=g.rows * g.cols).reshape(g.rows, g.cols)
    b = int(math.ceil(r / g.pixel_m))
    off = np.arange(-b, b + 1) * g.pixel_m
    d2 = off[None, :] ** 2 + off[:, None] ** 2
    u2 = d2 / (r * r)
    u = np.sqrt(u2)
    stencil = np.where(d2 <= r * r, _kernel_np(kid, u2, u, decay), 0.0)
    acc = fftconvolve(binned, stencil, mode="same")
    acc[np.abs(acc) < 1e-12 * max(1.0, float(np.abs(w).sum()))] = 0.0
    support = (d2 <= r * r).astype(float)
    hit = fftconvolve((binned != 0).astype(float), support, mode="same") > 0.5
    return acc, hit


def kde(
    points,
    *,
    radius_m: float | None = None,
    pixel_m: float,
    bandwidth: str = "fixed",
    bandwidth_adjust: float = 1.0,
    kernel: str = "quartic",
    decay: float = 0.0,
    output: str = "raw",
    weight: str | None = None,
    boundary=None,
    qgis_compat: bool = False,
    method: str = "exact",
    x_col: str = "x",
    y_col: str = "y",
) -> KDEResult:
    """KDE of a (Geo)DataFrame of points, with the bandwidth rule recorded.

    Parameters
    ----------
    points : DataFrame or GeoDataFrame
        Points with ``x_col``/``y_col`` in metres, or point geometries in a
        projected CRS.
    radius_m : float, optional
        Required with ``bandwidth="fixed"``.
    pixel_m : float
        Pixel size in metres.
    bandwidth : {"fixed", "arcgis", "nrd"}
        ``arcgis``: :func:`bandwidth_arcgis`; ``nrd``: sfhotspot's
        :func:`bandwidth_nrd` times ``bandwidth_adjust``.
    boundary : GeoDataFrame/GeoSeries, optional
        Align the grid to it and mask outside (``grid="boundary"``).
    kernel, decay, output, qgis_compat, method
        As :func:`kde_array`.
    weight : str, optional
        Column of weights.

    Returns
    -------
    KDEResult
        ``params["bandwidth_rule"]`` says how the radius was chosen.

    Examples
    --------
    >>> import pandas as pd
    >>> pts = pd.DataFrame({"x": [375000.0, 375020.0], "y": [164800.0, 164810.0]})
    >>> kde(pts, radius_m=200, pixel_m=50).params["bandwidth_rule"]
    'fixed'
    """
    crs = None
    if hasattr(points, "geometry") and getattr(points, "crs", None) is not None:
        crs = points.crs.to_string()
        if x_col not in points.columns:
            x, y = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
        else:
            x, y = points[x_col].to_numpy(float), points[y_col].to_numpy(float)
    else:
        missing = [c for c in (x_col, y_col) if c not in points.columns]
        if missing:
            raise ParameterError(f"points has no column(s) {', '.join(missing)}; pass x_col/y_col")
        x, y = points[x_col].to_numpy(float), points[y_col].to_numpy(float)
    w = None
    if weight is not None:
        if weight not in points.columns:
            raise ParameterError(f"weight column {weight!r} not in points")
        w = pd.to_numeric(points[weight], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = int((~np.isfinite(w)).sum())
        if bad:
            raise ParameterError(
                f"weight column {weight!r} has {bad:,} missing or non-numeric values; fill them (0 = no weight) "
                "or drop those rows"
            )
    _check_metres("pixel_m", pixel_m)
    rule = bandwidth
    if bandwidth == "fixed":
        if radius_m is None:
            raise ParameterError("radius_m is required with bandwidth='fixed' (or use bandwidth='arcgis'/'nrd')")
        _check_metres("radius_m", radius_m)
    elif bandwidth in ("arcgis", "nrd"):
        if len(x) == 0 or not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ParameterError("no points with finite x/y: a bandwidth rule needs points (check the input file)")
        if bandwidth == "arcgis":
            radius_m = bandwidth_arcgis(x, y, w)
        else:
            if not (
                isinstance(bandwidth_adjust, (int, float)) and math.isfinite(bandwidth_adjust) and bandwidth_adjust > 0
            ):
                raise ParameterError(
                    f"bandwidth_adjust must be a positive number (1 = as is); got {bandwidth_adjust!r}"
                )
            radius_m = bandwidth_nrd(x, y, adjust=bandwidth_adjust)
            rule = f"nrd x {bandwidth_adjust}"
        if not (math.isfinite(radius_m) and radius_m > 0):
            raise ParameterError(
                f"bandwidth={bandwidth!r} gives no usable radius ({radius_m!r}): the points are all at one place or "
                "too few; pass radius_m (--radius-m) with bandwidth='fixed'"
            )
    else:
        raise ParameterError(f"bandwidth must be 'fixed', 'arcgis' or 'nrd'; got {bandwidth!r}")
    grid = mask = None
    if boundary is not None:
        from rasterio.features import geometry_mask

        if boundary.crs is not None and crs is not None and boundary.crs.to_string() != crs:
            boundary = boundary.to_crs(crs)
        geom = shapely.union_all(np.asarray(boundary.geometry if hasattr(boundary, "geometry") else boundary))
        bx0, by0, bx1, by1 = (float(v) for v in shapely.bounds(geom))
        grid = boundary_grid((bx0, by0, bx1, by1), pixel_m=pixel_m)
        _require_grid_memory(
            grid, radius_m=float(radius_m), method=method, qgis_compat=qgis_compat, threads=2, masked=True
        )
        mask = geometry_mask([geom], out_shape=(grid.rows, grid.cols), transform=grid.transform, invert=True)
    res = kde_array(
        x,
        y,
        radius_m=float(radius_m),
        pixel_m=pixel_m,
        weights=w,
        kernel=kernel,
        decay=decay,
        output=output,
        grid=grid,
        mask=mask,
        qgis_compat=qgis_compat,
        method=method,
        crs=crs,
    )
    params = dict(res.params, bandwidth_rule=rule, grid_kind="boundary" if boundary is not None else "qgis")
    return KDEResult(density=res.density, grid=res.grid, crs=res.crs, nodata=res.nodata, params=params)
