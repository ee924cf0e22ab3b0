"""Erasing a patient's personal data (see compliance/personal_data.py for what each kind does)."""
