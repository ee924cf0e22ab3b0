"""Helpers shared by the web views of every app."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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


@dataclass
class QuickPage:
    """A page that knows whether more follow without counting every row.

    Counting a clinic's 100,000 patients costs more than showing them 25 at a time, and a
    receptionist paging through a list needs "next", not a total.
    """

    object_list: list
    number: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def paginate_quick(request: HttpRequest, queryset, per_page: int = 25) -> QuickPage:
    """Page `queryset` from `?page=` by reading one row more than shown, never counting."""
    try:
        number = max(1, int(request.GET.get("page", 1)))
    except (TypeError, ValueError):
        number = 1
    offset = (number - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    if not rows and number > 1:
        return paginate_quick_first(queryset, per_page)
    return QuickPage(rows[:per_page], number, per_page, has_next=len(rows) > per_page)


def paginate_quick_first(queryset, per_page: int) -> QuickPage:
    rows = list(queryset[: per_page + 1])
    return QuickPage(rows[:per_page], 1, per_page, has_next=len(rows) > per_page)


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation page asks before an action that cannot be taken back in one click."""

    title: str
    consequences: list[str]
    button: str
    action: str
    cancel_url: str


def confirmation_page(request: HttpRequest, confirm: Confirmation) -> HttpResponse:
    """Ask before acting: the page's form posts to the action itself; Cancel goes back."""
    return render(request, "clinics/confirm.html", {"confirm": confirm})
