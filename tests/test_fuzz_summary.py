"""The summary loader survives anything: a valid summary dict or a SummaryFileError, never another exception.

Examples per property: 150 by default; ``SAFER_SPACES_FUZZ=long`` runs 3,000
(``nightly``: 20,000).
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotspots.errors import InputFileError, SaferSpacesError
from profiles import summary as summary_mod
from profiles.summary import (
    READ_VERSIONS,
    SummaryFileError,
    example_summary,
    load_summary,
    validate_summary,
    write_summary,
)

_EXAMPLES = {"ci": 150, "long": 3_000, "nightly": 20_000}[os.environ.get("SAFER_SPACES_FUZZ", "ci")]
FUZZ = settings(
    max_examples=_EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
VALID = json.dumps(example_summary(), indent=2).encode()


def _load_or_refuse(path: Path):
    """The loader's contract: a valid summary, or a SummaryFileError naming file, field and fix."""
    try:
        out = load_summary(path)
    except SummaryFileError as exc:
        assert isinstance(exc, InputFileError) and isinstance(exc, SaferSpacesError)
        assert exc.file == str(path)
        assert exc.field.startswith("$")
        assert len(exc.fix) > 10
        assert str(path) in str(exc) and "Fix:" in str(exc)
        return exc
    validate_summary(out)  # independent check: whatever is returned is a valid summary
    assert out["schema_version"] in READ_VERSIONS
    return out


# ---- planted cases: each with the answer known in advance --------------------------------------------------------


def test_valid_summary_round_trips(tmp_path):
    p = write_summary(example_summary(), tmp_path / "summary.json")
    assert load_summary(p) == example_summary()


def test_utf8_bom_is_accepted(tmp_path):
    p = tmp_path / "summary.json"
    p.write_bytes(b"\xef\xbb\xbf" + VALID)
    assert load_summary(p) == example_summary()


@pytest.mark.parametrize(
    ("text", "words", "field", "line"),
    [
        (VALID.replace(b'"total": 48210.0', b'"total": NaN'), "NaN is not a JSON number", "$", None),
        (VALID.replace(b'"total": 48210.0', b'"total": Infinity'), "Infinity is not a JSON number", "$", None),
        (VALID.replace(b'"total": 48210.0', b'"total": -Infinity'), "-Infinity", "$", None),
        (VALID.replace(b'"total": 48210.0', b'"total": 1e999'), "too large", "$", None),
        (VALID.replace(b'"total": 48210.0', b'"total": 1' + b"0" * 5000), "not usable JSON", "$", None),
        (b'{"a": 1, "a": 2}', "appears twice", "$", None),
        (b"[1, 2]", "JSON list", "$", None),
        (b"", "not valid JSON", "$", 1),
        (b'{"schema_version": "summary-v1",\n "force": \xff}', "not UTF-8", "$", 2),
        (b'{"schema_version": "summary-v1",\n\n "x": [1, 2,]}', "not valid JSON", "$", 3),
        (b"[" * 100_000 + b"]" * 100_000, "nests deeper", "$", None),
        (b'{"a":' * 40 + b"1" + b"}" * 40, "nests deeper", "$", None),
        (b'{"schema_version": "summary-v0"}', "summary-v0", "$.schema_version", None),
        (b'{"force": {}}', "schema_version missing", "$.schema_version", None),
        (b'{"schema_version": 1}', "not a string", "$.schema_version", None),
        (
            VALID.replace(b'"count": 12', b'"count": -1'),
            "-1 is less than the minimum of 0",
            "$.counts.by_threat_area_month[0].count",
            None,
        ),
        (
            VALID.replace(b'"count": 12', b'"count": 3'),
            "below the disclosure threshold",
            "$.counts.by_threat_area_month[0].count",
            None,
        ),
    ],
    ids=[
        "nan", "inf", "-inf", "overflow", "huge-int", "dup-key", "list", "empty", "not-utf8", "trailing-comma",
        "deep-list", "deep-object", "old-version", "no-version", "version-int", "schema", "cross-field",
    ],
)
def test_each_bad_file_is_refused_naming_field_and_fix(tmp_path, text, words, field, line):
    p = tmp_path / "summary.json"
    p.write_bytes(text)
    with pytest.raises(SummaryFileError) as ei:
        load_summary(p)
    exc = ei.value
    assert words in str(exc)
    assert exc.field == field
    assert exc.line == line
    assert exc.file == str(p) and exc.fix


