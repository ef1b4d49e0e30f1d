"""Scan shared output files for small counts, the way a partner reading them would.

Used by ``tests/test_shared_outputs.py``. Each scanner yields ``(where, value)``
for every published count in 1..k-1. What counts as a count:

* JSON (``summary.json``): any number under a key named like a count
  (:data:`COUNT_KEYS`), or under a source name in a place's ``components``;
* HTML tables (``report.html``): every numeric cell in a column whose header
  is not one of the known non-count headers (:data:`NOT_COUNT_HEADER`);
* GeoJSON inside ``map.html``: every numeric-looking property that is not a
  known label (:data:`NOT_COUNT_PROPS`); tooltips show properties verbatim.
  ``gi_z`` is deliberately not a label: z-scores of every cell let a partner
  solve the k-ring sums for the counts, so a shared map must not carry them;
* CSV: every numeric column not named like a label.

The rule is deliberately wide: a new published number must be classified
here before it may be small.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

COUNT_KEYS = {
    "count",
    "counts",
    "total",
    "reports",
    "recorded",
    "recorded_count",
    "perception_count",
    "crime_within",
    "ae_within",
    "events",
    "n_events",
    "n_points",
    "size",
    "nearest_nte",
    "rows",
}
SOURCE_KEYS = {"police_uk", "rms", "streetsafe", "ae"}  # counts when under a place's "components"
# JSON keys that hold counts only inside these parents are fine elsewhere (e.g. "total" of harm is index units)
NOT_COUNT_PARENTS = {"harm", "by_threat_area_harm", "provenance", "definitions", "period"}

NOT_COUNT_HEADER = re.compile(
    r"rank|decile|\bz\b|score|ratio|share|rate|pai|pei|rri|sha|period|month|cell|^id$|file|licence|reason|"
    r"^source$|venue|postcode|closing|recommendation|finding|place|time|partner|tactic|item|value|layer|"
    r"map point|lsoa|rows read|accepted|quarantined|method|n cells|harm",
    re.IGNORECASE,
)
NOT_COUNT_PROPS = {"h3_cell", "name", "class", "cluster", "risk_rank", "_s", "_b", "_t", "_c", "label", "lsoa",
                   "gi_bin", "rank", "streets", "where", "grid_ref", "check"}
_NUMBER = re.compile(r"^\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*$")


def _small(value: object, k: int) -> float | None:
    """The number in ``value`` when it is a count in 1..k-1, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        v = float(value)
    elif isinstance(value, str):
        m = _NUMBER.match(value)
        if not m:
            return None
        v = float(m.group(1).replace(",", ""))
    else:
        return None
    return v if 0 < v < k else None


def scan_json(obj: object, k: int, path: str = "") -> Iterator[tuple[str, float]]:
    """Small counts in a parsed JSON document.

    Examples
    --------
    >>> list(scan_json({"top_places": [{"components": {"ae": 3, "rms": 40}}]}, 10))
    [('top_places[0].components.ae', 3.0)]
    >>> list(scan_json({"harm": {"total": 3.5}}, 10))
    []
    """
    if isinstance(obj, dict):
        for key, v in obj.items():
            where = f"{path}.{key}" if path else str(key)
            if key in NOT_COUNT_PARENTS:
                continue
            is_count = key in COUNT_KEYS or (key in SOURCE_KEYS and path.endswith("components"))
            if is_count and not isinstance(v, dict | list):
                s = _small(v, k)
                if s is not None:
                    yield where, s
            yield from scan_json(v, k, where)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from scan_json(v, k, f"{path}[{i}]")


class _Tables(HTMLParser):
    """Every <table> as (headers, rows) with cell text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._is_th = False
        self._stack: list[tuple[list[str], list[list[str]]]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self._stack.append(([], []))
        elif tag == "tr" and self._stack:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell, self._is_th = [], tag == "th"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(("\x00" if self._is_th else "") + " ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._stack:
            heads, rows = self._stack[-1]
            if self._row and all(c.startswith("\x00") for c in self._row) and not heads:
                heads.extend(c[1:] for c in self._row)
            elif self._row:
                rows.append([c.lstrip("\x00") for c in self._row])
            self._row = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def scan_html_tables(html: str, k: int) -> Iterator[tuple[str, float]]:
    """Small counts in the count columns of every HTML table.

    Examples
    --------
    >>> page = "<table><tr><th>rank</th><th>crimes</th></tr><tr><td>1</td><td>3</td></tr></table>"
    >>> list(scan_html_tables(page, 5))
    [('table 0 row 0 column crimes', 3.0)]
    """
    p = _Tables()
    p.feed(html)
    for t, (heads, rows) in enumerate(p.tables):
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                head = heads[c] if c < len(heads) else ""
                if not head or NOT_COUNT_HEADER.search(head):
                    continue
                s = _small(cell, k)
                if s is not None:
                    yield f"table {t} row {r} column {head}", s


def geojson_properties(html: str) -> list[dict]:
    """The ``properties`` of every GeoJSON feature embedded in a folium page."""
    return [json.loads(m.group(1)) for m in re.finditer(r'"properties":\s*(\{[^{}]*\})', html)]


def scan_map_html(html: str, k: int) -> Iterator[tuple[str, float]]:
    """Small counts among the feature properties (tooltips and popups) of a folium map.

    Examples
    --------
    >>> page = '{"type": "Feature", "properties": {"h3_cell": "89", "count": "3"}}'
    >>> list(scan_map_html(page, 5))
    [('feature 0 count', 3.0)]
    """
    for i, props in enumerate(geojson_properties(html)):
        for key, v in props.items():
            if key in NOT_COUNT_PROPS:
                continue
            s = _small(v, k)
            if s is not None:
                yield f"feature {i} {key}", s


def scan_csv(text: str, k: int) -> Iterator[tuple[str, float]]:
    """Small counts in a CSV's count-like columns."""
    for r, row in enumerate(csv.DictReader(io.StringIO(text))):
        for key, v in row.items():
            if key is None or NOT_COUNT_HEADER.search(key) or key in NOT_COUNT_PROPS:
                continue
            s = _small(v, k)
            if s is not None:
                yield f"row {r} column {key}", s


def scan_folder(folder: Path, k: int) -> list[tuple[str, str, float]]:
    """Every small count in every file of a shared output folder: (file, where, value)."""
    leaks: list[tuple[str, str, float]] = []
    for f in sorted(folder.rglob("*")):
        if not f.is_file():
            continue
        name = f.name
        if f.suffix == ".json":
            hits = scan_json(json.loads(f.read_text(encoding="utf-8")), k)
        elif name == "map.html" or f.suffix == ".geojson":
            text = f.read_text(encoding="utf-8")
            hits = scan_map_html(text, k) if f.suffix == ".html" else scan_json(json.loads(text), k)
        elif f.suffix == ".html":
            hits = scan_html_tables(f.read_text(encoding="utf-8"), k)
        elif f.suffix == ".csv":
            hits = scan_csv(f.read_text(encoding="utf-8"), k)
        else:
            continue
        leaks += [(str(f.relative_to(folder)), w, v) for w, v in hits]
    return leaks
