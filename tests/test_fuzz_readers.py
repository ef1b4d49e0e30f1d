"""Every reader survives anything: a result whose rows reconcile, or an InputFileError, never another exception.

Each reader gets realistic files (its own header and plausible rows) mutated the
way exports and downloads go wrong: random bytes, stray quotes, lone CRs, CR/LF
mixes, NULs, byte-order marks, UTF-16 and cp1252, truncation, gzip (truncated,
damaged, nested, multi-member), huge fields, duplicated headers and columns,
numeric extremes and impossible dates; and plain random bytes. For every
result: rows_read == accepted + quarantined per file and in total; the
quarantine has one row per quarantined row, each with a reason and a fix, and
its reasons add up to the reconciliation's; accepted events sit at finite
coordinates inside Great Britain; and the outputs written by
:func:`hotspots.io.write_ingest_outputs` read back with the same rows.

Examples per reader: 150 by default (110 mutated files, 40 random); ``SAFER_SPACES_FUZZ=long``
runs 3,000 (``nightly``: 20,000). ``benchmarks/fuzz.py`` runs coverage-guided fuzzing.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotspots.errors import InputFileError
from hotspots.ingest.ae import read_ae
from hotspots.ingest.assets import read_assets
from hotspots.ingest.incidents import read_incidents
from hotspots.ingest.police_uk import read_police_uk
from hotspots.ingest.rms import read_rms
from hotspots.ingest.streetsafe import read_streetsafe
from hotspots.ingest.venues import read_venues
from hotspots.io import write_ingest_outputs
from hotspots.offences import load_offence_table

_EXAMPLES = {"ci": 110, "long": 3_000, "nightly": 20_000}[os.environ.get("SAFER_SPACES_FUZZ", "ci")]
FUZZ = settings(
    max_examples=_EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Great Britain, Northern Ireland and the islands, generously (the readers' own envelope, written out here).
LNG_RANGE, LAT_RANGE = (-11.0, 2.5), (49.0, 61.5)
E_RANGE, N_RANGE = (-300_000.0, 800_000.0), (-200_000.0, 1_300_000.0)  # BNG of that envelope, with margin


@dataclass(frozen=True)
class Source:
    """One reader with a small realistic file for it (a header and rows that are all accepted)."""

    name: str
    header: str
    rows: tuple[str, ...]
    read: Callable[[list[Path]], object]
    companion: tuple[str, str] | None = None  # (header, row) of a second file read alongside (licensing needs one)


OFFENCES = load_offence_table()  # once: it is the same table for every example
PUK_HEAD = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)
_FORCE = "Avon and Somerset Constabulary"
SOURCES = [
    Source(
        "police_uk",
        PUK_HEAD,
        (
            f"{'a' * 64},2024-01,{_FORCE},{_FORCE},-2.359463,51.381912,On or near High Street,E01014370,"
            "Bath and North East Somerset 010A,Violence and sexual offences,Under investigation,",
            f",2024-01,{_FORCE},{_FORCE},-2.36,51.38,On or near Milsom Street,E01014370,"
            "Bath and North East Somerset 010A,Anti-social behaviour,,",
            f"{'b' * 64},2024-02,{_FORCE},{_FORCE},-2.58,51.45,\"On or near Park, Street\",E01014540,"
            "Bristol 032B,Public order,Investigation complete; no suspect identified,",
        ),
        lambda ps: read_police_uk(ps, progress=False, threads=1),
    ),
    Source(
        "rms",
        "Occurrence Ref,HO Code,Offence Description,Committed From,Committed To,Easting,Northing,Location Type,"
        "DA Flag,Alcohol Flag,NTE Flag,Victim Sex,Victim Age Band,Outcome Code",
        (
            "AS1,19C,Rape of a female aged 16 and over,01/03/2024 22:00,02/03/2024 02:00,375081,164824,Street,"
            "N,Y,Y,F,25-34,15",
            "AS2,8Q,Stalking,01/03/2024,,375100,164800,Dwelling,Y,N,N,F,35-44,3",
            'AS3,105A,"Assault, occasioning",2024-03-01 23:10,,375200,164700,Street,N,Y,Y,M,18-24,',
        ),
        lambda ps: read_rms(ps, offence_table=OFFENCES),
    ),
    Source(
        "streetsafe",
        "id,submitted_at,latitude,longitude,place_reasons,behaviour_reasons,not_reported_reasons,gender,age_range",
        (
            "r1,2024-07-05T22:14:03Z,51.3819,-2.3594,Badly lit;Rundown,Being followed,"
            "Did not think police would act,Woman,25-34",
            "r2,2024-07-06T01:00:00+01:00,51.3800,-2.3600,Absence of CCTV,,,,",
            "r3,05/07/2024 23:30,51.3810,-2.3580,Other,Verbal harassment by a group,,Man,18-24",
        ),
        lambda ps: read_streetsafe(ps, keep_demographics=True),
    ),
    Source(
        "ae",
        "Attendance ID,Arrival Date,Arrival Time,Incident Date,Incident Time,Incident Location,Incident Easting,"
        "Incident Northing,Primary Means of Assault,Patient Sex,Patient Age Band",
        (
            'AE1,01/01/2024,22:26,01/01/2024,,"Outside All Bar One, High Street",375059,164835,'
            '"Body part (fist, feet)",M,55+',
            "AE2,01/01/2024,23:23,01/01/2024,21:16,Near The White Hart,375573,164188,Sharp object,F,25-34",
            "AE3,02/01/2024,01:10,,,Bus station,375400,164500,Other,F,18-24",
        ),
        lambda ps: read_ae(ps),
    ),
    Source(
        "venues_open_pubs",
        "fsa_id,name,address,postcode,easting,northing,latitude,longitude,local authority",
        (
            '292472,All Bar One,"All Bar One, 11 - 12 High Street, Bath",BA1 5AQ,375081,164824,51.381912,'
            "-2.359463,Bath and North East Somerset",
            '292489,Apple Tree Inn,"Rag Hill, Shoscombe",BA2 8LS,371186,156478,51.306675,-2.414736,BANES',
        ),
        lambda ps: read_venues(ps),
    ),
    Source(
        "venues_fhrs",
        "FHRSID,BusinessName,BusinessType,AddressLine1,PostCode,Latitude,Longitude",
        (
            "655885,The Raven,Pub/bar/nightclub,7 Queen Street,BA1 1HE,51.3829,-2.3622",
            "1083612,Coffee#1,Restaurant/Cafe/Canteen,Unit 1,BA2 3GG,51.3800,-2.3700",
            "10,Nameless,Pub/bar/nightclub,,BA1 5AQ,,",
        ),
        lambda ps: read_venues(ps),
    ),
    Source(
        "venues_licensing",
        "CaseReference,PremisesName,ServiceTypeLabel,LocationText,Postcode,AlcoholSupply,LateNightRefreshment,"
        "StatusLabel,UPRN",
        (
            "05/01215/LAPREC,Royal British Legion,Club Premises Certificate,Staunton Lane| Bristol,BA1 1HE,TRUE,"
            "FALSE,Approved,10001",
            "05/01306/LAPRE,Tasburgh House,Premises Licence,Warminster Road| Bath,BA2  6SH,TRUE,TRUE,Approved,",
        ),
        lambda ps: read_venues(ps),
        companion=(
            "FHRSID,BusinessName,BusinessType,AddressLine1,PostCode,Latitude,Longitude",
            "655885,The Raven,Pub/bar/nightclub,7 Queen Street,BA1 1HE,51.3829,-2.3622",
        ),
    ),
    Source(
        "venues_closing_times",
        "id,name,postcode,day,closingtime,Location",
        (
            '081a40ad,The Curfew Inn,BA1 5DG,Saturday,0:00,"(51.3900424, -2.3571185)"',
            '73e27e57,St Christophers Inn,BA1 2JY,Sunday,23:30,"(51.3836937, -2.3604584)"',
        ),
        lambda ps: read_venues(ps),
    ),
    Source(
        "cctv",
        "camera_id,location,area_name,area_code,lon,lat",
        (
            "1001,Trafford Wharf Road,Gorse Hill & Cornbrook,E05015247,-2.284777,53.464515",
            '1002,"Wharfside, tram stop",Gorse Hill & Cornbrook,E05015247,-2.289056,53.466406',
        ),
        lambda ps: read_assets(ps, kind="cctv"),
    ),
    Source(
        "street_lights",
        "unit_id,street,easting,northing",
        ("SL1,High Street,375081,164824", "SL2,Milsom Street,374900,165000"),
        lambda ps: read_assets(
            ps,
            kind="street_light",
            columns={"id": "unit_id", "name": "street", "lng": "", "lat": "", "easting": "easting",
                     "northing": "northing"},
        ),
    ),
    Source(
        "incidents",
        "incident_number,datetime,ward,location,incident_category,type_0,type_1",
        (
            '020194-05012010,01/05/2010 08:47:06 AM +0000,TIMSBURY,"(51.33365706022013, -2.4678909710962382)",'
            "Special Service,Road Vehicle,Car",
            '003172-24052012,05/24/2012 07:02:32 PM +0000,WIDCOMBE,"(51.37897302091154, -2.367775587009803)",'
            "Fire,Outdoor,Grass",
        ),
        lambda ps: read_incidents(ps),
    ),
]
BY_NAME = {s.name: s for s in SOURCES}

# ---- mutations -----------------------------------------------------------------------------------------------------

WEIRD_FIELDS = [
    "", " ", '"', '""', '"a""b"', '"open', 'x"y', "a\nb", '"a\nb"', '"a\r\nb"', "\r", "\x00", "\t", ",", ";",
    "=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "{{7*7}}", "{% bad", "</script>",
    "nan", "NaN", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e-320", "1e999", "0", "-0", "0x10", "1_000",
    "99999999999999999999999", "-99999999999999999999999", "3.4.5", "1,5", "  51.38  ", "51.38e", "٣٤", "５１",
    "9999-12", "0000-00", "1900-01", "2010-11", "2099-01", "2024-13", "2024-1", "24-01", "Jan-24", "01/01/2024",
    "31/02/2024 23:10", "29/02/2023", "2024-02-30T25:61:61Z", "2024-03-31T01:30:00+14:00", "1/1/1", "00/00/0000",
    "12/31/9999 11:59:59 PM +9999", "01/05/2010 08:47:06 AM", "24:00", "25:99", "-1:00", "23:59:60",
    "(51.3, -2.3)", "(-2.3, 51.3)", "(nan, nan)", "(1e999, 0)", "(", ")", "(,)", "(51.3 -2.3)",
    "0", "700000", "1300000", "-2.3594", "51.3819", "164824", "375081", "F", "female", "Y", "maybe",
    "\ufeff", "\u2028", "\ud7ff", "é", "Ã©", "\U0001f600", "\x85", "\x1a",
]


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-8-bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    return text.encode(encoding, "replace" if encoding not in ("utf-8",) else "surrogatepass")


@st.composite
def mutated_text(draw, src: Source) -> str:
    """The source's file as text with row- and field-level damage."""
    header = src.header
    rows = list(src.rows)
    for _ in range(draw(st.integers(0, 6))):
        op = draw(
            st.sampled_from(
                ["field", "field", "field", "text_field", "dup_header", "dup_column", "drop_column", "extra_field",
                 "drop_field", "huge", "blank", "swap_xy", "random_row", "repeat_row", "many_rows"]
            )
        )
        if op in ("field", "text_field", "huge", "swap_xy", "extra_field", "drop_field") and not rows:
            continue
        i = draw(st.integers(0, max(0, len(rows) - 1)))
        if op in ("field", "text_field", "huge"):
            cells = rows[i].split(",")
            j = draw(st.integers(0, len(cells) - 1))
            if op == "field":
                cells[j] = draw(st.sampled_from(WEIRD_FIELDS))
            elif op == "text_field":
                cells[j] = draw(st.text(max_size=30))
            else:
                size = draw(st.sampled_from([5_000, 5_000, 70_000, 300_000]))
                cells[j] = draw(st.sampled_from(["x", "é", '"', ","])) * size
            rows[i] = ",".join(cells)
        elif op == "dup_header":
            rows.insert(draw(st.integers(0, len(rows))), header)
        elif op == "dup_column":
            names = header.split(",")
            header = header + "," + draw(st.sampled_from(names))
        elif op == "drop_column":
            names = header.split(",")
            del names[draw(st.integers(0, len(names) - 1))]
            header = ",".join(names)
        elif op == "extra_field":
            rows[i] += "," + draw(st.sampled_from(WEIRD_FIELDS))
        elif op == "drop_field":
            rows[i] = rows[i].rsplit(",", 1)[0]
        elif op == "blank":
            rows.insert(draw(st.integers(0, len(rows))), draw(st.sampled_from(["", " ", "\t", ",,,", "\r"])))
        elif op == "swap_xy":
            cells = rows[i].split(",")
            a, b = draw(st.integers(0, len(cells) - 1)), draw(st.integers(0, len(cells) - 1))
            cells[a], cells[b] = cells[b], cells[a]
            rows[i] = ",".join(cells)
        elif op == "random_row":
            rows.insert(draw(st.integers(0, len(rows))), draw(st.text(max_size=80)))
        elif op == "repeat_row" and rows:
            rows.insert(draw(st.integers(0, len(rows))), rows[i])
        elif op == "many_rows" and rows:
            rows.extend([rows[i]] * draw(st.sampled_from([100, 100, 2_000])))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    if newline == "mixed":
        seps = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r", "\n\r"]), min_size=len(rows) + 1,
                             max_size=len(rows) + 1))
        text = header + "".join(s + r for s, r in zip(seps, rows, strict=False))
        if draw(st.booleans()):
            text += seps[-1]
        return text
    return newline.join([header, *rows]) + (newline if draw(st.booleans()) else "")


