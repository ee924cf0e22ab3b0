"""Reads for certificates (being built)."""
