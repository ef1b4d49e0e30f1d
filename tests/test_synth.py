"""Synthetic RMS, StreetSafe and A&E generators: schema, determinism, planted signals, bundled files."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import tomllib

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, ROOT

from hotspots.errors import ParameterError
from profiles.demo import synth
from profiles.synth_cli import add_synth_parser, default_anchors, run_synth, sidecar_path

SYN = DATA / "synthetic"
PERIOD = {"start": "2024-01", "end": "2024-12"}

# The schemas as specified (an oracle independent of the module's own constants).
RMS_COLS = [
    "Occurrence Ref", "HO Code", "Offence Description", "Committed From", "Committed To", "Easting", "Northing",
    "Location Type", "DA Flag", "Alcohol Flag", "NTE Flag", "Victim Sex", "Victim Age Band", "Outcome Code",
]  # fmt: skip
SS_COLS = ["id", "submitted_at", "latitude", "longitude", "place_reasons", "behaviour_reasons",
           "not_reported_reasons", "gender", "age_range"]  # fmt: skip
AE_COLS = [
    "Attendance ID", "Arrival Date", "Arrival Time", "Incident Date", "Incident Time", "Incident Location",
    "Incident Easting", "Incident Northing", "Primary Means of Assault", "Patient Sex", "Patient Age Band",
]  # fmt: skip
PLACE = {"Absence of CCTV", "Badly lit", "Empty buildings or isolated place", "Poor street layout or blind spots",
         "Restricted visibility", "Rundown", "Signs of drug or alcohol use", "Other"}  # fmt: skip
BEHAVIOUR = {"Verbal harassment by a single stranger", "Verbal harassment by a group", "Being followed",
             "Other harassment"}  # fmt: skip
AGE_BANDS = {"0-15", "16-24", "25-34", "35-44", "45-54", "55+", "Unknown"}


@pytest.fixture(scope="module")
def anchors():
    """A small town: a dense venue cluster (high weights) and a few scattered venues."""
    rng = np.random.default_rng(5)
    cx, cy = 375000.0, 165000.0
    cluster = pd.DataFrame({"name": [f"Cluster bar {i}" for i in range(12)], "x": cx + rng.normal(0, 250, 12),
                            "y": cy + rng.normal(0, 250, 12), "weight": 3.0})  # fmt: skip
    spread = pd.DataFrame({"name": [f"Pub {i}" for i in range(10)], "x": cx + rng.uniform(-5000, 5000, 10),
                           "y": cy + rng.uniform(-4000, 4000, 10), "weight": 1.0})  # fmt: skip
    out = pd.concat([cluster, spread], ignore_index=True)
    out["street"] = [f"Street {i}" if i % 3 else "" for i in range(len(out))]
    return out


@pytest.fixture(scope="module")
def frames(anchors):
    kw = {"anchors": anchors, "seed": 11, "planted": "Pub 3", **PERIOD}
    return synth.generate_rms(20_000, **kw), synth.generate_streetsafe(3_000, **kw), synth.generate_ae(3_000, **kw)


def _dist(x, y, px, py):
    return np.hypot(np.asarray(x, float) - px, np.asarray(y, float) - py)


def _fri_sat_night(t: pd.Series) -> np.ndarray:
    evening = t - pd.to_timedelta((t.dt.hour < 6).astype(int), unit="D")  # after midnight: the previous evening
    return (evening.dt.day_of_week.isin([4, 5]) & ((t.dt.hour >= 21) | (t.dt.hour < 4))).to_numpy()


# --------------------------------------------------------------------------- determinism and schema
@pytest.mark.parametrize("gen", [synth.generate_rms, synth.generate_streetsafe, synth.generate_ae])
def test_same_seed_same_frame_other_seed_other_frame(gen, anchors):
    a = gen(2_000, anchors=anchors, seed=3, **PERIOD)
    b = gen(2_000, anchors=anchors, seed=3, **PERIOD)
    c = gen(2_000, anchors=anchors, seed=4, **PERIOD)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert a.attrs["synthetic"] is True and a.attrs["ground_truth"]["synthetic"] is True


def test_columns_exactly_as_specified(frames):
    rms, ss, ae = frames
    assert list(rms.columns) == RMS_COLS
    assert list(ss.columns) == SS_COLS
    assert list(ae.columns) == AE_COLS


def test_zero_rows_give_empty_frames_with_the_schema(anchors):
    for gen, cols in (
        (synth.generate_rms, RMS_COLS),
        (synth.generate_streetsafe, SS_COLS),
        (synth.generate_ae, AE_COLS),
    ):
        df = gen(0, anchors=anchors, seed=1, **PERIOD)
        assert df.empty and list(df.columns) == cols


def test_rms_values_and_formats(frames):
    rms = frames[0]
    assert rms["Occurrence Ref"].is_unique
    assert rms["Occurrence Ref"].str.fullmatch(r"AS24\d{8}").all()
    t_from = pd.to_datetime(rms["Committed From"], format="%d/%m/%Y %H:%M")
    t_to = pd.to_datetime(rms["Committed To"], format="%d/%m/%Y %H:%M")  # NaT where blank
    assert t_from.min() >= pd.Timestamp("2024-01-01") and t_from.max() < pd.Timestamp("2025-01-01")
    span = (t_to - t_from).dropna()
    assert (span >= pd.Timedelta(0)).all() and span.max() <= pd.Timedelta(days=3)
    window = (span >= pd.Timedelta(hours=1)).sum() / len(rms)
    assert 0.33 < window < 0.47
    assert 0.01 < rms["Committed To"].isna().mean() < 0.06
    assert 0.01 < rms["Easting"].isna().mean() < 0.03
    assert rms["Easting"].dropna().between(0, 700_000).all() and rms["Northing"].dropna().between(0, 1_300_000).all()
    assert set(rms["Location Type"]) <= {"Street", "Licensed premises", "Dwelling", "Transport", "Open space", "Other"}
    for col in ("DA Flag", "Alcohol Flag", "NTE Flag"):
        assert set(rms[col]) == {"Y", "N"}
    assert set(rms["Victim Sex"]) == {"F", "M", "U"}
    assert set(rms["Victim Age Band"]) <= AGE_BANDS
    assert rms["Outcome Code"].dropna().between(1, 22).all()
    da = rms[rms["DA Flag"] == "Y"]
    closed = da["Outcome Code"].dropna()
    assert 0.65 < closed.isin([15, 16]).mean() < 0.85  # DOMAIN.md 6: three in four DA cases
    assert not (closed == 21).any()
    assert (rms.loc[rms["HO Code"].isin(["19C", "19D", "20A"]), "Victim Sex"] == "F").all()
    assert (rms.loc[rms["HO Code"] == "19D", "Victim Age Band"] == "0-15").all()
    codes = dict(zip(rms["HO Code"], rms["Offence Description"], strict=False))
    assert codes["19C"] == "Rape of a female aged 16 and over" and codes["8N"] == "Assault with injury"


def test_da_events_are_daytime_or_evening_and_nte_events_at_night(frames):
    rms = frames[0]
    t = pd.to_datetime(rms["Committed From"], format="%d/%m/%Y %H:%M")
    da = rms["DA Flag"].eq("Y").to_numpy()
    night = _fri_sat_night(t)
    assert night[rms["NTE Flag"].eq("Y").to_numpy()].mean() > 0.4
    assert night[da].mean() < 0.15


def test_offence_codes_exist_in_the_vawg_offence_table():
    table = tomllib.loads((ROOT / "configs" / "vawg_offences.toml").read_text(encoding="utf-8"))
    known = {o["code"]: o["description"] for o in table["offences"]}
    non_vawg = {"9A", "34B", "39", "49", "58A"}
    for code, desc, *_ in synth.OFFENCE_MIX:
        if code in non_vawg:
            assert code not in known
        else:
            assert code in known, code
            assert desc.lower() == known[code].lower(), code
    assert abs(sum(o[2] for o in synth.OFFENCE_MIX) - 1) < 1e-9


def test_streetsafe_values_and_formats(frames):
    ss = frames[1]
    assert ss["id"].str.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}").all()
    assert ss["id"].is_unique
    t = pd.to_datetime(ss["submitted_at"], format="%Y-%m-%dT%H:%M:%SZ")
    assert t.is_monotonic_increasing
    assert ss["latitude"].between(49, 61).all() and ss["longitude"].between(-8, 2).all()
    assert (ss["latitude"].round(6) == ss["latitude"]).all()
    for col, vocab in (("place_reasons", PLACE), ("behaviour_reasons", BEHAVIOUR)):
        values = set(";".join(ss[col].dropna()).split(";"))
        assert values == vocab, col
    assert (ss["place_reasons"].notna() | ss["behaviour_reasons"].notna()).all()
    assert 0.25 < ss["gender"].isna().mean() < 0.35
    assert set(ss["gender"].dropna()) <= {"Woman", "Man", "Non-binary", "Prefer not to say"}


def test_ae_values_and_formats(frames, anchors):
    ae = frames[2]
    assert ae["Attendance ID"].is_unique
    arrival = pd.to_datetime(ae["Arrival Date"] + " " + ae["Arrival Time"], format="%d/%m/%Y %H:%M")
    pd.to_datetime(ae["Incident Date"], format="%d/%m/%Y")
    known = ae["Incident Time"].notna()
    assert 0.07 < (~known).mean() < 0.13
    incident = pd.to_datetime(ae["Incident Date"][known] + " " + ae["Incident Time"][known], format="%d/%m/%Y %H:%M")
    delay = arrival[known] - incident
    assert delay.min() >= pd.Timedelta(0) and delay.max() <= pd.Timedelta(hours=3)
    vague = ae["Incident Easting"].isna()
    assert 0.11 < vague.mean() < 0.19
    assert (ae.loc[vague, "Incident Location"] .isin(["In town", "City centre", "Town centre", "Don't know",
                                                      "On the street", "At a party"])).all()  # fmt: skip
    assert ae.loc[~vague, "Incident Location"].str.contains("Outside Cluster bar|Outside Pub 3").any()
    assert set(ae["Primary Means of Assault"]) <= {"Body part (fist, feet)", "Blunt object", "Sharp object",
                                                   "Glass or bottle", "Other", "Unknown"}  # fmt: skip
    hours = incident.dt.hour
    assert ((hours >= 21) | (hours < 4)).mean() > 0.6


# --------------------------------------------------------------------------- planted signals
def test_planted_hotspot_has_the_most_friday_saturday_night_rms_events(frames, anchors):
    rms = frames[0]
    gt = rms.attrs["ground_truth"]["planted_hotspot"]
    assert gt["name"] == "Pub 3"
    t = pd.to_datetime(rms["Committed From"], format="%d/%m/%Y %H:%M")
    ok = rms["Easting"].notna().to_numpy() & _fri_sat_night(t)
    x, y = rms["Easting"].to_numpy(float, na_value=np.nan)[ok], rms["Northing"].to_numpy(float, na_value=np.nan)[ok]
    counts = np.array(
        [(_dist(x, y, ax, ay) <= gt["radius_m"]).sum() for ax, ay in zip(anchors.x, anchors.y, strict=True)]
    )
    planted = int(np.flatnonzero(anchors["name"] == "Pub 3")[0])
    # The planted venue beats the dense, heavily weighted cluster: a low-weight pub made the top hotspot.
    assert counts.argmax() == planted
    assert counts[planted] > 1.5 * np.delete(counts, planted).max()


def test_unsafe_places_many_streetsafe_reports_almost_no_rms(frames, anchors):
    rms, ss, ae = frames
    from pyproj import Transformer

    sx, sy = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(ss["longitude"], ss["latitude"])
    rx, ry = rms["Easting"].to_numpy(float, na_value=np.nan), rms["Northing"].to_numpy(float, na_value=np.nan)
    places = rms.attrs["ground_truth"]["unsafe_places"]
    assert len(places) == 3
    per_venue = [(_dist(sx, sy, ax, ay) <= 100).sum() for ax, ay in zip(anchors.x, anchors.y, strict=True)]
    for p in places:
        assert _dist(anchors.x, anchors.y, p["x"], p["y"]).min() >= 300
        n_ss = (_dist(sx, sy, p["x"], p["y"]) <= p["radius_m"]).sum()
        n_rms = (_dist(rx, ry, p["x"], p["y"]) <= p["radius_m"]).sum()
        assert n_ss > 200 and n_ss > max(per_venue)  # more reports than around any single venue
        assert n_rms <= 5


def test_the_three_layers_share_the_ground_truth(frames, anchors):
    expected = synth.ground_truth(anchors, seed=11, planted="Pub 3")
    for df in frames:
        gt = dict(df.attrs["ground_truth"])
        counts = gt.pop("counts")
        assert gt == expected and counts["rows"] == len(df)
        json.dumps(df.attrs["ground_truth"])  # serialisable for the sidecar


def test_generators_do_not_mutate_anchors(anchors):
    before = anchors.copy()
    synth.generate_ae(200, anchors=anchors, seed=1, **PERIOD)
    pd.testing.assert_frame_equal(anchors, before)


def test_user_given_unsafe_places_are_used_and_checked(anchors):
    places = pd.DataFrame({"name": ["Towpath"], "x": [380500.0], "y": [170000.0], "radius_m": [80.0]})
    gt = synth.ground_truth(anchors, seed=1, unsafe_places=places)
    assert gt["unsafe_places"] == [{"name": "Towpath", "kind": "place", "x": 380500.0, "y": 170000.0, "radius_m": 80.0}]
    near = places.assign(x=[anchors.x[0] + 50], y=[anchors.y[0]])
    with pytest.raises(ParameterError, match="within 300 m of an anchor"):
        synth.ground_truth(anchors, seed=1, unsafe_places=near)


BAD = [
    ({"n": -1}, "n must be a whole number"),
    ({"n": 1.5}, "n must be a whole number"),
    ({"seed": -3}, "seed must be a whole number"),
    ({"start": "2024/01"}, "start must be 'YYYY-MM'"),
    ({"end": "2024-01", "start": "2024-03"}, "at least 7 days"),
    ({"planted": "Nowhere"}, "planted='Nowhere' must name exactly one anchor"),
    ({"planted_share": 1.5}, "planted_share must be a fraction"),
    ({"planted_radius_m": 0}, "planted_radius_m must be metres"),
    ({"unsafe_places": 9}, "unsafe_places must be 1-5"),
    ({"anchors": "venues.csv"}, "anchors must be a pandas DataFrame"),
    ({"anchors": pd.DataFrame({"name": ["a", "b"], "x": [1, 2]})}, r"missing column\(s\) \['y', 'weight'\]"),
    ({"anchors": pd.DataFrame({"name": ["a", "b"], "x": [-2.36, -2.35], "y": [51.38, 51.39], "weight": 1})},
     "look like longitude/latitude"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "match"), BAD)
def test_bad_inputs_raise_parameter_error_with_the_fix(anchors, change, match):
    kw = {"anchors": anchors, "seed": 1, "n": 10, **PERIOD, **change}
    n = kw.pop("n")
    with pytest.raises(ParameterError, match=match):
        synth.generate_rms(n, **kw)


# --------------------------------------------------------------------------- command line and bundled files
def _parser():
    p = argparse.ArgumentParser(prog="safer-spaces")
    add_synth_parser(p.add_subparsers(dest="command", required=True))
    return p


def _readme_commands():
    text = (SYN / "README.md").read_text(encoding="utf-8")
    return [shlex.split(line)[1:] for line in text.splitlines() if line.startswith("safer-spaces synth ")]


def test_bundled_files_regenerate_byte_identical_from_the_readme_commands(tmp_path):
    commands = _readme_commands()
    assert [c[1] for c in commands] == ["rms", "streetsafe", "ae"]
    total = 0
    for argv in commands:
        i = argv.index("--out")
        bundled = ROOT / argv[i + 1]
        argv[i + 1] = str(tmp_path / bundled.name)
        assert run_synth(_parser().parse_args(argv)) == 0
        assert (tmp_path / bundled.name).read_bytes() == bundled.read_bytes(), bundled.name
        assert sidecar_path(tmp_path / bundled.name).read_bytes() == sidecar_path(bundled).read_bytes()
        total += bundled.stat().st_size + sidecar_path(bundled).stat().st_size
    assert total < 3_000_000


def test_bundled_files_are_marked_synthetic_and_match_the_readme():
    for kind, rows in (("rms", 30_000), ("streetsafe", 3_000), ("ae", 4_000)):
        f = SYN / f"SYNTHETIC_{kind}_avon-and-somerset.csv.gz"
        side = json.loads(sidecar_path(f).read_text(encoding="utf-8"))
        assert side["synthetic"] is True and side["rows"] == rows
        assert side["notice"] == "Synthetic data — not real crime/StreetSafe/A&E records"
        assert side["ground_truth"]["planted_hotspot"]["name"] == "Bristol nightclub point 07"
        assert len(pd.read_csv(f)) == rows
    readme = (SYN / "README.md").read_text(encoding="utf-8")
    for p in side["ground_truth"]["unsafe_places"]:
        assert p["name"] in readme and f"E {round(p['x'])}" in readme


def test_bundled_planted_hotspot_is_the_top_venue_on_friday_saturday_nights():
    rms = pd.read_csv(SYN / "SYNTHETIC_rms_avon-and-somerset.csv.gz")
    anchors = default_anchors()
    gt = json.loads(sidecar_path(SYN / "SYNTHETIC_rms_avon-and-somerset.csv.gz").read_text())["ground_truth"]
    hot = gt["planted_hotspot"]
    t = pd.to_datetime(rms["Committed From"], format="%d/%m/%Y %H:%M")
    ok = rms["Easting"].notna().to_numpy() & _fri_sat_night(t)
    x, y = rms["Easting"].to_numpy(float)[ok], rms["Northing"].to_numpy(float)[ok]
    counts = np.array(
        [(_dist(x, y, ax, ay) <= hot["radius_m"]).sum() for ax, ay in zip(anchors.x, anchors.y, strict=True)]
    )
    far = _dist(anchors.x, anchors.y, hot["x"], hot["y"]) > 2 * hot["radius_m"]
    assert anchors["name"][counts.argmax()] == hot["name"]
    assert counts.max() > 1.5 * counts[far].max()


def test_cli_handler_writes_synthetic_named_file_and_sidecar(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = _parser().parse_args(["synth", "streetsafe", "--n", "300", "--seed", "9"])
    assert run_synth(args) == 0
    out = tmp_path / "SYNTHETIC_streetsafe_avon-and-somerset.csv.gz"
    side = json.loads((tmp_path / "SYNTHETIC_streetsafe_avon-and-somerset.synthetic.json").read_text("utf-8"))
    assert out.read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime 0
    assert side["synthetic"] is True and "not real" in side["notice"]
    assert side["generator"] == "profiles.demo.synth.generate_streetsafe"
    assert side["parameters"]["seed"] == 9 and side["parameters"]["n"] == 300
    assert side["ground_truth"]["unsafe_places"] and side["ground_truth"]["counts"]["rows"] == 300
    assert side["columns"] == SS_COLS
    assert "SYNTHETIC streetsafe" in capsys.readouterr().out


def test_cli_custom_anchors_and_plain_csv(tmp_path, anchors):
    f = tmp_path / "venues.csv"
    anchors.drop(columns="weight").rename(columns={"x": "easting", "y": "northing"}).to_csv(f, index=False)
    out = tmp_path / "SYNTHETIC_ae_test.csv"
    args = _parser().parse_args(["synth", "ae", "--n", "50", "--anchors", str(f), "--planted", "Pub 1",
                                 "--out", str(out)])  # fmt: skip
    assert run_synth(args) == 0
    df = pd.read_csv(out)
    assert list(df.columns) == AE_COLS and len(df) == 50
    side = json.loads(sidecar_path(out).read_text("utf-8"))
    assert side["parameters"]["anchors"] == str(f) and re.search(r'--planted "Pub 1"', side["command"])


@pytest.mark.parametrize(
    ("argv", "match"),
    [(["--start", "2024-1"], "--start must be a month YYYY-MM"), (["--out", "x.parquet"], "expected FILE.csv")],
)
def test_cli_bad_options(tmp_path, argv, match):
    args = _parser().parse_args(["synth", "rms", "--n", "10", *argv])
    if args.out is not None:
        args.out = tmp_path / args.out
    with pytest.raises(ParameterError, match=match):
        run_synth(args)
