"""Readers for each source kind; each returns events, quarantine and a reconciliation."""

from hotspots.ingest.police_uk import POLICE_UK_COLUMNS, QUARANTINE_REASONS, IngestResult, read_police_uk

__all__ = ["POLICE_UK_COLUMNS", "QUARANTINE_REASONS", "IngestResult", "read_police_uk"]
