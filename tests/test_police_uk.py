"""police.uk ingest: reconciliation on real and deliberately broken files."""

from __future__ import annotations

import csv
import gzip
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely
from conftest import HEADER, PUK_DIR, cid, puk_row, write_puk

from hotspots.errors import InputFileError
from hotspots.ingest.police_uk import read_police_uk


def _holds(rec):
    assert rec["rows_read"] == rec["rows_accepted"] + rec["rows_quarantined"]
    assert rec["rows_quarantined"] == sum(rec["by_reason"].values())
    for f in rec["files"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_quarantined"]
        assert f["rows_quarantined"] == sum(f["by_reason"].values())


def _oracle(path):
    """Independent count with Python's csv module: rows, and rows without coordinates."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return len(rows), sum(1 for r in rows if not r["Longitude"] or not r["Latitude"])


@pytest.mark.parametrize(
    "month, rows, no_coords",
    [("2023-01", 12566, 758), ("2024-12", 14737, 1294)],  # figures from data/README.md (upstream manifest)
)
def test_exact_counts_two_real_months(month, rows, no_coords):
    path = PUK_DIR / month / f"{month}-avon-and-somerset-street.csv.gz"
    assert _oracle(path) == (rows, no_coords)
    res = read_police_uk([path])
    rec = res.reconciliation
    _holds(rec)
    assert rec["rows_read"] == rows
    assert rec["by_reason"] == {"no_coordinates": no_coords}
    assert rec["rows_accepted"] == rows - no_coords == res.events.num_rows
    assert res.quarantine.num_rows == no_coords
    assert rec["files"][0]["months"] == [month]


def test_all_bundled_months_reconcile_and_report_gaps():
    res = read_police_uk([PUK_DIR])
    rec = res.reconciliation
    _holds(rec)
    assert rec["rows_read"] == 325069
    assert len(rec["files"]) == 22
    cov = rec["coverage"]["Avon and Somerset Constabulary"]
    assert cov["missing_months"] == ["2024-07", "2024-08"]
    assert cov["months_present"] == 22
    ev = res.events
    assert pa.compute.count_distinct(ev["event_id"]).as_py() == ev.num_rows  # ids unique
    # quarantine lines point at real lines holding no coordinates
    q = res.quarantine.to_pandas()
    assert (q["reason"] == "no_coordinates").all()
    assert q["raw"].str.contains(",,,").all() or q["raw"].str.contains("No Location").all()


def test_columns_types_and_projection(month_file):
    ev = read_police_uk([month_file]).events.to_pandas()
    for col in [
        "event_id",
        "source",
        "force",
        "month",
        "crime_type",
        "outcome",
        "lsoa_code",
        "lng",
        "lat",
        "x",
        "y",
        "snap_point_id",
        "n_at_location",
        "source_file",
        "source_line",
    ]:
        assert col in ev.columns
    assert str(ev["month"].dtype) == "period[M]"
    assert (ev["source"] == "police_uk").all()
    # independent oracle: Open Pubs gives each pub's ONS postcode centroid both as WGS84 and as OS grid metres
    from conftest import DATA
    from pyproj import Transformer

    pubs = pd.read_csv(DATA / "venues" / "Open_Pubs_-_Bath__North_East_Somerset.csv")
    pubs = pubs[pd.to_numeric(pubs["latitude"], errors="coerce").notna()]
    tr = Transformer.from_crs(4326, 27700, always_xy=True)
    x, y = tr.transform(pubs["longitude"].astype(float).to_numpy(), pubs["latitude"].astype(float).to_numpy())
    assert np.hypot(x - pubs["easting"].astype(float), y - pubs["northing"].astype(float)).max() < 3.0
    ex, ey = tr.transform(ev["lng"].to_numpy(), ev["lat"].to_numpy())
    assert np.array_equal(ex, ev["x"].to_numpy()) and np.array_equal(ey, ev["y"].to_numpy())
    # snap points: counts per map point equal the rows sharing those exact coordinates
    grp = ev.groupby(["lng", "lat"]).size()
    merged = ev.join(grp.rename("n"), on=["lng", "lat"])
    assert (merged["n"] == merged["n_at_location"]).all()


def test_blank_crime_id_rows_are_valid(tmp_path):
    f = write_puk(tmp_path / "a.csv", [puk_row(crime_type="Anti-social behaviour"), puk_row(cid(1))])
    res = read_police_uk([f])
    assert res.reconciliation["rows_accepted"] == 2
    ids = res.events["event_id"].to_pylist()
    assert ids == ["a.csv#2", cid(1)]
    assert res.events["has_crime_id"].to_pylist() == [False, True]


BROKEN = [
    # name, rows, expected by_reason, expected accepted
    ("non_numeric_lat", [puk_row(cid(1), lat="abc"), puk_row(cid(2))], {"bad_coordinates": 1}, 1),
    ("no_coords", [puk_row(cid(1), lat="", lng=""), puk_row(cid(2))], {"no_coordinates": 1}, 1),
    ("swapped", [puk_row(cid(1), lat="-2.35", lng="51.38")], {"coordinates_out_of_range": 1}, 0),
    ("bad_month", [puk_row(cid(1), month="01/01/2024"), puk_row(cid(2))], {"bad_month": 1}, 1),
    ("extra_comma", [puk_row(cid(1)) + ",oops", puk_row(cid(2))], {"wrong_field_count": 1}, 1),
    ("short_row", ["x,2024-01,Avon", puk_row(cid(2))], {"wrong_field_count": 1}, 1),
    ("open_quote", [puk_row(cid(1), location='"On or near, High St'), puk_row(cid(2))], {"malformed_quotes": 1}, 1),
    ("no_type", [puk_row(cid(1), crime_type=" ")], {"missing_crime_type": 1}, 0),
    ("quoted_comma", [puk_row(cid(1), location='"On or near King\'s Parade, ""The"" Walk"')], {}, 1),
]


@pytest.mark.parametrize("name, rows, reasons, accepted", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_rows_are_quarantined_with_reason(tmp_path, name, rows, reasons, accepted):
    f = write_puk(tmp_path / f"{name}.csv", rows)
    res = read_police_uk([f])
    rec = res.reconciliation
    _holds(rec)
    assert rec["by_reason"] == reasons
    assert rec["rows_accepted"] == accepted
    q = res.quarantine.to_pandas()
    assert len(q) == sum(reasons.values())
    for _, r in q.iterrows():
        assert r["file"] == f"{name}.csv" and r["fix"] and r["line"] >= 2
        assert r["raw"] == rows[r["line"] - 2]  # verbatim


def test_quoted_field_is_unescaped(tmp_path):
    f = write_puk(tmp_path / "q.csv", [puk_row(cid(1), location='"On or near King\'s Parade, ""The"" Walk"')])
    ev = read_police_uk([f]).events.to_pandas()
    assert ev["location"].iloc[0] == 'On or near King\'s Parade, "The" Walk'


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("gz", [False, True])
def test_line_endings_bom_gzip(tmp_path, newline, bom, gz):
    rows = [puk_row(cid(i)) for i in range(5)] + [puk_row(cid(9), lat="")]
    f = write_puk(tmp_path / ("x.csv.gz" if gz else "x.csv"), rows, newline=newline, bom=bom, gz=gz)
    res = read_police_uk([f])
    rec = res.reconciliation
    _holds(rec)
    assert rec["rows_read"] == 6 and rec["rows_accepted"] == 5
    fr = rec["files"][0]
    assert fr["line_endings"] == ("CRLF" if newline == "\r\n" else "LF")
    assert fr["encoding"] == ("utf-8-sig" if bom else "utf-8")
    assert res.events["crime_type"].to_pylist()[0] == "Violence and sexual offences"  # no stray \r
    assert res.quarantine["raw"].to_pylist() == [rows[-1]]  # no stray \r in raw either


def test_blank_lines_are_not_rows(tmp_path):
    f = write_puk(tmp_path / "b.csv", [puk_row(cid(1)), "", puk_row(cid(2)), "   ", puk_row(cid(3), lat="x")])
    res = read_police_uk([f])
    rec = res.reconciliation
    _holds(rec)
    assert rec["rows_read"] == 3 and rec["blank_lines"] == 2
    assert res.events["source_line"].to_pylist() == [2, 4]
    assert res.quarantine["line"].to_pylist() == [6]


def test_cp1252_text_is_recoded_not_lost(tmp_path):
    rows = [puk_row(cid(1), location="On or near Café Rouge"), puk_row(cid(2)), puk_row(cid(3), lat="x")]
    f = write_puk(tmp_path / "c.csv", rows, encoding="cp1252")
    res = read_police_uk([f])
    rec = res.reconciliation
    _holds(rec)
    assert rec["rows_accepted"] == 2 and rec["files"][0]["rows_recoded_from_cp1252"] == 1
    assert res.events["location"].to_pylist()[0] == "On or near Café Rouge"


def test_header_variants_case_whitespace_and_order(tmp_path):
    cols = HEADER.split(",")
    header = ",".join(f"  {c.upper()} " for c in cols[::-1])
    row = ",".join(puk_row(cid(1)).split(",")[::-1])
    f = write_puk(tmp_path / "h.csv", [row], header=header)
    ev = read_police_uk([f]).events.to_pandas()
    assert ev["crime_type"].iloc[0] == "Violence and sexual offences" and ev["lat"].iloc[0] == 51.381912


def test_context_column_optional(tmp_path):
    header = HEADER.rsplit(",", 1)[0]
    f = write_puk(tmp_path / "n.csv", [puk_row(cid(1)).rsplit(",", 1)[0]], header=header)
    ev = read_police_uk([f]).events.to_pandas()
    assert len(ev) == 1 and ev["context"].isna().all()


def test_truncated_gzip_keeps_what_it_can(tmp_path, month_file):
    data = month_file.read_bytes()
    bad = tmp_path / "trunc.csv.gz"
    bad.write_bytes(data[: len(data) // 2])
    res = read_police_uk([bad])
    rec = res.reconciliation
    _holds(rec)
    fr = rec["files"][0]
    assert fr["truncated"]
    assert 3000 < rec["rows_read"] < 12566
    assert rec["by_reason"].get("truncated_file", 0) <= 1
    full = read_police_uk([month_file]).events.to_pandas()
    part = res.events.to_pandas()
    n = len(part)
    # a clean prefix of the real file: same lines, same content
    assert part["source_line"].tolist() == full["source_line"].tolist()[:n]
    assert part["has_crime_id"].tolist() == full["has_crime_id"].tolist()[:n]
    ids = part.loc[part.has_crime_id, "event_id"].str.split("@").str[0].tolist()
    assert ids == full.loc[full.has_crime_id, "event_id"].str.split("@").str[0].tolist()[: len(ids)]
    assert part["outcome"].astype(str).tolist() == full["outcome"].astype(str).tolist()[:n]
    q = res.quarantine.to_pandas()
    if "truncated_file" in rec["by_reason"]:  # the partial last line is quarantined, never half-accepted
        assert q.loc[q.reason == "truncated_file", "line"].iloc[0] == rec["rows_read"] + 1


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "empty"),
        (b"Crime ID,Month,Longitude\n1,2,3\n", "missing column.*Latitude.*Fix:"),
        (HEADER.encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04\x00\x00binary", "binary|missing column"),
    ],
    ids=["empty", "wrong_header", "utf16", "xlsx"],
)
def test_unusable_files_refused_with_fix(tmp_path, content, match):
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    with pytest.raises(InputFileError, match=match) as ei:
        read_police_uk([f])
    assert "bad.csv" in str(ei.value) and "Fix:" in str(ei.value)


def test_missing_path_refused(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        read_police_uk([tmp_path / "nope"])


def test_two_vintages_newest_kept(tmp_path):
    old_rows = [
        puk_row(cid(1), outcome="Under investigation"),
        puk_row(cid(2), outcome="Under investigation"),
        puk_row(crime_type="Anti-social behaviour"),
    ]
    new_rows = [
        puk_row(cid(1), outcome="Offender given a caution"),
        puk_row(cid(2), outcome="Court result unavailable"),
        puk_row(cid(3)),
        puk_row(crime_type="Anti-social behaviour"),
    ]
    old = write_puk(tmp_path / "dl-2024-03" / "2024-01" / "2024-01-avon-and-somerset-street.csv", old_rows)
    new = write_puk(tmp_path / "dl-2024-06" / "2024-01" / "2024-01-avon-and-somerset-street.csv", new_rows)
    res = read_police_uk([tmp_path])  # folder: sorted path order, dl-2024-06 is newer
    rec = res.reconciliation
    _holds(rec)
    assert rec["rows_read"] == 7
    assert rec["by_reason"] == {"duplicate_crime_id": 2}
    ev = res.events.to_pandas().set_index("event_id")
    assert ev.loc[cid(1), "outcome"] == "Offender given a caution"
    assert ev.loc[cid(2), "outcome"] == "Court result unavailable"
    assert (ev["crime_type"] == "Anti-social behaviour").sum() == 2  # ASB rows never de-duplicated
    q = res.quarantine.to_pandas()
    assert set(q["line"]) == {2, 3} and q["file"].str.contains("dl-2024-03").all()
    assert q["detail"].str.contains("dl-2024-06").all()
    # order on the command line decides too: given the other way round, the other copy wins
    res2 = read_police_uk([new, old])
    ev2 = res2.events.to_pandas().set_index("event_id")
    assert ev2.loc[cid(1), "outcome"] == "Under investigation"


def test_same_id_in_one_file_is_kept_and_flagged(tmp_path):
    f = write_puk(
        tmp_path / "s.csv", [puk_row(cid(7), location="On or near A"), puk_row(cid(7), location="On or near B")]
    )
    res = read_police_uk([f])
    assert res.reconciliation["rows_accepted"] == 2
    ev = res.events.to_pandas()
    assert ev["crime_id_shared"].all() and ev["event_id"].nunique() == 2
    assert ev["event_id"].tolist() == [f"{cid(7)}@s.csv#2", f"{cid(7)}@s.csv#3"]


def test_same_id_in_different_months_is_not_a_vintage(tmp_path):
    a = write_puk(tmp_path / "a.csv", [puk_row(cid(5), month="2024-01")])
    b = write_puk(tmp_path / "b.csv", [puk_row(cid(5), month="2024-02")])
    assert read_police_uk([a, b]).reconciliation["rows_accepted"] == 2


def test_boundary_flags_but_keeps(tmp_path):
    rows = [puk_row(cid(1)), puk_row(cid(2), lng="-3.9", lat="50.5")]  # Bath, and Dartmoor
    f = write_puk(tmp_path / "b.csv", rows)
    bath = shapely.buffer(shapely.Point(375081, 164824), 2000)
    res = read_police_uk([f], boundary=bath)
    assert res.events["in_force_area"].to_pylist() == [True, False]
    assert res.reconciliation["rows_outside_boundary"] == 1


def test_small_blocks_give_same_result(month_file):
    a = read_police_uk([month_file])
    b = read_police_uk([month_file], block_bytes=50_000)
    assert a.reconciliation["rows_accepted"] == b.reconciliation["rows_accepted"]
    assert a.events["event_id"].equals(b.events["event_id"])
    assert np.array_equal(a.events["x"].to_numpy(), b.events["x"].to_numpy())


def test_excel_damaged_copy(tmp_path, month_file):
    """A real month re-saved badly: CRLF, BOM, cp1252, blank lines, a broken latitude."""
    text = gzip.decompress(month_file.read_bytes()).decode("utf-8")
    lines = text.splitlines()
    lines[10] = lines[10].replace("On or near", "On or near Caf\u00e9")
    parts = lines[20].split(",")
    parts[5] = "fifty-one"
    lines[20] = ",".join(parts)
    lines.insert(30, "")
    data = b"\xef\xbb\xbf" + "\r\n".join(lines).encode("cp1252", errors="replace") + b"\r\n"
    f = tmp_path / "damaged.csv"
    f.write_bytes(data)
    res = read_police_uk([f])
    rec = res.reconciliation
    _holds(rec)
    assert rec["rows_read"] == 12566 and rec["blank_lines"] == 1
    assert rec["by_reason"]["bad_coordinates"] == 1
    q = pd.DataFrame(res.quarantine.to_pandas())
    assert q.loc[q.reason == "bad_coordinates", "line"].tolist() == [21]
    shutil.rmtree(tmp_path)


def test_raw_survives_csv_round_trip(tmp_path):
    from hotspots.io import write_ingest_outputs

    rows = [puk_row(cid(1), lat="abc", location='"On or near, ""quoted"""'), puk_row(cid(2))]
    res = read_police_uk([write_puk(tmp_path / "r.csv", rows)])
    write_ingest_outputs(res, tmp_path / "out")
    with open(tmp_path / "out" / "quarantine.csv", newline="", encoding="utf-8") as fh:
        back = list(csv.DictReader(fh))
    assert back[0]["raw"] == rows[0] and back[0]["line"] == "2" and back[0]["reason"] == "bad_coordinates"
    assert set(back[0]) >= {"file", "line", "reason", "detail", "fix", "raw"}
    import io as _io  # noqa: F401  (kept for clarity of the csv round trip)
