"""Renderers: ``ProfileNumbers`` in, output content out.

Each renderer takes a :class:`profiles.numbers.ProfileNumbers` (restricted or
the copy :func:`profiles.shared.to_shared` made) and returns
``dict[str, Content]`` keyed by the relative output path: ``report.py``
(``report.html``, ``report.pdf``), ``summary.py`` (``summary.json``),
``figures.py`` (``figures/*.png``) and the web map. A renderer never reads an
input file, never writes a file, never computes a statistic and never applies
a disclosure threshold: a value the shared numbers withheld arrives as
``None``/NA and is printed as ``[c]``.
"""