TOKENS = [b"\r", b"\n", b"\r\n", b'"', b",", b"\x00", b"\xff", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\x1f\x8b",
          b"\xc3", b"\xe2\x80", b"\x80", b"\x1a", b"\\", b"\t"]


@st.composite
def damaged_bytes(draw, data: bytes) -> bytes:
    """Byte-level damage: flips, insertions (random bytes or nasty tokens), deletions, truncation."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "insert", "token", "delete", "truncate"]))
        i = draw(st.integers(0, len(buf)))
        if op == "flip" and buf:
            buf[i % len(buf)] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            buf[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "token":
            buf[i:i] = draw(st.sampled_from(TOKENS))
        elif op == "delete" and buf:
            del buf[i % len(buf): i % len(buf) + draw(st.integers(1, 16))]
        elif op == "truncate":
            del buf[i:]
    return bytes(buf)


@st.composite
def compressed(draw, data: bytes) -> bytes:
    """None, gzip, or gzip gone wrong: truncated, a damaged byte, nested, several members, trailing junk."""
    how = draw(st.sampled_from(["none", "none", "gzip", "gzip_cut", "gzip_flip", "gzip_nested", "gzip_members",
                                "gzip_junk", "zlib"]))
    if how == "none":
        return data
    if how == "zlib":
        return zlib.compress(data)
    gz = gzip.compress(data, mtime=0)
    if how == "gzip_cut":
        return gz[: draw(st.integers(0, len(gz)))]
    if how == "gzip_flip":
        buf = bytearray(gz)
        i = draw(st.integers(0, len(buf) - 1))
        buf[i] ^= 1 << draw(st.integers(0, 7))
        return bytes(buf)
    if how == "gzip_nested":
        return gzip.compress(gz, mtime=0)
    if how == "gzip_members":
        k = draw(st.integers(0, len(data)))
        return gzip.compress(data[:k], mtime=0) + gzip.compress(data[k:], mtime=0)
    return gz + draw(st.binary(min_size=1, max_size=64))


@st.composite
def mutated_file(draw, src: Source) -> bytes:
    text = draw(mutated_text(src))
    enc = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-bom", "cp1252", "latin-1", "utf-16", "utf-16-le",
                                "utf-16-be"]))
    data = draw(damaged_bytes(_encode(text, enc)))
    return draw(compressed(data))


# ---- the invariants ------------------------------------------------------------------------------------------------


def _totals(rec: dict) -> tuple[dict, list[dict], str]:
    """(total, per-file records, name of the by-reason key) for either reconciliation layout."""
    if "total" in rec:  # partner readers
        return rec["total"], rec["files"], "quarantined_by_reason"
    return rec, rec["files"], "by_reason"  # police.uk


def _finite_inside_gb(events: pa.Table) -> None:
    names = set(events.column_names)
    for col, (lo, hi) in (("lng", LNG_RANGE), ("lat", LAT_RANGE), ("x", E_RANGE), ("y", N_RANGE)):
        if col not in names or events.num_rows == 0:
            continue
        v = events[col].to_numpy(zero_copy_only=False).astype(float)
        v = v[~np.isnan(v)] if col in ("lng", "lat") and "placed_by" in names else v  # venues placed by postcode
        assert np.isfinite(v).all(), f"non-finite {col}"
        assert ((v >= lo) & (v <= hi)).all(), f"{col} outside Great Britain: {v.min()}..{v.max()}"


def check_result(res, out_dir: Path) -> dict:
    """Every invariant of a reader's result; returns the reconciliation."""
    rec = res.reconciliation
    total, files, by_key = _totals(rec)
    assert total["rows_read"] == total["rows_accepted"] + total["rows_quarantined"]
    for f in files:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_quarantined"], f["file"]
        assert isinstance(f["sha256"], str) and len(f["sha256"]) == 64, f["file"]  # the summary's provenance needs it
        assert sum(f[by_key].values()) == f["rows_quarantined"], f["file"]
    assert sum(f["rows_read"] for f in files) == total["rows_read"]
    assert sum(f["rows_quarantined"] for f in files) == total["rows_quarantined"]
    assert res.events.num_rows == total["rows_accepted"]
    q = res.quarantine
    assert q.num_rows == total["rows_quarantined"]
    if q.num_rows:
        reasons = q["reason"].to_pylist()
        fixes = q["fix"].to_pylist()
        assert all(isinstance(r, str) and r.strip() for r in reasons)
        assert all(isinstance(f, str) and len(f.strip()) > 10 for f in fixes)
        assert Counter(reasons) == Counter({k: v for k, v in total[by_key].items() if v})
        assert all(isinstance(n, int) and n >= 1 for n in q["line"].to_pylist())
    _finite_inside_gb(res.events)
    # outputs: written and read back with the same rows
    paths = write_ingest_outputs(res, out_dir)
    assert pq.read_table(paths["events"]).num_rows == res.events.num_rows
    back = pacsv.read_csv(
        paths["quarantine"],
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in q.column_names if c != "line"}),
    )
    assert back.num_rows == q.num_rows
    if q.num_rows:
        assert back["reason"].to_pylist() == q["reason"].to_pylist()
    assert json.loads(Path(paths["reconciliation"]).read_text(encoding="utf-8"))["source"] == rec["source"]
    return rec


