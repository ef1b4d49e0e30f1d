"""police.uk reader and the shared byte layer against hostile or careless files (issue 10, items 4 and 6).

Every input is built here. Invariant checked everywhere: rows_read == accepted + quarantined (per file and
in total) and every quarantined row has a reason and a fix.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import zlib

import numpy as np
import pyarrow as pa
import pytest
from conftest import HEADER, cid, puk_row, write_puk
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.errors import InputFileError
from hotspots.ingest import _csvscan as k
from hotspots.ingest.blocks import FileReadState, iter_line_blocks, iter_record_blocks, read_head
from hotspots.ingest.police_uk import read_police_uk

TODAY = dt.date(2025, 6, 15)


def _read(paths, **kw):
    kw.setdefault("today", TODAY)
    res = read_police_uk(paths, progress=False, **kw)
    _holds(res)
    return res


def _holds(res):
    rec = res.reconciliation
    assert rec["rows_read"] == rec["rows_accepted"] + rec["rows_quarantined"]
    assert rec["rows_quarantined"] == sum(rec["by_reason"].values()) == res.quarantine.num_rows
    assert rec["rows_accepted"] == res.events.num_rows
    for f in rec["files"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_quarantined"]
    q = res.quarantine.to_pandas()
    assert q["reason"].notna().all() and (q["reason"].astype(str) != "").all()
    assert (q["fix"].astype(str) != "").all()


def _rows(n, start=1, **kw):
    return [puk_row(cid(i), **kw) for i in range(start, start + n)]


# ------------------------------------------------------------------ line endings


def test_lone_cr_ends_the_first_line(tmp_path):
    rows = _rows(3)
    f = tmp_path / "lonecr.csv"
    f.write_bytes((HEADER + "\r" + "\n".join(rows) + "\n").encode())
    res = _read([f])
    assert res.reconciliation["rows_accepted"] == 3
    assert res.events["source_line"].to_pylist() == [2, 3, 4]
    assert res.reconciliation["files"][0]["line_endings"] == "mixed"


@pytest.mark.parametrize("gz", [False, True])
def test_cr_only_file_is_read_as_lines(tmp_path, gz):
    rows = [*_rows(4), puk_row(cid(9), lat="")]
    f = write_puk(tmp_path / ("mac.csv.gz" if gz else "mac.csv"), rows, newline="\r", gz=gz)
    res = _read([f])
    rec = res.reconciliation
    assert rec["rows_read"] == 5 and rec["rows_accepted"] == 4
    assert rec["files"][0]["line_endings"] == "CR"
    assert res.events["source_line"].to_pylist() == [2, 3, 4, 5]
    assert res.quarantine["line"].to_pylist() == [6]
    assert res.quarantine["raw"].to_pylist() == [rows[-1]]  # no CR kept in raw
    assert res.events["context"].null_count + sum(v == "" for v in res.events["context"].to_pylist()) == 4


def test_crlf_split_across_blocks_is_one_line_break(tmp_path):
    rows = _rows(40)
    f = write_puk(tmp_path / "crlf.csv", rows, newline="\r\n")
    want = _read([f]).events["source_line"].to_pylist()
    for bb in (7, 64, 251, 252, 253):  # cuts fall between CR and LF for some of these
        got = _read([f], block_bytes=bb)
        assert got.events["source_line"].to_pylist() == want == list(range(2, 42))
        assert got.reconciliation["blank_lines"] == 0


# ------------------------------------------------------------------ NUL bytes


def test_nul_bytes_quarantine_the_row_only(tmp_path):
    rows = _rows(3)
    rows[1] = rows[1].replace("High Street", "High\x00Street")
    f = write_puk(tmp_path / "nul.csv", rows)
    res = _read([f])
    assert res.reconciliation["by_reason"] == {"nul_bytes": 1}
    q = res.quarantine.to_pylist()[0]
    assert q["line"] == 3 and q["raw"] == rows[1].replace("\x00", "\ufffd")
    assert res.events["source_line"].to_pylist() == [2, 4]


def test_nul_padded_tail_is_one_quarantined_row(tmp_path):
    f = tmp_path / "padded.csv"
    f.write_bytes((HEADER + "\n" + "\n".join(_rows(2)) + "\n").encode() + b"\x00" * 5000)
    res = _read([f])
    rec = res.reconciliation
    assert rec["rows_accepted"] == 2 and rec["by_reason"] == {"nul_bytes": 1}
    assert res.quarantine["line"].to_pylist() == [4]


def test_nul_only_file_is_refused(tmp_path):
    f = tmp_path / "zeros.csv"
    f.write_bytes(b"\x00" * 10_000)
    with pytest.raises(InputFileError, match="nothing but NUL bytes.*Fix: re-download"):
        read_police_uk([f])


# ------------------------------------------------------------------ gzip layers


def test_gzip_inside_gzip_is_decompressed(tmp_path):
    rows = [*_rows(5), puk_row(cid(9), lng="")]
    plain = write_puk(tmp_path / "plain.csv", rows)
    nested = tmp_path / "nested.csv.gz"
    nested.write_bytes(gzip.compress(gzip.compress(plain.read_bytes())))
    a, b = _read([plain]), _read([nested])
    assert b.events["event_id"].to_pylist() == a.events["event_id"].to_pylist() == [cid(i) for i in range(1, 6)]
    fr = b.reconciliation["files"][0]
    assert fr["gzip_layers"] == 2 and fr["truncated"] is None
    assert any("gzip inside gzip" in w for w in b.reconciliation["warnings"])


def test_gzip_nested_too_deep_is_refused(tmp_path):
    data = write_puk(tmp_path / "p.csv", _rows(1)).read_bytes()
    for _ in range(4):
        data = gzip.compress(data)
    f = tmp_path / "deep.csv.gz"
    f.write_bytes(data)
    with pytest.raises(InputFileError, match="gzip inside gzip.*Fix:"):
        read_police_uk([f])


# ------------------------------------------------------------------ UTF-16


@pytest.mark.parametrize("enc, name", [("utf-16-le", "UTF-16LE"), ("utf-16-be", "UTF-16BE")])
@pytest.mark.parametrize("gz", [False, True])
def test_utf16_without_bom_is_refused_with_fix(tmp_path, enc, name, gz):
    f = write_puk(tmp_path / "u16.csv", _rows(3), encoding=enc, gz=gz)
    assert not f.read_bytes().startswith((b"\xff\xfe", b"\xfe\xff"))
    with pytest.raises(InputFileError, match=f"{name} text without a byte-order mark.*Fix: .*CSV UTF-8"):
        read_police_uk([f])


# ------------------------------------------------------------------ damaged gzip


def _good_prefix_lines(comp: bytes, upto: int) -> int:
    """Complete lines the undamaged stream yields from its first ``upto`` compressed bytes (independent truth)."""
    out = zlib.decompressobj(wbits=31).decompress(comp[:upto])
    return out.count(b"\n")


@pytest.mark.parametrize("n_rows, where", [(1500, 0.5), (1500, 0.9), (60_000, 0.7)])
def test_flipped_byte_keeps_every_row_before_the_damage(tmp_path, n_rows, where):
    rng = np.random.default_rng(n_rows)
    ids = [rng.bytes(32).hex() for _ in range(n_rows)]  # random 64-hex IDs: poorly compressible
    rows = [puk_row(i) for i in ids]
    text = (HEADER + "\n" + "\n".join(rows) + "\n").encode()
    comp = bytearray(gzip.compress(text, mtime=0))
    pos = int(len(comp) * where)
    comp[pos] ^= 0x55
    f = tmp_path / "flipped.csv.gz"
    f.write_bytes(bytes(comp))
    if n_rows < 5000:
        assert len(comp) < 1 << 20  # the case that used to lose every row
    else:
        assert pos > 1 << 20  # damage beyond the first MiB read
    good_lines = _good_prefix_lines(bytes(comp), pos)  # header + rows decodable before the flipped byte
    assert good_lines > 10
    res = _read([f])
    fr = res.reconciliation["files"][0]
    assert fr["truncated"] and "gzip" in fr["truncated"]
    assert fr["damaged_after_line"] >= good_lines
    ev = res.events.to_pandas()
    kept = ev[ev["source_line"] <= good_lines]
    assert kept["event_id"].tolist() == ids[: good_lines - 1]  # every row before the damage, in order
    assert fr["warnings"] == []  # damage is its own field (the CLI exits 1 with the line), not a warning


def test_damage_inside_the_header_is_refused(tmp_path):
    comp = bytearray(gzip.compress((HEADER + "\n" + puk_row(cid(1)) + "\n").encode(), mtime=0))
    comp[12] ^= 0xFF  # first bytes of the deflate stream
    f = tmp_path / "h.csv.gz"
    f.write_bytes(bytes(comp))
    with pytest.raises(InputFileError, match="Fix: re-download"):
        read_police_uk([f])


def test_read_head_recovers_bytes_before_damage(tmp_path):
    text = b"".join(b"%06d,abcdefghij\n" % i for i in range(50_000))
    comp = bytearray(gzip.compress(text, mtime=0))
    pos = len(comp) // 3
    comp[pos] ^= 0x0F
    f = tmp_path / "x.gz"
    f.write_bytes(bytes(comp))
    head, st_ = read_head(f, 10 << 20)
    expect = zlib.decompressobj(wbits=31).decompress(bytes(comp[:pos]))
    assert st_.truncated is not None
    assert head[: len(expect)] == text[: len(expect)]  # nothing before the damage lost


# ------------------------------------------------------------------ quoted newlines


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("gz", [False, True])
def test_quoted_newline_is_one_record(tmp_path, newline, gz):
    rows = _rows(100)
    rows[9] = puk_row(cid(10), location=f'"On or near{newline}High ""Street"""')
    f = write_puk(tmp_path / ("q.csv.gz" if gz else "q.csv"), rows, newline=newline, gz=gz)
    res = _read([f])
    rec = res.reconciliation
    assert rec["rows_read"] == 100 and rec["rows_accepted"] == 100
    ev = res.events.to_pandas()
    assert ev["location"].iloc[9] == f'On or near{newline}High "Street"'
    # lines: the record starts on line 11 and spans 2 physical lines, so the next starts on 13
    assert ev["source_line"].tolist() == list(range(2, 12)) + list(range(13, 103))
    # oracle: Python's csv module reads the same records
    with gzip.open(f, "rt", newline="") if gz else open(f, newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 100


def test_quoted_newline_record_quarantined_once(tmp_path):
    rows = _rows(5)
    rows[2] = puk_row(cid(3), lat="x", location='"On or near\nHigh Street"')
    f = write_puk(tmp_path / "qq.csv", rows)
    res = _read([f])
    assert res.reconciliation["rows_read"] == 5 and res.reconciliation["by_reason"] == {"bad_coordinates": 1}
    q = res.quarantine.to_pylist()[0]
    assert q["line"] == 4 and q["raw"] == rows[2]


def test_quoted_newline_same_result_for_any_block_size(tmp_path):
    rows = _rows(60)
    for i in range(0, 60, 7):
        rows[i] = puk_row(cid(i + 1), location='"On or near\r\nA, ""B""\nC"')
    f = write_puk(tmp_path / "b.csv", rows)
    want = _read([f])
    for bb in (16, 97, 1000):
        got = _read([f], block_bytes=bb)
        assert got.events["source_line"].to_pylist() == want.events["source_line"].to_pylist()
        assert got.events["location"].to_pylist() == want.events["location"].to_pylist()
    assert want.reconciliation["rows_accepted"] == 60


def test_unbalanced_quote_does_not_swallow_the_file(tmp_path):
    rows = _rows(300)
    rows[0] = puk_row(cid(1), location='"On or near, High St')  # never closed
    rows[5] = puk_row(cid(6), location='"On or near ""x"", Y"')  # a proper quoted field later
    rows[150] = puk_row(cid(151), location='"unclosed too')
    f = write_puk(tmp_path / "u.csv", rows)
    res = _read([f])
    rec = res.reconciliation
    assert rec["rows_read"] == 300
    assert rec["by_reason"] == {"malformed_quotes": 2}
    assert res.quarantine["line"].to_pylist() == [2, 152]
    assert res.quarantine["raw"].to_pylist() == [rows[0], rows[150]]


def test_quote_closing_after_too_many_lines_is_a_stray(tmp_path):
    rows = _rows(k.MAX_RECORD_LINES + 20)
    rows[0] = puk_row(cid(1), location='"On or near')
    rows[-1] = puk_row(cid(999), location='x",y')  # would close the quote far below, followed by a comma
    f = write_puk(tmp_path / "far.csv", rows)
    res = _read([f])
    assert res.reconciliation["rows_read"] == len(rows)
    assert res.reconciliation["by_reason"]["malformed_quotes"] == 1
    assert res.quarantine["line"].to_pylist()[0] == 2


# ------------------------------------------------------------------ header


@pytest.mark.parametrize("dup", ["Month", " MONTH ", "month"])
def test_duplicated_header_column_is_refused(tmp_path, dup):
    f = write_puk(tmp_path / "dup.csv", [puk_row(cid(1)) + ",2024-02"], header=HEADER + "," + dup)
    with pytest.raises(InputFileError, match="column 'Month' twice.*Fix:") as ei:
        read_police_uk([f])
    assert ei.value.line == 1


def test_header_only_file_is_accepted_with_a_warning(tmp_path):
    a = write_puk(tmp_path / "empty.csv", [])
    b = write_puk(tmp_path / "full.csv", _rows(2))
    res = _read([a, b])
    rec = res.reconciliation
    fa, fb = rec["files"]
    assert fa["empty"] is True and fa["rows_read"] == 0 and fa["warnings"]
    assert fb["empty"] is False and fb["warnings"] == []
    assert rec["warnings"] == [f"empty.csv: {fa['warnings'][0]}"]
    assert rec["rows_accepted"] == 2


def test_header_only_with_blank_lines_warns(tmp_path):
    res = _read([write_puk(tmp_path / "e.csv", ["", "  "])])
    assert res.reconciliation["files"][0]["empty"] and res.reconciliation["blank_lines"] == 2


# ------------------------------------------------------------------ months


def test_implausible_months_are_bad_month(tmp_path):
    months = ["2009-01", "2010-11", "2010-12", "2025-06", "2025-07", "9999-12", "2024-13"]
    rows = [puk_row(cid(i), month=m) for i, m in enumerate(months, 1)]
    res = _read([write_puk(tmp_path / "m.csv", rows)], today=TODAY)
    rec = res.reconciliation
    assert rec["by_reason"] == {"bad_month": 5}
    assert res.events["month"].to_pandas().astype(str).tolist() == ["2010-12", "2025-06"]
    q = res.quarantine.to_pandas()
    assert q["line"].tolist() == [2, 3, 6, 7, 8]
    assert q["detail"].tolist() == [
        "before 2010-12, police.uk's first month",
        "before 2010-12, police.uk's first month",
        "after the run date's month",
        "after the run date's month",
        "not YYYY-MM",
    ]
    cov = rec["coverage"]["Avon and Somerset Constabulary"]
    assert cov["first_month"] == "2010-12" and cov["last_month"] == "2025-06"


def test_run_date_defaults_to_today(tmp_path):
    nxt = dt.date.today().replace(day=1) + dt.timedelta(days=40)
    rows = [puk_row(cid(1), month=f"{nxt:%Y-%m}"), puk_row(cid(2))]
    res = read_police_uk([write_puk(tmp_path / "t.csv", rows)], progress=False)
    assert res.reconciliation["by_reason"] == {"bad_month": 1}


# ------------------------------------------------------------------ kernels against Python's csv module

FIELD = st.text(alphabet=st.sampled_from('ab ,"\r\n\t\u00e9'), max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(FIELD, min_size=1, max_size=4), min_size=1, max_size=8),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
)
def test_record_spans_match_python_csv(rows, newline, trailing):
    # RFC 4180 writer (Python's csv.writer leaves a lone CR unquoted when the line terminator is LF)
    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\r\n') or v == "" else v

    text = "".join(",".join(map(cell, r)) + newline for r in rows)
    if not trailing:
        text = text[: -len(newline)]
    data = text.encode()
    buf = np.frombuffer(data, np.uint8)
    s, e, first, consumed, lines, _, _ = k._record_spans(buf, True, k.MAX_RECORD_LINES)
    reader = csv.reader(io.StringIO(text, newline=""))
    expect, starts = [], []
    while True:
        before = reader.line_num
        try:
            rec = next(reader)
        except StopIteration:
            break
        expect.append(rec)
        starts.append(before)
    got = []
    for i, (a, b) in enumerate(zip(s, e, strict=True)):
        ss = np.array([a])
        ee = np.array([b])
        _, _, _, nf, status = k._split_fields(buf, ss, ee, 1)
        if status[0] == k.LINE_BLANK:  # spaces/tabs only: not a row (Python gives [] or one blank field)
            assert len(expect[i]) <= 1 and "".join(expect[i]).strip(" \t") == ""
            got.append(expect[i] or [""])
            continue
        fs, fe, esc, _, _ = k._split_fields(buf, ss, ee, int(nf[0]))
        assert status[0] != k.LINE_BAD_QUOTE
        off, d = k._gather(buf, fs[0], fe[0], esc[0], False)
        raw = d.tobytes()
        got.append([raw[off[i] : off[i + 1]].decode() for i in range(int(nf[0]))])
    # Python's csv returns [] for an empty line; ours gives one empty field
    assert got == [r if r else [""] for r in expect]
    assert first.tolist() == starts
    assert consumed == len(data) and lines == k._count_lines(buf)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200).map(lambda b: b.replace(b"x", b'"')), st.integers(1, 40), st.integers(1, 5))