def test_invalid_summary_lists_every_violation(tmp_path):
    s = example_summary()
    s["counts"]["by_threat_area_month"][0]["count"] = -1
    s["top_places"][0]["h3_cell"] = "not-a-cell"
    p = tmp_path / "summary.json"
    p.write_text(json.dumps(s))
    with pytest.raises(SummaryFileError) as ei:
        load_summary(p)
    assert len(ei.value.errors) == 2
    assert {e.split(":")[0] for e in ei.value.errors} == {
        "$.counts.by_threat_area_month[0].count",
        "$.top_places[0].h3_cell",
    }


def test_size_cap_refuses_before_reading(tmp_path, monkeypatch):
    p = tmp_path / "summary.json"
    p.write_bytes(VALID)
    monkeypatch.setattr(summary_mod, "MAX_SUMMARY_BYTES", len(VALID) - 1)
    with pytest.raises(SummaryFileError, match="more than the"):
        load_summary(p)
    monkeypatch.setattr(summary_mod, "MAX_SUMMARY_BYTES", len(VALID))
    assert load_summary(p)["schema_version"] == "summary-v2"


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_not_a_file_is_refused(tmp_path, kind):
    p = tmp_path / "summary.json"
    if kind == "folder":
        p.mkdir()
    with pytest.raises(SummaryFileError, match="no such file" if kind == "missing" else "not a regular file"):
        load_summary(p)


def test_fifo_is_refused_without_blocking(tmp_path):
    p = tmp_path / "summary.json"
    os.mkfifo(p)
    with pytest.raises(SummaryFileError, match="not a regular file"):
        load_summary(p)


# ---- properties --------------------------------------------------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_give_a_summary_or_a_file_error(tmp_path, data):
    p = tmp_path / "summary.json"
    p.write_bytes(data)
    out = _load_or_refuse(p)
    assert isinstance(out, SummaryFileError)  # random bytes are never a valid summary


def _mutate_bytes(data: bytes, ops) -> bytes:
    buf = bytearray(data)
    for kind, pos, val in ops:
        i = pos % (len(buf) + 1)
        if kind == "flip" and buf:
            buf[i % len(buf)] ^= 1 << (val % 8)
        elif kind == "insert":
            buf[i:i] = bytes([val % 256])
        elif kind == "delete" and buf:
            del buf[i % len(buf)]
        elif kind == "truncate":
            del buf[i:]
        elif kind == "token":
            tok = [b"NaN", b"Infinity", b"1e999", b"\x00", b"\xff", b'"', b"\\u0000", b"\\ud800", b"{", b"]", b"-0",
                   b"\r", b"\xef\xbb\xbf", b"null", b"[]", b"{}", b'"summary-v2"', b"9" * 400][val % 18]
            buf[i:i] = tok
    return bytes(buf)


@FUZZ
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["flip", "insert", "delete", "truncate", "token"]),
            st.integers(0, len(VALID)),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_byte_mutated_summaries_load_or_are_refused(tmp_path, ops):
    p = tmp_path / "summary.json"
    p.write_bytes(_mutate_bytes(VALID, ops))
    _load_or_refuse(p)


def _paths(obj, parts=()):
    yield parts
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*parts, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*parts, i))


ALL_PATHS = list(_paths(example_summary()))[1:]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["2024-13", "0000-00", "89195839227ffff", "8f2830828052d25", "Fri,Sat 25:00-06:00",
                       "2026-02-30T10:15:00Z", "summary-v1", "rape", "F1", ""]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def _set(obj, parts, value, action):
    *head, last = parts
    for p in head:
        obj = obj[p]
    if action == "delete":
        if isinstance(obj, dict):
            del obj[last]
        else:
            obj.pop(last)
    elif action == "extra" and isinstance(obj, dict):
        obj[f"{last}_extra"] = value
    else:
        obj[last] = value


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(range(len(ALL_PATHS))), JSON_VALUES, st.sampled_from(["set", "delete", "extra"])),
        min_size=1,
        max_size=4,
    ),
    indent=st.sampled_from([None, 0, 2]),
)
def test_structurally_mutated_summaries_load_or_are_refused(tmp_path, edits, indent):
    s = example_summary()
    for i, value, action in edits:
        try:
            _set(s, ALL_PATHS[i], value, action)
        except (KeyError, IndexError, TypeError):  # an earlier edit removed or replaced this path
            continue
    p = tmp_path / "summary.json"
    p.write_text(json.dumps(s, indent=indent))
    out = _load_or_refuse(p)
    if isinstance(out, dict):
        assert out == s  # accepted means read exactly as written