def run_reader(src: Source, files: list[Path], out_dir: Path):
    """The reader's contract: a result meeting every invariant, or an InputFileError naming a file and a fix."""
    try:
        res = src.read(files)
    except InputFileError as exc:
        assert exc.fix and len(exc.fix) > 10
        assert exc.problem
        assert any(f.name in exc.file for f in files), (exc.file, files)
        return exc
    return check_result(res, out_dir)


def _write_files(tmp_path: Path, src: Source, data: bytes, extra_valid: bool) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    out = []
    if src.companion is not None:
        head, row = src.companion
        c = folder / "companion.csv"
        c.write_text(f"{head}\n{row}\n", encoding="utf-8")
        out.append(c)
    if extra_valid:  # an older, clean file beside the damaged one (police.uk: an earlier download vintage)
        v = folder / "2024-00-clean-street.csv"
        v.write_text("\n".join([src.header, *src.rows]) + "\n", encoding="utf-8")
        out.append(v)
    p = folder / "2024-01-fuzz-street.csv"
    p.write_bytes(data)
    out.append(p)
    return out


# ---- crashes the fuzzing found, fixed since, kept as regressions ------------------------------------------------


def test_police_uk_older_ids_beside_a_newer_file_without_ids(tmp_path):
    """Found by the property below (H1 fixed it): an IndexError in the vintage index when the newer file has no IDs."""
    head = PUK_HEAD + "\n"
    row = f"{{}},2024-01,{_FORCE},{_FORCE},-2.36,51.38,On or near X,E01014370,B 010A,Public order,,\n"
    (tmp_path / "a.csv").write_text(head + row.format("a" * 64))
    (tmp_path / "b.csv").write_text(head + row.format(""))
    res = read_police_uk([tmp_path / "a.csv", tmp_path / "b.csv"], progress=False)
    assert res.reconciliation["rows_accepted"] == 2


