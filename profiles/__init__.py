"""Force problem profiles and (later) the national STRA; imports hotspots, never the reverse.

Start at :func:`profiles.pipeline.run` (the ``safer-spaces profile`` command) or
:func:`profiles.compute.compute_profile` (the numbers alone, as the app and the
national runner use them).
"""