def test_streamed_records_equal_whole_buffer(data, block, max_lines):
    """Cutting anywhere and carrying the rest, as the block reader does, never changes the records."""
    buf = np.frombuffer(data, np.uint8)
    s0, e0, f0, _, n0, t0, _ = k._record_spans(buf, True, max_lines)
    got_s, got_e, got_f, pos, line, terms = [], [], [], 0, 0, np.zeros(3, np.int64)
    end = 0
    while True:
        end = min(len(buf), max(end, pos) + block)
        eof = end == len(buf)
        s, e, f, consumed, lines, t, _ = k._record_spans(buf[pos:end], eof, max_lines)
        if not eof and consumed == 0:
            continue  # the reader grows the block
        got_s += (s + pos).tolist()
        got_e += (e + pos).tolist()
        got_f += (f + line).tolist()
        terms += t
        pos += consumed
        line += lines
        if eof:
            break
    assert got_s == s0.tolist() and got_e == e0.tolist() and got_f == f0.tolist()
    assert line == n0 and terms.tolist() == t0.tolist()
    # every byte is in a record or a line break; records never overlap
    assert all(a <= b for a, b in zip(got_e, got_s[1:], strict=False))


def test_stray_quote_limits_the_record_to_its_line():
    buf = np.frombuffer(b'1,"abc,x\n2,"def",y\n3,z\n', np.uint8)
    s, e = k._line_spans(buf)
    assert [bytes(buf[a:b]) for a, b in zip(s, e, strict=True)] == [b'1,"abc,x', b'2,"def",y', b"3,z"]
    _, _, _, _, status = k._split_fields(buf, s, e, 3)
    assert status.tolist() == [k.LINE_BAD_QUOTE, k.LINE_OK, k.LINE_OK]


