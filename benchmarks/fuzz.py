"""Coverage-guided fuzzing (atheris / libFuzzer) of every reader, the summary loader and the config loader.

Each target runs in its own process for a bounded time, starting from a seed
corpus of realistic files (the seeds of ``tests/test_fuzz_readers.py``) and a
dictionary of troublesome tokens (quotes, CR, NUL, BOMs, gzip magic). An input
*crashes* when the target raises anything other than its contract's error
(``InputFileError`` for readers and the summary loader, ``ConfigError`` for the
config loader) or a reader's result breaks an invariant
(``tests.test_fuzz_readers.check_result``: rows reconcile, every quarantined row
has a reason and fix, events inside Great Britain, outputs read back). Fuzzing
goes on after a crash; the first input of each distinct crash (exception type
and the project frame it came from) is saved under
``benchmarks/_data/fuzz_crashes/<target>/`` (gitignored) with its traceback.
Hangs (an input taking over ``--timeout`` seconds) end that target's run and
are saved by libFuzzer as ``timeout-*`` in the same folder.

Coverage is libFuzzer's count of Python branch edges (``cov``) in the
instrumented project modules; numba kernels are compiled machine code and are
not instrumented, so their branches are exercised but not counted.

Without atheris (``pip install -e ".[fuzz]"``), a plain random-mutation loop
from the same seeds and tokens runs instead, and the report says so
(``coverage: n/a``).

Usage::

    python benchmarks/fuzz.py                       # every target, 10 s each
    python benchmarks/fuzz.py --seconds 300 --only rms,police_uk
    python benchmarks/fuzz.py --list
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)

CRASH_ROOT = ROOT / "benchmarks" / "_data" / "fuzz_crashes"
CORPUS_ROOT = ROOT / "benchmarks" / "_data" / "fuzz_corpus"
READERS = (
    "police_uk", "rms", "streetsafe", "ae", "venues_open_pubs", "venues_fhrs", "venues_licensing",
    "venues_closing_times", "cctv", "street_lights", "incidents",
)
TARGETS = (*READERS, "summary", "config")
_STARTUP_S = 120  # imports, numba compilation and seed runs before the clock starts
TOKENS = [b"\r", b"\n", b"\r\n", b'"', b'""', b",", b"\x00", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\x1f\x8b\x08",
          b"\xc3\xa9", b"\x80", b"NaN", b"inf", b"1e999", b"-0", b"9999-12", b"31/02/2024", b"24:00", b"(51.3, -2.3)",
          b"{{", b"{%", b"=", b"\t", b"\\", b"null", b"[", b"{", b'":', b"[[rms]]", b"= '", b'"""']


# ---- the targets (imported only in the child process) ----------------------------------------------------------------


def _seeds(target: str) -> list[bytes]:
    """Realistic starting inputs for a target."""
    if target == "summary":
        from profiles.summary import example_summary

        return [json.dumps(example_summary(), indent=2).encode(), json.dumps(example_summary()).encode()]
    if target == "config":
        return [(ROOT / "configs" / "avon-and-somerset.toml").read_bytes()]
    import gzip

    from tests.test_fuzz_readers import BY_NAME

    src = BY_NAME[target]
    text = ("\n".join([src.header, *src.rows]) + "\n").encode()
    return [text, text.replace(b"\n", b"\r\n"), gzip.compress(text, mtime=0)]


def _make_target(target: str, work: Path):
    """``fn(data) -> None`` that raises only on a crash (an error outside the contract, or a broken invariant)."""
    path = work / ("summary.json" if target == "summary" else "config.toml" if target == "config" else "in.csv")
    if target == "summary":
        from hotspots.errors import InputFileError
        from profiles.summary import load_summary

        def fn(data: bytes) -> None:
            path.write_bytes(data)
            try:
                load_summary(path)
            except InputFileError:
                pass

        return fn
    if target == "config":
        from hotspots.config import load_config
        from hotspots.errors import ConfigError

        def fn(data: bytes) -> None:
            path.write_bytes(data)
            try:
                load_config(path)
            except ConfigError:
                pass

        return fn
    from tests.test_fuzz_readers import BY_NAME, _write_files, run_reader

    src = BY_NAME[target]

    def fn(data: bytes) -> None:
        run_reader(src, _write_files(work, src, data, False), work / "out")

    return fn


