"""Billing's reads: bills and ledgers, the catalogue, the visit's bill lines, reports."""
