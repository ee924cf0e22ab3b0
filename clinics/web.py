"""Helpers shared by the web views of every app."""

from __future__ import annotations

from django import forms
from django.core.paginator import Page, Paginator
from django.http import HttpRequest

from clinics.errors import DomainError, ValidationFailed


def add_domain_error(form: forms.BaseForm, exc: DomainError) -> None:
    """Show a service's error on the form: on its field when the form has it, else on top."""
    if isinstance(exc, ValidationFailed):
        for field, messages in exc.errors.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message)
        return
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def paginate(request: HttpRequest, queryset, per_page: int = 25) -> Page:
    """A page of `queryset` from `?page=`; out-of-range pages give the last page."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))
