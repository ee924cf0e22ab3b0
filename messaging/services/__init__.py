"""Writes of the messaging app, one module per area (accounts, sending, webhooks, reminders)."""
