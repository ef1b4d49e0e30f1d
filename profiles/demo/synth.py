"""Seeded, schema-faithful synthetic RMS, StreetSafe and A&E (ISB1594) records.

No public extract exists of force record-management (RMS) crime records,
StreetSafe reports or Cardiff Model A&E assault data, so tests, benchmarks and
the demo use these generators. They are pure (no disk), vectorised (numpy; no
Python loop per row) and deterministic for a given ``seed``: 2M RMS rows take
seconds. Every frame has ``df.attrs["synthetic"] = True`` and
``df.attrs["ground_truth"]``; anything built from them must say it is synthetic.

What is generated, around a table of night-time economy (NTE) venues
(``anchors``: ``name``, ``x``, ``y`` in EPSG:27700 metres, ``weight``):

* **NTE events** within 80 m of venues (chosen by weight), concentrated on
  Friday and Saturday nights 21:00-04:00;
* a **planted NTE hotspot**: one named venue with strongly elevated Friday and
  Saturday night volume within ``planted_radius_m``;
* **domestic abuse** (DA) events spread over a broad area around the venues
  (residential), daytime and evening, ``DA Flag`` = Y;
* **background** events over the whole bounding area;
* **planted "felt unsafe but rarely reported" places** (StreetSafe): 2-3
  places at least 300 m from every venue (labelled e.g. riverside path, park,
  underpass) with many StreetSafe reports and almost no RMS crime.

Use the **same seed** for the three generators of one area: the planted
places are drawn from the seed and the anchors only, so the layers agree;
the rows of each layer come from their own random stream.
:func:`ground_truth` returns the planted places without generating rows.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa

from hotspots.errors import ParameterError

__all__ = [
    "OFFENCE_MIX",
    "RMS_COLUMNS",
    "STREETSAFE_COLUMNS",
    "AE_COLUMNS",
    "PLACE_REASONS",
    "BEHAVIOUR_REASONS",
    "NOT_REPORTED_REASONS",
    "AGE_BANDS",
    "ground_truth",
    "generate_rms",
    "generate_streetsafe",
    "generate_ae",
]

# (HO code, description, share of all records, share DA-flagged, share with a female victim).
# Shares sum to 1. The VAWG codes must exist in configs/vawg_offences.toml (checked by
# tests/test_synth.py); 9A, 34B, 39, 49 and 58A are deliberately non-VAWG comparison offences.
# Codes and titles follow the Home Office Counting Rules classification (ONS offence hierarchy).
OFFENCE_MIX: tuple[tuple[str, str, float, float, float], ...] = (
    ("105A", "Assault without injury", 0.200, 0.38, 0.58),
    ("8N", "Assault with injury", 0.150, 0.40, 0.52),
    ("5D", "Assault with intent to cause serious harm", 0.012, 0.20, 0.25),
    ("3B", "Threats to kill", 0.010, 0.50, 0.60),
    ("8L", "Harassment", 0.060, 0.45, 0.72),
    ("8Q", "Stalking", 0.050, 0.45, 0.82),
    ("8R", "Malicious communications", 0.060, 0.30, 0.68),
    ("8U", "Controlling or coercive behaviour in an intimate or family relationship", 0.045, 1.00, 0.88),
    ("19C", "Rape of a female aged 16 and over", 0.035, 0.40, 1.00),
    ("19D", "Rape of a female child under 16", 0.006, 0.10, 1.00),
    ("20A", "Sexual assault on a female aged 13 and over", 0.048, 0.10, 1.00),
    ("17A", "Sexual assault on a male aged 13 and over", 0.006, 0.05, 0.00),
    ("88E", "Exposure and voyeurism", 0.013, 0.02, 0.85),
    ("9A", "Public fear, alarm or distress", 0.085, 0.12, 0.45),
    ("58A", "Criminal damage to a dwelling", 0.040, 0.35, 0.50),
    ("39", "Theft from the person", 0.035, 0.00, 0.55),
    ("49", "Other theft", 0.130, 0.02, 0.50),
    ("34B", "Robbery of personal property", 0.015, 0.00, 0.35),
)
_NOT_NTE = {"8U", "8R", "58A", "19D"}  # offences not generated around venues at night

RMS_COLUMNS = (
    "Occurrence Ref", "HO Code", "Offence Description", "Committed From", "Committed To", "Easting", "Northing",
    "Location Type", "DA Flag", "Alcohol Flag", "NTE Flag", "Victim Sex", "Victim Age Band", "Outcome Code",
)  # fmt: skip
STREETSAFE_COLUMNS = (
    "id", "submitted_at", "latitude", "longitude", "place_reasons", "behaviour_reasons", "not_reported_reasons",
    "gender", "age_range",
)  # fmt: skip
AE_COLUMNS = (
    "Attendance ID", "Arrival Date", "Arrival Time", "Incident Date", "Incident Time", "Incident Location",
    "Incident Easting", "Incident Northing", "Primary Means of Assault", "Patient Sex", "Patient Age Band",
)  # fmt: skip
PLACE_REASONS = (
    "Absence of CCTV", "Badly lit", "Empty buildings or isolated place", "Poor street layout or blind spots",
    "Restricted visibility", "Rundown", "Signs of drug or alcohol use", "Other",
)  # fmt: skip
BEHAVIOUR_REASONS = (
    "Verbal harassment by a single stranger", "Verbal harassment by a group", "Being followed", "Other harassment",
)  # fmt: skip
NOT_REPORTED_REASONS = (
    "Did not think police would act", "Not serious enough", "Did not know how", "Did not think it was a crime",
    "Worried about not being believed", "Other",
)  # fmt: skip
AGE_BANDS = ("0-15", "16-24", "25-34", "35-44", "45-54", "55+", "Unknown")
_LOCATION_TYPES = ("Street", "Licensed premises", "Dwelling", "Transport", "Open space", "Other")
_MEANS = ("Body part (fist, feet)", "Blunt object", "Sharp object", "Glass or bottle", "Other", "Unknown")
_GENDERS = ("Woman", "Man", "Non-binary", "Prefer not to say")
_SS_AGES = ("Under 18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_VAGUE = ("In town", "City centre", "Town centre", "Don't know", "On the street", "At a party")
_UNSAFE_KINDS = ("riverside path", "park", "underpass", "footbridge", "car park")

MIN_UNSAFE_DISTANCE_M = 300.0
_STR_DTYPE = pd.Series(["a"]).dtype  # pandas >= 3: the Arrow-backed "str" dtype
_DAY_S = 86_400
# Weekday weights, Monday first. NTE nights: the evening's weekday.
_DOW_NIGHT = np.array([0.45, 0.45, 0.55, 0.85, 2.3, 2.6, 0.8])
_DOW_FLAT = np.array([1.0, 1.0, 1.0, 1.0, 1.05, 1.2, 1.2])
_NIGHT_H = np.array([0.08, 0.12, 0.16, 0.2, 0.19, 0.13, 0.08, 0.04])  # hours 21:00 .. 04:00
_DA_H = np.array([2, 1.5, 1, 0.6, 0.4, 0.4, 0.6, 1, 1.5, 2, 2.5, 3, 3.5, 3.5, 3.5, 4, 4.5, 5, 6, 6.5, 6.5, 6, 5, 3.5])
_DAY_H = np.array([1.5, 1, 0.7, 0.5, 0.4, 0.4, 0.7, 1.5, 3, 4, 4.5, 5, 5.5, 5.5, 5.5, 6, 6.5, 6.5, 6, 5, 4, 3.5, 3, 2])
_EVENING_H = np.array(
    [2, 1.2, 0.6, 0.3, 0.2, 0.2, 0.4, 0.8, 1, 1.2, 1.4, 1.6, 1.8, 2, 2, 2.2, 2.6, 3.5, 4.5, 5, 5, 4.5, 3.5, 2.8]
)


# --------------------------------------------------------------------------- validation and layout
def _check_n(n, name="n"):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ParameterError(f"{name} must be a whole number >= 0 (rows to generate); received {n!r}")
    return int(n)


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a whole number >= 0 (e.g. seed=2024); received {seed!r}")
    return int(seed)


def _check_share(value, name, hi=0.9):
    if not isinstance(value, (int, float, np.floating)) or not 0.0 <= float(value) <= hi:
        raise ParameterError(f"{name} must be a fraction between 0 and {hi}; received {value!r}")
    return float(value)


def _period(start, end) -> tuple[int, int]:
    """Seconds since 1970 of the first instant and of the end (exclusive) of ``start..end``."""
    bounds = []
    for name, value, last in (("start", start, False), ("end", end, True)):
        text = str(value)
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", text):
            m = np.datetime64(text, "M")
            day = (m + 1).astype("M8[D]") if last else m.astype("M8[D]")
        elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = np.datetime64(text, "D") + (1 if last else 0)
        else:
            raise ParameterError(f"{name} must be 'YYYY-MM' or 'YYYY-MM-DD' (inclusive); received {value!r}")
        bounds.append(int(day.astype("M8[s]").astype(np.int64)))
    if bounds[1] - bounds[0] < 7 * _DAY_S:
        raise ParameterError(f"start..end must cover at least 7 days; received {start!r}..{end!r}")
    return bounds[0], bounds[1]


def _check_anchors(anchors):
    if not isinstance(anchors, pd.DataFrame):
        raise ParameterError(f"anchors must be a pandas DataFrame of venues; received {type(anchors).__name__}")
    missing = [c for c in ("name", "x", "y", "weight") if c not in anchors.columns]
    if missing:
        raise ParameterError(
            f"anchors is missing column(s) {missing}; it needs name, x, y (EPSG:27700 metres) and weight"
        )
    if len(anchors) < 2:
        raise ParameterError(f"anchors needs at least 2 venues; received {len(anchors)}")
    x = pd.to_numeric(anchors["x"], errors="coerce").to_numpy(float)
    y = pd.to_numeric(anchors["y"], errors="coerce").to_numpy(float)
    w = pd.to_numeric(anchors["weight"], errors="coerce").to_numpy(float)
    if not (np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(w).all()):
        raise ParameterError("anchors x, y and weight must be numbers in every row; drop or fix the blank rows")
    if (np.abs(x) <= 180).all() and (np.abs(y) <= 90).all():
        raise ParameterError(
            "anchors x/y look like longitude/latitude (degrees); reproject them to EPSG:27700 metres first"
        )
    if (w < 0).any() or w.sum() <= 0:
        raise ParameterError("anchors weight must be >= 0 with a positive total")
    names = anchors["name"].astype(str).to_numpy()
    street = anchors["street"].fillna("").astype(str).to_numpy() if "street" in anchors else np.full(len(x), "")
    return names, x, y, w, street


def _place(p, x, y, radius_m, kind=None):
    out = {"name": str(p), "x": round(float(x), 1), "y": round(float(y), 1), "radius_m": float(radius_m)}
    if kind is not None:
        out = {"name": str(p), "kind": kind, **{k: v for k, v in out.items() if k != "name"}}
    return out


def _layout(anchors, seed, planted, planted_radius_m, unsafe_places, unsafe_radius_m):
    """Anchor arrays and the planted places: depend on the anchors and the seed only."""
    names, x, y, w, street = _check_anchors(anchors)
    seed = _check_seed(seed)
    for value, name in ((planted_radius_m, "planted_radius_m"), (unsafe_radius_m, "unsafe_radius_m")):
        if not isinstance(value, (int, float, np.floating)) or not 10 <= float(value) <= 2000:
            raise ParameterError(f"{name} must be metres between 10 and 2000; received {value!r}")
    rng = np.random.default_rng([seed, 0])
    if planted is None:
        eligible = np.flatnonzero(w >= np.median(w))
        k = int(eligible[rng.integers(len(eligible))])
    else:
        hits = np.flatnonzero(names == str(planted))
        if len(hits) != 1:
            close = [s for s in names if str(planted).lower() in s.lower()][:5]
            raise ParameterError(
                f"planted={planted!r} must name exactly one anchor; found {len(hits)}"
                + (f" (similar: {close})" if close else "")
                + "; pass a name from anchors['name'] or planted=None"
            )
        k = int(hits[0])
    gt = {
        "synthetic": True,
        "seed": seed,
        "crs": "EPSG:27700",
        "planted_hotspot": {
            **_place(names[k], x[k], y[k], planted_radius_m),
            "when": "Friday and Saturday nights, 22:00-04:00",
        },
    }
    if isinstance(unsafe_places, pd.DataFrame):
        miss = [c for c in ("name", "x", "y") if c not in unsafe_places.columns]
        if miss:
            raise ParameterError(f"unsafe_places is missing column(s) {miss}; it needs name, x, y (EPSG:27700)")
        ux = unsafe_places["x"].to_numpy(float)
        uy = unsafe_places["y"].to_numpy(float)
        ur = unsafe_places["radius_m"].to_numpy(float) if "radius_m" in unsafe_places else np.full(len(ux), 100.0)
        d = np.hypot(ux[:, None] - x, uy[:, None] - y).min(axis=1)
        if (d < MIN_UNSAFE_DISTANCE_M).any():
            bad = unsafe_places["name"].astype(str).to_numpy()[d < MIN_UNSAFE_DISTANCE_M].tolist()
            raise ParameterError(
                f"unsafe_places {bad} lie within {MIN_UNSAFE_DISTANCE_M:.0f} m of an anchor; move them away from "
                "the venues (they model places that feel unsafe but are not near the NTE)"
            )
        kinds = unsafe_places["kind"].astype(str).tolist() if "kind" in unsafe_places else ["place"] * len(ux)
        places = [_place(n_, ux[i], uy[i], ur[i], kinds[i]) for i, n_ in enumerate(unsafe_places["name"].astype(str))]
    else:
        count = _check_n(unsafe_places, "unsafe_places")
        if not 1 <= count <= len(_UNSAFE_KINDS):
            raise ParameterError(f"unsafe_places must be 1-{len(_UNSAFE_KINDS)} or a DataFrame; received {count}")
        places = _draw_unsafe(rng, x, y, w, count, float(unsafe_radius_m))
    gt["unsafe_places"] = places
    ux = np.array([p["x"] for p in places])
    uy = np.array([p["y"] for p in places])
    ur = np.array([p["radius_m"] for p in places])
    bbox = (x.min() - 2000, y.min() - 2000, x.max() + 2000, y.max() + 2000)
    return {"names": names, "x": x, "y": y, "p": w / w.sum(), "street": street, "k": k,
            "ux": ux, "uy": uy, "ur": ur, "bbox": bbox, "gt": gt}  # fmt: skip


def _draw_unsafe(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, w: np.ndarray, count: int, radius_m: float):
    """Places >= 300 m + radius from every anchor, 0.4-1.5 km from a weighted venue, apart from each other."""
    places: list[dict] = []
    need = MIN_UNSAFE_DISTANCE_M + radius_m
    for i in range(count):
        for _attempt in range(50):
            j = rng.choice(len(x), p=w / w.sum())
            r = rng.uniform(need + 50, 1500, 256)
            t = rng.uniform(0, 2 * np.pi, 256)
            cx, cy = x[j] + r * np.cos(t), y[j] + r * np.sin(t)
            ok = np.hypot(cx[:, None] - x, cy[:, None] - y).min(axis=1) >= need
            for p in places:
                ok &= np.hypot(cx - p["x"], cy - p["y"]) >= 4 * radius_m
            if ok.any():
                c = int(np.argmax(ok))
                kind = _UNSAFE_KINDS[i]
                places.append(_place(f"Synthetic {kind} {i + 1}", cx[c], cy[c], radius_m, kind))
                break
        else:
            raise ParameterError(
                f"no place lies {need:.0f} m from every anchor within 1.5 km of the venues; give fewer "
                "unsafe_places, a smaller unsafe_radius_m, or an unsafe_places DataFrame"
            )
    return places


def ground_truth(
    anchors: pd.DataFrame,
    *,
    seed: int,
    planted: str | None = None,
    planted_radius_m: float = 150.0,
    unsafe_places: int | pd.DataFrame = 3,
    unsafe_radius_m: float = 100.0,
) -> dict:
    """Planted places the generators would use for these anchors and seed, without generating rows.

    Parameters
    ----------
    anchors : pandas.DataFrame
        NTE venues: ``name``, ``x``, ``y`` (EPSG:27700 metres), ``weight`` (>= 0);
        optional ``street`` (used in A&E location text).
    seed : int
        Seed shared by the three generators of one area.
    planted : str, optional
        Name of the anchor to plant the NTE hotspot at. Default: drawn from
        the seed among anchors with at least the median weight.
    planted_radius_m : float, default 150
        Radius of the planted hotspot, metres.
    unsafe_places : int or pandas.DataFrame, default 3
        How many "felt unsafe but rarely reported" places to draw (1-5), or a
        frame of ``name``, ``x``, ``y`` [, ``radius_m``, ``kind``].
    unsafe_radius_m : float, default 100
        Radius of each drawn unsafe place, metres.

    Returns
    -------
    dict
        ``synthetic`` (True), ``seed``, ``crs``, ``planted_hotspot`` (``name``, ``x``,
        ``y``, ``radius_m``, ``when``) and ``unsafe_places`` (list of ``name``,
        ``kind``, ``x``, ``y``, ``radius_m``). Frames from the generators carry
        the same dict, plus ``counts``, in ``df.attrs["ground_truth"]``.

    Raises
    ------
    ParameterError
        If the anchors, seed or radii are unusable, or ``planted`` names no anchor.

    Examples
    --------
    >>> anchors = pd.DataFrame({"name": ["Bar A", "Bar B", "Club C"], "x": [375000, 375300, 374800],
    ...                         "y": [164800, 164900, 164500], "weight": [3.0, 1.0, 2.0]})
    >>> gt = ground_truth(anchors, seed=7, planted="Club C")
    >>> gt["planted_hotspot"]["x"], gt["planted_hotspot"]["radius_m"], len(gt["unsafe_places"])
    (374800.0, 150.0, 3)
    >>> import numpy as np
    >>> bool(min(np.hypot(p["x"] - anchors.x, p["y"] - anchors.y).min() for p in gt["unsafe_places"]) >= 300)
    True
    """
    return _layout(anchors, seed, planted, planted_radius_m, unsafe_places, unsafe_radius_m)["gt"]


# --------------------------------------------------------------------------- array kernels
def _disk(rng, n, radius_m):
    r = radius_m * np.sqrt(rng.random(n))
    t = rng.uniform(0, 2 * np.pi, n)
    return r * np.cos(t), r * np.sin(t)


def _rayleigh_trunc(rng, n, sigma_m, rmax_m):
    """Offsets with a Gaussian (Rayleigh radius) profile, truncated at ``rmax_m`` (exact inverse CDF)."""
    tail = 1 - np.exp(-(rmax_m**2) / (2 * sigma_m**2))
    r = sigma_m * np.sqrt(-2 * np.log1p(-rng.random(n) * tail))
    t = rng.uniform(0, 2 * np.pi, n)
    return r * np.cos(t), r * np.sin(t)


def _days(rng, n, t0, t1, dow_w):
    """Start (seconds) of ``n`` days in [t0, t1) drawn with weekday weights (Monday first)."""
    d0, d1 = t0 // _DAY_S, t1 // _DAY_S
    days = np.arange(d0, d1, dtype=np.int64)
    p = dow_w[(days + 3) % 7]  # 1970-01-01 was a Thursday
    return days[rng.choice(len(days), n, p=p / p.sum())] * _DAY_S


def _hours(rng, n, weights, first_hour=0):
    return (first_hour + rng.choice(len(weights), n, p=weights / weights.sum())) * 3600 + rng.integers(0, 3600, n)


def _clip_period(t, t0, t1):
    t = np.where(t >= t1, t - 7 * _DAY_S, t)
    return np.clip(t, t0, t1 - 1)


def _pick(rng, n, p):
    """``n`` category indices drawn with probabilities ``p`` (normalised)."""
    p = np.asarray(p, dtype=float)
    return rng.choice(len(p), n, p=p / p.sum())


def _multi(rng, n, p, *, at_least_one):
    """Bitmask codes of multi-valued answers (bit j: answer j given), at least one bit if asked."""
    k = len(p)
    p = np.asarray(p, dtype=float)
    bits = rng.random((n, k)) < p
    if at_least_one:
        none = np.flatnonzero(~bits.any(axis=1))
        bits[none, rng.choice(k, len(none), p=p / p.sum())] = True
    return bits.astype(np.int64) @ (1 << np.arange(k))


def _joined(labels):
    """Every ';'-joined combination of ``labels``, indexed by bitmask (0: blank)."""
    k = len(labels)
    return [";".join(labels[j] for j in range(k) if c >> j & 1) or None for c in range(1 << k)]


def _col(labels, idx, blank=None):
    """A string column ``labels[idx]`` (NA where ``blank``), built in Arrow: no Python object per row."""
    mask = None if blank is None else np.asarray(blank, dtype=bool)
    return _series(pa.array(list(labels), pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64), mask=mask)))


def _series(arr):
    """Arrow strings -> pandas Series of the default string dtype (object on pandas < 3)."""
    if isinstance(_STR_DTYPE, pd.StringDtype):
        return pd.Series(pd.array(arr, dtype=_STR_DTYPE))
    return pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object)


def _digits(values, width):
    """Zero-padded decimal digits of non-negative ints as an (n, width) uint8 block (4-digit table lookups)."""
    v = np.asarray(values, dtype=np.int64)
    blocks = []
    while width > 0:
        k = min(4, width)
        blocks.append(_D4[v % 10**k][:, 4 - k :])
        v = v // 10**k
        width -= k
    return np.hstack(blocks[::-1]) if blocks else np.zeros((len(v), 0), np.uint8)


_D4 = (48 + np.arange(10_000)[:, None] // 10 ** np.arange(3, -1, -1) % 10).astype(np.uint8)


def _text(*parts, blank=None):
    """Fixed-width ASCII rows from (n, w) uint8 blocks and literal bytes, as a string column (NA where ``blank``)."""
    n = next(len(p) for p in parts if not isinstance(p, bytes))
    cols = [np.broadcast_to(np.frombuffer(p, np.uint8), (n, len(p))) if isinstance(p, bytes) else p for p in parts]
    mat = np.hstack(cols)
    w = mat.shape[1]
    offsets = pa.py_buffer(np.arange(0, w * (n + 1), w, dtype=np.int32))
    valid = None if blank is None else pa.array(~np.asarray(blank, dtype=bool)).buffers()[1]
    return _series(pa.StringArray.from_buffers(n, offsets, pa.py_buffer(mat.tobytes()), valid))


def _civil(days):
    """Days since 1970 -> (year, month, day) arrays (proleptic Gregorian; H. Hinnant's civil_from_days)."""
    z = np.asarray(days, dtype=np.int64) + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (month <= 2), month, day


def _calendar(t):
    """Seconds since 1970 -> (row index into the days spanned, (year, month, day) per day, second of day).

    Dates are then formatted once per day, not once per row.
    """
    d = np.asarray(t, dtype=np.int64) // _DAY_S
    d0, d1 = (int(d.min()), int(d.max())) if len(d) else (0, 0)
    return d - d0, _civil(np.arange(d0, d1 + 1)), np.asarray(t, dtype=np.int64) - d * _DAY_S


def _date_block(t, order):
    i, (y, mo, d), sod = _calendar(t)
    sep = np.full((len(d), 1), ord("/" if order == "dmy" else "-"), np.uint8)
    fields = [_digits(d, 2), _digits(mo, 2), _digits(y, 4)]
    if order != "dmy":
        fields.reverse()
    table = np.hstack([fields[0], sep, fields[1], sep, fields[2]])
    return table[i], sod


_HM = np.hstack(
    [_D4[np.arange(1440) // 60][:, 2:], np.full((1440, 1), ord(":"), np.uint8), _D4[np.arange(1440) % 60][:, 2:]]
)


def _fmt_dmy(t):
    return _text(_date_block(t, "dmy")[0])


def _fmt_hm(t, blank=None):
    sod = np.asarray(t, dtype=np.int64) % _DAY_S
    return _text(_HM[sod // 60], blank=blank)


def _fmt_dmy_hm(t, blank=None):
    date, sod = _date_block(t, "dmy")
    return _text(date, b" ", _HM[sod // 60], blank=blank)


def _fmt_iso_utc(t):
    date, sod = _date_block(t, "ymd")
    return _text(date, b"T", _HM[sod // 60], b":", _D4[sod % 60][:, 2:], b"Z")


def _year(t):
    i, (y, _, _), _ = _calendar(t)
    return y[i]


def _uuid4(rng, n):
    """Random (version 4 layout) UUID strings from the seeded generator."""
    hexes = np.frombuffer(rng.bytes(16 * n).hex().encode(), dtype=np.uint8).reshape(n, 32).copy()
    hexes[:, 12] = ord("4")
    hexes[:, 16] = np.frombuffer(b"89ab", np.uint8)[rng.integers(0, 4, n)]
    return _text(hexes[:, :8], b"-", hexes[:, 8:12], b"-", hexes[:, 12:16], b"-", hexes[:, 16:20], b"-", hexes[:, 20:])


def _coords(x, y, mask):
    ex = pd.array(np.round(x).astype(np.int64), dtype="Int64")
    ny = pd.array(np.round(y).astype(np.int64), dtype="Int64")
    ex[mask] = pd.NA
    ny[mask] = pd.NA
    return ex, ny


def _stamp(df, gt, generator, counts):
    df.attrs["synthetic"] = True
    df.attrs["generator"] = f"profiles.demo.synth.{generator}"
    df.attrs["ground_truth"] = {**gt, "counts": counts}
    return df


# --------------------------------------------------------------------------- places and times
def _near_venues(rng, lay, n, radius_m):
    j = rng.choice(len(lay["x"]), n, p=lay["p"])
    dx, dy = _disk(rng, n, radius_m)
    return lay["x"][j] + dx, lay["y"][j] + dy, j


def _near_planted(rng, lay, n):
    r = lay["gt"]["planted_hotspot"]["radius_m"]
    dx, dy = _rayleigh_trunc(rng, n, r / 2, r)
    return lay["x"][lay["k"]] + dx, lay["y"][lay["k"]] + dy


def _spread(rng, lay, n, sigma_m, uniform_share):
    """Around venues (sqrt-weight) with a broad Gaussian, plus a uniform share over the bounding area."""
    pw = np.sqrt(lay["p"])
    j = rng.choice(len(lay["x"]), n, p=pw / pw.sum())
    x = lay["x"][j] + rng.normal(0, sigma_m, n)
    y = lay["y"][j] + rng.normal(0, sigma_m, n)
    u = rng.random(n) < uniform_share
    x0, y0, x1, y1 = lay["bbox"]
    x[u] = rng.uniform(x0, x1, int(u.sum()))
    y[u] = rng.uniform(y0, y1, int(u.sum()))
    return x, y


def _avoid_unsafe(rng, lay, x, y, keep_share):
    """Move almost every point out of the unsafe places (they are rarely reported): returns how many moved."""

    def inside(xs, ys):
        hit = np.zeros(len(xs), dtype=bool)
        for cx, cy, r in zip(lay["ux"], lay["uy"], 1.5 * lay["ur"], strict=True):  # a few places, not rows
            hit |= (xs - cx) ** 2 + (ys - cy) ** 2 < r * r
        return hit

    move = np.flatnonzero(inside(x, y) & (rng.random(len(x)) >= keep_share))
    moved = len(move)
    step = 6 * lay["ur"].max()
    for _pass in range(5):  # a moved point may land in another place: move it again
        if not len(move):
            break
        t = rng.uniform(0, 2 * np.pi, len(move))
        x[move] += step * np.cos(t)
        y[move] += step * np.sin(t)
        move = move[inside(x[move], y[move])]
    return moved


def _night(rng, n, t0, t1, *, planted=False):
    """Night times: the evening's weekday weighted to Fri/Sat (only Fri/Sat for the planted hotspot)."""
    if planted:
        day = _days(rng, n, t0, t1, np.array([0, 0, 0, 0, 1.0, 1.0, 0]))
        t = day + _hours(rng, n, np.array([0.15, 0.22, 0.25, 0.2, 0.12, 0.06]), first_hour=22)
    else:
        day = _days(rng, n, t0, t1, _DOW_NIGHT)
        t = day + _hours(rng, n, _NIGHT_H, first_hour=21)
        early = rng.random(n) < 0.15  # early evening, 18:00-21:00
        t[early] = day[early] + _hours(rng, int(early.sum()), np.ones(3), first_hour=18)
    return _clip_period(t, t0, t1)


def _daily(rng, n, t0, t1, hour_w, dow_w=_DOW_FLAT):
    return _clip_period(_days(rng, n, t0, t1, dow_w) + _hours(rng, n, hour_w), t0, t1)


def _by_group(rng, group, table):
    """Category indices with probabilities per component (a loop over components, not rows)."""
    out = np.zeros(len(group), dtype=np.int64)
    for g, p in table.items():
        idx = np.flatnonzero(group == g)
        out[idx] = _pick(rng, len(idx), p)
    return out


# components
_PLANTED, _NTE, _DA, _BG, _UNSAFE = 0, 1, 2, 3, 4
_LOC_P = {
    _PLANTED: [0.6, 0.3, 0.0, 0.05, 0.03, 0.02], _NTE: [0.55, 0.3, 0.0, 0.08, 0.05, 0.02],
    _DA: [0.08, 0.0, 0.85, 0.01, 0.01, 0.05], _BG: [0.4, 0.05, 0.28, 0.08, 0.08, 0.11],
}  # fmt: skip
_AGE_P = {
    _PLANTED: [0.01, 0.48, 0.3, 0.11, 0.05, 0.02, 0.03], _NTE: [0.01, 0.42, 0.3, 0.13, 0.07, 0.03, 0.04],
    _DA: [0.03, 0.18, 0.3, 0.24, 0.14, 0.08, 0.03], _BG: [0.1, 0.2, 0.2, 0.17, 0.14, 0.14, 0.05],
}  # fmt: skip
# Outcome codes (Home Office outcomes framework). DA: ~3 in 4 closed cases are 15 or 16, no 21.
_OUTCOMES_DA = ([1, 2, 3, 8, 10, 14, 15, 16, 18, 20], [0.07, 0.01, 0.02, 0.01, 0.02, 0.08, 0.40, 0.35, 0.03, 0.01])
_OUTCOMES = ([1, 2, 3, 8, 9, 10, 14, 15, 16, 18, 20, 21, 22],
             [0.1, 0.01, 0.05, 0.03, 0.02, 0.02, 0.14, 0.19, 0.12, 0.25, 0.02, 0.03, 0.02])  # fmt: skip


def _offences(rng, group):
    codes = np.array([o[0] for o in OFFENCE_MIX], dtype=object)
    share = np.array([o[2] for o in OFFENCE_MIX])
    da = np.array([o[3] for o in OFFENCE_MIX])
    nte_ok = np.array([c not in _NOT_NTE for c in codes])
    weights = {_PLANTED: share * (1 - da) * nte_ok, _NTE: share * (1 - da) * nte_ok, _DA: share * da,
               _BG: share * (1 - da)}  # fmt: skip
    idx = np.empty(len(group), dtype=np.int64)
    for g, w in weights.items():
        sel = np.flatnonzero(group == g)
        idx[sel] = rng.choice(len(codes), len(sel), p=w / w.sum())
    return idx


def _split(rng, n, shares):
    return rng.multinomial(n, np.asarray(shares) / np.sum(shares))


# --------------------------------------------------------------------------- generators
def generate_rms(
    n: int,
    *,
    anchors: pd.DataFrame,
    start: str,
    end: str,
    seed: int,
    planted: str | None = None,
    planted_radius_m: float = 150.0,
    planted_share: float = 0.06,
    unsafe_places: int | pd.DataFrame = 3,
    unsafe_radius_m: float = 100.0,
) -> pd.DataFrame:
    """Synthetic force RMS crime records (one row per crime) in the export schema ``RMS_COLUMNS``.

    Parameters
    ----------
    n : int
        Rows to generate.
    anchors : pandas.DataFrame
        NTE venues: ``name``, ``x``, ``y`` (EPSG:27700 metres), ``weight``.
    start, end : str
        First and last month ``"YYYY-MM"`` (or day ``"YYYY-MM-DD"``), inclusive.
    seed : int
        Same seed, same rows. Use one seed for the three layers of an area.
    planted, planted_radius_m, unsafe_places, unsafe_radius_m
        The planted places: see :func:`ground_truth`.
    planted_share : float, default 0.06
        Share of rows at the planted hotspot (all on Friday and Saturday nights).

    Returns
    -------
    pandas.DataFrame, shape (n, 14)
        Columns ``RMS_COLUMNS``, sorted by ``Committed From``. ``Committed From``/``To``
        are "dd/mm/yyyy HH:MM" local time (about 40% of records are a 1 h - 3 day window,
        about 3% have a blank ``To``); ``Easting``/``Northing`` integer metres
        (about 2% blank); ``Outcome Code`` blank while open. Components: planted
        hotspot, NTE venues (night), domestic abuse (residential spread, day and
        evening, ``DA Flag`` Y) and background; almost none fall in the unsafe
        places. ``attrs``: ``synthetic`` (True), ``generator``, ``ground_truth``.

    Raises
    ------
    ParameterError
        On a negative ``n``, bad dates, shares or anchors.

    Examples
    --------
    >>> anchors = pd.DataFrame({"name": ["Bar A", "Bar B", "Club C"], "x": [375000, 375300, 374800],
    ...                         "y": [164800, 164900, 164500], "weight": [3.0, 1.0, 2.0]})
    >>> df = generate_rms(2000, anchors=anchors, start="2024-01", end="2024-12", seed=1)
    >>> df.shape, df.attrs["synthetic"]
    ((2000, 14), True)
    >>> df["Occurrence Ref"].is_unique, bool(df["DA Flag"].isin(["Y", "N"]).all())
    (True, True)
    >>> generate_rms(2000, anchors=anchors, start="2024-01", end="2024-12", seed=1).equals(df)
    True
    """
    n = _check_n(n)
    t0, t1 = _period(start, end)
    lay = _layout(anchors, seed, planted, planted_radius_m, unsafe_places, unsafe_radius_m)
    ps = _check_share(planted_share, "planted_share")
    rng = np.random.default_rng([lay["gt"]["seed"], 1])
    sizes = _split(rng, n, [ps, 0.30 * (1 - ps), 0.37 * (1 - ps), 0.33 * (1 - ps)])
    group = np.repeat(np.array([_PLANTED, _NTE, _DA, _BG], dtype=np.int8), sizes)

    xp, yp = _near_planted(rng, lay, sizes[0])
    xn, yn, _ = _near_venues(rng, lay, sizes[1], 80.0)
    xd, yd = _spread(rng, lay, sizes[2], 1200.0, 0.25)
    xb, yb = _spread(rng, lay, sizes[3], 600.0, 0.5)
    x, y = np.concatenate([xp, xn, xd, xb]), np.concatenate([yp, yn, yd, yb])
    moved = _avoid_unsafe(rng, lay, x, y, keep_share=0.02)
    t = np.concatenate([
        _night(rng, sizes[0], t0, t1, planted=True), _night(rng, sizes[1], t0, t1),
        _daily(rng, sizes[2], t0, t1, _DA_H), _daily(rng, sizes[3], t0, t1, _DAY_H),
    ])  # fmt: skip
    t = t // 60 * 60

    # Committed From/To: a window around the true time for ~40%; a few blank To.
    p_window = np.array([0.2, 0.25, 0.5, 0.5])[group]
    window = rng.random(n) < p_window
    night_group = group <= _NTE
    hours = np.where(night_group, rng.uniform(1, 4, n), np.exp(rng.uniform(0, np.log(72), n)))
    dur = np.where(window, np.round(hours * 4) * 900, 0).astype(np.int64)
    t_from = t - (rng.random(n) * dur // 60 * 60).astype(np.int64)
    t_from = np.where(t_from < t0, t, t_from)  # a window never starts before the period
    t_to = t_from + dur
    blank_to = ~window & (rng.random(n) < 0.05)

    order = np.argsort(t_from, kind="stable")
    group, x, y, blank_to = group[order], x[order], y[order], blank_to[order]
    t_from, t_to = t_from[order], t_to[order]

    off = _offences(rng, group)
    codes = [o[0] for o in OFFENCE_MIX]
    female = np.array([o[4] for o in OFFENCE_MIX])[off]
    u = rng.random(n)
    sex = (u >= female).astype(np.int64) + (u >= female + (1 - female) * 0.96)  # F, M, U
    age = _by_group(rng, group, _AGE_P)
    age[off == codes.index("19D")] = 0  # "0-15"
    adult = np.isin(off, [codes.index(c) for c in ("19C", "20A", "8U")])
    age[adult & (age == 0)] = 1  # "16-24"
    da = group == _DA
    loc = _by_group(rng, group, _LOC_P)
    alcohol = rng.random(n) < np.array([0.75, 0.6, 0.25, 0.08])[group]
    nte = rng.random(n) < np.array([0.92, 0.85, 0.0, 0.03])[group]

    # Outcomes: more open cases towards the end of the period.
    recency = np.clip(1 - (t1 - t_from) / (120 * _DAY_S), 0, 1)
    is_open = rng.random(n) < 0.08 + 0.5 * recency
    closed = np.where(da, rng.choice(_OUTCOMES_DA[0], n, p=_OUTCOMES_DA[1]),
                      rng.choice(_OUTCOMES[0], n, p=_OUTCOMES[1]))  # fmt: skip
    outcome = pd.array(closed, dtype="Int64")
    outcome[is_open] = pd.NA

    # Occurrence Ref: AS + yy + 8-digit number, increasing within each year with gaps.
    year = _year(t_from)
    gaps = rng.integers(1, 4, n)
    cum = np.cumsum(gaps)
    first = np.searchsorted(year, year, side="left")  # first row of each row's year (rows sorted by time)
    seq = cum - cum[first] + gaps[first] + int(rng.integers(1000, 5000))
    ref = _text(b"AS", _digits(year % 100, 2), _digits(seq, 8))
    east, north = _coords(x, y, rng.random(n) < 0.02)

    df = pd.DataFrame({
        "Occurrence Ref": ref, "HO Code": _col(codes, off),
        "Offence Description": _col([o[1] for o in OFFENCE_MIX], off),
        "Committed From": _fmt_dmy_hm(t_from), "Committed To": _fmt_dmy_hm(t_to, blank=blank_to),
        "Easting": east, "Northing": north, "Location Type": _col(_LOCATION_TYPES, loc),
        "DA Flag": _col("NY", da), "Alcohol Flag": _col("NY", alcohol), "NTE Flag": _col("NY", nte),
        "Victim Sex": _col("FMU", sex), "Victim Age Band": _col(AGE_BANDS, age), "Outcome Code": outcome,
    })  # fmt: skip
    counts = {"rows": n, "planted_hotspot": int(sizes[0]), "nte_venues": int(sizes[1]),
              "domestic_abuse": int(sizes[2]), "background": int(sizes[3]),
              "moved_out_of_unsafe_places": int(moved)}  # fmt: skip
    return _stamp(df, lay["gt"], "generate_rms", counts)


def generate_streetsafe(
    n: int,
    *,
    anchors: pd.DataFrame,
    start: str,
    end: str,
    seed: int,
    planted: str | None = None,
    planted_radius_m: float = 150.0,
    unsafe_places: int | pd.DataFrame = 3,
    unsafe_radius_m: float = 100.0,
    unsafe_share: float = 0.3,
) -> pd.DataFrame:
    """Synthetic StreetSafe reports (anonymous "I felt unsafe here" pins) in the schema ``STREETSAFE_COLUMNS``.

    Parameters
    ----------
    n : int
        Reports to generate.
    anchors, start, end, seed, planted, planted_radius_m, unsafe_places, unsafe_radius_m
        As :func:`generate_rms`; use the same seed so the planted places agree.
    unsafe_share : float, default 0.3
        Share of reports in the planted unsafe places (split evenly between them).

    Returns
    -------
    pandas.DataFrame, shape (n, 9)
        Columns ``STREETSAFE_COLUMNS``, sorted by ``submitted_at`` (ISO 8601 UTC,
        "2024-03-01T22:14:03Z"). ``latitude``/``longitude`` WGS84, 6 decimals.
        ``place_reasons``, ``behaviour_reasons`` and ``not_reported_reasons`` are
        ';'-separated values from ``PLACE_REASONS``, ``BEHAVIOUR_REASONS`` and
        ``NOT_REPORTED_REASONS`` (each report has a place or a behaviour answer);
        ``gender`` and ``age_range`` are optional (blank about 30%).
        Components: near venues at night, the unsafe places (evening and
        night, mostly place reasons) and scattered background.

    Raises
    ------
    ParameterError
        On a negative ``n``, bad dates, shares or anchors.

    Examples
    --------
    >>> anchors = pd.DataFrame({"name": ["Bar A", "Bar B", "Club C"], "x": [375000, 375300, 374800],
    ...                         "y": [164800, 164900, 164500], "weight": [3.0, 1.0, 2.0]})
    >>> ss = generate_streetsafe(500, anchors=anchors, start="2024-01", end="2024-12", seed=1)
    >>> ss.shape, bool(ss["submitted_at"].str.endswith("Z").all())
    ((500, 9), True)
    >>> sorted(set(";".join(ss["place_reasons"].dropna()).split(";"))) == sorted(PLACE_REASONS)
    True
    """
    from pyproj import Transformer

    n = _check_n(n)
    t0, t1 = _period(start, end)
    lay = _layout(anchors, seed, planted, planted_radius_m, unsafe_places, unsafe_radius_m)
    us = _check_share(unsafe_share, "unsafe_share")
    rng = np.random.default_rng([lay["gt"]["seed"], 2])
    k = len(lay["ux"])
    sizes = _split(rng, n, [0.7 * (1 - us), 0.3 * (1 - us), us])
    xv, yv, _ = _near_venues(rng, lay, sizes[0], 150.0)
    xb, yb = _spread(rng, lay, sizes[1], 700.0, 0.1)
    which = rng.integers(0, k, sizes[2])
    dx, dy = _rayleigh_trunc(rng, sizes[2], lay["ur"][which] / 2, lay["ur"][which])
    xu, yu = lay["ux"][which] + dx, lay["uy"][which] + dy
    x, y = np.concatenate([xv, xb, xu]), np.concatenate([yv, yb, yu])
    group = np.repeat(np.array([_NTE, _BG, _UNSAFE], dtype=np.int8), sizes)
    local = np.concatenate([
        _night(rng, sizes[0], t0, t1), _daily(rng, sizes[1], t0, t1, _EVENING_H),
        _daily(rng, sizes[2], t0, t1, _EVENING_H),
    ])  # fmt: skip
    local = local + np.minimum(rng.exponential(3 * 3600, n), 48 * 3600).astype(np.int64)  # submitted later
    # Wall-clock Europe/London -> UTC (BST: one hour behind), vectorised by pandas.
    wall = pd.DatetimeIndex(local.astype("M8[s]"))
    utc = wall.tz_localize("Europe/London", ambiguous=np.zeros(n, bool), nonexistent="shift_forward")
    t = utc.tz_convert("UTC").tz_localize(None).to_numpy().astype("M8[s]").astype(np.int64)
    order = np.argsort(t, kind="stable")
    group, x, y, t = group[order], x[order], y[order], t[order]

    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(x, y)
    place_p = {_NTE: [0.15, 0.2, 0.05, 0.1, 0.1, 0.1, 0.45, 0.06],
               _BG: [0.25, 0.35, 0.2, 0.15, 0.15, 0.2, 0.15, 0.08],
               _UNSAFE: [0.45, 0.6, 0.45, 0.3, 0.25, 0.2, 0.1, 0.03]}  # fmt: skip
    beh_p = {_NTE: [0.45, 0.4, 0.2, 0.1], _BG: [0.3, 0.2, 0.25, 0.1], _UNSAFE: [0.12, 0.1, 0.25, 0.05]}
    has_place = rng.random(n) < np.array([0, 0.6, 0, 0.75, 0.97])[group]
    has_beh = ~has_place | (rng.random(n) < np.array([0, 0.7, 0, 0.5, 0.25])[group])
    place = np.zeros(n, dtype=np.int64)
    beh = np.zeros(n, dtype=np.int64)
    for g in (_NTE, _BG, _UNSAFE):
        idx = np.flatnonzero(group == g)
        place[idx] = _multi(rng, len(idx), place_p[g], at_least_one=True)
        beh[idx] = _multi(rng, len(idx), beh_p[g], at_least_one=True)
    place[~has_place] = 0
    beh[~has_beh] = 0
    not_reported = _multi(rng, n, [0.35, 0.45, 0.2, 0.2, 0.12, 0.05], at_least_one=True)
    not_reported[rng.random(n) < 0.1] = 0
    gender = _pick(rng, n, [0.82, 0.13, 0.02, 0.03])
    no_gender = rng.random(n) < 0.3
    age = _pick(rng, n, [0.04, 0.3, 0.3, 0.16, 0.1, 0.06, 0.04])
    no_age = rng.random(n) < 0.35

    df = pd.DataFrame({
        "id": _uuid4(rng, n), "submitted_at": _fmt_iso_utc(t), "latitude": np.round(lat, 6),
        "longitude": np.round(lon, 6), "place_reasons": _col(_joined(PLACE_REASONS), place),
        "behaviour_reasons": _col(_joined(BEHAVIOUR_REASONS), beh),
        "not_reported_reasons": _col(_joined(NOT_REPORTED_REASONS), not_reported),
        "gender": _col(_GENDERS, gender, no_gender), "age_range": _col(_SS_AGES, age, no_age),
    })  # fmt: skip
    counts = {"rows": n, "near_venues": int(sizes[0]), "background": int(sizes[1]), "unsafe_places": int(sizes[2]),
              "per_unsafe_place": np.bincount(which, minlength=k).tolist()}  # fmt: skip
    return _stamp(df, lay["gt"], "generate_streetsafe", counts)


def generate_ae(
    n: int,
    *,
    anchors: pd.DataFrame,
    start: str,
    end: str,
    seed: int,
    planted: str | None = None,
    planted_radius_m: float = 150.0,
    planted_share: float = 0.25,
    unsafe_places: int | pd.DataFrame = 3,
    unsafe_radius_m: float = 100.0,
) -> pd.DataFrame:
    """Synthetic A&E assault attendances (Cardiff Model, ISB1594 fields) in the schema ``AE_COLUMNS``.

    Parameters
    ----------
    n : int
        Attendances to generate.
    anchors, start, end, seed, planted, planted_radius_m, unsafe_places, unsafe_radius_m
        As :func:`generate_rms`; use the same seed so the planted places agree.
        An optional ``street`` column of ``anchors`` is used in the location text.
    planted_share : float, default 0.25
        Share of assaults at the planted hotspot (Friday and Saturday nights).

    Returns
    -------
    pandas.DataFrame, shape (n, 11)
        Columns ``AE_COLUMNS``, sorted by arrival. Dates "dd/mm/yyyy", times "HH:MM";
        arrival 0-3 h after the incident; ``Incident Time`` blank about 10%.
        ``Incident Location`` is free text ("Outside <venue>, <street>", "Inside
        <venue>"...); about 15% are vague ("In town") and then ``Incident
        Easting``/``Northing`` (integer metres, as geocoded by the CSP analyst)
        are blank. Components: planted hotspot, venues (night) and other streets.

    Raises
    ------
    ParameterError
        On a negative ``n``, bad dates, shares or anchors.

    Examples
    --------
    >>> anchors = pd.DataFrame({"name": ["Bar A", "Bar B", "Club C"], "x": [375000, 375300, 374800],
    ...                         "y": [164800, 164900, 164500], "weight": [3.0, 1.0, 2.0],
    ...                         "street": ["High Street", "Broad Street", ""]})
    >>> ae = generate_ae(300, anchors=anchors, start="2024-01", end="2024-12", seed=1, planted="Club C")
    >>> ae.shape, bool(ae["Incident Location"].str.contains("Club C").mean() > 0.2)
    ((300, 11), True)
    """
    n = _check_n(n)
    t0, t1 = _period(start, end)
    lay = _layout(anchors, seed, planted, planted_radius_m, unsafe_places, unsafe_radius_m)
    ps = _check_share(planted_share, "planted_share")
    rng = np.random.default_rng([lay["gt"]["seed"], 3])
    sizes = _split(rng, n, [ps, 0.7 * (1 - ps), 0.3 * (1 - ps)])
    group = np.repeat(np.array([_PLANTED, _NTE, _BG], dtype=np.int8), sizes)
    xp, yp = _near_planted(rng, lay, sizes[0])
    xv, yv, jv = _near_venues(rng, lay, sizes[1], 30.0)
    xo, yo = _spread(rng, lay, sizes[2], 500.0, 0.2)
    x, y = np.concatenate([xp, xv, xo]), np.concatenate([yp, yv, yo])
    moved = _avoid_unsafe(rng, lay, x, y, keep_share=0.02)
    # The venue named in the text: the planted one, the drawn one, or the nearest street's venue.
    pw = np.sqrt(lay["p"])
    jo = rng.choice(len(lay["x"]), sizes[2], p=pw / pw.sum())
    venue = np.concatenate([np.full(sizes[0], lay["k"]), jv, jo])
    t_inc = np.concatenate([
        _night(rng, sizes[0], t0, t1, planted=True), _night(rng, sizes[1], t0, t1),
        _daily(rng, sizes[2], t0, t1, _EVENING_H, _DOW_NIGHT),
    ])  # fmt: skip
    t_inc = t_inc // 60 * 60
    t_arr = t_inc + np.minimum(5 + rng.exponential(45, n), 180).astype(np.int64) * 60
    order = np.argsort(t_arr, kind="stable")
    group, x, y, venue = group[order], x[order], y[order], venue[order]
    t_inc, t_arr = t_inc[order], t_arr[order]

    # Location text: 4 templates per anchor (a table of anchors, not rows), then the vague phrases.
    templates = []
    for name, street in zip(lay["names"], lay["street"], strict=True):
        outside = f"Outside {name}, {street}" if street else f"Outside {name}"
        templates += [outside, f"Inside {name}", f"Near {name}", f"On {street}" if street else f"Street near {name}"]
    variant = np.where(group == _BG, 3, _pick(rng, n, [0.6, 0.25, 0.15]))
    text = venue * 4 + variant
    vague = rng.random(n) < 0.15
    text[vague] = len(templates) + _pick(rng, int(vague.sum()), np.ones(len(_VAGUE)))
    east, north = _coords(x, y, vague)
    sex = _pick(rng, n, [0.62, 0.35, 0.03])
    age = _pick(rng, n, [0.04, 0.36, 0.28, 0.15, 0.09, 0.05, 0.03])
    means = _pick(rng, n, [0.6, 0.08, 0.06, 0.1, 0.06, 0.1])
    year = _year(t_arr)
    ref = _text(b"AE", _digits(year % 100, 2), b"-", _digits(np.arange(1, n + 1), 7))

    df = pd.DataFrame({
        "Attendance ID": ref, "Arrival Date": _fmt_dmy(t_arr), "Arrival Time": _fmt_hm(t_arr),
        "Incident Date": _fmt_dmy(t_inc), "Incident Time": _fmt_hm(t_inc, blank=rng.random(n) < 0.1),
        "Incident Location": _col(templates + list(_VAGUE), text), "Incident Easting": east,
        "Incident Northing": north, "Primary Means of Assault": _col(_MEANS, means),
        "Patient Sex": _col("MFU", sex), "Patient Age Band": _col(AGE_BANDS, age),
    })  # fmt: skip
    counts = {"rows": n, "planted_hotspot": int(sizes[0]), "near_venues": int(sizes[1]), "other": int(sizes[2]),
              "vague_location": int(vague.sum()), "moved_out_of_unsafe_places": int(moved)}  # fmt: skip
    return _stamp(df, lay["gt"], "generate_ae", counts)