def test_iter_line_blocks_cut_at_record_boundaries(tmp_path):
    f = tmp_path / "x.csv"
    text = b'h1,h2\n1,"a\nb"\r2,"c\r\nd"\r\n3,e\n'
    f.write_bytes(text)
    for bb in range(1, 12):
        blocks = [bytes(b) for b, _ in iter_line_blocks(f, FileReadState(f), block_bytes=bb, prefetch=0)]
        assert b"".join(blocks) == text
        recs = []
        for b in blocks:
            s, e = k._line_spans(np.frombuffer(b, np.uint8))
            recs += [b[x:y] for x, y in zip(s, e, strict=True)]
        assert recs == [b"h1,h2", b'1,"a\nb"', b'2,"c\r\nd"', b"3,e"]
        st_ = FileReadState(f)
        lines = np.concatenate([rb.line for rb in iter_record_blocks(f, st_, block_bytes=bb, prefetch=0)])
        assert lines.tolist() == [1, 2, 4, 6] and st_.lines == 6


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("prefetch", [0, 3])
def test_hash_is_complete_when_the_caller_stops_at_the_last_block(tmp_path, gz, prefetch):
    f = write_puk(tmp_path / ("h.csv.gz" if gz else "h.csv"), _rows(50), gz=gz)
    state = FileReadState(f)
    for _, is_last in iter_line_blocks(f, state, block_bytes=512, prefetch=prefetch):
        if is_last:
            assert state.sha256 == hashlib.sha256(f.read_bytes()).hexdigest()
            break
    assert state.bytes_on_disk == f.stat().st_size


