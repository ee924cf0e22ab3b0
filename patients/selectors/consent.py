"""Reads for consent (being built)."""
