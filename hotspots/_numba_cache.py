"""Where numba keeps compiled kernels: beside the source when writable, else a private user folder.

Every kernel is ``@njit(cache=True)``, so a fresh clone compiles each kernel
once and later runs load it from the cache. numba writes its cache in
``__pycache__`` beside the source; when the package folder is read-only (a
system install, a read-only container layer) it tries ``~/.cache``, and when
that fails too it raises at import. This module, imported by
``hotspots/__init__.py`` before any kernel is defined, picks a writable folder
instead: ``NUMBA_CACHE_DIR`` when set (the user's choice, left alone), else the
package folder, else ``$XDG_CACHE_HOME/safer-spaces/numba`` (``~/.cache``),
else a folder in the temporary directory that only this user can enter. The
cache holds pickled code, so a folder another user can write is never used.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import numba

__all__ = ["cache_dir"]

_PACKAGE = Path(__file__).resolve().parent


def _can_write(folder: Path) -> bool:
    """True when a file can be created in ``folder`` (made if missing), as numba itself checks."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def _private(folder: Path) -> bool:
    """True when ``folder`` is a real folder owned by this user that no one else can write."""
    try:
        st = folder.lstat()
    except OSError:
        return False
    getuid = getattr(os, "getuid", None)
    owned = getuid is None or st.st_uid == getuid()
    return stat.S_ISDIR(st.st_mode) and owned and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _user_cache() -> Path | None:
    """``$XDG_CACHE_HOME/safer-spaces/numba`` or ``~/.cache/safer-spaces/numba``; None without a home."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):
            return None
    return Path(base) / "safer-spaces" / "numba"


def _temp_cache() -> Path:
    """A folder in the temporary directory only this user can enter (a fresh one if the usual is unsafe)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"safer-spaces-numba-{uid}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        pass
    if _private(folder) and _can_write(folder):
        return folder
    return Path(tempfile.mkdtemp(prefix="safer-spaces-numba-"))  # 0700, new: nobody else's files


def cache_dir(package: Path = _PACKAGE) -> Path | None:
    """Choose numba's cache folder and return it; None when numba's default (beside the source) is used.

    Sets ``numba.config.CACHE_DIR`` (what ``NUMBA_CACHE_DIR`` sets) only when
    the package folder is not writable and the variable is not set.

    Examples
    --------
    >>> import numba
    >>> chosen = cache_dir()
    >>> chosen is None or str(chosen) == numba.config.CACHE_DIR
    True
    """
    given = getattr(numba.config, "CACHE_DIR", "")  # numba sets its config attributes at run time
    if given:  # NUMBA_CACHE_DIR given: the user's choice
        return Path(given)
    if _can_write(package / "__pycache__"):
        return None
    user = _user_cache()
    folder = user if user is not None and _can_write(user) and _private(user) else _temp_cache()
    setattr(numba.config, "CACHE_DIR", str(folder))  # noqa: B010  what NUMBA_CACHE_DIR sets
    return folder


cache_dir()
