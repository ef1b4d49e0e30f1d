"""Render the problem profile: one Jinja template to a self-contained HTML and, through headless Chromium, a PDF.

Every figure is embedded as a data URI, so ``report.html`` opens offline and
can be e-mailed as one file. The PDF is printed from the same HTML by
Debian's Chromium (installed by ``make demo``); the security marking sits in
the table header and footer that Chromium repeats on every printed page.
All text that comes from data (street, venue and LSOA names) is escaped by
Jinja's autoescaping, always on (:func:`profiles.escape.html_environment`),
and every ``src`` goes through its ``|url`` filter: a CSV cell cannot inject
HTML, and the template is never built from data, so ``{{`` in a name is text.
Behind the escaping, the page's Content-Security-Policy allows no script and
no network at all (images only as embedded ``data:`` URIs), so markup that
slipped through could still neither run nor fetch anything while Chromium
prints it.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from hotspots.errors import SaferSpacesError
from profiles.escape import html_environment

__all__ = ["data_uri", "render_report_html", "html_to_pdf", "html_to_pdf_bytes", "find_chromium"]

_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def data_uri(path: str | os.PathLike, *, mime: str = "image/png") -> str:
    """A file as a ``data:`` URI (for self-contained HTML).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.png"
    >>> _ = p.write_bytes(b"abc")
    >>> data_uri(p)
    'data:image/png;base64,YWJj'
    """
    return f"data:{mime};base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def render_report_html(context: dict, path: str | os.PathLike) -> Path:
    """Render ``render/templates/report.html.j2`` with ``context`` (autoescaped) to ``path``.

    Transitional (tests/test_injection.py): renderers use
    :func:`profiles.render.report.render_report_html`, which returns the text.
    """
    env = html_environment(Path(__file__).parent / "render" / "templates", strict=True)
    html = env.get_template("report.html.j2").render(**context)
    path = Path(path)
    path.write_text(html, encoding="utf-8")
    return path


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome binary, or None."""
    env = os.environ.get("SAFER_SPACES_CHROMIUM")
    if env and Path(env).exists():
        return env
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html: str | os.PathLike, pdf: str | os.PathLike, *, timeout_s: float = 180.0) -> Path:
    """Print ``html`` to ``pdf`` with headless Chromium (A4, the page's own header/footer, no browser header).

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
            "report.html was written and is complete"
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
        return html_to_pdf(page, Path(tmp) / "report.pdf", timeout_s=timeout_s).read_bytes()
