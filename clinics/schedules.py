"""Schedules declared in code; `manage.py sync_schedules` writes them to django-q2."""

from __future__ import annotations
