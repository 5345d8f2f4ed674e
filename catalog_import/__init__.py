"""Parsing and validation of supplier catalogs (no Flask imports: the app uses this, never the
other way round)."""
