"""The cold-start kernel list (hotspots/kernels.txt) and the second process that compiles it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba.core import types

from hotspots import kernel_warmup as kw
from tests.conftest import ROOT


def test_every_listed_type_reads_back_exactly():
    kernels = kw.read_kernels()
    assert len(kernels) > 40
    lines = [ln for ln in kw.KERNELS.read_text(encoding="utf-8").splitlines(keepends=True) if not ln.startswith("#")]
    assert kw.format_kernels(kernels) == "".join(lines)
    for k in kernels:
        for t in k.args:
            assert kw.parse_type(repr(t)) == t


@pytest.mark.parametrize(
    "t",
    [types.Array(types.float64, 1, "C", readonly=True), types.Array(types.uint8, 2, "F"), types.int32, types.boolean],
)
def test_parse_type_round_trip(t):
    assert kw.parse_type(repr(t)) == t


@pytest.mark.parametrize("text", ["__import__('os').system('id')", "Array(object, 1, 'C', False, aligned=True)",
                                  "Array(float64, 1, 'C', False, aligned=True) + 1", "unicode_type", ""])
def test_parse_type_refuses_anything_else(text):
    with pytest.raises(ValueError, match="not a kernel argument type"):
        kw.parse_type(text)


@given(st.text(max_size=60))
def test_parse_type_gives_a_type_or_a_value_error(text):
    try:
        t = kw.parse_type(text)
    except ValueError:
        return
    assert isinstance(t, types.Type)


def test_read_kernels_names_the_bad_line(tmp_path):
    p = tmp_path / "k.txt"
    p.write_text("# comment\n\nhotspots.kde _scatter(int64)\nos system(int64)\n")
    with pytest.raises(ValueError, match=r"k.txt, line 4: expected"):
        kw.read_kernels(p)
    p.write_text("hotspots.kde _scatter(int64; str)\n")
    with pytest.raises(ValueError, match=r"line 1: not a kernel argument type: 'str'"):
        kw.read_kernels(p)


def test_a_stale_line_is_skipped_not_fatal():
    gone = kw.Kernel("hotspots.kde", "_no_such_kernel", (types.int64,))
    assert kw.uncached([gone]) == [gone]
    assert kw.compile_kernels([gone]) == 0


def test_no_second_process_when_switched_off_or_all_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("SAFER_SPACES_PRECOMPILE", "0")
    with kw.background_compile() as proc:
        assert proc is None
    monkeypatch.setenv("SAFER_SPACES_PRECOMPILE", "1")
    empty = tmp_path / "none.txt"
    empty.write_text("# nothing to compile\n")
    with kw.background_compile(empty) as proc:
        assert proc is None
    with kw.background_compile(tmp_path / "missing.txt") as proc:
        assert proc is None


def test_the_second_process_runs_and_is_stopped(monkeypatch, tmp_path):
    monkeypatch.setenv("SAFER_SPACES_PRECOMPILE", "1")
    listed = tmp_path / "k.txt"
    listed.write_text("hotspots.kde _no_such_kernel(int64)\n")  # never cached: a process is started
    with kw.background_compile(listed, min_cpus=1) as proc:
        assert proc is not None
        assert proc.wait(timeout=120) == 0  # it skips the stale line and ends cleanly
    with kw.background_compile(listed, min_cpus=10_000) as proc:
        assert proc is None


_COMPILE_TWO = textwrap.dedent(
    """
    import json, sys
    from hotspots import kernel_warmup as kw
    ks = [k for k in kw.read_kernels() if k.name in ("_count_lf", "_csr_row_sums")]
    before = len(kw.uncached(ks))
    done = kw.main([sys.argv[1]]) if len(sys.argv) > 1 else None
    print(json.dumps({"listed": len(ks), "before": before, "after": len(kw.uncached(ks))}))
    """
)


def test_compiled_kernels_land_in_the_cache(tmp_path):
    listed = tmp_path / "two.txt"
    ks = [k for k in kw.read_kernels() if k.name in ("_count_lf", "_csr_row_sums")]
    assert len(ks) == 2
    listed.write_text(kw.format_kernels(ks))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    first = subprocess.run([sys.executable, "-c", _COMPILE_TWO, str(listed)], env=env, capture_output=True,
                           text=True, timeout=300, check=True)
    r = json.loads(first.stdout.strip().splitlines()[-1])
    assert r == {"listed": 2, "before": 2, "after": 0}


_SIGNATURES = textwrap.dedent(
    """
    import sys, tempfile
    from pathlib import Path
    import numba
    from hotspots.config import load_config
    from hotspots import kernel_warmup as kw
    from profiles.pipeline import run

    run(load_config(sys.argv[1]), Path(tempfile.mkdtemp()) / "out", share=True, progress=False)
    found = set()
    for name, mod in list(sys.modules.items()):
        if not name.startswith("hotspots."):
            continue
        for attr, obj in vars(mod).items():
            if isinstance(obj, numba.core.registry.CPUDispatcher) and obj.py_func.__module__ == name:
                for sig in obj.signatures:
                    try:
                        args = tuple(kw.parse_type(repr(t)) for t in sig)
                    except ValueError:
                        continue
                    found.add(kw.format_kernels([kw.Kernel(name, attr, args)]))
    print("".join(sorted(found)), end="")
    """
)


@pytest.mark.slow
def test_the_list_holds_every_kernel_the_demo_profile_runs(tmp_path):
    """Fails when a kernel or a signature is added and kernels.txt not rewritten.

    Fix: ``python benchmarks/numba_cache.py --record``.
    """
    env = {**os.environ, "SAFER_SPACES_PRECOMPILE": "0", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", _SIGNATURES, str(ROOT / "configs" / "avon-and-somerset.toml")],
                         env=env, capture_output=True, text=True, timeout=900, check=True).stdout
    used = set(out.splitlines())
    listed = set(kw.format_kernels(kw.read_kernels()).splitlines())
    assert used, "no kernel signature found"
    assert used <= listed, f"missing from hotspots/kernels.txt: {sorted(used - listed)[:5]}"
