"""Compile the numba kernels a profile needs in a second process, so a cold start uses both cores.

Every kernel is ``@njit(cache=True)``: the first run on a machine (a fresh
clone, a new numba cache) compiles about 70 kernel signatures, 18-27 s on one
core, while the run itself waits. numba compiles under one process-wide lock,
so the run's own threads cannot share that work; a second process can.

``kernels.txt`` (beside this module) lists every kernel signature the force
profile uses, in the order a run first needs them. When some of them are not
in numba's cache, :func:`background_compile` starts ``python -m
hotspots.kernel_warmup``, which compiles them into the same cache from the
LAST needed to the first while the run compiles from the first: each process
loads from the cache what the other has already saved, and they meet in the
middle. The two share nothing but numba's cache files, which numba writes to a
temporary name and renames. A warm cache starts no process.

The list is data, not code: each line names a function of a ``hotspots``
module and its argument types, parsed by :func:`parse_type` from a closed
grammar (scalars and arrays of numeric types); nothing in it is evaluated.
``python benchmarks/numba_cache.py --record`` rewrites it from a cold run of
the demo profile, and a test fails when it no longer matches what the
profile compiles.

Examples
--------
>>> parse_type("Array(float64, 1, 'C', True, aligned=True)")
Array(float64, 1, 'C', True, aligned=True)
>>> parse_type("int64")
int64
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numba
from numba.core import types

__all__ = [
    "KERNELS",
    "Kernel",
    "background_compile",
    "compile_kernels",
    "format_kernels",
    "parse_type",
    "read_kernels",
    "record",
    "uncached",
]

log = logging.getLogger("safer_spaces")

KERNELS = Path(__file__).with_name("kernels.txt")
_ENV = "SAFER_SPACES_PRECOMPILE"  # "0" turns the second process off

_SCALARS: dict[str, types.Type] = {
    name: getattr(types, name)
    for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64")
}
_SCALARS["bool"] = types.boolean
_ARRAY = re.compile(r"Array\((\w+), (\d), '([CFA])', (True|False), aligned=(True|False)\)")
_LAYOUTS: dict[str, Literal["C", "F", "A"]] = {"C": "C", "F": "F", "A": "A"}
_LINE = re.compile(r"(hotspots(?:\.\w+)+) (\w+)\((.*)\)")


class Kernel(NamedTuple):
    """One compiled signature of one kernel: ``module``, function ``name``, argument ``args`` (numba types)."""

    module: str
    name: str
    args: tuple[types.Type, ...]


def parse_type(text: str) -> types.Type:
    """The numba type written as ``repr(type)``, for numeric scalars and arrays only.

    Parameters
    ----------
    text : str
        ``"int64"``, ``"bool"``, ``"float32"``, ... or
        ``"Array(<scalar>, <ndim>, '<C|F|A>', <readonly>, aligned=<bool>)"``.

    Returns
    -------
    numba.types.Type

    Raises
    ------
    ValueError
        Anything else (the grammar is closed: nothing is evaluated).

    Examples
    --------
    >>> parse_type("Array(uint64, 2, 'F', False, aligned=True)").layout
    'F'
    >>> parse_type("__import__('os')")
    Traceback (most recent call last):
    ...
    ValueError: not a kernel argument type: "__import__('os')"
    """
    text = text.strip()
    if text in _SCALARS:
        return _SCALARS[text]
    m = _ARRAY.fullmatch(text)
    if m and m.group(1) in _SCALARS:
        return types.Array(_SCALARS[m.group(1)], int(m.group(2)), _LAYOUTS[m.group(3)], readonly=m.group(4) == "True",
                           aligned=m.group(5) == "True")
    raise ValueError(f"not a kernel argument type: {text!r}")


def format_kernels(kernels: Iterable[Kernel]) -> str:
    """The text of ``kernels.txt``: one ``module name(type; type; ...)`` line per kernel signature.

    Examples
    --------
    >>> print(format_kernels([Kernel("hotspots.kde", "_scatter", (types.int64, types.float64))]), end="")
    hotspots.kde _scatter(int64; float64)
    """
    return "".join(f"{k.module} {k.name}({'; '.join(repr(a) for a in k.args)})\n" for k in kernels)


def read_kernels(path: str | os.PathLike = KERNELS) -> list[Kernel]:
    """The kernel signatures listed in ``path`` (``#`` comments and blank lines skipped).

    Raises
    ------
    ValueError
        A line that is not ``hotspots.<module> <name>(<types>)``, naming the line.
    """
    kernels = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.fullmatch(line)
        if not m:
            raise ValueError(f"{path}, line {number}: expected 'hotspots.<module> <name>(<types>)', got {line[:80]!r}")
        try:
            args = tuple(parse_type(t) for t in m.group(3).split(";")) if m.group(3).strip() else ()
        except ValueError as e:
            raise ValueError(f"{path}, line {number}: {e}") from None
        kernels.append(Kernel(m.group(1), m.group(2), args))
    return kernels


def _dispatcher(kernel: Kernel) -> Any:
    obj = getattr(importlib.import_module(kernel.module), kernel.name, None)
    if not hasattr(obj, "compile") or not hasattr(obj, "py_func"):
        raise LookupError(f"{kernel.module}.{kernel.name} is not a numba kernel")
    return obj


def uncached(kernels: Sequence[Kernel]) -> list[Kernel]:
    """The kernels whose function has no numba cache index yet (a cheap check of one file each).

    A kernel that cannot be found, or whose cache cannot be located, counts as
    not cached.
    """
    out = []
    for k in kernels:
        try:
            index = Path(_dispatcher(k)._cache._cache_file._index_path)
        except Exception:  # noqa: BLE001 - any doubt means "compile it"
            out.append(k)
            continue
        if not index.exists():
            out.append(k)
    return out


def compile_kernels(kernels: Iterable[Kernel]) -> int:
    """Load each signature from numba's cache or compile it (and save it there); return how many were done.

    A kernel that no longer exists or no longer takes those types is skipped
    (the list is a speed hint, never a reason to fail).
    """
    done = 0
    for k in kernels:
        try:
            _dispatcher(k).compile(k.args)
        except Exception as e:  # noqa: BLE001 - a stale line costs speed, not correctness
            log.debug("kernel warm-up: %s.%s skipped: %s", k.module, k.name, e)
            continue
        done += 1
    return done


@contextlib.contextmanager
def background_compile(path: str | os.PathLike = KERNELS, *, min_cpus: int = 2) -> Iterator[subprocess.Popen | None]:
    """While the block runs, compile in a second process the listed kernels that are not cached yet.

    Starts nothing (yields None) when every listed kernel is cached, the
    machine has fewer than ``min_cpus`` CPUs, ``SAFER_SPACES_PRECOMPILE=0``,
    or the list is missing. The process is stopped when the block ends.

    Parameters
    ----------
    path : path
        The kernel list (default ``hotspots/kernels.txt``).
    min_cpus : int
        Fewer CPUs than this: no second process (it would only compete).

    Yields
    ------
    subprocess.Popen or None
    """
    proc = None
    try:
        if os.environ.get(_ENV, "1") != "0" and (os.cpu_count() or 1) >= min_cpus:
            kernels = read_kernels(path)
            if uncached(kernels):
                env = dict(os.environ)
                chosen = getattr(numba.config, "CACHE_DIR", "")
                if chosen:  # the folder this process chose: the child must use the same
                    env["NUMBA_CACHE_DIR"] = str(chosen)
                proc = subprocess.Popen(
                    [sys.executable, "-m", "hotspots.kernel_warmup", "--reverse", str(path)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                )
                log.info("compiling numba kernels in a second process (first run with this cache)")
    except (OSError, ValueError) as e:
        log.debug("kernel warm-up not started: %s", e)
    try:
        yield proc
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def record(fn: Callable[[], Any]) -> list[Kernel]:
    """The kernel signatures numba compiles while ``fn()`` runs, in the order it first needs them.

    Run it with an empty numba cache (``NUMBA_CACHE_DIR`` pointing to a new
    folder), else kernels loaded from the cache are missed. Only module-level
    functions of ``hotspots`` modules with numeric arguments are kept (a
    callee compiled with literal arguments is compiled with its caller anyway).
    """
    from numba.core import event

    seen: dict[Kernel, None] = {}

    class _Listener(event.Listener):
        def on_start(self, ev: Any) -> None:
            pass

        def on_end(self, ev: Any) -> None:
            f = ev.data["dispatcher"].py_func
            if not f.__module__.startswith("hotspots.") or "<" in f.__qualname__:
                return
            try:
                args = tuple(parse_type(repr(t)) for t in ev.data["args"])
            except ValueError:
                return
            seen.setdefault(Kernel(f.__module__, f.__qualname__, args), None)

    listener = _Listener()
    event.register("numba:compile", listener)
    try:
        fn()
    finally:
        event.unregister("numba:compile", listener)
    return list(seen)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hotspots.kernel_warmup [--reverse] [list]``: compile the listed kernels into numba's cache."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("path", nargs="?", default=str(KERNELS))
    ap.add_argument("--reverse", action="store_true", help="last needed first (the run compiles from the first)")
    a = ap.parse_args(argv)
    kernels = read_kernels(a.path)
    compile_kernels(reversed(kernels) if a.reverse else kernels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
