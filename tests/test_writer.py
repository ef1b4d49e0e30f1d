"""The one tabular writer: every string cell a spreadsheet would run as a formula is neutralised, and recoverable."""

from __future__ import annotations

import csv
import gzip
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from hotspots.io import restore_cells, write_csv, write_ingest_outputs

PAYLOADS = ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
SAFE = ["The Bar", "", "O'Neill's", "'already quoted", "2+3", "a=b"]
#: what a spreadsheet would evaluate: a formula character first (hand-written, not the module's pattern)
DANGER = re.compile(r"^[=+\-@\t\r]")


def _cells(path) -> list[list[str]]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8")
    delim = "\t" if path.name.removesuffix(".gz").endswith(".tsv") else ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _frame() -> pd.DataFrame:
    names = PAYLOADS + SAFE
    return pd.DataFrame(
        {
            "name": names,
            "category": pd.Categorical(names),
            "mixed": pd.Series([*names[:-1], 7], dtype=object),
            "score": np.linspace(-3, 3, len(names)),  # negative numbers are numbers, not formulas
            "n": np.arange(len(names)) - 5,
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".tsv"])
def test_every_string_cell_is_neutralised_and_numbers_stay(tmp_path, suffix):
    df = _frame()
    rows = _cells(write_csv(df, tmp_path / f"t{suffix}"))
    header, body = rows[0], rows[1:]
    assert header == ["name", "category", "mixed", "score", "n"]
    assert len(body) == len(df)  # a CR inside a cell did not split a row
    for row in body:
        for col in ("name", "category", "mixed"):
            assert not DANGER.match(row[header.index(col)]), (col, row)
    for i, payload in enumerate(PAYLOADS):
        assert body[i][0] == "'" + payload
    assert [r[0] for r in body[len(PAYLOADS) :]] == SAFE
    assert [float(r[3]) for r in body] == pytest.approx(df["score"].tolist())
    assert [int(r[4]) for r in body] == df["n"].tolist()
    assert body[-1][2] == "7"


def test_round_trip_recovers_every_original(tmp_path):
    df = _frame()
    back = pd.read_csv(write_csv(df, tmp_path / "t.csv"), keep_default_na=False, dtype={"name": str})
    assert restore_cells(back["name"]).tolist() == df["name"].tolist()
    assert back["n"].tolist() == df["n"].tolist()


def test_arrow_table_and_dictionary_columns(tmp_path):
    names = PAYLOADS + SAFE
    table = pa.table(
        {
            "raw": pa.array(names),
            "reason": pa.array(names).dictionary_encode(),
            "line": pa.array(range(len(names)), pa.int64()),
            "big": pa.array(names, pa.large_string()),
        }
    )
    rows = _cells(write_csv(table, tmp_path / "q.csv"))
    assert rows[0] == ["raw", "reason", "line", "big"]
    body = rows[1:]
    assert len(body) == len(names)
    for row in body:
        assert not any(DANGER.match(c) for c in (row[0], row[1], row[3])), row
    assert [r[2] for r in body] == [str(i) for i in range(len(names))]
    assert restore_cells(pd.Series([r[0] for r in body])).tolist() == names


def test_header_names_are_neutralised(tmp_path):
    rows = _cells(write_csv(pd.DataFrame({"=cmd": [1], "ok": ["x"]}), tmp_path / "h.csv"))
    assert rows[0] == ["'=cmd", "ok"]


def test_quarantine_raw_column_is_neutralised(tmp_path):
    """The verbatim quarantine goes through the same writer (a reader's result object is all it needs)."""

    class Result:
        events = pa.table({"x": pa.array([], pa.float64()), "y": pa.array([], pa.float64())})
        quarantine = pa.table(
            {"file": ["a.csv"] * len(PAYLOADS), "line": list(range(2, 2 + len(PAYLOADS))), "raw": PAYLOADS}
        )
        reconciliation = {"rows_read": len(PAYLOADS)}

    paths = write_ingest_outputs(Result(), tmp_path / "out")
    rows = _cells(paths["quarantine"])
    raw = [r[rows[0].index("raw")] for r in rows[1:]]
    assert len(raw) == len(PAYLOADS)
    assert not any(DANGER.match(c) for c in raw)
    assert restore_cells(pd.Series(raw)).tolist() == PAYLOADS