def test_newer_file_without_crime_ids_leaves_older_ids_alone(tmp_path):
    """H6 fuzz find: an empty key index from a newer ASB-only file made the vintage lookup raise IndexError."""
    old = write_puk(tmp_path / "a-older.csv", [puk_row(cid(1)), puk_row(cid(2))])
    new = write_puk(tmp_path / "b-newer.csv", [puk_row(crime_type="Anti-social behaviour")])
    res = _read([old, new])
    assert res.reconciliation["rows_accepted"] == 3 and res.reconciliation["by_reason"] == {}


def test_dictionaries_are_shared_and_narrow_across_files(tmp_path):
    a = write_puk(tmp_path / "a.csv", [puk_row(cid(1), outcome="Under investigation"), puk_row(cid(2))])
    b = write_puk(tmp_path / "b.csv", [puk_row(cid(3), outcome="Court result unavailable", crime_type="Drugs")])
    ev = _read([a, b], block_bytes=64).events
    for col in ("force", "crime_type", "outcome", "source_file"):
        assert ev.schema.field(col).type.index_type == pa.int8()
    assert ev["outcome"].to_pylist() == ["Under investigation"] * 2 + ["Court result unavailable"]
    assert ev["crime_type"].to_pylist() == ["Violence and sexual offences"] * 2 + ["Drugs"]
    assert ev["source_file"].to_pylist() == ["a.csv", "a.csv", "b.csv"]
    assert ev["source_line"].to_pylist() == [2, 3, 2]


