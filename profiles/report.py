"""Print a self-contained HTML page to PDF with headless Chromium (the report's ``report.pdf``).

:func:`profiles.render.report.render_report` renders ``report.html`` (every
figure embedded as a ``data:`` URI, all text from data autoescaped, a
Content-Security-Policy that allows no script and no network) and hands the
text to :func:`html_to_pdf_bytes`, which prints it with Debian's Chromium
(installed by ``make demo``) inside a private temporary folder and returns
the PDF's bytes: the security marking and handling line sit in the page's
table header and footer, which Chromium repeats on every printed page.
Nothing is written beside the outputs; the one writer writes the bytes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from hotspots.errors import SaferSpacesError

__all__ = ["find_chromium", "html_to_pdf_bytes"]

_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome binary (``SAFER_SPACES_CHROMIUM`` first, then the PATH), or None.

    Examples
    --------
    >>> exe = find_chromium()
    >>> exe is None or Path(exe).exists()
    True
    """
    env = os.environ.get("SAFER_SPACES_CHROMIUM")
    if env and Path(env).exists():
        return env
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _print_pdf(html: Path, pdf: Path, *, timeout_s: float) -> Path:
    """Print the page ``html`` to ``pdf`` with headless Chromium (A4, the page's own header/footer, no browser header).

    Raises
    ------
    SaferSpacesError
        No Chromium on this machine (the fix says how to install it), or it failed.
    """
    exe = find_chromium()
    if exe is None:
        raise SaferSpacesError(
            "report.pdf needs Chromium, which is not installed. Fix: run `make demo` (it installs Debian's "
            "chromium) or `apt-get install chromium`, or set SAFER_SPACES_CHROMIUM to a Chrome binary; "
            "report.html is complete without it"
        )
    html, pdf = Path(html).resolve(), Path(pdf).resolve()
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise SaferSpacesError(f"Chromium took over {timeout_s:.0f} s to print {html.name}") from None
    if res.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        tail = (res.stderr or "").strip().splitlines()[-3:]
        raise SaferSpacesError(f"Chromium could not print {html.name} to PDF ({'; '.join(tail)})")
    return pdf


def html_to_pdf_bytes(html: str, *, timeout_s: float = 180.0) -> bytes:
    """Print an HTML document (text) to PDF with headless Chromium and return the PDF's bytes.

    The HTML and the PDF live only in a private temporary folder (mode 0700)
    that is removed before returning: nothing is written beside the outputs
    (the one writer writes the returned bytes).

    Parameters
    ----------
    html : str
        A self-contained page (figures embedded as ``data:`` URIs).
    timeout_s : float, default 180
        Longest Chromium may take.

    Returns
    -------
    bytes
        The PDF (starts ``%PDF-``).

    Raises
    ------
    SaferSpacesError
        No Chromium on this machine (the fix says how to install it), or it failed.

    Examples
    --------
    >>> pdf = html_to_pdf_bytes("<p>x</p>") if find_chromium() else b"%PDF-"
    >>> pdf[:5]
    b'%PDF-'
    """
    with tempfile.TemporaryDirectory(prefix="safer-spaces-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        return _print_pdf(page, Path(tmp) / "report.pdf", timeout_s=timeout_s).read_bytes()