# ---- properties ----------------------------------------------------------------------------------------------------

NAMES = [s.name for s in SOURCES]


@pytest.mark.parametrize("name", NAMES)
def test_seed_files_are_read_cleanly(tmp_path, name):
    """The unmutated seeds are accepted whole (so the properties start from files the readers take)."""
    src = BY_NAME[name]
    files = _write_files(tmp_path, src, ("\n".join([src.header, *src.rows]) + "\n").encode(), False)
    rec = run_reader(src, files, tmp_path / "out")
    assert isinstance(rec, dict)
    total, _, _ = _totals(rec)
    companion = 1 if src.companion else 0
    assert total["rows_read"] == len(src.rows) + companion
    # planted: one FHRS premises without coordinates; one licensed premises whose postcode the companion lacks
    assert total["rows_quarantined"] == {"venues_fhrs": 1, "venues_licensing": 1}.get(name, 0)


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(data=st.data())
def test_mutated_files_reconcile_or_are_refused(tmp_path, name, data):
    src = BY_NAME[name]
    blob = data.draw(mutated_file(src), label="file")
    extra = data.draw(st.booleans(), label="clean file beside it")
    run_reader(src, _write_files(tmp_path, src, blob, extra), tmp_path / "out")


@pytest.mark.parametrize("name", NAMES)
@settings(FUZZ, max_examples=max(40, _EXAMPLES // 3))
@given(body=st.binary(max_size=3000), with_header=st.booleans(), gz=st.booleans())
def test_random_bytes_reconcile_or_are_refused(tmp_path, name, body, with_header, gz):
    src = BY_NAME[name]
    blob = (src.header.encode() + b"\n" if with_header else b"") + body
    run_reader(src, _write_files(tmp_path, src, gzip.compress(blob, mtime=0) if gz else blob, False), tmp_path / "out")
