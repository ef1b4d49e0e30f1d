"""Partner readers survive anything: odd bytes, odd headers, implausible dates, swapped coordinates, privacy.

Every input is built here. Invariant checked everywhere: rows_read == accepted + quarantined, and every
quarantined row carries its reason and fix.
"""

from __future__ import annotations

import functools
import gzip

import numpy as np
import pytest

from hotspots.errors import InputFileError
from hotspots.ingest import ae as ae_mod
from hotspots.ingest import rms as rms_mod
from hotspots.ingest.ae import read_ae
from hotspots.ingest.assets import read_assets
from hotspots.ingest.common import swapped_bng
from hotspots.ingest.incidents import read_incidents
from hotspots.ingest.rms import read_rms
from hotspots.ingest.streetsafe import read_streetsafe
from hotspots.ingest.table import HEADER_ONLY, open_table
from hotspots.ingest.venues import read_venues

TODAY = "2024-06-30"
RMS_HEAD = "Occurrence Ref,HO Code,Committed From,Committed To,Easting,Northing,DA Flag,Victim Sex"
RMS_ROW = "A{i},19C,01/03/2024 22:00,02/03/2024 02:00,{e},{n},N,F"
SS_HEAD = "id,submitted_at,latitude,longitude,place_reasons,behaviour_reasons,gender,age_range"
AE_HEAD = (
    "Attendance ID,Arrival Date,Arrival Time,Incident Date,Incident Time,Incident Location,"
    "Incident Easting,Incident Northing"
)

# reader name -> (header, a good row with {i} for a unique id, reader call)
READERS = {
    "rms": (RMS_HEAD, "A{i},19C,01/03/2024 22:00,,375081,164824,N,F", lambda ps: read_rms(ps, today=TODAY)),
    "streetsafe": (
        SS_HEAD,
        "r{i},2024-03-01T22:00:00Z,51.3819,-2.3594,Badly lit,,Woman,25-34",
        lambda ps: read_streetsafe(ps, today=TODAY),
    ),
    "ae": (AE_HEAD, "{i},06/03/2024,01:20,05/03/2024,23:45,High St,375081,164824", lambda ps: read_ae(ps, today=TODAY)),
    "venues": (
        "fsa_id,name,address,postcode,easting,northing,latitude,longitude",
        "{i},The Bar,1 High St,BA1 1AA,375081,164824,51.38,-2.36",
        lambda ps: read_venues(ps),
    ),
    "cctv": ("camera_id,location,lon,lat", "{i},High St,-2.36,51.38", lambda ps: read_assets(ps, kind="cctv")),
    "incidents": (
        "incident_number,datetime,location,incident_category,type_0,type_1",
        '{i},03/01/2024 10:00:00 PM,"(51.38, -2.36)",Fire,Primary,Car',
        lambda ps: read_incidents(ps),
    ),
}