def test_restricted_tables_are_neutralised(tmp_path):
    """place_scores, perception_gap, venue_risk, risky_facilities, weekday_hour_*: rendered, then one writer."""
    import dataclasses
    import sys

    from hotspots.io import write_files
    from profiles.render.tables import render_tables

    sys.path.insert(0, str(Path(__file__).parent))
    from numbers_factory import make_numbers

    n = make_numbers(0)
    venue = pd.DataFrame({"name": PAYLOADS, "risk_rank": range(1, 1 + len(PAYLOADS)), "x": -1.0})
    places = n.fused.places.assign(label=[PAYLOADS[i % len(PAYLOADS)] for i in range(len(n.fused.places))])
    n = dataclasses.replace(
        n,
        fused=dataclasses.replace(n.fused, places=places),
        venues=dataclasses.replace(n.venues, risk=venue, risky=venue),
        when=dataclasses.replace(
            n.when, weekday_hour={"rms": pd.DataFrame({"=x": [1]}, index=pd.Index(["Mon"], name="weekday"))}
        ),
    )
    write_files(tmp_path, render_tables(n))
    written = sorted(tmp_path.glob("*.csv"))
    assert {"place_scores.csv", "venue_risk.csv", "risky_facilities.csv", "weekday_hour_rms.csv"} <= {
        p.name for p in written
    }
    for p in written:
        for row in _cells(p):
            assert not any(DANGER.match(c) and not _number(c) for c in row), (p.name, row)
    risk = _cells(tmp_path / "venue_risk.csv")
    assert restore_cells(pd.Series([r[0] for r in risk[1:]])).tolist() == PAYLOADS
    scores = pd.read_csv(tmp_path / "place_scores.csv", dtype=str, keep_default_na=False)
    assert restore_cells(scores["label"]).tolist() == places["label"].tolist()


@pytest.mark.parametrize("kind", ["pandas", "arrow"])
def test_gzip_output_is_the_plain_csv_and_repeatable(tmp_path, kind):
    df = _frame().drop(columns="mixed")
    data = pa.Table.from_pandas(df, preserve_index=False) if kind == "arrow" else df
    plain = write_csv(data, tmp_path / "t.csv").read_bytes()
    first = write_csv(data, tmp_path / "a.csv.gz").read_bytes()
    second = write_csv(data, tmp_path / "b.csv.gz").read_bytes()
    assert first == second and first[4:8] == b"\0\0\0\0"  # same table, same bytes (gzip mtime 0)
    assert gzip.decompress(first) == plain


def test_arrow_tables_are_written_batch_by_batch_with_the_same_result(tmp_path):
    from hotspots.io import _write_arrow_csv

    names = PAYLOADS + SAFE
    table = pa.table({"raw": pa.array(names), "reason": pa.array(names).dictionary_encode(), "n": range(len(names))})
    _write_arrow_csv(table, tmp_path / "small.csv", sep=",", compresslevel=6, rows=3)  # four batches
    whole = write_csv(table, tmp_path / "whole.csv")
    assert (tmp_path / "small.csv").read_bytes() == whole.read_bytes()
    body = _cells(whole)[1:]
    assert restore_cells(pd.Series([r[1] for r in body])).tolist() == names


# --- write_files: content keyed by relative path, the one writer of a run ------------------------------------


def _kde_result():
    from hotspots.kde import kde_array

    return kde_array(np.array([375000.0, 375050.0]), np.array([164000.0, 164020.0]), radius_m=100, pixel_m=50,
                     crs="EPSG:27700")


