"""Neutralise text from data for the place it lands: one helper per output context.

Every string that comes from data (venue names and addresses, police.uk
street labels, LSOA names, crime types, outcomes, force names, StreetSafe
reasons, A&E and RMS text, file names, config strings) is passed through the
helper for the context it is written into, by the one renderer that writes
that context:

==========================  =======================  =========================================
context                     helper                   renderer
==========================  =======================  =========================================
HTML text, quoted attribute :func:`html_text`        Jinja2 autoescape (same output), report and
                                                     demo page via :func:`html_environment`
URL in ``href``/``src``     :func:`safe_url`         ``|url`` filter of :func:`html_environment`
folium / branca content     :func:`folium_text`      :mod:`profiles.render.webmap`, :mod:`profiles.render.staticmaps`
matplotlib text             :func:`mpl_text`         :mod:`profiles.render.charts`, :mod:`profiles.render.staticmaps`
any HTML attribute by hand  :func:`html_attr`        none today: template attributes are quoted
                                                     and autoescaped, the map's are constants
JSON inside ``<script>``    :func:`script_json`      none today: no hand-written script block;
                                                     folium writes its JSON with ``tojson``
==========================  =======================  =========================================

Why folium needs its own helper: branca renders each map element's macros
and then compiles the *result* again as a Jinja2 template
(``Element(header(...))``), so ``{{ 7*7 }}`` in a venue name that survived
``html.escape`` would be evaluated on the second pass, and ``{% Bar`` would
crash it. :func:`folium_text` writes ``{`` and ``}`` as HTML character
references, which the browser shows as the same braces but which hold no
Jinja2 delimiter; :func:`profiles.render.staticmaps.check_no_template_code` refuses a
map still holding one before it is rendered, and
:func:`profiles.render.staticmaps.fixed_html` inserts HTML without compiling it.
Matplotlib treats text between two ``$`` as mathtext, so :func:`mpl_text`
escapes every ``$`` (and :func:`profiles.render.charts.without_tex` keeps LaTeX
out whatever ``matplotlibrc`` says). SVG written by matplotlib is escaped by
matplotlib's own XML writer. Behind the escaping, the report and the demo
page carry a Content-Security-Policy that allows no script. Spreadsheet
cells (leading ``=``) belong to the table writer, not here.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "folium_text",
    "folium_texts",
    "html_attr",
    "html_environment",
    "html_text",
    "md_text",
    "mpl_text",
    "mpl_texts",
    "safe_url",
    "script_json",
]

# the same five references as markupsafe.escape, which Jinja2's autoescape calls: one HTML-text rule everywhere
_HTML = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&#34;", ord("'"): "&#39;"}
_FOLIUM = {**_HTML, ord("{"): "&#123;", ord("}"): "&#125;"}
# OWASP rule for attributes: every ASCII character but letters, digits and ``,._-`` as a character reference
_ATTR = {c: f"&#x{c:02x};" for c in range(128) if not (chr(c).isalnum() or chr(c) in ",._-")}
_SCRIPT = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}
_SAFE_URL = re.compile(
    r"(?:data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]*"  # embedded figures
    r"|(?!//)[A-Za-z0-9._~/-]+(?:#[A-Za-z0-9._-]*)?)"  # relative path: no scheme, no host
)
UNSAFE_URL = "about:invalid#unsafe-url"


def html_text(value: object) -> str:
    """Text for HTML element content or a quoted attribute: ``& < > " '`` become character references.

    Identical to ``markupsafe.escape``, which Jinja2's autoescape applies to
    every ``{{ }}`` of the report and the demo page, so text escaped by hand
    (:func:`folium_text` builds on it) and by the templates is the same.

    Parameters
    ----------
    value : object
        Any value; ``str(value)`` is escaped.

    Returns
    -------
    str

    Examples
    --------
    >>> html_text('</script><script>alert(1)</script>')
    '&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'
    >>> html_text("Bell & Crown")
    'Bell &amp; Crown'
    >>> import markupsafe
    >>> html_text('"><img src=x onerror=alert(1)>') == str(markupsafe.escape('"><img src=x onerror=alert(1)>'))
    True
    """
    return str(value).translate(_HTML)


def html_attr(value: object) -> str:
    """A value for an HTML attribute: every ASCII character but letters, digits and ``,._-`` encoded.

    Safe in quoted and unquoted attributes alike (OWASP XSS rule 2). Never use
    it for ``href``/``src`` (see :func:`safe_url`) or event handlers.

    Examples
    --------
    >>> html_attr('"><img src=x onerror=alert(1)>')
    '&#x22;&#x3e;&#x3c;img&#x20;src&#x3d;x&#x20;onerror&#x3d;alert&#x28;1&#x29;&#x3e;'
    >>> html_attr("Moles_2")
    'Moles_2'
    """
    return str(value).translate(_ATTR)


def safe_url(value: object) -> str:
    """A URL for ``href``/``src`` only if it is a relative path or an embedded image, else a dead link.

    Schemes such as ``javascript:`` or ``http:`` are refused: every link the
    toolkit writes is to a file beside the page or an embedded figure. The
    result still needs attribute escaping (Jinja2 autoescape does it).

    Examples
    --------
    >>> safe_url("map_interest_h3r9.html")
    'map_interest_h3r9.html'
    >>> safe_url("data:image/png;base64,YWJj")
    'data:image/png;base64,YWJj'
    >>> safe_url("javascript:alert(1)")
    'about:invalid#unsafe-url'
    >>> safe_url("JaVaScRiPt:alert(1)"), safe_url("//evil.example/x.js")
    ('about:invalid#unsafe-url', 'about:invalid#unsafe-url')
    """
    text = str(value)
    return text if _SAFE_URL.fullmatch(text) else UNSAFE_URL


def script_json(value: Any) -> str:
    r"""JSON for a ``<script>`` block: ``<``, ``>``, ``&``, U+2028 and U+2029 as ``\u`` escapes.

    ``</script>`` and ``<!--`` then cannot end or change the script element,
    and the text is valid JavaScript in every engine. NaN and infinity are
    refused (they are not JSON).

    Examples
    --------
    >>> script_json({"name": "</script><script>alert(1)</script>"})
    '{"name": "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"}'
    >>> "\u2028" in script_json("a\u2028b")
    False
    """
    return json.dumps(value, ensure_ascii=False, allow_nan=False).translate(_SCRIPT)


def folium_text(value: object) -> str:
    """HTML text that survives folium's second Jinja2 pass: :func:`html_text` plus ``{`` ``}`` as references.

    Use it for every string that reaches folium or branca (layer names,
    tooltip and popup values and aliases, titles, legend and overlay HTML).
    The browser shows the same characters; no ``{{``, ``{%`` or ``{#`` is left
    for Jinja2 to read.

    Examples
    --------
    >>> folium_text("{{7*7}}")
    '&#123;&#123;7*7&#125;&#125;'
    >>> folium_text("The {% Bar")
    'The &#123;% Bar'
    >>> from jinja2 import Template
    >>> Template(folium_text("{{ cycler.__init__.__globals__.os.mkdir('PWNED') }}")).render() == folium_text(
    ...     "{{ cycler.__init__.__globals__.os.mkdir('PWNED') }}")
    True
    """
    return str(value).translate(_FOLIUM)


def folium_texts(values: Iterable[object]) -> list[str]:
    """:func:`folium_text` over a column (pandas string kernels; missing values become ``""``).

    Examples
    --------
    >>> folium_texts(["<b>", None, "{#"])
    ['&lt;b&gt;', '', '&#123;#']
    """
    import pandas as pd

    s = pd.Series(list(values), dtype=object)
    return s.where(s.notna(), "").astype(str).str.translate(_FOLIUM).tolist()


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def md_text(value: object) -> str:
    r"""Text for Streamlit markdown (``st.markdown``, ``st.caption``, alert boxes): every markdown character escaped.

    Text from a data file (a street label, a force name) must never become a link, an image that the viewer
    fetches from elsewhere, emphasis or LaTeX.

    Examples
    --------
    >>> md_text("![x](https://evil.example/p.png) *Bar* $x$")
    '\\!\\[x\\]\\(https\\://evil\\.example/p\\.png\\) \\*Bar\\* \\$x\\$'
    """
    return _MD_SPECIAL.sub(r"\\\1", str(value))


def mpl_text(value: object) -> str:
    r"""Text for matplotlib: every ``$`` escaped, so nothing is read as mathtext.

    Outside mathtext matplotlib shows backslashes as they are and turns
    ``\$`` into ``$``, so escaping ``$`` alone makes any string print
    literally (``\$`` in the data prints as ``\$``).

    Examples
    --------
    >>> mpl_text("$\\alpha$ Bar")
    '\\$\\alpha\\$ Bar'
    >>> from matplotlib.text import Text
    >>> Text(text=mpl_text("$\\alpha$"))._preprocess_math(mpl_text("$\\alpha$"))
    ('$\\alpha$', False)
    """
    return str(value).replace("$", "\\$")


def mpl_texts(values: Iterable[object]) -> list[str]:
    r""":func:`mpl_text` over labels (tick labels, legend entries).

    Examples
    --------
    >>> mpl_texts(["a$b$", 3])
    ['a\\$b\\$', '3']
    """
    return [mpl_text(v) for v in values]


def html_environment(folder: str | os.PathLike, *, strict: bool = True):
    """A Jinja2 environment for the toolkit's HTML templates: autoescape always on, ``|url`` = :func:`safe_url`.

    Parameters
    ----------
    folder : path
        Folder of the templates (the package's ``templates``).
    strict : bool, default True
        Raise on an undefined variable instead of printing nothing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.html.j2").write_text('<a href="{{ u|url }}">{{ t }}</a>')
    >>> html_environment(d).get_template("t.html.j2").render(u="javascript:alert(1)", t="{{7*7}} <b>")
    '<a href="about:invalid#unsafe-url">{{7*7}} &lt;b&gt;</a>'
    """
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined

    env = Environment(
        loader=FileSystemLoader(Path(folder)), autoescape=True, undefined=StrictUndefined if strict else Undefined
    )
    env.filters["url"] = safe_url
    return env
