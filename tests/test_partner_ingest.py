"""RMS, StreetSafe, A&E and partnership readers: every row accounted for, every bad input named."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from hotspots.errors import InputFileError, ParameterError
from hotspots.ingest.ae import read_ae
from hotspots.ingest.assets import read_assets
from hotspots.ingest.incidents import read_incidents
from hotspots.ingest.rms import read_rms
from hotspots.ingest.streetsafe import read_streetsafe
from hotspots.ingest.venues import read_venues
from tests.conftest import DATA

RMS_HEAD = "Occurrence Ref,HO Code,Committed From,Committed To,Easting,Northing,DA Flag,Victim Sex"


def _write(path, text, *, encoding="utf-8", gz=False):
    data = text.encode(encoding) if isinstance(text, str) else text
    if gz:
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


def _balanced(rec):
    t = rec["total"]
    assert t["rows_read"] == t["rows_accepted"] + t["rows_quarantined"]
    assert t["balanced"]
    for f in rec["files"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_quarantined"]
    return t


RMS_BAD_ROWS = [
    ("A3,105A,31/02/2024 23:10,,375100,164800,Y,F", "bad_datetime"),
    ("A4,105A,01/03/2024 23:10,01/03/2024 20:00,375100,164800,Y,F", "to_before_from"),
    ("A5,,01/03/2024 23:10,,375100,164800,Y,F", "missing_offence_code"),
    (",8Q,01/03/2024 23:10,,375100,164800,Y,F", "missing_id"),
    ("A6,8Q,01/03/2024 23:10,,-2.35,51.38,Y,F", "coordinates_in_degrees"),
    ("A7,8Q,01/03/2024 23:10,,,,Y,F", "no_coordinates"),
    ("A8,8Q,01/03/2024 23:10,,abc,164800,Y,F", "bad_coordinates"),
    ("A9,8Q,01/03/2024 23:10,,9375100,164800,Y,F", "coordinates_out_of_range"),
    ("A10,8Q,01/03/2024 23:10,,375100,164800,maybe,F", "bad_flag"),
    ("A11,8Q,01/03/2024 23:10,375100,164800,Y,F", "wrong_field_count"),
    ('A12,8Q,"01/03/2024 23:10,,375100,164800,Y,F', "malformed_quotes"),
    ("A13,8Q,,,375100,164800,Y,F", "missing_datetime"),
    ("A14,8Q,2024-03-01 23:10,2024/03/02,375100,164800,Y,F", None),
]


@pytest.mark.parametrize(("row", "reason"), RMS_BAD_ROWS)
def test_rms_each_bad_row_is_quarantined_with_its_reason(tmp_path, row, reason):
    good = "A1,19C,01/03/2024 22:00,02/03/2024 02:00,375081,164824,N,F"
    p = _write(tmp_path / "rms.csv", f"{RMS_HEAD}\n{good}\n{row}\n")
    res = read_rms([p])
    t = _balanced(res.reconciliation)
    assert t["rows_read"] == 2
    q = res.quarantine.to_pandas()
    if reason is None:
        assert len(q) == 0
        return
    assert q["reason"].tolist() == [reason]
    assert q["line"].tolist() == [3]
    assert q["raw"].tolist() == [row]  # verbatim
    assert q["fix"].str.len().min() > 20


def test_rms_times_windows_and_classification(tmp_path):
    p = _write(
        tmp_path / "rms.csv",
        f"{RMS_HEAD}\n"
        "A1,19C,01/03/2024 22:00,02/03/2024 02:00,375081,164824,N,F\n"  # 4 h window
        "A2,105A,01/03/2024,,375081,164824,Y,F\n"  # date only: the whole day
        "A3,105A,01/03/2024 23:10,,375081,164824,N,M\n"  # point; violence, not DA, male victim: not VAWG
        "A4,999Z,1/3/24 23:10,,375081,164824,N,F\n",  # unknown code kept; d/m/yy
    )
    res = read_rms([p])
    ev = res.events.to_pandas().set_index("event_id")
    assert ev.loc["A1", "time_window_h"] == 4.0
    assert ev.loc["A2", "time_window_h"] == 24.0 and ev.loc["A2", "time_precision"] == "day"
    assert ev.loc["A3", "t_from"] == ev.loc["A3", "t_to"]
    assert ev.loc["A1", "vawg_group"] == "rape"
    assert ev.loc["A2", "vawg_group"] == "da_violence"
    assert pd.isna(ev.loc["A3", "vawg_group"])
    assert not ev.loc["A4", "code_known"] and str(ev.loc["A4", "t_from"]) == "2024-03-01 23:10:00"
    assert res.reconciliation["offence_codes_unknown"] == 1
    assert str(ev.loc["A1", "month"]) == "2024-03"


def test_rms_later_export_wins_on_repeated_reference(tmp_path):
    a = _write(tmp_path / "jan.csv", f"{RMS_HEAD}\nA1,8Q,01/03/2024 22:00,,375081,164824,N,F\n")
    b = _write(tmp_path / "feb.csv", f"{RMS_HEAD}\nA1,19C,01/03/2024 22:00,,375081,164824,N,F\n")
    res = read_rms([a, b])
    assert res.events.to_pandas()["offence_code"].tolist() == ["19C"]
    q = res.quarantine.to_pandas()
    assert q[["file", "reason", "detail"]].values.tolist() == [["jan.csv", "duplicate_id", "kept feb.csv line 2"]]
    _balanced(res.reconciliation)


def test_rms_column_mapping_and_month_first(tmp_path):
    p = _write(
        tmp_path / "niche.csv",
        "CrimeNo,Offence,From,Lon,Lat\nX1,8Q,03/13/2024 21:30,-2.359463,51.381912\n",
    )
    cols = {
        "id": "CrimeNo",
        "offence_code": "Offence",
        "committed_from": "From",
        "easting": "",
        "northing": "",
        "lng": "Lon",
        "lat": "Lat",
    }
    res = read_rms([p], columns=cols, dayfirst=False)
    ev = res.events.to_pandas()
    assert str(ev.loc[0, "t_from"]) == "2024-03-13 21:30:00"
    assert abs(ev.loc[0, "x"] - 375080) < 2
    with pytest.raises(ParameterError, match="unknown RMS column key"):
        read_rms([p], columns={"crime_number": "CrimeNo"})


def test_rms_encodings_bom_crlf_gzip_cp1252(tmp_path):
    rows = "A1,19C,01/03/2024 22:00,,375081,164824,N,F\r\nA2,8Q,01/03/2024 22:00,,375081,164824,N,F\r\n"
    text = "\ufeff" + RMS_HEAD.replace("Victim Sex", "Victim Sex") + "\r\n" + rows
    p = _write(tmp_path / "rms.csv.gz", text, gz=True)
    res = read_rms([p])
    f = res.reconciliation["files"][0]
    assert (f["rows_accepted"], f["encoding"], f["line_endings"], f["gzip"]) == (2, "utf-8-sig", "CRLF", True)
    cp = (RMS_HEAD + ",Offence Description\nA1,19C,01/03/2024 22:00,,375081,164824,N,F,Caf\xe9 assault\n").encode(
        "cp1252"
    )
    res = read_rms([_write(tmp_path / "cp.csv", cp)])
    assert res.events.to_pandas()["offence_description"].tolist() == ["Café assault"]
    assert "cp1252" in res.reconciliation["files"][0]["encoding"]


def test_rms_truncated_gzip_keeps_rows_and_quarantines_the_cut_row(tmp_path):
    rows = "".join(f"A{i},8Q,01/03/2024 22:00,,375081,164824,N,F\n" for i in range(2000))
    data = gzip.compress((RMS_HEAD + "\n" + rows).encode(), mtime=0)
    p = _write(tmp_path / "cut.csv.gz", data[: len(data) // 2])
    res = read_rms([p])
    t = _balanced(res.reconciliation)
    assert res.reconciliation["files"][0]["truncated"]
    assert 0 < t["rows_accepted"] < 2000
    assert set(res.quarantine.to_pandas()["reason"]) <= {"truncated_file", "wrong_field_count", "bad_flag"}


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty"),
        ("Occurrence Ref,HO Code\n".encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04\x14\x00\x06\x00", "binary"),
        (b"Crime ID,Month,Longitude,Latitude\n1,2024-01,-2.3,51.3\n", "header lacks column"),
    ],
)
def test_unusable_files_are_refused_with_the_fix(tmp_path, content, match):
    p = _write(tmp_path / "bad.csv", content)
    with pytest.raises(InputFileError, match=match) as exc:
        read_rms([p])
    assert "Fix:" in str(exc.value) and "bad.csv" in str(exc.value)


def test_header_only_file_reads_zero_rows(tmp_path):
    res = read_rms([_write(tmp_path / "h.csv", RMS_HEAD + "\n")])
    assert _balanced(res.reconciliation)["rows_read"] == 0 and len(res.events) == 0


SS_HEAD = "id,submitted_at,latitude,longitude,place_reasons,behaviour_reasons,gender,age_range"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("r2,2024-07-05T23:00:00Z,,,,,,", "no_coordinates"),
        ("r2,2024-07-05T23:00:00Z,-2.36,51.38,,,,", "coordinates_swapped"),
        ("r2,2024-07-05T23:00:00Z,40.1,-2.3,,,,", "coordinates_out_of_range"),
        ("r2,yesterday,51.38,-2.36,,,,", "bad_datetime"),
        ("r2,,51.38,-2.36,,,,", "missing_datetime"),
        (",2024-07-05T23:00:00Z,51.38,-2.36,,,,", "missing_id"),
        ("r1,2024-07-05T23:00:00Z,51.38,-2.36,,,,", "duplicate_id"),
    ],
)
def test_streetsafe_bad_rows(tmp_path, row, reason):
    p = _write(
        tmp_path / "ss.csv", f"{SS_HEAD}\nr1,2024-07-05T22:14:03Z,51.3819,-2.3594,Badly lit,,Woman,25-34\n{row}\n"
    )
    res = read_streetsafe([p])
    _balanced(res.reconciliation)
    q = res.quarantine.to_pandas()
    assert q["reason"].tolist() == [reason]
    assert len(res.events) == 1


def test_streetsafe_reasons_times_and_demographics(tmp_path):
    p = _write(
        tmp_path / "ss.csv",
        f"{SS_HEAD}\n"
        "r1,2024-01-05T22:14:03Z,51.3819,-2.3594,Badly lit;Rundown,Being followed;Verbal harassment by a group,Woman,\n"
        "r2,2024-07-05T22:14:03+01:00,51.3819,-2.3594,badly lit ; Flying saucers,,,16-24\n",
    )
    res = read_streetsafe([p])
    ev = res.events.to_pandas().set_index("event_id")
    assert str(ev.loc["r1", "submitted_at"]) == "2024-01-05 22:14:03"  # GMT in winter
    assert str(ev.loc["r2", "submitted_at"]) == "2024-07-05 22:14:03"  # BST offset written
    assert ev.loc["r1", ["place_badly_lit", "place_rundown", "behaviour_followed", "behaviour_verbal_group"]].all()
    assert not ev.loc["r1", "place_no_cctv"]
    assert ev.loc["r2", "place_badly_lit"]
    assert res.reconciliation["place_answers_unrecognised"] == 1
    assert "gender" not in ev and "age_range" not in ev  # dropped unless configured
    assert not ev["time_resolved"].any() and ev["t_from"].isna().all()
    kept = read_streetsafe([p], keep_demographics=True).events.to_pandas()
    assert kept["gender"].tolist() == ["Woman", ""]


AE_HEAD = (
    "Attendance ID,Arrival Date,Arrival Time,Incident Date,Incident Time,Incident Location,"
    "Incident Easting,Incident Northing"
)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("2,06/07/2024,02:00,06/07/2024,25:00,X,375081,164824", "bad_time"),
        ("2,06/07/2024,02:00,06/07/2024,03:00,X,375081,164824", "incident_after_arrival"),
        ("2,06/07/2024,02:00,06/07/2024,01:00,In town,,", "no_coordinates"),
        ("2,,02:00,06/07/2024,01:00,X,375081,164824", "missing_datetime"),
        ("2,6th July,02:00,06/07/2024,01:00,X,375081,164824", "bad_datetime"),
    ],
)
def test_ae_bad_rows(tmp_path, row, reason):
    p = _write(tmp_path / "ae.csv", f"{AE_HEAD}\n1,06/07/2024,01:20,05/07/2024,23:45,X,375081,164824\n{row}\n")
    res = read_ae([p])
    _balanced(res.reconciliation)
    assert res.quarantine.to_pandas()["reason"].tolist() == [reason]
    assert "In town" not in "".join(res.quarantine.to_pandas()["detail"])


def test_ae_incident_windows(tmp_path):
    p = _write(
        tmp_path / "ae.csv",
        f"{AE_HEAD}\n"
        "1,06/07/2024,01:20,05/07/2024,23:45,X,375081,164824\n"
        "2,06/07/2024,01:20,05/07/2024,,X,375081,164824\n"
        "3,06/07/2024,01:20,,,X,375081,164824\n"
        "4,06/07/2024,01:20,05/07/2024,2345,X,375081,164824\n",
    )
    ev = read_ae([p]).events.to_pandas().set_index("event_id")
    assert [str(ev.loc["1", c]) for c in ("t_from", "t_to")] == ["2024-07-05 23:45:00"] * 2
    assert [str(ev.loc["2", c]) for c in ("t_from", "t_to")] == ["2024-07-05 00:00:00", "2024-07-06 00:00:00"]
    assert [str(ev.loc["3", c]) for c in ("t_from", "t_to")] == ["2024-07-05 01:20:00", "2024-07-06 01:20:00"]
    assert str(ev.loc["4", "t_from"]) == "2024-07-05 23:45:00"
    assert ev["time_precision"].tolist() == ["minute", "day", "arrival", "minute"]


def test_bundled_venue_files_load_and_reconcile():
    files = sorted((DATA / "venues").glob("*.csv"))
    res = read_venues(files)
    t = _balanced(res.reconciliation)
    v = res.events.to_pandas()
    assert set(v["format"]) == {"open_pubs", "fhrs", "licensing", "closing_times"}
    # FHRS keeps every premises and marks the 'Pub/bar/nightclub' ones
    fh = v[v["format"] == "fhrs"]
    assert fh["is_nte"].sum() == (fh["kind"] == "Pub/bar/nightclub").sum() >= 160
    # the licensing register has no coordinates: placed by postcode where the FSA data has the postcode,
    # the rest quarantined with the reason, none dropped
    lic = v[v["format"] == "licensing"]
    assert (lic["placed_by"] == "postcode").all() and len(lic) > 700
    q = res.quarantine.to_pandas()
    lq = q[q["file"].str.startswith("Premises")]
    assert len(lic) + len(lq) == 946
    assert set(lq["reason"]) <= {"no_coordinates", "missing_name"}
    assert t["rows_read"] == 173 + 1736 + 946 + 165
    # Bath: placed venues are in B&NES, but for a handful the FSA's own geocode is wrong (kept, not moved)
    inside = v["x"].between(350_000, 390_000) & v["y"].between(145_000, 180_000)
    assert 0 < (~inside).sum() <= 10


def test_postcode_placement_is_the_mean_of_fsa_premises(tmp_path):
    fhrs = DATA / "venues" / "Bath__North_East_Somerset_Food_Hygiene_Ratings.csv"
    lic = _write(
        tmp_path / "lic.csv",
        "CaseReference,PremisesName,Postcode,AlcoholSupply,LateNightRefreshment,StatusLabel\n"
        "L1,Somewhere,BA1 1AA,TRUE,FALSE,Approved\nL2,Nowhere,ZZ9 9ZZ,TRUE,FALSE,Approved\n",
    )
    f = pd.read_csv(fhrs)
    pc = f.dropna(subset=["Latitude"]).assign(p=lambda d: d["PostCode"].str.replace(" ", "").str.upper())
    target = pc["p"].value_counts().index[0]
    lic.write_text(lic.read_text().replace("BA1 1AA", target))
    res = read_venues([fhrs, lic])
    v = res.events.to_pandas()
    row = v[v["venue_id"] == "licensing:L1"].iloc[0]
    from hotspots.ingest.common import wgs84_to_bng

    sel = pc[pc["p"] == target]
    x, y = wgs84_to_bng(sel["Longitude"].to_numpy(), sel["Latitude"].to_numpy())
    assert row["x"] == pytest.approx(x.mean()) and row["y"] == pytest.approx(y.mean())
    q = res.quarantine.to_pandas()
    assert q.loc[q["file"] == "lic.csv", ["reason", "detail"]].values.tolist() == [
        ["no_coordinates", "postcode not in the lookup"]
    ]


def test_cctv_and_fire_incidents_real_files():
    cams = read_assets([DATA / "partnership" / "trafford_cctv_cameras.csv"], kind="cctv")
    assert len(cams.events) == 163 and _balanced(cams.reconciliation)["rows_quarantined"] == 0
    fire = read_incidents([DATA / "partnership" / "Avon_Fire_and_Rescue_Incidents_BANES.csv.gz"])
    t = _balanced(fire.reconciliation)
    assert t["rows_read"] == 10_210
    ev = fire.events.to_pandas()
    # '01/05/2010 08:47:06 AM +0000' is month-first, UTC: 5 January 2010 08:47:06 GMT
    first = ev[ev["event_id"] == "020194-05012010"].iloc[0]
    assert str(first["t_from"]) == "2010-01-05 08:47:06"
    # a summer UTC time is shown in BST (UTC+1)
    summer = ev[ev["event_id"] == "003172-24052012"].iloc[0]
    assert str(summer["t_from"]) == "2012-05-24 20:02:32"


def test_fire_incidents_weekday_hour_table_matches_pandas_count():
    """Real partner data with time of day: the aoristic table of point events equals a plain count."""
    from hotspots.timebands import weekday_hour_table

    ev = read_incidents([DATA / "partnership" / "Avon_Fire_and_Rescue_Incidents_BANES.csv.gz"]).events.to_pandas()
    table = weekday_hour_table(ev)
    plain = pd.crosstab(ev["t_from"].dt.day_of_week, ev["t_from"].dt.hour).reindex(
        index=range(7), columns=range(24), fill_value=0
    )
    np.testing.assert_allclose(table.to_numpy(), plain.to_numpy())
    assert table.to_numpy().sum() == len(ev)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ('2,Bar,BA1 1AA,Friday,2:00,"(51.38, -2.36",1,1,1,1,1', "bad_coordinates"),
        ("2,Bar,BA1 1AA,Friday,2:00,,1,1,1,1,1", "no_coordinates"),
        ('2,Bar,BA1 1AA,Friday,2:00,"(40.1, -2.36)",1,1,1,1,1', "coordinates_out_of_range"),
        ('2,,BA1 1AA,Friday,2:00,"(51.38, -2.36)",1,1,1,1,1', "missing_name"),
        ('2,Bar,BA1 1AA,Friday,2:00,"(51.38, -2.36)",1,1', "wrong_field_count"),
    ],
)
def test_closing_times_bad_rows(tmp_path, row, reason):
    head = (DATA / "venues" / "Bath_Bar__Pub_closing_times.csv").read_text().splitlines()[0]
    good = '1,The Curfew Inn,BA1 5DG,Saturday,0:00,"(51.3900424, -2.3571185)",35,15,7,1,22'
    p = _write(tmp_path / "closing.csv", f"{head}\n{good}\n{row}\n")
    res = read_venues([p])
    _balanced(res.reconciliation)
    assert res.quarantine.to_pandas()["reason"].tolist() == [reason]
    assert res.events.to_pandas()["closing_time"].tolist() == ["0:00"]


def test_unknown_venue_layout_is_refused(tmp_path):
    p = _write(tmp_path / "v.csv", "a,b,c\n1,2,3\n")
    with pytest.raises(InputFileError, match="not a known venue layout"):
        read_venues([p])


def test_street_lights_in_metres(tmp_path):
    p = _write(
        tmp_path / "lights.csv",
        "UNITNO,STREET,EASTING,NORTHING\nL1,High St,375081,164824\nL2,High St,,\nL3,High St,-2.36,51.38\n",
    )
    cols = {"id": "UNITNO", "name": "STREET", "lng": "", "lat": "", "easting": "EASTING", "northing": "NORTHING"}
    res = read_assets([p], kind="street_light", columns=cols)
    _balanced(res.reconciliation)
    ev = res.events.to_pandas()
    assert ev["asset_id"].tolist() == ["L1"] and ev["kind"].tolist() == ["street_light"]
    assert res.quarantine.to_pandas()["reason"].tolist() == ["no_coordinates", "coordinates_in_degrees"]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ('2,,X,"(51.33, -2.46)",Fire', "missing_datetime"),
        ('2,13/45/2010 08:47:06 AM +0000,X,"(51.33, -2.46)",Fire', "bad_datetime"),
        ("2,01/05/2010 08:47:06 AM +0000,X,,Fire", "no_coordinates"),
    ],
)
def test_incident_bad_rows(tmp_path, row, reason):
    head = "incident_number,datetime,ward,location,incident_category"
    good = '1,01/05/2010 08:47:06 AM +0000,X,"(51.33365706022013, -2.4678909710962382)",Fire'
    p = _write(tmp_path / "fire.csv", f"{head}\n{good}\n{row}\n")
    res = read_incidents([p])
    _balanced(res.reconciliation)
    assert res.quarantine.to_pandas()["reason"].tolist() == [reason]
    ev = res.events.to_pandas()
    assert ev["lat"].tolist() == [51.33365706022013]  # 17 significant digits parsed exactly