def test_write_files_dispatches_by_type_and_suffix(tmp_path):
    import geopandas as gpd
    import rasterio
    import shapely

    from hotspots.io import write_files

    frame = pd.DataFrame({"name": PAYLOADS, "n": range(len(PAYLOADS))})
    geo = gpd.GeoDataFrame({"n": [3]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    files = {
        "report.html": "<p>é</p>",
        "figures/a.png": b"\x89PNG\r\n",
        "t.csv": frame,
        "t.parquet": frame,
        "g.geojson": geo,
        "sub/k.tif": _kde_result(),
    }
    written = write_files(tmp_path, files)
    assert sorted(written) == sorted([*files, "sub/k.tif.json"])
    assert (tmp_path / "report.html").read_bytes() == "<p>é</p>".encode()
    assert (tmp_path / "figures" / "a.png").read_bytes() == b"\x89PNG\r\n"
    cells = _cells(tmp_path / "t.csv")
    assert not any(DANGER.match(c) for row in cells for c in row)  # neutralised, as write_csv does
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), frame)
    assert gpd.read_file(tmp_path / "g.geojson")["n"].tolist() == [3]
    with rasterio.open(tmp_path / "sub" / "k.tif") as ds:
        assert ds.crs.to_epsg() == 27700 and ds.read(1).shape == _kde_result().density.shape


def test_write_files_private_modes_whatever_the_umask(tmp_path):
    import os

    from hotspots.io import write_files

    old = os.umask(0o000)
    try:
        write_files(tmp_path, {"a/b/c.txt": "x", "d.csv": pd.DataFrame({"n": [1]})})
    finally:
        os.umask(old)
    for p in (tmp_path / "a", tmp_path / "a" / "b"):
        assert p.stat().st_mode & 0o777 == 0o700, p
    for p in (tmp_path / "a" / "b" / "c.txt", tmp_path / "d.csv"):
        assert p.stat().st_mode & 0o777 == 0o600, p


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("../escape.txt", "x", "relative path"),
        ("a/../../escape.txt", "x", "relative path"),
        ("/tmp/abs.txt", "x", "relative path"),
        ("", "x", "relative path"),
        ("x.json", {"a": 1}, "cannot write content of type dict"),
        ("x.txt", pd.DataFrame({"n": [1]}), "a table is written as"),
        ("x.geojson", pd.DataFrame({"n": [1]}), "needs a GeoDataFrame"),
        ("x.png", None, "cannot write content of type NoneType"),
    ],
)
def test_write_files_refuses_bad_names_and_content(tmp_path, name, content, match):
    from hotspots.errors import ParameterError
    from hotspots.io import write_files

    with pytest.raises(ParameterError, match=match):
        write_files(tmp_path / "out", {name: content})
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path.parent / "escape.txt").exists()


def test_write_files_refuses_a_bad_name_before_writing_anything(tmp_path):
    from hotspots.errors import ParameterError
    from hotspots.io import write_files

    with pytest.raises(ParameterError):
        write_files(tmp_path, {"ok.txt": "x", "../bad.txt": "y"})
    assert not (tmp_path / "ok.txt").exists()


def test_write_files_raster_needs_tif(tmp_path):
    from hotspots.errors import ParameterError
    from hotspots.io import write_files

    with pytest.raises(ParameterError, match=r"\.tif"):
        write_files(tmp_path, {"k.png": _kde_result()})


def test_restricted_tables_refuse_shared_numbers_and_name_bands():
    import sys

    from profiles.render.tables import FUSED_BANDS, render_tables
    from profiles.shared import to_shared

    sys.path.insert(0, str(Path(__file__).parent))
    from numbers_factory import make_numbers

    n = make_numbers(1)
    with pytest.raises(ValueError, match="restricted tables"):
        render_tables(to_shared(n, 10))
    files = render_tables(n)
    fused = files["grid_fused.parquet"]
    assert set(fused["band"]) <= set(FUSED_BANDS)  # the map's NTE layer is not a band of the fused grids
    expected = sum(len(g) for b, g in n.fused.grids.items() if b in FUSED_BANDS)
    assert len(fused) == expected
    assert (files["place_scores.csv"]["synthetic_sources"] == ";".join(n.meta.synthetic_sources)).all()
