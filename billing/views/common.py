"""What billing's pages share."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from billing.models import Bill


def page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    with timezone.override(request.clinic.tzinfo):
        return render(request, template, context, status=status)


def bill_or_404(bill_id: int) -> Bill:
    bill = Bill.objects.select_related("patient").filter(pk=bill_id).first()
    if bill is None:
        raise Http404("No such bill at this clinic.")
    return bill


def curl(request: HttpRequest, name: str, *args) -> str:
    return reverse(name, args=[request.clinic.slug, *args])