def _signature(exc: BaseException) -> str:
    """Exception type and the innermost project frame: one saved input per distinct crash."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/hotspots/" in f.filename
              or "/profiles/" in f.filename or "test_fuzz_readers" in f.filename]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__}@{where}"


class _Recorder:
    """Counts inputs, saves the first input of each distinct crash, keeps a stats file current."""

    def __init__(self, target: str, fn, crash_dir: Path, stats_file: Path):
        self.target, self.fn, self.crash_dir, self.stats_file = target, fn, crash_dir, stats_file
        self.current = stats_file.with_name("current.bin")  # the input being run: saved by the parent on a hang
        self.inputs = 0
        self.crashes: dict[str, dict] = {}
        self.last_write = 0.0

    def __call__(self, data: bytes) -> None:
        self.inputs += 1
        self.current.write_bytes(data)
        try:
            self.fn(data)
        except Exception as exc:  # noqa: BLE001 - anything outside the contract is what we are looking for
            sig = _signature(exc)
            entry = self.crashes.setdefault(sig, {"count": 0})
            entry["count"] += 1
            if entry["count"] == 1:
                self.crash_dir.mkdir(parents=True, exist_ok=True)
                name = re.sub(r"[^A-Za-z0-9_.@-]", "_", sig) + "-" + hashlib.sha1(data).hexdigest()[:10]
                (self.crash_dir / f"{name}.bin").write_bytes(data)
                (self.crash_dir / f"{name}.txt").write_text(
                    "".join(traceback.format_exception(exc))[-6000:], encoding="utf-8", errors="replace"
                )
                entry["input"] = str((self.crash_dir / f"{name}.bin").relative_to(ROOT))
                entry["message"] = str(exc)[:300]
            self.write(force=True)
        self.write()

    def write(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last_write > 2:
            self.last_write = now
            tmp = self.stats_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"inputs": self.inputs, "crashes": self.crashes}))
            os.replace(tmp, self.stats_file)


def _child(target: str, seconds: int, timeout: int, stats_file: Path) -> None:
    """Run one target until its time is up (in this process; never returns under atheris)."""
    work = Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-"))
    crash_dir = CRASH_ROOT / target
    try:
        import atheris
    except ImportError:
        atheris = None
    import hotspots.config  # noqa: F401
    import hotspots.ingest.ae  # noqa: F401
    import hotspots.ingest.assets  # noqa: F401
    import hotspots.ingest.incidents  # noqa: F401
    import hotspots.ingest.police_uk  # noqa: F401
    import hotspots.ingest.rms  # noqa: F401
    import hotspots.ingest.streetsafe  # noqa: F401
    import hotspots.ingest.venues  # noqa: F401
    import hotspots.io  # noqa: F401
    import profiles.summary  # noqa: F401
    import tests.test_fuzz_readers  # noqa: F401

    if atheris is not None:
        _instrument(atheris)
    rec = _Recorder(target, _make_target(target, work), crash_dir, stats_file)
    seeds = _seeds(target)
    for s in seeds:  # warm up (numba compiles) before the clock matters
        rec(s)
    if atheris is None:
        _random_loop(rec, seeds, seconds)
        rec.write(force=True)
        return
    corpus = CORPUS_ROOT / target
    corpus.mkdir(parents=True, exist_ok=True)
    for i, s in enumerate(seeds):
        (corpus / f"seed{i}").write_bytes(s)
    dict_file = work / "tokens.dict"
    dict_file.write_text("".join('"' + "".join(f"\\x{b:02x}" for b in t) + '"\n' for t in TOKENS))
    crash_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.argv[0], str(corpus), f"-max_total_time={seconds}", f"-timeout={timeout}", "-rss_limit_mb=3072",
        "-max_len=65536", f"-report_slow_units={timeout}", f"-dict={dict_file}", f"-artifact_prefix={crash_dir}/",
        "-print_final_stats=1",
    ]
    atheris.Setup(argv, rec)
    atheris.Fuzz()


def _instrument(atheris) -> int:
    """Instrument every plain Python function and method of the project (numba kernels are left alone).

    ``atheris.instrument_imports`` would rewrite the kernels' bytecode too, which numba then cannot compile.
    """
    import types

    done = 0
    for name, mod in list(sys.modules.items()):
        if not (name.startswith(("hotspots", "profiles")) and isinstance(mod, types.ModuleType)):
            continue
        for obj in list(vars(mod).values()):
            members = vars(obj).values() if isinstance(obj, type) and obj.__module__ == name else [obj]
            for f in members:
                f = getattr(f, "__func__", f)  # staticmethod / classmethod
                if isinstance(f, property):
                    f = f.fget
                if isinstance(f, types.FunctionType) and f.__module__ == name:
                    atheris.instrument_func(f)
                    done += 1
    return done


def _random_loop(rec: _Recorder, seeds: list[bytes], seconds: int) -> None:
    """Fallback without atheris: random byte mutations of the seeds (no coverage feedback)."""
    rnd = random.Random(0)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        buf = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 8)):
            i = rnd.randint(0, len(buf))
            op = rnd.random()
            if op < 0.3 and buf:
                buf[i % len(buf)] ^= 1 << rnd.randint(0, 7)
            elif op < 0.6:
                buf[i:i] = rnd.choice(TOKENS)
            elif op < 0.8:
                buf[i:i] = rnd.randbytes(rnd.randint(1, 16))
            elif op < 0.9:
                del buf[i: i + rnd.randint(1, 64)]
            else:
                del buf[i:]
        rec(bytes(buf))


# ---- the parent: one child per target, then the report -------------------------------------------------------


def _run_target(target: str, seconds: int, timeout: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        stats_file = Path(tmp) / "stats.json"
        t0 = time.perf_counter()
        hung = None
        try:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", target, "--seconds", str(seconds), "--timeout", str(timeout),
                 "--stats", str(stats_file)],
                capture_output=True, text=True, errors="replace", cwd=ROOT,
                timeout=seconds + timeout + _STARTUP_S,  # libFuzzer's own -timeout cannot fire while Python waits
            )
            err, rc = proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as exc:  # the child is killed; the input it was on is the hang
            err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
            rc = None
            cur = stats_file.with_name("current.bin")
            if cur.exists():
                data = cur.read_bytes()
                (CRASH_ROOT / target).mkdir(parents=True, exist_ok=True)
                hung = CRASH_ROOT / target / f"hang-{hashlib.sha1(data).hexdigest()[:10]}.bin"
                hung.write_bytes(data)
        wall = time.perf_counter() - t0
        stats = json.loads(stats_file.read_text()) if stats_file.exists() else {"inputs": 0, "crashes": {}}
    cov = re.findall(r"\bcov: (\d+)", err)
    executed = re.findall(r"stat::number_of_executed_units: (\d+)", err)
    hang = re.search(r"ALARM: working on the last Unit for (\d+) seconds", err)
    oom = "out-of-memory" in err
    crashes = dict(stats["crashes"])
    if hung is not None:
        crashes["hang (killed by the watchdog)"] = {"count": 1, "input": str(hung.relative_to(ROOT))}
    elif hang or oom:
        art = re.findall(r"Test unit written to (\S+)", err)
        crashes["timeout" if hang else "out-of-memory"] = {"count": 1, "input": art[-1] if art else "?"}
    elif rc not in (0, None) and not crashes:
        crashes[f"exit {rc}"] = {"count": 1, "message": err[-500:]}
    return {
        "target": target,
        "inputs": int(executed[-1]) if executed else stats["inputs"],
        "coverage": int(cov[-1]) if cov else None,
        "crashes": crashes,
        "seconds": round(wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=10, help="fuzzing time per target (default 10)")
    ap.add_argument("--only", help="comma-separated targets (default all)")
    ap.add_argument("--timeout", type=int, default=30, help="seconds one input may take before it counts as a hang")
    ap.add_argument("--list", action="store_true", help="list the targets and exit")
    ap.add_argument("--json", type=Path, help="also write the report as JSON here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--stats", type=Path, help=argparse.SUPPRESS)
    args, _ = ap.parse_known_args(argv)
    if args.child:
        _child(args.child, args.seconds, args.timeout, args.stats)
        return 0
    if args.list:
        print("\n".join(TARGETS))
        return 0
    targets = args.only.split(",") if args.only else list(TARGETS)
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        ap.error(f"unknown target(s) {', '.join(unknown)}; --list shows them")
    try:
        import atheris  # noqa: F401

        engine = "atheris (libFuzzer, coverage-guided)"
    except ImportError:
        engine = "random mutation (atheris not installed: pip install -e '.[fuzz]'); no coverage feedback"
    print(f"fuzzing {len(targets)} target(s), {args.seconds} s each, engine: {engine}")
    print(f"{'target':22} {'inputs':>9} {'inputs/s':>9} {'coverage':>9} {'crashes':>8}")
    rows, total_crashes = [], 0
    for t in targets:
        r = _run_target(t, args.seconds, args.timeout)
        rows.append(r)
        n = len(r["crashes"])
        total_crashes += n
        cov = "n/a" if r["coverage"] is None else str(r["coverage"])
        rate = r["inputs"] / max(args.seconds, 1)
        print(f"{t:22} {r['inputs']:>9,} {rate:>9,.0f} {cov:>9} {n:>8}", flush=True)
        for sig, c in r["crashes"].items():
            print(f"    {sig} x{c['count']}: {c.get('input', '')}  {c.get('message', '')[:120]!r}")
    print(f"total: {sum(r['inputs'] for r in rows):,} inputs, {total_crashes} distinct crash(es); "
          f"crashing inputs under {CRASH_ROOT.relative_to(ROOT)}/")
    if args.json:
        args.json.write_text(json.dumps({"engine": engine, "seconds_per_target": args.seconds, "targets": rows},
                                        indent=2))
    return 1 if total_crashes else 0


if __name__ == "__main__":
    sys.exit(main())
