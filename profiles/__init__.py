"""Force problem profiles and (later) the national STRA; imports hotspots, never the reverse."""

from profiles.force_profile import run

__all__ = ["run"]
