"""Billing's pages: bills, the checkout from the queue, the catalogue and GST profile, reports."""