def test_endless_line_is_refused_not_buffered(tmp_path, monkeypatch):
    from hotspots.ingest import blocks

    monkeypatch.setattr(blocks, "MAX_RECORD_BYTES", 1 << 16)
    f = tmp_path / "bomb.csv.gz"
    f.write_bytes(gzip.compress((HEADER + "\n" + puk_row(cid(1)) + "\n").encode() + b"\x00" * (1 << 20)))
    with pytest.raises(InputFileError, match="line 3 runs for more than.*Fix:"):
        read_police_uk([f], block_bytes=4096)


def test_bytes_after_the_gzip_stream_are_ignored_with_a_warning(tmp_path):
    rows = _rows(3)
    f = tmp_path / "tail.csv.gz"
    f.write_bytes(gzip.compress((HEADER + "\n" + "\n".join(rows) + "\n").encode()) + b"junk after the stream")
    res = _read([f])
    fr = res.reconciliation["files"][0]
    assert res.reconciliation["rows_accepted"] == 3 and fr["truncated"] is None
    assert any("after the gzip stream" in w for w in fr["warnings"])
    assert fr["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()  # the hash covers the junk too


def test_vintages_across_several_months_in_one_file(tmp_path):
    old = write_puk(
        tmp_path / "a.csv",
        [puk_row(cid(1), month="2024-01"), puk_row(cid(2), month="2024-02"), puk_row(cid(3), month="2024-03")],
    )
    new = write_puk(tmp_path / "b.csv", [puk_row(cid(2), month="2024-02"), puk_row(cid(1), month="2024-03")])
    res = _read([old, new])
    q = res.quarantine.to_pylist()
    assert [(r["file"], r["line"], r["reason"], r["detail"]) for r in q] == [
        ("a.csv", 3, "duplicate_crime_id", "kept b.csv line 2")
    ]
    assert res.reconciliation["rows_accepted"] == 4