def _write(path, text, *, gz=False):
    data = text.encode("utf-8") if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def _check(res):
    """The invariants of every read; returns the total."""
    rec = res.reconciliation
    t = rec["total"]
    assert t["rows_read"] == t["rows_accepted"] + t["rows_quarantined"]
    for f in rec["files"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_quarantined"]
        assert len(f["sha256"]) == 64
    q = res.quarantine.to_pandas()
    assert len(q) == t["rows_quarantined"]
    assert (q["reason"].str.len() > 0).all() and (q["fix"].str.len() > 20).all()
    return t


# ------------------------------------------------------------------------------------------ headers and bytes


@pytest.mark.parametrize("name", READERS)
def test_header_only_file_is_read_with_a_warning(tmp_path, name):
    head, _, read = READERS[name]
    res = read([_write(tmp_path / "h.csv", head + "\n")])
    assert _check(res)["rows_read"] == 0
    assert res.reconciliation["files"][0]["warnings"] == [HEADER_ONLY]
    assert res.reconciliation["warnings"] == [f"h.csv: {HEADER_ONLY}"]


@pytest.mark.parametrize("name", READERS)
def test_a_used_column_named_twice_is_refused(tmp_path, name):
    head, row, read = READERS[name]
    first = head.split(",")[1]
    p = _write(tmp_path / "d.csv", f"{head},{first.upper()}\n{row.format(i=1)},x\n")
    with pytest.raises(InputFileError, match=f"names column '{first.upper()}' twice") as exc:
        read([p])
    assert "Fix: rename or delete one" in str(exc.value) and "line 1" in str(exc.value)


def test_an_unused_column_named_twice_is_a_warning(tmp_path):
    p = _write(tmp_path / "d.csv", f"{RMS_HEAD},Ward,ward\n" + RMS_ROW.format(i=1, e=375081, n=164824) + ",a,b\n")
    res = read_rms([p], today=TODAY)
    assert _check(res)["rows_accepted"] == 1
    assert any("'ward' is named twice" in w for w in res.reconciliation["files"][0]["warnings"])


@pytest.mark.parametrize("name", READERS)
@pytest.mark.parametrize(
    ("header", "match"),
    [
        ('"id,name\n', "unclosed quote"),
        ('id,"na"me\n', "unclosed quote"),
        ("id\x00,name\n", "binary"),
        ("\n\n", "first line is blank"),
        ("   \nid,name\n", "first line is blank"),
    ],
)
def test_broken_headers_are_refused_with_the_fix_never_a_traceback(tmp_path, name, header, match):
    p = _write(tmp_path / "b.csv", header + "1,2\n")
    with pytest.raises(InputFileError, match=match) as exc:
        READERS[name][2]([p])
    assert "Fix:" in str(exc.value)


@pytest.mark.parametrize("name", READERS)
@pytest.mark.parametrize("content", [b"", b"\n \r\n", gzip.compress(b"", mtime=0)])
def test_empty_files_are_refused(tmp_path, name, content):
    with pytest.raises(InputFileError, match="empty"):
        READERS[name][2]([_write(tmp_path / "e.csv", content)])


@pytest.mark.parametrize("name", READERS)
@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_quoted_line_breaks_make_one_record_whatever_the_line_ending(tmp_path, name, eol):
    head, row, read = READERS[name]
    rows = [row.format(i=i) for i in range(1, 4)]
    # a quoted field holding a line break in the middle row: still three records
    fields = rows[1].split(",")
    fields[1] = f'"{fields[1]}{eol}continued"'
    rows[1] = ",".join(fields)
    text = eol.join([head, *rows]) + eol
    res = read([_write(tmp_path / "q.csv", text)])
    t = _check(res)
    assert t["rows_read"] == 3
    q = res.quarantine.to_pandas()
    assert set(q["line"]) <= {3}  # the multi-line record is numbered by the line it starts on
    if name in ("venues", "cctv"):  # a free-text field: the record is accepted, line numbers after it shift by one
        assert t["rows_accepted"] == 3
        assert res.events.to_pandas()["source_line"].tolist() == [2, 3, 5]


@pytest.mark.parametrize("name", READERS)
def test_nul_bytes_quarantine_their_row_only(tmp_path, name):
    head, row, read = READERS[name]
    rows = [row.format(i=i) for i in range(1, 4)]
    rows[1] = rows[1].replace(",", ",\x00", 1)
    res = read([_write(tmp_path / "n.csv", "\n".join([head, *rows]) + "\n")])
    t = _check(res)
    q = res.quarantine.to_pandas()
    assert t["rows_read"] == 3 and q["reason"].tolist() == ["nul_bytes"] and q["line"].tolist() == [3]
    assert "\x00" not in q["raw"][0] and "\ufffd" in q["raw"][0]


@pytest.mark.parametrize("name", ["rms", "streetsafe", "ae"])
def test_nested_and_cut_gzip_keep_what_was_readable(tmp_path, name):
    head, row, read = READERS[name]
    text = "\n".join([head, *(row.format(i=i) for i in range(3000))]) + "\n"
    res = read([_write(tmp_path / "n.csv.gz", gzip.compress(text.encode(), mtime=0), gz=True)])
    assert _check(res)["rows_accepted"] == 3000 and res.reconciliation["files"][0]["gzip_layers"] == 2
    data = gzip.compress(text.encode(), mtime=0)
    res = read([_write(tmp_path / "c.csv.gz", data[: len(data) // 2])])
    t = _check(res)
    f = res.reconciliation["files"][0]
    assert f["truncated"] and 0 < t["rows_accepted"] < 3000
    assert f["damaged_after_line"] >= t["rows_accepted"] + 1
    assert f["warnings"] == []  # damage is said by truncated/damaged_after_line (exit 1), as for police.uk


def test_blocks_cut_anywhere_give_the_same_records(tmp_path):
    rows = [f'{i},"x{i}{chr(10) if i % 7 == 0 else ""}y",{i}' for i in range(400)]
    p = _write(tmp_path / "b.csv", "id,text,n\n" + "\n".join(rows) + "\n")
    got = {}
    for size in (64, 1000, 1 << 22):
        f = open_table(p, columns={"id": "id", "n": "n"}, required=["id"], header_fix="-", block_bytes=size)
        lines = np.concatenate([t.line for t in f.blocks()])
        got[size] = (f.rows_read, lines.tolist())
    assert got[64] == got[1000] == got[1 << 22]
    expected, line = [], 2
    for i in range(400):  # every 7th text holds a line break: its record spans two lines
        expected.append(line)
        line += 2 if i % 7 == 0 else 1
    assert got[64] == (400, expected)


def test_rms_read_in_small_blocks_equals_one_block(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    rows = [RMS_ROW.format(i=i, e=rng.integers(340_000, 380_000), n=rng.integers(140_000, 180_000)) for i in range(300)]
    rows[10] = rows[250].split(",")[0] + rows[10][rows[10].index(",") :]  # A250 twice: line 12 loses to line 252
    rows[20] = rows[20].replace("19C", "")  # missing code
    p = _write(tmp_path / "rms.csv", RMS_HEAD + "\n" + "\n".join(rows) + "\n")
    whole = read_rms([p], today=TODAY)
    monkeypatch.setattr(rms_mod, "open_tables", functools.partial(rms_mod.open_tables, block_bytes=512))
    small = read_rms([p], today=TODAY)
    assert small.events.equals(whole.events)
    assert small.quarantine.equals(whole.quarantine)
    q = small.quarantine.to_pandas()
    assert q[["line", "reason"]].values.tolist() == [[12, "duplicate_id"], [22, "missing_offence_code"]]
    assert q.loc[0, "raw"] == rows[10] and q.loc[0, "detail"] == "kept rms.csv line 252"
    _check(small)


# ------------------------------------------------------------------------------------------ dates


def test_rms_future_dates_are_quarantined_and_old_ones_kept_and_flagged(tmp_path):
    rows = [RMS_ROW.format(i=i, e=375081, n=164824) for i in range(100)]
    rows.append("F1,19C,01/07/2024 00:00,,375081,164824,N,F")  # the day after the run date
    rows.append("F2,19C,30/06/2024 23:59,01/07/2024 01:00,375081,164824,N,F")  # ends after the run date
    rows.append("T1,19C,30/06/2024 23:59,,375081,164824,N,F")  # today: fine
    rows.append("OLD,19C,14/02/1998 21:00,,375081,164824,N,F")  # non-recent: kept
    res = read_rms([_write(tmp_path / "rms.csv", RMS_HEAD + "\n" + "\n".join(rows) + "\n")], today=TODAY)
    t = _check(res)
    q = res.quarantine.to_pandas()
    assert q["reason"].tolist() == ["date_in_future", "date_in_future"] and q["line"].tolist() == [102, 103]
    assert "run date 2024-06-30" in q["detail"][0]
    ev = res.events.to_pandas().set_index("event_id")
    assert t["rows_accepted"] == 102
    assert bool(ev.loc["OLD", "non_recent"]) and not ev.drop(index="OLD")["non_recent"].any()
    assert res.reconciliation["non_recent_events"] == 1 and res.reconciliation["run_date"] == TODAY
    # the coverage is the export's window: the 1998 offence is counted apart, not as 26 years of missing months
    assert res.reconciliation["coverage"]["first_month"] == "2024-03"
    assert res.reconciliation["non_recent_oldest_month"] == "1998-02"
    # the same file read a day later accepts both
    later = read_rms([tmp_path / "rms.csv"], today="2024-07-01")
    assert later.reconciliation["total"]["quarantined_by_reason"] == {}


def test_rms_non_recent_uses_the_reported_date_when_given(tmp_path):
    head = RMS_HEAD + ",Reported Date"
    rows = [
        "A1,19C,01/03/2024 22:00,,375081,164824,N,F,02/03/2024",
        "A2,19C,01/03/2021 22:00,,375081,164824,N,F,05/03/2024",  # reported 3 years later
        "A3,19C,01/03/2023 22:00,,375081,164824,N,F,28/02/2024",  # 364 days: recent
        "A4,19C,01/03/2010 22:00,,375081,164824,N,F,",  # no reported date: judged on the export's window
    ]
    res = read_rms([_write(tmp_path / "r.csv", head + "\n" + "\n".join(rows) + "\n")], today=TODAY)
    ev = res.events.to_pandas().set_index("event_id")
    assert ev["non_recent"].to_dict() == {"A1": False, "A2": True, "A3": False, "A4": True}


def test_ae_and_streetsafe_future_dates(tmp_path):
    ae_rows = [
        "1,06/03/2024,01:20,05/03/2024,23:45,,375081,164824",
        "2,01/07/2024,00:10,,,,375081,164824",  # arrives after the run date
    ]
    res = read_ae([_write(tmp_path / "ae.csv", AE_HEAD + "\n" + "\n".join(ae_rows) + "\n")], today=TODAY)
    _check(res)
    assert res.quarantine.to_pandas()[["line", "reason"]].values.tolist() == [[3, "date_in_future"]]
    ss_rows = [
        "r1,2024-06-30T22:30:00Z,51.38,-2.36,,,,",  # 23:30 UK time on the run date: fine
        "r2,2024-06-30T23:30:00Z,51.38,-2.36,,,,",  # 00:30 UK time the next day
    ]
    res = read_streetsafe([_write(tmp_path / "ss.csv", SS_HEAD + "\n" + "\n".join(ss_rows) + "\n")], today=TODAY)
    _check(res)
    assert res.quarantine.to_pandas()[["line", "reason"]].values.tolist() == [[3, "date_in_future"]]


# ------------------------------------------------------------------------------------------ swapped coordinates


def _avon_points(n, seed):
    """Real-looking Avon and Somerset points: a few town clusters and a rural scatter (BNG metres)."""
    rng = np.random.default_rng(seed)
    towns = np.array([[359_000, 173_000], [375_000, 164_800], [332_000, 161_000], [322_000, 134_000]])
    k = rng.integers(0, len(towns), n)
    pts = towns[k] + rng.normal(0, 2_500, (n, 2))
    rural = rng.random(n) < 0.15
    pts[rural] = np.column_stack(
        [rng.uniform(300_000, 380_000, rural.sum()), rng.uniform(110_000, 200_000, rural.sum())]
    )
    return np.round(pts).astype(int)


def test_swapped_eastings_northings_are_quarantined_and_nothing_else(tmp_path):
    pts = _avon_points(800, seed=4)
    planted = [17, 200, 433, 650, 799]
    rows = []
    for i, (e, n) in enumerate(pts):
        if i in planted:
            e, n = n, e
        rows.append(RMS_ROW.format(i=i, e=e, n=n))
    res = read_rms([_write(tmp_path / "rms.csv", RMS_HEAD + "\n" + "\n".join(rows) + "\n")], today=TODAY)
    t = _check(res)
    q = res.quarantine.to_pandas()
    assert q["reason"].unique().tolist() == ["coordinates_swapped"]
    assert sorted(q["line"]) == [i + 2 for i in planted]
    assert q["raw"].tolist() == [rows[i] for i in planted]
    assert t["rows_accepted"] == 800 - len(planted)
    assert res.reconciliation["coordinates_swap_check"]["checked"]


def test_far_but_true_points_are_not_called_swapped():
    pts = _avon_points(2000, seed=9).astype(float)
    far = np.array([[530_000.0, 180_000.0], [200_000.0, 60_000.0], [460_000.0, 1_100_000.0], [250_000.0, 380_000.0]])
    x = np.concatenate([pts[:, 0], far[:, 0]])
    y = np.concatenate([pts[:, 1], far[:, 1]])
    mask, _ = swapped_bng(x, y)
    assert not mask.any()  # (250k, 380k) is far, but its mirror (380k, 250k) is not among the points either
    x[3], y[3] = y[3], x[3]
    assert np.flatnonzero(swapped_bng(x, y)[0]).tolist() == [3]


def test_swap_check_needs_enough_points_and_ae_uses_it(tmp_path, monkeypatch):
    mask, note = swapped_bng(np.array([164_824.0] * 5), np.array([375_081.0] * 5))
    assert not mask.any() and not note["checked"]
    pts = _avon_points(100, seed=2)
    rows = [f"{i},06/03/2024,01:20,,,,{e},{n}" for i, (e, n) in enumerate(pts)]
    rows[40] = f"40,06/03/2024,01:20,,,,{pts[40][1]},{pts[40][0]}"
    monkeypatch.setattr(ae_mod, "open_tables", functools.partial(ae_mod.open_tables, block_bytes=256))
    res = read_ae([_write(tmp_path / "ae.csv", AE_HEAD + "\n" + "\n".join(rows) + "\n")], today=TODAY)
    _check(res)
    q = res.quarantine.to_pandas()
    assert q[["line", "reason", "raw"]].values.tolist() == [[42, "coordinates_swapped", rows[40]]]


# ------------------------------------------------------------------------------------------ privacy


CANARY = "ZZCANARY"


def test_streetsafe_demographics_never_reach_the_quarantine(tmp_path):
    rows = [
        f"r1,yesterday,51.38,-2.36,Badly lit,,{CANARY}w,{CANARY}a",  # bad date: quarantined
        f'r2,2024-03-01T22:00:00Z,,,,,"{CANARY}, x",{CANARY}a',  # no pin; quoted demographic
        f"r3,2024-03-01T22:00:00Z,51.38,-2.36,,,{CANARY}w,{CANARY}a,extra",  # wrong field count
        f"r4,2024-03-01T22:00:00Z,51.38,-2.36,,,{CANARY}w,{CANARY}a",
        f"r4,2024-03-02T22:00:00Z,51.38,-2.36,,,{CANARY}w,{CANARY}a",  # r4 twice: the first is quarantined late
    ]
    p = _write(tmp_path / "ss.csv", f"{SS_HEAD},free_text\n" + "\n".join(f"{r},{CANARY}t" for r in rows) + "\n")
    res = read_streetsafe([p], today=TODAY)
    _check(res)
    q = res.quarantine.to_pandas().set_index("line")
    assert q["reason"].to_dict() == {2: "bad_datetime", 3: "no_coordinates", 4: "wrong_field_count", 5: "duplicate_id"}
    assert not q["raw"].str.contains(CANARY).any() and not q["detail"].str.contains(CANARY).any()
    assert q.loc[2, "raw"] == "r1,yesterday,51.38,-2.36,Badly lit,,,,"  # the fields are kept, emptied
    assert q.loc[3, "raw"].count(",") == 8
    assert q.loc[4, "raw"] == "" and "withheld" in q.loc[4, "detail"]
    assert "gender" not in res.events.column_names
    kept = read_streetsafe([p], today=TODAY, keep_demographics=True).quarantine.to_pandas()
    assert f"{CANARY}w" in kept.set_index("line").loc[2, "raw"]  # kept by config: kept in the quarantine too
    assert not kept["raw"].str.contains(f"{CANARY}t").any()  # an unmapped column never


def test_ae_location_text_and_rms_unmapped_personal_columns_are_blanked(tmp_path):
    ae_rows = [f"1,06/03/2024,xx:yy,05/03/2024,23:45,{CANARY} Flat 2,375081,164824"]
    res = read_ae([_write(tmp_path / "ae.csv", AE_HEAD + "\n" + "\n".join(ae_rows) + "\n")], today=TODAY)
    q = res.quarantine.to_pandas()
    assert q["reason"].tolist() == ["bad_time"] and CANARY not in q["raw"][0]
    assert q["raw"][0] == "1,06/03/2024,xx:yy,05/03/2024,23:45,,375081,164824"
    head = RMS_HEAD + ",Suspect Name,Victim Name"
    rows = [f"A1,19C,01/03/2024 22:00,,,,N,F,{CANARY}s,{CANARY}v", f"A2,19C,99/03/2024,,375081,164824,N,F,{CANARY}s,"]
    res = read_rms([_write(tmp_path / "rms.csv", head + "\n" + "\n".join(rows) + "\n")], today=TODAY)
    q = res.quarantine.to_pandas()
    assert q["reason"].tolist() == ["no_coordinates", "bad_datetime"]
    assert not q["raw"].str.contains(CANARY).any()
    assert q["raw"][0] == "A1,19C,01/03/2024 22:00,,,,N,F,,"


def test_public_sources_keep_their_raw_rows_verbatim(tmp_path):
    p = _write(tmp_path / "cams.csv", "camera_id,location,lon,lat,installed\n1,High St,,,2019\n")
    q = read_assets([p], kind="cctv").quarantine.to_pandas()
    assert q["raw"].tolist() == ["1,High St,,,2019"]


# ------------------------------------------------------------------------------------------ flags


@pytest.mark.parametrize(
    ("cell", "want"),
    [
        ("Y", 1),
        (" yes ", 1),
        ("TRUE", 1),
        ("1", 1),
        ("No", 0),
        ("f", 0),
        ("0", 0),
        ("", -1),
        ("Not Known", -1),
        ("n/a", -1),
        ("NULL", -1),
        ("maybe", None),
        ("yess", None),
        ("not  known", None),
        ("Oui", None),
        ("Ÿ", None),
    ],
)
def test_flag_cells_read_as_documented(tmp_path, cell, want):
    row = f"A1,19C,01/03/2024 22:00,,375081,164824,{cell},F"
    res = read_rms([_write(tmp_path / "f.csv", f"{RMS_HEAD}\n{row}\n")], today=TODAY)
    _check(res)
    if want is None:
        q = res.quarantine.to_pandas()
        assert q["reason"].tolist() == ["bad_flag"] and repr(cell.strip()) in q["detail"][0]
    else:
        assert res.events.to_pandas()["domestic_abuse"].tolist() == [want]


# ------------------------------------------------------------------------------------------ tokenizer


def test_column_major_tokenizer_equals_the_byte_layers():
    from hotspots.ingest import _csvscan as k
    from hotspots.ingest.table import _split_fields_cm

    rng = np.random.default_rng(11)
    alphabet = np.frombuffer(b'ab ,,,""\t\n\r1', np.uint8)
    lines = [bytes(rng.choice(alphabet, rng.integers(0, 24))) for _ in range(4000)]
    lines += [b'', b' ', b'a,"b""c",d', b'"x"y,z', b'"open,', b'a,b,', b',', b'"a\nb",c', b'a,b,c,d,e,f']
    buf = np.frombuffer(b"".join(lines), np.uint8)
    ends = np.cumsum([len(x) for x in lines])
    starts = ends - [len(x) for x in lines]
    for ncols in (1, 3, 6):
        want = k._split_fields(buf, starts, ends, ncols)
        got = _split_fields_cm(buf, starts, ends, ncols)
        for w, g in zip(want[:3], got[:3], strict=True):
            assert np.array_equal(w.T, g)
        assert np.array_equal(want[3], got[3]) and np.array_equal(want[4], got[4])
    assert {0, 1, 2} <= set(want[4].tolist())  # every status met
