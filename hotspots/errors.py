"""Errors a user can fix: each carries the file, the place and the fix.

The command line prints these as one line and exits 2 (nothing done), never
with a Python traceback; anything else is a bug: the command line saves its
traceback to a private file and exits 3. Steps whose memory is set by a
parameter check it up front with :func:`require_memory`, so a grid or
neighbourhood too large for the machine is a :class:`ParameterError` naming
the size, not a crash.
"""

from __future__ import annotations

import os

__all__ = [
    "SaferSpacesError",
    "InputFileError",
    "ConfigError",
    "ParameterError",
    "OutputError",
    "MEMORY_BUDGET_ENV",
    "format_bytes",
    "memory_budget",
    "require_memory",
]


class SaferSpacesError(Exception):
    """Base class for problems caused by input, configuration or parameters."""


class InputFileError(SaferSpacesError, ValueError):
    """An input file cannot be used as given.

    Parameters
    ----------
    file : str
        The file, as the user named it.
    problem : str
        What is wrong, without row contents.
    fix : str
        What the user should do.
    line : int, optional
        1-based line number, when the problem is on one line.
    """

    def __init__(self, file: str, problem: str, fix: str, *, line: int | None = None):
        self.file = str(file)
        self.problem = problem
        self.fix = fix
        self.line = line
        where = self.file if line is None else f"{self.file} line {line:,}"
        super().__init__(f"{where}: {problem}. Fix: {fix}")


class ConfigError(SaferSpacesError, ValueError):
    """A configuration file has an unknown key, a wrong type or a value out of range."""


class ParameterError(SaferSpacesError, ValueError):
    """A function or command-line parameter is out of range or inconsistent."""


class OutputError(SaferSpacesError):
    """An output cannot be written where asked (read-only folder, full disk, a file in the way).

    Parameters
    ----------
    file : str
        The output path, as the user named it.
    problem : str
        What is wrong.
    fix : str
        What the user should do.
    """

    def __init__(self, file: str, problem: str, fix: str):
        self.file = str(file)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.file}: {problem}. Fix: {fix}")


MEMORY_BUDGET_ENV = "SAFER_SPACES_MEMORY_BUDGET"
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def format_bytes(n: float) -> str:
    """A byte count for people: ``1.5 GiB``.

    Examples
    --------
    >>> format_bytes(3 * 2**30 // 2), format_bytes(512), format_bytes(64 * 2**40)
    ('1.5 GiB', '512 B', '64.0 TiB')
    """
    for unit, size in (("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def _parse_size(text: str) -> int:
    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = t[-1:] if t[-1:] in _UNITS and t[-1:] else ""
    number = t[: len(t) - len(unit)].strip()
    try:
        value = float(number) * _UNITS[unit]
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ConfigError(
            f"{MEMORY_BUDGET_ENV}={text!r} is not a memory size; give bytes or a size such as 4G or 500M, "
            "or unset it for half the machine's memory"
        )
    return int(value)


def _available_memory() -> int:
    """Physical memory, capped by the cgroup (container) limit and the address-space rlimit."""
    import resource

    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, encoding="ascii") as fh:
                text = fh.read().strip()
        except OSError:
            continue
        if text.isdigit():
            limits.append(int(text))
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append(soft)
    return min(limits) if limits else 8 << 30


def memory_budget() -> int:
    """Bytes one step may allocate: ``SAFER_SPACES_MEMORY_BUDGET`` if set, else half the available memory.

    The available memory is the machine's physical memory, or less when a
    container (cgroup) limit or ``ulimit -v`` says so. Steps whose arrays
    are sized by a parameter (a KDE grid, a Gi* neighbourhood) check their
    need against this before allocating, see :func:`require_memory`.

    Raises
    ------
    ConfigError
        If the environment variable is not a size (``4G``, ``500M``, bytes).

    Examples
    --------
    >>> import os
    >>> os.environ[MEMORY_BUDGET_ENV] = "1.5G"
    >>> memory_budget() == 3 * 2**29
    True
    >>> del os.environ[MEMORY_BUDGET_ENV]
    """
    text = os.environ.get(MEMORY_BUDGET_ENV, "").strip()
    return _parse_size(text) if text else _available_memory() // 2


def require_memory(nbytes: float, *, what: str, fix: str) -> None:
    """Refuse up front a step that would need more than :func:`memory_budget`.

    Parameters
    ----------
    nbytes : float
        Estimated peak bytes of the step.
    what : str
        The step and its size, e.g. ``"a KDE grid of 228,534 x 277,588 pixels"``.
    fix : str
        What the user can change.

    Raises
    ------
    ParameterError
        Naming the size needed, the budget and the fix.

    Examples
    --------
    >>> require_memory(1024, what="a tiny grid", fix="none needed")
    >>> require_memory(2.0**70, what="a huge grid", fix="use larger pixels")
    Traceback (most recent call last):
    ...
    hotspots.errors.ParameterError: a huge grid would need 1048576.0 PiB of memory, more than ...
    """
    budget = memory_budget()
    if nbytes > budget:
        source = (
            "set by" if os.environ.get(MEMORY_BUDGET_ENV, "").strip() else "half this machine's memory; change it with"
        )
        raise ParameterError(
            f"{what} would need {format_bytes(nbytes)} of memory, more than the {format_bytes(budget)} allowed "
            f"({source} {MEMORY_BUDGET_ENV}, e.g. 16G). Fix: {fix}"
        )