@FUZZ
@given(level=st.integers(1, 9), cut=st.integers(0, 10_000))
def test_compressed_or_cut_summaries_are_refused(tmp_path, level, cut):
    p = tmp_path / "summary.json"
    p.write_bytes(zlib.compress(VALID, level)[: cut or None])
    out = _load_or_refuse(p)
    assert isinstance(out, SummaryFileError)


# ---- ties in top_places, and summaries too large to validate ---------------------------------------------------------


def _places(ranks, scores):
    s = example_summary()
    base = s["top_places"][0]
    cells = ["89195839227ffff", "89195876c97ffff", "89195839223ffff", "8919583922fffff"]
    rows = zip(ranks, scores, cells, strict=True)
    s["top_places"] = [dict(base, rank=r, place_score=sc, h3_cell=c) for r, sc, c in rows]
    return s


@pytest.mark.parametrize(
    ("ranks", "scores", "bad"),
    [
        ([1, 2, 3, 4], [4.0, 3.0, 2.0, 1.0], None),
        ([1, 1, 3, 4], [4.0, 4.0, 2.0, 1.0], None),  # competition ranking: a tie shares the first rank
        ([1, 2, 2, 2], [4.0, 3.0, 3.0, 3.0], None),
        ([1, 1, 2, 4], [4.0, 4.0, 2.0, 1.0], 2),  # after a tie of two the next is 3
        ([1, 1, 3, 4], [4.0, 3.9, 2.0, 1.0], 1),  # same rank without the same score is not a tie
        ([2, 2, 3, 4], [4.0, 4.0, 2.0, 1.0], 0),
    ],
)
def test_top_place_ranks_allow_ties(ranks, scores, bad):
    errors = [e for e in summary_mod.summary_errors(_places(ranks, scores)) if ".rank" in e]
    if bad is None:
        assert errors == []
    else:
        assert [e.split(":")[0] for e in errors] == [f"$.top_places[{bad}].rank"]


def test_period_longer_than_any_summary_is_refused_before_the_schema(tmp_path):
    s = example_summary()
    s["period"].update(last_month="9999-12", months=(9999 - 2024) * 12 + 12)
    s["counts"]["by_threat_area_month"] = [dict(s["counts"]["by_threat_area_month"][0])] * 120_000
    errors = summary_mod.summary_errors(s)
    assert [e.split(":")[0] for e in errors] == ["$.period.months", "$.counts.by_threat_area_month"]
    p = tmp_path / "summary.json"
    p.write_text(json.dumps(s))
    with pytest.raises(SummaryFileError) as ei:
        load_summary(p)
    assert ei.value.field == "$.period.months"
    with pytest.raises(summary_mod.SummaryInvalid):
        write_summary(s, tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


def test_limits_allow_a_long_real_period():
    s = example_summary()
    s["period"].update(first_month="2010-12", last_month="2026-11", months=192)
    errors = summary_mod.summary_errors(s)
    assert not any("more than" in e for e in errors)


def test_summary_in_a_run_output_is_read_only_when_the_output_is_intact(tmp_path):
    from hotspots.io import atomic_dir

    out = tmp_path / "out"
    with atomic_dir(out, command="test") as stage:
        (stage / "shared").mkdir()
        write_summary(example_summary(), stage / "summary.json")
        write_summary(example_summary(), stage / "shared" / "summary.json")
    assert load_summary(out / "summary.json") == example_summary()
    assert load_summary(out / "shared" / "summary.json") == example_summary()
    s = example_summary()
    s["force"]["name"] = "Another Constabulary"
    write_summary(s, out / "shared" / "summary.json")  # a file from another run dropped into the output
    for p in (out / "summary.json", out / "shared" / "summary.json"):
        with pytest.raises(SummaryFileError, match="does not match its run_complete.json"):
            load_summary(p)
