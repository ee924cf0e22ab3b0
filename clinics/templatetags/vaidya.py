"""Template helpers: Indian formats and clinic-relative URLs."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import timezone

from clinics.formatting import format_date, format_datetime, format_inr

register = template.Library()


def _tz(context):
    clinic = getattr(context.get("request"), "clinic", None)
    return clinic.tzinfo if clinic else timezone.get_current_timezone()


@register.filter
def inr(value):
    return format_inr(value)


@register.simple_tag(takes_context=True)
def indate(context, value):
    """{% indate patient.date_of_birth %} -> 12 Jan 2027"""
    return format_date(value, _tz(context))


@register.simple_tag(takes_context=True)
def indatetime(context, value):
    return format_datetime(value, _tz(context))


@register.simple_tag(takes_context=True)
def curl(context, name, *args, **kwargs):
    """A URL inside the current clinic: {% curl 'patient-detail' patient.pk %}."""
    clinic = context["request"].clinic
    return reverse(name, args=[clinic.slug, *args], kwargs=kwargs or None)


@register.filter
def has_perm(membership, perm):
    """{% if request.membership|has_perm:'clinical.view' %}"""
    return bool(membership) and membership.has_perm(perm)
