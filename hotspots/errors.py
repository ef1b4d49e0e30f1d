"""Errors a user can fix: each carries the file, the place and the fix.

The command line prints these as one line and exits non-zero, never with a
Python traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["SaferSpacesError", "InputFileError", "ConfigError", "ParameterError"]


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
