"""Template helpers: Indian formats and clinic-relative URLs."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from django import template
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import timezone

from clinics.formatting import format_date, format_datetime, format_inr

register = template.Library()


def _tz(context):
    clinic = getattr(context.get("request"), "clinic", None)
    return clinic.tzinfo if clinic else timezone.get_current_timezone()


@register.filter
def inr(value):
    return format_inr(value)


@register.simple_tag
def paise(value):
    """{% paise bill.total_paise %} -> Rs 1,234.56 (amounts are kept in integer paise)."""
    return "" if value in (None, "") else format_inr(Decimal(int(value)) / 100)


@register.filter
def rate_bp(value):
    """A GST rate kept in basis points, as a percentage: 1800 -> 18%, 250 -> 2.5%."""
    percent = Decimal(int(value or 0)) / 100
    return f"{percent.normalize():f}%"


@register.simple_tag(takes_context=True)
def indate(context, value):
    """{% indate patient.date_of_birth %} -> 12 Jan 2027"""
    return format_date(value, _tz(context))


@register.simple_tag(takes_context=True)
def indatetime(context, value):
    return format_datetime(value, _tz(context))


# Ids that no real object has, used to reverse a URL once and fill in real ids after.
_SENTINELS = (7_919_000_001, 7_919_000_002, 7_919_000_003)


@lru_cache(maxsize=4096)
def _url_template(prefix: str, name: str, slug: str, arity: int) -> str | None:
    try:
        return reverse(name, args=[slug, *_SENTINELS[:arity]])
    except NoReverseMatch:
        return None


def clinic_reverse(name: str, slug: str, *args, **kwargs) -> str:
    """reverse() for URLs under /c/<slug>/, cheap enough to call hundreds of times a page.

    A busy day view links every appointment several times; reversing each link costs more
    than the rest of the page. URLs whose extra arguments are ids are reversed once per name
    with sentinel ids, which are then replaced; anything else goes through reverse().
    """
    if not kwargs and len(args) <= len(_SENTINELS) and all(type(a) is int for a in args):
        template = _url_template(get_script_prefix(), name, slug, len(args))
        if template is not None:
            for sentinel, value in zip(_SENTINELS, args, strict=False):
                template = template.replace(str(sentinel), str(value))
            return template
    return reverse(name, args=[slug, *args], kwargs=kwargs or None)


@register.simple_tag(takes_context=True)
def curl(context, name, *args, **kwargs):
    """A URL inside the current clinic: {% curl 'patient-detail' patient.pk %}."""
    return clinic_reverse(name, context["request"].clinic.slug, *args, **kwargs)


@register.filter
def has_perm(membership, perm):
    """{% if request.membership|has_perm:'clinical.view' %}"""
    return bool(membership) and membership.has_perm(perm)
